"""The gate every service passes before touching patient data: load the facts, decide, write
the audit row in the same transaction, notify the patient when the access calls for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Uuid, and_, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from carnet import clock
from carnet.access.policy import (
    Action,
    Actor,
    ActorKind,
    Decision,
    Mode,
    RecordFacts,
    decide,
    decide_creation,
    scope_allows,
)
from carnet.access.representation import HOLDER_SIDE, in_secret_connection, represents
from carnet.apps.models import App, AppGrant
from carnet.audit import service as audit
from carnet.audit.models import NotifiedAccess
from carnet.authorizations.models import Authorization
from carnet.db import core
from carnet.errors import (
    AccessDenied,
    CarnetError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from carnet.notifications.models import enqueue
from carnet.patients.models import Patient
from carnet.records.models import Record, RecordState, RecordStatus

NOT_FOUND_MESSAGE = "No record was found for this patient."

DENIAL_ERRORS: dict[str, CarnetError] = {
    "blocked_by_patient": Forbidden("The patient has blocked this professional."),
    "record_closed": Conflict(
        "The record is closed: it is read-only until the patient reopens it."
    ),
    "no_authorization": Forbidden(
        "The patient has not authorized this professional: record the patient's consent, or "
        "use emergency access with a reason if the patient cannot consent."
    ),
    "emergency_reason_required": Invalid(
        "Emergency access (bris de glace) needs a reason.", field="reason"
    ),
    "emergency_opposed": Forbidden("The patient has opposed emergency access to the record."),
    "regulator_opposed": Forbidden("The patient has opposed access by the SAMU regulator."),
    "not_a_regulator": Forbidden("Regulator mode is reserved to SAMU regulating physicians."),
    "app_cannot_manage": Forbidden("Connected apps cannot manage the record."),
    "app_disconnected": Unauthenticated("This app is no longer connected to the record."),
    "insufficient_scope": Forbidden("The access token's scopes do not cover this request."),
    "channel_not_for_actor": Forbidden("This creation channel is not yours to use."),
    "not_a_pharmacist": Forbidden("Only a pharmacist can create a record at the pharmacy counter."),
}


AUTHORIZATION_OF = select(Authorization).where(  # built once: every access runs it
    Authorization.patient_id == bindparam("p", type_=Uuid()),
    Authorization.professional_id == bindparam("r", type_=Uuid()),
)


def bound_to(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    """Does the actor's token (if bound to one patient) name this patient?"""
    if actor.bound_patient_id is not None and actor.bound_patient_id != patient_id:
        return False
    if actor.bound_patient_ins is not None:
        return _ins_of(session, patient_id) == actor.bound_patient_ins
    return True


_KNOWN_INS = "carnet.known_ins"  # session.info: "<OID>|<matricule>" of patients read, by id
INS_OF = select(Patient.ins_oid, Patient.nir).where(Patient.id == bindparam("i", type_=Uuid()))


def _ins_of(session: Session, patient_id: uuid.UUID) -> str | None:
    """The patient's INS as tokens name it, read once per session (``load_subject`` notes it
    as it finds the patient: an INS never changes once registered)."""
    known: dict[uuid.UUID, str | None] = session.info.setdefault(_KNOWN_INS, {})
    if patient_id not in known:
        row = core(session).execute(INS_OF, {"i": patient_id}).first()
        known[patient_id] = f"{row.ins_oid}|{row.nir}" if row is not None else None
    return known[patient_id]


