"""A secret connection ("connexion secrète", domain.md §1.5): a professional's software asks for
one to a minor's record (the VIHF's confidentiality-code, INVISIBLE_REPRESENTANTS_LEGAUX). What
it does is kept from the minor's legal representatives: its rows are out of the history they
read, its access notices are not forwarded to them, and it adds only what is hidden from them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from carnet.access import Action, Actor, ActorKind, decide
from carnet.access.gate import authorize, load_facts
from carnet.agenda import service as agenda
from carnet.audit import service as audit
from carnet.audit.models import AuditEntry, NotifiedAccess
from carnet.authorizations import service as authorizations
from carnet.documents import service as documents
from carnet.documents.bundles import Doc
from carnet.documents.models import DocumentEntry
from carnet.errors import Invalid, NotFound
from carnet.messaging import service as messaging
from carnet.notifications.models import OutboxMessage, OutboxStatus
from carnet.notifications.worker import dispatch_due
from carnet.records import service as records
from carnet.settings import Settings
from tests.agenda.conftest import draft
from tests.conftest import INS, JWT_BEARER, NIRS, Cast, FakeSender, audit_rows, current_documents
from tests.documents.conftest import HOME, RPPS, bundle, sample_pdf

SECRET = {"confidentiality_code": "INVISIBLE_REPRESENTANTS_LEGAUX"}
SECRET_VIHF = {"confidentiality_code": "INVISIBLE_REPRESENTANTS_LEGAUX^1.2.250.1.213.1.1.4.13"}
HIDDEN = ["INVISIBLE_REPRESENTANTS_LEGAUX"]

Api = Callable[..., Any]


def grant(client: TestClient, assertion: Callable[..., str], **claims: Any) -> Any:
    signed = assertion(HOME["durand"], "8" + RPPS["durand"], **claims)
    return client.post("/oauth/token", data={"grant_type": JWT_BEARER, "assertion": signed})


def first_access_notices(session: Session, patient_id: Any) -> list[dict[str, Any]]:
    """The payloads of the first-access notices queued for the patient."""
    query = select(OutboxMessage.payload).where(
        OutboxMessage.patient_id == patient_id, OutboxMessage.template == "first_access"
    )
    return list(session.execute(query).scalars())


def lea_docs(session: Session, cast: Cast) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(DocumentEntry)
            .where(DocumentEntry.patient_id == cast.patients["lea"])
        ).scalar_one()
    )


# --- asking for one ----------------------------------------------------------------------------


@pytest.mark.parametrize("claims", [SECRET, SECRET_VIHF], ids=["code", "code^OID"])
def test_software_asks_for_a_secret_connection_with_the_confidentiality_code(
    client: TestClient, assertion: Callable[..., str], claims: dict[str, str]
) -> None:
    response = grant(client, assertion, patient=INS.format(NIRS["lea"]), **claims)

    assert response.status_code == 200, response.text
    assert response.json()["confidentiality_code"] == "INVISIBLE_REPRESENTANTS_LEGAUX"
    normal = grant(client, assertion, patient=INS.format(NIRS["lea"]))
    assert "confidentiality_code" not in normal.json()
    advertised = client.get("/fhir/.well-known/smart-configuration").json()
    assert "confidentiality_code" in advertised["carnet_assertion_claims"]


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"confidentiality_code": "MASQUE_PS", "patient": INS.format(NIRS["lea"])}, "code"),
        (SECRET, "patient"),  # a secret connection is to one record
    ],
    ids=["another code", "no patient"],
)
def test_a_secret_connection_asked_for_wrongly_is_refused_naming_the_claim(
    client: TestClient, assertion: Callable[..., str], claims: dict[str, str], named: str
) -> None:
    response = grant(client, assertion, **claims)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    expected = "confidentiality_code" if named == "code" else "(patient)"
    assert expected in response.json()["error_description"]


# --- what the representatives read of the history ----------------------------------------------


def test_what_a_secret_connection_does_is_kept_out_of_the_history_her_parents_read(
    api: Api, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    """Dr Durand opens Léa's record in a secret connection, searches her documents and adds a
    consultation hidden from her parents: the chain holds it all, marked; her mother's view of
    the history (and of her home page) holds none of it, but does hold his normal lookup."""
    lea, sylvie = cast.patients["lea"], holder("sylvie")
    ins = {"identifier": INS.format(NIRS["lea"])}
    assert api("durand", "get", "/fhir/Patient", who="lea", claims=SECRET, params=ins).is_success
    found = api(
        "durand",
        "get",
        "/fhir/DocumentReference",
        who="lea",
        claims=SECRET,
        params={"patient.identifier": ins["identifier"]},
    )
    assert found.status_code == 200
    secret_doc = Doc("11488-4", sample_pdf("Consultation"), confidentiality=HIDDEN)
    sent = api(
        "durand",
        "post",
        "/fhir",
        who="lea",
        claims=SECRET,
        json=bundle("durand", "lea", secret_doc),
    )
    assert sent.status_code == 200, sent.text
    assert api("durand", "get", "/fhir/Patient", who="lea", params=ins).is_success  # normal

    rows = audit_rows(session, AuditEntry.patient_id == lea)
    secret_rows = [row for row in rows if row.secret]
    assert {row.action for row in secret_rows} >= {"lookup", "search", "document.submit", "write"}
    assert all(row.actor_ref == "8" + RPPS["durand"] for row in secret_rows)
    assert not list(audit.verify(session, str(lea)))  # marked rows chain as the others

    shown = records.read_trail(session, sylvie, lea, limit=1000)
    news = records.what_is_new(session, sylvie, lea, since=None)
    secret_ids = {row.id for row in secret_rows}
    assert not secret_ids & {row.id for row in shown}
    assert not secret_ids & {row.id for row in news.accesses}
    normal_lookup = max(
        (r for r in rows if r.action == "lookup" and not r.secret), key=lambda r: r.seq
    )
    assert normal_lookup.id in {row.id for row in shown}  # the rest of the history stays


def test_a_secret_connection_to_an_adults_record_is_a_normal_one(
    api: Api, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    """Sylvie has no legal representative: nothing is kept from anyone, and what is added need
    not be hidden from representatives she does not have."""
    response = api("durand", "post", "/fhir", claims=SECRET, json=bundle("durand", "sylvie"))

    assert response.status_code == 200, response.text
    patient_id = cast.patients["sylvie"]
    marked = {r.id for r in audit_rows(session, AuditEntry.patient_id == patient_id) if r.secret}
    assert marked  # marked all the same, and shown to the patient herself
    assert marked <= {
        r.id for r in records.read_trail(session, holder("sylvie"), patient_id, limit=1000)
    }


# --- what a secret connection adds ------------------------------------------------------------


def test_a_secret_connection_adds_only_documents_hidden_from_the_representatives(
    api: Api, session: Session, cast: Cast
) -> None:
    before = lea_docs(session, cast)
    hidden = Doc("11488-4", sample_pdf("Consultation"), confidentiality=HIDDEN)
    shown = Doc("87273-9", sample_pdf("Vaccination"))

    response = api(
        "durand",
        "post",
        "/fhir",
        who="lea",
        claims=SECRET,
        json=bundle("durand", "lea", hidden, shown),
    )

    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[3].resource.securityLabel"]  # the second one
    assert "INVISIBLE_REPRESENTANTS_LEGAUX" in issue["diagnostics"]
    assert lea_docs(session, cast) == before  # all or nothing
    normal = api("durand", "post", "/fhir", who="lea", json=bundle("durand", "lea", shown))
    assert normal.status_code == 200, normal.text  # in a normal connection, as before


def test_a_secret_connection_does_not_write_the_medical_profile(
    api: Api, session: Session, cast: Cast
) -> None:
    """The profile is shown to a minor's legal representatives: nothing of it can be hidden."""
    allergy = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"text": "Pénicillines"},
        "patient": {"reference": f"Patient/{cast.patients['lea']}"},
    }

    refused = api(
        "durand", "post", "/fhir/AllergyIntolerance", who="lea", claims=SECRET, json=allergy
    )
    normal = api("durand", "post", "/fhir/AllergyIntolerance", who="lea", json=allergy)

    assert refused.status_code == 400, refused.text
    assert refused.json()["issue"][0]["expression"] == ["AllergyIntolerance"]
    assert normal.status_code == 201, normal.text


