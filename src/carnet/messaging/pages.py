"""Portal routes of the secure messaging, for patients (their threads, ``?record=`` for a minor
they represent) and professionals (their threads; starting one with a patient who authorized
them, found in their list or by INS). Multipart forms, so that attachments work without
JavaScript; bad input comes back in the form, next to the field."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from carnet.access import Actor, ActorKind
from carnet.audit.transaction import undo
from carnet.errors import Invalid, NotFound
from carnet.messaging import service
from carnet.messaging.fhir import INS_SYSTEM, NewAttachment
from carnet.web import portal
from carnet.web.deps import DbSession
from carnet.web.portal import CsrfForm, Signed, SignedIn, render

router = APIRouter(tags=["portal"])
LOCAL_TZ = ZoneInfo("Europe/Paris")


async def uploaded(request: Request) -> list[NewAttachment]:
    """The files of a multipart form (the form itself was read, and its CSRF token checked,
    by ``CsrfForm``, declared first)."""
    form = await request.form()
    # one byte over the limit is enough for the service to refuse: never more in memory
    cap = request.app.state.settings.document_max_bytes + 1
    files = []
    for value in form.getlist("attachment"):
        if isinstance(value, UploadFile) and (value.filename or value.size):
            content = await value.read(cap)
            files.append(NewAttachment(filename=value.filename or "", content=content))
    return files


Uploads = Annotated[list[NewAttachment], Depends(uploaded)]


def _context(request: Request, session: Session, signed: Signed) -> dict[str, Any]:
    """The page frame: the patient pages' (with the record in view) or the professional's."""
    shared = {
        "max_mb": request.app.state.settings.document_max_bytes // 1_000_000,
        "local": lambda moment: moment.astimezone(LOCAL_TZ),  # shown in French time
    }
    if signed.actor.kind is ActorKind.PATIENT:
        viewing = portal.viewing(request, session, signed)
        return {
            **viewing.context(),
            **shared,
            "layout": "patient_base.html",
            "patient_id": viewing.patient_id,
        }
    return {
        **shared,
        "actor": signed.actor,
        "account": signed.account,
        "emergency": signed.emergency,
        "secret_patient_id": signed.secret_patient_id,
        "layout": "messages_pro_base.html",
        "link": lambda path: path,
        "patient_id": None,
    }


def _actor_on_thread(session: Session, signed: Signed, thread_or_message: uuid.UUID) -> Actor:
    """The actor on the record of this thread (or this message's): a professional's secret
    connection to that record applies to its conversations too."""
    if signed.secret_patient_id is None:  # the usual case: nothing to pick, nothing to read
        return signed.actor
    patient_id = service.patient_of(session, thread_or_message)
    return signed.secret_on(patient_id) if patient_id is not None else signed.actor


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(service.NO_THREAD) from None


@router.get("/messages")
def messages_page(
    request: Request, session: DbSession, signed: SignedIn, avant: str | None = None
) -> Response:
    return _inbox(request, session, signed, before=service.Position.parse(avant) if avant else None)


def _inbox(
    request: Request,
    session: Session,
    signed: Signed,
    *,
    error: Invalid | None = None,
    form: dict[str, str] | None = None,
    before: service.Position | None = None,
) -> Response:
    context = _context(request, session, signed)
    if context["patient_id"] is not None:
        threads = service.list_threads(session, signed.actor, context["patient_id"])
        return render(request, "messages.html", {**context, "threads": threads})
    inbox = service.professional_inbox(session, signed.actor, before=before)
    return render(
        request,
        "messages_pro.html",
        {
            **context,
            "threads": inbox.threads,
            "older": inbox.older,
            "patients": inbox.patients,
            "more_patients": inbox.more_patients,
            "error": error,
            "form": form or {},
        },
        400 if error else 200,
    )


@router.post("/messages")
def start_thread(
    request: Request, form: CsrfForm, files: Uploads, session: DbSession, signed: SignedIn
) -> Response:
    try:
        patient_id = _patient_of(session, signed, form)
        message = service.start_thread(
            session,
            signed.secret_on(patient_id),
            patient_id=patient_id,
            subject=form.get("subject", ""),
            body=form.get("body", ""),
            attachments=files,
            hidden_from_representatives=form.get("hidden") == "on",
        )
    except Invalid as error:
        undo(session, error)  # nothing half-written; the attempt stays on the trail
        return _inbox(request, session, signed, error=error, form=form)
    return RedirectResponse(f"/messages/{message.thread_id}", status_code=303)


def _patient_of(session: Session, signed: Signed, form: dict[str, str]) -> uuid.UUID:
    nir = "".join(form.get("ins", "").split())
    if nir:
        return service.patient_by_ins(session, signed.actor, f"{INS_SYSTEM}|{nir}", field="ins")
    try:
        return uuid.UUID(form.get("patient", ""))
    except ValueError:
        raise Invalid("Choose a patient, or enter their INS.", field="patient") from None


@router.get("/messages/{thread_id}")
def thread_page(request: Request, thread_id: str, session: DbSession, signed: SignedIn) -> Response:
    return _thread(request, session, signed, _uuid(thread_id))


def _thread(
    request: Request,
    session: Session,
    signed: Signed,
    thread_id: uuid.UUID,
    *,
    error: Invalid | None = None,
    body: str = "",
) -> Response:
    context = _context(request, session, signed)
    view = service.read_thread(session, _actor_on_thread(session, signed, thread_id), thread_id)
    return render(
        request,
        "message_thread.html",
        {**context, "view_thread": view, "error": error, "body": body},
        400 if error else 200,
    )


@router.post("/messages/{thread_id}")
def reply(
    request: Request,
    thread_id: str,
    form: CsrfForm,
    files: Uploads,
    session: DbSession,
    signed: SignedIn,
) -> Response:
    thread = _uuid(thread_id)
    try:
        service.reply(
            session,
            _actor_on_thread(session, signed, thread),
            thread_id=thread,
            body=form.get("body", ""),
            attachments=files,
        )
    except Invalid as error:
        undo(session, error)  # nothing half-written; the attempt stays on the trail
        return _thread(request, session, signed, thread, error=error, body=form.get("body", ""))
    context = _context(request, session, signed)
    return RedirectResponse(context["link"](f"/messages/{thread}"), status_code=303)


@router.get("/messages/{message_id}/attachment/{attachment_id}")
def attachment(
    message_id: str, attachment_id: str, session: DbSession, signed: SignedIn
) -> Response:
    message = _uuid(message_id)
    found, content = service.attachment_content(
        session, _actor_on_thread(session, signed, message), message, _uuid(attachment_id)
    )
    name = found.filename.encode("ascii", "replace").decode().replace("?", "_")
    return Response(
        content,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
