"""Multibase (base58btc, the `z` prefix) and Multikey encodings of Ed25519 keys, as Data Integrity uses them.

A few lines of our own rather than a package: base58btc is the only multibase Data Integrity EdDSA allows, and
the two multicodec prefixes are fixed (Controlled Identifiers 1.0, "Multikey"; vc-di-eddsa, "Multikey").
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
INDEX = {char: value for value, char in enumerate(ALPHABET)}
ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub (0xed) as an unsigned varint
ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv (0x1300) as an unsigned varint


class MultibaseError(ValueError):
    """A value that is not the multibase or Multikey encoding it should be."""


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = ALPHABET[remainder] + digits
    # Each leading zero byte is a leading "1": the integer alone would lose them.
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in INDEX:
            raise MultibaseError(f"{char!r} is not a base58btc character")
        number = number * 58 + INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multibase_encode(data: bytes) -> str:
    return "z" + base58btc_encode(data)


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise MultibaseError("only base58btc multibase values (starting with 'z') are accepted")
    return base58btc_decode(text[1:])


def _raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_encode(key: Ed25519PublicKey) -> str:
    """The `publicKeyMultibase` of a Multikey: `z6Mk…`."""
    return multibase_encode(ED25519_PUB + _raw(key))


def secret_key_encode(key: Ed25519PrivateKey) -> str:
    """The `secretKeyMultibase` of a Multikey: `z3u2…` (the 32-byte seed)."""
    return multibase_encode(ED25519_PRIV + _raw(key))


def _decode_prefixed(text: str, prefix: bytes, what: str) -> bytes:
    data = multibase_decode(text)
    if not data.startswith(prefix) or len(data) != len(prefix) + 32:
        raise MultibaseError(f"not an Ed25519 {what} key in Multikey form")
    return data[len(prefix) :]


def public_key_decode(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_decode_prefixed(text, ED25519_PUB, "public"))


def secret_key_decode(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_decode_prefixed(text, ED25519_PRIV, "secret"))
