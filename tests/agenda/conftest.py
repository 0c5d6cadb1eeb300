"""Agenda test helpers: drafts, the persona actors of the agenda, the outbox reminder of an
appointment, the audit rows about appointments."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.access import Actor, ActorKind
from carnet.accounts.models import Account
from carnet.accounts.service import actor_for_account
from carnet.agenda.fhir import AppointmentDraft
from carnet.agenda.models import Appointment
from carnet.audit.models import AuditEntry
from carnet.notifications.models import OutboxMessage
from tests.conftest import Cast, audit_rows
from tests.portal.conftest import portal, signed_in  # noqa: F401 - the portal driver

# A fixed moment for the tests that freeze the clock (a Monday, 10:00 in Paris).
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def draft(
    start: datetime, minutes: int = 30, status: str = "booked", **texts: Any
) -> AppointmentDraft:
    return AppointmentDraft(
        status=status, start=start, end=start + timedelta(minutes=minutes), **texts
    )


@pytest.fixture
def sylvie(session: Session, cast: Cast) -> Actor:
    """Sylvie as the portal sees her (her account): holder, and Léa's representative."""
    account = session.execute(
        select(Account).where(Account.patient_id == cast.patients["sylvie"])
    ).scalar_one()
    return actor_for_account(session, account)


@pytest.fixture
def software(pro: Callable[..., Actor]) -> Callable[..., Actor]:
    """A professional acting through their practice software (a client with SMART scopes)."""

    def make(name: str, scopes: str = "user/*.cruds", **overrides: Any) -> Actor:
        return pro(
            name, client_id=f"software-{name}", scopes=frozenset(scopes.split()), **overrides
        )

    return make


def app_actor(cast: Cast, scopes: str, who: str = "sylvie") -> Actor:
    return Actor(
        kind=ActorKind.APP,
        ref="client:pasfit",
        display_name="PasFit",
        patient_id=cast.patients[who],
        client_id="pasfit-test",
        scopes=frozenset(scopes.split()),
    )


def reminder_of(session: Session, row: Appointment) -> OutboxMessage | None:
    session.refresh(row)
    return session.get(OutboxMessage, row.reminder_id) if row.reminder_id else None


def trail(session: Session, patient_id: uuid.UUID) -> list[AuditEntry]:
    """The patient's audit rows about appointments, oldest first."""
    return audit_rows(
        session, AuditEntry.patient_id == patient_id, AuditEntry.resource_type == "Appointment"
    )
