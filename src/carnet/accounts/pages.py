"""Portal routes: sign-in in two steps, sign-out, the home page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.access import ActorKind
from carnet.accounts import service
from carnet.audit.words import describe
from carnet.errors import CarnetError, TooManyAttempts, Unauthenticated
from carnet.records import service as records
from carnet.web import portal
from carnet.web.deps import DbSession, SettingsDep
from carnet.web.i18n import lang_of
from carnet.web.portal import SESSION_COOKIE, CsrfForm, SignedIn, render, set_session_cookie

router = APIRouter(tags=["portal"])
PENDING_COOKIE = "carnet_pending"


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", {"next": _safe_next(request.query_params.get("next"))})


@router.post("/login")
def login(request: Request, form: CsrfForm, session: DbSession, settings: SettingsDep) -> Response:
    nxt = _safe_next(form.get("next"))
    provider = request.app.state.identity_provider
    try:
        step = provider.first_step(
            session, login=form.get("login", ""), password=form.get("password", "")
        )
    except Unauthenticated as error:
        # An unknown identifier must get the very same answer as a wrong password (no account
        # enumeration); only the latter has a failed-attempt counter to keep.
        if error.keep_changes:
            session.commit()
        return render(
            request,
            "login.html",
            {"error": error.message, "next": nxt, "login": form.get("login", "")},
            401,
        )
    response = RedirectResponse(f"/login/code?next={quote(nxt)}", status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        step.session_token,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
        max_age=settings.sign_in_code_ttl_seconds,
    )
    response.set_cookie(
        "carnet_factor",
        step.second_factor,
        samesite="lax",
        max_age=settings.sign_in_code_ttl_seconds,
    )
    return response


@router.get("/login/code")
def code_page(request: Request) -> Response:
    factor = request.cookies.get("carnet_factor", "email")
    return render(
        request,
        "login_code.html",
        {"factor": factor, "next": _safe_next(request.query_params.get("next"))},
    )


@router.post("/login/code")
def code(request: Request, form: CsrfForm, session: DbSession, settings: SettingsDep) -> Response:
    nxt = _safe_next(form.get("next"))
    provider = request.app.state.identity_provider
    try:
        token, _account = provider.second_step(
            session,
            session_token=request.cookies.get(PENDING_COOKIE, ""),
            code=form.get("code", ""),
        )
    except CarnetError as error:
        if error.keep_changes:
            session.commit()
        factor = request.cookies.get("carnet_factor", "email")
        status = 429 if isinstance(error, TooManyAttempts) else 401
        return render(
            request,
            "login_code.html",
            {"error": error.message, "factor": factor, "next": nxt},
            status,
        )
    response = RedirectResponse(nxt, status_code=303)
    set_session_cookie(response, token, settings)
    response.delete_cookie(PENDING_COOKIE)
    response.delete_cookie("carnet_factor")
    return response


@router.post("/logout")
def logout(request: Request, form: CsrfForm, session: DbSession) -> Response:
    service.end_session(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(request: Request, session: DbSession, signed: SignedIn) -> Response:
    if signed.actor.kind is not ActorKind.PATIENT:  # professionals keep their own home
        return render(request, "home.html", {"actor": signed.actor, "account": signed.account})
    viewing = portal.viewing(request, session, signed)
    news = records.what_is_new(
        session, viewing.actor, viewing.patient_id, since=signed.account.previous_sign_in_at
    )
    lang = lang_of(request)
    return render(
        request,
        "patient_home.html",
        {**viewing.context(), "news": news, "describe": lambda entry: describe(entry, lang)},
    )


@router.get("/about")
def about(request: Request) -> Response:
    from carnet.terminology import drugs, labs

    data_dir = request.app.state.settings.terminology_dir
    sources = [*drugs.data_sources(data_dir=data_dir), *labs.data_sources()]
    return render(request, "about.html", {"sources": sources})
