"""Who may read and write which message thread (domain.md §6.1, "Messagerie sécurisée").

As in Mon Espace Santé, a professional starts a thread and the patient replies: the patient
cannot write first to a professional. A professional takes part only while the patient's
authorization is active, in normal care (never in emergency or regulator mode, which open the
record for one urgent reading, not for a conversation), and sees only the threads they take
part in. The patient side is the record's holder and, for a minor, the legal representatives,
except for a thread hidden from them. Blocked professionals, revoked authorizations, closed
records and excluded actors are refused; what the actor may not know of answers "not found".

The rule is a pure function of the actor, the record's facts and the thread's facts, and the
same rule as SQL conditions that scope every thread query; ``authorize_messaging`` loads the
facts, decides, and hands over to ``gate.authorize``, which audits in the caller's transaction.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from carnet.access.gate import actor_fields, authorize, bound_to, load_facts
from carnet.access.policy import Action, Actor, ActorKind, Decision, Mode, RecordFacts, is_excluded
from carnet.access.representation import holder_side_clause, holder_side_sees, on_holder_side
from carnet.errors import AccessDenied, CarnetError, Conflict, Forbidden, NotFound
from carnet.messaging.models import Participant, Thread
from carnet.patients.models import Patient

NO_THREAD = "No such message thread."
NO_RECORD = "No record was found for this patient."


class Verb(enum.StrEnum):
    START = "start"  # a new thread
    REPLY = "reply"  # a message in an existing thread
    READ = "read"  # one thread, or one of its attachments
    LIST = "list"  # the threads of one record


WRITES = frozenset({Verb.START, Verb.REPLY})
ACTIONS = {
    Verb.START: Action.WRITE,
    Verb.REPLY: Action.WRITE,
    Verb.READ: Action.READ,
    Verb.LIST: Action.SEARCH,
}


@dataclass(frozen=True)
class ThreadFacts:
    participants: frozenset[str]  # PS_IdNat of the professionals taking part
    hidden_from_representatives: bool = False


def _allow(reason: str) -> Decision:
    return Decision(True, reason, True)


def _deny(reason: str, *, visible: bool) -> Decision:
    return Decision(False, reason, visible)


def decide_messaging(
    actor: Actor, verb: Verb, record: RecordFacts, thread: ThreadFacts | None = None
) -> Decision:
    """May ``actor`` do ``verb`` on a record described by ``record`` (and, for replies and
    reads, on a thread described by ``thread``)? ``visible`` False means "not found"; the
    reason ``no_thread`` means the record may be known but not this thread."""
    if actor.kind in (ActorKind.OPERATOR, ActorKind.ANONYMOUS):
        return _deny("operator_no_health_data", visible=False)
    if actor.kind is ActorKind.PROFESSIONAL and is_excluded(actor):
        return _deny("excluded_actor", visible=False)
    if not record.exists:
        return _deny("no_record", visible=False)
    if actor.kind in (ActorKind.PATIENT, ActorKind.APP):
        return _decide_patient_side(verb, record, thread)
    if actor.kind is ActorKind.PROFESSIONAL:
        return _decide_professional(actor, verb, record, thread)
    return _deny("unknown_actor", visible=False)


def _decide_patient_side(verb: Verb, record: RecordFacts, thread: ThreadFacts | None) -> Decision:
    if not (record.is_holder or record.is_representative):
        return _deny("not_holder", visible=False)
    if verb is Verb.START:
        return _deny("patient_cannot_start", visible=True)
    if thread is not None and not holder_side_sees(record, thread.hidden_from_representatives):
        return _deny("no_thread", visible=False)
    if verb in WRITES and record.closed:
        return _deny("record_closed", visible=True)
    return _allow("representative" if record.is_representative else "holder")


def _decide_professional(
    actor: Actor, verb: Verb, record: RecordFacts, thread: ThreadFacts | None
) -> Decision:
    if record.authorization == "blocked":
        return _deny("blocked_by_patient", visible=True)
    if record.closed:
        return _deny("record_closed", visible=True)
    if actor.mode is not Mode.NORMAL:
        return _deny("messaging_in_normal_care_only", visible=True)
    if record.authorization != "active":
        return _deny("no_authorization", visible=True)
    if thread is not None and actor.ref not in thread.participants:
        return _deny("no_thread", visible=False)
    return _allow("participant" if thread is not None else "authorized")


def thread_clauses(actor: Actor, record: RecordFacts) -> list[ColumnElement[bool]]:
    """The same rule as SQL conditions on ``Thread`` (AND them), for an actor already allowed
    to list the record's threads."""
    if actor.kind is ActorKind.PROFESSIONAL:
        mine = select(Participant.thread_id).where(Participant.ref == actor.ref)
        return [Thread.id.in_(mine)]
    if on_holder_side(actor, record):
        return [holder_side_clause(record, Thread.hidden_from_representatives)]
    return [false()]


