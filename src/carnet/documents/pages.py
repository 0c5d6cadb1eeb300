"""Portal routes for documents. The patient's: the list by category, one document with a viewer
and its download, hiding it from professionals, adding their own. The professional's: one
document of a patient (within the habilitation matrix), and adding a document to the record."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from carnet.access.representation import is_minor
from carnet.accounts import service as accounts
from carnet.documents import service, uploads
from carnet.documents.models import DocumentEntry
from carnet.errors import CarnetError, Invalid, NotFound, Unauthenticated
from carnet.records.pages import form_failed, pro_render
from carnet.terminology import documents as vocab
from carnet.web.deps import DbSession, Transaction
from carnet.web.portal import (
    SESSION_COOKIE,
    CsrfForm,
    SignedIn,
    ViewingRecord,
    check_csrf,
    page_number,
    render,
    with_record,
)

router = APIRouter(tags=["portal"])


@router.get("/documents")
def documents_page(
    request: Request, session: DbSession, viewing: ViewingRecord, page: int = 1
) -> Response:
    return _documents_page(request, session, viewing, page=page_number(page))


def _documents_page(
    request: Request,
    session: Session,
    viewing: Any,
    *,
    error: CarnetError | None = None,
    form: dict[str, str] | None = None,
    page: int = 1,
) -> Response:
    entries, more = service.list_documents_page(session, viewing.actor, viewing.patient_id, page)
    groups = [
        (category, [e for e in entries if e.category == category.key])
        for category in vocab.categories()
    ]
    return render(
        request,
        "documents.html",
        {
            **viewing.context(),
            "groups": [(c, es) for c, es in groups if es],
            "page": page,
            "more": more,
            "types": uploads.patient_types(),
            "advance_directives": vocab.ADVANCE_DIRECTIVES[1],
            "max_mb": request.app.state.settings.document_max_bytes // 1_000_000,
            "error": error,
            "form": form or {},
        },
        400 if error else 200,
    )


# --- uploads (multipart forms) --------------------------------------------------------------

MULTIPART_OVERHEAD = 64_000  # room for the other fields and the part headers


@dataclass
class UploadForm:
    fields: dict[str, str]
    upload: uploads.Upload
    too_big: Invalid | None = None
    sealed: list[service.SealedContent] | None = None  # the file, stored before the transaction
    kept: bool = False  # a document committed by the request refers to ``sealed``


async def _read_upload(request: Request, limit: int) -> UploadForm:
    if int(request.headers.get("content-length") or 0) > limit + MULTIPART_OVERHEAD:
        too_big = Invalid("The file is larger than the limit shown under the field.", field="file")
        return UploadForm({}, uploads.Upload("", "", b""), too_big)
    fields = await check_csrf(request)
    sent = (await request.form()).get("file")
    if sent is None or isinstance(sent, str):
        return UploadForm(fields, uploads.Upload("", "", b""))
    content = await sent.read(limit + 1)
    return UploadForm(
        fields,
        uploads.Upload(sent.filename or "", sent.content_type or "", content),
    )


async def upload_form(request: Request) -> AsyncIterator[UploadForm]:
    """A CSRF-checked multipart form with one file (``file``); a body larger than the
    document limit is refused before it is read (nothing is written either way), and so is a
    request without a live session (the route's sign-in then refuses it).

    The file is sealed and stored here, before the request's transaction begins (as ITI-65
    does: on SQLite the single writer is not held during its encryption and ``fsync``s), and
    removed once the request is done unless the transaction in which the route used it
    committed (``keep_once_committed``). A crash in between leaves a content no row refers to,
    for ``documents gc``."""
    if not await _live_session(request):
        yield UploadForm({}, uploads.Upload("", "", b""))
        return
    limit = request.app.state.settings.document_max_bytes
    form = await _read_upload(request, limit)
    store = service.blobs_of(request.app.state.session_factory)
    if form.upload.content and len(form.upload.content) <= limit:
        form.sealed = await run_in_threadpool(service.seal, store, [form.upload.content])
    try:
        yield form
    finally:
        if form.sealed and not form.kept:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(service.discard, store, form.sealed)


async def _live_session(request: Request) -> bool:
    """Whether the request's session cookie names a live session, checked in a short
    transaction of its own: no file is read or stored for anyone else."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return False
    state = request.app.state
    try:
        await Transaction(state.session_factory, state.connection_use).run(
            accounts.load_session, token
        )
    except Unauthenticated:
        return False
    return True


