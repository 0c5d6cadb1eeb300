"""Portal routes: sign-in in two steps, sign-out, the home page; activation of a record with the
code of the insurer's letter, opposition to its creation, and the patient's settings (notices,
sign-in code, language, closing and reopening the record)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.access import ActorKind
from carnet.accounts import self_service, service
from carnet.audit.transaction import undo
from carnet.audit.words import describe
from carnet.errors import CarnetError, Conflict, Invalid, TooManyAttempts, Unauthenticated
from carnet.records import service as records
from carnet.web import portal
from carnet.web.deps import DbSession, SettingsDep
from carnet.web.i18n import lang_of
from carnet.web.portal import (
    SESSION_COOKIE,
    CsrfForm,
    SignedIn,
    Viewing,
    ViewingRecord,
    render,
    set_session_cookie,
    with_record,
)

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
        token, account = provider.second_step(
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
    if account.kind == "patient" and account.locale == "en":  # French is the default
        secure = settings.base_url.startswith("https://")
        response.set_cookie("carnet_lang", "en", samesite="lax", secure=secure)
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
    if signed.actor.kind is ActorKind.PROFESSIONAL:  # the professional's portal home
        from carnet.records.pages import professional_home

        return professional_home(request, session, signed)
    if signed.actor.kind is not ActorKind.PATIENT:
        return render(request, "home.html", {"actor": signed.actor, "account": signed.account})
    from carnet.agenda import service as agenda
    from carnet.agenda.pages import when
    from carnet.messaging import service as messaging

    viewing = portal.viewing(request, session, signed)
    since = signed.account.previous_sign_in_at
    # What is new since the last visit: documents and accesses, appointments, messages.
    news = records.what_is_new(session, viewing.actor, viewing.patient_id, since=since)
    upcoming = agenda.upcoming(session, viewing.actor, viewing.patient_id, since=since)
    messages = messaging.unread_for_home(session, viewing.actor, viewing.patient_id, since=since)
    lang = lang_of(request)
    return render(
        request,
        "patient_home.html",
        {
            **viewing.context(),
            "news": news,
            "upcoming": upcoming,
            "messages": messages,
            "when": when,
            "describe": lambda entry: describe(entry, lang, reader=viewing.reader),
        },
    )


@router.get("/about")
def about(request: Request) -> Response:
    from carnet.terminology import drugs, labs

    data_dir = request.app.state.settings.terminology_dir
    sources = [*drugs.data_sources(data_dir=data_dir), *labs.data_sources()]
    return render(request, "about.html", {"sources": sources})


# --- activation, opposition (no account yet) ------------------------------------------------

FormErrors = (Invalid, Conflict, TooManyAttempts)
ACTIVATION_FIELDS = ("nir", "birth_date", "code", "login")


def _refused(session: DbSession, error: CarnetError) -> int:
    """A refused form writes nothing, except the counter of a wrong code (and the trail of an
    attempt, ``undo``); its status code."""
    undo(session, error)
    return (
        429 if isinstance(error, TooManyAttempts) else 409 if isinstance(error, Conflict) else 400
    )


def _kept(form: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """What the form shows again after an error: never the code nor the passwords."""
    return {name: form.get(name, "") for name in names if name != "code"}


@router.get("/activation")
def activation_page(request: Request) -> Response:
    return render(request, "activation.html", {"values": {}})


@router.post("/activation")
def activate(request: Request, form: CsrfForm, session: DbSession) -> Response:
    try:
        account = self_service.activate_with_account(
            session,
            nir=form.get("nir", ""),
            birth_date=form.get("birth_date", ""),
            code=form.get("code", ""),
            login=form.get("login", ""),
            password=form.get("password", ""),
            password_again=form.get("password_again", ""),
        )
    except FormErrors as error:
        status = _refused(session, error)
        context = {"error": error, "values": _kept(form, ACTIVATION_FIELDS)}
        return render(request, "activation.html", context, status)
    return render(request, "activation.html", {"done": True, "login": account.login})


@router.get("/opposition")
def opposition_page(request: Request) -> Response:
    return render(request, "opposition.html", {"values": {}})


@router.post("/opposition")
def oppose(request: Request, form: CsrfForm, session: DbSession) -> Response:
    try:
        self_service.oppose_creation(
            session,
            nir=form.get("nir", ""),
            birth_date=form.get("birth_date", ""),
            code=form.get("code", ""),
        )
    except FormErrors as error:
        status = _refused(session, error)
        context = {"error": error, "values": _kept(form, ("nir", "birth_date"))}
        return render(request, "opposition.html", context, status)
    return render(request, "opposition.html", {"done": True})


# --- settings, closing and reopening the record ---------------------------------------------


def _settings_page(
    request: Request,
    session: DbSession,
    viewing: Viewing,
    *,
    error: CarnetError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    account, patient = self_service.preferences_of(session, viewing.actor)
    # the state of the record in view, read through the gate (holder or current representative)
    record = records.record_state(session, viewing.actor, viewing.patient_id)
    if values is None:
        values = {
            "notify_email": "on" if account.notify_email else "",
            "notify_sms": "on" if account.notify_sms else "",
            "otp_channel": account.otp_channel,
            "locale": account.locale,
        }
    context = {
        **viewing.context(),
        "holder": patient,
        "record": record,
        "values": values,
        "error": error,
        "saved": request.query_params.get("enregistre") == "1",
    }
    return render(request, "settings.html", context, 400 if error else 200)


@router.get("/parametres")
def settings_page(request: Request, session: DbSession, viewing: ViewingRecord) -> Response:
    return _settings_page(request, session, viewing)


@router.post("/parametres")
def save_settings(
    request: Request, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    try:
        account = self_service.update_preferences(
            session,
            viewing.actor,
            notify_email=form.get("notify_email") == "on",
            notify_sms=form.get("notify_sms") == "on",
            otp_channel=form.get("otp_channel", ""),
            locale=form.get("locale", ""),
        )
    except FormErrors as error:
        _refused(session, error)
        return _settings_page(request, session, viewing, error=error, values=form)
    response = RedirectResponse(with_record("/parametres?enregistre=1", viewing), status_code=303)
    secure = request.app.state.settings.base_url.startswith("https://")
    response.set_cookie("carnet_lang", account.locale, samesite="lax", secure=secure)
    return response


@router.get("/parametres/fermeture")
def closure_page(request: Request, viewing: ViewingRecord) -> Response:
    return render(request, "closure.html", {**viewing.context(), "values": {}})


@router.post("/parametres/fermeture")
def close_record(
    request: Request, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    try:
        self_service.close_record(
            session,
            viewing.actor,
            viewing.patient_id,
            confirmed=form.get("confirm") == "on",
            delete_now=form.get("delete_now") == "on",
            delete_confirmed=form.get("delete_confirm") == "on",
            comment=form.get("comment", "").strip(),
        )
    except FormErrors as error:
        status = _refused(session, error)
        context = {**viewing.context(), "error": error, "values": form}
        return render(request, "closure.html", context, status)
    return RedirectResponse(with_record("/parametres", viewing), status_code=303)


@router.post("/parametres/reactivation")
def reactivate_record(
    request: Request, form: CsrfForm, session: DbSession, viewing: ViewingRecord
) -> Response:
    try:
        records.reactivate_record(
            session,
            viewing.actor,
            viewing.patient_id,
            patient_consented=form.get("patient_consented") == "on",
        )
    except FormErrors as error:
        _refused(session, error)
        return _settings_page(request, session, viewing, error=error)
    return RedirectResponse(with_record("/parametres", viewing), status_code=303)
