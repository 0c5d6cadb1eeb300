"""Professional sign-in: password then an authenticator (TOTP) code, the secret kept encrypted,
and the identity-provider boundary that Pro Santé Connect would plug into."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.accounts import service
from carnet.accounts.models import Account
from carnet.errors import Unauthenticated
from carnet.settings import Settings
from carnet.web.portal import SESSION_COOKIE
from tests.accounts.conftest import DURAND, PENDING_COOKIE, SYLVIE, Portal


def current_totp(session: Session, account: Account) -> str:
    secret = service.totp_secret(session, account)
    assert secret is not None
    return pyotp.TOTP(secret).at(clock.now())


def wrong_totp(session: Session, account: Account) -> str:
    secret = service.totp_secret(session, account)
    assert secret is not None
    totp = pyotp.TOTP(secret)
    now = clock.now().timestamp()
    near = {totp.at(now + delta) for delta in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def test_a_professional_signs_in_with_password_then_authenticator_code(
    portal: Portal, session: Session
) -> None:
    first = portal.password_step(DURAND)
    assert first.status_code == 303
    assert portal.client.cookies.get("carnet_factor") == "totp"
    assert portal.deliver() == 0  # no code is e-mailed to professionals

    page = portal.client.get(first.headers["location"])
    assert "Code de l'application d'authentification" in html.unescape(page.text)

    done = portal.code_step(current_totp(session, portal.account(DURAND)))
    assert done.status_code == 303
    home = portal.client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "Espace professionnel" in home.text
    assert "Dr Paul Durand" in home.text


def test_a_wrong_authenticator_code_is_refused(portal: Portal, session: Session) -> None:
    portal.password_step(DURAND)
    response = portal.code_step(wrong_totp(session, portal.account(DURAND)))
    assert response.status_code == 401
    assert "authentification erroné." in response.text
    assert portal.client.cookies.get(SESSION_COOKIE) is None
    assert portal.client.get("/", follow_redirects=False).status_code == 303


def test_too_many_wrong_authenticator_codes_end_the_pending_sign_in(
    portal: Portal, session: Session, settings: Settings
) -> None:
    portal.password_step(DURAND)
    account = portal.account(DURAND)
    wrong = wrong_totp(session, account)
    for _ in range(settings.sign_in_max_attempts - 1):
        assert portal.code_step(wrong).status_code == 401
    assert portal.code_step(wrong).status_code == 429
    refused = portal.code_step(current_totp(session, account))
    assert refused.status_code == 429
    assert portal.client.cookies.get(SESSION_COOKIE) is None
    # a fresh password step does not reopen the guessing
    assert portal.password_step(DURAND).status_code == 429


def test_a_locked_professional_can_sign_in_again_after_the_lockout(
    portal: Portal,
    session: Session,
    settings: Settings,
    frozen: Callable[[datetime], None],
    start: datetime,
) -> None:
    portal.password_step(DURAND)
    account = portal.account(DURAND)
    wrong = wrong_totp(session, account)
    for _ in range(settings.sign_in_max_attempts):
        portal.code_step(wrong)
    later = start + timedelta(seconds=settings.password_lockout_seconds + 1)
    frozen(later)
    assert portal.password_step(DURAND).status_code == 303
    assert portal.code_step(current_totp(session, account)).status_code == 303


def test_an_authenticator_code_cannot_be_used_twice(
    portal: Portal, session: Session, start: datetime
) -> None:
    code = current_totp(session, portal.account(DURAND))
    portal.password_step(DURAND)
    assert portal.code_step(code).status_code == 303
    portal.client.cookies.delete(SESSION_COOKIE)
    portal.password_step(DURAND)
    assert portal.code_step(code).status_code == 401


def test_the_totp_secret_is_stored_encrypted(session: Session) -> None:
    account = session.execute(select(Account).where(Account.login == DURAND)).scalar_one()
    secret = service.totp_secret(session, account)
    assert secret is not None
    assert len(secret) >= 16
    assert account.totp_secret
    assert secret not in account.totp_secret


def test_a_patient_has_no_totp_secret(session: Session) -> None:
    account = session.execute(select(Account).where(Account.login == SYLVIE)).scalar_one()
    assert account.totp_secret is None
    assert service.totp_secret(session, account) is None


class FakeProConnect:
    """A stand-in for an OpenID Connect provider (Pro Santé Connect): it knows one person and
    one code, and knows nothing of Carnet's passwords."""

    name = "fake-pro-sante-connect"
    CODE = "424242"

    def __init__(self, login: str) -> None:
        self.login = login
        self.calls: list[str] = []

    def first_step(self, session: Session, *, login: str, password: str) -> service.FirstStep:
        self.calls.append("first")
        account = service.find_account(session, login)
        if account is None or login != self.login:
            raise Unauthenticated("Unknown to the provider.")
        token = service._new_session(
            session, account, stage="password_ok", challenge_id=None, ttl=300
        )
        return service.FirstStep(token, account, "totp")

    def second_step(
        self, session: Session, *, session_token: str, code: str
    ) -> tuple[str, Account]:
        self.calls.append("second")
        web = service.load_session(session, session_token, stage="password_ok")
        if code != self.CODE:
            raise Unauthenticated("The provider refused the code.")
        account = session.get(Account, web.account_id)
        assert account is not None
        session.delete(web)
        token = service._new_session(
            session, account, stage="signed_in", challenge_id=None, ttl=600
        )
        return token, account


def test_any_identity_provider_with_two_steps_can_replace_the_local_one(
    portal: Portal,
) -> None:
    provider = FakeProConnect(DURAND)
    portal.client.app.state.identity_provider = provider  # type: ignore[attr-defined]

    # the local password means nothing to this provider: any password goes to it
    first = portal.password_step(DURAND, password="ignored by the provider")
    assert first.status_code == 303
    assert portal.client.cookies.get(PENDING_COOKIE)
    assert portal.code_step("999999").status_code == 401
    assert portal.code_step(FakeProConnect.CODE).status_code == 303
    assert provider.calls == ["first", "second", "second"]

    home = portal.client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "Dr Paul Durand" in home.text


def test_a_provider_refusal_shows_the_login_form_again(portal: Portal) -> None:
    portal.client.app.state.identity_provider = FakeProConnect(DURAND)  # type: ignore[attr-defined]
    response = portal.password_step(SYLVIE)
    assert response.status_code == 401
    assert "Unknown to the provider." in response.text