def app_connected(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    """An app (or Carnet's own patient client) acts only while the patient's grant lives and
    the operator keeps the app listed: disconnecting takes effect at once."""
    if actor.account_id is None or actor.client_id is None:
        return True
    found = session.execute(
        APP_GRANT_OF, {"p": actor.bound_patient_id or patient_id, "c": actor.client_id}
    ).first()
    return found is not None


APP_GRANT_OF = (
    select(AppGrant.id)
    .join(App, App.client_id == AppGrant.client_id)
    .where(
        AppGrant.patient_id == bindparam("p", type_=Uuid()),
        AppGrant.client_id == bindparam("c"),
        AppGrant.revoked_at.is_(None),
        App.active.is_(True),
    )
    .limit(1)
)


def load_facts(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, record: Record | None = None
) -> RecordFacts:
    """The facts the decision needs; ``record`` may be passed when the caller loaded it."""
    record = record if record is not None else session.get(Record, patient_id)
    authorization: tuple[str, bool] | None = None
    if record is not None and actor.professional_id is not None:
        row = session.execute(
            AUTHORIZATION_OF, {"p": patient_id, "r": actor.professional_id}
        ).scalar_one_or_none()
        authorization = (row.status, row.treating_doctor) if row is not None else None
    return facts_from(session, actor, patient_id, record, authorization)


def facts_from(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    record: Record | RecordState | None,
    authorization: tuple[str, bool] | None,
) -> RecordFacts:
    """The facts of a record and of this actor's ``(status, treating doctor)`` authorization
    on it, when the caller loaded them itself (several records in one query, for a list)."""
    if record is None:
        return RecordFacts(exists=False)
    status = record.effective_status(clock.now())
    if status not in (RecordStatus.OPEN, RecordStatus.CLOSED):
        return RecordFacts(exists=False)
    is_holder = actor.kind in (ActorKind.PATIENT, ActorKind.APP) and actor.patient_id == patient_id
    is_representative = False
    if actor.kind in (ActorKind.PATIENT, ActorKind.APP) and not is_holder and actor.patient_id:
        is_representative = represents(session, actor.patient_id, patient_id)
    return RecordFacts(
        exists=True,
        closed=status is RecordStatus.CLOSED,
        emergency_opposed=record.emergency_access_opposed,
        regulator_opposed=record.regulator_access_opposed,
        authorization=authorization[0] if authorization else None,
        treating_doctor=bool(authorization and authorization[1]),
        is_holder=is_holder,
        is_representative=is_representative,
    )


@dataclass(frozen=True)
class Subject:
    """A patient, the facts of their record for this actor, and whether the patient was
    already told of this professional's first access — loaded in one query."""

    patient_id: uuid.UUID | None
    facts: RecordFacts
    first_access_notified: bool | None = None  # None: not known (ask the database)


def _subject_query(by_ins: bool) -> Any:
    query = (
        select(
            Patient.id,
            Record.status,
            Record.opens_at,
            Record.emergency_access_opposed,
            Record.regulator_access_opposed,
            Authorization.status,
            Authorization.treating_doctor,
            NotifiedAccess.key,
            Patient.ins_oid,
            Patient.nir,
        )
        .outerjoin(Record, Record.patient_id == Patient.id)
        .outerjoin(
            Authorization,
            and_(
                Authorization.patient_id == Patient.id,
                Authorization.professional_id == bindparam("r", type_=Uuid()),
            ),
        )
        .outerjoin(
            NotifiedAccess,
            and_(NotifiedAccess.patient_id == Patient.id, NotifiedAccess.key == bindparam("k")),
        )
    )
    if by_ins:
        return query.where(Patient.nir == bindparam("n"), Patient.ins_oid == bindparam("o"))
    return query.where(Patient.id == bindparam("i", type_=Uuid()))


SUBJECT_BY_INS = _subject_query(by_ins=True)  # built once: the document paths run them
SUBJECT_BY_ID = _subject_query(by_ins=False)


def load_subject(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID | None = None,
    ins: tuple[str, str] | None = None,
) -> Subject:
    """The patient named by id or by INS ``(matricule, oid)``, with the facts of their record,
    in one round trip (the hot paths: ITI-65 and ITI-67)."""
    params: dict[str, Any] = {"r": actor.professional_id, "k": first_access_key(actor)}
    if ins is not None:
        row = core(session).execute(SUBJECT_BY_INS, {**params, "n": ins[0], "o": ins[1]}).first()
    else:
        row = core(session).execute(SUBJECT_BY_ID, {**params, "i": patient_id}).first()
    if row is None:
        return Subject(None, RecordFacts(exists=False))
    found, record_status, opens_at, no_emergency, no_regulator, status, treating, notified = row[:8]
    if actor.bound_patient_ins is not None:  # noted for ``bound_to``, the only reader
        session.info.setdefault(_KNOWN_INS, {})[found] = f"{row.ins_oid}|{row.nir}"
    record = (
        RecordState(record_status, opens_at, bool(no_emergency), bool(no_regulator))
        if record_status is not None
        else None
    )
    authorization = (status, bool(treating)) if status is not None else None
    facts = facts_from(session, actor, found, record, authorization)
    return Subject(found, facts, first_access_notified=notified is not None)


def first_access_key(actor: Actor) -> str:
    """The key of a professional's first access, of which the patient is told once. A first
    access in a secret connection has its own: told to the minor only, it must not stand for
    the first normal access, of which the representatives are told."""
    return f"first:{actor.ref}" + (":secret" if actor.secret else "")


def actor_fields(actor: Actor) -> dict[str, Any]:
    return {
        "actor_kind": actor.kind.value,
        "actor_ref": actor.ref,
        "actor_name": actor.display_name or None,
        "actor_profession": actor.profession,
        "actor_structure": actor.structure_name,
        "client_id": actor.client_id,
        "secret": actor.secret,
    }


@dataclass
class Pending:
    """An allowed access whose audit row is still to be recorded (``record``), so that a
    service may run its query first and record, with the access, the rows of what it did
    (``also``). The rows are written in the same transaction, at its commit (``audit``):
    nothing is returned to the caller before."""

    decision: Decision
    entry: dict[str, Any]
    actor: Actor
    action: Action
    first_access_notified: bool | None = None

    def record(self, session: Session, also: list[dict[str, Any]] | None = None) -> Decision:
        """Record the access's audit row (and ``also``, rows of what the access did on the
        same chain), then notify the patient when the access calls for it."""
        audit.append_many(session, [self.entry], access=True)
        if also:
            audit.append_many(session, also)
        self._notify(session)
        return self.decision

    def _notify(self, session: Session) -> None:
        if self.actor.kind is ActorKind.PROFESSIONAL and self.action in (
            Action.READ,
            Action.SEARCH,
        ):
            _notify_patient(
                session,
                self.actor,
                self.entry["patient_id"],
                self.decision,
                self.first_access_notified,
            )


def record_all(session: Session, accesses: list[Pending]) -> None:
    """``Pending.record`` for many records at once (a list of a professional's conversations,
    say): their rows in one batch, and each patient told of a first access as a single access
    would."""
    audit.append_many(session, [access.entry for access in accesses], access=True)
    for access in accesses:
        access._notify(session)


def check(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    action: Action,
    *,
    resource_type: str | None = None,
    resource_id: str | None = None,
    audit_action: str | None = None,
    detail: str | None = None,
    facts: RecordFacts | None = None,
    first_access_notified: bool | None = None,
) -> Pending:
    """Decide. Raises ``AccessDenied`` (audited by the transaction boundary) when refused;
    otherwise returns the access to ``record`` before the transaction ends."""
    facts = facts or load_facts(session, actor, patient_id)
    if not bound_to(session, actor, patient_id):
        facts = RecordFacts(exists=False)  # a token for one patient sees no other record
    decision = decide(actor, action, facts)
    if decision.allowed and not app_connected(session, actor, patient_id):
        decision = Decision(False, "app_disconnected", True)
    if decision.allowed and not scope_allows(actor, action, resource_type):
        decision = Decision(False, "insufficient_scope", True, decision.mode)
    mode = actor.mode  # the declared purpose of use is traced on every row of the session
    entry: dict[str, Any] = {
        "patient_id": patient_id,
        "action": audit_action or action.value,
        "outcome": "allowed" if decision.allowed else "denied",
        "mode": mode.value,
        "reason": actor.reason if mode is not Mode.NORMAL else None,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "detail": detail if decision.allowed else decision.reason,
        **actor_fields(actor),
    }
    if actor.kind in HOLDER_SIDE and facts.is_representative:
        entry["actor_kind"] = "representative" if actor.kind is ActorKind.PATIENT else "app"
    if not decision.allowed:
        if not facts.exists and session.get(Patient, patient_id) is None:
            entry["patient_id"] = None  # probing ids must not create audit chains
            entry["resource_id"] = None
        raise AccessDenied(_public_error(decision), entry)
    return Pending(decision, entry, actor, action, first_access_notified)


def authorize(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    action: Action,
    *,
    resource_type: str | None = None,
    resource_id: str | None = None,
    audit_action: str | None = None,
    detail: str | None = None,
    facts: RecordFacts | None = None,
) -> Decision:
    """Decide, audit, notify. Raises ``AccessDenied`` (audited by the transaction boundary).
    ``facts`` may be passed when the caller already loaded them (saves the queries)."""
    return check(
        session,
        actor,
        patient_id,
        action,
        resource_type=resource_type,
        resource_id=resource_id,
        audit_action=audit_action,
        detail=detail,
        facts=facts,
    ).record(session)


def authorize_creation(
    session: Session, actor: Actor, patient_id: uuid.UUID, channel: str
) -> Decision:
    """May ``actor`` create this person's record through ``channel``? Refusals are audited
    on the person's chain; the creation itself is traced by the records service."""
    if not bound_to(session, actor, patient_id):
        decision = Decision(False, "no_record", False)  # a token for one patient only
    else:
        decision = decide_creation(actor, channel)
    if not decision.allowed:
        entry: dict[str, Any] = {
            "patient_id": patient_id,
            "action": "record.create",
            "outcome": "denied",
            "mode": actor.mode.value,
            "resource_type": "Record",
            "detail": decision.reason,
            **actor_fields(actor),
        }
        raise AccessDenied(_public_error(decision), entry)
    return decision


def deny_unknown(actor: Actor, *, action: Action, resource_type: str | None = None) -> AccessDenied:
    """A refusal about no known patient: audited on the system chain, without identifiers."""
    entry: dict[str, Any] = {
        "patient_id": None,
        "action": action.value,
        "outcome": "denied",
        "mode": actor.mode.value,
        "resource_type": resource_type,
        "detail": "unknown_patient",
        **actor_fields(actor),
    }
    return AccessDenied(NotFound(NOT_FOUND_MESSAGE), entry)


def _public_error(decision: Decision) -> CarnetError:
    if not decision.visible:
        return NotFound(NOT_FOUND_MESSAGE)
    template = DENIAL_ERRORS.get(decision.reason, Forbidden("This access is not allowed."))
    return type(template)(template.message, field=template.field)  # a fresh error per request


def _added_here(session: Session, patient_id: uuid.UUID, key: str) -> bool:
    if session.identity_map.get(identity_key(NotifiedAccess, (patient_id, key))) is not None:
        return True
    return any(
        isinstance(o, NotifiedAccess) and o.patient_id == patient_id and o.key == key
        for o in session.new
    )


def _notify_patient(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    decision: Decision,
    first_access_notified: bool | None = None,
) -> None:
    if actor.secret:
        # a secret connection to an adult's record is a normal one: her notice is the normal one
        actor = replace(actor, secret=in_secret_connection(session, actor, patient_id))
        first_access_notified = None  # the record's facts asked after the secret key
    first = first_access_key(actor)
    keys = [first]
    if decision.emergency:
        keys.append(f"emergency:{actor.session_id or actor.ref}")

    def known(key: str) -> bool:
        if key == first and first_access_notified is not None:
            # loaded with the record's facts; this transaction may have added it since
            return first_access_notified or _added_here(session, patient_id, key)
        return session.get(NotifiedAccess, (patient_id, key)) is not None

    fresh = [k for k in keys if not known(k)]
    for key in fresh:
        session.add(NotifiedAccess(patient_id=patient_id, key=key, at=clock.now()))
    for key in fresh:
        if key == first and len(fresh) == 2:
            continue  # one message: the emergency one says it all
        template = "emergency_access" if key.startswith("emergency:") else "first_access"
        session.add(
            enqueue(
                template,
                patient_id=patient_id,
                professional=actor.display_name,
                profession=actor.profession,
                structure=actor.structure_name,
                mode=decision.mode.value,
                reason=actor.reason if decision.emergency else None,
                at=clock.now().isoformat(),
                # a secret connection's notice goes to the minor, never to the representatives
                secret=actor.secret or None,
            )
        )
