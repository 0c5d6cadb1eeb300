"""Envelope encryption: per-patient data keys wrapped by the master key, contents sealed with
AES-256-GCM, and every way of opening them wrongly refused."""

from __future__ import annotations

import base64
import os
import uuid

import pytest

from carnet.documents import envelope
from carnet.documents.envelope import (
    CorruptContent,
    KeyUnavailable,
    decrypt,
    encrypt,
    master_key_from_setting,
    new_data_key,
    unwrap_key,
    wrap_key,
)
from carnet.settings import PLACEHOLDER_MASTER_KEY

PATIENT = uuid.UUID("0190f2a1-7c2e-7a4b-9d3e-5f6a7b8c9d0e")
OTHER_PATIENT = uuid.UUID("0190f2a1-7c2e-7a4b-9d3e-5f6a7b8c9d0f")
AAD = b"0190f2a1-7c2e-7a4b-9d3e-5f6a7b8c9d0e/0190f2a2-0000-7000-8000-000000000001"
# 0xfb/0xff bytes make base64 use the characters on which the two alphabets differ.
MASTER = b"\xfb\xff\x01" * 10 + b"\xfe\xfd"


@pytest.fixture
def master() -> bytes:
    return os.urandom(32)


# --- Master key setting -----------------------------------------------------------------------


def test_master_key_is_read_from_standard_base64() -> None:
    value = base64.b64encode(MASTER).decode()
    assert "+" in value or "/" in value
    assert master_key_from_setting(value) == MASTER


def test_master_key_is_read_from_urlsafe_base64() -> None:
    value = base64.urlsafe_b64encode(MASTER).decode()
    assert "-" in value or "_" in value
    assert master_key_from_setting(value) == MASTER


