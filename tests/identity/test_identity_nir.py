"""NIR: parsing, key, display and masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.errors import Invalid
from carnet.identity import (
    VALID_MONTHS,
    InvalidIdentifier,
    Nir,
    format_nir,
    mask_nir,
    nir_key,
    normalise_nir,
    parse_nir,
)

PERSONA_NIRS = [
    "275033155500425",
    "211083155504497",
    "168073155512372",
    "290069205003110",
    "155011305501013",
]

CORSICA_2A = "176012A00412345"  # key from 1 76 01 19 004 123
CORSICA_2B = "285032B01234524"  # key from 2 85 03 18 012 345
OVERSEAS = "285129721200439"  # department 972, commune 12
ABROAD = "170019913500194"  # department 99, country 135


def refused(value: str) -> InvalidIdentifier:
    """Parse a value expected to be refused; return the error after the leak check."""
    with pytest.raises(InvalidIdentifier) as caught:
        parse_nir(value)
    error = caught.value
    normalised = normalise_nir(value)
    if len(normalised) >= 8:
        assert normalised not in error.message
    assert error.identifier == "NIR"
    return error


def with_key(body: str) -> str:
    return body + nir_key(body)


# --- personas and valid shapes -----------------------------------------------------


@pytest.mark.parametrize("value", PERSONA_NIRS)
def test_every_persona_nir_is_a_valid_nir(value: str) -> None:
    nir = parse_nir(value)
    assert nir.value == value
    assert nir.kind == "nir"


def test_a_parsed_nir_exposes_each_of_its_parts() -> None:
    nir = parse_nir("275033155500425")
    assert (nir.sex, nir.birth_year, nir.birth_month) == (2, "75", "03")
    assert (nir.department, nir.commune, nir.order, nir.key) == ("31", "555", "004", "25")
    assert nir.body == "2750331555004"
    assert not nir.overseas
    assert not nir.born_abroad


def test_a_key_of_97_is_valid_when_the_body_is_a_multiple_of_97() -> None:
    assert int("2110831555044") % 97 == 0
    assert parse_nir("211083155504497").key == "97"


def test_spaces_and_dots_between_groups_are_accepted() -> None:
    assert parse_nir("2 75 03 31 555 004 25").value == "275033155500425"
    assert parse_nir("2.75.03.31.555.004.25").value == "275033155500425"
    assert parse_nir("  2 75 03 31 555 004 25\n").value == "275033155500425"


def test_a_corsican_nir_in_2a_uses_19_to_compute_its_key() -> None:
    assert nir_key("176012A004123") == f"{97 - int('1760119004123') % 97:02d}" == "45"
    nir = parse_nir(CORSICA_2A)
    assert nir.department == "2A"
    assert nir.commune == "004"


def test_a_corsican_nir_in_2b_uses_18_to_compute_its_key() -> None:
    assert nir_key("285032B012345") == f"{97 - int('2850318012345') % 97:02d}" == "24"
    assert parse_nir(CORSICA_2B).department == "2B"


def test_a_corsican_nir_may_be_written_in_lower_case_and_is_normalised() -> None:
    assert parse_nir("1 76 01 2a 004 123 45").value == CORSICA_2A
    assert nir_key("285032b012345") == "24"


def test_a_corsican_key_computed_as_department_20_is_refused_naming_the_expected_key() -> None:
    error = refused("176012A00412318")  # 18 is the key of 1 76 01 20 004 123
    assert error.part == "key"
    assert "expected 45" in error.message
    assert "got 18" in error.message


def test_an_overseas_nir_has_a_three_digit_department_and_a_two_digit_commune() -> None:
    nir = parse_nir(OVERSEAS)
    assert (nir.department, nir.commune, nir.order) == ("972", "12", "004")
    assert nir.overseas


def test_a_nir_of_someone_born_abroad_has_department_99_and_a_country_code() -> None:
    nir = parse_nir(ABROAD)
    assert (nir.department, nir.commune) == ("99", "135")
    assert nir.born_abroad


@pytest.mark.parametrize("department", ["01", "20", "95", "96"])
def test_metropolitan_and_historic_departments_are_accepted(department: str) -> None:
    assert parse_nir(with_key(f"17501{department}123456")).department == department


@pytest.mark.parametrize(
    ("sex", "kind"),
    [
        ("1", "nir"),
        ("2", "nir"),
        ("3", "provisional"),
        ("4", "provisional"),
        ("7", "temporary"),
        ("8", "temporary"),
    ],
)
def test_the_sex_digit_gives_the_kind_of_number(sex: str, kind: str) -> None:
    nir = parse_nir(with_key(f"{sex}750331555004"))
    assert nir.kind == kind
    assert nir.sex == int(sex)


@pytest.mark.parametrize("month", ["20", "31", "42", "50"])
def test_months_of_incomplete_civil_records_are_accepted(month: str) -> None:
    assert parse_nir(with_key(f"175{month}31555004")).birth_month == month


# --- refusals, each naming the part at fault ------------------------------------------


def test_an_invalid_identifier_is_an_invalid_error_carrying_the_field() -> None:
    with pytest.raises(Invalid) as caught:
        parse_nir("275033155500426", field="patient.nir")
    assert isinstance(caught.value, InvalidIdentifier)
    assert caught.value.field == "patient.nir"
    assert caught.value.code == "invalid"


def test_an_empty_nir_is_refused_as_empty() -> None:
    assert refused(" ").message == "the NIR is empty"


@pytest.mark.parametrize("value", ["27503315550042", "2750331555004251"])
def test_a_nir_of_the_wrong_length_is_refused_saying_expected_and_got(value: str) -> None:
    error = refused(value)
    assert error.part == "length"
    assert "15 characters" in error.message
    assert f"got {len(value)}" in error.message


def test_a_nir_without_its_key_is_refused_saying_the_key_seems_missing() -> None:
    error = refused("2750331555004")
    assert "got 13" in error.message
    assert "key seems to be missing" in error.message


@pytest.mark.parametrize("sex", ["0", "5", "6", "9"])
def test_an_impossible_sex_digit_is_refused_listing_the_accepted_ones(sex: str) -> None:
    error = refused(with_key(f"{sex}750331555004"))
    assert error.part == "sex"
    assert f"got {sex}" in error.message
    assert "1 or 2 (NIR)" in error.message
    assert "7 or 8 (temporary number)" in error.message


def test_a_non_digit_sex_character_is_refused() -> None:
    error = refused("X75033155500425")
    assert error.part == "sex"
    assert "character 1" in error.message


def test_a_non_digit_birth_year_is_refused_naming_the_birth_year() -> None:
    error = refused("2X5033155500425")
    assert error.part == "birth_year"
    assert "birth year (characters 2-3)" in error.message


def test_a_non_digit_birth_month_is_refused_naming_the_birth_month() -> None:
    error = refused("275O33155500425")
    assert error.part == "birth_month"
    assert "birth month (characters 4-5)" in error.message


@pytest.mark.parametrize("month", ["00", "13", "19", "43", "49", "51", "99"])
def test_an_impossible_month_is_refused_as_an_impossible_month(month: str) -> None:
    error = refused(f"275{month}3155500425")
    assert error.part == "birth_month"
    assert f"impossible month {month}" in error.message
    assert "01-12" in error.message


@pytest.mark.parametrize("department", ["00", "2C", "AB"])
def test_an_unknown_department_is_refused_naming_it(department: str) -> None:
    error = refused(f"27503{department}55500425")
    assert error.part == "department"
    assert "unknown department" in error.message
    assert f"got {department}" in error.message


def test_an_overseas_department_with_a_non_digit_third_character_is_refused() -> None:
    error = refused("2851297A1200439")
    assert error.part == "department"
    assert "overseas department (characters 6-8)" in error.message


def test_a_non_digit_commune_is_refused_naming_the_commune() -> None:
    error = refused("2750331X5500425")
    assert error.part == "commune"
    assert "the commune (characters 8-10)" in error.message


def test_a_non_digit_overseas_commune_is_refused_naming_its_positions() -> None:
    error = refused("28512972X200439")
    assert "the commune (characters 9-10)" in error.message


def test_a_non_digit_country_code_is_refused_naming_the_country_code() -> None:
    error = refused("1700199X3500194")
    assert "the country code (characters 8-10)" in error.message


def test_order_number_000_is_refused_as_impossible() -> None:
    error = refused(with_key("2750331555000"))
    assert error.part == "order"
    assert "impossible order number 000" in error.message
    assert "001-999" in error.message


def test_a_non_digit_order_number_is_refused() -> None:
    error = refused("2750331555O0425")
    assert error.part == "order"
    assert "order number (characters 11-13)" in error.message


def test_a_non_digit_key_is_refused() -> None:
    error = refused("27503315550042X")
    assert error.part == "key"
    assert "the key (characters 14-15) must be 2 digits" in error.message


@pytest.mark.parametrize("key", ["00", "98", "99"])
def test_a_key_outside_01_to_97_is_refused_as_impossible(key: str) -> None:
    error = refused(f"2750331555004{key}")
    assert error.part == "key"
    assert f"impossible key {key}" in error.message
    assert "01-97" in error.message


def test_a_nir_with_a_wrong_key_is_refused_naming_the_expected_key() -> None:
    error = refused("275033155500426")
    assert error.part == "key"
    assert error.message == "wrong key (characters 14-15): got 26, expected 25"


def test_unicode_digits_are_not_digits() -> None:
    error = refused("2\u06675033155500425")  # an Arabic-Indic seven
    assert error.part == "birth_year"


# --- nir_key ----------------------------------------------------------------------


def test_nir_key_returns_two_digits() -> None:
    assert nir_key("2110831555044") == "97"
    assert nir_key("1700199135001") == "94"
    assert len(nir_key("1000101001001")) == 2


def test_nir_key_refuses_a_body_of_the_wrong_length() -> None:
    with pytest.raises(InvalidIdentifier, match="13 characters, got 15"):
        nir_key("275033155500425")


def test_nir_key_refuses_a_body_with_a_letter_outside_the_department() -> None:
    with pytest.raises(InvalidIdentifier, match="character 2 is not a digit"):
        nir_key("2A50331555004")


# --- display and masking ----------------------------------------------------------------


def test_format_nir_groups_a_nir_with_spaces() -> None:
    assert format_nir(parse_nir("275033155500425")) == "2 75 03 31 555 004 25"


def test_format_nir_groups_an_overseas_nir_with_its_three_digit_department() -> None:
    assert format_nir(OVERSEAS) == "2 85 12 972 12 004 39"


def test_format_nir_validates_a_string_before_grouping_it() -> None:
    with pytest.raises(InvalidIdentifier, match="wrong key"):
        format_nir("275033155500426")


def test_mask_nir_keeps_only_the_sex_digit_and_the_key() -> None:
    assert mask_nir("275033155500425") == "2 ** ** ** *** *** 25"
    assert mask_nir(parse_nir("168073155512372")) == "1 ** ** ** *** *** 72"
    assert mask_nir("2 75 03 31 555 004 25") == "2 ** ** ** *** *** 25"


def test_mask_nir_does_not_reveal_an_overseas_birth() -> None:
    assert mask_nir(OVERSEAS) == "2 ** ** ** *** *** 39"


def test_mask_nir_shows_nothing_of_a_malformed_value() -> None:
    assert mask_nir("27503315550042") == "<malformed NIR>"
    assert mask_nir("") == "<malformed NIR>"


def test_the_repr_of_a_nir_is_masked() -> None:
    nir = parse_nir("275033155500425")
    assert "275033155500425" not in repr(nir)
    assert "275033155500425" not in str(nir)
    assert "2 ** ** ** *** *** 25" in repr(nir)


def test_a_nir_is_immutable() -> None:
    nir = parse_nir("275033155500425")
    with pytest.raises(AttributeError):
        nir.key = "26"  # type: ignore[misc]


# --- properties ----------------------------------------------------------------------

two_digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
metropolitan_place = st.tuples(
    st.sampled_from([f"{n:02d}" for n in range(1, 97)] + ["2A", "2B", "99"]),
    st.integers(0, 999).map(lambda n: f"{n:03d}"),
).map("".join)
overseas_place = st.tuples(
    st.sampled_from(["97", "98"]),
    st.integers(0, 9).map(str),
    two_digits,
).map("".join)
valid_bodies = st.tuples(
    st.sampled_from("123478"),
    two_digits,
    st.sampled_from(sorted(VALID_MONTHS)).map(lambda n: f"{n:02d}"),
    st.one_of(metropolitan_place, overseas_place),
    st.integers(1, 999).map(lambda n: f"{n:03d}"),
).map("".join)


@given(valid_bodies)
def test_any_valid_body_followed_by_its_key_parses(body: str) -> None:
    nir = parse_nir(body + nir_key(body))
    assert nir.body == body
    assert 1 <= int(nir.key) <= 97


@given(valid_bodies)
def test_formatting_then_parsing_gives_back_the_same_nir(body: str) -> None:
    nir = parse_nir(body + nir_key(body))
    assert parse_nir(format_nir(nir)) == nir


@given(valid_bodies, st.data())
def test_changing_any_single_digit_of_a_valid_nir_is_detected(
    body: str, data: st.DataObject
) -> None:
    value = body + nir_key(body)
    positions = [i for i, char in enumerate(value) if char.isdigit()]
    position = data.draw(st.sampled_from(positions))
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != value[position]))
    changed = value[:position] + digit + value[position + 1 :]
    refused(changed)


@given(valid_bodies)
def test_the_mask_of_any_valid_nir_hides_everything_but_sex_and_key(body: str) -> None:
    value = body + nir_key(body)
    masked = mask_nir(value)
    assert masked == f"{value[0]} ** ** ** *** *** {value[13:]}"


noisy_text = st.text(alphabet="0123456789ABab .-xé\u0663", min_size=12, max_size=20)
nir_lookalikes = st.text(alphabet="0123456789AB", min_size=15, max_size=15)


@given(st.one_of(noisy_text, nir_lookalikes))
def test_parse_nir_only_ever_raises_invalid_identifier_without_the_value(text: str) -> None:
    message = ""
    try:
        nir = parse_nir(text)
    except InvalidIdentifier as error:
        message = error.message
    else:
        assert isinstance(nir, Nir)
        assert len(nir.value) == 15
    normalised = normalise_nir(text)
    if message and len(normalised) >= 8:
        assert normalised not in message
