"""OAuth 2.0 endpoints: the token endpoint (JWT-bearer and authorization code) and the
authorization endpoint with the patient's consent page."""

from __future__ import annotations

from urllib.parse import quote

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from carnet.access.representation import represented_minors
from carnet.accounts.models import AccountKind
from carnet.apps import service as apps
from carnet.apps.models import App
from carnet.errors import Forbidden, Invalid, Unauthenticated
from carnet.web.deps import DbSession, SettingsDep
from carnet.web.oauth import CarnetAuthorizationServer, CarnetOAuth2Request, GrantUser
from carnet.web.portal import CsrfForm, Signed, render, signed_in

router = APIRouter(tags=["oauth"])


def _headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items()}


def _uri(settings: SettingsDep, request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{settings.base_url.rstrip('/')}{request.url.path}{query}"


@router.post("/oauth/token")
async def token(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    oauth_request = CarnetOAuth2Request(
        "POST", _uri(settings, request), {}, form, _headers(request)
    )
    server = CarnetAuthorizationServer(session, settings)
    # In the thread pool, as a sync route's work: on the loop, the session's first statement
    # would wait there for a connection (SQLite's one) held by a request whose commit needs
    # the loop (decision 8), or for a row lock (decision 10).
    response: Response = await run_in_threadpool(server.create_token_response, oauth_request)
    return response


def _authorize_request(
    request: Request, settings: SettingsDep, form: dict[str, str] | None
) -> CarnetOAuth2Request:
    query = dict(request.query_params)
    return CarnetOAuth2Request(
        request.method, _uri(settings, request), query, form or {}, _headers(request)
    )


def _consent_page(
    request: Request,
    session: DbSession,
    signed: Signed,
    app: App,
    scope: str,
    *,
    error: Invalid | None = None,
) -> Response:
    """The consent page: each scope in plain words, the data scopes as ticked checkboxes the
    patient may untick (granular consent), and the records the patient may connect."""
    assert signed.account.patient_id is not None
    minors = represented_minors(session, signed.account.patient_id)
    words = apps.describe_scopes(scope)
    return render(
        request,
        "authorize.html",
        {
            "app": app,
            "scopes": [w for w in words if w.data],
            "context_scopes": [w for w in words if not w.data],
            "minors": minors,
            "query": request.url.query,
            "error": error,
        },
        400 if error else 200,
    )


def _authorization_error(
    request: Request,
    server: CarnetAuthorizationServer,
    oauth_request: CarnetOAuth2Request,
    error: OAuth2Error,
) -> Response:
    """RFC 6749 §4.1.2.1: once the client and its redirect URI are known good, the error goes
    back to the app; before that, it is shown to the user and never redirected."""
    if error.redirect_uri:
        response: Response = server.handle_error_response(oauth_request, error)
        return response
    return render(request, "error.html", {"message": error.description or error.error}, 400)


@router.get("/oauth/authorize")
def authorize_page(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    try:
        signed = signed_in(request, session, settings)
    except Unauthenticated:
        target = quote(str(request.url.path) + "?" + request.url.query)
        return RedirectResponse(f"/login?next={target}", status_code=303)
    if signed.account.kind != AccountKind.PATIENT.value or signed.account.patient_id is None:
        raise Forbidden("Only patients can connect apps to their record.")
    server = CarnetAuthorizationServer(session, settings)
    oauth_request = _authorize_request(request, settings, None)
    try:
        grant = server.get_consent_grant(oauth_request, end_user=signed.account)
    except OAuth2Error as error:
        return _authorization_error(request, server, oauth_request, error)
    app = grant.client.app
    scope = apps.allowed_scope(app, grant.request.payload.scope or "")
    return _consent_page(request, session, signed, app, scope)


@router.post("/oauth/authorize")
def authorize(
    request: Request, form: CsrfForm, session: DbSession, settings: SettingsDep
) -> Response:
    signed = signed_in(request, session, settings)
    if signed.account.patient_id is None:
        raise Forbidden("Only patients can connect apps to their record.")
    server = CarnetAuthorizationServer(session, settings)
    oauth_request = _authorize_request(request, settings, None)
    try:
        # the query may have been altered since the consent page: validate it again
        grant = server.get_consent_grant(oauth_request, end_user=signed.account)
    except OAuth2Error as error:
        return _authorization_error(request, server, oauth_request, error)
    if form.get("decision") != "allow":
        response: Response = server.create_authorization_response(oauth_request, None, grant)
        return response
    patient_id = signed.account.patient_id
    chosen = form.get("patient")
    if chosen and chosen != str(patient_id):
        allowed = {str(p.id): p.id for p in represented_minors(session, patient_id)}
        if chosen not in allowed:
            raise Forbidden("You cannot connect an app to this record.")
        patient_id = allowed[chosen]
    app = grant.client.app
    requested = apps.allowed_scope(app, oauth_request.payload.scope or "")
    # granular consent: the data scopes the patient left ticked (the form marks that it
    # offered the choice; without the marker, everything shown was accepted)
    ticked = (
        {key.removeprefix("scope:") for key in form if key.startswith("scope:")}
        if form.get("scopes_offered")
        else None
    )
    try:
        scope = apps.choose_scopes(requested, ticked)
    except Invalid as error:
        return _consent_page(request, session, signed, app, requested, error=error)
    if scope != requested:  # the code and the token carry only what was granted
        oauth_request = _authorize_request(request, settings, {"scope": scope})
        grant = server.get_consent_grant(oauth_request, end_user=signed.account)
    apps.record_grant(
        session, signed.actor, patient_id=patient_id, client_id=app.client_id, scope=scope
    )
    response = server.create_authorization_response(
        oauth_request, GrantUser(signed.account, patient_id), grant
    )
    return response
