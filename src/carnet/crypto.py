"""Small cryptographic helpers built on ``cryptography`` and ``hmac``: keyed hashes of short
codes, random codes and tokens, and field encryption for secrets kept in the database."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@functools.lru_cache(maxsize=64)
def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    """A sub-key per purpose, so that one secret never signs two kinds of things (derived once
    per secret and purpose: the audit chain's MAC key is asked for on every access)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
        secret.encode()
    )


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256: short codes cannot be brute-forced offline without the server secret."""
    return hmac.new(derive_key(secret, purpose), value.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def numeric_code(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


ACTIVATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def activation_code(length: int = 12) -> str:
    """A code printed on a letter: unambiguous characters, grouped by four."""
    raw = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(length))
    return "-".join(raw[i : i + 4] for i in range(0, length, 4))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def encrypt_field(secret: str, plaintext: str) -> str:
    key = derive_key(secret, "field-encryption")
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), b"carnet-field")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_field(secret: str, token: str) -> str:
    raw = base64.urlsafe_b64decode(token.encode())
    key = derive_key(secret, "field-encryption")
    return AESGCM(key).decrypt(raw[:12], raw[12:], b"carnet-field").decode()
