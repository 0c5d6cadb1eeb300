"""Which documents an actor may see, once the record itself is open to them (domain.md §1.2,
§1.5): the habilitation matrix, masking from professionals, invisibility to the patient and to
a minor's legal representatives, logical deletion. The same rule twice: as a pure function of
one document, and as SQL conditions that scope every document query, so that a forgotten check
returns nothing rather than everything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, and_, false, or_

from carnet.access.policy import Actor, ActorKind, Mode, RecordFacts
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
    if actor.kind in (ActorKind.PATIENT, ActorKind.APP):
        if doc.invisible_patient:
            return False
        if record.is_representative and doc.invisible_representatives:
            return False
        return record.is_holder or record.is_representative
    return False


def visibility_clauses(
    actor: Actor,
    record: RecordFacts,
    mode: Mode,
    matrix: Matrix,
    *,
    reveal_masked_in_emergency: bool = False,
) -> list[ColumnElement[bool]]:
    """The same rule as SQL conditions on ``DocumentEntry`` (AND them together)."""
    d = DocumentEntry
    clauses: list[ColumnElement[bool]] = [d.status != DELETED]
    if actor.kind is ActorKind.PROFESSIONAL:
        for system, code in sorted(matrix.denied_types(actor.profession)):
            clauses.append(~and_(d.type_system == system, d.type_code == code))
        if not _sees_masked(actor, record, mode, reveal_masked_in_emergency):
            clauses.append(or_(d.masked_ps.is_(False), d.author_ref == actor.ref))
        return clauses
    if actor.kind in (ActorKind.PATIENT, ActorKind.APP) and (
        record.is_holder or record.is_representative
    ):
        clauses.append(d.invisible_patient.is_(False))
        if record.is_representative:
            clauses.append(d.invisible_representatives.is_(False))
        return clauses
    return [false()]


__all__ = ["DocumentFacts", "Matrix", "document_visible", "facts_of", "visibility_clauses"]
