"""Which documents an actor may see, once the record itself is open to them (domain.md §1.2,
§1.5): the habilitation matrix, masking from professionals, invisibility to the patient and to
a minor's legal representatives, logical deletion. The same rule twice: as a pure function of
one document, and as SQL conditions that scope every document query, so that a forgotten check
returns nothing rather than everything."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, String, and_, bindparam, false, or_

from carnet.access.policy import Action, Actor, ActorKind, Mode, RecordFacts, decide
from carnet.access.representation import holder_side_sees, on_holder_side
from carnet.documents.models import DocumentEntry

DELETED = "entered-in-error"


class Matrix(Protocol):
    def allows(self, profession_code: str | None, type_system: str, type_code: str) -> bool: ...

    def denied_types(self, profession_code: str | None) -> frozenset[tuple[str, str]]: ...


@dataclass(frozen=True)
class DocumentFacts:
    type_system: str
    type_code: str
    status: str
    masked_ps: bool
    invisible_patient: bool
    invisible_representatives: bool
    author_ref: str


def facts_of(entry: DocumentEntry) -> DocumentFacts:
    return DocumentFacts(
        type_system=entry.type_system,
        type_code=entry.type_code,
        status=entry.status,
        masked_ps=entry.masked_ps,
        invisible_patient=entry.invisible_patient,
        invisible_representatives=entry.invisible_representatives,
        author_ref=entry.author_ref,
    )


def _sees_masked(actor: Actor, record: RecordFacts, mode: Mode, reveal_in_emergency: bool) -> bool:
    return record.treating_doctor or (mode is Mode.EMERGENCY and reveal_in_emergency)


def document_visible(
    actor: Actor,
    record: RecordFacts,
    mode: Mode,
    doc: DocumentFacts,
    matrix: Matrix,
    *,
    reveal_masked_in_emergency: bool = False,
) -> bool:
    """May ``actor`` — already allowed on the record in ``mode`` — see this document?"""
    if doc.status == DELETED:
        return False
    if actor.kind is ActorKind.PROFESSIONAL:
        if not matrix.allows(actor.profession, doc.type_system, doc.type_code):
            return False
        if doc.masked_ps and doc.author_ref != actor.ref:
            return _sees_masked(actor, record, mode, reveal_masked_in_emergency)
        return True
    if on_holder_side(actor, record):
        return not doc.invisible_patient and holder_side_sees(record, doc.invisible_representatives)
    return False


def known_to_writer(actor: Actor, record: RecordFacts, doc: DocumentFacts) -> bool:
    """May ``actor`` — allowed to write to the record, and to see this document
    (``document_visible``) — know of it: name it as the one its submission replaces, or ask
    for a change to it? A writer who may not read the record (feeding needs no consent), only
    if it wrote it. Else the document answers as one that does not exist: a write must not
    tell the writer what is kept from it."""
    return doc.author_ref == actor.ref or decide(actor, Action.READ, record).allowed


@dataclass(frozen=True)
class Visibility:
    """Which of a record's documents an actor sees, as a shape: the SQL of a search is built
    once per shape (``visibility_clauses``), the actor's own ref being a bound parameter
    (``AUTHOR``: a professional sees the masked documents they wrote)."""

    kind: str  # "professional" | "patient" (the holder, a representative, their apps) | "none"
    denied_types: tuple[tuple[str, str], ...] = ()  # the habilitation matrix's refusals
    hide_masked: bool = False  # MASQUE_PS hidden (but for the author)
    representative: bool = False  # INVISIBLE_REPRESENTANTS_LEGAUX hidden


AUTHOR = "visibility_author"  # the parameter of ``visibility_clauses``: the actor's ref


def visibility(
    actor: Actor,
    record: RecordFacts,
    mode: Mode,
    matrix: Matrix,
    *,
    reveal_masked_in_emergency: bool = False,
) -> Visibility:
    """The same rule as ``document_visible``, for every document of the record at once."""
    if actor.kind is ActorKind.PROFESSIONAL:
        return Visibility(
            "professional",
            denied_types=tuple(sorted(matrix.denied_types(actor.profession))),
            hide_masked=not _sees_masked(actor, record, mode, reveal_masked_in_emergency),
        )
    if on_holder_side(actor, record):
        return Visibility("patient", representative=record.is_representative)
    return Visibility("none")


@functools.lru_cache(maxsize=512)
def visibility_clauses(shape: Visibility) -> tuple[ColumnElement[bool], ...]:
    """``shape`` as SQL conditions on ``DocumentEntry`` (AND them together; bind ``AUTHOR``)."""
    d = DocumentEntry
    if shape.kind == "none":
        return (false(),)
    clauses: list[ColumnElement[bool]] = [d.status != DELETED]
    if shape.kind == "professional":
        for system, code in shape.denied_types:
            clauses.append(~and_(d.type_system == system, d.type_code == code))
        if shape.hide_masked:
            author = bindparam(AUTHOR, type_=String())
            clauses.append(or_(d.masked_ps.is_(False), d.author_ref == author))
        return tuple(clauses)
    clauses.append(d.invisible_patient.is_(False))
    if shape.representative:
        clauses.append(d.invisible_representatives.is_(False))
    return tuple(clauses)


__all__ = [
    "AUTHOR",
    "DocumentFacts",
    "Matrix",
    "Visibility",
    "document_visible",
    "facts_of",
    "visibility",
    "visibility_clauses",
]
