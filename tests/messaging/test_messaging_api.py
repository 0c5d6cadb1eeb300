"""Messaging through the FHIR API: professionals' software posts a Communication (a new thread
or a reply), searches and reads them, downloads the attachments; bad input gets an
OperationOutcome naming the field; the access policy and the trail apply."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.communication import Communication
from sqlalchemy.orm import Session

from carnet.messaging.models import Thread
from tests.conftest import INS, NIRS, Cast
from tests.documents.conftest import HOME, RPPS
from tests.messaging.conftest import PDF, count, rows_about

Api = Callable[..., Any]


@pytest.fixture
def api(client: TestClient, system_token: Callable[..., str]) -> Api:
    def call(name: str, method: str, path: str, who: str | None = "sylvie", **kwargs: Any) -> Any:
        token = system_token(HOME[name], RPPS[name], who)
        return client.request(
            method.upper(), path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )

    return call


def new_thread(cast: Cast, who: str = "sylvie", **changes: Any) -> dict[str, Any]:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "subject": {"reference": f"Patient/{cast.patients[who]}"},
        "topic": {"text": "Résultats de votre bilan"},
        "payload": [
            {"contentString": "Bonjour, vos résultats sont normaux."},
            {
                "contentAttachment": {
                    "contentType": "application/pdf",
                    "title": "bilan.pdf",
                    "data": base64.b64encode(PDF).decode(),
                }
            },
        ],
        **changes,
    }


def test_a_doctors_software_starts_a_thread_and_reads_it_back(api: Api, cast: Cast) -> None:
    created = api("durand", "post", "/fhir/Communication", json=new_thread(cast))
    assert created.status_code == 201, created.text
    body = created.json()
    Communication.model_validate(body)
    assert created.headers["location"].endswith(f"/Communication/{body['id']}")
    assert body["subject"]["reference"] == f"Patient/{cast.patients['sylvie']}"
    assert body["sender"]["identifier"]["value"] == "8" + RPPS["durand"]
    assert body["topic"]["text"] == "Résultats de votre bilan"
    assert "partOf" not in body  # the first message is the thread
    attachment = body["payload"][1]["contentAttachment"]
    assert attachment["contentType"] == "application/pdf"

    read = api("durand", "get", f"/fhir/Communication/{body['id']}")
    assert read.status_code == 200
    assert read.json()["payload"][0]["contentString"] == "Bonjour, vos résultats sont normaux."

    found = api("durand", "get", f"/fhir/Communication?patient={cast.patients['sylvie']}")
    assert found.status_code == 200
    Bundle.model_validate(found.json())
    assert body["id"] in [e["resource"]["id"] for e in found.json()["entry"]]

    download = api("durand", "get", attachment["url"].split("/fhir", 1)[1].join(["/fhir", ""]))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"


def test_a_reply_names_the_thread_with_part_of_and_in_response_to(api: Api, cast: Cast) -> None:
    first = api("durand", "post", "/fhir/Communication", json=new_thread(cast)).json()
    reply = {
        "resourceType": "Communication",
        "status": "completed",
        "subject": {"reference": f"Patient/{cast.patients['sylvie']}"},
        "inResponseTo": [{"reference": f"Communication/{first['id']}"}],
        "payload": [{"contentString": "Un complément."}],
    }
    answered = api("durand", "post", "/fhir/Communication", json=reply)
    assert answered.status_code == 201, answered.text
    assert answered.json()["partOf"] == [{"reference": f"Communication/{first['id']}"}]
    thread = api(
        "durand",
        "get",
        f"/fhir/Communication?patient={cast.patients['sylvie']}"
        f"&part-of=Communication/{first['id']}",
    )
    assert len(thread.json()["entry"]) == 2


def test_a_new_thread_may_name_the_patient_by_ins(api: Api, cast: Cast) -> None:
    by_ins = new_thread(
        cast,
        subject={"identifier": {"system": INS.split("|")[0], "value": NIRS["sylvie"]}},
    )
    created = api("durand", "post", "/fhir/Communication", json=by_ins)
    assert created.status_code == 201, created.text
    assert created.json()["subject"]["reference"] == f"Patient/{cast.patients['sylvie']}"


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"subject": None}, "Communication.subject"),
        ({"topic": None}, "Communication.topic"),
        ({"payload": [{"contentString": "  "}]}, "Communication.payload.contentString"),
        (
            {"payload": [{"contentString": "x"}, {"contentAttachment": {"data": "TVqQAAMAAAA="}}]},
            "Communication.payload.contentAttachment",
        ),
        ({"payload": [{"contentAttachment": {"data": "%%%"}}]}, "Communication.payload[0]"),
        ({"status": "nonsense-status"}, "Communication.status"),
    ],
)
def test_bad_input_gets_an_operation_outcome_naming_the_field(
    api: Api, cast: Cast, session: Session, change: dict[str, Any], expression: str
) -> None:
    threads = count(session, Thread)
    body = {k: v for k, v in {**new_thread(cast), **change}.items() if v is not None}
    response = api("durand", "post", "/fhir/Communication", json=body)
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["expression"][0].startswith(expression)
    assert count(session, Thread) == threads


@pytest.mark.parametrize(
    ("name", "status"),
    [("noir", 403), ("blanc", 404), ("benali", 403)],
)
def test_refused_professionals_cannot_write_and_the_refusal_is_audited(
    api: Api, cast: Cast, session: Session, name: str, status: int
) -> None:
    before = len(rows_about(session, cast.patients["sylvie"], "communication.start"))
    response = api(name, "post", "/fhir/Communication", json=new_thread(cast))
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"
    rows = rows_about(session, cast.patients["sylvie"], "communication.start")
    if name != "blanc":  # an excluded actor's token names no patient it may know of
        assert len(rows) == before + 1
        assert rows[-1].outcome == "denied"


def test_another_professional_reads_nothing_of_the_thread(api: Api, cast: Cast) -> None:
    created = api("durand", "post", "/fhir/Communication", json=new_thread(cast)).json()
    assert api("petit", "get", f"/fhir/Communication/{created['id']}").status_code == 404
    listed = api("petit", "get", f"/fhir/Communication?patient={cast.patients['sylvie']}")
    assert listed.status_code == 200
    assert created["id"] not in [e["resource"]["id"] for e in listed.json().get("entry", [])]


def test_a_search_needs_the_patient(api: Api) -> None:
    response = api("durand", "get", "/fhir/Communication")
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["patient"]


def test_the_capability_statement_declares_communication(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    kinds = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {i["code"] for i in kinds["Communication"]["interaction"]} == {
        "read",
        "search-type",
        "create",
    }
