"""Portal routes of the patient's agenda: upcoming and past appointments, adding one, cancelling
one they added. A legal representative acts for a minor with ``?record=``."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet import clock
from carnet.agenda import fhir, service
from carnet.agenda.models import LOCAL_TZ, Appointment
from carnet.errors import Invalid
from carnet.web.deps import DbSession
from carnet.web.portal import CsrfForm, Viewing, ViewingRecord, render, with_record

router = APIRouter(tags=["portal"])

WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
DONE = {"added": "The appointment was added.", "cancelled": "The appointment was cancelled."}


def when(row: Appointment, lang: str) -> str:
    """``mardi 03/12/2026, 09:30–10:00`` in France's legal time."""
    start, end = row.start.astimezone(LOCAL_TZ), row.end.astimezone(LOCAL_TZ)
    day = WEEKDAYS.get(lang, WEEKDAYS["fr"])[start.weekday()]
    last = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%d/%m/%Y %H:%M}"
    return f"{day} {start:%d/%m/%Y}, {start:%H:%M}–{last}"


def _page(
    request: Request,
    session: DbSession,
    viewing: Viewing,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    agenda = service.agenda_of(session, viewing.actor, viewing.patient_id)
    today = clock.now().astimezone(LOCAL_TZ).date()
    context: dict[str, Any] = {
        **viewing.context(),
        "agenda": agenda,
        "when": when,
        "errors": errors or {},
        "values": values or {"date": today.isoformat(), "time": "", "duration": "30"},
        "durations": fhir.DURATIONS,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "agenda.html", context, status_code=400 if errors else 200)


@router.get("/agenda")
def agenda_page(request: Request, session: DbSession, viewing: ViewingRecord) -> Response:
    return _page(request, session, viewing)


@router.post("/agenda")
def add_appointment(
    request: Request, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    today = clock.now().astimezone(LOCAL_TZ).date()
    try:
        draft = fhir.draft_from_form(form, today=today)
    except Invalid as error:  # nothing written yet: show the form again, the field marked
        return _page(
            request, session, viewing, errors={error.field or "date": error.message}, values=form
        )
    service.create_appointment(session, viewing.actor, patient_id=viewing.patient_id, draft=draft)
    return RedirectResponse(with_record("/agenda?done=added", viewing), status_code=303)


@router.post("/agenda/{appointment_id}/annuler")
def cancel_appointment(
    appointment_id: uuid.UUID, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    service.cancel_appointment(session, viewing.actor, appointment_id=appointment_id)
    return RedirectResponse(with_record("/agenda?done=cancelled", viewing), status_code=303)


__all__ = ["router", "when"]