def keep_once_committed(sent: UploadForm, session: Session) -> None:
    """The route used the file: it stays if, and once, the transaction it was used in commits
    (and not on an error that comes after that commit, such as a cancellation)."""
    service.after_commit(session, lambda: setattr(sent, "kept", True))


# Function scope, as ``DbSession``'s and entered before it: left after its commit (or its
# failure), so that the file goes if no committed document refers to it.
Uploaded = Annotated[UploadForm, Depends(upload_form, scope="function")]


@router.post("/documents/ajouter")
def add_own_document(
    request: Request, sent: Uploaded, session: DbSession, viewing: ViewingRecord
) -> Response:
    """The patient adds their own document (class 90), e.g. their advance directives."""
    if sent.too_big is not None:
        return _documents_page(request, session, viewing, error=sent.too_big)
    try:
        entries, _ = uploads.add_document(
            session,
            viewing.actor,
            viewing.patient_id,
            type_code=sent.fields.get("type", ""),
            title=sent.fields.get("title", ""),
            upload=sent.upload,
            sealed=sent.sealed,
        )
    except CarnetError as error:
        failed = form_failed(session, error)
        return _documents_page(request, session, viewing, error=failed, form=sent.fields)
    keep_once_committed(sent, session)
    return RedirectResponse(with_record(f"/documents/{entries[0].id}", viewing), status_code=303)


TEXT_TYPES = ("text/plain", "text/xml", "application/xml", "application/hl7-v3+xml")
IMAGE_TYPES = ("image/jpeg", "image/png")
SHOWN_TEXT_BYTES = 300_000  # longer texts are downloaded, not shown in the page


def read_for_viewer(session: Session, actor: Any, entry_id: uuid.UUID) -> tuple[Any, str | None]:
    """A document and, for a short text (plain text, CDA XML), its text to show in the page:
    one audited read either way."""
    current = session.get(DocumentEntry, entry_id)
    if (
        current is not None
        and current.current
        and current.content_type in TEXT_TYPES
        and current.size <= SHOWN_TEXT_BYTES
    ):
        entry, content = service.content_of(session, actor, entry_id)
        return entry, content.decode("utf-8", errors="replace")
    return service.read(session, actor, entry_id), None


def viewer(entry: Any, text: str | None) -> str:
    """How the page shows the content: as text, as an image, or as a link (PDF)."""
    if text is not None:
        return "text"
    if entry.current and entry.content_type in IMAGE_TYPES:
        return "image"
    return "link"


@router.get("/documents/{entry_id}")
def document_page(
    request: Request, entry_id: uuid.UUID, session: DbSession, viewing: ViewingRecord
) -> Response:
    entry, text = read_for_viewer(session, viewing.actor, entry_id)
    return render(
        request,
        "document.html",
        {
            **viewing.context(),
            "doc": entry,
            "category": vocab.category(entry.category),
            "text": text,
            "viewer": viewer(entry, text),
        },
    )


def content_response(entry: Any, content: bytes, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=entry.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{service.download_name(entry)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            # shown inline: nothing in it may run (an XML or a PDF stays inert)
            "Content-Security-Policy": "default-src 'none'; img-src 'self'"
            + ("" if entry.content_type == "application/pdf" else "; sandbox"),
        },
    )


@router.get("/documents/{entry_id}/content")
def document_content(
    entry_id: uuid.UUID, session: DbSession, viewing: ViewingRecord, voir: int = 0
) -> Response:
    entry, content = service.content_of(session, viewing.actor, entry_id)
    return content_response(entry, content, inline=bool(voir))


