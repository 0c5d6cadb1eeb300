"""Envelope encryption of document contents (architecture §3). Pure: no I/O, no settings.

Every patient has a random 256-bit *data key*. The data key is only ever stored *wrapped*:
encrypted under the deployment's *master key*, with the patient id bound as associated data, so
a wrapped key copied onto another patient's row does not unwrap. A document's content is sealed
under its own random *content key*, stored wrapped by the patient's data key (bound to the
blob's key) on the document's row: the content can then be sealed and stored before the
transaction that decides and records the submission, which needs neither the patient's data key
nor the patient's id to start. (Contents stored before that, and message attachments, are sealed
under the data key directly: their rows have no content key.) Destroying a patient's wrapped
data key makes every content of the patient unreadable, in the blob store and in its backups
alike: that is the purge's crypto-shredding.

Both formats are AES-256-GCM (``cryptography``'s ``AESGCM``) with a fresh random 96-bit nonce,
behind a one-byte format version so the scheme can evolve. Master-key rotation needs no key id:
the service tries the current master key, then the retired ones, and ``carnet documents
rewrap-keys`` rewraps the data keys (``documents.service.rewrap_keys``)::

    wrapped key    = 0x01 | nonce (12 bytes) | ciphertext of the data key (32) | tag (16)
                     (a data key under the master key, or a content key under a data key)
    sealed content = 0x01 | nonce (12 bytes) | ciphertext of the plaintext (n)  | tag (16)

The version byte is also prepended to the associated data, so it is authenticated too.

Limits. Random 96-bit nonces are safe for up to 2**32 encryptions under one key: far beyond the
documents of one patient (data key) or the number of patients (master key). Contents are sealed
in a single shot, so the whole plaintext and the whole sealed blob are in memory at once (about
twice the content size): fine for the 20 MB per-document cap, which the upload path enforces.
``encrypt`` itself refuses more than ``MAX_PLAINTEXT_BYTES`` (64 MiB); anything larger would need
a chunked (streaming) format, which would be a new format version.

Errors never carry key material or content: ``KeyUnavailable`` and ``CorruptContent`` say what
failed, not with what.
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024

_VERSION_PREFIX = bytes([FORMAT_VERSION])
_WRAP_LABEL = b"carnet/patient-data-key/"
_CONTENT_LABEL = b"carnet/content-key/"
_WRAPPED_LENGTH = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES
_SEALED_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES


class KeyUnavailable(Exception):
    """A wrapped data key cannot be unwrapped: wrong master key, another patient's key, an
    unknown format version, or damaged bytes. After a purge, this is the expected outcome."""


class CorruptContent(Exception):
    """Sealed content cannot be opened: tampered or truncated bytes, an unknown format version,
    the wrong data key, or associated data that does not match the one it was sealed with."""


def master_key_from_setting(value: str) -> bytes:
    """The master key from its setting: base64 (standard or URL-safe alphabet, padding optional)
    of exactly 32 bytes. Raises ``ValueError`` whose message never repeats the value."""
    text = value.strip()
    if not text:
        raise ValueError("the master key setting is empty: expected base64 of 32 random bytes")
    standard = "+" in text or "/" in text
    urlsafe = "-" in text or "_" in text
    if standard and urlsafe:
        raise ValueError("the master key setting mixes the standard and URL-safe base64 alphabets")
    padded = text + "=" * (-len(text) % 4)
    try:
        key = base64.b64decode(padded, altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "the master key setting is not valid base64: expected base64 of 32 random bytes"
        ) from None
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"the master key setting must decode to exactly {KEY_BYTES} bytes, not {len(key)}"
        )
    return key


def new_data_key() -> bytes:
    """A fresh random data key for one patient (32 bytes from the OS CSPRNG)."""
    return os.urandom(KEY_BYTES)


def wrap_key(master: bytes, data_key: bytes, patient_id: uuid.UUID) -> bytes:
    """The data key encrypted under the master key, bound to ``patient_id``."""
    _check_key(master, "master key")
    return _wrap(master, data_key, "data key", _wrap_aad(patient_id))


def unwrap_key(master: bytes, wrapped: bytes, patient_id: uuid.UUID) -> bytes:
    """The data key back from ``wrap_key``'s output, or ``KeyUnavailable``."""
    _check_key(master, "master key")
    return _unwrap(
        master,
        wrapped,
        "data key",
        _wrap_aad(patient_id),
        "wrong master key, another patient, or damaged bytes",
    )


def wrap_content_key(data_key: bytes, content_key: bytes, blob_key: str) -> bytes:
    """A document's content key encrypted under its patient's data key, bound to the blob it
    seals (the same layout as a wrapped data key)."""
    _check_key(data_key, "data key")
    return _wrap(data_key, content_key, "content key", _content_aad(blob_key))


def unwrap_content_key(data_key: bytes, wrapped: bytes, blob_key: str) -> bytes:
    """The content key back from ``wrap_content_key``'s output, or ``KeyUnavailable``."""
    _check_key(data_key, "data key")
    return _unwrap(
        data_key,
        wrapped,
        "content key",
        _content_aad(blob_key),
        "another patient's key, another blob, or damaged bytes",
    )


def _wrap(wrapping_key: bytes, key: bytes, name: str, aad: bytes) -> bytes:
    _check_key(key, name)
    nonce = os.urandom(NONCE_BYTES)
    return _VERSION_PREFIX + nonce + AESGCM(wrapping_key).encrypt(nonce, key, aad)


def _unwrap(wrapping_key: bytes, wrapped: bytes, name: str, aad: bytes, causes: str) -> bytes:
    if len(wrapped) != _WRAPPED_LENGTH:
        raise KeyUnavailable(f"the wrapped {name} has the wrong length")
    if wrapped[0] != FORMAT_VERSION:
        raise KeyUnavailable(f"unsupported wrapped {name} format version {wrapped[0]}")
    nonce, sealed = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
    try:
        return AESGCM(wrapping_key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise KeyUnavailable(f"the {name} does not unwrap: {causes}") from None


def encrypt(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``plaintext`` sealed under ``data_key``; ``aad`` (e.g. the blob key) is authenticated but
    not stored, and must be given again to ``decrypt``."""
    _check_key(data_key, "data key")
    if len(plaintext) > MAX_PLAINTEXT_BYTES:
        raise ValueError(
            f"content of {len(plaintext)} bytes is over the {MAX_PLAINTEXT_BYTES}-byte limit"
        )
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext, _VERSION_PREFIX + aad)
    return _VERSION_PREFIX + nonce + sealed


def decrypt(data_key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext back from ``encrypt``'s output, or ``CorruptContent``."""
    _check_key(data_key, "data key")
    if len(sealed) < _SEALED_OVERHEAD:
        raise CorruptContent("the sealed content is too short")
    if sealed[0] != FORMAT_VERSION:
        raise CorruptContent(f"unsupported sealed content format version {sealed[0]}")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(data_key).decrypt(nonce, body, _VERSION_PREFIX + aad)
    except InvalidTag:
        raise CorruptContent(
            "the content does not authenticate: tampered, wrong key or wrong associated data"
        ) from None


def _wrap_aad(patient_id: uuid.UUID) -> bytes:
    return _VERSION_PREFIX + _WRAP_LABEL + patient_id.bytes


def _content_aad(blob_key: str) -> bytes:
    return _VERSION_PREFIX + _CONTENT_LABEL + blob_key.encode()


def _check_key(key: bytes, name: str) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"the {name} must be {KEY_BYTES} bytes, not {len(key)}")
