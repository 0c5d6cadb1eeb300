"""The patient's own apps and the messaging API, with real patient tokens (portal sign-in,
consent, code exchange): Sylvie's app reads her conversations and replies, but cannot start
one, and sees nothing of Léa's confidential conversation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carnet.messaging.models import Thread
from carnet.settings import Settings
from tests.conftest import Cast, FakeSender
from tests.documents.test_documents_patient_api import PatientTokens, call


@pytest.fixture
def sylvie(
    client: TestClient, factory: sessionmaker[Session], sender: FakeSender, settings: Settings
) -> PatientTokens:
    """Sylvie's browser and her apps (the documents tests' driver)."""
    return PatientTokens(client, factory, sender, settings)


def thread_of(session: Session, subject: str) -> Thread:
    return session.execute(select(Thread).where(Thread.subject == subject)).scalar_one()


def message(cast: Cast, who: str = "sylvie", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "subject": {"reference": f"Patient/{cast.patients[who]}"},
        "payload": [{"contentString": "Merci docteur."}],
        **extra,
    }


def test_sylvies_app_reads_her_conversations_and_replies(
    client: TestClient, sylvie: PatientTokens, cast: Cast, session: Session
) -> None:
    token = sylvie.get()
    results = thread_of(session, "Résultats de votre bilan thyroïdien")

    found = call(client, token, "get", f"/fhir/Communication?patient={cast.patients['sylvie']}")
    assert found.status_code == 200, found.text
    ids = [e["resource"]["id"] for e in found.json()["entry"]]
    assert str(results.id) in ids

    reply = message(cast, inResponseTo=[{"reference": f"Communication/{results.id}"}])
    answered = call(client, token, "post", "/fhir/Communication", json=reply)
    assert answered.status_code == 201, answered.text
    body = answered.json()
    assert body["sender"]["reference"] == f"Patient/{cast.patients['sylvie']}"
    assert body["partOf"] == [{"reference": f"Communication/{results.id}"}]
    assert body["recipient"][0]["identifier"]["value"] == results.started_by_ref


def test_sylvies_app_cannot_start_a_conversation(
    client: TestClient, sylvie: PatientTokens, cast: Cast
) -> None:
    token = sylvie.get()
    started = call(
        client, token, "post", "/fhir/Communication", json=message(cast, topic={"text": "Q"})
    )
    assert started.status_code == 403
    assert started.json()["resourceType"] == "OperationOutcome"


def test_an_app_for_lea_sees_no_confidential_conversation(
    client: TestClient, sylvie: PatientTokens, cast: Cast, session: Session
) -> None:
    token = sylvie.get(patient=str(cast.patients["lea"]))
    confidential = thread_of(session, "Suite de ta consultation")
    shared = thread_of(session, "Vaccination de Léa : deuxième dose")

    found = call(client, token, "get", f"/fhir/Communication?patient={cast.patients['lea']}")
    ids = [e["resource"]["id"] for e in found.json()["entry"]]
    assert str(shared.id) in ids
    assert str(confidential.id) not in ids
    hidden = call(client, token, "get", f"/fhir/Communication/{confidential.id}")
    assert hidden.status_code == 404
