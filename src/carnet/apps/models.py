"""Registered apps, their authorization codes and the patient's grants to them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, CreatedMixin, IdMixin


class App(IdMixin, CreatedMixin, Base):
    __tablename__ = "apps"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[str] = mapped_column(Text)  # one per line
    allowed_scopes: Mapped[str] = mapped_column(Text)  # space-separated
    description: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(String(200))
    listed: Mapped[bool] = mapped_column(default=False)  # in the operator's catalogue
    # Carnet's own patient clients act as the patient; third-party apps act as an "app",
    # never managing the record.
    first_party: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # The operator's curation (the "catalogue de services"): a label with its date, a
    # category, and the page where the patient starts the connection from the app.
    label: Mapped[str | None] = mapped_column(String(32))  # "referenced" (référencée)
    labelled_at: Mapped[datetime | None]
    category: Mapped[str | None] = mapped_column(String(64))
    launch_url: Mapped[str | None] = mapped_column(Text)


class AuthorizationCode(IdMixin, CreatedMixin, Base):
    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    nonce: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AppGrant(IdMixin, CreatedMixin, Base):
    """A patient's consent to an app, with the scopes granted; revoked on disconnect."""

    __tablename__ = "app_grants"
    __table_args__ = (Index("ix_app_grants_patient", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
