"""FHIR routes of the agenda: create, read, search and update (or cancel) Appointment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.agenda import fhir, service
from carnet.agenda.models import STATUSES, Appointment
from carnet.errors import Invalid, NotFound
from carnet.fhir.responses import FhirResponse, searchset
from carnet.web.deps import ApiActor, SettingsDep, Tx

router = APIRouter(prefix="/fhir", tags=["Appointment"])
PREFIXES = ("eq", "ge", "gt", "le", "lt")


def _id(value: str, prefix: str = "") -> uuid.UUID:
    try:
        return uuid.UUID(value.removeprefix(prefix))
    except ValueError:
        raise NotFound(service.NOT_FOUND) from None


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise Invalid("The body is not valid JSON.", field="resourceType") from None


def _respond(row: Appointment, status: int, settings: Any) -> FhirResponse:
    headers = {"ETag": f'W/"{row.version}"'}
    if status == 201:
        headers["Location"] = f"{settings.fhir_base}/Appointment/{row.id}/_history/{row.version}"
    return FhirResponse(fhir.to_fhir(row), status_code=status, headers=headers)


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if not raw:
        return None
    digits = raw.removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise Invalid('If-Match takes a version, e.g. W/"2".', field="If-Match")
    return int(digits)


@router.post("/Appointment", status_code=201)
async def create(request: Request, actor: ApiActor, tx: Tx, settings: SettingsDep) -> Response:
    draft = fhir.parse_appointment(await _body(request))
    assert draft.patient_id is not None  # parse_appointment requires it
    row = await tx.run(service.create_appointment, actor, patient_id=draft.patient_id, draft=draft)
    return _respond(row, 201, settings)


@router.get("/Appointment/{appointment_id}")
async def read(appointment_id: str, actor: ApiActor, tx: Tx, settings: SettingsDep) -> Response:
    row = await tx.run(service.read_appointment, actor, appointment_id=_id(appointment_id))
    return _respond(row, 200, settings)


@router.put("/Appointment/{appointment_id}")
async def update(
    appointment_id: str, request: Request, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> Response:
    """Change or reschedule; ``status: cancelled`` cancels (the appointment is kept)."""
    draft = fhir.parse_appointment(await _body(request))
    row = await tx.run(
        service.update_appointment,
        actor,
        appointment_id=_id(appointment_id),
        draft=draft,
        expected_version=_if_match(request),
    )
    return _respond(row, 200, settings)


def _dates(values: list[str]) -> list[tuple[str, datetime]]:
    out = []
    for value in values:
        for part in value.split(","):
            prefix = part[:2] if part[:2] in PREFIXES else "eq"
            text = part[2:] if part[:2] in PREFIXES else part
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise Invalid(
                    f"date: not a date ({text[:30]!r}); use e.g. ge2026-12-01.", field="date"
                ) from None
            out.append((prefix, moment if moment.tzinfo else moment.replace(tzinfo=UTC)))
    return out


def _query(params: Any) -> service.AppointmentQuery:
    raw_count, raw_offset = str(params.get("_count") or "50"), str(params.get("_offset") or "0")
    if not raw_count.isdigit() or not 1 <= int(raw_count) <= 200:
        raise Invalid("_count must be between 1 and 200.", field="_count")
    if not raw_offset.isdigit():
        raise Invalid("_offset must be a number.", field="_offset")
    statuses = [s for v in params.getlist("status") for s in v.split(",") if s]
    if not set(statuses) <= STATUSES:
        raise Invalid("status: unknown Appointment status.", field="status")
    return service.AppointmentQuery(
        start=_dates(params.getlist("date")),
        statuses=statuses,
        count=int(raw_count),
        offset=int(raw_offset),
    )


@router.get("/Appointment")
async def search(request: Request, actor: ApiActor, tx: Tx, settings: SettingsDep) -> Response:
    """``patient`` (required), ``date`` (on the start, with eq/ge/gt/le/lt), ``status``,
    ``_count`` and ``_offset``; a searchset Bundle with a ``next`` link while more remain."""
    params = request.query_params
    patient = str(params.get("patient") or params.get("actor") or "")
    if not patient:
        raise Invalid("The patient is required (patient=<id>).", field="patient")
    query = _query(params)
    result = await tx.run(
        service.search_appointments,
        actor,
        patient_id=patient.removeprefix("Patient/"),
        query=query,
    )
    base = settings.fhir_base
    next_link = None
    if result.has_more:
        pairs = [(k, v) for k, v in params.multi_items() if k != "_offset"]
        pairs.append(("_offset", str(query.offset + query.count)))
        next_link = f"{base}/Appointment?{urlencode(pairs)}"
    bundle = searchset(
        base,
        "Appointment",
        [fhir.to_fhir(row) for row in result.appointments],
        total=None if result.has_more else query.offset + len(result.appointments),
        self_link=f"{base}/Appointment?{request.url.query}",
        next_link=next_link,
    )
    if result.has_more:
        bundle.pop("total")  # unknown without counting: FHIR lets the server leave it out
    return FhirResponse(bundle)
