"""Portal sign-in helpers for the accounts tests: a small driver over the real HTTP routes (CSRF
cookie, password step, code delivered through the outbox worker, second step)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.accounts.models import Account, WebSession
from carnet.notifications.models import OutboxMessage
from carnet.notifications.worker import dispatch_due
from carnet.settings import Settings
from carnet.web.portal import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import FakeSender

SYLVIE = "sylvie.martin@example.org"
DURAND = "paul.durand@example.org"
PENDING_COOKIE = "carnet_pending"


class Portal:
    """Drives the portal like a browser would, one step at a time."""

    def __init__(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        sender: FakeSender,
        settings: Settings,
        session: Session,
        password: str,
    ) -> None:
        self.client, self.factory, self.sender = client, factory, sender
        self.settings, self.session, self.password = settings, session, password

    def csrf(self) -> str:
        token = self.client.cookies.get(CSRF_COOKIE)
        if token is None:
            self.client.get("/login")
            token = self.client.cookies.get(CSRF_COOKIE)
        assert token, "GET /login should set the CSRF cookie"
        return token

    def post(self, url: str, data: dict[str, str]) -> Any:
        return self.client.post(
            url, data={"csrf_token": self.csrf(), **data}, follow_redirects=False
        )

    def password_step(
        self, login: str = SYLVIE, password: str | None = None, next_url: str = "/"
    ) -> Any:
        return self.post(
            "/login",
            {
                "login": login,
                "password": self.password if password is None else password,
                "next": next_url,
            },
        )

    def deliver(self) -> int:
        return dispatch_due(self.factory, self.sender, self.settings)

    def code_sent_to(self, address: str = SYLVIE) -> str:
        self.deliver()
        return self.sender.last_code(address)

    def code_step(self, code: str, next_url: str = "/") -> Any:
        return self.post("/login/code", {"code": code, "next": next_url})

    def sign_in_patient(self, login: str = SYLVIE, next_url: str = "/") -> Any:
        first = self.password_step(login, next_url=next_url)
        assert first.status_code == 303, first.text
        done = self.code_step(self.code_sent_to(login), next_url=next_url)
        assert done.status_code == 303, done.text
        assert self.client.cookies.get(SESSION_COOKIE)
        return done

    def account(self, login: str = SYLVIE) -> Account:
        account = self.session.execute(select(Account).where(Account.login == login)).scalar_one()
        self.session.refresh(account)  # the routes changed it through their own session
        return account

    def count_outbox(self, template: str = "sign_in_code") -> int:
        return self.session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == template)
        ).scalar_one()

    def count_sessions(self, login: str = SYLVIE) -> int:
        return self.session.execute(
            select(func.count())
            .select_from(WebSession)
            .join(Account, Account.id == WebSession.account_id)
            .where(Account.login == login)
        ).scalar_one()


@pytest.fixture
def portal(
    client: TestClient,
    factory: sessionmaker[Session],
    sender: FakeSender,
    settings: Settings,
    session: Session,
) -> Portal:
    return Portal(client, factory, sender, settings, session, settings.demo_password)


@pytest.fixture
def signed_in(portal: Portal) -> Portal:
    """The portal, signed in as the demo's patient (Sylvie)."""
    portal.sign_in_patient()
    return portal


@pytest.fixture
def start(frozen: Callable[[datetime], None]) -> datetime:
    """Freeze the clock at once at the current whole second, and return that moment.

    Freezing right away matters: between its set-up and the first ``frozen(...)`` call, the
    shared ``frozen`` fixture leaves ``clock.now`` calling itself (see the report)."""
    moment = datetime.now(UTC).replace(microsecond=0)
    frozen(moment)
    return moment
