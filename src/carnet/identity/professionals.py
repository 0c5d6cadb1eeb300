"""Identifiers of health professionals and structures.

RPPS, ADELI, FINESS, SIREN, SIRET and the two composite national identifiers used
by the DMP: PS_IdNat (a professional) and Struct_IdNat (a structure), domain.md §4.3.
Professional and structure identifiers are public (annuaire santé), so unlike the
NIR they are not masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from carnet.identity.errors import InvalidIdentifier

RPPS_LENGTH: Final = 11
ADELI_LENGTH: Final = 9
FINESS_LENGTH: Final = 9
SIREN_LENGTH: Final = 9
SIRET_LENGTH: Final = 14

LA_POSTE_SIREN: Final = "356000000"
"""La Poste: its establishments' SIRETs follow a digit-sum rule, not Luhn."""

_SPACES: Final = re.compile(r"\s+")
_CORSICA: Final = frozenset({"2A", "2B"})


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _first_non_digit(text: str, start: int = 0) -> int:
    """1-based position of the first non-digit at or after ``start``; 0 if none."""
    for index in range(start, len(text)):
        if not _is_digits(text[index]):
            return index + 1
    return 0


def _clean(value: str) -> str:
    """Remove spaces (display grouping) and upper-case."""
    return _SPACES.sub("", value).upper()


# --- Luhn -------------------------------------------------------------------------


