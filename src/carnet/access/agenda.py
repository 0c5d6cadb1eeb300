"""Which appointments an actor may see and change, once the record itself is open to them.

The patient's agenda is theirs: the holder (and a legal representative of a minor, and the apps
they connected) sees every appointment of the record — except, for the legal representatives,
an appointment marked INVISIBLE_REPRESENTANTS_LEGAUX (a minor's secret care, as for documents).
A professional — already allowed on the record by ``policy`` — sees only the appointments they
booked or that are with them: an authorized dentist does not learn that the patient sees a
psychiatrist.

Changing (rescheduling, cancelling) belongs to whoever's side added the appointment: the
patient side changes what the patient side added, a professional what they booked or what is
with them. An app also needs the ``update`` interaction in its scopes (the gate checks
``create`` for writes).

The same rule twice: as pure functions of one appointment, and as SQL conditions that scope
every appointment query, so that a forgotten check returns nothing rather than everything."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_

from carnet.access.gate import actor_fields
from carnet.access.policy import Action, Actor, ActorKind, RecordFacts
from carnet.access.representation import (
    HOLDER_SIDE,
    holder_side_clause,
    holder_side_sees,
    on_holder_side,
)
from carnet.access.scopes import allows
from carnet.agenda.models import PATIENT_SIDE, Appointment
from carnet.errors import AccessDenied, CarnetError, Forbidden, NotFound

NOT_FOUND = "No such appointment."


@dataclass(frozen=True)
class AppointmentFacts:
    source_kind: str
    source_ref: str
    practitioner_ref: str | None
    hidden_from_representatives: bool = False


def facts_of(appointment: Appointment) -> AppointmentFacts:
    return AppointmentFacts(
        source_kind=appointment.source_kind,
        source_ref=appointment.source_ref,
        practitioner_ref=appointment.practitioner_ref,
        hidden_from_representatives=appointment.hidden_from_representatives,
    )


def _professionals_own(actor: Actor, appointment: AppointmentFacts) -> bool:
    return actor.kind is ActorKind.PROFESSIONAL and actor.ref in (
        appointment.source_ref,
        appointment.practitioner_ref,
    )


def appointment_visible(actor: Actor, record: RecordFacts, appointment: AppointmentFacts) -> bool:
    """May ``actor`` — already allowed on the record — see this appointment?"""
    if on_holder_side(actor, record):
        return holder_side_sees(record, appointment.hidden_from_representatives)
    return _professionals_own(actor, appointment)


def may_change(actor: Actor, record: RecordFacts, appointment: AppointmentFacts) -> bool:
    """May ``actor`` — already allowed to write to the record — reschedule or cancel it?"""
    if record.closed:  # read-only until reopened (policy refuses the write anyway)
        return False
    if on_holder_side(actor, record):
        return (
            holder_side_sees(record, appointment.hidden_from_representatives)
            and appointment.source_kind in PATIENT_SIDE
        )
    return _professionals_own(actor, appointment)


def update_scope_ok(actor: Actor) -> bool:
    """Software changes an appointment only with the ``update`` interaction in its scopes."""
    return actor.client_id is None or allows(actor.scopes, "Appointment", "update")


def visibility_clauses(actor: Actor, record: RecordFacts) -> list[ColumnElement[bool]]:
    """The rule of ``appointment_visible`` as SQL conditions on ``Appointment``."""
    a = Appointment
    if on_holder_side(actor, record):
        return [holder_side_clause(record, a.hidden_from_representatives)]
    if actor.kind is ActorKind.PROFESSIONAL:
        return [or_(a.source_ref == actor.ref, a.practitioner_ref == actor.ref)]
    return [false()]


def denied(
    actor: Actor,
    patient_id: uuid.UUID,
    appointment_id: uuid.UUID,
    action: Action,
    *,
    reason: str,
    public: CarnetError,
) -> AccessDenied:
    """A refusal on one appointment, audited on the patient's chain by the transaction
    boundary (which rolls back what the request did, the gate's "allowed" row on this record
    included: the denial says what was tried)."""
    entry: dict[str, Any] = {
        "patient_id": patient_id,
        "action": action.value,
        "outcome": "denied",
        "mode": actor.mode.value,
        "resource_type": "Appointment",
        "resource_id": str(appointment_id),
        "detail": reason,
        **actor_fields(actor),
    }
    return AccessDenied(public, entry)


def hidden(
    actor: Actor, patient_id: uuid.UUID, appointment_id: uuid.UUID, action: Action
) -> AccessDenied:
    return denied(
        actor,
        patient_id,
        appointment_id,
        action,
        reason="appointment_not_visible",
        public=NotFound(NOT_FOUND),
    )


def not_theirs(actor: Actor, patient_id: uuid.UUID, appointment_id: uuid.UUID) -> AccessDenied:
    message = (
        "This appointment was booked by a professional: ask them to change or cancel it."
        if actor.kind in HOLDER_SIDE
        else "A professional changes only the appointments they booked or that are with them."
    )
    return denied(
        actor,
        patient_id,
        appointment_id,
        Action.WRITE,
        reason="appointment_not_theirs",
        public=Forbidden(message),
    )


def no_update_scope(actor: Actor, patient_id: uuid.UUID, appointment_id: uuid.UUID) -> AccessDenied:
    return denied(
        actor,
        patient_id,
        appointment_id,
        Action.WRITE,
        reason="insufficient_scope",
        public=Forbidden("The access token's scopes do not cover this request."),
    )


__all__ = [
    "NOT_FOUND",
    "AppointmentFacts",
    "appointment_visible",
    "facts_of",
    "hidden",
    "may_change",
    "no_update_scope",
    "not_theirs",
    "update_scope_ok",
    "visibility_clauses",
]
