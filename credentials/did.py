"""The issuer's `did:web` identifier and its DID document, derived from SITE_URL and the key ring.

`https://skillproof.example.com` is `did:web:skillproof.example.com`, resolved at
`https://skillproof.example.com/.well-known/did.json`; a port is kept, percent-encoded
(`did:web:localhost%3A8000`). did:web resolves only at the root of a host, so a path in SITE_URL is ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings

from credentials.documents import DID_V1, MULTIKEY_V1
from credentials.keys import IssuerKey, issuer_keys


def issuer_did(site_url: str | None = None) -> str:
    host = urlsplit(site_url or settings.SITE_URL).netloc.rsplit("@", 1)[-1].lower()
    return "did:web:" + quote(host, safe="")


def verification_method_id(key: IssuerKey, did: str | None = None) -> str:
    # The key's own fingerprint as the fragment: stable across rotations, whatever the order of the ring.
    return f"{did or issuer_did()}#{key.public_key_multibase}"


def did_document(keys: list[IssuerKey] | None = None, did: str | None = None) -> dict[str, Any]:
    """The DID document: every key of the ring as a Multikey, newest first, each usable for assertions."""
    did = did or issuer_did()
    keys = list(reversed(keys if keys is not None else issuer_keys()))
    methods = [
        {
            "id": verification_method_id(key, did),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in keys
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
