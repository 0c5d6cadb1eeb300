"""Messaging test helpers: the personas as actors, a thread factory, small sample files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.access import Actor, ActorKind
from carnet.accounts.models import Account
from carnet.audit.models import AuditEntry
from carnet.messaging import service
from carnet.messaging.fhir import MessageFacts, NewAttachment
from carnet.notifications.models import OutboxMessage
from tests.accounts.conftest import Portal, portal, signed_in  # noqa: F401 - the portal driver
from tests.conftest import Cast
from tests.conftest import audit_rows as matching_rows

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SECRET = "TSH-4,2-mUI-secret-body"  # a marker: must never leave the message


@pytest.fixture
def patient(session: Session, cast: Cast) -> Callable[[str], Actor]:
    """A persona patient signed in with their own account (Sylvie's acts for Léa too)."""

    def make(name: str) -> Actor:
        account = session.execute(
            select(Account).where(Account.patient_id == cast.patients[name])
        ).scalar_one_or_none()
        return Actor(
            kind=ActorKind.PATIENT,
            ref=f"account:{account.id}" if account else f"patient:{name}",
            display_name=name.title(),
            account_id=account.id if account else None,
            patient_id=cast.patients[name],
        )

    return make


Start = Callable[..., MessageFacts]


@pytest.fixture
def start(session: Session, pro: Callable[..., Actor], cast: Cast) -> Start:
    """Dr Durand (or another) starts a thread with a persona."""

    def make(
        who: str = "sylvie",
        by: str = "durand",
        body: str = f"Bonjour, vos résultats : {SECRET}.",
        **kwargs: Any,
    ) -> MessageFacts:
        return service.start_thread(
            session,
            pro(by),
            patient_id=cast.patients[who],
            subject=kwargs.pop("subject", "Vos résultats"),
            body=body,
            **kwargs,
        )

    return make


def pdf(name: str = "compte-rendu.pdf", content: bytes = PDF) -> NewAttachment:
    return NewAttachment(filename=name, content=content)


def rows_about(session: Session, patient_id: uuid.UUID, action: str) -> list[AuditEntry]:
    return matching_rows(session, AuditEntry.patient_id == patient_id, AuditEntry.action == action)


def outbox(session: Session, template: str = "new_message") -> list[OutboxMessage]:
    return list(
        session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        ).scalars()
    )


def count(session: Session, model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return int(session.execute(query).scalar_one())
