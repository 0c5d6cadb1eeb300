"""Record lifecycle use cases (domain.md §3). Every transition is audited with its channel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind, RecordFacts
from carnet.access.gate import (
    actor_fields,
    authorize,
    authorize_creation,
    deny_unknown,
    load_facts,
)
from carnet.access.listing import LIST_ACTIONS
from carnet.access.representation import holder_side_sees, represented_with_record
from carnet.audit import service as audit
from carnet.audit.models import AuditEntry
from carnet.crypto import (
    activation_code,
    decrypt_field,
    encrypt_field,
    keyed_hash,
    normalise_code,
    same,
)
from carnet.db import Base, settings_of
from carnet.errors import Conflict, Forbidden, Invalid, TooManyAttempts
from carnet.identity import parse_ins_identifier, parse_nir
from carnet.notifications.models import enqueue, seal_code
from carnet.patients.models import Patient
from carnet.patients.service import find_by_nir, get_patient, patient_uuid
from carnet.records.models import ActivationCode, Channel, ClosureReason, Record, RecordStatus

CODE_PURPOSE = "activation-code"
PROFESSIONAL_CHANNELS = {Channel.PROFESSIONAL, Channel.PHARMACY, Channel.ESTABLISHMENT}
GENERIC_CODE_ERROR = "The activation code is not valid for this person."


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _trail(
    session: Session, actor: Actor, patient_id: uuid.UUID, action: str, **extra: str
) -> None:
    audit.append(
        session,
        patient_id=patient_id,
        action=action,
        resource_type="Record",
        resource_id=str(patient_id),
        detail=" ".join(f"{k}={v}" for k, v in extra.items()) or None,
        **actor_fields(actor),
    )


def get_record(session: Session, patient_id: uuid.UUID) -> Record | None:
    return session.get(Record, patient_id)


def create_record(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    channel: Channel,
    patient_consented: bool = False,
    emergency_access_opposed: bool = False,
    regulator_access_opposed: bool = False,
) -> Record:
    """Create a record through a counter channel (insurer, pharmacy, professional,
    establishment) or the automatic opt-out route. Online creation is ``activate_record``."""
    get_patient(session, patient_id, actor=actor, action=Action.WRITE)
    if channel is Channel.ONLINE:
        raise Invalid("Online creation goes through activation with a code.", field="channel")
    authorize_creation(session, actor, patient_id, channel.value)
    if channel in PROFESSIONAL_CHANNELS and not patient_consented:
        raise Invalid(
            "Creating a record at a counter needs the patient's consent, recorded explicitly.",
            field="patient_consented",
        )
    now = clock.now()
    record = session.get(Record, patient_id)
    if record is not None and record.status != RecordStatus.OPPOSED.value:
        raise Conflict("A record already exists for this person.")
    if record is not None and channel is Channel.OPT_OUT:
        # Only the person lifts their opposition (online, or at a counter with their consent).
        raise Conflict("This person opposed the automatic creation of their record.")
    settings = settings_of(session)
    pending = channel is Channel.OPT_OUT
    if record is None:
        record = Record(patient_id=patient_id)
        session.add(record)
    record.status = (RecordStatus.PENDING if pending else RecordStatus.OPEN).value
    record.channel = channel.value
    record.created_at = now
    record.created_by = actor.ref
    record.opens_at = now + timedelta(days=settings.opt_out_window_days) if pending else now
    record.opposed_at = None
    record.emergency_access_opposed = emergency_access_opposed
    record.regulator_access_opposed = regulator_access_opposed
    session.flush()
    # The consent is part of what happened: kept on the trail (as the DMP keeps it, TD1.x).
    consent = {"patient_consented": "true"} if patient_consented and not pending else {}
    _trail(session, actor, patient_id, "record.create", channel=channel.value, **consent)
    return record


def issue_activation_code(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, delivery: str = "letter"
) -> str:
    """Issue a one-time activation code (insurer's letter, e-mail or SMS); returns the
    plaintext once, keeps only its keyed hash. Earlier unused codes are revoked."""
    if actor.kind not in (ActorKind.OPERATOR, ActorKind.ANONYMOUS):
        raise Forbidden("Activation codes are issued by the insurer.")
    if delivery not in ("letter", "email", "sms"):
        raise Invalid("Delivery must be letter, email or sms.", field="delivery")
    patient = get_patient(session, patient_id, actor=actor, action=Action.ADMINISTER)
    settings = settings_of(session)
    now = clock.now()
    record = session.get(Record, patient_id)
    if record is not None and record.effective_status(now) is RecordStatus.PENDING:
        # The opposition window runs from the notice that tells the person about it: a code
        # sent late must not leave them fewer days than the law gives them to oppose.
        notice_window = now + timedelta(days=settings.opt_out_window_days)
        if record.opens_at is not None and record.opens_at < notice_window:
            record.opens_at = notice_window
    session.execute(
        update(ActivationCode)
        .where(
            ActivationCode.patient_id == patient_id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    code = activation_code()
    session.add(
        ActivationCode(
            patient_id=patient_id,
            code_hash=keyed_hash(settings.secret_key, CODE_PURPOSE, normalise_code(code)),
            delivery=delivery,
            expires_at=now + timedelta(days=settings.activation_code_ttl_days),
        )
    )
    if delivery in ("email", "sms"):
        if not (patient.email if delivery == "email" else patient.phone):
            raise Invalid(f"No {delivery} contact is known for this person.", field="delivery")
        session.add(
            enqueue(
                "activation_code",
                patient_id=patient_id,
                channel=delivery,
                code_sealed=seal_code(settings.secret_key, code),
            )
        )
    _trail(session, actor, patient_id, "activation_code.issue", delivery=delivery)
    return code


def request_activation_code(
    session: Session, *, nir: str, vitale_serial: str, channel: str = "email"
) -> None:
    """A person asks for a code with their NIR and carte Vitale serial number. The answer never
    says whether the details matched (no enumeration of who has a record)."""
    if channel not in ("email", "sms"):  # checked first: refusing only on a match would tell
        raise Invalid("The code can be sent by email or sms.", field="channel")
    # A malformed NIR is refused whoever exists (its key is public arithmetic): no enumeration.
    patient = find_by_nir(session, parse_nir(nir, field="nir").value)
    if patient is None or not patient.vitale_serial:
        return
    if not same(normalise_code(patient.vitale_serial), normalise_code(vitale_serial)):
        return
    contact = patient.email if channel == "email" else patient.phone
    if not contact:
        return
    anonymous = Actor(kind=ActorKind.ANONYMOUS, ref="self-service")
    issue_activation_code(session, anonymous, patient.id, delivery=channel)


def _consume_code(session: Session, patient: Patient, code: str) -> ActivationCode:
    settings = settings_of(session)
    now = clock.now()
    candidate = session.execute(
        select(ActivationCode)
        .where(
            ActivationCode.patient_id == patient.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
        )
        .order_by(ActivationCode.created_at.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if candidate is None or candidate.expires_at <= now:
        raise Invalid(GENERIC_CODE_ERROR, field="code")  # same words: no state is revealed
    if candidate.locked_at is not None:
        raise TooManyAttempts(
            "This activation code is locked after too many wrong tries; ask for a new one.",
            field="code",
        )
    expected = keyed_hash(settings.secret_key, CODE_PURPOSE, normalise_code(code))
    if not same(expected, candidate.code_hash):
        candidate.failed_attempts += 1
        if candidate.failed_attempts >= settings.activation_code_max_attempts:
            candidate.locked_at = now
            raise TooManyAttempts(
                "Too many wrong tries: this activation code is now locked; ask for a new one.",
                field="code",
                keep_changes=True,
            )
        raise Invalid(GENERIC_CODE_ERROR, field="code", keep_changes=True)
    candidate.used_at = now
    return candidate


def _identify(session: Session, nir: str, birth_date: date | None) -> Patient:
    patient = find_by_nir(session, parse_nir(nir).value)
    if patient is None or (birth_date is not None and patient.birth_date != birth_date):
        raise Invalid(GENERIC_CODE_ERROR, field="code")
    return patient


def activate_record(session: Session, *, nir: str, code: str, birth_date: date) -> Patient:
    """The patient activates their record online with the code: creates it (online channel) if
    there is none, or ends the opt-out window of an automatic one. Accounts are made by the
    caller (``accounts.service.create_account``) in the same transaction."""
    patient = _identify(session, nir, birth_date)
    # The code is checked before the state: without it, nobody learns that a record is closed.
    _consume_code(session, patient, code)
    record = session.get(Record, patient.id)
    if record is not None and record.status == RecordStatus.CLOSED.value:
        raise Conflict("This record is closed: reopen it from the reactivation page.")
    now = clock.now()
    holder = Actor(kind=ActorKind.PATIENT, ref=f"patient:{patient.id}", patient_id=patient.id)
    if record is None or record.status == RecordStatus.OPPOSED.value:
        if record is None:
            record = Record(patient_id=patient.id)
            session.add(record)
        record.status = RecordStatus.OPEN.value
        record.channel = Channel.ONLINE.value
        record.created_at = now
        record.created_by = holder.ref
        record.opens_at = now
        record.opposed_at = None
        _trail(session, holder, patient.id, "record.create", channel=Channel.ONLINE.value)
    elif record.status == RecordStatus.PENDING.value:
        record.status = RecordStatus.OPEN.value
        record.opens_at = now
    record.activated_at = now
    session.flush()
    _trail(session, holder, patient.id, "record.activate")
    return patient


def oppose_creation(session: Session, *, nir: str, code: str, birth_date: date) -> None:
    """Oppose an automatic creation during its opposition window: no record will exist."""
    patient = _identify(session, nir, birth_date)
    # The code is checked before the state: without it, nobody learns whether a record exists.
    _consume_code(session, patient, code)
    record = session.get(Record, patient.id)
    now = clock.now()
    if record is None or record.effective_status(now) is not RecordStatus.PENDING:
        raise Conflict("There is no record creation to oppose (the window may have ended).")
    record.status = RecordStatus.OPPOSED.value
    record.opposed_at = now
    actor = Actor(kind=ActorKind.PATIENT, ref=f"patient:{patient.id}", patient_id=patient.id)
    _trail(session, actor, patient.id, "record.oppose_creation")


def set_access_choices(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    emergency_access_opposed: bool,
    regulator_access_opposed: bool,
) -> Record:
    """The patient's two independent choices (domain.md §1.3)."""
    authorize(
        session,
        actor,
        patient_id,
        Action.MANAGE,
        resource_type="Record",
        resource_id=str(patient_id),
        audit_action="record.access_choices",
        detail=f"emergency_opposed={emergency_access_opposed} "
        f"regulator_opposed={regulator_access_opposed}",
    )
    record = session.get(Record, patient_id)
    assert record is not None
    record.emergency_access_opposed = emergency_access_opposed
    record.regulator_access_opposed = regulator_access_opposed
    return record


def close_record(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    reason: ClosureReason = ClosureReason.PATIENT_REQUEST,
    comment: str | None = None,
    delete_now: bool = False,
) -> Record:
    """Close at any time: read-only, kept ``retention_years`` then purged (or at the next
    purge when the patient asks for definitive deletion)."""
    authorize(
        session,
        actor,
        patient_id,
        Action.LIFECYCLE,
        resource_type="Record",
        resource_id=str(patient_id),
        audit_action="record.close",
        detail=f"reason={reason.value}",
    )
    record = session.get(Record, patient_id)
    assert record is not None
    if record.status == RecordStatus.CLOSED.value:
        raise Conflict("The record is already closed.")
    now = clock.now()
    record.status = RecordStatus.CLOSED.value
    record.closed_at = now
    record.closure_reason = reason.value
    record.closure_comment = (comment or "").strip()[:500] or None
    record.deletion_requested = delete_now
    record.retention_until = (
        now if delete_now else _add_years(now, settings_of(session).retention_years)
    )
    return record


def reactivate_record(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, patient_consented: bool
) -> Record:
    """Reopen a closed record; needs the patient's explicit consent (DEVBOX #123)."""
    if not patient_consented:
        raise Invalid(
            "Reopening a record needs the patient's explicit consent.", field="patient_consented"
        )
    record = session.get(Record, patient_id)
    authorize(
        session,
        actor,
        patient_id,
        Action.REOPEN,
        resource_type="Record",
        resource_id=str(patient_id),
        audit_action="record.reactivate",
        detail="patient_consented=true",  # checked above: the trail keeps the consent
    )
    assert record is not None
    if record.status != RecordStatus.CLOSED.value:
        raise Conflict("The record is not closed.")
    if record.deletion_requested:
        raise Conflict("Definitive deletion was requested: this record can no longer be reopened.")
    record.status = RecordStatus.OPEN.value
    record.reactivated_at = clock.now()
    record.closed_at = None
    record.closure_reason = None
    record.closure_comment = None
    record.retention_until = None
    return record


@dataclass(frozen=True)
class PurgeReport:
    purged: int
    at: datetime


def purge_due(session: Session, actor: Actor, *, limit: int = 1000) -> PurgeReport:
    """Physically remove records whose retention has ended (and everything that belongs to the
    patient). The system trail keeps a count, without identifiers."""
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can purge.")
    now = clock.now()
    due = list(
        session.execute(
            select(Record.patient_id)
            .where(Record.status == RecordStatus.CLOSED.value, Record.retention_until <= now)
            .limit(limit)
        ).scalars()
    )
    for patient_id in due:
        purge_patient(session, patient_id)
    audit.append(
        session,
        patient_id=None,
        action="record.purge",
        detail=f"purged={len(due)}",
        **actor_fields(actor),
    )
    return PurgeReport(len(due), now)


def purge_patient(session: Session, patient_id: uuid.UUID) -> None:
    """Destroy the patient's document key and contents (crypto-shredding), then delete every
    row that carries this patient's id, then the trail and the identity."""
    from carnet.documents.service import shred_patient

    shred_patient(session, patient_id)
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in ("patients", "audit_entries", "audit_heads"):
            continue
        if "patient_id" in table.c:
            session.execute(delete(table).where(table.c.patient_id == patient_id))
        if "representative_id" in table.c:
            session.execute(delete(table).where(table.c.representative_id == patient_id))
    audit.erase_chain(session, patient_id)
    session.execute(delete(Patient).where(Patient.id == patient_id))


@dataclass(frozen=True)
class RecordView:
    """What TD0.2 answers: the record's state and this actor's standing on it."""

    patient: Patient
    record: Record
    status: RecordStatus
    authorization: str | None  # active | revoked | blocked | None
    treating_doctor: bool
    holder_view: bool  # the holder (or representative) may see their identity traits
    facts: RecordFacts  # what the decision rested on (later checks of the same page reuse it)


PATIENT_AND_RECORD = (
    select(Patient, Record)
    .outerjoin(Record, Record.patient_id == Patient.id)
    .where(Patient.nir == bindparam("nir"))
)


def lookup_by_identifier(session: Session, actor: Actor, identifier: str) -> RecordView:
    """TD0.2: the record of the person with this INS, as this actor may see it. The person and
    their record come in one query (the hot path of professionals' software)."""
    ins = parse_ins_identifier(identifier, field="identifier")
    row = session.execute(PATIENT_AND_RECORD, {"nir": ins.matricule}).first()
    if row is None or row[0].ins_oid != ins.oid:
        raise deny_unknown(actor, action=Action.LOOKUP, resource_type="Patient")
    return lookup_record(session, actor, row[0], record=row[1])


def lookup_by_id(session: Session, actor: Actor, patient_id: uuid.UUID | str) -> RecordView:
    """Probing ids is traced like probing INS: an unknown or malformed id is an audited denial."""
    patient = get_patient(session, patient_id, actor=actor, action=Action.LOOKUP)
    return lookup_record(session, actor, patient)


def lookup_record(
    session: Session, actor: Actor, patient: Patient, *, record: Record | None = None
) -> RecordView:
    action = Action.LOOKUP if actor.kind is ActorKind.PROFESSIONAL else Action.READ
    record = record or session.get(Record, patient.id)  # held here: the identity map is weak
    facts = load_facts(session, actor, patient.id, record=record)
    authorize(
        session,
        actor,
        patient.id,
        action,
        resource_type="Patient",
        resource_id=str(patient.id),
        audit_action="lookup",
        facts=facts,
    )
    assert record is not None
    return RecordView(
        patient=patient,
        record=record,
        status=record.effective_status(clock.now()),
        authorization=facts.authorization,
        treating_doctor=facts.treating_doctor,
        holder_view=facts.is_holder or facts.is_representative,
        facts=facts,
    )


def _authorize_trail(session: Session, actor: Actor, patient_id: uuid.UUID) -> audit.Ties | None:
    """Reading the access history is an access of its own: decided and traced. Returns what
    ties rows to what is kept from this reader: what concerns a document kept invisible to
    the patient for now waits until it is made visible (decision 9); a minor's legal
    representative does not read, in the minor's history, what concerns the documents hidden
    from them, nor what was done in a secret connection."""
    from carnet.agenda import service as agenda
    from carnet.documents import service as documents
    from carnet.messaging import service as messaging

    facts = load_facts(session, actor, patient_id)
    authorize(
        session,
        actor,
        patient_id,
        Action.READ_TRAIL,
        resource_type="AuditEvent",
        audit_action="read_trail",
        facts=facts,
    )
    representative = not holder_side_sees(facts, True)
    ties = documents.trail_ties(session, patient_id, hidden_from_representatives=representative)
    if not representative:
        return ties
    # a representative: nothing of the documents, conversations and appointments hidden from
    # them, nor of the secret connections
    return (
        audit.Ties(secret_connections=True)
        | ties
        | messaging.trail_ties(session, patient_id)
        | agenda.trail_ties(session, patient_id)
    )


def read_trail(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID | str,
    *,
    limit: int = 50,
    before: str | None = None,
    own_reads: bool = True,
) -> list[AuditEntry]:
    """The patient's access history, newest first (the read itself is traced too; a malformed
    id is an audited denial like an unknown one), older than the page cursor ``before``
    (``trail_cursor``); without ``own_reads``, the reader's own consultations left out (their
    changes stay)."""
    patient_id = patient_uuid(patient_id, actor=actor, action=Action.READ_TRAIL)
    kept = _authorize_trail(session, actor, patient_id)
    return audit.trail(
        session,
        patient_id,
        limit=limit,
        before_seq=_cursor_seq(session, patient_id, before) if before else None,
        leave_out_reads_of=None if own_reads else (actor.kind.value, actor.ref),
        leave_out_tied=kept,
    )


def trail_cursor(session: Session, patient_id: uuid.UUID, last: AuditEntry) -> str:
    """Where the next page of the history starts, sealed: a row's place in the chain would
    tell, by the gaps between pages, how many rows are kept from the reader, and when."""
    return encrypt_field(settings_of(session).secret_key, f"trail:{patient_id}:{last.seq}")


def _cursor_seq(session: Session, patient_id: uuid.UUID, cursor: str) -> int:
    try:
        kind, of, seq = decrypt_field(settings_of(session).secret_key, cursor).split(":")
        if kind != "trail" or of != str(patient_id):
            raise ValueError(of)
        return int(seq)
    except (ValueError, InvalidTag):  # forged, altered, truncated, or another record's
        raise Invalid(
            "This page link is not valid: start from the newest.", field="_cursor"
        ) from None


# --- the patient portal -------------------------------------------------------------------


@dataclass(frozen=True)
class RecordInView:
    """Whose record a signed-in patient is looking at, and which others they may switch to.
    Nothing of the record itself: each page reads what it shows through the gate."""

    patient: Patient
    choices: list[Patient]  # their own record first, then the minors they represent
    own: bool


def record_in_view(session: Session, actor: Actor, requested: str | None) -> RecordInView:
    """The record a patient asked for (``?record=<id>``): their own, or that of a minor they
    currently represent (``access.representation``, the rule the gate applies); anything else
    falls back to their own. Access to what is inside is decided by each service call."""
    if actor.kind is not ActorKind.PATIENT or actor.patient_id is None:
        raise Forbidden("This page is for patients.")
    own = get_patient(session, actor.patient_id)
    choices = [own, *represented_with_record(session, actor.patient_id)]
    chosen = next((p for p in choices if requested and str(p.id) == requested), own)
    return RecordInView(patient=chosen, choices=choices, own=chosen.id == own.id)


def record_state(session: Session, actor: Actor, patient_id: uuid.UUID) -> Record:
    """The record's state and the holder's choices on emergency access, for the patient portal
    (settings, authorizations): read by the holder or a current legal representative of the
    minor, through the gate and on the trail; refused (and audited) to whoever the policy does
    not let read the record — "not found" for whoever may not know that it exists."""
    record = session.get(Record, patient_id)
    authorize(
        session,
        actor,
        patient_id,
        Action.READ,
        resource_type="Record",
        resource_id=str(patient_id),
        audit_action="read",
        facts=load_facts(session, actor, patient_id, record=record),
    )
    assert record is not None  # the gate refuses a record that does not exist
    return record


@dataclass(frozen=True)
class WhatIsNew:
    """The patient's home: what changed in the record since their previous visit."""

    since: datetime | None
    documents: list[Any]  # DocumentEntry rows recorded since
    accesses: list[AuditEntry]  # what others did on the record since, newest first
    waiting_for_doctor: int


def what_is_new(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, since: datetime | None
) -> WhatIsNew:
    from carnet.documents import service as documents

    shown = 20 if since is not None else 5  # a first visit gets a short summary, not it all
    query = documents.DocumentQuery(count=shown)
    if since is not None:
        query.last_updated = [("gt", since)]
    entries = documents.list_documents(session, actor, patient_id, query)
    kept = _authorize_trail(session, actor, patient_id)
    accesses = audit.trail(  # what others did: not the patient's nor the parents' own
        session,
        patient_id,
        since=since,
        leave_out_kinds=("patient", "representative"),
        leave_out_actions=LIST_ACTIONS,  # a name in a professional's list: in the history only
        leave_out_tied=kept,
        limit=shown,
    )
    waiting = documents.waiting_for_patient(session, actor, patient_id)
    return WhatIsNew(since, entries, accesses, waiting)
