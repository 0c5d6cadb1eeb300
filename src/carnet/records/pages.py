"""Portal routes for the record itself: the access history in plain words."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.audit.words import describe
from carnet.records import service
from carnet.web.deps import DbSession
from carnet.web.i18n import lang_of
from carnet.web.portal import ViewingRecord, render

router = APIRouter(tags=["portal"])
PAGE = 25


@router.get("/historique")
def history_page(
    request: Request, session: DbSession, viewing: ViewingRecord, avant: int | None = None
) -> Response:
    entries = service.read_trail(
        session, viewing.actor, viewing.patient_id, limit=PAGE + 1, before_seq=avant
    )
    lang = lang_of(request)
    lines = [(e, describe(e, lang)) for e in entries[:PAGE]]
    older = entries[PAGE - 1].seq if len(entries) > PAGE else None
    return render(request, "history.html", {**viewing.context(), "lines": lines, "older": older})
