"""INS: the national health identity (identifiant national de santé).

An INS is a matricule (a NIR, or an NIA while a NIR is pending; CSP R.1111-8-1)
qualified by the OID of its assigning authority, plus civil-status traits (birth
name, birth first names, birth date, sex, birth place). See domain.md §4.2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Final, Literal

from carnet.errors import Invalid
from carnet.identity.errors import InvalidIdentifier
from carnet.identity.nir import Nir, mask_nir, normalise_nir, parse_nir

OID_INS_NIR: Final = "1.2.250.1.213.1.4.8"
"""INS-NIR, production."""
OID_INS_NIA: Final = "1.2.250.1.213.1.4.9"
"""INS-NIA (identification number pending a NIR), production."""
OID_INS_NIR_TEST: Final = "1.2.250.1.213.1.4.10"
"""INS-NIR, test."""
OID_INS_NIA_TEST: Final = "1.2.250.1.213.1.4.11"
"""INS-NIA, test (MAGICDMP calls it "INS-NIR demo"; see docs/identifiers.md)."""
INS_OIDS: Final = frozenset({OID_INS_NIR, OID_INS_NIA, OID_INS_NIR_TEST, OID_INS_NIA_TEST})
INS_TEST_OIDS: Final = frozenset({OID_INS_NIR_TEST, OID_INS_NIA_TEST})
LEGACY_INS_OIDS: Final = frozenset({"1.2.250.1.213.1.4.1", "1.2.250.1.213.1.4.2"})
"""INS-A / INS-C (calculated INS): obsolete, refused."""

OID_PS_IDNAT: Final = "1.2.250.1.71.4.2.1"
"""Professionals' national identifiers (PS_IdNat, IDNPS)."""
OID_STRUCT_IDNAT: Final = "1.2.250.1.71.4.2.2"
"""Structures' national identifiers (Struct_IdNat, IDNST)."""

URN_OID: Final = "urn:oid:"

_OID_NAMES: Final = {
    OID_INS_NIR: "INS-NIR",
    OID_INS_NIA: "INS-NIA",
    OID_INS_NIR_TEST: "INS-NIR test",
    OID_INS_NIA_TEST: "INS-NIA test",
}
_EXPECTED_OIDS: Final = ", ".join(f"{oid} ({name})" for oid, name in _OID_NAMES.items())


def _fail(message: str, part: str, field: str | None) -> InvalidIdentifier:
    return InvalidIdentifier(message, field=field, identifier="INS", part=part)


_OID_SHAPE: Final = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")


def _shown_oid(oid: str) -> str:
    """The OID if it is safe to echo; "given" if it is not OID-shaped or could be a NIR.

    A matricule pasted where the system goes must not end up in the message.
    """
    if _OID_SHAPE.fullmatch(oid) and len(normalise_nir(oid)) not in (13, 15):
        return oid
    return "given"


def _check_ins_oid(oid: str, field: str | None) -> None:
    if oid in INS_OIDS:
        return
    if oid in LEGACY_INS_OIDS:
        raise _fail(
            f"the system {oid} is a legacy calculated INS (INS-A/INS-C), which is obsolete; "
            f"expected one of {_EXPECTED_OIDS}",
            "system",
            field,
        )
    raise _fail(
        f"the system {_shown_oid(oid)} is not an INS OID; expected one of {_EXPECTED_OIDS}",
        "system",
        field,
    )


def ins_system(oid: str) -> str:
    """The FHIR ``Identifier.system`` of an INS OID: ``urn:oid:`` + oid."""
    _check_ins_oid(oid, None)
    return URN_OID + oid


@dataclass(frozen=True, slots=True, repr=False)
class InsIdentifier:
    """An INS matricule with the OID of its authority. ``matricule`` is normalised."""

    oid: str
    matricule: str

    @property
    def system(self) -> str:
        """``urn:oid:<oid>``, the FHIR identifier system."""
        return URN_OID + self.oid

    @property
    def token(self) -> str:
        """The FHIR search token ``urn:oid:<oid>|<matricule>``."""
        return f"{self.system}|{self.matricule}"

    @property
    def is_test(self) -> bool:
        """Issued under a test OID (.10 or .11): never a real person."""
        return self.oid in INS_TEST_OIDS

    def nir(self) -> Nir:
        """The matricule, parsed."""
        return parse_nir(self.matricule)

    def __repr__(self) -> str:
        return f"InsIdentifier(oid={self.oid!r}, matricule={mask_nir(self.matricule)!r})"


