"""Agenda use cases: create, read, search, change and cancel appointments, each through the
access gate (audited in the caller's transaction); reminders kept in step in the notification
outbox. Services flush, never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind
from carnet.access import agenda as rules
from carnet.access.gate import authorize, deny_unknown, load_facts
from carnet.access.policy import RecordFacts, decide
from carnet.access.representation import keep_from_representatives
from carnet.agenda.fhir import AppointmentDraft
from carnet.agenda.models import (
    FINAL_STATUSES,
    REMINDED_STATUSES,
    Appointment,
    AppointmentStatus,
    SourceKind,
)
from carnet.audit import service as audit
from carnet.errors import AccessDenied, Conflict, Forbidden, Invalid, NotFound
from carnet.notifications.models import OutboxMessage, OutboxStatus, enqueue
from carnet.patients.service import patient_uuid

NOT_FOUND = rules.NOT_FOUND
RESOURCE = "Appointment"
REMINDER_TEMPLATE = "appointment_reminder"
REMINDER_BEFORE = timedelta(hours=24)
# On create, the statuses that make sense for a new appointment.
NEW_STATUSES = frozenset({"proposed", "pending", "booked", "waitlist"})


# --- helpers -----------------------------------------------------------------------------


def _source(actor: Actor, facts: RecordFacts) -> tuple[SourceKind, str, str | None]:
    if actor.kind is ActorKind.PATIENT:
        kind = SourceKind.REPRESENTATIVE if facts.is_representative else SourceKind.PATIENT
        return kind, actor.ref, actor.display_name or None
    if actor.kind is ActorKind.APP:
        return SourceKind.APP, actor.ref, actor.display_name or None
    if actor.kind is ActorKind.PROFESSIONAL:
        kind = SourceKind.SOFTWARE if actor.client_id else SourceKind.PROFESSIONAL
        return kind, actor.ref, actor.display_name or None
    raise Forbidden("Only patients, their apps and professionals keep an agenda.")


def _open(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    action: Action,
    *,
    resource_id: uuid.UUID | None = None,
    detail: str,
) -> RecordFacts:
    """Authorize (and audit) ``action`` on the record; returns the facts for the agenda rules."""
    facts = load_facts(session, actor, patient_id)
    authorize(
        session,
        actor,
        patient_id,
        action,
        resource_type=RESOURCE,
        resource_id=str(resource_id) if resource_id else None,
        detail=detail,
        facts=facts,
    )
    return facts


def _visible(
    session: Session, actor: Actor, appointment_id: uuid.UUID, action: Action, detail: str
) -> tuple[Appointment, RecordFacts]:
    row = session.get(Appointment, appointment_id)
    if row is None:  # audited on the system chain, without identifiers
        unknown = deny_unknown(actor, action=action, resource_type=RESOURCE)
        raise AccessDenied(NotFound(NOT_FOUND), unknown.entry)
    facts = _open(session, actor, row.patient_id, action, resource_id=row.id, detail=detail)
    if not rules.appointment_visible(actor, facts, rules.facts_of(row)):
        raise rules.hidden(actor, row.patient_id, row.id, action)
    return row, facts


def _changeable(
    session: Session, actor: Actor, appointment_id: uuid.UUID, detail: str
) -> Appointment:
    row, facts = _visible(session, actor, appointment_id, Action.WRITE, detail)
    if not rules.may_change(actor, facts, rules.facts_of(row)):
        raise rules.not_theirs(actor, row.patient_id, row.id)
    if not rules.update_scope_ok(actor):
        raise rules.no_update_scope(actor, row.patient_id, row.id)
    if row.status in FINAL_STATUSES:
        raise Conflict(
            "This appointment is cancelled: it cannot be changed; add a new one.", field="status"
        )
    keep_from_representatives(  # a secret connection changes only what they do not see
        session,
        actor,
        row.patient_id,
        hidden_from_representatives=row.hidden_from_representatives,
        field="Appointment.meta.security",
    )
    return row


def _check_version(row: Appointment, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        raise Conflict(
            f"The appointment changed meanwhile (version {row.version}); read it again.",
            field="If-Match",
        )


# --- reminders ---------------------------------------------------------------------------


def _reminder_due(row: Appointment, now: datetime) -> datetime | None:
    if row.status not in REMINDED_STATUSES or row.start <= now:
        return None
    return max(now, row.start - REMINDER_BEFORE)


def _pending_reminder(session: Session, row: Appointment) -> OutboxMessage | None:
    if row.reminder_id is None:
        return None
    message = session.get(OutboxMessage, row.reminder_id)
    if message is None or message.status != OutboxStatus.PENDING.value:
        return None
    return message


def _sync_reminder(session: Session, row: Appointment) -> None:
    """Keep the appointment's reminder in step: scheduled, moved or cancelled. It says only
    when (no reason, no professional, no place: see notifications/templates.py)."""
    now = clock.now()
    due = _reminder_due(row, now)
    pending = _pending_reminder(session, row)
    if due is None:
        if pending is not None:
            pending.status = OutboxStatus.CANCELLED.value
            pending.last_error = "appointment cancelled or past"
        return
    start = row.start.isoformat()
    # A minor out of reach: the reminder may go to a legal representative, unless the
    # appointment is secret from them (then even "when" would tell too much).
    forward = not row.hidden_from_representatives
    if pending is not None:
        pending.next_attempt_at = due
        pending.payload = {"start": start, "to_representatives": forward}
        return
    message = enqueue(
        REMINDER_TEMPLATE, patient_id=row.patient_id, start=start, to_representatives=forward
    )
    message.next_attempt_at = due
    session.add(message)
    session.flush()
    row.reminder_id = message.id
    session.flush()


# --- use cases ---------------------------------------------------------------------------


def create_appointment(
    session: Session, actor: Actor, *, patient_id: uuid.UUID, draft: AppointmentDraft
) -> Appointment:
    """A new appointment in the patient's agenda (and its reminder)."""
    if draft.status not in NEW_STATUSES:
        raise Invalid(
            "A new appointment is proposed, pending, booked or on the waiting list.",
            field="Appointment.status",
        )
    row_id = uuid.uuid4()  # the row names it: kept from whom the appointment is hidden from
    facts = _open(
        session, actor, patient_id, Action.WRITE, resource_id=row_id, detail="appointment.create"
    )
    keep_from_representatives(
        session,
        actor,
        patient_id,
        hidden_from_representatives=draft.hidden_from_representatives,
        field="Appointment.meta.security",
    )
    kind, ref, name = _source(actor, facts)
    practitioner_ref, practitioner_name = draft.practitioner_ref, draft.practitioner_name
    structure = None
    if kind in (SourceKind.PROFESSIONAL, SourceKind.SOFTWARE):
        if practitioner_ref is None:  # booked by the professional: with them, unless said
            practitioner_ref, practitioner_name = actor.ref, practitioner_name or name
        structure = actor.structure_name
    now = clock.now()
    row = Appointment(
        id=row_id,
        patient_id=patient_id,
        status=draft.status,
        start=draft.start,
        end=draft.end,
        description=draft.description,
        location=draft.location,
        practitioner_ref=practitioner_ref,
        practitioner_name=practitioner_name,
        structure_name=structure,
        source_kind=kind.value,
        source_ref=ref,
        source_name=name,
        hidden_from_representatives=draft.hidden_from_representatives,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _sync_reminder(session, row)
    return row


def trail_ties(session: Session, patient_id: uuid.UUID) -> audit.Ties | None:
    """What ties rows of the patient's access history to the appointments hidden from a
    minor's legal representatives (for one of them): their ids, the rows' resource. None when
    there is none."""
    ids = session.execute(
        select(Appointment.id).where(
            Appointment.patient_id == patient_id,
            Appointment.hidden_from_representatives.is_(True),
        )
    ).scalars()
    found = frozenset(str(i) for i in ids)
    return audit.Ties(resource_ids=found) if found else None


def read_appointment(session: Session, actor: Actor, *, appointment_id: uuid.UUID) -> Appointment:
    row, _ = _visible(session, actor, appointment_id, Action.READ, "appointment.read")
    return row


def update_appointment(
    session: Session,
    actor: Actor,
    *,
    appointment_id: uuid.UUID,
    draft: AppointmentDraft,
    expected_version: int | None = None,
) -> Appointment:
    """Reschedule or change an appointment (``status=cancelled`` cancels it); the reminder
    follows. The patient of an appointment never changes."""
    detail = "appointment.cancel" if draft.status == "cancelled" else "appointment.update"
    row = _changeable(session, actor, appointment_id, detail)
    if draft.patient_id is not None and draft.patient_id != row.patient_id:
        raise Invalid(
            "The patient of an appointment cannot change.", field="Appointment.participant"
        )
    _check_version(row, expected_version)
    now = clock.now()
    row.status, row.start, row.end = draft.status, draft.start, draft.end
    row.description, row.location = draft.description, draft.location
    if draft.practitioner_ref is not None or draft.practitioner_name is not None:
        row.practitioner_ref = draft.practitioner_ref or row.practitioner_ref
        row.practitioner_name = draft.practitioner_name
    # A PUT may make an appointment secret from a minor's legal representatives; leaving the
    # label out never reveals one that was (its reminder then stops being forwarded too).
    row.hidden_from_representatives = (
        row.hidden_from_representatives or draft.hidden_from_representatives
    )
    if row.status == AppointmentStatus.CANCELLED:
        row.cancelled_at = now
    row.version += 1
    row.updated_at = now
    _sync_reminder(session, row)
    session.flush()
    return row


def cancel_appointment(session: Session, actor: Actor, *, appointment_id: uuid.UUID) -> Appointment:
    """Cancelled, not deleted: the appointment stays in the agenda, its reminder withdrawn."""
    row = _changeable(session, actor, appointment_id, "appointment.cancel")
    now = clock.now()
    row.status = AppointmentStatus.CANCELLED.value
    row.cancelled_at = now
    row.version += 1
    row.updated_at = now
    _sync_reminder(session, row)
    session.flush()
    return row


@dataclass
class AppointmentQuery:
    start: list[tuple[str, datetime]] = field(default_factory=list)  # (prefix, moment)
    statuses: list[str] = field(default_factory=list)
    count: int = 50
    offset: int = 0


@dataclass
class SearchResult:
    appointments: list[Appointment]
    has_more: bool


def _date_clause(prefix: str, moment: datetime) -> ColumnElement[bool]:
    a = Appointment
    if prefix == "ge":
        return a.start >= moment
    if prefix == "gt":
        return a.start > moment
    if prefix == "le":
        return a.start <= moment
    if prefix == "lt":
        return a.start < moment
    if prefix == "eq":  # the whole day (or the instant's day) it names
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return (a.start >= day) & (a.start < day + timedelta(days=1))
    raise Invalid(f"date: unsupported prefix {prefix!r}; use eq, ge, gt, le or lt.", field="date")


def search_appointments(
    session: Session, actor: Actor, *, patient_id: uuid.UUID | str, query: AppointmentQuery
) -> SearchResult:
    """The patient's appointments this actor may see, earliest first. A malformed patient id
    is an audited "not found", like an unknown one."""
    conditions = [_date_clause(p, m) for p, m in query.start]  # bad input fails before audit
    patient_id = patient_uuid(patient_id, actor=actor, action=Action.SEARCH)
    facts = _open(session, actor, patient_id, Action.SEARCH, detail="appointment.search")
    a = Appointment
    statement = select(a).where(
        a.patient_id == patient_id, *rules.visibility_clauses(actor, facts), *conditions
    )
    if query.statuses:
        statement = statement.where(a.status.in_(query.statuses))
    rows = list(
        session.execute(
            statement.order_by(a.start, a.id).offset(query.offset).limit(query.count + 1)
        ).scalars()
    )
    return SearchResult(rows[: query.count], len(rows) > query.count)


@dataclass
class AgendaItem:
    appointment: Appointment
    cancellable: bool  # by this actor (the rule lives in access.agenda)


@dataclass
class AgendaView:
    upcoming: list[AgendaItem]
    past: list[AgendaItem]  # most recent first, cancelled ones included
    can_add: bool  # may this actor add to the record (e.g. not while it is closed)


def agenda_of(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, past_limit: int = 50
) -> AgendaView:
    """The portal's agenda page: upcoming appointments (earliest first) and past ones."""
    facts = _open(session, actor, patient_id, Action.SEARCH, detail="appointment.search")
    a = Appointment
    scoped = select(a).where(a.patient_id == patient_id, *rules.visibility_clauses(actor, facts))
    now = clock.now()
    upcoming = session.execute(scoped.where(a.end > now).order_by(a.start, a.id)).scalars()
    past = session.execute(
        scoped.where(a.end <= now).order_by(a.start.desc(), a.id).limit(past_limit)
    ).scalars()

    def item(row: Appointment) -> AgendaItem:
        open_ = row.status not in FINAL_STATUSES and row.end > now
        return AgendaItem(row, open_ and rules.may_change(actor, facts, rules.facts_of(row)))

    can_add = decide(actor, Action.WRITE, facts).allowed  # the decision alone, not an access
    return AgendaView([item(r) for r in upcoming], [item(r) for r in past], can_add)


@dataclass
class Upcoming:
    next: list[Appointment]  # the next appointments still on (not cancelled), earliest first
    added_since: list[Appointment]  # added (by anyone) since ``since``, newest first


def upcoming(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    since: datetime | None = None,
    limit: int = 3,
) -> Upcoming:
    """For the home page: what is coming, and what was added since the last visit."""
    facts = _open(session, actor, patient_id, Action.SEARCH, detail="appointment.upcoming")
    a = Appointment
    scoped = select(a).where(a.patient_id == patient_id, *rules.visibility_clauses(actor, facts))
    now = clock.now()
    next_rows = session.execute(
        scoped.where(a.end > now, a.status.not_in(FINAL_STATUSES))
        .order_by(a.start, a.id)
        .limit(limit)
    ).scalars()
    added: list[Appointment] = []
    if since is not None:
        added = list(
            session.execute(
                scoped.where(a.created_at > since).order_by(a.created_at.desc()).limit(limit)
            ).scalars()
        )
    return Upcoming(list(next_rows), added)


__all__ = [
    "NOT_FOUND",
    "REMINDER_TEMPLATE",
    "AgendaItem",
    "AgendaView",
    "AppointmentQuery",
    "SearchResult",
    "Upcoming",
    "agenda_of",
    "cancel_appointment",
    "create_appointment",
    "read_appointment",
    "search_appointments",
    "upcoming",
    "update_appointment",
]
