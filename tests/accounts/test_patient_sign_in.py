"""Patient sign-in through the portal: CSRF, password, one-time code by e-mail through the
outbox, lockouts, code expiry and reuse, session expiry and sign-out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.accounts import service as accounts
from carnet.accounts.models import Account, SignInChallenge
from carnet.accounts.service import BAD_CREDENTIALS
from carnet.notifications.models import OutboxMessage, OutboxStatus
from carnet.settings import Settings
from carnet.web.i18n import FR
from carnet.web.portal import CSRF_COOKIE, SESSION_COOKIE
from tests.accounts.conftest import PENDING_COOKIE, SYLVIE, Portal
from tests.conftest import Cast, refused_for_csrf


def test_the_login_page_sets_a_csrf_cookie_and_puts_the_token_in_the_form(
    portal: Portal,
) -> None:
    page = portal.client.get("/login")
    assert page.status_code == 200
    token = portal.client.cookies.get(CSRF_COOKIE)
    assert token
    assert f'name="csrf_token" value="{token}"' in page.text


def test_the_right_password_queues_a_one_time_code_and_the_worker_emails_it_to_the_patient(
    portal: Portal, session: Session
) -> None:
    response = portal.password_step(next_url="/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login/code")
    assert portal.client.cookies.get(PENDING_COOKIE)
    queued = session.execute(
        select(OutboxMessage).where(
            OutboxMessage.template == "sign_in_code",
            OutboxMessage.account_id == portal.account().id,
        )
    ).scalar_one()
    assert queued.status == OutboxStatus.PENDING.value
    assert queued.channel == "email"
    assert portal.sender.messages == []  # nothing goes out before the worker runs

    assert portal.deliver() == 1
    (message,) = portal.sender.messages
    assert message.to == SYLVIE
    assert message.channel == "email"
    code = portal.sender.last_code(SYLVIE)
    assert len(code) == 6
    session.refresh(queued)
    assert queued.status == OutboxStatus.SENT.value
    assert "code" not in (queued.payload or {})  # the code is scrubbed once sent


def test_the_code_signs_the_patient_in_and_the_home_page_shows_her_name(
    portal: Portal,
) -> None:
    portal.password_step()
    done = portal.code_step(portal.code_sent_to())
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    assert portal.client.cookies.get(SESSION_COOKIE)
    assert portal.client.cookies.get(PENDING_COOKIE) is None

    home = portal.client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "sylvie martin" in home.text.lower()  # INS traits are stored in capitals
    account = portal.account()
    assert account.last_sign_in_at is not None


def test_the_home_page_sends_a_signed_out_visitor_to_the_login_page(portal: Portal) -> None:
    response = portal.client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_a_wrong_password_shows_the_form_again_with_a_readable_message(
    portal: Portal,
) -> None:
    response = portal.password_step(password="not-the-password-1")
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert FR[BAD_CREDENTIALS] in response.text
    assert f'value="{SYLVIE}"' in response.text  # the identifier is kept
    assert portal.client.cookies.get(PENDING_COOKIE) is None
    assert portal.count_outbox() == 0
    assert portal.account().failed_attempts == 1


def test_an_unknown_identifier_gets_the_same_answer_as_a_wrong_password(
    portal: Portal,
) -> None:
    response = portal.password_step(login="nobody@example.org", password="whatever-123456")
    assert response.status_code == 401
    assert FR[BAD_CREDENTIALS] in response.text


def test_too_many_wrong_passwords_lock_the_account_even_against_the_right_password(
    portal: Portal, settings: Settings, frozen: Callable[[datetime], None], start: datetime
) -> None:
    for _ in range(settings.password_max_failures):
        assert portal.password_step(password="not-the-password-1").status_code == 401
    assert portal.account().locked_until is not None

    locked = portal.password_step()
    assert locked.status_code == 429
    assert "échecs de connexion" in locked.text
    assert portal.count_outbox() == 0

    frozen(start + timedelta(seconds=settings.password_lockout_seconds + 1))
    assert portal.password_step().status_code == 303  # the lock lifts after its delay


def test_a_wrong_code_is_refused_and_counted(portal: Portal, session: Session) -> None:
    portal.password_step()
    code = portal.code_sent_to()
    wrong = "000000" if code != "000000" else "111111"
    response = portal.code_step(wrong)
    assert response.status_code == 401
    assert "Code erroné." in response.text
    assert portal.client.cookies.get(SESSION_COOKIE) is None
    challenge = session.execute(select(SignInChallenge)).scalars().one()
    session.refresh(challenge)
    assert challenge.attempts == 1
    assert portal.code_step(code).status_code == 303  # the right code still works


def test_too_many_wrong_codes_end_the_challenge_even_for_the_right_code(
    portal: Portal, settings: Settings
) -> None:
    portal.password_step()
    code = portal.code_sent_to()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.sign_in_max_attempts):
        assert portal.code_step(wrong).status_code == 401
    refused = portal.code_step(code)
    assert refused.status_code == 429
    assert "Trop de codes erronés" in refused.text
    assert portal.client.cookies.get(SESSION_COOKIE) is None


def test_a_code_expires_after_its_time_to_live(
    portal: Portal, settings: Settings, frozen: Callable[[datetime], None], start: datetime
) -> None:
    portal.password_step()
    code = portal.code_sent_to()
    frozen(start + timedelta(seconds=settings.sign_in_code_ttl_seconds + 1))
    response = portal.code_step(code)
    assert response.status_code == 401
    assert "a expiré" in response.text
    assert portal.client.cookies.get(SESSION_COOKIE) is None


def test_a_code_used_once_cannot_sign_in_again(portal: Portal) -> None:
    portal.password_step()
    pending = portal.client.cookies.get(PENDING_COOKIE)
    code = portal.code_sent_to()
    assert portal.code_step(code).status_code == 303
    portal.client.cookies.delete(SESSION_COOKIE)

    portal.client.cookies.set(PENDING_COOKIE, pending or "")
    replay = portal.code_step(code)
    assert replay.status_code == 401
    assert portal.client.cookies.get(SESSION_COOKIE) is None
    assert portal.count_sessions() == 1  # only the first sign-in's session


def test_a_password_post_without_the_csrf_token_is_refused_and_changes_nothing(
    portal: Portal,
) -> None:
    portal.csrf()
    response = portal.client.post(
        "/login",
        data={"login": SYLVIE, "password": portal.password},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert portal.client.cookies.get(PENDING_COOKIE) is None
    assert portal.count_outbox() == 0
    assert portal.count_sessions() == 0


def test_a_post_with_a_wrong_csrf_token_is_refused_and_changes_nothing(portal: Portal) -> None:
    portal.csrf()
    response = portal.client.post(
        "/login",
        data={"csrf_token": "forged", "login": SYLVIE, "password": "not-the-password-1"},
        follow_redirects=False,
    )
    assert refused_for_csrf(response)
    assert portal.account().failed_attempts == 0


def test_a_post_without_the_csrf_cookie_is_refused(portal: Portal) -> None:
    portal.password_step()
    code = portal.code_sent_to()
    token = portal.csrf()
    portal.client.cookies.delete(CSRF_COOKIE)
    response = portal.client.post(
        "/login/code", data={"csrf_token": token, "code": code}, follow_redirects=False
    )
    assert response.status_code == 403
    assert portal.client.cookies.get(SESSION_COOKIE) is None


def test_a_sign_out_without_the_csrf_token_leaves_the_session_alive(portal: Portal) -> None:
    portal.sign_in_patient()
    response = portal.client.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert portal.client.get("/", follow_redirects=False).status_code == 200


def test_a_session_expires_after_its_inactivity_limit(
    portal: Portal, settings: Settings, frozen: Callable[[datetime], None], start: datetime
) -> None:
    portal.sign_in_patient()
    frozen(start + timedelta(seconds=settings.session_ttl_seconds - 60))
    assert portal.client.get("/", follow_redirects=False).status_code == 200

    # each visit slides the limit; a long silence ends the session
    later = start + timedelta(seconds=2 * settings.session_ttl_seconds - 120)
    frozen(later)
    assert portal.client.get("/", follow_redirects=False).status_code == 200
    frozen(later + timedelta(seconds=settings.session_ttl_seconds + 1))
    response = portal.client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_idle_limit_slides_at_most_once_a_minute(
    session: Session, cast: Cast, frozen: Callable[[datetime], None], start: datetime
) -> None:
    # Not a write of the session row on every page (and every image of it): the limit moves
    # on once a minute at most, so it is late by under a minute out of its thirty.
    account = session.execute(select(Account).where(Account.login == SYLVIE)).scalar_one()
    token = accounts._new_session(session, account, stage="signed_in", challenge_id=None, ttl=1800)
    first = accounts.load_session(session, token).expires_at

    frozen(start + timedelta(seconds=59))
    assert accounts.load_session(session, token).expires_at == first  # not moved yet
    frozen(start + timedelta(seconds=61))
    assert accounts.load_session(session, token).expires_at == start + timedelta(seconds=61 + 1800)


def test_a_session_ends_at_its_absolute_limit_however_active(
    portal: Portal, settings: Settings, frozen: Callable[[datetime], None], start: datetime
) -> None:
    portal.sign_in_patient()
    step = settings.session_ttl_seconds - 60
    moment = start
    while moment + timedelta(seconds=step) < start + timedelta(
        seconds=settings.session_absolute_ttl_seconds
    ):
        moment += timedelta(seconds=step)
        frozen(moment)
        assert portal.client.get("/", follow_redirects=False).status_code == 200
    frozen(start + timedelta(seconds=settings.session_absolute_ttl_seconds))
    assert portal.client.get("/", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_on_the_server(portal: Portal) -> None:
    portal.sign_in_patient()
    token = portal.client.cookies.get(SESSION_COOKIE)
    response = portal.post("/logout", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert portal.client.cookies.get(SESSION_COOKIE) is None
    assert portal.count_sessions() == 0

    portal.client.cookies.set(SESSION_COOKIE, token or "")  # a stolen copy is worthless
    assert portal.client.get("/", follow_redirects=False).status_code == 303


def test_passwords_are_stored_as_argon2_hashes(portal: Portal) -> None:
    account = portal.account()
    assert account.password_hash.startswith("$argon2")
    assert portal.password not in account.password_hash


def test_the_next_page_survives_both_steps(portal: Portal) -> None:
    done = portal.sign_in_patient(next_url="/?lang=en")
    assert done.headers["location"] == "/?lang=en"


def test_a_next_page_on_another_site_is_ignored(portal: Portal) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example/"):
        portal.client.cookies.delete(SESSION_COOKIE)
        done = portal.sign_in_patient(next_url=target)
        location = done.headers["location"]
        assert not location.startswith(("//", "/\\", "http")), location


def test_the_portal_speaks_english_on_request(client: TestClient) -> None:
    page = client.get("/login?lang=en")
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text
    assert client.cookies.get("carnet_lang") == "en"
    french = client.get("/login?lang=fr")
    assert "Se connecter" in french.text
