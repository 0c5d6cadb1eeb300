"""Prescription safety and duplicate exams through the API: warnings come back with the
response (and before prescribing with $check), naming substances, rule, severity and source."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Cast
from tests.documents.conftest import HOME, RPPS
from tests.profile.test_profile_api import allergy, statement

Api = Callable[..., Any]


@pytest.fixture
def api(client: TestClient, system_token: Callable[..., str]) -> Api:
    def call(name: str, method: str, path: str, **kwargs: Any) -> Any:
        token = system_token(HOME[name], RPPS[name], "sylvie")
        return client.request(
            method.upper(), path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    return call


def prescription(cast: Cast, drug: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": f"Patient/{cast.patients['sylvie']}"},
        "authoredOn": "2026-11-20T10:00:00+01:00",
    }


@pytest.fixture
def sylvies_profile(api: Api, cast: Cast) -> None:
    assert (
        api(
            "durand", "post", "/fhir/AllergyIntolerance", json=allergy(cast, text="pénicillines")
        ).status_code
        == 201
    )
    assert (
        api(
            "durand", "post", "/fhir/MedicationStatement", json=statement(cast, "lévothyroxine")
        ).status_code
        == 201
    )


def issues(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in resource.get("contained", []) if c["resourceType"] == "DetectedIssue"]


@pytest.mark.usefixtures("sylvies_profile")
def test_amoxicillin_for_a_penicillin_allergic_patient_comes_back_with_an_allergy_alert(
    api: Api, cast: Cast
) -> None:
    response = api(
        "durand", "post", "/fhir/MedicationRequest", json=prescription(cast, "amoxicilline")
    )
    assert response.status_code == 201
    assert int(response.headers["x-carnet-warnings"]) >= 1
    body = response.json()
    found = issues(body)
    assert found[0]["code"]["coding"][0]["code"] == "ALGY"
    assert found[0]["severity"] == "high"
    assert "amoxicilline" in found[0]["detail"].lower()
    assert body["detectedIssue"][0]["reference"] == f"#{found[0]['id']}"


@pytest.mark.usefixtures("sylvies_profile")
def test_a_professional_who_may_feed_but_not_read_learns_nothing_from_the_warnings(
    api: Api, cast: Cast
) -> None:
    # Dr Benali is not authorized on Sylvie's record: feeding it needs no consent, but the
    # allergy behind the warning is the record's content.
    response = api(
        "benali", "post", "/fhir/MedicationRequest", json=prescription(cast, "amoxicilline")
    )
    assert response.status_code == 201
    assert int(response.headers.get("x-carnet-warnings", "0")) == 0
    assert issues(response.json()) == []


@pytest.mark.usefixtures("sylvies_profile")
def test_calcium_with_levothyroxine_is_flagged_with_the_thesaurus_rule_and_edition(
    api: Api, cast: Cast
) -> None:
    body = api(
        "durand", "post", "/fhir/MedicationRequest", json=prescription(cast, "carbonate de calcium")
    ).json()
    [issue] = [i for i in issues(body) if i["code"]["coding"][0]["code"] == "DRG"]
    assert "2020" in issue["reference"]
    rule = issue["extension"][0]["valueString"]
    assert "CALCIUM" in rule.upper()


@pytest.mark.usefixtures("sylvies_profile")
def test_paracetamol_raises_no_alarm(api: Api, cast: Cast) -> None:
    response = api(
        "durand", "post", "/fhir/MedicationRequest", json=prescription(cast, "paracétamol")
    )
    assert response.status_code == 201
    assert "x-carnet-warnings" not in response.headers
    assert issues(response.json()) == []


@pytest.mark.usefixtures("sylvies_profile")
def test_software_checks_before_prescribing_without_recording_anything(
    api: Api, cast: Cast
) -> None:
    warned = api(
        "durand", "post", "/fhir/MedicationRequest/$check", json=prescription(cast, "amoxicilline")
    ).json()
    assert warned["resourceType"] == "OperationOutcome"
    assert warned["issue"][0]["severity"] == "warning"
    assert "allergie" in warned["issue"][0]["details"]["text"].lower()
    clean = api(
        "durand", "post", "/fhir/MedicationRequest/$check", json=prescription(cast, "paracétamol")
    ).json()
    assert clean["issue"][0]["severity"] == "information"
    listed = api(
        "durand", "get", "/fhir/MedicationRequest", params={"patient": str(cast.patients["sylvie"])}
    ).json()
    assert listed["total"] == 0


def test_an_unknown_drug_is_never_silently_accepted(api: Api, cast: Cast) -> None:
    body = api(
        "durand", "post", "/fhir/MedicationRequest", json=prescription(cast, "zzzyxumab imaginaire")
    ).json()
    assert issues(body)
    assert "vérifi" in issues(body)[0]["detail"].lower()


def test_the_same_exam_within_the_window_is_reported(api: Api, cast: Cast) -> None:
    def tsh(when: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {
                "coding": [{"system": "http://loinc.org", "code": "3016-3", "display": "TSH"}]
            },
            "valueQuantity": {"value": 2.1, "unit": "mUI/L"},
            "effectiveDateTime": when,
            "subject": {"reference": f"Patient/{cast.patients['sylvie']}"},
        }

    first = api("durand", "post", "/fhir/Observation", json=tsh("2026-11-01T08:00:00+01:00"))
    assert "x-carnet-warnings" not in first.headers
    second = api("durand", "post", "/fhir/Observation", json=tsh("2026-11-15T08:00:00+01:00"))
    assert second.headers["x-carnet-warnings"] == "1"
    [issue] = issues(second.json())
    assert "01/11/2026" in issue["detail"]
    assert "Durand" in issue["detail"]
    months_later = api("durand", "post", "/fhir/Observation", json=tsh("2027-06-01T08:00:00+01:00"))
    assert "x-carnet-warnings" not in months_later.headers
