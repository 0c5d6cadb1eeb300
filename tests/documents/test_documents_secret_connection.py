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
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carnet.access import Action, Actor
from carnet.access.gate import authorize
from carnet.agenda import service as agenda
from carnet.audit import service as audit
from carnet.audit.models import AuditEntry
from carnet.documents.bundles import Doc
from carnet.documents.models import DocumentEntry
from carnet.errors import Invalid
from carnet.messaging import service as messaging
from carnet.notifications.models import OutboxMessage, OutboxStatus
from carnet.notifications.worker import dispatch_due
from carnet.records import service as records
from carnet.settings import Settings
from tests.agenda.conftest import draft
from tests.conftest import INS, JWT_BEARER, NIRS, Cast, FakeSender, audit_rows
from tests.documents.conftest import HOME, RPPS, bundle, sample_pdf

SECRET = {"confidentiality_code": "INVISIBLE_REPRESENTANTS_LEGAUX"}
SECRET_VIHF = {"confidentiality_code": "INVISIBLE_REPRESENTANTS_LEGAUX^1.2.250.1.213.1.1.4.13"}
HIDDEN = ["INVISIBLE_REPRESENTANTS_LEGAUX"]

Api = Callable[..., Any]


def grant(client: TestClient, assertion: Callable[..., str], **claims: Any) -> Any:
    signed = assertion(HOME["durand"], "8" + RPPS["durand"], **claims)
    return client.post("/oauth/token", data={"grant_type": JWT_BEARER, "assertion": signed})


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
    api: Api, session: Session, cast: Cast
) -> None:
    """Sylvie has no legal representative: nothing is kept from anyone, and what is added need
    not be hidden from representatives she does not have."""
    response = api("durand", "post", "/fhir", claims=SECRET, json=bundle("durand", "sylvie"))

    assert response.status_code == 200, response.text


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
    with pytest.raises(Invalid):  # a change to one her parents see, as adding one
        agenda.update_appointment(
            session, durand, appointment_id=visible.id, draft=draft(start + timedelta(hours=1))
        )


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
