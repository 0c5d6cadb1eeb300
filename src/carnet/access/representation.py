"""Who acts for whom: the one definition of "a current legal representative of a minor".

A representative acts for a patient while the link the insurer recorded is not ended and the
patient is under ``CARNET_MAJORITY_AGE`` (docs/decisions/0002): a child who comes of age is their
own person, whether or not the link was ended. The gate decides every access with ``represents``;
the portal's record switcher, the app consent page and the notices ask the same rule for their
lists, so that what they offer is what the gate will allow.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from carnet import clock
from carnet.access.policy import Actor, ActorKind, RecordFacts
from carnet.db import settings_of
from carnet.errors import Invalid
from carnet.patients.models import LegalRepresentative, Patient, age_on
from carnet.records.models import Record, RecordStatus, effective_status

CURRENT_LINK = LegalRepresentative.ended_at.is_(None)
HOLDER_SIDE = (ActorKind.PATIENT, ActorKind.APP)  # the patient, or their app, or a parent


# --- what the holder's side sees: the one rule the agenda and messaging share -------------


def on_holder_side(actor: Actor, record: RecordFacts) -> bool:
    """Does ``actor`` act as the record's holder, or as a minor's legal representative?"""
    return actor.kind in HOLDER_SIDE and (record.is_holder or record.is_representative)


def holder_side_sees(record: RecordFacts, hidden_from_representatives: bool) -> bool:
    """The holder sees all of their record; a representative all but what is hidden from the
    minor's representatives (a secret consultation, its appointments and conversations)."""
    return not (record.is_representative and hidden_from_representatives)


def holder_side_clause(
    record: RecordFacts, hidden_from_representatives: QueryableAttribute[bool]
) -> ColumnElement[bool]:
    """``holder_side_sees`` as an SQL condition on the hidden-from-representatives column."""
    return hidden_from_representatives.is_(False) if record.is_representative else true()


# --- a secret connection ("connexion secrète", domain.md §1.5) ------------------------------


def in_secret_connection(session: Session, actor: Actor, patient_id: uuid.UUID) -> bool:
    """Is ``actor`` in a secret connection to a minor's record (a minor's confidential care)?
    Its accesses are kept out of the representatives' view of the history (``audit.Ties``)
    and its access notices are not forwarded to them; what it adds must be hidden from them
    (``keep_from_representatives``). For an adult, a secret connection is a normal one."""
    if not actor.secret:
        return False
    born = session.execute(
        select(Patient.birth_date).where(Patient.id == patient_id)
    ).scalar_one_or_none()
    return born is not None and _minor_born(session, born, clock.today())


def keep_from_representatives(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    hidden_from_representatives: bool,
    field: str,
    hideable: bool = True,
) -> None:
    """In a secret connection to a minor's record, the actor adds or changes only what is
    hidden from the minor's legal representatives (the DMP's rule for deposits, applied to all
    it writes; what cannot be hidden from them, the medical profile, is refused). Asked after
    the access was decided: the refusal tells who is a minor only to whom may write to it."""
    if hidden_from_representatives or not in_secret_connection(session, actor, patient_id):
        return
    if not hideable:
        raise Invalid(
            "In a secret connection to a minor's record, only documents, appointments and "
            "messages hidden from the legal representatives may be added; this is shown to them.",
            field=field,
        )
    raise Invalid(
        "In a secret connection to a minor's record, what is added must be hidden from the "
        "legal representatives (INVISIBLE_REPRESENTANTS_LEGAUX).",
        field=field,
    )


def is_minor(session: Session, patient: Patient, *, today: date | None = None) -> bool:
    """Is ``patient`` under the age of majority today?"""
    return _minor_born(session, patient.birth_date, today or clock.today())


def _minor_born(session: Session, birth_date: date, today: date) -> bool:
    majority: int = settings_of(session).majority_age
    return age_on(birth_date, today) < majority


def represents(session: Session, representative_id: uuid.UUID, patient_id: uuid.UUID) -> bool:
    """True when ``representative_id`` is a current legal representative of a minor patient
    (every access by a parent asks: only the birth date is read)."""
    born = session.execute(
        select(Patient.birth_date)
        .join(LegalRepresentative, LegalRepresentative.patient_id == Patient.id)
        .where(
            LegalRepresentative.patient_id == patient_id,
            LegalRepresentative.representative_id == representative_id,
            CURRENT_LINK,
        )
    ).scalar_one_or_none()
    return born is not None and _minor_born(session, born, clock.today())


def represented_minors(session: Session, representative_id: uuid.UUID) -> list[Patient]:
    """The minors this person currently represents, the eldest first (the portal's record
    switcher, the app consent page)."""
    rows = session.execute(
        select(Patient)
        .join(LegalRepresentative, LegalRepresentative.patient_id == Patient.id)
        .where(LegalRepresentative.representative_id == representative_id, CURRENT_LINK)
        .order_by(Patient.birth_date)
    ).scalars()
    today = clock.today()
    return [patient for patient in rows if is_minor(session, patient, today=today)]


def represented_with_record(session: Session, representative_id: uuid.UUID) -> list[Patient]:
    """``represented_minors`` who have a record, open or closed (what a parent may switch to:
    the pages have nothing to show of a child without one). The status columns only."""
    minors = represented_minors(session, representative_id)
    if not minors:
        return []
    now = clock.now()
    has_record = {
        patient_id
        for patient_id, status, opens_at in session.execute(
            select(Record.patient_id, Record.status, Record.opens_at).where(
                Record.patient_id.in_([m.id for m in minors])
            )
        )
        if effective_status(status, opens_at, now) in (RecordStatus.OPEN, RecordStatus.CLOSED)
    }
    return [m for m in minors if m.id in has_record]


def representatives_of(session: Session, patient_id: uuid.UUID) -> list[uuid.UUID]:
    """Who currently acts for this patient: nobody once the patient is of age."""
    patient = session.get(Patient, patient_id)
    if patient is None or not is_minor(session, patient):
        return []
    return list(
        session.execute(
            select(LegalRepresentative.representative_id)
            .where(LegalRepresentative.patient_id == patient_id, CURRENT_LINK)
            .order_by(LegalRepresentative.created_at)
        ).scalars()
    )


__all__ = ["is_minor", "representatives_of", "represented_minors", "represents"]
