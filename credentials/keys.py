"""The issuer's Ed25519 keys: where they come from, which one signs, which are published.

A key ring is a list of Multikey-encoded keys, oldest first; the last one signs. It comes from the environment
(`CREDENTIALS_SIGNING_KEY`, entries separated by commas) or, when that is empty, from the key file
(`CREDENTIALS_KEY_FILE`, default `VAR_DIR/credentials_keys`, one entry per line, mode 0600). Never from the
database or the repository. Rotation adds a new key at the end: it signs from then on, and every earlier key stays
in the DID document so that what it signed still verifies. An older entry may be the public key alone
(`z6Mk…`) once its secret has been destroyed; the newest must be a secret key (`z3u2…`).

With DEBUG=1 a missing key file is created on first use; with DEBUG=0 a missing key is an error
(`credentials.E001` in `manage.py check --deploy`) and `manage.py credentials_key create` makes one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from credentials.multikey import (
    ED25519_PRIV,
    MultibaseError,
    multibase_decode,
    public_key_decode,
    public_key_encode,
    secret_key_decode,
    secret_key_encode,
)


class SigningKeyMissing(ImproperlyConfigured):
    """No usable issuer key: the message says what to set."""


@dataclass(frozen=True)
class IssuerKey:
    public_key: Ed25519PublicKey
    secret_key: Ed25519PrivateKey | None = None  # None: retired, published only

    @property
    def public_key_multibase(self) -> str:
        return public_key_encode(self.public_key)

    @classmethod
    def generate(cls) -> IssuerKey:
        secret = Ed25519PrivateKey.generate()
        return cls(secret.public_key(), secret)

    @classmethod
    def parse(cls, text: str) -> IssuerKey:
        if multibase_decode(text).startswith(ED25519_PRIV):
            secret = secret_key_decode(text)
            return cls(secret.public_key(), secret)
        return cls(public_key_decode(text))


def keys_parse(text: str, source: str) -> list[IssuerKey]:
    """The keys of a ring written as entries separated by commas or new lines, oldest first."""
    entries = [entry.strip() for entry in text.replace(",", "\n").splitlines() if entry.strip()]
    try:
        keys = [IssuerKey.parse(entry) for entry in entries]
    except (MultibaseError, ValueError) as error:
        raise SigningKeyMissing(f"{source} holds something that is not an Ed25519 Multikey: {error}") from error
    if not keys:
        raise SigningKeyMissing(f"{source} holds no key")
    if keys[-1].secret_key is None:
        raise SigningKeyMissing(f"the newest key in {source} is a public key; the newest must be a secret key")
    return keys


def keyfile_create(path: Path) -> bool:
    """Create the key file with one new key, readable by its owner only. False when it already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a private name, then linked into place: link() never replaces, so two processes
    # starting at once agree on one key, and nobody ever reads a half-written file.
    descriptor, name = tempfile.mkstemp(prefix=".credentials-key-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secret_key_encode(Ed25519PrivateKey.generate()) + "\n")
        os.link(name, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(name)
    return True


def keyfile_rotate(path: Path) -> IssuerKey:
    """Add a new key at the end of the key file: it signs from now on; the older ones stay published."""
    keys = keys_parse(path.read_text(), str(path))
    new = IssuerKey.generate()
    assert new.secret_key is not None
    lines = [secret_key_encode(k.secret_key) if k.secret_key else k.public_key_multibase for k in keys]
    descriptor, name = tempfile.mkstemp(prefix=".credentials-key-", dir=path.parent)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join([*lines, secret_key_encode(new.secret_key)]) + "\n")
    os.replace(name, path)
    return new


def issuer_keys() -> list[IssuerKey]:
    """Every published key, oldest first; the last one signs.

    Raises:
        SigningKeyMissing: no key is configured (DEBUG=0), or what is configured is not a key ring.
    """
    if settings.CREDENTIALS_SIGNING_KEY.strip():
        return keys_parse(settings.CREDENTIALS_SIGNING_KEY, "CREDENTIALS_SIGNING_KEY")
    path = Path(settings.CREDENTIALS_KEY_FILE)
    if not path.exists():
        if not settings.DEBUG:
            raise SigningKeyMissing(
                "No credential signing key: set CREDENTIALS_SIGNING_KEY (make one with "
                "`manage.py credentials_key new`) or create the key file with `manage.py credentials_key create` "
                f"({path})."
            )
        keyfile_create(path)
    return keys_parse(path.read_text(), str(path))


def signing_key() -> IssuerKey:
    return issuer_keys()[-1]