def _luhn_sum(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` (the check digit last) passes the Luhn check.

    False for an empty string or anything that is not ASCII digits.
    """
    return _is_digits(digits) and _luhn_sum(digits) % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload`` (ASCII digits, non-empty)."""
    if not _is_digits(payload):
        raise InvalidIdentifier(
            "a Luhn payload must be one or more digits", identifier="Luhn", part="characters"
        )
    return str((10 - _luhn_sum(payload + "0") % 10) % 10)


# --- shared checks ------------------------------------------------------------------


def _require_length(text: str, length: int, name: str, unit: str, field: str | None) -> None:
    if not text:
        raise InvalidIdentifier(f"the {name} is empty", field=field, identifier=name, part="length")
    if len(text) != length:
        raise InvalidIdentifier(
            f"{_article(name)} {name} has {length} {unit}, got {len(text)}",
            field=field,
            identifier=name,
            part="length",
        )


def _require_digits(text: str, name: str, field: str | None, start: int = 0) -> None:
    position = _first_non_digit(text, start)
    if position:
        raise InvalidIdentifier(
            f"{_article(name)} {name} contains only digits: character {position} is not a digit",
            field=field,
            identifier=name,
            part="characters",
        )


def _require_luhn(text: str, name: str, field: str | None) -> None:
    if not luhn_valid(text):
        expected = luhn_check_digit(text[:-1])
        raise InvalidIdentifier(
            f"wrong {name} check digit (the last digit): got {text[-1]}, expected {expected}",
            field=field,
            identifier=name,
            part="key",
        )


def _article(name: str) -> str:
    """'an' before RPPS and ADELI (read with a vowel sound), 'a' before the others."""
    return "an" if name.startswith(("RPPS", "ADELI")) else "a"


def _require_department(text: str, name: str, field: str | None) -> None:
    """Characters 1-2 are a department: two digits, or 2A/2B (Corsica)."""
    head = text[:2]
    if head not in _CORSICA and not _is_digits(head):
        raise InvalidIdentifier(
            f"the department of {_article(name)} {name} (characters 1-2) must be "
            "two digits, 2A or 2B",
            field=field,
            identifier=name,
            part="department",
        )


# --- RPPS, ADELI, FINESS, SIREN, SIRET ----------------------------------------------


def parse_rpps(value: str, *, field: str | None = None) -> str:
    """An RPPS number: 11 digits, the last a Luhn check digit. Spaces are ignored."""
    rpps = _clean(value)
    _require_length(rpps, RPPS_LENGTH, "RPPS number", "digits", field)
    _require_digits(rpps, "RPPS number", field)
    _require_luhn(rpps, "RPPS number", field)
    return rpps


def parse_adeli(value: str, *, field: str | None = None) -> str:
    """An ADELI number: 9 characters, a department (2 digits, 2A or 2B) then 7 digits.

    The last digit is a check digit, but its algorithm is not confirmed by any
    source we have (Luhn over the 9 characters is a guess), so only the length and
    the characters are checked. Lower-case 2a/2b is upper-cased.
    """
    adeli = _clean(value)
    _require_length(adeli, ADELI_LENGTH, "ADELI number", "characters", field)
    _require_department(adeli, "ADELI number", field)
    position = _first_non_digit(adeli, 2)
    if position:
        raise InvalidIdentifier(
            "characters 3-9 of an ADELI number must be digits: "
            f"character {position} is not a digit",
            field=field,
            identifier="ADELI number",
            part="characters",
        )
    return adeli


def parse_finess(value: str, *, field: str | None = None) -> str:
    """A FINESS number: 9 characters, a department (2 digits, 2A or 2B) then 7 digits.

    The 9th character is a Luhn check digit over the 9 digits. For Corsica (2A/2B)
    no source tells how the letters count in the check, so a Corsican FINESS is
    checked for length and characters only. Spaces (``NN NNN NNN N``) are ignored.
    """
    finess = _clean(value)
    _require_length(finess, FINESS_LENGTH, "FINESS number", "characters", field)
    _require_department(finess, "FINESS number", field)
    position = _first_non_digit(finess, 2)
    if position:
        raise InvalidIdentifier(
            "characters 3-9 of a FINESS number must be digits: "
            f"character {position} is not a digit",
            field=field,
            identifier="FINESS number",
            part="characters",
        )
    if _is_digits(finess):
        _require_luhn(finess, "FINESS number", field)
    return finess


def parse_siren(value: str, *, field: str | None = None) -> str:
    """A SIREN number: 9 digits, the last a Luhn check digit. Spaces are ignored."""
    siren = _clean(value)
    _require_length(siren, SIREN_LENGTH, "SIREN number", "digits", field)
    _require_digits(siren, "SIREN number", field)
    _require_luhn(siren, "SIREN number", field)
    return siren


def parse_siret(value: str, *, field: str | None = None) -> str:
    """A SIRET number: 14 digits (SIREN + 5-digit NIC), Luhn over the 14 digits.

    Exception: La Poste (SIREN 356000000) has too many establishments for Luhn;
    its SIRETs are valid when the sum of the 14 digits is a multiple of 5 (the head
    office, 35600000000048, also passes Luhn). Spaces are ignored.
    """
    siret = _clean(value)
    _require_length(siret, SIRET_LENGTH, "SIRET number", "digits", field)
    _require_digits(siret, "SIRET number", field)
    if siret.startswith(LA_POSTE_SIREN):
        if luhn_valid(siret) or sum(int(c) for c in siret) % 5 == 0:
            return siret
        raise InvalidIdentifier(
            "wrong SIRET number check: a La Poste SIRET (SIREN 356000000) must have a "
            "digit sum that is a multiple of 5",
            field=field,
            identifier="SIRET number",
            part="key",
        )
    _require_luhn(siret, "SIRET number", field)
    return siret


# --- PS_IdNat -----------------------------------------------------------------------

PsIdNatKind = Literal["adeli", "adeli_cabinet", "finess", "siren", "siret", "rpps_cabinet", "rpps"]
PS_IDNAT_PATTERN: Final = re.compile(r"^(0|1|3|4|5|6|8)\d*$", re.ASCII)
"""The PDSM4DMP invariant ``PSIdNat-invariant`` (``\\d`` = ASCII digits only)."""

_PS_KINDS: Final[dict[str, PsIdNatKind]] = {
    "0": "adeli",
    "1": "adeli_cabinet",
    "3": "finess",
    "4": "siren",
    "5": "siret",
    "6": "rpps_cabinet",
    "8": "rpps",
}
_PS_PREFIXES_TEXT: Final = (
    "0 (ADELI), 1 (ADELI cabinet), 3 (FINESS), 4 (SIREN), 5 (SIRET), 6 (RPPS cabinet) or 8 (RPPS)"
)


@dataclass(frozen=True, slots=True)
class PsIdNat:
    """A professional's national identifier: ``prefix`` + ``national_id``."""

    value: str
    prefix: str
    kind: PsIdNatKind
    national_id: str


def ps_idnat_from_rpps(rpps: str) -> str:
    """The PS_IdNat of an RPPS number: ``"8" + rpps`` (the RPPS is validated)."""
    return "8" + parse_rpps(rpps)


def ps_idnat_from_adeli(adeli: str) -> str:
    """The PS_IdNat of an ADELI number: ``"0" + adeli`` (the ADELI is validated).

    A PS_IdNat contains only digits (PDSM4DMP invariant), so a Corsican ADELI
    written with 2A/2B cannot be turned into one and is refused.
    """
    number = parse_adeli(adeli)
    if not _is_digits(number):
        raise InvalidIdentifier(
            "an ADELI number with a 2A/2B department cannot be used in a PS_IdNat, "
            "which contains only digits",
            identifier="PS_IdNat",
            part="department",
        )
    return "0" + number


def parse_ps_idnat(value: str, *, field: str | None = None) -> PsIdNat:
    """Parse a PS_IdNat: a prefix then digits, ``^(0|1|3|4|5|6|8)\\d*$``.

    With prefix 8 the rest must be a valid RPPS number, with prefix 0 a valid
    ADELI number. The other prefixes carry a cabinet, FINESS, SIREN or SIRET
    number or an internal id, and are only checked for digits.
    """

    def fail(message: str, part: str) -> InvalidIdentifier:
        return InvalidIdentifier(message, field=field, identifier="PS_IdNat", part=part)

    text = value.strip()
    if not text:
        raise fail("the PS_IdNat is empty", "length")
    prefix, national_id = text[0], text[1:]
    kind = _PS_KINDS.get(prefix)
    if kind is None:
        shown = f" {prefix}" if _is_digits(prefix) else ""
        raise fail(
            f"unknown PS_IdNat prefix{shown} (character 1): expected {_PS_PREFIXES_TEXT}",
            "prefix",
        )
    position = _first_non_digit(text)
    if position:
        raise fail(
            f"a PS_IdNat contains only digits: character {position} is not a digit",
            "characters",
        )
    if not national_id:
        raise fail(f"the PS_IdNat has the prefix {prefix} but no identifier after it", "length")
    if not PS_IDNAT_PATTERN.fullmatch(text):  # pragma: no cover - implied by the checks above
        raise fail(f"a PS_IdNat must match {PS_IDNAT_PATTERN.pattern}", "characters")
    try:
        if kind == "rpps":
            parse_rpps(national_id, field=field)
        elif kind == "adeli":
            parse_adeli(national_id, field=field)
    except InvalidIdentifier as error:
        raise error.within(f"PS_IdNat with prefix {prefix} ({kind.upper()})") from None
    return PsIdNat(value=text, prefix=prefix, kind=kind, national_id=national_id)


# --- Struct_IdNat -------------------------------------------------------------------

StructIdNatKind = Literal["adeli_cabinet", "finess", "siren", "siret", "rpps_rang"]

_STRUCT_KINDS: Final[dict[str, StructIdNatKind]] = {
    "0": "adeli_cabinet",
    "1": "finess",
    "2": "siren",
    "3": "siret",
    "4": "rpps_rang",
}
_STRUCT_PREFIXES_TEXT: Final = (
    "0 (ADELI cabinet), 1 (FINESS), 2 (SIREN), 3 (SIRET) or 4 (RPPS-rang)"
)


@dataclass(frozen=True, slots=True)
class StructIdNat:
    """A structure's national identifier: ``prefix`` + ``national_id``."""

    value: str
    prefix: str
    kind: StructIdNatKind
    national_id: str


def parse_struct_idnat(value: str, *, field: str | None = None) -> StructIdNat:
    """Parse a Struct_IdNat: prefix 0 ADELI cabinet, 1 FINESS, 2 SIREN, 3 SIRET, 4 RPPS-rang.

    FINESS, SIREN and SIRET are fully validated. The ADELI cabinet id is checked as
    digits (2A/2B allowed as a department in characters 1-2) and the RPPS-rang as
    digits: their layout is not confirmed. Technical numbers without a prefix are
    not supported.
    """

    def fail(message: str, part: str) -> InvalidIdentifier:
        return InvalidIdentifier(message, field=field, identifier="Struct_IdNat", part=part)

    text = value.strip().upper()
    if not text:
        raise fail("the Struct_IdNat is empty", "length")
    prefix, national_id = text[0], text[1:]
    kind = _STRUCT_KINDS.get(prefix)
    if kind is None:
        shown = f" {prefix}" if _is_digits(prefix) else ""
        raise fail(
            f"unknown Struct_IdNat prefix{shown} (character 1): expected "
            f"{_STRUCT_PREFIXES_TEXT}; technical numbers without a prefix are not supported",
            "prefix",
        )
    if not national_id:
        raise fail(f"the Struct_IdNat has the prefix {prefix} but no identifier after it", "length")
    try:
        if kind == "finess":
            parse_finess(national_id, field=field)
        elif kind == "siren":
            parse_siren(national_id, field=field)
        elif kind == "siret":
            parse_siret(national_id, field=field)
        elif kind == "adeli_cabinet":
            start = 2 if national_id[:2] in _CORSICA else 0
            _require_digits(national_id, "ADELI cabinet id", field, start)
        else:
            _require_digits(national_id, "RPPS-rang", field)
    except InvalidIdentifier as error:
        raise error.within(f"Struct_IdNat with prefix {prefix} ({_kind_label(kind)})") from None
    return StructIdNat(value=text, prefix=prefix, kind=kind, national_id=national_id)


def _kind_label(kind: str) -> str:
    return {
        "adeli_cabinet": "ADELI cabinet",
        "finess": "FINESS",
        "siren": "SIREN",
        "siret": "SIRET",
        "rpps_rang": "RPPS-rang",
    }.get(kind, kind)
