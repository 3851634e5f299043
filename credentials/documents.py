"""The JSON-LD document loader: the contexts shipped in `contexts/`, and nothing else.

A context fetched at verification time could be changed by whoever serves it, and what a signature covers would
change with it; a verifier years from now may also have no network. So every context is a local copy (their
sources are in `contexts/README.md`) and any other URL is refused.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
CONTEXT_FILES = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3P0: "ob-v3p0-context-3.0.3.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    DID_V1: "did-v1.jsonld",
}


class UnknownContext(Exception):
    """A document names a context (or other remote document) that is not shipped with the app."""

    def __init__(self, url: str) -> None:
        super().__init__(f"unknown context: {url} (only the contexts shipped in credentials/contexts/ are used)")
        self.url = url


@cache
def bundled_contexts() -> dict[str, Any]:
    return {url: json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8")) for url, name in CONTEXT_FILES.items()}


class DocumentLoader:
    """A pyld document loader over a fixed set of documents, keyed by their exact URL."""

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self.documents = dict(documents)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if url not in self.documents:
            raise UnknownContext(url)
        # A copy: pyld must never be able to change the shared original.
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(self.documents[url])}

    def with_documents(self, extra: Mapping[str, Any]) -> DocumentLoader:
        return DocumentLoader({**self.documents, **extra})


def document_loader() -> DocumentLoader:
    return DocumentLoader(bundled_contexts())