def listed_threads(
    actor: Actor, records: list[tuple[uuid.UUID, RecordFacts]]
) -> ColumnElement[bool]:
    """``thread_clauses`` for several records at once, as one condition (a list in one query):
    a professional's own threads on those records; for a patient, each record's rule."""
    if not records:
        return false()
    if actor.kind is ActorKind.PROFESSIONAL:
        mine = select(Participant.thread_id).where(Participant.ref == actor.ref)
        return and_(Thread.patient_id.in_([pid for pid, _ in records]), Thread.id.in_(mine))
    return or_(
        *(and_(Thread.patient_id == pid, *thread_clauses(actor, facts)) for pid, facts in records)
    )


DENIALS: dict[str, CarnetError] = {
    "patient_cannot_start": Forbidden(
        "Patients reply to the threads professionals start: you cannot start one."
    ),
    "record_closed": Conflict("The record is closed: no new message can be written."),
    "blocked_by_patient": Forbidden("The patient has blocked this professional."),
    "messaging_in_normal_care_only": Forbidden(
        "Messaging is for normal care: not in emergency or regulator mode."
    ),
    "no_authorization": Forbidden(
        "Only professionals the patient has authorized can exchange messages with them."
    ),
}


def public_error(decision: Decision) -> CarnetError:
    if decision.reason == "no_thread":
        return NotFound(NO_THREAD)
    if not decision.visible:
        return NotFound(NO_RECORD)
    template = DENIALS.get(decision.reason, Forbidden("This access is not allowed."))
    return type(template)(template.message, field=template.field)


def authorize_messaging(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    verb: Verb,
    *,
    thread: ThreadFacts | None = None,
    resource_id: str | None = None,
    detail: str | None = None,
    facts: RecordFacts | None = None,
) -> RecordFacts:
    """Decide, then audit through the gate; a refusal raises ``AccessDenied`` (audited by the
    transaction boundary). Returns the record's facts for the caller's query scoping."""
    facts = facts or load_facts(session, actor, patient_id)
    if not bound_to(session, actor, patient_id):
        facts = RecordFacts(exists=False)
    decision = decide_messaging(actor, verb, facts, thread)
    action = ACTIONS[verb]
    if not decision.allowed:
        entry: dict[str, Any] = {
            "patient_id": patient_id,
            "action": f"communication.{verb.value}",
            "outcome": "denied",
            "mode": actor.mode.value,
            "reason": actor.reason if actor.mode is not Mode.NORMAL else None,
            "resource_type": "Communication",
            "resource_id": resource_id,
            "detail": decision.reason,
            **actor_fields(actor),
        }
        if not facts.exists and session.get(Patient, patient_id) is None:
            entry["patient_id"] = None  # probing ids must not create audit chains
            entry["resource_id"] = None
        raise AccessDenied(public_error(decision), entry)
    authorize(
        session,
        actor,
        patient_id,
        action,
        resource_type="Communication",
        resource_id=resource_id,
        audit_action=f"communication.{verb.value}",
        detail=detail,
        facts=facts,
    )
    return facts


__all__ = [
    "ThreadFacts",
    "Verb",
    "authorize_messaging",
    "decide_messaging",
    "listed_threads",
    "public_error",
    "thread_clauses",
]
