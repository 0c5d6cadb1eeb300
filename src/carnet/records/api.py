"""FHIR routes: Patient lookup by INS (TD0.2), Patient read, the access history."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request

from carnet.access import Action
from carnet.access.gate import deny_unknown
from carnet.audit.fhir import audit_event
from carnet.errors import NotFound
from carnet.fhir.responses import FhirResponse, searchset
from carnet.patients import service as patients
from carnet.records import fhir, service
from carnet.terminology import terminology
from carnet.web.deps import ApiActor, DbSession, SettingsDep

router = APIRouter(prefix="/fhir", tags=["Patient", "AuditEvent"])


@router.get("/Patient")
def search_patient(
    actor: ApiActor,
    session: DbSession,
    settings: SettingsDep,
    identifier: str = Query(..., description="INS: urn:oid:<OID>|<matricule>"),
) -> FhirResponse:
    patient = patients.find_by_identifier(session, identifier)
    if patient is None:
        raise deny_unknown(actor, action=Action.LOOKUP, resource_type="Patient")
    view = service.lookup_record(session, actor, patient)
    bundle = searchset(settings.fhir_base, "Patient", [fhir.patient_resource(view)])
    return FhirResponse(bundle)


@router.get("/Patient/{patient_id}")
def read_patient(patient_id: str, actor: ApiActor, session: DbSession) -> FhirResponse:
    patient = patients.get_patient(session, _uuid(patient_id))
    return FhirResponse(fhir.patient_resource(service.lookup_record(session, actor, patient)))


@router.get("/AuditEvent")
def search_audit_events(
    request: Request,
    actor: ApiActor,
    session: DbSession,
    settings: SettingsDep,
    patient: str = Query(...),
    _count: int = Query(50, ge=1, le=200),
    before: int | None = Query(None, alias="_before-seq"),
) -> FhirResponse:
    patient_id = _uuid(patient.removeprefix("Patient/"))
    entries = service.read_trail(session, actor, patient_id, limit=_count, before_seq=before)
    lang = "en" if request.headers.get("accept-language", "fr").startswith("en") else "fr"
    labels = terminology().professions
    resources = [
        audit_event(e, lang=lang, profession_label=labels.get(e.actor_profession or ""))
        for e in entries
    ]
    next_link = None
    if len(entries) == _count:
        next_link = (
            f"{settings.fhir_base}/AuditEvent?patient={patient_id}&_count={_count}"
            f"&_before-seq={entries[-1].seq}"
        )
    return FhirResponse(searchset(settings.fhir_base, "AuditEvent", resources, next_link=next_link))


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No record was found for this patient.") from None
