"""The patient fills in their own profile through the API with their own token (Carnet's
patient app): entries are marked as theirs; a connected app pushes measurements within its
scopes only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor, ActorKind
from carnet.apps import service as apps
from carnet.apps.models import App
from carnet.errors import Forbidden
from carnet.profile import service as profile
from carnet.profile.fhir import parse_resource
from carnet.settings import Settings
from tests.api.test_api_patient_tokens import APP_ID, REDIRECT, Flow
from tests.conftest import Cast, FakeSender


@pytest.fixture
def writer_app(session: Session, operator: Actor) -> App:
    app = apps.register_app(
        session,
        operator,
        name="Appli de suivi",
        client_id=APP_ID,
        allowed_scopes="launch/patient openid patient/Observation.cruds "
        "patient/AllergyIntolerance.rs",
        redirect_uris=[REDIRECT],
    )
    session.flush()
    return app


@pytest.fixture
def flow(
    client: TestClient,
    factory: sessionmaker[Session],
    sender: FakeSender,
    settings: Settings,
    session: Session,
    writer_app: App,
) -> Flow:
    return Flow(client, factory, sender, settings, session)


def weight(cast: Cast, kilos: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Poids"}]},
        "valueQuantity": {
            "value": kilos,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
        "effectiveDateTime": "2026-11-20T07:30:00+01:00",
        "subject": {"reference": f"Patient/{cast.patients['sylvie']}"},
    }


def test_an_app_pushes_a_measurement_marked_as_coming_from_the_app(flow: Flow, cast: Cast) -> None:
    token = flow.token("launch/patient patient/Observation.cruds")["access_token"]
    created = flow.client.post(
        "/fhir/Observation", json=weight(cast, 61.5), headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text
    source = next(e for e in created.json()["extension"] if e["url"].endswith("entry-source"))
    assert source["extension"][0] == {"url": "kind", "valueCode": "app"}
    found = flow.fhir(
        f"/fhir/Observation?patient={cast.patients['sylvie']}&code=29463-7", token
    ).json()
    # the demo's PasFit weighings are there too (demo_apps): pick this app's own entries
    mine = [
        e["resource"]["valueQuantity"]["value"]
        for e in found["entry"]
        if e["resource"]["id"] == created.json()["id"]
    ]
    assert mine == [61.5]


def test_an_app_never_writes_beyond_its_scopes(flow: Flow, cast: Cast) -> None:
    token = flow.token("launch/patient patient/Observation.cruds patient/AllergyIntolerance.rs")[
        "access_token"
    ]
    body = {
        "resourceType": "AllergyIntolerance",
        "code": {"text": "Arachide"},
        "patient": {"reference": f"Patient/{cast.patients['sylvie']}"},
    }
    refused = flow.client.post(
        "/fhir/AllergyIntolerance", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403
    other = weight(cast, 70)
    other["subject"] = {"reference": f"Patient/{cast.patients['henri']}"}
    assert (
        flow.client.post(
            "/fhir/Observation", json=other, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )


def test_one_app_cannot_change_what_another_app_recorded(session: Session, cast: Cast) -> None:
    # Both apps' tokens name the patient's account (sub): the entry's source is the app itself.
    sylvie = cast.patients["sylvie"]

    def app(client_id: str) -> Actor:
        return Actor(
            kind=ActorKind.APP,
            ref="account:sylvie",
            patient_id=sylvie,
            client_id=client_id,
            scopes=frozenset({"patient/Observation.cruds"}),
            bound_patient_id=sylvie,
        )

    recorded = profile.create(
        session, app("pasfit"), sylvie, parse_resource(weight(cast, 61.5), "Observation")
    )
    assert recorded.source_ref == "app:pasfit"
    with pytest.raises(Forbidden):
        profile.update(
            session,
            app("another-app"),
            recorded.id,
            parse_resource(weight(cast, 90), "Observation"),
        )
    changed = profile.update(
        session, app("pasfit"), recorded.id, parse_resource(weight(cast, 61.8), "Observation")
    )
    assert changed.version == 2
