"""FHIR routes of IHE MHD: provide (ITI-65, ``POST /fhir``), find (ITI-67), retrieve (ITI-68),
and the lifecycle operations."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carnet.documents import fhir, service
from carnet.documents.models import FHIR_BASE
from carnet.errors import Invalid, NotFound
from carnet.fhir.responses import FHIR_JSON, FhirResponse
from carnet.identity import OID_PS_IDNAT, parse_ins_identifier
from carnet.terminology import documents as vocab
from carnet.web.deps import Call

router = APIRouter(prefix="/fhir", tags=["DocumentReference", "Binary"])
DELETED = "entered-in-error"
JSON_OVERHEAD = 200_000  # room for the metadata around a base64 content


@router.post("")
@router.post("/", include_in_schema=False)
async def provide(request: Request, call: Call) -> FhirResponse:
    """ITI-65 Provide Document Bundle (a transaction): all-or-nothing. Also answered at
    ``/fhir/``: a redirect there would make clients send the whole submission twice, and behind
    a proxy would point at the internal address."""
    settings = call.settings
    limit = settings.document_max_bytes * 4 // 3 * 2 + JSON_OVERHEAD
    if int(request.headers.get("content-length") or 0) > limit:
        raise Invalid(
            f"The submission is larger than allowed "
            f"({settings.document_max_bytes // 1_000_000} MB per document).",
            field="Bundle",
        )
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise Invalid("The body is not valid JSON.", field="Bundle") from None
    parsed = fhir.parse_provide_bundle(body, max_bytes=settings.document_max_bytes)
    # The contents are sealed and stored first, outside the transaction (on SQLite the single
    # writer is not held during their fsyncs); removed again if the submission fails.
    store = service.blobs_of(call.tx.factory)
    sealed = await run_in_threadpool(service.seal_contents, store, parsed)
    try:
        entries, notes = await call.tx.run(
            service.provide_checked, call.actor, parsed, sealed=sealed
        )
    except BaseException:
        await run_in_threadpool(service.discard, store, sealed)
        raise
    by_url = {doc.full_url: entry for doc, entry in zip(parsed.documents, entries, strict=True)}
    results = []
    for item in body["entry"]:
        kind = item["resource"]["resourceType"]
        if kind == "List":
            location = f"List/{entries[0].submission_id}"
        elif kind == "DocumentReference":
            entry = by_url[str(item.get("fullUrl") or "")]
            location = f"DocumentReference/{entry.id}"
            if notes.get(entry.id):
                results.append(
                    {
                        "response": {
                            "status": "201 Created",
                            "location": f"{settings.fhir_base}/{location}",
                            "outcome": {
                                "resourceType": "OperationOutcome",
                                "issue": [
                                    {
                                        "severity": "warning",
                                        "code": "business-rule",
                                        "diagnostics": note.sentence("fr"),
                                        "details": {"text": note.sentence("en")},
                                    }
                                    for note in notes[entry.id]
                                ],
                            },
                        }
                    }
                )
                continue
        elif kind == "Binary":
            owner = next(
                e
                for d, e in zip(parsed.documents, entries, strict=True)
                if d.binary_url == item.get("fullUrl")
            )
            location = f"Binary/{owner.blob_id}"
        else:
            results.append({"response": {"status": "200 OK"}})
            continue
        results.append(
            {"response": {"status": "201 Created", "location": f"{settings.fhir_base}/{location}"}}
        )
    return FhirResponse(
        {"resourceType": "Bundle", "type": "transaction-response", "entry": results},
        status_code=200,
    )


def _prefixed(values: list[str], name: str) -> list[tuple[str, datetime]]:
    out = []
    for value in values:
        for part in value.split(","):
            prefix = part[:2] if part[:2] in service.PREFIXES else "eq"
            text = part[2:] if part[:2] in service.PREFIXES else part
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise Invalid(
                    f"{name}: not a date ({text[:30]!r}); use e.g. ge2026-01-01.", field=name
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            out.append((prefix, moment))
    return out


def _tokens(values: list[str]) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for value in values:
        for part in value.split(","):
            system, bar, code = part.rpartition("|")
            out.append(((vocab.canonical_system(system) or system) if bar else None, code))
    return out


def _patient(params: Any) -> str | uuid.UUID:
    if params.get("patient.identifier"):
        return str(params["patient.identifier"])
    raw = str(params.get("patient") or params.get("subject") or "")
    if not raw:
        raise Invalid(
            "The patient is required (patient=<id> or patient.identifier=<INS>).", field="patient"
        )
    try:
        return uuid.UUID(raw.removeprefix("Patient/"))
    except ValueError:
        raise NotFound(service.NOT_FOUND) from None


def _query(params: Any) -> service.DocumentQuery:
    count = int(params.get("_count") or 50) if str(params.get("_count") or "50").isdigit() else 0
    if not 1 <= count <= 200:
        raise Invalid("_count must be between 1 and 200.", field="_count")
    offset = str(params.get("_offset") or "0")
    if not offset.isdigit():
        raise Invalid("_offset must be a number.", field="_offset")
    statuses = [s for v in params.getlist("status") for s in v.split(",")] or ["current"]
    if not set(statuses) <= {"current", "superseded", DELETED}:
        raise Invalid("status must be current, superseded or entered-in-error.", field="status")
    authors = []
    for value in params.getlist("author.identifier"):
        system, _, code = value.rpartition("|")
        if system and system != f"urn:oid:{OID_PS_IDNAT}":
            raise Invalid("author.identifier takes PS_IdNat values.", field="author.identifier")
        authors.append(code)
    return service.DocumentQuery(
        types=_tokens(params.getlist("type")),
        categories=[c for _, c in _tokens(params.getlist("category"))],
        statuses=statuses,
        date=_prefixed(params.getlist("date"), "date"),
        period=_prefixed(params.getlist("period"), "period"),
        last_updated=_prefixed(params.getlist("_lastUpdated"), "_lastUpdated"),
        authors=authors,
        count=count,
        offset=int(offset),
    )


@router.get("/DocumentReference")
async def search(request: Request, call: Call) -> Response:
    """ITI-67 Find Document References."""
    params = request.query_params
    query = _query(params)
    result = await call.tx.run(_search, call.actor, _patient(params), query)
    base = call.settings.fhir_base
    self_link = f"{base}/DocumentReference?{request.url.query}"
    next_link = None
    if result.has_more:
        pairs = [(k, v) for k, v in params.multi_items() if k != "_offset"]
        pairs.append(("_offset", str(query.offset + query.count)))
        next_link = f"{base}/DocumentReference?{urlencode(pairs)}"
    body = fhir.search_bundle(
        result.resources,
        base=base,
        total=len(result.resources) + query.offset,
        self_link=self_link,
        next_link=next_link,
    )
    return Response(body, media_type=FHIR_JSON)


def _search(
    session: Any, actor: Any, patient: str | uuid.UUID, query: service.DocumentQuery
) -> service.SearchResult:
    if isinstance(patient, str):
        return service.search(session, actor, parse_ins_identifier(patient), query)
    return service.search(session, actor, patient, query)


@router.get("/DocumentReference/{entry_id}")
async def read(entry_id: str, call: Call) -> Response:
    entry = await call.tx.run(service.read, call.actor, _id(entry_id))
    return Response(
        entry.resource.replace(FHIR_BASE, call.settings.fhir_base), media_type=FHIR_JSON
    )


@router.get("/Binary/{blob_id}")
async def retrieve(blob_id: str, request: Request, call: Call) -> Response:
    """ITI-68 Retrieve Document: the bytes (or a FHIR Binary when asked for FHIR JSON)."""
    entry, content = await call.tx.run_in_thread(service.retrieve, call.actor, blob_id)
    if FHIR_JSON in request.headers.get("accept", ""):
        return FhirResponse(
            {
                "resourceType": "Binary",
                "id": blob_id,
                "contentType": entry.content_type,
                "data": base64.b64encode(content).decode(),
            }
        )
    headers = {
        "Content-Disposition": f'inline; filename="{blob_id}"',
        "Cache-Control": "no-store",
        "ETag": f'"{entry.sha256[:32]}"',
    }
    return Response(content, media_type=entry.content_type, headers=headers)


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(service.NOT_FOUND) from None


def _visible_param(body: Any) -> bool:
    for parameter in (body or {}).get("parameter") or []:
        if parameter.get("name") == "visible" and isinstance(parameter.get("valueBoolean"), bool):
            return bool(parameter["valueBoolean"])
    raise Invalid(
        "Give the patient's visibility as Parameters 'visible' (valueBoolean).", field="visible"
    )


OPERATIONS = {
    "$delete": lambda s, a, i, b: service.delete_document(s, a, i),
    "$archive": lambda s, a, i, b: service.set_archived(s, a, i, True),
    "$unarchive": lambda s, a, i, b: service.set_archived(s, a, i, False),
    "$hide": lambda s, a, i, b: service.set_hidden_from_professionals(s, a, i, True),
    "$unhide": lambda s, a, i, b: service.set_hidden_from_professionals(s, a, i, False),
    "$set-patient-visibility": lambda s, a, i, b: service.set_patient_visibility(
        s, a, i, _visible_param(b)
    ),
}


@router.post("/DocumentReference/{entry_id}/{operation}")
async def lifecycle(entry_id: str, operation: str, request: Request, call: Call) -> Response:
    """Lifecycle operations; each answers the new metadata version."""
    action = OPERATIONS.get(operation)
    if action is None:
        raise NotFound(
            f"Unknown operation {operation[:40]!r}; expected one of " + ", ".join(OPERATIONS) + "."
        )
    raw = await request.body()
    body = orjson.loads(raw) if raw else None
    version = await call.tx.run(action, call.actor, _id(entry_id), body)
    return Response(
        version.resource.replace(FHIR_BASE, call.settings.fhir_base), media_type=FHIR_JSON
    )
