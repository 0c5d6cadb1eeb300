"""NIR: the French social security number (numéro d'inscription au répertoire).

Layout of the 15 characters (positions are 1-based, as shown in error messages)::

    1      sex digit       1/2 NIR, 3/4 provisional number, 7/8 temporary number
    2-3    birth year      two digits
    4-5    birth month     01-12, or 20-42 / 50 for incomplete civil records
    6-7    department      01-95, 2A, 2B, 96, 99 (born abroad)
      6-8    or overseas   97x / 98x, then the commune has only 2 digits
    8-10   commune         INSEE commune code (the country code when born abroad)
    11-13  order number    001-999
    14-15  key             97 - (body mod 97), 2A -> 19 and 2B -> 18 first

The rules come from public third-party validators (domain.md §4.1, tagged [S]); none
of them is an official INSEE specification. See docs/identifiers.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from carnet.identity.errors import InvalidIdentifier

NirKind = Literal["nir", "temporary", "provisional"]

NIR_LENGTH: Final = 15
BODY_LENGTH: Final = 13

_SEPARATORS: Final = re.compile(r"[\s.]+")
_KIND_BY_SEX_DIGIT: Final[dict[str, NirKind]] = {
    "1": "nir",
    "2": "nir",
    "3": "provisional",
    "4": "provisional",
    "7": "temporary",
    "8": "temporary",
}
_CORSICA: Final = {"2A": "19", "2B": "18"}
_OVERSEAS_PREFIXES: Final = frozenset({"97", "98"})
VALID_MONTHS: Final = frozenset({*range(1, 13), *range(20, 43), 50})
"""Birth months a NIR may carry: 01-12, 20-42 and 50 (incomplete civil records)."""


@dataclass(frozen=True, slots=True, repr=False)
class Nir:
    """A parsed, valid NIR. ``value`` is normalised: 15 characters, upper case.

    ``repr()`` and ``str()`` are masked (see :func:`mask_nir`) so that a NIR that
    ends up in a log line or a traceback does not leak.
    """

    value: str
    sex: int
    birth_year: str
    birth_month: str
    department: str
    commune: str
    order: str
    key: str
    kind: NirKind

    @property
    def body(self) -> str:
        """The 13 characters before the key."""
        return self.value[:BODY_LENGTH]

    @property
    def born_abroad(self) -> bool:
        """Department 99: the commune part is the INSEE country code."""
        return self.department == "99"

    @property
    def overseas(self) -> bool:
        """Department 97x/98x (3 digits, the commune then has 2)."""
        return len(self.department) == 3

    def __repr__(self) -> str:
        return f"Nir({mask_nir(self)!r}, kind={self.kind!r})"


def _is_digits(text: str) -> bool:
    """Only ASCII digits, and at least one ("²" or "٣" are not digits here)."""
    return text.isascii() and text.isdigit()


def _got(part: str) -> str:
    """The suffix ``, got <part>`` when the part is safe to show (ASCII alphanumerics)."""
    if part.isascii() and part.isalnum():
        return f", got {part}"
    return ""


def _first_bad_character(body: str) -> int:
    """1-based position of the first character that is neither a digit nor 2A/2B."""
    for index, char in enumerate(body):
        if index in (5, 6) and body[5:7] in _CORSICA:
            continue
        if not _is_digits(char):
            return index + 1
    return 0


def nir_key(body13: str) -> str:
    """The 2-digit key of a 13-character NIR body: ``97 - (body mod 97)``.

    A Corsican department (characters 6-7) counts as 2A -> 19 and 2B -> 18.
    Upper or lower case ``2a``/``2b`` are both accepted. Only the characters are
    checked here, not the structure (month, department…): use :func:`parse_nir`.
    """
    body = body13.upper()
    if len(body) != BODY_LENGTH:
        raise InvalidIdentifier(
            f"a NIR body has {BODY_LENGTH} characters, got {len(body)}",
            identifier="NIR",
            part="length",
        )
    position = _first_bad_character(body)
    if position:
        raise InvalidIdentifier(
            "a NIR body contains only digits, except 2A or 2B as the department "
            f"(characters 6-7): character {position} is not a digit",
            identifier="NIR",
            part="characters",
        )
    department = body[5:7]
    if department in _CORSICA:
        body = body[:5] + _CORSICA[department] + body[7:]
    return f"{97 - int(body) % 97:02d}"


def normalise_nir(value: str) -> str:
    """Remove spaces and dots, upper-case (2a -> 2A). No validation."""
    return _SEPARATORS.sub("", value).upper()


def parse_nir(value: str, *, field: str | None = None) -> Nir:
    """Parse and validate a NIR (or a temporary/provisional number).

    Spaces and dots between groups are accepted, and ``2a``/``2b`` in lower case.
    Raises :class:`InvalidIdentifier` naming the part at fault; ``field`` is passed
    on to the error for surfaces that locate it (e.g. a form field name).
    """

    def fail(message: str, part: str) -> InvalidIdentifier:
        return InvalidIdentifier(message, field=field, identifier="NIR", part=part)

    nir = normalise_nir(value)
    if not nir:
        raise fail("the NIR is empty", "length")
    if len(nir) != NIR_LENGTH:
        hint = "; the 2-digit key seems to be missing" if len(nir) == BODY_LENGTH else ""
        raise fail(
            f"a NIR has {NIR_LENGTH} characters (a 13-character body and a 2-digit key), "
            f"got {len(nir)}{hint}",
            "length",
        )

    sex = nir[0]
    kind = _KIND_BY_SEX_DIGIT.get(sex)
    if kind is None:
        raise fail(
            "impossible sex digit (character 1): expected 1 or 2 (NIR), "
            f"3 or 4 (provisional number) or 7 or 8 (temporary number){_got(sex)}",
            "sex",
        )

    birth_year = nir[1:3]
    if not _is_digits(birth_year):
        raise fail("the birth year (characters 2-3) must be 2 digits", "birth_year")

    birth_month = nir[3:5]
    if not _is_digits(birth_month):
        raise fail("the birth month (characters 4-5) must be 2 digits", "birth_month")
    if int(birth_month) not in VALID_MONTHS:
        raise fail(
            f"impossible month {birth_month} (characters 4-5): expected 01-12, "
            "or 20-42 or 50 for incomplete civil records",
            "birth_month",
        )

    head = nir[5:7]
    if head in _OVERSEAS_PREFIXES:
        department = nir[5:8]
        if not _is_digits(department):
            raise fail(
                "the overseas department (characters 6-8) must be 3 digits (97x or 98x)",
                "department",
            )
        commune, commune_positions = nir[8:10], "9-10"
    elif head in _CORSICA or (_is_digits(head) and (1 <= int(head) <= 96 or head == "99")):
        department = head
        commune, commune_positions = nir[7:10], "8-10"
    else:
        raise fail(
            "unknown department (characters 6-7): expected 01-95, 2A, 2B, 96, "
            f"97x or 98x (overseas) or 99 (born abroad){_got(head)}",
            "department",
        )
    if not _is_digits(commune):
        what = "the country code" if department == "99" else "the commune"
        raise fail(f"{what} (characters {commune_positions}) must be digits", "commune")

    order = nir[10:13]
    if not _is_digits(order):
        raise fail("the order number (characters 11-13) must be 3 digits", "order")
    if order == "000":
        raise fail("impossible order number 000 (characters 11-13): expected 001-999", "order")

    key = nir[13:15]
    if not _is_digits(key):
        raise fail("the key (characters 14-15) must be 2 digits", "key")
    if not 1 <= int(key) <= 97:
        raise fail(f"impossible key {key} (characters 14-15): a NIR key is 01-97", "key")
    expected = nir_key(nir[:BODY_LENGTH])
    if key != expected:
        raise fail(f"wrong key (characters 14-15): got {key}, expected {expected}", "key")

    return Nir(
        value=nir,
        sex=int(sex),
        birth_year=birth_year,
        birth_month=birth_month,
        department=department,
        commune=commune,
        order=order,
        key=key,
        kind=kind,
    )


def format_nir(nir: Nir | str) -> str:
    """Grouped for display: ``2 75 03 31 555 004 25`` (overseas: ``2 75 03 972 12 004 25``).

    A string is parsed first (and so validated).
    """
    parsed = nir if isinstance(nir, Nir) else parse_nir(nir)
    return " ".join(
        (
            str(parsed.sex),
            parsed.birth_year,
            parsed.birth_month,
            parsed.department,
            parsed.commune,
            parsed.order,
            parsed.key,
        )
    )


MALFORMED_NIR_MASK: Final = "<malformed NIR>"


def mask_nir(value: Nir | str) -> str:
    """Safe for logs and UI: only the sex digit and the key, ``2 ** ** ** *** *** 25``.

    The grouping is always the metropolitan one, so the mask does not even tell an
    overseas birth. Never raises: a value that is not 15 characters long once
    spaces and dots are removed gives ``<malformed NIR>`` and shows nothing.
    """
    text = value.value if isinstance(value, Nir) else normalise_nir(value)
    if len(text) != NIR_LENGTH:
        return MALFORMED_NIR_MASK
    return f"{text[0]} ** ** ** *** *** {text[13:]}"
