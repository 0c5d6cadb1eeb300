"""Trail rows and the per-chain head that serialises appends (one chain per patient)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, IdMixin

SYSTEM_CHAIN = "system"  # events not about one patient (sign-in, registrations, purges)


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        UniqueConstraint("chain", "seq", name="chain_seq"),
        Index("ix_audit_entries_patient_time", "patient_id", "recorded_at"),
        Index("ix_audit_entries_actor_time", "actor_ref", "recorded_at"),  # recent patients
    )

    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    patient_id: Mapped[uuid.UUID | None]  # no FK: the trail outlives nothing, purge removes it
    recorded_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(64))  # read, search, create, update, deny, …
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | denied | failed
    mode: Mapped[str] = mapped_column(String(16))  # normal | emergency | regulator
    reason: Mapped[str | None] = mapped_column(String(500))  # emergency reason, denial reason
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_ref: Mapped[str | None] = mapped_column(String(64))  # PS_IdNat, account id, client id
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_profession: Mapped[str | None] = mapped_column(String(8))
    actor_structure: Mapped[str | None] = mapped_column(String(200))
    client_id: Mapped[str | None] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    # Recorded in a secret connection (a minor's confidential care): kept out of what the
    # minor's legal representatives read of the history
    secret: Mapped[bool] = mapped_column(default=False, server_default=false())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last link of each chain. Locking this row serialises appends to one chain; it also
    lets verification detect a removed tail."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))


class NotifiedAccess(Base):
    """Accesses the patient was already told about: ``first:<PS_IdNat>`` for a professional's
    first access (``first:<PS_IdNat>:secret`` for one in a secret connection),
    ``emergency:<token id>`` for one emergency session."""

    __tablename__ = "audit_notified_accesses"

    patient_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    at: Mapped[datetime]
