"""Portal plumbing: templates, the session cookie, CSRF (double submit), the signed-in actor."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from carnet.access import URGENT_MODES, Actor, ActorKind, Mode
from carnet.accounts import service as accounts
from carnet.accounts.models import Account, WebSession
from carnet.audit.words import Reader
from carnet.errors import Forbidden, Unauthenticated
from carnet.records.service import RecordInView, record_in_view
from carnet.web.deps import DbSession, SettingsDep
from carnet.web.i18n import lang_of, translator

SESSION_COOKIE = "carnet_session"
CSRF_COOKIE = "carnet_csrf"
templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
# How a trail row's urgent mode is flagged to the patient (history, home): the label to translate
_URGENT_LABELS = {Mode.EMERGENCY: "Emergency access", Mode.REGULATOR: "Regulator access (SAMU)"}
templates.env.globals["URGENT"] = {mode.value: _URGENT_LABELS[mode] for mode in URGENT_MODES}


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    lang = lang_of(request)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    ctx = {
        "request": request,
        "lang": lang,
        "t": translator(lang),
        "csrf_token": csrf,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    secure = request.app.state.settings.base_url.startswith("https://")
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure)
    if request.query_params.get("lang") in ("fr", "en"):
        response.set_cookie("carnet_lang", lang, samesite="lax", secure=secure)
    response.headers["Cache-Control"] = "no-store"
    return response


async def check_csrf(request: Request) -> dict[str, str]:
    """Read the form and check its CSRF token against the cookie; returns the form fields."""
    form = await request.form()
    sent = str(form.get("csrf_token", ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(sent, cookie):
        raise Forbidden("The form has expired; please try again.")
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


CsrfForm = Annotated[dict[str, str], Depends(check_csrf)]


def set_session_cookie(response: Response, token: str, settings: Any) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
        max_age=settings.session_absolute_ttl_seconds,
    )


class Signed:
    def __init__(self, web: WebSession, account: Account, actor: Actor) -> None:
        self.web, self.account, self.actor = web, account, actor
        # a professional's live urgent access (bris de glace or SAMU regulation: one record,
        # an end), if any
        self.emergency = (
            accounts.live_emergency(web) if actor.kind is ActorKind.PROFESSIONAL else None
        )

    @property
    def secret_patient_id(self) -> uuid.UUID | None:
        """The record a professional's session holds a secret connection to, if any."""
        if self.actor.kind is not ActorKind.PROFESSIONAL:
            return None
        return self.web.secret_patient_id

    def actor_on(self, patient_id: uuid.UUID) -> Actor:
        """The actor for an access to this record: in the urgent access's mode (emergency or
        regulator), with its reason, while the session's urgent access to this very record
        lasts; in a secret connection while the session holds one to it."""
        actor = self.actor
        if self.emergency is not None and self.emergency.patient_id == patient_id:
            actor = accounts.emergency_actor(actor, self.emergency)
        return self.secret_on(patient_id, actor)

    def secret_on(self, patient_id: uuid.UUID, actor: Actor | None = None) -> Actor:
        """The actor (or ``actor``) in the session's secret connection, if it holds one to this
        record (the conversations with the patient act in it; an urgent access does not
        extend to them)."""
        actor = actor or self.actor
        return replace(actor, secret=True) if self.secret_patient_id == patient_id else actor


def signed_in(request: Request, session: DbSession, settings: SettingsDep) -> Signed:
    web = accounts.load_session(session, request.cookies.get(SESSION_COOKIE))
    account = session.get(Account, web.account_id)
    if account is None or account.disabled:
        raise Unauthenticated("Please sign in.")
    actor = accounts.actor_for_account(session, account)
    request.state.actor = actor
    return Signed(web, account, actor)


SignedIn = Annotated[Signed, Depends(signed_in)]


class Viewing:
    """A signed-in patient and the record they are looking at (``?record=<patient id>``)."""

    def __init__(self, signed: Signed, view: RecordInView) -> None:
        self.signed, self.view = signed, view
        self.actor, self.account = signed.actor, signed.account
        self.patient_id = view.patient.id
        # carried by every link and form of the patient pages
        self.query = "" if view.own else f"record={view.patient.id}"

    @property
    def reader(self) -> Reader | None:
        """For the trail in plain words: a parent reading a minor's record (None: their own)."""
        if self.view.own:
            return None
        given = self.view.patient.given_name
        return Reader(minor_name=given.title() if given.isupper() else given, ref=self.actor.ref)

    def context(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "account": self.account,
            "view": self.view,
            "record_query": self.query,
            "link": lambda path: with_record(path, self),
        }


def viewing(request: Request, session: DbSession, signed: SignedIn) -> Viewing:
    view = record_in_view(session, signed.actor, request.query_params.get("record"))
    return Viewing(signed, view)


ViewingRecord = Annotated[Viewing, Depends(viewing)]


LAST_PAGE = 1_000_000  # beyond any record's pages, and within the database's integers


def page_number(page: int) -> int:
    """A page number from a link, brought within 1 … ``LAST_PAGE``."""
    return min(max(page, 1), LAST_PAGE)


def with_record(path: str, viewing: Viewing) -> str:
    """``path`` with the record parameter, for redirects after a form."""
    if not viewing.query:
        return path
    return f"{path}{'&' if '?' in path else '?'}{viewing.query}"
