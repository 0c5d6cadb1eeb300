"""Portal routes for the patient's authorizations: who may read the record, who is blocked, the
médecin traitant, and the two choices on emergency and regulator access; and the professional's
declaration of the patient's consent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.authorizations import service
from carnet.errors import CarnetError, Invalid
from carnet.professionals.service import search_professionals
from carnet.records.pages import form_failed, patient_page
from carnet.records.service import record_state, set_access_choices
from carnet.web.deps import DbSession
from carnet.web.portal import CsrfForm, SignedIn, ViewingRecord, render, with_record

router = APIRouter(tags=["portal"])

CHANGES: dict[str, Callable[..., Any]] = {
    "grant": service.grant,
    "revoke": service.revoke,
    "block": service.block,
    "unblock": service.unblock,
    "designate": lambda s, a, p, pro: service.set_treating_doctor(s, a, p, pro, treating=True),
    "undesignate": lambda s, a, p, pro: service.set_treating_doctor(s, a, p, pro, treating=False),
}


@router.get("/autorisations")
def authorizations_page(
    request: Request, session: DbSession, viewing: ViewingRecord, nom: str = ""
) -> Response:
    rows = service.list_authorizations(session, viewing.actor, viewing.patient_id)
    record = record_state(session, viewing.actor, viewing.patient_id)  # the emergency choices
    found = search_professionals(session, nom.strip(), limit=20) if nom.strip() else None
    return render(
        request,
        "authorizations.html",
        {**viewing.context(), "rows": rows, "record": record, "query": nom, "found": found},
    )


@router.post("/autorisations")
def change_authorization(form: CsrfForm, session: DbSession, viewing: ViewingRecord) -> Response:
    change = CHANGES.get(form.get("action", ""))
    if change is None:
        raise Invalid("Unknown action.", field="action")
    try:
        professional_id = uuid.UUID(form.get("professional", ""))
    except ValueError:
        raise Invalid("Choose a professional.", field="professional") from None
    change(session, viewing.actor, viewing.patient_id, professional_id)
    return RedirectResponse(with_record("/autorisations", viewing), status_code=303)


@router.post("/autorisations/choix")
def access_choices(form: CsrfForm, session: DbSession, viewing: ViewingRecord) -> Response:
    set_access_choices(
        session,
        viewing.actor,
        viewing.patient_id,
        emergency_access_opposed=form.get("emergency_opposed") == "on",
        regulator_access_opposed=form.get("regulator_opposed") == "on",
    )
    return RedirectResponse(with_record("/autorisations", viewing), status_code=303)


@router.post("/pro/patients/{patient_id}/consentement")
def declare_consent(
    request: Request,
    patient_id: uuid.UUID,
    form: CsrfForm,
    session: DbSession,
    signed: SignedIn,
) -> Response:
    """A professional records, by an explicit tick, that the patient consented (TD0.3)."""
    try:
        service.declare_consent(
            session,
            signed.actor_on(patient_id),  # refused in the session's secret connection
            patient_id,
            patient_consented=form.get("patient_consented") == "on",
            treating_doctor=form.get("treating_doctor") == "on",
        )
    except CarnetError as error:
        failed = form_failed(session, error)
        return patient_page(request, session, signed, patient_id, error=failed, form=form)
    return RedirectResponse(f"/pro/patients/{patient_id}", status_code=303)
