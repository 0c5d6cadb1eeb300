"""Secure messaging threads (FHIR Communication) and their attachments.

A thread belongs to one patient's record. Professionals take part in it by name (one row each in
``message_participants``); the patient side is the record's holder and, unless the thread is
hidden from them, the legal representatives of a minor. Each message is one FHIR
``Communication``; the first message's id is the thread's id, so that ``partOf`` of the replies
names the thread. Read receipts are kept per reader (a professional's PS_IdNat, or a patient's
account). Attachments are encrypted with the patient's data key in the blob store, under the
patient's prefix, so that the retention purge shreds them with the documents."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carnet.db import Base, IdMixin


class Thread(IdMixin, Base):
    __tablename__ = "message_threads"
    __table_args__ = (Index("ix_message_threads_patient_last", "patient_id", "last_message_at"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    started_by_ref: Mapped[str] = mapped_column(String(64))  # the professional's PS_IdNat
    started_by_name: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    last_message_at: Mapped[datetime]
    # As for documents: a minor's confidential exchange is not shown to the representatives.
    hidden_from_representatives: Mapped[bool] = mapped_column(default=False)


class Participant(IdMixin, Base):
    """A professional taking part in a thread."""

    __tablename__ = "message_participants"
    __table_args__ = (
        UniqueConstraint("thread_id", "ref", name="thread_ref"),
        Index("ix_message_participants_ref", "ref", "patient_id"),
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("message_threads.id", ondelete="CASCADE")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(64))  # PS_IdNat
    professional_id: Mapped[uuid.UUID | None]
    display_name: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]


class Message(IdMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_sent", "thread_id", "sent_at"),
        Index("ix_messages_patient_sent", "patient_id", "sent_at"),
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("message_threads.id", ondelete="CASCADE")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    sender_kind: Mapped[str] = mapped_column(String(16))  # professional | patient | representative
    sender_ref: Mapped[str] = mapped_column(String(64))  # PS_IdNat, or account:<id>
    sender_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    in_response_to_id: Mapped[uuid.UUID | None]


class MessageRead(Base):
    """A read receipt: who read which message, when."""

    __tablename__ = "message_reads"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    reader_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    read_at: Mapped[datetime]


class Attachment(IdMixin, Base):
    __tablename__ = "message_attachments"
    __table_args__ = (
        Index("ix_message_attachments_message", "message_id"),
        Index("ix_message_attachments_blob", "blob_key"),  # gc asks by key (migration 0015)
    )

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))  # from the magic bytes, not the sender
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(120))
