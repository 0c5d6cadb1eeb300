"""The professional's portal use cases: find a patient by INS, the patients they opened lately,
the patient's page (TD0.2 standing, then the summary and the documents their access allows),
and a prescription checked against the patient's allergies and treatments before it is saved.

Every access goes through ``carnet.access.gate.authorize`` (inside the services called here);
the page only previews the decision with the pure ``carnet.access.decide`` to know which next
action to offer, so that merely opening the page never writes a refusal to the trail."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import URGENT_MODES, Action, Actor, ActorKind, Mode, decide, listing
from carnet.access.gate import Subject
from carnet.access.representation import is_minor
from carnet.audit.models import AuditEntry
from carnet.documents import service as documents
from carnet.documents.models import DocumentEntry
from carnet.errors import Forbidden, Invalid
from carnet.identity import OID_INS_NIR, InvalidIdentifier
from carnet.patients.service import find_by_identifier
from carnet.profile import fhir as profile_fhir
from carnet.profile import summary
from carnet.profile.models import ProfileEntry
from carnet.records.models import RecordStatus
from carnet.records.service import RecordView, lookup_by_id, lookup_by_identifier

NIR_CHARACTERS = re.compile(r"[\s.\-]")


def _professional(actor: Actor) -> None:
    if actor.kind is not ActorKind.PROFESSIONAL:
        raise Forbidden("This page is for professionals.")


def ins_token(typed: str) -> str:
    """The INS token for what a professional typed: the NIR as printed on the carte Vitale
    (spaces allowed) or the full INS (``urn:oid:<OID>|<matricule>``). Checked by the lookup."""
    text = typed.strip()
    if not text:
        raise Invalid("Type the patient's INS or NIR.", field="ins")
    if "|" in text:
        return text
    return f"urn:oid:{OID_INS_NIR}|{NIR_CHARACTERS.sub('', text).upper()}"


def find_patient(session: Session, actor: Actor, *, identifier: str) -> RecordView:
    """TD0.2 from the portal: the record of the person with this INS, as this actor may see
    it (an unknown person, an excluded actor: "not found", audited)."""
    _professional(actor)
    try:
        return lookup_by_identifier(session, actor, ins_token(identifier))
    except InvalidIdentifier as error:
        message = MALFORMED.get(error.part or "", MALFORMED[""])
        raise Invalid(message, field="ins") from None


def names(session: Session, identifier: str, patient_id: uuid.UUID) -> bool:
    """Does what a professional typed name this patient? Only to pick the connection the search
    is made in (the session's secret connection to this record): nothing is told, the search
    itself decides and is audited."""
    try:
        found = find_by_identifier(session, ins_token(identifier))
    except (Invalid, InvalidIdentifier):
        return False
    return found is not None and found.id == patient_id


# What is wrong with a typed INS, in words a professional can act on (and the portal translate)
MALFORMED = {
    "key": "The key (the last 2 digits) does not match the number: check what you typed.",
    "length": "A NIR has 15 characters: 13 for the person and a 2-digit key.",
    "system": "The INS system is not an INS OID: type the NIR alone, or the INS as "
    "system|matricule.",
    "separator": "Type the NIR alone, or the INS as system|matricule.",
    "": "This is not a valid NIR or INS: check what you typed.",
}


@dataclass(frozen=True)
class RecentPatient:
    patient_id: uuid.UUID
    name: str
    born: str
    at: Any  # datetime of the last access
    secret: bool = False  # reached in a secret connection: offered again in one


RECENT_DAYS = 30
RECENT_ROWS = 2_000  # the professional's latest accesses the list is drawn from


def recent_patients(session: Session, actor: Actor, *, limit: int = 10) -> list[RecentPatient]:
    """The records this professional opened in the last 30 days (from their own allowed
    accesses on the trail, through the index on actor and time), newest first, that they may
    still read now (``access.listing``: not a patient who blocked them or withdrew their
    authorization, nor a closed record); each name shown is traced on the patient's trail.
    Only names: opening one is a new, audited lookup."""
    _professional(actor)
    last: dict[uuid.UUID, Any] = {}
    secretly: set[uuid.UUID] = set()  # reached in a secret connection: so is the name's row

    def opened() -> Iterator[tuple[uuid.UUID, frozenset[Mode]]]:
        for patient_id, at, modes, secret in _opened_lately(
            session, actor, batch=max(limit, 10) * 3
        ):
            last[patient_id] = at
            if secret:
                secretly.add(patient_id)
            yield patient_id, modes

    shown = listing.recent_patients(session, actor, opened(), limit=limit, secretly=secretly)
    return [
        RecentPatient(
            p.id,
            p.display_name,
            p.birth_date.strftime("%d/%m/%Y"),
            last[p.id],
            secret=p.id in secretly,
        )
        for p in shown
    ]


# Rows that do not open a record: a name shown in a list, and the professional's message
# inbox listing its threads (opening a thread, or writing, does count).
NOT_OPENING = (*listing.LIST_ACTIONS, listing.THREADS_LIST)


def _opened_lately(
    session: Session, actor: Actor, *, batch: int
) -> Iterator[tuple[uuid.UUID, Any, frozenset[Mode], bool]]:
    """(patient id, last access, the modes used, whether in a secret connection too), newest
    first, a page at a time, from the
    professional's latest ``RECENT_ROWS`` accesses of the last 30 days (a laboratory feeding
    thousands of records a day would otherwise group them all on every page). Showing a name
    in a list is not opening the record: those rows do not count (or a list would keep itself
    alive)."""
    e = AuditEntry
    latest = (
        select(e.patient_id, e.recorded_at, e.mode, e.secret)
        .where(
            e.actor_ref == actor.ref,
            e.recorded_at >= clock.now() - timedelta(days=RECENT_DAYS),
            e.actor_kind == ActorKind.PROFESSIONAL.value,
            e.outcome == "allowed",
            e.patient_id.is_not(None),
            e.action.not_in(NOT_OPENING),
        )
        .order_by(e.recorded_at.desc())
        .limit(RECENT_ROWS)
        .subquery()
    )
    last = func.max(latest.c.recorded_at).label("last")
    used = [func.max(case((latest.c.mode == m.value, 1), else_=0)) for m in URGENT_MODES]
    secret = func.max(case((latest.c.secret.is_(True), 1), else_=0))
    query = (
        select(latest.c.patient_id, last, secret, *used)
        .group_by(latest.c.patient_id)
        .order_by(last.desc(), latest.c.patient_id)
    )
    offset = 0
    while True:
        rows = session.execute(query.offset(offset).limit(batch)).all()
        for patient_id, at, secretly, *flags in rows:
            modes = {Mode.NORMAL, *(m for m, flag in zip(URGENT_MODES, flags, strict=True) if flag)}
            yield patient_id, at, frozenset(modes), bool(secretly)
        if len(rows) < batch:
            return
        offset += batch


@dataclass
class PatientPage:
    """What the professional's patient page shows."""

    view: RecordView
    mode: Mode  # the mode of this access (emergency while the session's bris de glace lasts)
    refusal: str | None = None  # blocked | closed | None
    may_read: bool = False
    may_declare_consent: bool = False
    may_break_glass: bool = False
    emergency_opposed: bool = False
    may_regulate: bool = False  # a SAMU regulator, who may open it in regulator mode
    regulator_opposed: bool = False  # a SAMU regulator, whom the patient's choice refuses
    minor: bool = False  # a minor's record read: a secret connection may be opened to it
    summary: summary.EmergencyView | None = None
    documents: list[DocumentEntry] = field(default_factory=list)
    documents_page: int = 1  # which page of the documents, 100 a page
    more_documents: bool = False  # older documents follow
    prescriptions: list[ProfileEntry] = field(default_factory=list)


