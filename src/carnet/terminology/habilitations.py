"""The habilitation matrix (domain.md §1.2): which document types each profession may see,
even once the patient has authorised the professional.

The official matrix is not published ([NC]); Carnet ships a default as data
(``data/habilitations.csv``) that the operator may replace (``CARNET_HABILITATION_MATRIX``).
One row per rule::

    profession_code,type_system,type_code,allowed,comment
    80,http://loinc.org,15508-5,no,CR d'accouchement

- ``profession_code``: a TRE_G15 profession code (``10`` médecin, ``21`` pharmacien…).
- ``type_system``: the typeCode's code system, as a FHIR URL, ``urn:oid:`` or bare OID.
- ``type_code``: a JDV_J07 / TRE_A05 code, or ``*`` for every type of ``type_system``;
  ``*,*`` means every type.
- ``allowed``: ``yes`` or ``no`` (also ``true``/``false``, ``1``/``0``).

Anything not listed is allowed. For one profession the most specific row wins: an exact type
over ``<system>,*`` over ``*,*``, so ``*,*,no`` followed by a few ``yes`` rows is an allow-list.
Blank lines and lines starting with ``#`` are ignored. The reasoning of the shipped rows is in
``docs/habilitations.md``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from carnet.terminology.documents import TYPE_SYSTEMS, canonical_system, document_types
from carnet.terminology.registry import DATA_DIR, terminology

DEFAULT_MATRIX_PATH = DATA_DIR / "habilitations.csv"
COLUMNS = ("profession_code", "type_system", "type_code", "allowed", "comment")
WILDCARD = "*"

_TRUE = frozenset({"yes", "true", "1"})
_FALSE = frozenset({"no", "false", "0"})

TypeKey = tuple[str, str]  # (canonical type system, type code), either may be WILDCARD


@dataclass(frozen=True)
class Rule:
    profession_code: str
    type_system: str  # canonical FHIR URI, or WILDCARD
    type_code: str  # code, or WILDCARD
    allowed: bool
    comment: str = ""


class MatrixError(ValueError):
    """A matrix file that cannot be used; ``problems`` has one "line N, column C: …" each."""

    def __init__(self, problems: Iterable[str], source: str = "habilitation matrix") -> None:
        self.problems = tuple(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Matrix:
    """The rules, with per-profession lookups precomputed: every query is O(1)."""

    rules: tuple[Rule, ...] = ()
    _rules: Mapping[str, Mapping[TypeKey, bool]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _denied: Mapping[str, frozenset[TypeKey]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_profession: dict[str, dict[TypeKey, bool]] = {}
        for rule in self.rules:
            key = (rule.type_system, rule.type_code)
            by_profession.setdefault(rule.profession_code, {})[key] = rule.allowed
        known = [(t.system, t.code) for t in document_types()]
        denied = {
            profession: frozenset(k for k in known if not _decide(rules, k))
            for profession, rules in by_profession.items()
        }
        object.__setattr__(self, "_rules", MappingProxyType(by_profession))
        object.__setattr__(self, "_denied", MappingProxyType(denied))

    def allows(self, profession_code: str | None, type_system: str, type_code: str) -> bool:
        """May a professional of this profession see documents of this type?

        A profession without rows (or ``None``) sees every type. A type outside the known
        vocabulary gets the profession's wildcard rules, if any."""
        rules = self._rules.get(profession_code or "")
        if rules is None:
            return True
        key = (canonical_system(type_system) or type_system, type_code)
        return _decide(rules, key)

    def denied_types(self, profession_code: str | None) -> frozenset[tuple[str, str]]:
        """Every known type (canonical system, code) this profession may not see: wildcard
        rows are expanded over the JDV_J07/TRE_A05 vocabulary, for use in SQL filters."""
        return self._denied.get(profession_code or "", frozenset())

    def professions(self) -> frozenset[str]:
        """The professions that have at least one rule."""
        return frozenset(self._rules)