def parse_ins_identifier(token: str, *, field: str | None = None) -> InsIdentifier:
    """Parse a FHIR token ``urn:oid:1.2.250.1.213.1.4.8|275033155500425``.

    The system may also be given as a bare OID (``1.2.250.1.213.1.4.8|…``). The OID
    must be an INS OID and the matricule a valid NIR/NIA (see :func:`parse_nir`).
    Temporary numbers (sex digit 7 or 8) are refused: an INS matricule is a NIR or
    an NIA.
    """
    text = token.strip()
    if not text:
        raise _fail("the INS identifier is empty", "length", field)
    if "|" not in text:
        raise _fail(
            "an INS identifier has the form system|matricule "
            f"(e.g. {URN_OID}{OID_INS_NIR}|<matricule>): the '|' separator is missing",
            "separator",
            field,
        )
    system, _, raw_matricule = text.partition("|")
    if "|" in raw_matricule:
        raise _fail(
            "an INS identifier has the form system|matricule: found more than one '|'",
            "separator",
            field,
        )
    system = system.strip()
    oid = system[len(URN_OID) :] if system.lower().startswith(URN_OID) else system
    if not oid:
        raise _fail(
            f"the system (the OID before '|') is missing; expected one of {_EXPECTED_OIDS}",
            "system",
            field,
        )
    _check_ins_oid(oid, field)
    if not raw_matricule.strip():
        raise _fail("the matricule (after '|') is missing", "matricule", field)
    try:
        nir = parse_nir(raw_matricule, field=field)
    except InvalidIdentifier as error:
        raise error.within("INS matricule") from None
    if nir.kind == "temporary":
        raise _fail(
            "INS matricule: a temporary number (sex digit 7 or 8) cannot be an INS; "
            "an INS matricule is a NIR or an NIA",
            "sex",
            field,
        )
    return InsIdentifier(oid=oid, matricule=nir.value)


Sex = Literal["M", "F", "U"]
SEXES: Final = frozenset({"M", "F", "U"})


@dataclass(frozen=True, slots=True, repr=False)
class InsTraits:
    """The civil-status traits that go with an INS matricule (RNIV).

    ``sex`` is M or F; U only when unknown. ``birth_place_code`` is an INSEE COG
    code (5 characters), or None when unknown. ``repr()`` hides every trait: they
    are personal data and must not end up in logs.
    """

    birth_name: str
    birth_given_names: tuple[str, ...]
    birth_date: date
    sex: Sex
    birth_place_code: str | None
    used_name: str | None = None
    used_given_name: str | None = None

    @property
    def first_birth_given_name(self) -> str:
        """The first of the birth first names (RNIV "premier prénom de naissance")."""
        return self.birth_given_names[0] if self.birth_given_names else ""

    def __repr__(self) -> str:
        return "InsTraits(<redacted>)"


def _check_name(value: object, field: str, label: str) -> str:
    if not isinstance(value, str):
        raise Invalid(f"the {label} must be text", field=field)
    stripped = value.strip()
    if not stripped:
        raise Invalid(f"the {label} is empty", field=field)
    return stripped


def parse_birth_place_code(value: str, *, field: str | None = "birth_place_code") -> str:
    """Validate an INSEE COG code: 5 characters, digits or 2A/2B + 3 digits.

    99xxx means born abroad (xxx = country). Lower-case 2a/2b is accepted and
    upper-cased. A code starting with 00 is refused (no such department).
    """

    def fail(message: str, part: str) -> InvalidIdentifier:
        return InvalidIdentifier(message, field=field, identifier="COG", part=part)

    code = value.strip().upper()
    if len(code) != 5:
        raise fail(f"a birth place code (INSEE COG) has 5 characters, got {len(code)}", "length")
    head, tail = code[:2], code[2:]
    if not (tail.isascii() and tail.isdigit()):
        raise fail("characters 3-5 of a birth place code (INSEE COG) must be digits", "commune")
    if head in ("2A", "2B"):
        return code
    if not (head.isascii() and head.isdigit()):
        raise fail(
            "the department of a birth place code (characters 1-2) must be digits, 2A or 2B",
            "department",
        )
    if head == "00":
        raise fail("unknown department 00 in the birth place code (characters 1-2)", "department")
    return code