def test_a_secret_connection_books_only_appointments_hidden_from_the_representatives(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    lea, durand = cast.patients["lea"], pro("durand", secret=True)
    start = datetime.now(UTC) + timedelta(days=3)

    with pytest.raises(Invalid) as refused:
        agenda.create_appointment(session, durand, patient_id=lea, draft=draft(start))
    booked = agenda.create_appointment(
        session, durand, patient_id=lea, draft=draft(start, hidden_from_representatives=True)
    )
    visible = agenda.create_appointment(session, pro("durand"), patient_id=lea, draft=draft(start))

    assert refused.value.field == "Appointment.meta.security"
    assert booked.hidden_from_representatives
    later = draft(start + timedelta(hours=1), hidden_from_representatives=True)
    with pytest.raises(Invalid) as changed:  # hiding one her parents see would take it unseen
        agenda.update_appointment(session, durand, appointment_id=visible.id, draft=later)
    with pytest.raises(Invalid) as cancelled:
        agenda.cancel_appointment(session, durand, appointment_id=visible.id)
    assert changed.value.field == cancelled.value.field == "Appointment.meta.security"
    moved = agenda.update_appointment(session, durand, appointment_id=booked.id, draft=later)
    assert moved.start == later.start


def test_a_secret_connection_writes_only_in_threads_hidden_from_the_representatives(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    lea, durand = cast.patients["lea"], pro("durand", secret=True)

    with pytest.raises(Invalid) as refused:
        messaging.start_thread(session, durand, patient_id=lea, subject="S", body="B")
    hidden = messaging.start_thread(
        session, durand, patient_id=lea, subject="S", body="B", hidden_from_representatives=True
    )
    seen = messaging.start_thread(session, pro("durand"), patient_id=lea, subject="S", body="B")

    assert refused.value.field == "Communication.meta.security"
    assert messaging.reply(session, durand, thread_id=hidden.thread_id, body="Suite").thread_id
    with pytest.raises(Invalid) as in_seen:
        messaging.reply(session, durand, thread_id=seen.thread_id, body="Suite")
    assert in_seen.value.field == "Communication.inResponseTo"


# --- the access notice ------------------------------------------------------------------------


def test_a_secret_connections_first_access_notice_never_reaches_the_parents(
    session: Session,
    cast: Cast,
    pro: Callable[..., Actor],
    factory: Any,
    settings: Settings,
    sender: FakeSender,
) -> None:
    """Léa has no contact of her own: a normal first access is told to her mother (another
    test); one in a secret connection is told to no one rather than to her."""
    lea = cast.patients["lea"]
    authorize(session, pro("durand", secret=True), lea, Action.READ, resource_type="Patient")
    session.flush()

    dispatch_due(factory, sender, settings)

    notice = session.execute(
        select(OutboxMessage).where(
            OutboxMessage.patient_id == lea, OutboxMessage.template == "first_access"
        )
    ).scalar_one()
    assert notice.payload["secret"] is True
    assert sender.messages == []
    assert (notice.status, notice.last_error) == (OutboxStatus.CANCELLED.value, "no channel")


def test_a_marked_row_cannot_be_unmarked_unseen(api: Api, session: Session, cast: Cast) -> None:
    """The mark is in the row's hash: clearing it (to show a parent a secret access, say)
    breaks the chain."""
    lea = cast.patients["lea"]
    ins = {"identifier": INS.format(NIRS["lea"])}
    api("durand", "get", "/fhir/Patient", who="lea", claims=SECRET, params=ins)
    marked = next(r for r in audit_rows(session, AuditEntry.patient_id == lea) if r.secret)

    session.execute(update(AuditEntry).where(AuditEntry.id == marked.id).values(secret=False))

    assert [p.seq for p in audit.verify(session, str(lea))] == [marked.seq]


def test_a_secret_connection_changes_nothing_the_representatives_see(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    """Archiving or deleting the vaccination her mother sees would change what the parents see
    with no trace they can read: refused, naming what is wrong."""
    lea, durand = cast.patients["lea"], pro("durand", secret=True)
    [vaccine] = current_documents(session, lea, DocumentEntry.title == "Rappel DTCaP")
    [secret] = current_documents(session, lea, DocumentEntry.invisible_representatives.is_(True))

    with pytest.raises(Invalid) as archived:
        documents.set_archived(session, durand, vaccine.id, True)
    with pytest.raises(Invalid) as deleted:
        documents.delete_document(session, durand, vaccine.id)
    assert archived.value.field == deleted.value.field == "DocumentReference.securityLabel"
    assert documents.set_archived(session, durand, secret.id, True).archived  # his to change


def test_replacing_a_document_the_parents_see_is_refused_in_a_secret_connection(
    api: Api, session: Session, cast: Cast
) -> None:
    [vaccine] = current_documents(
        session, cast.patients["lea"], DocumentEntry.title == "Rappel DTCaP"
    )
    new = Doc("87273-9", sample_pdf("Rappel"), confidentiality=HIDDEN, replaces=str(vaccine.id))

    response = api(
        "durand", "post", "/fhir", who="lea", claims=SECRET, json=bundle("durand", "lea", new)
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.relatesTo"]
    session.expire_all()
    assert session.get(DocumentEntry, vaccine.id).current  # type: ignore[union-attr]


def test_a_later_normal_first_access_is_told_to_the_parents(
    session: Session,
    cast: Cast,
    pro: Callable[..., Actor],
    factory: Any,
    settings: Settings,
    sender: FakeSender,
) -> None:
    """The secret first access has a notice of its own: it does not stand for the first
    normal one, of which her mother is told."""
    lea = cast.patients["lea"]
    session.execute(delete(NotifiedAccess).where(NotifiedAccess.patient_id == lea))
    authorize(session, pro("durand", secret=True), lea, Action.READ, resource_type="Patient")
    authorize(session, pro("durand"), lea, Action.READ, resource_type="Patient")
    session.flush()

    dispatch_due(factory, sender, settings)

    notices = first_access_notices(session, lea)
    assert sorted(bool(n.get("secret")) for n in notices) == [False, True]
    assert [m.to for m in sender.messages] == ["sylvie.martin@example.org"]


# --- conversations and appointments hidden from the representatives -----------------------------


def test_rows_about_hidden_conversations_and_appointments_are_kept_from_the_parents(
    session: Session, cast: Cast, pro: Callable[..., Actor], holder: Callable[[str], Actor]
) -> None:
    """In a normal connection too: Dr Durand starts a conversation and books an appointment
    hidden from Léa's representatives, then reads them; the rows naming them (their creation
    included) are not in her mother's view of the history, those of a visible one are."""
    lea, durand = cast.patients["lea"], pro("durand")
    start = datetime.now(UTC) + timedelta(days=2)
    hidden_thread = messaging.start_thread(
        session, durand, patient_id=lea, subject="S", body="B", hidden_from_representatives=True
    )
    messaging.read_thread(session, durand, hidden_thread.thread_id)
    hidden_visit = agenda.create_appointment(
        session, durand, patient_id=lea, draft=draft(start, hidden_from_representatives=True)
    )
    agenda.read_appointment(session, durand, appointment_id=hidden_visit.id)
    seen_visit = agenda.create_appointment(session, durand, patient_id=lea, draft=draft(start))
    kept = {str(hidden_thread.thread_id), str(hidden_visit.id)}

    rows = audit_rows(session, AuditEntry.patient_id == lea)
    about = [r for r in rows if r.resource_id in kept]
    mother_reads = records.read_trail(session, holder("sylvie"), lea, limit=1000)

    assert {r.action for r in about} >= {
        "communication.start",
        "communication.read",
        "write",
        "read",
    }
    assert not {r.id for r in about} & {r.id for r in mother_reads}
    assert str(seen_visit.id) in {r.resource_id for r in mother_reads}


def test_the_inbox_listing_a_hidden_conversation_only_is_a_secret_access(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    """The inbox's page names Léa for the hidden conversation alone (the newest): the row of
    that listing is secret; a page with her visible conversation is not."""
    lea, durand = cast.patients["lea"], pro("durand")
    messaging.start_thread(
        session, durand, patient_id=lea, subject="S", body="B", hidden_from_representatives=True
    )
    before = {r.id for r in audit_rows(session, AuditEntry.patient_id == lea)}

    messaging.list_my_threads(session, durand, limit=1)
    listed = [
        r
        for r in audit_rows(session, AuditEntry.patient_id == lea)
        if r.id not in before and r.action == "communication.list"
    ]
    messaging.list_my_threads(session, durand)  # her vaccination conversation too
    later = [
        r
        for r in audit_rows(session, AuditEntry.patient_id == lea)
        if r.id not in before and r.action == "communication.list" and r not in listed
    ]

    assert [r.secret for r in listed] == [True]
    assert [r.secret for r in later] == [False]


def test_a_secret_token_on_an_adults_record_tells_her_as_a_normal_first_access(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    """Nobody to keep it from: Sylvie is told once of Dr Durand's first access, whichever
    connection he used, and the notice is an ordinary one."""
    sylvie = cast.patients["sylvie"]
    session.execute(delete(NotifiedAccess).where(NotifiedAccess.patient_id == sylvie))
    authorize(session, pro("durand"), sylvie, Action.READ, resource_type="Patient")
    authorize(session, pro("durand", secret=True), sylvie, Action.READ, resource_type="Patient")
    session.flush()

    notices = first_access_notices(session, sylvie)

    assert len(notices) == 1
    assert not notices[0].get("secret")


def test_a_minors_consent_given_in_a_secret_connection_is_not_listed_to_her_parents(
    session: Session, cast: Cast, pro: Callable[..., Actor], holder: Callable[[str], Actor]
) -> None:
    """Dr Benali sees Léa alone for the first time: Léa consents, Dr Benali records it in a
    secret connection and may read her record; her mother's list of authorizations does not
    show it, Léa's does. Her mother blocking Dr Benali later is her decision, shown to her."""
    lea, benali = cast.patients["lea"], pro("benali", secret=True)

    declared = authorizations.declare_consent(session, benali, lea, patient_consented=True)
    session.flush()
    assert declared.id is not None
    with pytest.raises(NotFound):  # by its id too
        authorizations.get_authorization(session, holder("sylvie"), declared.id)

    def listed(who: Actor) -> set[str]:
        return {p.family_name for _a, p in authorizations.list_authorizations(session, who, lea)}

    lea_herself = Actor(kind=ActorKind.PATIENT, ref="patient:lea", patient_id=lea)
    assert "Benali" in listed(lea_herself)
    assert "Benali" not in listed(holder("sylvie"))
    assert "Durand" in listed(holder("sylvie"))  # the rest of the list stays
    assert decide(benali, Action.READ, load_facts(session, benali, lea)).allowed
    seen = {r.id for r in audit_rows(session, AuditEntry.patient_id == lea)}
    messaging.my_patients(session, pro("benali"))  # her name among those he may write to
    named = [
        r
        for r in audit_rows(session, AuditEntry.patient_id == lea)
        if r.id not in seen and r.action == "patient_list.messaging"
    ]
    assert named
    assert all(r.secret for r in named)  # or her mother would read of Dr Benali
    professional = cast.professionals["benali"]
    authorizations.block(session, holder("sylvie"), lea, professional)
    assert "Benali" in listed(holder("sylvie"))


def test_a_secret_declaration_leaves_an_authorization_the_parents_see_as_it_is(
    session: Session, cast: Cast, pro: Callable[..., Actor], holder: Callable[[str], Actor]
) -> None:
    lea = cast.patients["lea"]
    before = [
        (a.version, a.hidden_from_representatives)
        for a, p in authorizations.list_authorizations(session, holder("sylvie"), lea)
        if p.family_name == "Durand"
    ]

    authorizations.declare_consent(session, pro("durand", secret=True), lea, patient_consented=True)

    after = [
        (a.version, a.hidden_from_representatives)
        for a, p in authorizations.list_authorizations(session, holder("sylvie"), lea)
        if p.family_name == "Durand"
    ]
    assert after == before == [(before[0][0], False)]