def _decide(rules: Mapping[TypeKey, bool], key: TypeKey) -> bool:
    for candidate in (key, (key[0], WILDCARD), (WILDCARD, WILDCARD)):
        allowed = rules.get(candidate)
        if allowed is not None:
            return allowed
    return True


def parse_matrix(text: str, *, source: str = "habilitation matrix") -> Matrix:
    """Parse the CSV text; a bad row raises :class:`MatrixError` (a ``ValueError``) naming
    its line and column. All problems are reported at once."""
    professions = terminology().professions
    known = {(t.system, t.code) for t in document_types()}
    problems: list[str] = []
    rules: list[Rule] = []
    seen: dict[tuple[str, str, str], int] = {}
    header_seen = False
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    for row in reader:
        line = reader.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in row]
        if not header_seen:
            header_seen = True
            if tuple(c.lower() for c in cells) != COLUMNS:
                problems.append(f"line {line}: the header must be {','.join(COLUMNS)}")
                break
            continue
        if len(cells) == len(COLUMNS) - 1:
            cells.append("")  # no comment
        if len(cells) != len(COLUMNS):
            problems.append(f"line {line}: expected {len(COLUMNS)} columns, found {len(cells)}")
            continue
        rule = _parse_row(cells, line, professions, known, problems)
        if rule is None:
            continue
        identity = (rule.profession_code, rule.type_system, rule.type_code)
        if identity in seen:
            problems.append(
                f"line {line}, column type_code: duplicate of line {seen[identity]} "
                f"(profession {rule.profession_code}, {rule.type_system}|{rule.type_code})"
            )
            continue
        seen[identity] = line
        rules.append(rule)
    if not header_seen:
        problems.append(f"line 1: the header must be {','.join(COLUMNS)}")
    if problems:
        raise MatrixError(problems, source)
    return Matrix(tuple(rules))


def _parse_row(
    cells: list[str],
    line: int,
    professions: Mapping[str, str],
    known: set[tuple[str, str]],
    problems: list[str],
) -> Rule | None:
    profession, system_text, code, allowed_text, comment = cells
    before = len(problems)

    def problem(column: str, message: str) -> None:
        problems.append(f"line {line}, column {column}: {message}")

    if profession not in professions:
        problem("profession_code", f"unknown profession code {profession!r} (TRE_G15)")
    system: str | None
    if system_text == WILDCARD:
        system = WILDCARD
        if code != WILDCARD:
            problem("type_system", "'*' (every system) needs type_code '*'")
    else:
        system = canonical_system(system_text)
        if system is None or system not in TYPE_SYSTEMS:
            problem("type_system", f"unknown document type system {system_text!r}")
            system = None
    if not code:
        problem("type_code", "empty type code (use '*' for every type)")
    elif system not in (None, WILDCARD) and code != WILDCARD and (system, code) not in known:
        problem("type_code", f"unknown document type {code!r} in {system_text} (JDV_J07/TRE_A05)")
    allowed_word = allowed_text.lower()
    if allowed_word not in _TRUE | _FALSE:
        problem("allowed", f"{allowed_text!r} is not yes or no")
    if len(problems) > before or system is None:
        return None
    return Rule(profession, system, code, allowed_word in _TRUE, comment)


def load_matrix(path: Path | None = None) -> Matrix:
    """The matrix in ``path``, by default the one shipped with Carnet."""
    target = path or DEFAULT_MATRIX_PATH
    return parse_matrix(target.read_text(encoding="utf-8-sig"), source=target.name)


def dump_matrix(matrix: Matrix) -> str:
    """The matrix as CSV, canonical systems and ``yes``/``no``; ``parse_matrix`` reads it back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in matrix.rules:
        writer.writerow(
            (r.profession_code, r.type_system, r.type_code, "yes" if r.allowed else "no", r.comment)
        )
    return out.getvalue()


__all__ = [
    "COLUMNS",
    "DEFAULT_MATRIX_PATH",
    "WILDCARD",
    "Matrix",
    "MatrixError",
    "Rule",
    "dump_matrix",
    "load_matrix",
    "parse_matrix",
]
