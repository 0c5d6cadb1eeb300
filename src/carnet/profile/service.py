"""Profile use cases: add, change, remove (logically) and find profile entries; every access
through ``access`` and the audit trail; prescriptions checked for safety as they arrive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import authorize
from carnet.access.profile import check_may_change_entry, entry_ref
from carnet.access.representation import keep_from_representatives
from carnet.db import settings_of
from carnet.errors import Forbidden, NotFound
from carnet.profile.fhir import ProfileInput, stamp
from carnet.profile.models import ProfileEntry, ProfileVersion

NOT_FOUND = "No such entry."
SOURCE_KINDS = {
    ActorKind.PATIENT: "patient",
    ActorKind.APP: "app",
    ActorKind.PROFESSIONAL: "professional",
}


def _source(actor: Actor) -> tuple[str, str, str | None]:
    kind = SOURCE_KINDS.get(actor.kind)
    if kind is None:
        raise Forbidden("Only patients, their apps and professionals write the profile.")
    return kind, entry_ref(actor), actor.display_name or None


def create(
    session: Session, actor: Actor, patient_id: uuid.UUID, parsed: ProfileInput
) -> ProfileEntry:
    authorize(
        session,
        actor,
        patient_id,
        Action.WRITE,
        resource_type=parsed.resource_type,
        audit_action="write",
        detail=f"{parsed.resource_type}",
    )
    _not_in_secret(session, actor, patient_id, parsed.resource_type)
    kind, ref, name = _source(actor)
    now = clock.now()
    entry = ProfileEntry(
        id=uuid.uuid4(),
        patient_id=patient_id,
        resource_type=parsed.resource_type,
        version=1,
        status=parsed.status,
        code_system=parsed.code_system,
        code=parsed.code,
        display=parsed.display,
        category=parsed.category,
        substances="|".join(parsed.substances) or None,
        effective=parsed.effective,
        value=parsed.value,
        source_kind=kind,
        source_ref=ref,
        source_name=name,
        recorded_at=now,
        updated_at=now,
        resource="",
    )
    entry.resource = stamp(
        parsed.resource,
        entry_id=entry.id,
        patient_id=patient_id,
        version=1,
        updated=now,
        source_kind=kind,
        source_ref=ref,
        source_name=name,
    )
    session.add(entry)
    session.flush()
    return entry


def _owned(
    session: Session, actor: Actor, entry_id: uuid.UUID, resource_type: str, action: Action
) -> ProfileEntry:
    entry = session.get(ProfileEntry, entry_id)
    if entry is None or entry.resource_type != resource_type:
        raise NotFound(NOT_FOUND)
    authorize(
        session,
        actor,
        entry.patient_id,
        action,
        resource_type=resource_type,
        resource_id=str(entry.id),
        audit_action="write" if action is Action.WRITE else "read",
    )
    if action is Action.WRITE:
        _not_in_secret(session, actor, entry.patient_id, resource_type)
    return entry


def _not_in_secret(
    session: Session, actor: Actor, patient_id: uuid.UUID, resource_type: str
) -> None:
    """The medical profile is shown to a minor's legal representatives: a secret connection
    does not write to it."""
    keep_from_representatives(
        session,
        actor,
        patient_id,
        hidden_from_representatives=False,
        field=resource_type,
        hideable=False,
    )


def update(
    session: Session, actor: Actor, entry_id: uuid.UUID, parsed: ProfileInput
) -> ProfileEntry:
    """A new version, by whoever may change the entry (``access.profile``)."""
    entry = _owned(session, actor, entry_id, parsed.resource_type, Action.WRITE)
    _may_change(actor, entry)
    kind, ref, name = _source(actor)
    now = clock.now()
    session.add(
        ProfileVersion(
            entry_id=entry.id,
            patient_id=entry.patient_id,
            version=entry.version,
            resource=entry.resource,
            replaced_at=now,
            replaced_by=ref,
        )
    )
    entry.version += 1
    entry.status, entry.code_system, entry.code = parsed.status, parsed.code_system, parsed.code
    entry.display, entry.category = parsed.display, parsed.category
    entry.substances = "|".join(parsed.substances) or None
    entry.effective, entry.value, entry.updated_at = parsed.effective, parsed.value, now
    entry.resource = stamp(
        parsed.resource,
        entry_id=entry.id,
        patient_id=entry.patient_id,
        version=entry.version,
        updated=now,
        source_kind=kind,
        source_ref=ref,
        source_name=name,
    )
    return entry


def remove(session: Session, actor: Actor, entry_id: uuid.UUID, resource_type: str) -> ProfileEntry:
    """Logical removal: ``entered-in-error``, the history kept."""
    entry = _owned(session, actor, entry_id, resource_type, Action.WRITE)
    _may_change(actor, entry)
    resource = orjson.loads(entry.resource)
    status_field = {
        "AllergyIntolerance": "verificationStatus",
        "Condition": "verificationStatus",
    }.get(resource_type)
    if status_field:
        resource[status_field] = {
            "coding": [
                {
                    "system": f"http://terminology.hl7.org/CodeSystem/{_vs_system(resource_type)}",
                    "code": "entered-in-error",
                }
            ]
        }
    elif resource_type == "RelatedPerson":
        resource["active"] = False
    else:
        resource["status"] = "entered-in-error"
    now = clock.now()
    session.add(
        ProfileVersion(
            entry_id=entry.id,
            patient_id=entry.patient_id,
            version=entry.version,
            resource=entry.resource,
            replaced_at=now,
            replaced_by=actor.ref,
        )
    )
    entry.version += 1
    entry.status, entry.updated_at = "entered-in-error", now
    kind, ref, name = _source(actor)
    entry.resource = stamp(
        resource,
        entry_id=entry.id,
        patient_id=entry.patient_id,
        version=entry.version,
        updated=now,
        source_kind=kind,
        source_ref=ref,
        source_name=name,
    )
    return entry


def _vs_system(resource_type: str) -> str:
    return (
        "allergyintolerance-verification"
        if resource_type == "AllergyIntolerance"
        else "condition-ver-status"
    )


def _may_change(actor: Actor, entry: ProfileEntry) -> None:
    check_may_change_entry(actor, entry.source_kind, entry.source_ref)  # the portal's rule too


def read(session: Session, actor: Actor, entry_id: uuid.UUID, resource_type: str) -> ProfileEntry:
    return _owned(session, actor, entry_id, resource_type, Action.READ)


@dataclass
class ProfileQuery:
    codes: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    include_removed: bool = False
    since: datetime | None = None
    count: int = 100


def search(
    session: Session, actor: Actor, patient_id: uuid.UUID, resource_type: str, query: ProfileQuery
) -> list[ProfileEntry]:
    authorize(
        session,
        actor,
        patient_id,
        Action.SEARCH,
        resource_type=resource_type,
        audit_action="search",
        detail=resource_type,
    )
    return entries_of(session, patient_id, resource_type, query)


def entries_of(
    session: Session, patient_id: uuid.UUID, resource_type: str, query: ProfileQuery | None = None
) -> list[ProfileEntry]:
    """Scoped to one patient; callers have authorized the access."""
    query = query or ProfileQuery()
    p = ProfileEntry
    statement = select(p).where(p.patient_id == patient_id, p.resource_type == resource_type)
    if not query.include_removed:
        statement = statement.where(p.status != "entered-in-error")
    if query.codes:
        statement = statement.where(p.code.in_(query.codes))
    if query.categories:
        statement = statement.where(p.category.in_(query.categories))
    if query.since is not None:
        statement = statement.where(p.updated_at > query.since)
    statement = statement.order_by(p.effective.desc().nulls_last(), p.recorded_at.desc())
    return list(session.execute(statement.limit(query.count)).scalars())


def recent_same_exam(
    session: Session, patient_id: uuid.UUID, code: str | None, before: datetime
) -> list[ProfileEntry]:
    """Results or orders for the same LOINC code within the configured window (duplicate
    exams, issue §4)."""
    if not code:
        return []
    window = timedelta(days=settings_of(session).duplicate_exam_window_days)
    return list(
        session.execute(
            select(ProfileEntry)
            .where(
                ProfileEntry.patient_id == patient_id,
                ProfileEntry.code == code,
                ProfileEntry.resource_type == "Observation",
                ProfileEntry.status != "entered-in-error",
                ProfileEntry.effective >= before - window,
            )
            .order_by(ProfileEntry.effective.desc())
            .limit(5)
        ).scalars()
    )


def as_json(entries: list[ProfileEntry]) -> list[dict[str, Any]]:
    return [orjson.loads(e.resource) for e in entries]
