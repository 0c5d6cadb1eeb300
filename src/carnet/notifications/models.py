"""Outbox rows. The recipient is resolved at send time from the account's settings; the payload
holds only what the message needs."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carnet import clock
from carnet.crypto import decrypt_field, encrypt_field
from carnet.db import Base, CreatedMixin, IdMixin

# One-time codes wait in the outbox encrypted under the server secret (a database dump or
# backup taken before the worker runs must not hand them out); the worker opens them to send.
SEALED_CODE = "code_sealed"


def seal_code(secret: str, code: str) -> str:
    """A one-time code as the outbox keeps it: ``enqueue(..., code_sealed=seal_code(...))``."""
    return encrypt_field(secret, code)


def open_code(secret: str, payload: dict[str, Any] | None) -> str | None:
    sealed = (payload or {}).get(SEALED_CODE)
    return decrypt_field(secret, sealed) if isinstance(sealed, str) else None


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker, being handed to the sender (no transaction open)
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts
    CANCELLED = "cancelled"  # no channel to send it on


class OutboxMessage(IdMixin, CreatedMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_patient", "patient_id"),
    )

    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE")
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    template: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    channel: Mapped[str | None] = mapped_column(String(8))  # forced channel (sign-in codes)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[datetime | None]  # when a worker took it to send (status "sending")
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


def enqueue(
    template: str,
    *,
    patient_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
    channel: str | None = None,
    **payload: Any,
) -> OutboxMessage:
    """Build an outbox row; the caller adds it to its session (same transaction as the cause)."""
    return OutboxMessage(
        template=template,
        patient_id=patient_id,
        account_id=account_id,
        channel=channel,
        payload=payload,
        status=OutboxStatus.PENDING.value,
        next_attempt_at=clock.now(),
    )