def open_patient(
    session: Session, actor: Actor, patient_id: uuid.UUID | str, *, documents_page: int = 1
) -> PatientPage:
    """The record's state and this professional's standing (TD0.2), with the next action
    they may take; when their access allows reading: the emergency summary and a page of the
    documents within the habilitation matrix (each read audited by the services that do it)."""
    _professional(actor)
    view = lookup_by_id(session, actor, patient_id)
    page = PatientPage(view=view, mode=actor.mode)
    if view.authorization == "blocked":
        page.refusal = "blocked"
        return page
    if view.status is RecordStatus.CLOSED:
        page.refusal = "closed"
        return page
    facts = view.facts  # loaded by the lookup, in this transaction
    page.emergency_opposed = facts.emergency_opposed
    page.may_read = decide(actor, Action.READ, facts).allowed
    if not page.may_read:
        page.may_declare_consent = decide(actor, Action.DECLARE_CONSENT, facts).allowed
        emergency = replace(actor, mode=Mode.EMERGENCY, reason="(to be given)")
        page.may_break_glass = decide(emergency, Action.READ, facts).allowed
        regulation = decide(replace(actor, mode=Mode.REGULATOR, reason=None), Action.READ, facts)
        page.may_regulate = regulation.allowed
        page.regulator_opposed = regulation.reason == "regulator_opposed"  # to a regulator
        return page
    page.minor = is_minor(session, view.patient)
    page.summary = summary.emergency_view(session, actor, view.patient.id, facts=facts)
    page.documents, page.more_documents = documents.list_documents_page(
        session, actor, view.patient.id, documents_page, subject=Subject(view.patient.id, facts)
    )
    page.documents_page = documents_page
    return page


# --- prescriptions, checked before they are saved ------------------------------------------


def _medication_request(patient_id: uuid.UUID, drug: str, dosage: str) -> Any:
    drug, dosage = " ".join(drug.split()), " ".join(dosage.split())
    if not drug:
        raise Invalid("Name the medication (brand name or substance).", field="drug")
    if len(drug) > 200 or len(dosage) > 120:
        raise Invalid("The medication or the dosage is too long.", field="drug")
    body: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": clock.now().isoformat(),
    }
    if dosage:
        body["dosageInstruction"] = [{"text": dosage}]
    return profile_fhir.parse_resource(body, "MedicationRequest")


def check_prescription(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, drug: str, dosage: str = ""
) -> list[dict[str, Any]]:
    """The warnings a prescription would raise (allergies, interactions), nothing saved."""
    _professional(actor)
    parsed = _medication_request(patient_id, drug, dosage)
    return summary.check_before_prescribing(session, actor, patient_id, parsed)


def save_prescription(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, drug: str, dosage: str = ""
) -> tuple[ProfileEntry, list[dict[str, Any]]]:
    """Record the prescription in the patient's profile, with its warnings (the professional
    saw them and confirmed)."""
    _professional(actor)
    parsed = _medication_request(patient_id, drug, dosage)
    # The warnings tell allergies and treatments: only to a professional who may read them.
    return summary.prescribe(session, actor, patient_id, parsed)
