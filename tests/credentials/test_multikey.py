"""Multibase base58btc and the Multikey forms of Ed25519 keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.multikey import (
    MultibaseError,
    base58btc_decode,
    base58btc_encode,
    public_key_decode,
    public_key_encode,
    secret_key_decode,
    secret_key_encode,
)


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"", ""), (b"\0", "1"), (b"\0\0\x01", "112"), (b"hello world", "StV1DL6CwTryKyV"), (b"\xff" * 4, "7YXq9G")],
)
def test_base58btc_round_trips_with_leading_zeros(data: bytes, text: str) -> None:
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data


def test_base58btc_refuses_characters_outside_its_alphabet() -> None:
    with pytest.raises(MultibaseError, match="'0'"):
        base58btc_decode("z0OIl")


def test_keys_round_trip_in_their_multikey_forms() -> None:
    secret = Ed25519PrivateKey.generate()
    public = public_key_encode(secret.public_key())
    assert public.startswith("z6Mk") and len(public) == 48
    assert secret_key_encode(secret).startswith("z3u2")
    assert public_key_encode(secret_key_decode(secret_key_encode(secret)).public_key()) == public
    assert public_key_encode(public_key_decode(public)) == public


def test_a_public_key_is_not_taken_for_a_secret_one_nor_the_reverse() -> None:
    secret = Ed25519PrivateKey.generate()
    with pytest.raises(MultibaseError, match="secret"):
        secret_key_decode(public_key_encode(secret.public_key()))
    with pytest.raises(MultibaseError, match="public"):
        public_key_decode(secret_key_encode(secret))
    with pytest.raises(MultibaseError, match="base58btc"):
        public_key_decode("u" + public_key_encode(secret.public_key())[1:])
