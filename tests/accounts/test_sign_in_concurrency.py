"""Failed sign-in attempts made at the same moment all count: the attempt counters are read under
a row lock, so that two requests cannot both read the old count and both write count + 1.

The attempts run through separate connections that really commit (not the rolled-back test
connection). The first attempt stays uncommitted while the second one starts: on PostgreSQL the
second must wait for the first's row lock and then read its count; on SQLite the second waits
for the first's write transaction (``BEGIN IMMEDIATE``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import pyotp
import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.accounts import service
from carnet.accounts.models import Account, AccountKind, SignInChallenge
from carnet.audit.transaction import audited_transaction
from carnet.db import make_session_factory, session_scope
from carnet.errors import CarnetError
from carnet.patients.service import register_patient
from carnet.records.service import purge_patient
from carnet.settings import Settings
from tests.conftest import OPERATOR, Cast, blob_store, valid_nir

PASSWORD = "concurrent-password-2026"
WRONG_PASSWORD = "not-the-password-2026"


@pytest.fixture
def committing(engine: Engine, settings: Settings, cast: Cast) -> sessionmaker[Session]:
    """Sessions on the real engine: what they commit stays, so each test cleans up."""
    return make_session_factory(engine, settings, blobs=blob_store(settings))


@pytest.fixture
def operator_login(committing: sessionmaker[Session]) -> Iterator[str]:
    login = f"race-{uuid.uuid4().hex[:12]}@example.org"
    with session_scope(committing) as session:
        service.create_account(session, kind=AccountKind.OPERATOR, login=login, password=PASSWORD)
    yield login
    with session_scope(committing) as session:
        session.execute(delete(Account).where(Account.login == login))


@pytest.fixture
def patient_login(committing: sessionmaker[Session]) -> Iterator[str]:
    login = f"race-{uuid.uuid4().hex[:12]}@example.org"
    with session_scope(committing) as session:
        patient = register_patient(
            session,
            OPERATOR,
            nir=valid_nir(f"1800575056{800 + uuid.uuid4().int % 100:03d}"),
            birth_name="CONCURRENT",
            birth_given_names=["TEST"],
            birth_date=date(1980, 5, 17),
            sex="M",
            birth_place_code="75056",
            email=login,
        )
        patient_id = patient.id
        service.create_account(
            session,
            kind=AccountKind.PATIENT,
            login=login,
            password=PASSWORD,
            patient_id=patient_id,
        )
    yield login
    with session_scope(committing) as session:
        purge_patient(session, patient_id)


def one_after_the_other(
    committing: sessionmaker[Session], attempt: Callable[[Session], None]
) -> None:
    """Run ``attempt`` twice: the second starts while the first is still uncommitted."""
    first = committing()
    try:
        with pytest.raises(CarnetError):
            attempt(first)
        first.flush()
        errors: list[BaseException] = []

        def second() -> None:
            try:
                with audited_transaction(committing) as session:  # commits the counters
                    attempt(session)
            except CarnetError:
                pass
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second attempt has read the account by now, or is waiting
        first.commit()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the second attempt is still running"
        assert errors == []
    finally:
        first.close()


def account_of(committing: sessionmaker[Session], login: str) -> Account:
    with committing() as session:
        return session.execute(select(Account).where(Account.login == login)).scalar_one()


def test_two_wrong_passwords_at_the_same_moment_both_count(
    committing: sessionmaker[Session], operator_login: str
) -> None:
    def attempt(session: Session) -> None:
        service.begin_sign_in(session, login=operator_login, password=WRONG_PASSWORD)

    one_after_the_other(committing, attempt)

    assert account_of(committing, operator_login).failed_attempts == 2


def test_two_wrong_authenticator_codes_at_the_same_moment_both_count(
    committing: sessionmaker[Session], operator_login: str
) -> None:
    with session_scope(committing) as session:
        step = service.begin_sign_in(session, login=operator_login, password=PASSWORD)
        account = service.find_account(session, operator_login)
        assert account is not None
        secret = service.totp_secret(session, account)
    assert secret is not None
    totp = pyotp.TOTP(secret)
    near = {totp.at(time.time() + delta) for delta in (-90, -60, -30, 0, 30, 60, 90)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in near)

    def attempt(session: Session) -> None:
        service.complete_sign_in(session, session_token=step.session_token, code=wrong)

    one_after_the_other(committing, attempt)

    assert account_of(committing, operator_login).second_factor_failures == 2


def test_two_wrong_codes_at_the_same_moment_both_count(
    committing: sessionmaker[Session], patient_login: str
) -> None:
    with session_scope(committing) as session:
        step = service.begin_sign_in(session, login=patient_login, password=PASSWORD)

    def attempt(session: Session) -> None:
        # a six-digit code is never "abcdef": wrong whatever was sent
        service.complete_sign_in(session, session_token=step.session_token, code="abcdef")

    one_after_the_other(committing, attempt)

    account = account_of(committing, patient_login)
    assert account.second_factor_failures == 2
    with committing() as session:
        challenge = session.execute(
            select(SignInChallenge).where(SignInChallenge.account_id == account.id)
        ).scalar_one()
    assert challenge.attempts == 2
