"""FHIR routes of the secure messaging: ``POST /fhir/Communication`` (a new thread, or a reply
naming a message in ``inResponseTo``/``partOf``), ``GET /fhir/Communication?patient=…``,
``GET /fhir/Communication/{id}`` and the attachments' contents."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.errors import Invalid, NotFound
from carnet.fhir.responses import FhirResponse, searchset
from carnet.messaging import fhir, service
from carnet.web.deps import ApiActor, SettingsDep, Tx

router = APIRouter(prefix="/fhir", tags=["Communication"])


def _uuid(value: str, prefix: str = "") -> uuid.UUID:
    try:
        return uuid.UUID(value.removeprefix(prefix))
    except ValueError:
        raise NotFound(service.NO_THREAD) from None


@router.post("/Communication", status_code=201)
async def create_communication(
    request: Request, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> Response:
    try:
        body: Any = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise Invalid("The body is not valid JSON.", field="resourceType") from None
    data = fhir.parse_communication(body)
    message = await tx.run_in_thread(service.post_communication, actor, data)  # attachments
    return FhirResponse(
        fhir.communication(message, settings.fhir_base),
        status_code=201,
        headers={"Location": f"{settings.fhir_base}/Communication/{message.id}"},
    )


@router.get("/Communication")
async def search_communications(
    request: Request, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> FhirResponse:
    params = request.query_params
    patient = params.get("patient") or params.get("subject")
    if not patient:
        raise Invalid("The patient is required (patient=<id>).", field="patient")
    part_of = params.get("part-of")
    messages = await tx.run(
        service.search_messages,
        actor,
        _uuid(patient, "Patient/"),
        thread_id=_uuid(part_of, "Communication/") if part_of else None,
    )
    resources = [fhir.communication(m, settings.fhir_base) for m in messages]
    return FhirResponse(searchset(settings.fhir_base, "Communication", resources))


@router.get("/Communication/{message_id}")
async def read_communication(
    message_id: str, actor: ApiActor, tx: Tx, settings: SettingsDep
) -> FhirResponse:
    message = await tx.run(service.read_message, actor, _uuid(message_id))
    return FhirResponse(fhir.communication(message, settings.fhir_base))


@router.get("/Communication/{message_id}/attachment/{attachment_id}")
async def communication_attachment(
    message_id: str, attachment_id: str, actor: ApiActor, tx: Tx
) -> Response:
    attachment, content = await tx.run_in_thread(
        service.attachment_content, actor, _uuid(message_id), _uuid(attachment_id)
    )
    return Response(
        content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_ascii(attachment.filename)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _ascii(name: str) -> str:
    return name.encode("ascii", "replace").decode().replace("?", "_")