def validate_traits(traits: InsTraits, *, today: date) -> InsTraits:
    """Check the INS traits and return them normalised (names stripped, 2a -> 2A).

    Names and given names must be non-empty, the sex M, F or U, the birth date a
    date not after ``today`` (the caller passes its clock's date), the birth place
    a COG code or None. Raises :class:`~carnet.errors.Invalid` (or
    :class:`InvalidIdentifier` for the birth place code) with ``field`` set.
    """
    birth_name = _check_name(traits.birth_name, "birth_name", "birth name")
    given = traits.birth_given_names
    if isinstance(given, str) or not isinstance(given, tuple):
        raise Invalid(
            "the birth given names must be a list of names, not a single string",
            field="birth_given_names",
        )
    if not given:
        raise Invalid("at least one birth given name is required", field="birth_given_names")
    names = tuple(
        _check_name(name, "birth_given_names", f"birth given name number {index}")
        for index, name in enumerate(given, start=1)
    )
    if traits.sex not in SEXES:
        raise Invalid("the sex must be M, F or U (U only when unknown)", field="sex")
    birth_date = traits.birth_date
    if isinstance(birth_date, datetime) or not isinstance(birth_date, date):
        raise Invalid("the birth date must be a date, without a time", field="birth_date")
    if birth_date > today:
        raise Invalid("the birth date is in the future", field="birth_date")
    place = (
        None if traits.birth_place_code is None else parse_birth_place_code(traits.birth_place_code)
    )
    used_name = (
        None
        if traits.used_name is None
        else _check_name(traits.used_name, "used_name", "used name")
    )
    used_given_name = (
        None
        if traits.used_given_name is None
        else _check_name(traits.used_given_name, "used_given_name", "used given name")
    )
    return replace(
        traits,
        birth_name=birth_name,
        birth_given_names=names,
        birth_place_code=place,
        used_name=used_name,
        used_given_name=used_given_name,
    )


_SEX_BY_DIGIT: Final = {1: "M", 2: "F"}
_SEX_WORD: Final = {"M": "male", "F": "female"}


def consistent_with_nir(traits: InsTraits, nir: Nir) -> list[str]:
    """Human-readable mismatches between the traits and the NIR; empty when consistent.

    - sex: only for a NIR proper (kind "nir", sex digit 1/2); an unknown sex (U) is
      not reported as a mismatch;
    - birth year: the NIR's 2 digits against the birth date's year;
    - birth month: only when the NIR month is a real month (01-12).

    The messages show the parts compared, never the whole NIR.
    """
    mismatches: list[str] = []
    if nir.kind == "nir" and traits.sex in _SEX_WORD:
        nir_sex = _SEX_BY_DIGIT.get(nir.sex)
        if nir_sex is not None and nir_sex != traits.sex:
            mismatches.append(
                f"sex: the traits say {traits.sex} ({_SEX_WORD[traits.sex]}) but the NIR "
                f"sex digit {nir.sex} means {_SEX_WORD[nir_sex]}"
            )
    year = f"{traits.birth_date.year % 100:02d}"
    if nir.birth_year != year:
        mismatches.append(
            f"birth year: the NIR says {nir.birth_year} but the birth date is in "
            f"{traits.birth_date.year}"
        )
    if 1 <= int(nir.birth_month) <= 12:
        month = f"{traits.birth_date.month:02d}"
        if nir.birth_month != month:
            mismatches.append(
                f"birth month: the NIR says {nir.birth_month} but the birth date is in "
                f"month {month}"
            )
    return mismatches
