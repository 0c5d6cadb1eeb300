"""The habilitation matrix: the shipped defaults, rule precedence, the SQL-facing denied set,
and the CSV format (errors by line and column, dump/parse round trip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnet.terminology import terminology
from carnet.terminology.documents import (
    ADVANCE_DIRECTIVES,
    CHILDBIRTH_REPORT,
    LOINC,
    TRE_A05,
    document_types,
)
from carnet.terminology.habilitations import (
    DEFAULT_MATRIX_PATH,
    Matrix,
    MatrixError,
    Rule,
    dump_matrix,
    load_matrix,
    parse_matrix,
)

HEADER = "profession_code,type_system,type_code,allowed,comment\n"
MATRIX = load_matrix()
KNOWN = [(t.system, t.code) for t in document_types()]
PHYSICIAN, PHARMACIST, DENTIST, MIDWIFE, NURSE, PODIATRIST, OPTICIAN = (
    "10",
    "21",
    "40",
    "50",
    "60",
    "80",
    "28",
)


def problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(MatrixError) as caught:
        parse_matrix(text)
    return caught.value.problems


@pytest.mark.parametrize(
    "system", [LOINC, "urn:oid:2.16.840.1.113883.6.1", "2.16.840.1.113883.6.1"]
)
def test_a_podiatrist_does_not_see_the_childbirth_report(system: str) -> None:
    assert not MATRIX.allows(PODIATRIST, system, "15508-5")
    assert CHILDBIRTH_REPORT in MATRIX.denied_types(PODIATRIST)


def test_a_dentist_does_not_see_advance_directives() -> None:
    assert not MATRIX.allows(DENTIST, "urn:oid:1.2.250.1.213.1.1.4.12", "EXPPAT_3")
    assert ADVANCE_DIRECTIVES in MATRIX.denied_types(DENTIST)


def test_a_dentist_still_sees_the_childbirth_report_and_a_podiatrist_a_consultation() -> None:
    assert MATRIX.allows(DENTIST, LOINC, "15508-5")
    assert MATRIX.allows(PODIATRIST, LOINC, "11488-4")


def test_a_physician_sees_advance_directives_and_every_other_type() -> None:
    assert MATRIX.allows(PHYSICIAN, TRE_A05, "EXPPAT_3")
    assert all(MATRIX.allows(PHYSICIAN, system, code) for system, code in KNOWN)
    assert MATRIX.denied_types(PHYSICIAN) == frozenset()


@pytest.mark.parametrize("profession", [PHYSICIAN, MIDWIFE, NURSE, "70", "91", None])
def test_a_profession_without_rows_sees_everything(profession: str | None) -> None:
    assert profession not in MATRIX.professions()
    assert MATRIX.denied_types(profession) == frozenset()
    assert all(MATRIX.allows(profession, system, code) for system, code in KNOWN)


def test_an_optician_sees_only_the_allow_listed_types() -> None:
    assert MATRIX.allows(OPTICIAN, LOINC, "57833-6")  # the prescription
    assert MATRIX.allows(OPTICIAN, LOINC, "78513-9")  # the ophthalmology report
    assert not MATRIX.allows(OPTICIAN, LOINC, "11488-4")
    assert not MATRIX.allows(OPTICIAN, TRE_A05, "EXPPAT_3")
    assert len(MATRIX.denied_types(OPTICIAN)) == len(KNOWN) - 6


def test_a_pharmacist_sees_prescriptions_but_not_advance_directives() -> None:
    assert MATRIX.allows(PHARMACIST, LOINC, "57833-6")
    assert not MATRIX.allows(PHARMACIST, TRE_A05, "EXPPAT_3")


def test_denied_types_and_allows_agree_on_every_profession_and_type() -> None:
    for profession in terminology().professions:
        denied = MATRIX.denied_types(profession)
        for system, code in KNOWN:
            assert MATRIX.allows(profession, system, code) == ((system, code) not in denied)


def test_every_shipped_rule_has_a_comment_and_only_known_professions() -> None:
    assert all(rule.comment for rule in MATRIX.rules)
    assert MATRIX.professions() <= set(terminology().professions)


def test_the_most_specific_row_wins() -> None:
    matrix = parse_matrix(
        HEADER
        + "60,*,*,no,deny everything\n"
        + "60,http://loinc.org,*,yes,but LOINC types\n"
        + "60,http://loinc.org,11488-4,no,except consultations\n"
    )
    assert not matrix.allows(NURSE, TRE_A05, "SYNTH")
    assert matrix.allows(NURSE, LOINC, "60591-5")
    assert not matrix.allows(NURSE, LOINC, "11488-4")
    assert matrix.denied_types(NURSE) == frozenset(
        {(LOINC, "11488-4")} | {k for k in KNOWN if k[0] != LOINC}
    )


def test_an_unknown_type_follows_the_wildcard_rows_only() -> None:
    matrix = parse_matrix(HEADER + "28,*,*,no,\n80,http://loinc.org,15508-5,no,\n")
    assert not matrix.allows(OPTICIAN, LOINC, "00000-0")
    assert not matrix.allows(OPTICIAN, "http://example.org/types", "x")
    assert matrix.allows(PODIATRIST, LOINC, "00000-0")


def test_blank_lines_comment_lines_and_a_missing_comment_column_are_accepted() -> None:
    matrix = parse_matrix(
        "\ufeff# operator's matrix\n\n"
        + HEADER
        + "\n# podiatrists\n80,http://loinc.org,15508-5,no\n"
    )
    assert matrix.rules == (Rule(PODIATRIST, LOINC, "15508-5", False, ""),)


@pytest.mark.parametrize("word", ["yes", "YES", "true", "1"])
def test_allowed_accepts_yes_true_and_1(word: str) -> None:
    matrix = parse_matrix(HEADER + f"80,http://loinc.org,15508-5,{word},\n")
    assert matrix.rules[0].allowed


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("99,http://loinc.org,15508-5,no,", "profession_code", "unknown profession code '99'"),
        ("G15_80,http://loinc.org,15508-5,no,", "profession_code", "'G15_80'"),
        ("80,http://loinc.org,99999-9,no,", "type_code", "unknown document type '99999-9'"),
        ("80,http://loinc.org,EXPPAT_3,no,", "type_code", "'EXPPAT_3'"),
        ("80,http://snomed.info/sct,15508-5,no,", "type_system", "unknown document type system"),
        ("80,urn:oid:1.2.250.1.213.1.1.4.13,MASQUE_PS,no,", "type_system", "unknown"),
        ("80,*,15508-5,no,", "type_system", "needs type_code '*'"),
        ("80,http://loinc.org,,no,", "type_code", "empty type code"),
        ("80,http://loinc.org,15508-5,maybe,", "allowed", "'maybe' is not yes or no"),
        ("80,http://loinc.org,15508-5,,", "allowed", "is not yes or no"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_column(
    row: str, column: str, fragment: str
) -> None:
    (problem,) = problems_of(HEADER + "40,1.2.250.1.213.1.1.4.12,EXPPAT_3,no,\n" + row + "\n")
    assert problem.startswith(f"line 3, column {column}: ")
    assert fragment in problem


def test_a_row_with_the_wrong_number_of_columns_is_reported_with_its_line() -> None:
    (problem,) = problems_of(HEADER + "80,http://loinc.org\n")
    assert problem == "line 2: expected 5 columns, found 2"


def test_a_duplicate_row_names_both_lines() -> None:
    (problem,) = problems_of(
        HEADER + "80,http://loinc.org,15508-5,no,\n80,2.16.840.1.113883.6.1,15508-5,yes,\n"
    )
    assert problem.startswith("line 3, column type_code: duplicate of line 2")


@pytest.mark.parametrize(
    "text", ["", "80,http://loinc.org,15508-5,no,\n", "profession,system,code,allowed,comment\n"]
)
def test_a_missing_or_wrong_header_is_reported_on_its_line(text: str) -> None:
    (problem,) = problems_of(text)
    assert problem.startswith("line 1: the header must be profession_code,type_system,")


def test_every_bad_line_is_reported_at_once() -> None:
    problems = problems_of(
        HEADER
        + "99,http://loinc.org,15508-5,no,\n"
        + "80,http://loinc.org,15508-5,no,fine\n"
        + "80,http://loinc.org,nope,perhaps,\n"
    )
    assert [p.split(":")[0] for p in problems] == [
        "line 2, column profession_code",
        "line 4, column type_code",
        "line 4, column allowed",
    ]


def test_line_numbers_count_physical_lines_after_a_multiline_comment() -> None:
    (problem,) = problems_of(
        HEADER + '80,http://loinc.org,15508-5,no,"two\nlines"\n' + "80,http://loinc.org,x,no,\n"
    )
    assert problem.startswith("line 4, column type_code")


def test_a_matrix_error_is_a_value_error_naming_the_source() -> None:
    with pytest.raises(ValueError, match=r"^habilitation matrix: line 2, column allowed"):
        parse_matrix(HEADER + "80,http://loinc.org,15508-5,perhaps,\n")


def test_load_matrix_reads_an_operator_file_and_names_it_in_errors(tmp_path: Path) -> None:
    good = tmp_path / "matrix.csv"
    good.write_text(HEADER + "60,http://loinc.org,15508-5,no,local policy\n", encoding="utf-8")
    bad = tmp_path / "broken.csv"
    bad.write_text(HEADER + "60,http://loinc.org,15508-5,nein,\n", encoding="utf-8")
    assert not load_matrix(good).allows(NURSE, LOINC, "15508-5")
    with pytest.raises(MatrixError, match=r"^broken\.csv: line 2, column allowed"):
        load_matrix(bad)


def test_the_shipped_matrix_round_trips_through_dump_and_parse() -> None:
    assert parse_matrix(dump_matrix(MATRIX)) == MATRIX


def test_the_shipped_file_is_already_in_dumped_form() -> None:
    assert dump_matrix(MATRIX) == DEFAULT_MATRIX_PATH.read_text(encoding="utf-8")


def test_dump_writes_canonical_systems_and_quotes_awkward_comments() -> None:
    matrix = parse_matrix(
        HEADER
        + '80,urn:oid:2.16.840.1.113883.6.1,15508-5,false,"says ""no"", firmly"\n'
        + "40,1.2.250.1.213.1.1.4.12,EXPPAT_3,0,\n"
    )
    text = dump_matrix(matrix)
    assert text.splitlines()[1:] == [
        '80,http://loinc.org,15508-5,no,"says ""no"", firmly"',
        f"40,{TRE_A05},EXPPAT_3,no,",
    ]
    assert parse_matrix(text) == matrix


def test_an_empty_matrix_allows_everything_and_round_trips() -> None:
    empty = Matrix()
    assert dump_matrix(empty) == HEADER
    assert parse_matrix(HEADER) == empty
    assert empty.allows(PODIATRIST, LOINC, "15508-5")
