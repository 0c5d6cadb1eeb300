"""Portal routes of the medical profile: the profile by section with the source of each entry,
the patient's own entries added, changed and removed through small forms (coded where the
value sets allow, with a plain list to choose from that needs no JavaScript), and the printable
emergency summary (HTML with a print style sheet, or PDF)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from carnet import clock
from carnet.audit.transaction import undo
from carnet.errors import Conflict, Invalid
from carnet.profile import fhir, forms, overview, printing, summary
from carnet.profile.fhir import ProfileInput
from carnet.web.deps import DbSession, SettingsDep
from carnet.web.portal import CsrfForm, Viewing, ViewingRecord, render, with_record

router = APIRouter(tags=["portal"])
FormErrors = (Invalid, Conflict)


def _parse(slug: str, form: dict[str, str], settings: Any) -> ProfileInput:
    spec = forms.section(slug)
    resource = forms.build(slug, form, today=clock.now().date(), data_dir=settings.terminology_dir)
    return fhir.parse_resource(resource, spec.resource_type)


def _back_to(slug: str, viewing: Viewing) -> Response:
    return RedirectResponse(f"{with_record('/profil', viewing)}#{slug}", status_code=303)


def _choices(request: Request, settings: Any) -> dict[str, Any]:
    search_in = request.query_params.get("chercher", "")
    text = request.query_params.get("q", "")[:80]
    return {
        "measures": [(code, f"{label} ({unit})") for code, label, unit in forms.measure_choices()],
        "blood_groups": forms.blood_group_choices(),
        "vaccines": forms.vaccine_choices(),
        "sections": forms.SECTIONS,
        "search_in": search_in,
        "search_text": text,
        "found": forms.search_choices(search_in, text, settings.terminology_dir)
        if search_in in ("allergies", "traitements")
        else None,
    }


def _profile_page(
    request: Request,
    session: Session,
    viewing: Viewing,
    settings: Any,
    *,
    error: Invalid | Conflict | None = None,
    slug: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    sheet = overview.read_profile(session, viewing.actor, viewing.patient_id)
    context = {
        **viewing.context(),
        **_choices(request, settings),
        "sheet": sheet,
        "error": error,
        "error_in": slug,
        "values": {slug: values} if values is not None else {},
    }
    if values is None and context["found"] is not None:  # keep the searched text in the form
        context["values"] = {context["search_in"]: {"name": context["search_text"]}}
    return render(request, "profile.html", context, 400 if error else 200)


@router.get("/profil")
def profile_page(
    request: Request, session: DbSession, viewing: ViewingRecord, settings: SettingsDep
) -> Response:
    return _profile_page(request, session, viewing, settings)


@router.get("/profil/urgence")
def emergency_page(request: Request, session: DbSession, viewing: ViewingRecord) -> Response:
    view = summary.emergency_view(session, viewing.actor, viewing.patient_id)
    return render(request, "profile_emergency.html", {**viewing.context(), "summary": view})


@router.get("/profil/urgence.pdf")
def emergency_pdf(session: DbSession, viewing: ViewingRecord) -> Response:
    view = summary.emergency_view(session, viewing.actor, viewing.patient_id)
    return Response(
        printing.emergency_pdf(view),
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="resume-urgence.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/profil/{slug}")
def add_entry(
    request: Request,
    slug: str,
    form: CsrfForm,
    session: DbSession,
    viewing: ViewingRecord,
    settings: SettingsDep,
) -> Response:
    try:
        overview.add_entry(session, viewing.actor, viewing.patient_id, _parse(slug, form, settings))
    except FormErrors as error:
        undo(session, error)  # the form writes nothing; the attempt stays on the trail
        return _profile_page(
            request, session, viewing, settings, error=error, slug=slug, values=form
        )
    return _back_to(slug, viewing)


def _edit_page(
    request: Request,
    line: overview.Line,
    viewing: Viewing,
    values: dict[str, str],
    error: Invalid | Conflict | None = None,
) -> Response:
    context = {
        **viewing.context(),
        **_choices(request, request.app.state.settings),
        "line": line,
        "slug": line.section,
        "values": {line.section: values},
        # a coded entry offers its code again, or the text alone
        "found": [(values["code"], line.entry.display)] if values.get("code") else None,
        "error": error,
        "error_in": line.section if error else "",
    }
    return render(request, "profile_edit.html", context, 400 if error else 200)


@router.get("/profil/{slug}/{entry_id}")
def edit_page(
    request: Request, slug: str, entry_id: uuid.UUID, session: DbSession, viewing: ViewingRecord
) -> Response:
    line = overview.entry_to_edit(session, viewing.actor, viewing.patient_id, entry_id, slug)
    return _edit_page(request, line, viewing, forms.initial(slug, line.resource))


@router.post("/profil/{slug}/{entry_id}")
def change_entry(
    request: Request,
    slug: str,
    entry_id: uuid.UUID,
    form: CsrfForm,
    session: DbSession,
    viewing: ViewingRecord,
    settings: SettingsDep,
) -> Response:
    try:
        parsed = _parse(slug, form, settings)
        overview.change_entry(session, viewing.actor, viewing.patient_id, entry_id, slug, parsed)
    except FormErrors as error:
        undo(session, error)  # the form writes nothing; the attempt stays on the trail
        line = overview.entry_to_edit(session, viewing.actor, viewing.patient_id, entry_id, slug)
        return _edit_page(request, line, viewing, form, error)
    return _back_to(slug, viewing)


@router.post("/profil/{slug}/{entry_id}/retirer")
def remove_entry(
    slug: str, entry_id: uuid.UUID, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    overview.remove_entry(session, viewing.actor, viewing.patient_id, entry_id, slug)
    return _back_to(slug, viewing)