def test_master_key_padding_and_surrounding_whitespace_are_optional() -> None:
    value = base64.urlsafe_b64encode(MASTER).decode().rstrip("=")
    assert master_key_from_setting(f"  {value}\n") == MASTER


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (base64.b64encode(b"k" * 16).decode(), "exactly 32 bytes, not 16"),
        (base64.b64encode(b"k" * 33).decode(), "exactly 32 bytes, not 33"),
        ("not base64 at all!", "not valid base64"),
        ("é" * 44, "not valid base64"),
        (base64.b64encode(MASTER).decode()[:-2] + "-_", "mixes"),
    ],
)
def test_a_bad_master_key_setting_is_refused_without_repeating_it(
    value: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as raised:
        master_key_from_setting(value)
    if value.strip():
        assert value.strip() not in str(raised.value)


def test_the_development_placeholder_is_a_usable_master_key() -> None:
    assert len(master_key_from_setting(PLACEHOLDER_MASTER_KEY)) == 32


def test_a_33_byte_key_is_refused_even_when_it_reads_like_a_placeholder() -> None:
    with pytest.raises(ValueError, match="not 33"):
        master_key_from_setting("ZGV2LWluc2VjdXJlLW1hc3Rlci1rZXktY2hhbmdlLW1l")


# --- Data keys and wrapping -------------------------------------------------------------------


def test_data_keys_are_32_random_bytes() -> None:
    keys = {new_data_key() for _ in range(16)}
    assert len(keys) == 16
    assert all(len(key) == 32 for key in keys)


def test_a_wrapped_key_unwraps_for_its_patient(master: bytes) -> None:
    data_key = new_data_key()
    wrapped = wrap_key(master, data_key, PATIENT)
    assert unwrap_key(master, wrapped, PATIENT) == data_key


def test_a_wrapped_key_is_versioned_nonced_and_hides_the_key(master: bytes) -> None:
    data_key = new_data_key()
    first, second = wrap_key(master, data_key, PATIENT), wrap_key(master, data_key, PATIENT)
    assert first[0] == 1
    assert len(first) == 1 + 12 + 32 + 16
    assert first != second  # a fresh nonce each time
    assert data_key not in first


def test_a_key_wrapped_for_one_patient_does_not_unwrap_for_another(master: bytes) -> None:
    wrapped = wrap_key(master, new_data_key(), PATIENT)
    with pytest.raises(KeyUnavailable):
        unwrap_key(master, wrapped, OTHER_PATIENT)


def test_a_wrapped_key_does_not_unwrap_under_another_master_key(master: bytes) -> None:
    wrapped = wrap_key(master, new_data_key(), PATIENT)
    with pytest.raises(KeyUnavailable):
        unwrap_key(os.urandom(32), wrapped, PATIENT)


def test_any_changed_byte_of_a_wrapped_key_makes_it_unavailable(master: bytes) -> None:
    wrapped = wrap_key(master, new_data_key(), PATIENT)
    for position in range(len(wrapped)):
        damaged = bytearray(wrapped)
        damaged[position] ^= 0x01
        with pytest.raises(KeyUnavailable):
            unwrap_key(master, bytes(damaged), PATIENT)


def test_a_wrapped_key_of_an_unknown_version_is_unavailable(master: bytes) -> None:
    wrapped = wrap_key(master, new_data_key(), PATIENT)
    with pytest.raises(KeyUnavailable, match="version 2"):
        unwrap_key(master, b"\x02" + wrapped[1:], PATIENT)


@pytest.mark.parametrize("length", [0, 1, 13, 60, 62])
def test_a_wrapped_key_of_the_wrong_length_is_unavailable(master: bytes, length: int) -> None:
    wrapped = (wrap_key(master, new_data_key(), PATIENT) + b"\x00")[:length]
    with pytest.raises(KeyUnavailable, match="length"):
        unwrap_key(master, wrapped, PATIENT)


def test_unwrap_errors_do_not_carry_key_material(master: bytes) -> None:
    data_key = new_data_key()
    wrapped = wrap_key(master, data_key, PATIENT)
    with pytest.raises(KeyUnavailable) as raised:
        unwrap_key(master, wrapped, OTHER_PATIENT)
    text = str(raised.value) + repr(raised.value)
    for secret in (master, data_key, wrapped):
        assert secret.hex() not in text
        assert base64.b64encode(secret).decode() not in text
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


@pytest.mark.parametrize(("master_length", "key_length"), [(16, 32), (32, 16), (31, 32)])
def test_wrapping_refuses_keys_that_are_not_256_bits(master_length: int, key_length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_key(os.urandom(master_length), os.urandom(key_length), PATIENT)


# --- Contents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [b"", b"x", b"%PDF-1.7 compte rendu " * 1000])
def test_content_round_trips(plaintext: bytes) -> None:
    data_key = new_data_key()
    sealed = encrypt(data_key, plaintext, AAD)
    assert len(sealed) == len(plaintext) + 1 + 12 + 16
    assert sealed[0] == 1
    assert decrypt(data_key, sealed, AAD) == plaintext


def test_a_20_megabyte_document_round_trips() -> None:
    data_key = new_data_key()
    plaintext = os.urandom(20 * 1024 * 1024)
    assert decrypt(data_key, encrypt(data_key, plaintext, AAD), AAD) == plaintext


def test_sealing_twice_gives_different_bytes_that_hide_the_plaintext() -> None:
    data_key = new_data_key()
    plaintext = b"Diagnostic: hypertension arterielle" * 4
    first, second = encrypt(data_key, plaintext, AAD), encrypt(data_key, plaintext, AAD)
    assert first != second
    assert b"hypertension" not in first


def test_content_does_not_open_with_another_data_key() -> None:
    sealed = encrypt(new_data_key(), b"compte rendu", AAD)
    with pytest.raises(CorruptContent):
        decrypt(new_data_key(), sealed, AAD)


def test_content_does_not_open_with_other_associated_data() -> None:
    data_key = new_data_key()
    sealed = encrypt(data_key, b"compte rendu", AAD)
    with pytest.raises(CorruptContent):
        decrypt(data_key, sealed, AAD + b"x")
    with pytest.raises(CorruptContent):
        decrypt(data_key, sealed, b"")


def test_any_changed_byte_of_sealed_content_is_detected() -> None:
    data_key = new_data_key()
    sealed = encrypt(data_key, b"ordonnance: amoxicilline 1 g", AAD)
    for position in range(len(sealed)):
        damaged = bytearray(sealed)
        damaged[position] ^= 0x80
        with pytest.raises(CorruptContent):
            decrypt(data_key, bytes(damaged), AAD)


def test_sealed_content_of_an_unknown_version_is_refused_as_such() -> None:
    data_key = new_data_key()
    sealed = encrypt(data_key, b"compte rendu", AAD)
    with pytest.raises(CorruptContent, match="version 0"):
        decrypt(data_key, b"\x00" + sealed[1:], AAD)


@pytest.mark.parametrize("length", [0, 1, 12, 28])
def test_truncated_sealed_content_is_refused(length: int) -> None:
    data_key = new_data_key()
    sealed = encrypt(data_key, b"", AAD)
    assert len(sealed) == 29
    with pytest.raises(CorruptContent, match="too short"):
        decrypt(data_key, sealed[:length], AAD)


def test_content_with_its_tag_cut_off_is_refused() -> None:
    data_key = new_data_key()
    sealed = encrypt(data_key, b"compte rendu de consultation", AAD)
    with pytest.raises(CorruptContent):
        decrypt(data_key, sealed[:-1], AAD)


def test_decrypt_errors_do_not_carry_key_or_content() -> None:
    data_key = new_data_key()
    plaintext = b"secret medical content"
    sealed = encrypt(data_key, plaintext, AAD)
    with pytest.raises(CorruptContent) as raised:
        decrypt(new_data_key(), sealed, AAD)
    text = str(raised.value) + repr(raised.value)
    assert data_key.hex() not in text
    assert "secret medical" not in text
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_content_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envelope, "MAX_PLAINTEXT_BYTES", 1024)
    data_key = new_data_key()
    assert decrypt(data_key, encrypt(data_key, b"a" * 1024, AAD), AAD) == b"a" * 1024
    with pytest.raises(ValueError, match="over the 1024-byte limit"):
        encrypt(data_key, b"a" * 1025, AAD)


def test_the_size_limit_leaves_room_for_20_megabyte_documents() -> None:
    assert envelope.MAX_PLAINTEXT_BYTES >= 20 * 1024 * 1024


@pytest.mark.parametrize("length", [0, 16, 24, 31, 33])
def test_contents_refuse_data_keys_that_are_not_256_bits(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt(os.urandom(length), b"x", AAD)
    with pytest.raises(ValueError, match="32 bytes"):
        decrypt(os.urandom(length), b"\x01" + b"\x00" * 40, AAD)


def test_a_content_key_unwraps_only_with_its_data_key_and_for_its_blob() -> None:
    data_key, content_key = new_data_key(), new_data_key()
    wrapped = envelope.wrap_content_key(data_key, content_key, "c/ab/cd/one")
    assert len(wrapped) == len(wrap_key(MASTER, data_key, PATIENT))  # the same layout
    assert envelope.unwrap_content_key(data_key, wrapped, "c/ab/cd/one") == content_key
    with pytest.raises(KeyUnavailable):
        envelope.unwrap_content_key(new_data_key(), wrapped, "c/ab/cd/one")  # another patient
    with pytest.raises(KeyUnavailable):
        envelope.unwrap_content_key(data_key, wrapped, "c/ab/cd/two")  # moved onto another blob
    with pytest.raises(KeyUnavailable):
        envelope.unwrap_content_key(data_key, wrapped[:-1], "c/ab/cd/one")
