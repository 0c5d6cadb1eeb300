"""The agenda through the FHIR API with real tokens of the personas' software: create, read,
search with dates and paging, reschedule, cancel; bad input answered by an OperationOutcome
naming the field; the access rules (blocked, excluded, another patient) at the HTTP edge."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.agenda import service
from carnet.agenda.models import Appointment
from carnet.errors import AccessDenied, NotFound
from carnet.notifications.models import OutboxMessage, OutboxStatus
from carnet.terminology.documents import TRE_A07
from tests.agenda.conftest import trail
from tests.conftest import Cast
from tests.documents.conftest import HOME, RPPS

Api = Callable[..., Any]
PS_IDNAT = "urn:oid:1.2.250.1.71.4.2.1"


@pytest.fixture
def api(client: TestClient, system_token: Callable[..., str]) -> Api:
    def call(name: str, method: str, path: str, who: str | None = "sylvie", **kwargs: Any) -> Any:
        token = system_token(HOME[name], RPPS[name], who)
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return client.request(method.upper(), path, headers=headers, **kwargs)

    return call


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def appointment(cast: Cast, start: datetime, who: str = "sylvie", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Appointment",
        "status": "booked",
        "description": "Consultation de suivi",
        "start": _iso(start),
        "end": _iso(start + timedelta(minutes=30)),
        "participant": [
            {"actor": {"reference": f"Patient/{cast.patients[who]}"}, "status": "accepted"},
            {
                "actor": {
                    "identifier": {"system": PS_IDNAT, "value": "810000000017"},
                    "display": "Dr Paul Durand",
                    "type": "Practitioner",
                },
                "status": "accepted",
            },
            {
                "actor": {"type": "Location", "display": "Cabinet des Carmes"},
                "status": "accepted",
            },
        ],
    }
    body.update(changes)
    return body


def soon(days: int = 3) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0, second=0)


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Appointment)).scalar_one()


def test_the_gps_software_books_reads_and_finds_an_appointment(
    api: Api, cast: Cast, session: Session
) -> None:
    start = soon()
    created = api("durand", "post", "/fhir/Appointment", json=appointment(cast, start))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["content-type"].startswith("application/fhir+json")
    assert created.headers["etag"] == 'W/"1"'
    assert created.headers["location"].endswith(f"/Appointment/{body['id']}/_history/1")
    assert body["status"] == "booked"
    assert body["description"] == "Consultation de suivi"
    assert datetime.fromisoformat(body["start"].replace("Z", "+00:00")) == start
    kinds = {p["actor"].get("type") for p in body["participant"]}
    assert kinds == {"Patient", "Practitioner", "Location"}
    source = body["extension"][0]["extension"]
    assert {"url": "kind", "valueCode": "software"} in source

    read = api("durand", "get", f"/fhir/Appointment/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body

    found = api(
        "durand",
        "get",
        f"/fhir/Appointment?patient={cast.patients['sylvie']}&date=ge{start.date().isoformat()}",
    )
    bundle = found.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert body["id"] in [e["resource"]["id"] for e in bundle["entry"]]
    row = session.get(Appointment, uuid.UUID(body["id"]))
    assert row is not None
    assert row.reminder_id is not None
    actions = [(r.detail, r.outcome) for r in trail(session, cast.patients["sylvie"])[-3:]]
    assert actions == [
        ("appointment.create", "allowed"),
        ("appointment.read", "allowed"),
        ("appointment.search", "allowed"),
    ]


def test_search_pages_with_a_next_link(api: Api, cast: Cast) -> None:
    for days in (2, 3, 4):
        assert api("durand", "post", "/fhir/Appointment", json=appointment(cast, soon(days)))
    base = f"/fhir/Appointment?patient={cast.patients['sylvie']}&date=ge{soon(1).date()}"
    first = api("durand", "get", base + "&_count=2").json()
    assert len(first["entry"]) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_offset=2" in next_url
    second = api("durand", "get", "/fhir/" + next_url.split("/fhir/", 1)[1]).json()
    starts = [e["resource"]["start"] for e in first["entry"] + second["entry"]]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts) >= 3


def test_rescheduling_and_cancelling_with_put(api: Api, cast: Cast, session: Session) -> None:
    created = api("durand", "post", "/fhir/Appointment", json=appointment(cast, soon())).json()
    later = soon(9)
    moved = api(
        "durand",
        "put",
        f"/fhir/Appointment/{created['id']}",
        json=appointment(cast, later),
        headers={"If-Match": 'W/"1"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["meta"]["versionId"] == "2"
    row = session.get(Appointment, uuid.UUID(created["id"]))
    assert row is not None
    session.refresh(row)
    reminder = session.get(OutboxMessage, row.reminder_id)
    assert reminder is not None
    assert reminder.next_attempt_at == later - timedelta(hours=24)

    stale = api(
        "durand",
        "put",
        f"/fhir/Appointment/{created['id']}",
        json=appointment(cast, later),
        headers={"If-Match": 'W/"1"'},
    )
    assert stale.status_code == 409
    cancelled = api(
        "durand",
        "put",
        f"/fhir/Appointment/{created['id']}",
        json=appointment(cast, later, status="cancelled"),
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    session.refresh(reminder)
    assert reminder.status == OutboxStatus.CANCELLED.value


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": None}, "Appointment.start"),
        ({"start": "2026-12-01T09:00:00"}, "Appointment.start"),  # no time zone
        ({"end": "2020-01-01T09:00:00+01:00"}, "Appointment.end"),  # before the start
        ({"status": "maybe"}, "Appointment.status"),
        ({"status": "fulfilled"}, "Appointment.status"),  # not for a new appointment
        ({"description": "x" * 201}, "Appointment.description"),
        ({"participant": [{"actor": {"display": "nobody"}, "status": "accepted"}]}, None),
        ({"resourceType": "Patient"}, "resourceType"),
    ],
)
def test_bad_input_gets_an_operation_outcome_naming_the_field_and_writes_nothing(
    api: Api, cast: Cast, session: Session, change: dict[str, Any], field: str | None
) -> None:
    before = count(session)
    body = {k: v for k, v in {**appointment(cast, soon()), **change}.items() if v is not None}
    answer = api("durand", "post", "/fhir/Appointment", json=body)
    assert answer.status_code == 400, answer.text
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert issue["severity"] == "error"
    assert issue["code"] == "invalid"
    assert issue["diagnostics"]
    if field:
        assert issue["expression"] == [field]
    else:
        assert issue["expression"][0].startswith("Appointment.participant")
    assert count(session) == before


def test_malformed_json_and_search_parameters_are_refused_with_the_field(
    api: Api, cast: Cast
) -> None:
    answer = api("durand", "post", "/fhir/Appointment", content=b"{nope")
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == ["resourceType"]
    patient = cast.patients["sylvie"]
    for query, field in (
        ("date=ge2026-13-45", "date"),
        ("_count=0", "_count"),
        ("status=later", "status"),
        ("", "patient"),
    ):
        url = f"/fhir/Appointment?{query}" + (f"&patient={patient}" if field != "patient" else "")
        answer = api("durand", "get", url)
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["issue"][0]["expression"] == [field]


@pytest.mark.parametrize(("who", "status"), [("noir", 403), ("blanc", 404)])
def test_blocked_and_excluded_professionals_are_refused(
    api: Api, cast: Cast, session: Session, who: str, status: int
) -> None:
    before = count(session)
    answer = api(who, "post", "/fhir/Appointment", json=appointment(cast, soon()))
    assert answer.status_code == status
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert count(session) == before
    found = api(who, "get", f"/fhir/Appointment?patient={cast.patients['sylvie']}")
    assert found.status_code == status


def test_a_token_for_one_patient_finds_nothing_of_another(api: Api, cast: Cast) -> None:
    leas = api(
        "durand", "post", "/fhir/Appointment", who="lea", json=appointment(cast, soon(), who="lea")
    )
    assert leas.status_code == 201
    other = api("durand", "get", f"/fhir/Appointment/{leas.json()['id']}", who="sylvie")
    assert other.status_code == 404
    listing = api("durand", "get", f"/fhir/Appointment?patient={cast.patients['lea']}")
    assert listing.status_code == 404
    unknown = api("durand", "get", "/fhir/Appointment/00000000-0000-7000-8000-000000000000")
    assert unknown.status_code == 404
    malformed = api("durand", "get", "/fhir/Appointment?patient=not-an-id")
    assert malformed.status_code == 404


def test_the_patient_cannot_be_changed_by_an_update(api: Api, cast: Cast) -> None:
    created = api("durand", "post", "/fhir/Appointment", json=appointment(cast, soon())).json()
    moved = api(
        "durand",
        "put",
        f"/fhir/Appointment/{created['id']}",
        json=appointment(cast, soon(), who="lea"),
    )
    assert moved.status_code == 400
    assert moved.json()["issue"][0]["expression"] == ["Appointment.participant"]


def test_the_capability_statement_declares_appointment(client: TestClient) -> None:
    rest = client.get("/fhir/metadata").json()["rest"][0]
    resource = next(r for r in rest["resource"] if r["type"] == "Appointment")
    assert {i["code"] for i in resource["interaction"]} >= {"read", "create", "update"}


SECRET = {"system": TRE_A07, "code": "INVISIBLE_REPRESENTANTS_LEGAUX"}


def test_a_minors_secret_appointment_stays_hidden_from_her_parent(
    api: Api, cast: Cast, session: Session, sylvie: Actor
) -> None:
    lea = cast.patients["lea"]
    body = appointment(cast, soon(), who="lea", meta={"security": [SECRET]})
    created = api("durand", "post", "/fhir/Appointment", who="lea", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["meta"]["security"] == [SECRET]
    secret_id = uuid.UUID(created.json()["id"])
    visible = {item.appointment.id for item in [*service.agenda_of(session, sylvie, lea).upcoming]}
    assert secret_id not in visible  # Sylvie, Léa's representative, does not see it
    with pytest.raises(AccessDenied) as refused:
        service.read_appointment(session, sylvie, appointment_id=secret_id)
    assert isinstance(refused.value.public, NotFound)  # as if it did not exist
    assert api("durand", "get", f"/fhir/Appointment/{secret_id}", who="lea").status_code == 200


def test_an_appointment_takes_no_other_visibility_label(api: Api, cast: Cast) -> None:
    body = appointment(cast, soon(), meta={"security": [{"system": TRE_A07, "code": "MASQUE_PS"}]})
    answer = api("durand", "post", "/fhir/Appointment", json=body)
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == ["Appointment.meta.security[0]"]
