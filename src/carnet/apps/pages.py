"""Portal routes for connected apps: the operator's catalogue of labelled apps, the apps
connected to the record with what they pushed, and disconnecting one."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.apps import service
from carnet.errors import Invalid
from carnet.web.deps import DbSession
from carnet.web.portal import CsrfForm, ViewingRecord, render, with_record

router = APIRouter(tags=["portal"])


@router.get("/applications")
def apps_page(request: Request, session: DbSession, viewing: ViewingRecord) -> Response:
    connections = service.connected_apps(session, viewing.actor, viewing.patient_id)
    connected = {c.app.client_id for c in connections}
    return render(
        request,
        "apps.html",
        {
            **viewing.context(),
            "connections": connections,
            "catalogue": service.catalogue(session),
            "connected": connected,
            "describe": service.describe_scopes,
            "label_words": service.LABELS,
            "category_words": service.CATEGORIES,
            "disconnected": _disconnected(session, request.query_params.get("deconnectee")),
        },
    )


def _disconnected(session: DbSession, client_id: str | None) -> str | None:
    """The name of the app just disconnected (named by its id: no text from the URL is shown)."""
    app = service.find_any_app(session, client_id) if client_id else None
    return app.name if app else None


@router.post("/applications/deconnecter")
def disconnect(form: CsrfForm, session: DbSession, viewing: ViewingRecord) -> Response:
    client_id = form.get("client_id", "")
    if not client_id:
        raise Invalid("Choose an app.", field="client_id")
    service.disconnect(session, viewing.actor, patient_id=viewing.patient_id, client_id=client_id)
    return RedirectResponse(
        with_record(f"/applications?deconnectee={quote(client_id)}", viewing), status_code=303
    )
