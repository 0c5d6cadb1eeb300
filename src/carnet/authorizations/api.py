"""FHIR routes: authorizations as Consent resources."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Query

from carnet.authorizations import fhir, service
from carnet.errors import Invalid, NotFound
from carnet.fhir.responses import FhirResponse, searchset
from carnet.web.deps import ApiActor, DbSession, SettingsDep

router = APIRouter(prefix="/fhir", tags=["Consent"])


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.removeprefix("Patient/"))
    except ValueError:
        raise NotFound("Not found.") from None


@router.get("/Consent")
def search_consents(
    actor: ApiActor, session: DbSession, settings: SettingsDep, patient: str = Query(...)
) -> FhirResponse:
    rows = service.list_authorizations(session, actor, _uuid(patient))
    resources = [fhir.consent_resource(a, p) for a, p in rows]
    return FhirResponse(searchset(settings.fhir_base, "Consent", resources))


@router.get("/Consent/{consent_id}")
def read_consent(consent_id: str, actor: ApiActor, session: DbSession) -> FhirResponse:
    row, professional = service.get_authorization(session, actor, _uuid(consent_id))
    return FhirResponse(fhir.consent_resource(row, professional))


@router.post("/Consent", status_code=201)
def create_consent(
    actor: ApiActor, session: DbSession, settings: SettingsDep, body: Any = Body(...)
) -> FhirResponse:
    request = fhir.parse_consent(body)
    row = service.apply_consent(
        session,
        actor,
        _uuid(request.patient_ref),
        ps_idnat=request.ps_idnat,
        status=request.status,
        provision=request.provision,
        treating_doctor=request.treating_doctor,
        verified=request.verified,
    )
    professional = service._professional(session, row.professional_id)
    resource = fhir.consent_resource(row, professional)
    return FhirResponse(
        resource, status_code=201, headers={"Location": f"{settings.fhir_base}/Consent/{row.id}"}
    )


@router.put("/Consent/{consent_id}")
def update_consent(
    consent_id: str, actor: ApiActor, session: DbSession, body: Any = Body(...)
) -> FhirResponse:
    current, professional = service.get_authorization(session, actor, _uuid(consent_id))
    request = fhir.parse_consent(body)
    if request.ps_idnat != professional.ps_idnat:
        raise Invalid(
            "This Consent is about another professional; create a new one instead.",
            field="Consent.provision.actor",
        )
    if request.patient_ref != str(current.patient_id):
        raise Invalid("This Consent is about another patient.", field="Consent.patient")
    row = service.apply_consent(
        session,
        actor,
        current.patient_id,
        ps_idnat=request.ps_idnat,
        status=request.status,
        provision=request.provision,
        treating_doctor=request.treating_doctor,
        verified=request.verified,
    )
    professional = service._professional(session, row.professional_id)
    return FhirResponse(fhir.consent_resource(row, professional))
