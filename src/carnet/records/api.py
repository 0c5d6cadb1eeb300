"""FHIR routes: Patient lookup by INS (TD0.2), Patient read, the access history."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Request

from carnet.access import Action
from carnet.access.gate import deny_unknown
from carnet.audit.fhir import audit_event
from carnet.errors import Invalid
from carnet.fhir.responses import FhirResponse, searchset
from carnet.patients import service as patients
from carnet.records import fhir, service
from carnet.records.models import Channel
from carnet.terminology import terminology
from carnet.web.deps import ApiActor, DbSession, SettingsDep, Tx

router = APIRouter(prefix="/fhir", tags=["Patient", "AuditEvent"])


@router.get("/Patient")
async def search_patient(
    actor: ApiActor,
    tx: Tx,
    settings: SettingsDep,
    identifier: str = Query(..., description="INS: urn:oid:<OID>|<matricule>"),
) -> FhirResponse:
    view = await tx.run(service.lookup_by_identifier, actor, identifier)
    bundle = searchset(settings.fhir_base, "Patient", [fhir.patient_resource(view)])
    return FhirResponse(bundle)


@router.get("/Patient/{patient_id}")
async def read_patient(patient_id: str, actor: ApiActor, tx: Tx) -> FhirResponse:
    view = await tx.run(service.lookup_by_id, actor, patient_id)
    return FhirResponse(fhir.patient_resource(view))


@router.get("/AuditEvent")
def search_audit_events(
    request: Request,
    actor: ApiActor,
    session: DbSession,
    settings: SettingsDep,
    patient: str = Query(...),
    _count: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, alias="_cursor"),
) -> FhirResponse:
    patient_id = patient.removeprefix("Patient/")
    entries = service.read_trail(session, actor, patient_id, limit=_count, before=cursor)
    lang = "en" if request.headers.get("accept-language", "fr").startswith("en") else "fr"
    labels = terminology().professions
    resources = [
        audit_event(e, lang=lang, profession_label=labels.get(e.actor_profession or ""))
        for e in entries
    ]
    next_link = None
    if len(entries) == _count:
        older = service.trail_cursor(session, uuid.UUID(patient_id), entries[-1])
        next_link = (
            f"{settings.fhir_base}/AuditEvent?patient={patient_id}&_count={_count}"
            f"&_cursor={quote(older)}"
        )
    return FhirResponse(searchset(settings.fhir_base, "AuditEvent", resources, next_link=next_link))


def _parameters(body: Any) -> dict[str, Any]:
    """FHIR ``Parameters`` → {name: value[x]}."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise Invalid("The body must be a FHIR Parameters resource.", field="resourceType")
    values: dict[str, Any] = {}
    for parameter in body.get("parameter") or []:
        name = parameter.get("name")
        value = next((v for k, v in parameter.items() if k.startswith("value")), None)
        if name:
            values[name] = value
    return values


def _flag(values: dict[str, Any], name: str) -> bool:
    value = values.get(name, False)
    if not isinstance(value, bool):
        raise Invalid(f"Parameter '{name}' must be a valueBoolean.", field=name)
    return value


@router.post("/Patient/$create-record", status_code=201)
def create_record(actor: ApiActor, session: DbSession, body: Any = Body(...)) -> FhirResponse:
    """A professional creates a record at their counter (professional, pharmacy, establishment)
    with the patient's explicit consent and the patient's two choices (DMP TD1.x)."""
    values = _parameters(body)
    patient = patients.find_by_identifier(session, str(values.get("identifier") or ""))
    if patient is None:
        raise deny_unknown(actor, action=Action.WRITE, resource_type="Patient")
    try:
        channel = Channel(str(values.get("channel") or "professional"))
    except ValueError:
        raise Invalid(
            "Unknown channel; expected professional, pharmacy or establishment.", field="channel"
        ) from None
    service.create_record(
        session,
        actor,
        patient.id,
        channel=channel,
        patient_consented=_flag(values, "patient-consented"),
        emergency_access_opposed=_flag(values, "emergency-access-opposed"),
        regulator_access_opposed=_flag(values, "regulator-access-opposed"),
    )
    view = service.lookup_record(session, actor, patient)
    return FhirResponse(fhir.patient_resource(view), status_code=201)


@router.post("/Patient/$reactivate-record")
def reactivate_record(actor: ApiActor, session: DbSession, body: Any = Body(...)) -> FhirResponse:
    """Reopen a closed record with the patient's explicit consent (DEVBOX #123)."""
    values = _parameters(body)
    patient = patients.find_by_identifier(session, str(values.get("identifier") or ""))
    if patient is None:
        raise deny_unknown(actor, action=Action.LIFECYCLE, resource_type="Patient")
    service.reactivate_record(
        session, actor, patient.id, patient_consented=_flag(values, "patient-consented")
    )
    return FhirResponse(fhir.patient_resource(service.lookup_record(session, actor, patient)))
