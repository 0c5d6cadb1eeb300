"""INS: OIDs, FHIR tokens, traits and their consistency with the NIR."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.errors import Invalid
from carnet.identity import (
    INS_OIDS,
    OID_INS_NIA,
    OID_INS_NIA_TEST,
    OID_INS_NIR,
    OID_INS_NIR_TEST,
    OID_PS_IDNAT,
    OID_STRUCT_IDNAT,
    InsIdentifier,
    InsTraits,
    InvalidIdentifier,
    consistent_with_nir,
    ins_system,
    nir_key,
    parse_birth_place_code,
    parse_ins_identifier,
    parse_nir,
    validate_traits,
)

TODAY = date(2026, 3, 1)
NIR = "275033155500425"


def traits(**changes: object) -> InsTraits:
    values: dict[str, object] = {
        "birth_name": "MARTIN",
        "birth_given_names": ("CLAIRE", "ANNE"),
        "birth_date": date(1975, 3, 14),
        "sex": "F",
        "birth_place_code": "31555",
    }
    values.update(changes)
    return InsTraits(**values)  # type: ignore[arg-type]


def refused_token(token: str) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_ins_identifier(token)
    return caught.value


# --- OIDs -------------------------------------------------------------------------


def test_the_ins_oids_are_those_of_the_ins_authority() -> None:
    assert OID_INS_NIR == "1.2.250.1.213.1.4.8"
    assert OID_INS_NIA == "1.2.250.1.213.1.4.9"
    assert OID_INS_NIR_TEST == "1.2.250.1.213.1.4.10"
    assert OID_INS_NIA_TEST == "1.2.250.1.213.1.4.11"
    assert frozenset({OID_INS_NIR, OID_INS_NIA, OID_INS_NIR_TEST, OID_INS_NIA_TEST}) == INS_OIDS


def test_the_national_identifier_oids_of_professionals_and_structures() -> None:
    assert OID_PS_IDNAT == "1.2.250.1.71.4.2.1"
    assert OID_STRUCT_IDNAT == "1.2.250.1.71.4.2.2"


def test_ins_system_prefixes_the_oid_with_urn_oid() -> None:
    assert ins_system(OID_INS_NIR) == "urn:oid:1.2.250.1.213.1.4.8"


def test_ins_system_refuses_an_oid_that_is_not_an_ins_oid() -> None:
    with pytest.raises(InvalidIdentifier, match="is not an INS OID"):
        ins_system(OID_PS_IDNAT)


# --- tokens -------------------------------------------------------------------------


def test_a_fhir_token_with_a_urn_oid_system_is_parsed() -> None:
    ins = parse_ins_identifier("urn:oid:1.2.250.1.213.1.4.8|275033155500425")
    assert ins == InsIdentifier(oid=OID_INS_NIR, matricule=NIR)
    assert ins.system == "urn:oid:1.2.250.1.213.1.4.8"
    assert ins.token == "urn:oid:1.2.250.1.213.1.4.8|275033155500425"
    assert not ins.is_test
    assert ins.nir() == parse_nir(NIR)


def test_a_fhir_token_with_a_bare_oid_system_is_parsed() -> None:
    ins = parse_ins_identifier("1.2.250.1.213.1.4.9|275033155500425")
    assert ins.oid == OID_INS_NIA


def test_a_token_is_normalised_around_its_separator_and_in_its_matricule() -> None:
    ins = parse_ins_identifier(" URN:OID:1.2.250.1.213.1.4.10 | 2 75 03 31 555 004 25 ")
    assert ins.oid == OID_INS_NIR_TEST
    assert ins.matricule == NIR
    assert ins.is_test


@pytest.mark.parametrize(
    "token",
    [
        "urn:oid:1.2.250.1.213.1.4.8|275033155500425",
        "urn:oid:1.2.250.1.213.1.4.8|211083155504497",
        "urn:oid:1.2.250.1.213.1.4.8|168073155512372",
        "urn:oid:1.2.250.1.213.1.4.8|290069205003110",
        "urn:oid:1.2.250.1.213.1.4.8|155011305501013",
    ],
)
def test_every_persona_ins_token_is_valid(token: str) -> None:
    assert parse_ins_identifier(token).token == token


def test_a_provisional_number_may_be_an_ins_matricule() -> None:
    body = "3750399135001"
    assert parse_ins_identifier(f"{OID_INS_NIA}|{body}{nir_key(body)}").nir().kind == (
        "provisional"
    )


def test_the_repr_of_an_ins_identifier_masks_the_matricule() -> None:
    ins = parse_ins_identifier(f"{OID_INS_NIR}|{NIR}")
    assert NIR not in repr(ins)
    assert "2 ** ** ** *** *** 25" in repr(ins)


def test_an_empty_token_is_refused_as_empty() -> None:
    assert refused_token("  ").message == "the INS identifier is empty"


def test_a_token_without_a_separator_is_refused_showing_the_expected_form() -> None:
    error = refused_token(NIR)
    assert error.part == "separator"
    assert "system|matricule" in error.message
    assert NIR not in error.message


def test_a_token_with_two_separators_is_refused() -> None:
    error = refused_token(f"{OID_INS_NIR}|{NIR}|x")
    assert "more than one '|'" in error.message
    assert NIR not in error.message


def test_a_token_without_a_system_is_refused_listing_the_ins_oids() -> None:
    error = refused_token(f"urn:oid:|{NIR}")
    assert error.part == "system"
    assert "the system (the OID before '|') is missing" in error.message
    assert OID_INS_NIR in error.message


def test_a_token_with_a_non_ins_oid_is_refused_naming_that_oid() -> None:
    error = refused_token(f"urn:oid:{OID_PS_IDNAT}|{NIR}")
    assert error.part == "system"
    assert f"the system {OID_PS_IDNAT} is not an INS OID" in error.message
    assert "1.2.250.1.213.1.4.8 (INS-NIR)" in error.message


@pytest.mark.parametrize("legacy", ["1.2.250.1.213.1.4.1", "1.2.250.1.213.1.4.2"])
def test_a_legacy_calculated_ins_is_refused_as_obsolete(legacy: str) -> None:
    error = refused_token(f"{legacy}|{NIR}")
    assert "legacy calculated INS (INS-A/INS-C)" in error.message
    assert "obsolete" in error.message


def test_a_matricule_pasted_as_the_system_is_not_echoed() -> None:
    error = refused_token(f"{NIR}|{OID_INS_NIR}")
    assert "the system given is not an INS OID" in error.message
    assert NIR not in error.message


def test_a_token_without_a_matricule_is_refused() -> None:
    error = refused_token(f"{OID_INS_NIR}| ")
    assert error.part == "matricule"
    assert "the matricule (after '|') is missing" in error.message


def test_a_token_with_a_wrong_matricule_key_is_refused_naming_the_expected_key() -> None:
    error = refused_token(f"{OID_INS_NIR}|275033155500426")
    assert error.message == "INS matricule: wrong key (characters 14-15): got 26, expected 25"
    assert error.identifier == "NIR"
    assert error.part == "key"


def test_a_temporary_number_is_refused_as_an_ins_matricule() -> None:
    body = "7750331555004"
    error = refused_token(f"{OID_INS_NIR}|{body}{nir_key(body)}")
    assert "temporary number (sex digit 7 or 8) cannot be an INS" in error.message


def test_the_field_is_carried_by_token_errors() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_ins_identifier(f"{OID_INS_NIR}|275033155500426", field="identifier")
    assert caught.value.field == "identifier"


# --- traits ----------------------------------------------------------------------


def test_valid_traits_are_returned_normalised() -> None:
    checked = validate_traits(
        traits(
            birth_name=" MARTIN ",
            birth_given_names=("CLAIRE ", "ANNE"),
            birth_place_code="2a004",
            used_name="DUPONT",
            used_given_name="CLAIRE",
        ),
        today=TODAY,
    )
    assert checked.birth_name == "MARTIN"
    assert checked.birth_given_names == ("CLAIRE", "ANNE")
    assert checked.first_birth_given_name == "CLAIRE"
    assert checked.birth_place_code == "2A004"
    assert checked.used_name == "DUPONT"


def test_traits_without_a_birth_place_are_valid() -> None:
    assert validate_traits(traits(birth_place_code=None), today=TODAY).birth_place_code is None


def test_a_birth_on_the_day_itself_is_valid() -> None:
    assert validate_traits(traits(birth_date=TODAY), today=TODAY).birth_date == TODAY


@pytest.mark.parametrize("sex", ["M", "F", "U"])
def test_the_sexes_m_f_and_u_are_accepted(sex: str) -> None:
    assert validate_traits(traits(sex=sex), today=TODAY).sex == sex


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_birth_name_is_refused(name: str) -> None:
    with pytest.raises(Invalid, match="the birth name is empty") as caught:
        validate_traits(traits(birth_name=name), today=TODAY)
    assert caught.value.field == "birth_name"


def test_traits_without_any_birth_given_name_are_refused() -> None:
    with pytest.raises(Invalid, match="at least one birth given name is required") as caught:
        validate_traits(traits(birth_given_names=()), today=TODAY)
    assert caught.value.field == "birth_given_names"


def test_a_blank_birth_given_name_is_refused_naming_its_rank() -> None:
    with pytest.raises(Invalid, match="birth given name number 2 is empty"):
        validate_traits(traits(birth_given_names=("CLAIRE", " ")), today=TODAY)


def test_birth_given_names_passed_as_a_single_string_are_refused() -> None:
    with pytest.raises(Invalid, match="must be a list of names, not a single string"):
        validate_traits(traits(birth_given_names="CLAIRE"), today=TODAY)


def test_an_unknown_sex_code_is_refused() -> None:
    with pytest.raises(Invalid, match="the sex must be M, F or U") as caught:
        validate_traits(traits(sex="X"), today=TODAY)
    assert caught.value.field == "sex"


def test_a_birth_date_in_the_future_is_refused() -> None:
    with pytest.raises(Invalid, match="the birth date is in the future") as caught:
        validate_traits(traits(birth_date=date(2026, 3, 2)), today=TODAY)
    assert caught.value.field == "birth_date"


def test_a_birth_date_with_a_time_is_refused() -> None:
    with pytest.raises(Invalid, match="must be a date, without a time"):
        validate_traits(traits(birth_date=datetime(1975, 3, 14, 8, 0)), today=TODAY)


def test_a_blank_used_name_is_refused() -> None:
    with pytest.raises(Invalid, match="the used name is empty"):
        validate_traits(traits(used_name=" "), today=TODAY)


def test_the_repr_of_traits_shows_none_of_them() -> None:
    text = repr(traits())
    assert "MARTIN" not in text
    assert "1975" not in text


@pytest.mark.parametrize("code", ["31555", "2A004", "2B033", "97209", "98735", "99100"])
def test_insee_cog_birth_place_codes_are_accepted(code: str) -> None:
    assert parse_birth_place_code(code) == code


def test_a_birth_place_code_of_the_wrong_length_is_refused_saying_expected_and_got() -> None:
    with pytest.raises(InvalidIdentifier, match="has 5 characters, got 4") as caught:
        validate_traits(traits(birth_place_code="3155"), today=TODAY)
    assert caught.value.field == "birth_place_code"


def test_a_birth_place_code_with_letters_after_the_department_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match=r"characters 3-5 .* must be digits"):
        parse_birth_place_code("2A0B4")


@pytest.mark.parametrize("code", ["2C004", "AB123"])
def test_a_birth_place_code_with_an_unknown_department_is_refused(code: str) -> None:
    with pytest.raises(InvalidIdentifier, match=r"must be digits, 2A or 2B"):
        parse_birth_place_code(code)


def test_a_birth_place_code_in_department_00_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match="unknown department 00"):
        parse_birth_place_code("00123")


# --- consistency with the NIR ------------------------------------------------------------


def test_traits_matching_the_nir_give_no_mismatch() -> None:
    assert consistent_with_nir(traits(), parse_nir(NIR)) == []


def test_a_sex_that_contradicts_the_nir_sex_digit_is_reported() -> None:
    mismatches = consistent_with_nir(traits(sex="M"), parse_nir(NIR))
    assert mismatches == ["sex: the traits say M (male) but the NIR sex digit 2 means female"]


def test_an_unknown_sex_is_not_reported_as_a_mismatch() -> None:
    assert consistent_with_nir(traits(sex="U"), parse_nir(NIR)) == []


def test_a_birth_year_that_contradicts_the_nir_is_reported() -> None:
    mismatches = consistent_with_nir(traits(birth_date=date(1976, 3, 14)), parse_nir(NIR))
    assert mismatches == ["birth year: the NIR says 75 but the birth date is in 1976"]


def test_a_birth_month_that_contradicts_the_nir_is_reported() -> None:
    mismatches = consistent_with_nir(traits(birth_date=date(1975, 4, 14)), parse_nir(NIR))
    assert mismatches == ["birth month: the NIR says 03 but the birth date is in month 04"]


def test_every_mismatch_is_reported_at_once() -> None:
    mismatches = consistent_with_nir(traits(sex="M", birth_date=date(1980, 12, 1)), parse_nir(NIR))
    assert [m.split(":")[0] for m in mismatches] == ["sex", "birth year", "birth month"]


def test_the_month_of_an_incomplete_civil_record_is_not_compared() -> None:
    body = "2753031555004"
    nir = parse_nir(body + nir_key(body))
    assert consistent_with_nir(traits(birth_date=date(1975, 7, 1)), nir) == []


def test_the_sex_digit_of_a_provisional_number_is_not_compared() -> None:
    body = "3750331555004"
    nir = parse_nir(body + nir_key(body))
    assert consistent_with_nir(traits(sex="F"), nir) == []


def test_mismatch_messages_never_contain_the_nir() -> None:
    mismatches = consistent_with_nir(traits(sex="M", birth_date=date(1980, 12, 1)), parse_nir(NIR))
    assert all(NIR not in m for m in mismatches)


@given(st.dates(max_value=TODAY), st.sampled_from(["M", "F"]))
def test_a_nir_built_from_the_traits_is_always_consistent_with_them(born: date, sex: str) -> None:
    body = f"{1 if sex == 'M' else 2}{born.year % 100:02d}{born.month:02d}31555004"
    nir = parse_nir(body + nir_key(body))
    assert consistent_with_nir(traits(birth_date=born, sex=sex), nir) == []
