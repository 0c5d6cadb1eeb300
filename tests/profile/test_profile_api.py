"""The medical profile through the FHIR API: entered by professionals' software (and apps),
the source of each entry kept, the access policy and the trail applied; the IPS summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.audit.models import AuditEntry
from tests.conftest import Cast
from tests.documents.conftest import HOME, RPPS

Api = Callable[..., Any]


@pytest.fixture
def api(client: TestClient, system_token: Callable[..., str]) -> Api:
    def call(name: str, method: str, path: str, who: str | None = "sylvie", **kwargs: Any) -> Any:
        token = system_token(HOME[name], RPPS[name], who)
        return client.request(
            method.upper(), path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    return call


def allergy(cast: Cast, who: str = "sylvie", text: str = "Pénicillines") -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }
            ]
        },
        "category": ["medication"],
        "criticality": "high",
        "code": {"text": text},
        "patient": {"reference": f"Patient/{cast.patients[who]}"},
    }


def statement(cast: Cast, text: str, who: str = "sylvie") -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": f"Patient/{cast.patients[who]}"},
    }


def blood_group(cast: Cast) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "882-1",
                    "display": "Groupe sanguin ABO et Rhésus",
                }
            ]
        },
        "valueCodeableConcept": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "278149003", "display": "A Rh+"}
            ]
        },
        "effectiveDateTime": "2020-02-03T09:00:00+01:00",
        "subject": {"reference": f"Patient/{cast.patients['sylvie']}"},
    }


def test_an_entry_round_trips_with_its_source_kept(api: Api, cast: Cast) -> None:
    created = api("durand", "post", "/fhir/AllergyIntolerance", json=allergy(cast))
    assert created.status_code == 201, created.text
    body = created.json()
    source = next(e for e in body["extension"] if e["url"].endswith("entry-source"))
    parts = {p["url"]: list(p.values())[1] for p in source["extension"]}
    assert parts["kind"] == "professional"
    assert parts["reference"] == "810000000017"
    read = api("durand", "get", f"/fhir/AllergyIntolerance/{body['id']}")
    assert read.json()["code"]["text"] == "Pénicillines"
    found = api(
        "durand",
        "get",
        "/fhir/AllergyIntolerance",
        params={"patient": str(cast.patients["sylvie"])},
    ).json()
    assert body["id"] in {e["resource"]["id"] for e in found["entry"]}


def test_bad_input_is_refused_naming_the_field(api: Api, cast: Cast) -> None:
    bad = allergy(cast)
    bad["criticality"] = "terrible"
    response = api("durand", "post", "/fhir/AllergyIntolerance", json=bad)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"][0].startswith("AllergyIntolerance.")
    nameless = allergy(cast)
    nameless["code"] = {}
    assert api("durand", "post", "/fhir/AllergyIntolerance", json=nameless).status_code == 400


def test_the_profile_follows_the_access_policy(api: Api, cast: Cast, session: Session) -> None:
    assert api("durand", "post", "/fhir/Observation", json=blood_group(cast)).status_code == 201
    assert (
        api(
            "noir", "get", "/fhir/Observation", params={"patient": str(cast.patients["sylvie"])}
        ).status_code
        == 403
    )
    assert (
        api(
            "blanc", "get", "/fhir/Observation", params={"patient": str(cast.patients["sylvie"])}
        ).status_code
        == 404
    )
    assert (
        api(
            "benali", "get", "/fhir/Observation", params={"patient": str(cast.patients["sylvie"])}
        ).status_code
        == 403
    )
    trail = (
        session.execute(
            select(AuditEntry.detail)
            .where(AuditEntry.patient_id == cast.patients["sylvie"])
            .order_by(AuditEntry.seq.desc())
            .limit(5)
        )
        .scalars()
        .all()
    )
    assert "excluded_actor" in trail


def test_only_the_author_changes_an_entry_and_removal_keeps_history(api: Api, cast: Cast) -> None:
    created = api(
        "durand", "post", "/fhir/MedicationStatement", json=statement(cast, "Lévothyroxine 75 µg")
    ).json()
    changed = statement(cast, "Lévothyroxine 100 µg")
    refused = api("petit", "put", f"/fhir/MedicationStatement/{created['id']}", json=changed)
    assert refused.status_code == 403
    updated = api("durand", "put", f"/fhir/MedicationStatement/{created['id']}", json=changed)
    assert updated.status_code == 200
    assert updated.json()["meta"]["versionId"] == "2"
    removed = api("durand", "delete", f"/fhir/MedicationStatement/{created['id']}")
    assert removed.json()["status"] == "entered-in-error"
    listed = api(
        "durand",
        "get",
        "/fhir/MedicationStatement",
        params={"patient": str(cast.patients["sylvie"])},
    ).json()
    assert created["id"] not in {e["resource"]["id"] for e in listed.get("entry", [])}


def test_the_patient_summary_is_a_valid_ips_document(api: Api, cast: Cast) -> None:
    from fhir.resources.R4B.bundle import Bundle

    api("durand", "post", "/fhir/AllergyIntolerance", json=allergy(cast))
    api("durand", "post", "/fhir/Observation", json=blood_group(cast))
    response = api("durand", "get", f"/fhir/Patient/{cast.patients['sylvie']}/$summary")
    assert response.status_code == 200, response.text
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "document"
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    codes = {s["code"]["coding"][0]["code"] for s in composition["section"]}
    assert {"48765-2", "10160-0", "11450-4"} <= codes
    assert "Pénicillines" in str(bundle)


def test_the_summary_is_refused_to_who_may_not_read_the_record(api: Api, cast: Cast) -> None:
    path = f"/fhir/Patient/{cast.patients['sylvie']}/$summary"
    assert api("noir", "get", path).status_code == 403
    assert api("blanc", "get", path).status_code == 404


def test_forms_search_drugs_substances_and_lab_tests_by_name(client: TestClient) -> None:
    drugs = client.get("/api/terminology/medications", params={"q": "levothyrox"}).json()
    assert drugs
    assert any("levothyroxine" in s for d in drugs for s in d["substances"])
    accents = client.get("/api/terminology/substances", params={"q": "paracétamol"}).json()
    plain = client.get("/api/terminology/substances", params={"q": "paracetamol"}).json()
    assert accents == plain
    assert accents
    labs = client.get("/api/terminology/lab-tests", params={"q": "creatinine"}).json()
    assert all(t["system"] == "http://loinc.org" for t in labs)
    assert labs
    assert client.get("/api/terminology/medications", params={"q": "x"}).status_code == 400


def test_a_blood_group_must_be_coded_from_the_ans_value_set(api: Api, cast: Cast) -> None:
    body = blood_group(cast)
    body["valueCodeableConcept"] = {"text": "A+"}
    response = api("durand", "post", "/fhir/Observation", json=body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Observation.valueCodeableConcept"]
