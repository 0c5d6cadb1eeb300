"""Account, sign-in challenge and portal session rows."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, CreatedMixin, IdMixin


class AccountKind(enum.StrEnum):
    PATIENT = "patient"
    PROFESSIONAL = "professional"
    OPERATOR = "operator"


class Account(IdMixin, CreatedMixin, Base):
    __tablename__ = "accounts"

    kind: Mapped[str] = mapped_column(String(16))
    login: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    professional_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("professionals.id"), unique=True
    )
    totp_secret: Mapped[str | None] = mapped_column(String(200))  # encrypted at rest
    totp_last_step: Mapped[int | None]  # the last accepted TOTP time step (no replay)
    otp_channel: Mapped[str] = mapped_column(String(8), default="email")  # email | sms
    notify_email: Mapped[bool] = mapped_column(default=True)
    notify_sms: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    failed_attempts: Mapped[int] = mapped_column(default=0)  # wrong passwords
    # Wrong TOTP or e-mailed/SMS codes, across challenges. A right password does not reset it
    # (or each password would reopen the guessing); only a right second factor does.
    second_factor_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    previous_sign_in_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)


class SignInChallenge(IdMixin, CreatedMixin, Base):
    """Second step of a patient sign-in: a one-time code sent by e-mail or SMS (hash kept)."""

    __tablename__ = "sign_in_challenges"
    __table_args__ = (Index("ix_sign_in_challenges_account", "account_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class WebSession(CreatedMixin, Base):
    """A portal session; the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_account", "account_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))  # password_ok | signed_in
    challenge_id: Mapped[uuid.UUID | None]
    csrf_token: Mapped[str] = mapped_column(String(64))
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    acting_for_patient_id: Mapped[uuid.UUID | None]  # a representative acting for a minor
    # A professional's urgent access to one record, for a limited time: bris de glace, or a
    # SAMU regulator's access (``emergency_mode``: the access Mode's value; none: emergency)
    emergency_patient_id: Mapped[uuid.UUID | None]
    emergency_reason: Mapped[str | None] = mapped_column(String(500))
    emergency_until: Mapped[datetime | None]
    emergency_mode: Mapped[str | None] = mapped_column(String(16))
    # A professional's secret connection to one minor's record (domain.md §1.5), until ended
    secret_patient_id: Mapped[uuid.UUID | None]
