"""``GET /fhir/Patient/<id>`` and ``GET /fhir/Patient?identifier=`` as a professional's software
sees them: probing ids that match nobody is traced on the system chain like probing INS, and a
malformed INS comes back as an OperationOutcome naming the ``identifier`` parameter."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.audit.models import AuditEntry, AuditHead
from tests.conftest import INS, NIRS, Cast

CARMES, DURAND_RPPS = "310000013", "10000000017"


def system_seq(session: Session) -> int:
    session.expire_all()
    head = session.get(AuditHead, "system")
    return head.seq if head else 0


def system_rows_after(session: Session, seq: int) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.execute(
            select(AuditEntry)
            .where(AuditEntry.chain == "system", AuditEntry.seq > seq)
            .order_by(AuditEntry.seq)
        ).scalars()
    )


def test_reading_an_unknown_patient_id_is_not_found_and_traced_without_the_id(
    client: TestClient, session: Session, system_token: Callable[..., str]
) -> None:
    token = system_token(CARMES, DURAND_RPPS)
    probe = uuid.uuid4()
    seq = system_seq(session)

    response = client.get(f"/fhir/Patient/{probe}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    rows = system_rows_after(session, seq)
    denials = [(r.action, r.outcome, r.detail, r.patient_id) for r in rows if r.outcome == "denied"]
    assert denials == [("lookup", "denied", "unknown_patient", None)]
    assert all(str(probe) not in str(r.resource_id) for r in rows)


def test_reading_a_known_patient_id_is_unchanged(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = system_token(CARMES, DURAND_RPPS)
    sylvie = cast.patients["sylvie"]

    response = client.get(f"/fhir/Patient/{sylvie}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["id"] == str(sylvie)


def test_a_malformed_ins_is_explained_naming_the_identifier_parameter(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    token = system_token(CARMES, DURAND_RPPS)
    for identifier in (INS.format(NIRS["sylvie"][:-1] + "0"), "275033155500425"):
        response = client.get(
            "/fhir/Patient",
            params={"identifier": identifier},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 400
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["identifier"]
