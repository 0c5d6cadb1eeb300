"""FHIR routes of the medical profile: create, read, update, remove and search
AllergyIntolerance, MedicationStatement, MedicationRequest, Condition, Immunization,
Observation and RelatedPerson; the patient summary ($summary)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.errors import Invalid, NotFound
from carnet.fhir.responses import FHIR_JSON, FhirResponse, searchset
from carnet.profile import fhir, printing, service, summary
from carnet.profile.models import RESOURCE_TYPES
from carnet.web.deps import ApiActor, SettingsDep, Tx
from carnet.web.portal import render

router = APIRouter(prefix="/fhir", tags=["Profile"])


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.removeprefix("Patient/"))
    except ValueError:
        raise NotFound(service.NOT_FOUND) from None


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise Invalid("The body is not valid JSON.", field="resourceType") from None


def _patient_of(body: Any, resource_type: str) -> uuid.UUID:
    key = (
        "patient"
        if resource_type in ("AllergyIntolerance", "Immunization", "RelatedPerson")
        else "subject"
    )
    reference = str(((body or {}).get(key) or {}).get("reference") or "")
    if not reference.startswith("Patient/"):
        raise Invalid(
            f"{resource_type}.{key} must reference Patient/<id>.", field=f"{resource_type}.{key}"
        )
    return _uuid(reference)


def _respond(created: Any, status: int, settings: Any) -> Response:
    entry, warnings = created if isinstance(created, tuple) else (created, [])
    body = summary.with_issues(entry, warnings) if warnings else entry.resource
    headers = {
        "Location": f"{settings.fhir_base}/{entry.resource_type}/{entry.id}",
        "ETag": f'W/"{entry.version}"',
    }
    if warnings:
        headers["X-Carnet-Warnings"] = str(len(warnings))
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers)


@router.post("/MedicationRequest/$check")
async def check_prescription(request: Request, actor: ApiActor, tx: Tx) -> FhirResponse:
    """Check a MedicationRequest against the patient's allergies and treatments without
    recording it: an OperationOutcome whose issues are the warnings (none: "information")."""
    body = await _body(request)
    parsed = fhir.parse_resource(body, "MedicationRequest")
    warnings = await tx.run(
        summary.check_before_prescribing, actor, _patient_of(body, "MedicationRequest"), parsed
    )
    issues = [
        {
            "severity": "warning",
            "code": "business-rule",
            "diagnostics": w["message_fr"],
            "details": {
                "text": f"{w['severity_label']} — {w['rule']} — {w['source']}"
                + (f" ({w['source_date']})" if w["source_date"] else "")
            },
        }
        for w in warnings
    ]
    return FhirResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": issues
            or [
                {
                    "severity": "information",
                    "code": "informational",
                    "diagnostics": "Aucune alerte : ni allergie ni interaction connue.",
                }
            ],
        }
    )


@router.get("/Patient/{patient_id}/$emergency-summary")
async def emergency_summary(patient_id: str, request: Request, actor: ApiActor, tx: Tx) -> Response:
    """The printable emergency summary: HTML, or PDF with ``Accept: application/pdf``."""
    view = await tx.run(summary.emergency_view, actor, _uuid(patient_id))
    if "application/pdf" in request.headers.get("accept", ""):
        return Response(
            printing.emergency_pdf(view),
            media_type="application/pdf",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": 'inline; filename="urgence.pdf"',
            },
        )
    return render(request, "emergency_summary.html", {"view": view})


@router.get("/Patient/{patient_id}/$summary")
async def patient_summary(
    patient_id: str, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> FhirResponse:
    """The International Patient Summary document Bundle, within what the reader may see."""
    bundle = await tx.run(summary.ips_bundle, actor, _uuid(patient_id), settings.fhir_base)
    return FhirResponse(bundle)


async def create(
    resource_type: str, request: Request, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> Response:
    body = await _body(request)
    parsed = fhir.parse_resource(body, resource_type)
    created = await tx.run(summary.create_checked, actor, _patient_of(body, resource_type), parsed)
    return _respond(created, 201, settings)


async def update(
    resource_type: str,
    entry_id: str,
    request: Request,
    actor: ApiActor,
    tx: Tx,
    settings: SettingsDep,
) -> Response:
    parsed = fhir.parse_resource(await _body(request), resource_type)
    entry = await tx.run(service.update, actor, _uuid(entry_id), parsed)
    return _respond(entry, 200, settings)


async def remove(
    resource_type: str, entry_id: str, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> Response:
    entry = await tx.run(service.remove, actor, _uuid(entry_id), resource_type)
    return _respond(entry, 200, settings)


async def read(resource_type: str, entry_id: str, actor: ApiActor, tx: Tx) -> Response:
    entry = await tx.run(service.read, actor, _uuid(entry_id), resource_type)
    return Response(entry.resource, media_type=FHIR_JSON, headers={"ETag": f'W/"{entry.version}"'})


async def search(
    resource_type: str, request: Request, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> FhirResponse:
    params = request.query_params
    patient = params.get("patient") or params.get("subject")
    if not patient:
        raise Invalid("The patient is required (patient=<id>).", field="patient")
    query = service.ProfileQuery(
        codes=[c.rpartition("|")[2] for v in params.getlist("code") for c in v.split(",")],
        categories=[c.rpartition("|")[2] for v in params.getlist("category") for c in v.split(",")],
    )
    entries = await tx.run(service.search, actor, _uuid(patient), resource_type, query)
    return FhirResponse(searchset(settings.fhir_base, resource_type, service.as_json(entries)))


def _bind(handler: Any, resource_type: str) -> Any:
    """The handler for one concrete resource type (concrete paths: no catch-all route)."""

    async def bound(
        request: Request,
        actor: ApiActor,
        tx: Tx,
        settings: SettingsDep,
        entry_id: str | None = None,
    ) -> Response:
        kwargs: dict[str, Any] = {"actor": actor, "tx": tx}
        if handler in (create, update, search):
            kwargs["request"] = request
        if handler in (create, update, remove, search):
            kwargs["settings"] = settings
        if entry_id is not None:
            kwargs["entry_id"] = entry_id
        response: Response = await handler(resource_type, **kwargs)
        return response

    bound.__name__ = f"{handler.__name__}_{resource_type}"
    return bound


for _kind in RESOURCE_TYPES:
    router.add_api_route(
        f"/{_kind}", _bind(create, _kind), methods=["POST"], status_code=201, tags=[_kind]
    )
    router.add_api_route(f"/{_kind}", _bind(search, _kind), methods=["GET"], tags=[_kind])
    router.add_api_route(
        f"/{_kind}/{{entry_id}}", _bind(read, _kind), methods=["GET"], tags=[_kind]
    )
    router.add_api_route(
        f"/{_kind}/{{entry_id}}", _bind(update, _kind), methods=["PUT"], tags=[_kind]
    )
    router.add_api_route(
        f"/{_kind}/{{entry_id}}", _bind(remove, _kind), methods=["DELETE"], tags=[_kind]
    )
