"""Registered systems and the assertion ids already used (replay protection)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, CreatedMixin, IdMixin


class System(IdMixin, CreatedMixin, Base):
    __tablename__ = "systems"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    structure_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("structures.id"))
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    software_version: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)


class UsedAssertion(Base):
    __tablename__ = "used_assertions"
    # each token request forgets the expired ids (migration 0015)
    __table_args__ = (Index("ix_used_assertions_expires", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