@router.post("/documents/{entry_id}/visibility")
def set_visibility(
    entry_id: uuid.UUID, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    service.set_hidden_from_professionals(
        session, viewing.actor, entry_id, hidden=form.get("hidden") == "true"
    )
    # hiding makes a new version: go back to the list, where the current one is shown
    return RedirectResponse(with_record("/documents", viewing), status_code=303)


# --- the professional's side -------------------------------------------------------------


def _of_patient(session: Session, entry_id: uuid.UUID, patient_id: uuid.UUID) -> None:
    """A document is read under its own patient's address only: checked before the read, so
    that an emergency access to one record never opens a document of another."""
    entry = session.get(DocumentEntry, entry_id)
    if entry is None or entry.patient_id != patient_id:
        raise NotFound(service.NOT_FOUND)


@router.get("/pro/patients/{patient_id}/documents/{entry_id}")
def pro_document_page(
    request: Request,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    session: DbSession,
    signed: SignedIn,
) -> Response:
    actor = signed.actor_on(patient_id)
    request.state.actor = actor
    _of_patient(session, entry_id, patient_id)
    entry, text = read_for_viewer(session, actor, entry_id)
    return pro_render(
        request,
        signed,
        "pro_document.html",
        {
            "patient_id": patient_id,
            "doc": entry,
            "category": vocab.category(entry.category),
            "text": text,
            "viewer": viewer(entry, text),
        },
    )


@router.get("/pro/patients/{patient_id}/documents/{entry_id}/content")
def pro_document_content(
    request: Request,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    session: DbSession,
    signed: SignedIn,
    voir: int = 0,
) -> Response:
    actor = signed.actor_on(patient_id)
    request.state.actor = actor
    _of_patient(session, entry_id, patient_id)
    entry, content = service.content_of(session, actor, entry_id)
    return content_response(entry, content, inline=bool(voir))


def _add_page(
    request: Request,
    session: Session,
    signed: Any,
    patient_id: uuid.UUID,
    *,
    error: CarnetError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    from carnet.records.service import lookup_by_id

    view = lookup_by_id(session, signed.actor_on(patient_id), patient_id)
    return pro_render(
        request,
        signed,
        "pro_add_document.html",
        {
            "patient": view.patient,
            "minor": is_minor(session, view.patient),
            "secret": signed.secret_patient_id == patient_id,
            "types": uploads.professional_types(),
            "categories": {c.key: c for c in vocab.categories()},
            "max_mb": request.app.state.settings.document_max_bytes // 1_000_000,
            "error": error,
            "form": form or {},
        },
        400 if error else 200,
    )


@router.get("/pro/patients/{patient_id}/ajouter")
def pro_add_page(
    request: Request, patient_id: uuid.UUID, session: DbSession, signed: SignedIn
) -> Response:
    return _add_page(request, session, signed, patient_id)


@router.post("/pro/patients/{patient_id}/ajouter")
def pro_add_document(
    request: Request,
    patient_id: uuid.UUID,
    sent: Uploaded,
    session: DbSession,
    signed: SignedIn,
) -> Response:
    """A professional adds a document, authored by themself, through the ITI-65 path; an exam
    result done recently already comes back with "the same exam was done on …"."""
    if sent.too_big is not None:
        return _add_page(request, session, signed, patient_id, error=sent.too_big)
    actor = signed.actor_on(patient_id)
    request.state.actor = actor
    try:
        entries, notes = uploads.add_document(
            session,
            actor,
            patient_id,
            type_code=sent.fields.get("type", ""),
            title=sent.fields.get("title", ""),
            upload=sent.upload,
            sealed=sent.sealed,
            visibility=uploads.Visibility(
                masked=sent.fields.get("masque_ps") == "on",
                invisible_patient=sent.fields.get("invisible_patient") == "on",
                representatives=sent.fields.get("representatives") or None,
            ),
        )
    except CarnetError as error:
        failed = form_failed(session, error)
        return _add_page(request, session, signed, patient_id, error=failed, form=sent.fields)
    keep_once_committed(sent, session)
    entry = entries[0]
    return pro_render(
        request,
        signed,
        "pro_document.html",
        {
            "patient_id": patient_id,
            "doc": entry,
            "category": vocab.category(entry.category),
            "text": None,
            "viewer": "link",
            "added": True,
            "notes": notes.get(entry.id, []),
        },
        201,
    )
