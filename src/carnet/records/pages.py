"""Portal routes for the record itself: the patient's access history in plain words; the
professional's portal (find a patient by INS, the patient's page, emergency access, a
prescription checked before it is saved)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from carnet.access import Mode
from carnet.accounts import service as accounts
from carnet.audit.transaction import undo
from carnet.audit.words import describe
from carnet.errors import AccessDenied, CarnetError, Invalid
from carnet.records import practice, service
from carnet.records.service import lookup_by_id
from carnet.web.deps import DbSession
from carnet.web.i18n import lang_of
from carnet.web.portal import CsrfForm, Signed, SignedIn, ViewingRecord, page_number, render

router = APIRouter(tags=["portal"])
PAGE = 25


@router.get("/historique")
def history_page(
    request: Request,
    session: DbSession,
    viewing: ViewingRecord,
    avant: str | None = None,
    moi: bool = True,
) -> Response:
    """The access history, every row of it; ``?moi=0``: without the reader's own consultations
    (every visit of theirs writes some, which can bury the others' accesses). Not the default:
    reads made with the patient's own credentials — a stolen password, say — look the same."""
    entries = service.read_trail(
        session,
        viewing.actor,
        viewing.patient_id,
        limit=PAGE + 1,
        before=avant,
        own_reads=moi,
    )
    lang = lang_of(request)
    lines = [(e, describe(e, lang, reader=viewing.reader)) for e in entries[:PAGE]]
    older = (
        service.trail_cursor(session, viewing.patient_id, entries[PAGE - 1])
        if len(entries) > PAGE
        else None
    )
    context = {"lines": lines, "older": older, "everything": moi}
    return render(request, "history.html", {**viewing.context(), **context})


# --- the professional's portal -----------------------------------------------------------


def pro_render(
    request: Request,
    signed: Signed,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """A professional's page: their name, the navigation, and while a bris de glace lasts the
    emergency banner (on every page, whichever record it shows)."""
    return render(
        request,
        template,
        {
            "actor": signed.actor,
            "account": signed.account,
            "emergency": signed.emergency,
            "secret_patient_id": signed.secret_patient_id,
            **(context or {}),
        },
        status_code,
    )


def form_failed(session: Session, error: CarnetError) -> CarnetError:
    """A form's service call failed: undo what it did (nothing is half-written), keep the
    trail of a refusal as the transaction boundary would, and return the error to show next
    to its field. Errors without a field are raised again (the error page says them)."""
    shown = error.public if isinstance(error, AccessDenied) else error
    if shown.field is None:
        raise error
    undo(session, error)
    return shown


def professional_home(
    request: Request,
    session: Session,
    signed: Signed,
    *,
    error: CarnetError | None = None,
    typed: str = "",
    secret_asked: bool = False,
) -> Response:
    recent = practice.recent_patients(session, signed.actor)
    return pro_render(
        request,
        signed,
        "pro_home.html",
        {"recent": recent, "error": error, "typed": typed, "secret_asked": secret_asked},
        400 if error else 200,
    )


@router.get("/pro")
def pro_home(request: Request, session: DbSession, signed: SignedIn) -> Response:
    return professional_home(request, session, signed)


@router.post("/pro/recherche")
def find_patient(
    request: Request, form: CsrfForm, session: DbSession, signed: SignedIn
) -> Response:
    """The INS comes in a POST body (never in a URL: no identifier in access logs). Asked for
    a secret connection (a minor seen alone), the record is looked up in it and the session
    holds it from then on: nothing of the visit is read in a normal connection first."""
    typed, secret = form.get("ins", ""), form.get("secret") == "on"
    held = signed.secret_patient_id  # the record the session is in secret on, searched again
    secret_search = secret or (held is not None and practice.names(session, typed, held))
    try:
        actor = replace(signed.actor, secret=True) if secret_search else signed.actor
        view = practice.find_patient(session, actor, identifier=typed)
        if secret:
            accounts.start_secret_connection(session, signed.actor, signed.web, view.patient.id)
    except Invalid as error:
        failed = form_failed(session, error)
        return professional_home(
            request, session, signed, error=failed, typed=typed, secret_asked=secret
        )
    return RedirectResponse(f"/pro/patients/{view.patient.id}", status_code=303)


def patient_page(
    request: Request,
    session: Session,
    signed: Signed,
    patient_id: uuid.UUID,
    *,
    error: CarnetError | None = None,
    form: dict[str, str] | None = None,
    documents_page: int = 1,
) -> Response:
    actor = signed.actor_on(patient_id)
    request.state.actor = actor  # an emergency access is flagged on the response too
    page = practice.open_patient(session, actor, patient_id, documents_page=documents_page)
    status = 400 if error else 403 if page.refusal == "blocked" else 200
    return pro_render(
        request,
        signed,
        "pro_patient.html",
        {
            "page": page,
            "patient": page.view.patient,
            "error": error,
            "form": form or {},
            "groups": _grouped(page.documents),
        },
        status,
    )


def _grouped(entries: list[Any]) -> list[tuple[Any, list[Any]]]:
    from carnet.terminology import documents as vocab

    groups = [(c, [e for e in entries if e.category == c.key]) for c in vocab.categories()]
    return [(c, es) for c, es in groups if es]


@router.get("/pro/patients/{patient_id}")
def pro_patient(
    request: Request, patient_id: uuid.UUID, session: DbSession, signed: SignedIn, page: int = 1
) -> Response:
    return patient_page(request, session, signed, patient_id, documents_page=page_number(page))


# The urgent accesses a professional may open from a record's page: the mode, and the form's
# field that gives its reason.
URGENT_FORMS = {
    "urgence": (Mode.EMERGENCY, "reason"),
    "regulation": (Mode.REGULATOR, "regulation_file"),
}


@router.post("/pro/patients/{patient_id}/urgence")
@router.post("/pro/patients/{patient_id}/regulation")
def urgent_access(
    request: Request,
    patient_id: uuid.UUID,
    form: CsrfForm,
    session: DbSession,
    signed: SignedIn,
) -> Response:
    """Emergency access (bris de glace, ``/urgence``: a reason is required) or a SAMU
    regulator's access (``/regulation``: no reason required, refused if the patient opposed
    it): audited in that mode, the session staying in it on this record until it ends."""
    mode, field = URGENT_FORMS[request.url.path.rsplit("/", 1)[1]]
    try:
        accounts.start_emergency_access(
            session,
            signed.secret_on(patient_id),
            signed.web,
            patient_id,
            reason=form.get(field, ""),
            mode=mode,
        )
    except CarnetError as error:
        failed = form_failed(session, error)
        if failed.field == "reason":  # said under the field of the form that was sent
            failed = type(failed)(failed.message, field=field)
        return patient_page(request, session, signed, patient_id, error=failed, form=form)
    return RedirectResponse(f"/pro/patients/{patient_id}", status_code=303)


@router.post("/pro/patients/{patient_id}/secret")
def secret_connection(
    request: Request,
    patient_id: uuid.UUID,
    form: CsrfForm,
    session: DbSession,
    signed: SignedIn,
) -> Response:
    """A secret connection to a minor's record (domain.md §1.5): what the professional does
    on it is kept from the minor's legal representatives until the connection ends."""
    try:
        accounts.start_secret_connection(
            session, signed.actor_on(patient_id), signed.web, patient_id
        )
    except CarnetError as error:
        failed = form_failed(session, error)
        return patient_page(request, session, signed, patient_id, error=failed, form=form)
    return RedirectResponse(f"/pro/patients/{patient_id}", status_code=303)


@router.post("/pro/secret/fin")
def end_secret_connection(form: CsrfForm, session: DbSession, signed: SignedIn) -> Response:
    accounts.end_secret_connection(signed.web)
    # to the home, not back to the record: that would open it at once in a normal connection
    return RedirectResponse("/pro", status_code=303)


@router.post("/pro/urgence/fin")
def end_emergency(form: CsrfForm, session: DbSession, signed: SignedIn) -> Response:
    ended = signed.emergency
    accounts.end_emergency_access(session, signed.web)
    target = f"/pro/patients/{ended.patient_id}" if ended else "/pro"
    return RedirectResponse(target, status_code=303)


@router.get("/pro/patients/{patient_id}/prescription")
def prescription_page(
    request: Request, patient_id: uuid.UUID, session: DbSession, signed: SignedIn
) -> Response:
    actor = signed.actor_on(patient_id)
    view = lookup_by_id(session, actor, patient_id)
    return pro_render(request, signed, "pro_prescription.html", {"patient": view.patient})


@router.post("/pro/patients/{patient_id}/prescription")
def prescribe(
    request: Request,
    patient_id: uuid.UUID,
    form: CsrfForm,
    session: DbSession,
    signed: SignedIn,
) -> Response:
    """Check first (the warnings are shown, nothing saved); save only on confirmation."""
    actor = signed.actor_on(patient_id)
    request.state.actor = actor
    drug, dosage = form.get("drug", ""), form.get("dosage", "")
    saving = form.get("step") == "save"
    warnings: list[dict[str, Any]] = []
    saved = None
    error: CarnetError | None = None
    try:
        if saving:
            saved, warnings = practice.save_prescription(
                session, actor, patient_id, drug=drug, dosage=dosage
            )
        else:
            warnings = practice.check_prescription(
                session, actor, patient_id, drug=drug, dosage=dosage
            )
    except CarnetError as failed:
        error = form_failed(session, failed)
    view = lookup_by_id(session, actor, patient_id)
    lang = lang_of(request)
    return pro_render(
        request,
        signed,
        "pro_prescription.html",
        {
            "patient": view.patient,
            "drug": drug,
            "dosage": dosage,
            "checked": error is None,
            "saved": saved,
            "warnings": warnings,
            "warning_text": lambda w: w["message_fr"] if lang == "fr" else w["message_en"],
            "error": error,
        },
        400 if error else 201 if saved else 200,
    )
