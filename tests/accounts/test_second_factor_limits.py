"""Second-factor guessing is limited per account, not per password: wrong authenticator codes and
wrong e-mailed codes count across password steps and challenges, lock the account, and only a
right second factor clears the count. Asking again for a code within seconds reuses the pending
one instead of sending another."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.accounts.models import SignInChallenge
from carnet.accounts.service import CODE_RESEND_SECONDS
from carnet.notifications.models import SEALED_CODE, OutboxMessage
from carnet.settings import Settings
from carnet.web.portal import SESSION_COOKIE
from tests.accounts.conftest import DURAND, SYLVIE, Portal
from tests.accounts.test_professional_sign_in import current_totp, wrong_totp


def wrong_code(right: str) -> str:
    return "000000" if right != "000000" else "111111"


# -- professionals: authenticator codes ----------------------------------------------------------


def test_a_right_password_does_not_reset_the_count_of_wrong_authenticator_codes(
    portal: Portal, session: Session, settings: Settings
) -> None:
    account = portal.account(DURAND)
    wrong = wrong_totp(session, account)
    portal.password_step(DURAND)
    for _ in range(settings.sign_in_max_attempts - 2):
        assert portal.code_step(wrong).status_code == 401

    assert portal.password_step(DURAND).status_code == 303  # the password is right
    assert portal.account(DURAND).second_factor_failures == settings.sign_in_max_attempts - 2
    assert portal.code_step(wrong).status_code == 401
    assert portal.code_step(wrong).status_code == 429  # the limit counts across both steps

    assert portal.account(DURAND).locked_until is not None
    assert portal.code_step(current_totp(session, account)).status_code == 429
    assert portal.password_step(DURAND).status_code == 429
    assert portal.client.cookies.get(SESSION_COOKIE) is None


def test_a_right_authenticator_code_clears_the_count(
    portal: Portal, session: Session, settings: Settings
) -> None:
    account = portal.account(DURAND)
    wrong = wrong_totp(session, account)
    portal.password_step(DURAND)
    for _ in range(settings.sign_in_max_attempts - 1):
        assert portal.code_step(wrong).status_code == 401

    assert portal.code_step(current_totp(session, account)).status_code == 303

    assert portal.account(DURAND).second_factor_failures == 0
    assert portal.account(DURAND).locked_until is None


def test_after_a_lockout_one_more_wrong_authenticator_code_locks_again(
    portal: Portal,
    session: Session,
    settings: Settings,
    frozen: Callable[[datetime], None],
    start: datetime,
) -> None:
    account = portal.account(DURAND)
    wrong = wrong_totp(session, account)
    portal.password_step(DURAND)
    for _ in range(settings.sign_in_max_attempts):
        portal.code_step(wrong)
    later = start + timedelta(seconds=settings.password_lockout_seconds + 1)
    frozen(later)

    assert portal.password_step(DURAND).status_code == 303
    assert portal.code_step(wrong_totp(session, account)).status_code == 429

    assert portal.account(DURAND).locked_until == later + timedelta(
        seconds=settings.password_lockout_seconds
    )


# -- patients: codes by e-mail or SMS ------------------------------------------------------------


def test_wrong_codes_count_across_challenges_and_lock_the_patients_account(
    portal: Portal, settings: Settings, frozen: Callable[[datetime], None], start: datetime
) -> None:
    portal.password_step()
    first = portal.code_sent_to()
    for _ in range(settings.sign_in_max_attempts - 2):
        assert portal.code_step(wrong_code(first)).status_code == 401

    frozen(start + timedelta(seconds=CODE_RESEND_SECONDS + 1))
    assert portal.password_step().status_code == 303  # a new challenge, a new code
    second = portal.code_sent_to()
    assert portal.code_step(wrong_code(second)).status_code == 401
    assert portal.code_step(wrong_code(second)).status_code == 401

    account = portal.account()
    assert account.second_factor_failures == settings.sign_in_max_attempts
    assert account.locked_until is not None
    refused = portal.code_step(second)  # even the right code, on a challenge with tries left
    assert refused.status_code == 429
    assert "échecs de connexion" in refused.text
    assert portal.client.cookies.get(SESSION_COOKIE) is None
    assert portal.password_step().status_code == 429


def test_a_right_code_clears_the_patients_count(portal: Portal, settings: Settings) -> None:
    portal.password_step()
    code = portal.code_sent_to()
    for _ in range(settings.sign_in_max_attempts - 1):
        assert portal.code_step(wrong_code(code)).status_code == 401

    assert portal.code_step(code).status_code == 303

    assert portal.account().second_factor_failures == 0


def test_a_password_step_repeated_within_seconds_reuses_the_pending_code(
    portal: Portal, session: Session, frozen: Callable[[datetime], None], start: datetime
) -> None:
    assert portal.password_step().status_code == 303
    frozen(start + timedelta(seconds=CODE_RESEND_SECONDS - 1))
    assert portal.password_step().status_code == 303

    assert portal.count_outbox() == 1  # one code sent, not two
    challenges = session.execute(select(SignInChallenge)).scalars().all()
    assert len(challenges) == 1
    assert portal.code_step(portal.code_sent_to()).status_code == 303


def test_a_new_code_is_sent_once_the_resend_delay_has_passed(
    portal: Portal, frozen: Callable[[datetime], None], start: datetime
) -> None:
    portal.password_step()
    frozen(start + timedelta(seconds=CODE_RESEND_SECONDS + 1))
    portal.password_step()

    assert portal.count_outbox() == 2
    assert portal.code_step(portal.code_sent_to()).status_code == 303  # the newest code


def test_a_used_code_is_never_reused_for_the_next_sign_in(portal: Portal) -> None:
    portal.sign_in_patient()
    portal.client.cookies.delete(SESSION_COOKIE)

    assert portal.password_step().status_code == 303

    assert portal.count_outbox() == 2
    assert portal.code_step(portal.code_sent_to()).status_code == 303


def test_the_code_waits_in_the_outbox_sealed_never_in_clear(
    portal: Portal, session: Session
) -> None:
    portal.password_step()
    queued = session.execute(
        select(OutboxMessage).where(OutboxMessage.template == "sign_in_code")
    ).scalar_one()
    code = portal.code_sent_to()

    assert "code" not in queued.payload
    assert SEALED_CODE in queued.payload
    assert code not in str(queued.payload)
    assert SYLVIE not in str(queued.payload)
