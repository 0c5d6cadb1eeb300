"""Professional and structure identifiers: RPPS, ADELI, FINESS, SIREN, SIRET, IdNat."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.identity import (
    InvalidIdentifier,
    PsIdNat,
    StructIdNat,
    StructIdNatKind,
    luhn_check_digit,
    luhn_valid,
    parse_adeli,
    parse_finess,
    parse_ps_idnat,
    parse_rpps,
    parse_siren,
    parse_siret,
    parse_struct_idnat,
    ps_idnat_from_adeli,
    ps_idnat_from_rpps,
)

PERSONA_RPPS = [
    "10000000017",
    "10000000025",
    "10000000033",
    "10000000041",
    "10000000058",
    "10000000066",
    "10000000074",
    "10000000082",
]


def refused_by(parse: object, value: str) -> InvalidIdentifier:
    assert callable(parse)
    with pytest.raises(InvalidIdentifier) as caught:
        parse(value)
    error = caught.value
    assert isinstance(error, InvalidIdentifier)
    if len(value.strip()) >= 8:
        assert value.strip() not in error.message
    return error


# --- Luhn -------------------------------------------------------------------------


def test_luhn_accepts_the_classic_example() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


@pytest.mark.parametrize("value", ["", "12a4", "１２３", "\u0663"])
def test_luhn_is_false_for_anything_but_ascii_digits(value: str) -> None:
    assert not luhn_valid(value)


def test_luhn_check_digit_completes_a_payload() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("1000000001") == "7"


@pytest.mark.parametrize("payload", ["", "12 3", "x"])
def test_luhn_check_digit_refuses_a_payload_that_is_not_digits(payload: str) -> None:
    with pytest.raises(InvalidIdentifier, match="one or more digits"):
        luhn_check_digit(payload)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_any_payload_followed_by_its_luhn_check_digit_is_valid(payload: str) -> None:
    assert luhn_valid(payload + luhn_check_digit(payload))


# --- RPPS -------------------------------------------------------------------------


@pytest.mark.parametrize("rpps", PERSONA_RPPS)
def test_every_persona_rpps_is_valid(rpps: str) -> None:
    assert parse_rpps(rpps) == rpps


def test_the_magicdmp_test_rpps_is_valid() -> None:
    assert parse_rpps("99700024450") == "99700024450"


def test_an_rpps_written_with_spaces_is_accepted() -> None:
    assert parse_rpps("100 000 000 17") == "10000000017"


def test_an_empty_rpps_is_refused_as_empty() -> None:
    assert refused_by(parse_rpps, " ").message == "the RPPS number is empty"


@pytest.mark.parametrize("value", ["1000000001", "100000000170"])
def test_an_rpps_of_the_wrong_length_is_refused_saying_expected_and_got(value: str) -> None:
    error = refused_by(parse_rpps, value)
    assert error.part == "length"
    assert error.message == f"an RPPS number has 11 digits, got {len(value)}"


def test_an_rpps_with_a_letter_is_refused_naming_the_position() -> None:
    error = refused_by(parse_rpps, "1000O000017")
    assert error.message == "an RPPS number contains only digits: character 5 is not a digit"


def test_an_rpps_with_a_wrong_check_digit_is_refused_naming_the_expected_one() -> None:
    error = refused_by(parse_rpps, "10000000018")
    assert error.part == "key"
    assert error.message == "wrong RPPS number check digit (the last digit): got 8, expected 7"
    assert error.identifier == "RPPS number"


rpps_payloads = st.text(alphabet="0123456789", min_size=10, max_size=10)


@given(rpps_payloads, st.data())
def test_changing_any_single_digit_of_a_valid_rpps_is_detected(
    payload: str, data: st.DataObject
) -> None:
    rpps = payload + luhn_check_digit(payload)
    assert parse_rpps(rpps) == rpps
    position = data.draw(st.integers(0, len(rpps) - 1))
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != rpps[position]))
    changed = rpps[:position] + digit + rpps[position + 1 :]
    error = refused_by(parse_rpps, changed)
    assert error.part == "key"


@given(st.text(alphabet="0123456789", min_size=2, max_size=20), st.data())
def test_luhn_detects_any_single_digit_change(payload: str, data: st.DataObject) -> None:
    value = payload + luhn_check_digit(payload)
    position = data.draw(st.integers(0, len(value) - 1))
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != value[position]))
    assert not luhn_valid(value[:position] + digit + value[position + 1 :])


# --- ADELI ------------------------------------------------------------------------


def test_an_adeli_of_nine_digits_is_valid() -> None:
    assert parse_adeli("751234567") == "751234567"


def test_a_corsican_adeli_is_valid_and_upper_cased() -> None:
    assert parse_adeli("2a1234567") == "2A1234567"


def test_an_adeli_of_the_wrong_length_is_refused_saying_expected_and_got() -> None:
    error = refused_by(parse_adeli, "75123456")
    assert error.message == "an ADELI number has 9 characters, got 8"


def test_an_adeli_with_an_unknown_department_is_refused() -> None:
    error = refused_by(parse_adeli, "2C1234567")
    assert error.part == "department"
    assert "characters 1-2" in error.message
    assert "2A or 2B" in error.message


def test_an_adeli_with_a_letter_after_the_department_is_refused_naming_the_position() -> None:
    error = refused_by(parse_adeli, "7512345X7")
    assert error.message == (
        "characters 3-9 of an ADELI number must be digits: character 8 is not a digit"
    )


# --- FINESS -----------------------------------------------------------------------


@pytest.mark.parametrize("finess", ["750712184", "130786049", "690781810", "330781196"])
def test_real_finess_numbers_pass_the_luhn_check(finess: str) -> None:
    assert parse_finess(finess) == finess


def test_a_finess_written_in_its_display_groups_is_accepted() -> None:
    assert parse_finess("75 071 218 4") == "750712184"


def test_a_corsican_finess_is_checked_for_length_and_characters_only() -> None:
    assert parse_finess("2A0000012") == "2A0000012"
    assert parse_finess("2b0000013") == "2B0000013"


def test_a_finess_with_a_wrong_check_digit_is_refused_naming_the_expected_one() -> None:
    error = refused_by(parse_finess, "750712185")
    assert error.message == "wrong FINESS number check digit (the last digit): got 5, expected 4"


def test_a_finess_of_the_wrong_length_is_refused_saying_expected_and_got() -> None:
    assert refused_by(parse_finess, "7507121840").message == (
        "a FINESS number has 9 characters, got 10"
    )


def test_a_finess_with_an_unknown_department_is_refused() -> None:
    assert refused_by(parse_finess, "9A0000012").part == "department"


def test_a_finess_with_a_letter_after_the_department_is_refused() -> None:
    error = refused_by(parse_finess, "75071218X")
    assert "character 9 is not a digit" in error.message


# --- SIREN, SIRET -------------------------------------------------------------------


def test_a_valid_siren_is_accepted_even_with_spaces() -> None:
    assert parse_siren("552 100 554") == "552100554"


def test_a_siren_with_a_wrong_check_digit_is_refused_naming_the_expected_one() -> None:
    error = refused_by(parse_siren, "552100555")
    assert error.message == "wrong SIREN number check digit (the last digit): got 5, expected 4"


def test_a_siren_of_the_wrong_length_is_refused_saying_expected_and_got() -> None:
    assert refused_by(parse_siren, "55210055").message == "a SIREN number has 9 digits, got 8"


def test_a_siren_with_a_letter_is_refused() -> None:
    assert "character 1 is not a digit" in refused_by(parse_siren, "A52100554").message


def test_a_valid_siret_is_accepted() -> None:
    assert parse_siret("732 829 320 00074") == "73282932000074"


def test_a_siret_with_a_wrong_check_digit_is_refused_naming_the_expected_one() -> None:
    error = refused_by(parse_siret, "73282932000075")
    assert error.message == "wrong SIRET number check digit (the last digit): got 5, expected 4"


def test_a_siret_of_the_wrong_length_is_refused_saying_expected_and_got() -> None:
    assert refused_by(parse_siret, "7328293200007").message == (
        "a SIRET number has 14 digits, got 13"
    )


def test_the_la_poste_head_office_siret_passes_luhn() -> None:
    assert parse_siret("35600000000048") == "35600000000048"


def test_a_la_poste_siret_is_valid_when_its_digit_sum_is_a_multiple_of_5() -> None:
    assert not luhn_valid("35600000000010")
    assert parse_siret("35600000000010") == "35600000000010"


def test_a_la_poste_siret_failing_both_checks_is_refused_naming_the_la_poste_rule() -> None:
    error = refused_by(parse_siret, "35600000000011")
    assert "La Poste SIRET" in error.message
    assert "multiple of 5" in error.message


# --- PS_IdNat -------------------------------------------------------------------------


@pytest.mark.parametrize("rpps", PERSONA_RPPS)
def test_every_persona_rpps_makes_a_valid_ps_idnat(rpps: str) -> None:
    idnat = ps_idnat_from_rpps(rpps)
    assert idnat == "8" + rpps
    assert parse_ps_idnat(idnat) == PsIdNat(value=idnat, prefix="8", kind="rpps", national_id=rpps)


def test_the_magicdmp_test_cps_id_is_a_valid_ps_idnat() -> None:
    assert parse_ps_idnat("899700024450").kind == "rpps"


def test_an_adeli_makes_a_ps_idnat_with_prefix_0() -> None:
    assert ps_idnat_from_adeli("751234567") == "0751234567"
    assert parse_ps_idnat("0751234567").kind == "adeli"


def test_a_corsican_adeli_cannot_make_a_ps_idnat_which_is_digits_only() -> None:
    with pytest.raises(InvalidIdentifier, match="2A/2B department cannot be used in a PS_IdNat"):
        ps_idnat_from_adeli("2A1234567")


def test_ps_idnat_from_rpps_validates_the_rpps() -> None:
    with pytest.raises(InvalidIdentifier, match="expected 7"):
        ps_idnat_from_rpps("10000000018")


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("1", "adeli_cabinet"),
        ("3", "finess"),
        ("4", "siren"),
        ("5", "siret"),
        ("6", "rpps_cabinet"),
    ],
)
def test_the_other_ps_idnat_prefixes_give_their_kind(prefix: str, kind: str) -> None:
    idnat = parse_ps_idnat(f"{prefix}750712184001")
    assert idnat.kind == kind
    assert idnat.national_id == "750712184001"


def test_an_empty_ps_idnat_is_refused() -> None:
    assert refused_by(parse_ps_idnat, "").message == "the PS_IdNat is empty"


@pytest.mark.parametrize("prefix", ["2", "7", "9"])
def test_a_ps_idnat_with_an_unknown_prefix_is_refused_listing_the_prefixes(prefix: str) -> None:
    error = refused_by(parse_ps_idnat, f"{prefix}10000000017")
    assert error.part == "prefix"
    assert f"unknown PS_IdNat prefix {prefix}" in error.message
    assert "8 (RPPS)" in error.message


def test_a_ps_idnat_with_a_letter_is_refused_as_the_regex_requires() -> None:
    error = refused_by(parse_ps_idnat, "02A1234567")
    assert error.message == "a PS_IdNat contains only digits: character 3 is not a digit"


def test_a_ps_idnat_with_only_a_prefix_is_refused() -> None:
    assert "no identifier after it" in refused_by(parse_ps_idnat, "8").message


def test_a_ps_idnat_with_prefix_8_must_hold_a_valid_rpps() -> None:
    error = refused_by(parse_ps_idnat, "810000000018")
    assert error.message == (
        "PS_IdNat with prefix 8 (RPPS): wrong RPPS number check digit (the last digit): "
        "got 8, expected 7"
    )


def test_a_ps_idnat_with_prefix_8_and_a_short_rpps_is_refused_saying_expected_and_got() -> None:
    error = refused_by(parse_ps_idnat, "81000000001")
    assert "an RPPS number has 11 digits, got 10" in error.message


def test_a_ps_idnat_with_prefix_0_must_hold_a_valid_adeli() -> None:
    error = refused_by(parse_ps_idnat, "075123456")
    assert (
        error.message == "PS_IdNat with prefix 0 (ADELI): an ADELI number has 9 characters, got 8"
    )


# --- Struct_IdNat -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "national_id"),
    [
        ("0751234567", "adeli_cabinet", "751234567"),
        ("1750712184", "finess", "750712184"),
        ("2552100554", "siren", "552100554"),
        ("373282932000074", "siret", "73282932000074"),
        ("499700024450014", "rpps_rang", "99700024450014"),
    ],
)
def test_each_struct_idnat_prefix_gives_its_kind(
    value: str, kind: StructIdNatKind, national_id: str
) -> None:
    assert parse_struct_idnat(value) == StructIdNat(
        value=value, prefix=value[0], kind=kind, national_id=national_id
    )


def test_a_struct_idnat_may_hold_a_corsican_finess() -> None:
    assert parse_struct_idnat("12a0000012").national_id == "2A0000012"


def test_an_empty_struct_idnat_is_refused() -> None:
    assert refused_by(parse_struct_idnat, " ").message == "the Struct_IdNat is empty"


@pytest.mark.parametrize("prefix", ["5", "8", "9"])
def test_a_struct_idnat_with_an_unknown_prefix_is_refused_mentioning_technical_numbers(
    prefix: str,
) -> None:
    error = refused_by(parse_struct_idnat, f"{prefix}750712184")
    assert f"unknown Struct_IdNat prefix {prefix}" in error.message
    assert "technical numbers without a prefix are not supported" in error.message


def test_a_struct_idnat_with_only_a_prefix_is_refused() -> None:
    assert "no identifier after it" in refused_by(parse_struct_idnat, "1").message


def test_a_struct_idnat_with_prefix_1_must_hold_a_valid_finess() -> None:
    error = refused_by(parse_struct_idnat, "1750712185")
    assert error.message.startswith("Struct_IdNat with prefix 1 (FINESS): wrong FINESS")
    assert "expected 4" in error.message


def test_a_struct_idnat_with_prefix_2_must_hold_a_valid_siren() -> None:
    error = refused_by(parse_struct_idnat, "2552100555")
    assert error.message.startswith("Struct_IdNat with prefix 2 (SIREN): wrong SIREN")


def test_a_struct_idnat_with_prefix_3_must_hold_a_valid_siret() -> None:
    error = refused_by(parse_struct_idnat, "37328293200007")
    assert error.message == (
        "Struct_IdNat with prefix 3 (SIRET): a SIRET number has 14 digits, got 13"
    )


def test_a_struct_idnat_with_prefix_4_must_hold_digits() -> None:
    error = refused_by(parse_struct_idnat, "4997000244X0014")
    assert error.message == (
        "Struct_IdNat with prefix 4 (RPPS-rang): an RPPS-rang contains only digits: "
        "character 10 is not a digit"
    )


def test_a_struct_idnat_with_prefix_0_must_hold_digits_after_its_department() -> None:
    assert parse_struct_idnat("02A1234567").national_id == "2A1234567"
    error = refused_by(parse_struct_idnat, "075123X567")
    assert "ADELI cabinet id contains only digits: character 6" in error.message


def test_the_field_is_carried_by_nested_errors() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_ps_idnat("810000000018", field="author.id")
    assert caught.value.field == "author.id"
    assert caught.value.part == "key"
