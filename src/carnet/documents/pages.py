"""Portal routes for the patient's documents: the list by category, one document, its download,
hiding it from professionals."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.documents import service
from carnet.terminology import documents as vocab
from carnet.web.deps import DbSession
from carnet.web.portal import CsrfForm, ViewingRecord, render, with_record

router = APIRouter(tags=["portal"])


@router.get("/documents")
def documents_page(request: Request, session: DbSession, viewing: ViewingRecord) -> Response:
    entries = service.list_documents(
        session, viewing.actor, viewing.patient_id, service.DocumentQuery(count=500)
    )
    groups = [
        (category, [e for e in entries if e.category == category.key])
        for category in vocab.categories()
    ]
    return render(
        request,
        "documents.html",
        {**viewing.context(), "groups": [(c, es) for c, es in groups if es]},
    )


@router.get("/documents/{entry_id}")
def document_page(
    request: Request, entry_id: uuid.UUID, session: DbSession, viewing: ViewingRecord
) -> Response:
    entry = service.read(session, viewing.actor, entry_id)
    return render(
        request,
        "document.html",
        {**viewing.context(), "doc": entry, "category": vocab.category(entry.category)},
    )


@router.get("/documents/{entry_id}/content")
def document_content(entry_id: uuid.UUID, session: DbSession, viewing: ViewingRecord) -> Response:
    entry, content = service.content_of(session, viewing.actor, entry_id)
    return Response(
        content,
        media_type=entry.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{service.download_name(entry)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/documents/{entry_id}/visibility")
def set_visibility(
    entry_id: uuid.UUID, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    service.set_hidden_from_professionals(
        session, viewing.actor, entry_id, hidden=form.get("hidden") == "true"
    )
    # hiding makes a new version: go back to the list, where the current one is shown
    return RedirectResponse(with_record("/documents", viewing), status_code=303)
