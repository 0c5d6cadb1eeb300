"""Which patients a professional's portal may name in a list, and the trail of that showing.

A list of patients is patient data: a name and a birth date next to a professional's name tell
who is cared for by whom. So a list names only the patients the policy lets this professional
reach *now* — never from what was once true (an authorization since revoked, a record since
closed) — and each patient named gets one row on their own trail, in the caller's transaction,
before the list is returned (written in one batch: a list is not a round trip per patient).
A patient left out was not shown: nothing is written for them.

- **Whom a professional may write to** (``patients_to_message``): the rule that lets them start
  a conversation (``access.messaging``): an active authorization, in normal care, not blocked,
  the record open, the actor not excluded. Audited as ``patient_list.messaging``.
- **The patients they opened lately** (``recent_patients``, from their own trail): those they
  may still read — in normal care with an active authorization; or, for a patient they reached
  in emergency or regulator mode, in that mode if it is still open to them (the patient has not
  opposed it since) and the patient has not withdrawn nor blocked them. A closed record, a
  blocking patient or an excluded actor: never. Audited as ``patient_list.recent``.
- **The records of their conversations** (``records_with_my_threads``): those where they take
  part in a thread and may still list it (``access.messaging``, and the search rule). This one
  opens the record's messages, so it is audited as a search (``communication.list``, with the
  patient told of a first access), not as a name shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import replace
from itertools import islice
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from carnet.access.gate import (
    Pending,
    actor_fields,
    bound_to,
    check,
    facts_from,
    first_access_key,
    record_all,
)
from carnet.access.messaging import Verb, decide_messaging
from carnet.access.policy import (
    URGENT_MODES,
    Action,
    Actor,
    ActorKind,
    Mode,
    RecordFacts,
    decide,
    scope_allows,
)
from carnet.audit import service as audit
from carnet.audit.models import NotifiedAccess
from carnet.authorizations.models import Authorization, AuthorizationStatus
from carnet.errors import AccessDenied
from carnet.patients.models import Patient
from carnet.records.models import Record

MESSAGING_LIST = "patient_list.messaging"
RECENT_LIST = "patient_list.recent"
LIST_ACTIONS = (MESSAGING_LIST, RECENT_LIST)  # showing a name is not opening the record
THREADS_LIST = "communication.list"  # a professional's inbox listing a record's conversations
WITHDRAWN = frozenset({AuthorizationStatus.REVOKED.value, AuthorizationStatus.BLOCKED.value})


def _professional(actor: Actor) -> bool:
    return actor.kind is ActorKind.PROFESSIONAL and actor.professional_id is not None


def _with_facts(
    session: Session, actor: Actor, query: Any
) -> Iterator[tuple[Patient, RecordFacts, tuple[Any, ...]]]:
    """(patient, facts of their record for this actor, the query's further columns) for each
    row of ``query``, a select of ``Patient, Record, Authorization.status,
    Authorization.treating_doctor`` and any columns added: one round trip."""
    for patient, record, status, treating, *more in session.execute(query).all():
        authorization = (status, bool(treating)) if status is not None else None
        facts = facts_from(session, actor, patient.id, record, authorization)
        if not bound_to(session, actor, patient.id):
            facts = RecordFacts(exists=False)  # a token for one patient names no other
        yield patient, facts, tuple(more)


def _facts_query() -> Any:
    return select(Patient, Record, Authorization.status, Authorization.treating_doctor).join(
        Record, Record.patient_id == Patient.id
    )


def _mine(actor: Actor) -> Any:
    """The join condition of this professional's own authorization on each patient."""
    return and_(
        Authorization.patient_id == Patient.id,
        Authorization.professional_id == actor.professional_id,
    )


def _show(
    session: Session,
    actor: Actor,
    patients: list[Patient],
    action: str,
    secretly: Collection[uuid.UUID] = (),
) -> None:
    """One allowed row on each shown patient's trail, in one batch; marked secret on the
    records the professional reached in a secret connection (``secretly``): the name in their
    list would tell a minor's parents of it."""
    audit.append_many(
        session,
        [
            {
                "patient_id": patient.id,
                "action": action,
                "outcome": "allowed",
                "mode": actor.mode.value,
                "reason": actor.reason if actor.mode is not Mode.NORMAL else None,
                "resource_type": "Patient",
                "resource_id": str(patient.id),
                **actor_fields(actor),
                "secret": actor.secret or patient.id in secretly,
            }
            for patient in patients
        ],
    )


def patients_to_message(
    session: Session, actor: Actor, *, limit: int
) -> tuple[list[Patient], bool]:
    """The patients this professional may start a conversation with, by name, among their
    ``limit`` latest authorizations (a caseload of thousands is not listed, nor traced, on
    every page: others are reached by INS); each name shown is traced. Also: whether older
    authorizations were left out."""
    if not _professional(actor) or not scope_allows(actor, Action.READ, "Patient"):
        return [], False
    query = (
        _facts_query()
        .add_columns(Authorization.hidden_from_representatives)
        .join(Authorization, _mine(actor))
        # narrows the query to the candidates; the messaging rule below decides
        .where(Authorization.status == AuthorizationStatus.ACTIVE.value)
        .order_by(Authorization.updated_at.desc(), Patient.id)
        .limit(limit + 1)
    )
    candidates = list(_with_facts(session, actor, query))
    shown = sorted(
        (
            patient
            for patient, facts, _ in candidates[:limit]
            if decide_messaging(actor, Verb.START, facts).allowed
        ),
        key=lambda p: (p.birth_name, p.birth_given_names, str(p.id)),
    )
    # a minor's consent given in a secret connection: her name in the list is secret too
    secretly = {patient.id for patient, _facts, (hidden,) in candidates if hidden}
    if shown:
        _show(session, actor, shown, MESSAGING_LIST, secretly)
    return shown, len(candidates) > limit


def may_still_read(actor: Actor, facts: RecordFacts, modes: Iterable[Mode]) -> bool:
    """May a professional who reached this record in ``modes`` still read it (see above)?"""
    if decide(replace(actor, mode=Mode.NORMAL, reason=None), Action.READ, facts).allowed:
        return True
    if facts.authorization in WITHDRAWN:
        return False
    for mode in set(modes) & set(URGENT_MODES):
        urgent = replace(actor, mode=mode, reason=actor.reason or "(recent patient)")
        if decide(urgent, Action.READ, facts).allowed:
            return True
    return False


def recent_patients(
    session: Session,
    actor: Actor,
    opened: Iterable[tuple[uuid.UUID, frozenset[Mode]]],
    *,
    limit: int,
    secretly: Collection[uuid.UUID] = (),
) -> list[Patient]:
    """The first ``limit`` of the records this professional ``opened`` (newest first, with the
    modes they used) that they may still read, by name; each shown patient is traced (in
    secret on those ``secretly`` reached in a secret connection)."""
    if not _professional(actor) or not scope_allows(actor, Action.READ, "Patient"):
        return []
    candidates = iter(opened)
    shown: list[Patient] = []
    while len(shown) < limit:
        chunk = dict(islice(candidates, max(limit, 10)))
        if not chunk:
            break
        query = _facts_query().outerjoin(Authorization, _mine(actor))
        allowed = {
            patient.id: patient
            for patient, facts, _ in _with_facts(
                session, actor, query.where(Patient.id.in_(list(chunk)))
            )
            if may_still_read(actor, facts, chunk[patient.id])
        }
        shown.extend(allowed[pid] for pid in chunk if pid in allowed)  # the caller's order
    shown = shown[:limit]
    if shown:
        _show(session, actor, shown, RECENT_LIST, secretly)
    return shown


def records_with_my_threads(
    session: Session,
    actor: Actor,
    patient_ids: Iterable[uuid.UUID],
    secretly: Collection[uuid.UUID] = (),
) -> list[tuple[uuid.UUID, RecordFacts]]:
    """Among ``patient_ids`` (the records of a page of the professional's conversations), those
    whose conversations they may list, with their facts: one query for them all, and one batch
    of trail rows — not a round trip per patient. On the records of ``secretly`` (whose listed
    conversations are all hidden from a minor's representatives) the listing is a secret
    access: its row and any first-access notice are kept from the representatives."""
    if not _professional(actor) or not scope_allows(actor, Action.SEARCH, "Communication"):
        return []
    told = and_(  # was the patient told of this professional's first access already?
        NotifiedAccess.patient_id == Patient.id, NotifiedAccess.key == first_access_key(actor)
    )
    query = (
        _facts_query()
        .add_columns(NotifiedAccess.key)
        .outerjoin(Authorization, _mine(actor))
        .outerjoin(NotifiedAccess, told)
        .where(Patient.id.in_(list(patient_ids)))
        .order_by(Patient.id)
    )
    listed: list[tuple[uuid.UUID, RecordFacts]] = []
    accesses: list[Pending] = []
    for patient, facts, (notified,) in _with_facts(session, actor, query):
        if not decide_messaging(actor, Verb.LIST, facts).allowed:
            continue
        secret = patient.id in secretly and not actor.secret
        try:
            access = check(
                session,
                replace(actor, secret=True) if secret else actor,
                patient.id,
                Action.SEARCH,
                resource_type="Communication",
                audit_action=THREADS_LIST,
                facts=facts,
                first_access_notified=notified is not None,  # a secret actor's: asked again
            )
        except AccessDenied:
            continue  # a refusal leaves the record out of the list (nothing was shown)
        listed.append((patient.id, facts))
        accesses.append(access)
    record_all(session, accesses)
    return listed


__all__ = [
    "LIST_ACTIONS",
    "MESSAGING_LIST",
    "RECENT_LIST",
    "THREADS_LIST",
    "may_still_read",
    "patients_to_message",
    "recent_patients",
    "records_with_my_threads",
]
