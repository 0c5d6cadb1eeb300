"""The outbox worker: sends due messages, retries with back-off, never loses one."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carnet import clock
from carnet.accounts.models import Account
from carnet.notifications.models import OutboxMessage, OutboxStatus
from carnet.notifications.senders import (
    ConsoleSender,
    FileSender,
    Message,
    Sender,
    SendError,
    SmtpSender,
)
from carnet.notifications.templates import render
from carnet.patients.models import LegalRepresentative, Patient
from carnet.settings import Settings

log = logging.getLogger("carnet.notifications")
# scrubbed from the payload once sent: codes, and the emergency reason (health data kept in
# the audit trail, which the message does not need)
SECRET_KEYS = ("code", "reason")


def make_sender(settings: Settings) -> Sender:
    if settings.sender == "smtp":
        return SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_starttls,
            settings.mail_from,
        )
    if settings.sender == "file":
        return FileSender(Path(settings.data_dir) / "outbox" / "messages.jsonl")
    return ConsoleSender()


ACCESS_TEMPLATES = ("first_access", "emergency_access")


def _recipient(session: Session, row: OutboxMessage) -> tuple[str, str] | None:
    """(channel, address) from the account's preferences, or the patient's contacts; a minor
    who cannot be reached is represented by their legal representative for access notices."""
    target = _own_recipient(session, row)
    if target is None and row.template in ACCESS_TEMPLATES and row.patient_id is not None:
        for (representative_id,) in session.execute(
            select(LegalRepresentative.representative_id).where(
                LegalRepresentative.patient_id == row.patient_id,
                LegalRepresentative.ended_at.is_(None),
            )
        ):
            proxy = OutboxMessage(template=row.template, patient_id=representative_id)
            target = _own_recipient(session, proxy)
            if target is not None:
                return target
    return target


def _own_recipient(session: Session, row: OutboxMessage) -> tuple[str, str] | None:
    account = session.get(Account, row.account_id) if row.account_id else None
    if account is None and row.patient_id is not None:
        account = session.execute(
            select(Account).where(Account.patient_id == row.patient_id)
        ).scalar_one_or_none()
    patient = None
    if row.patient_id is not None:
        patient = session.get(Patient, row.patient_id)
    elif account is not None and account.patient_id is not None:
        patient = session.get(Patient, account.patient_id)
    email = patient.email if patient else None
    phone = patient.phone if patient else None
    if account is not None and account.professional_id is not None and email is None:
        from carnet.professionals.models import Professional

        professional = session.get(Professional, account.professional_id)
        email = professional.email if professional else None
    if row.channel:
        address = email if row.channel == "email" else phone
        return (row.channel, address) if address else None
    if account is not None:
        if account.notify_email and email:
            return "email", email
        if account.notify_sms and phone:
            return "sms", phone
        return None
    if email:
        return "email", email
    return ("sms", phone) if phone else None


def dispatch_due(
    factory: sessionmaker[Session], sender: Sender, settings: Settings, limit: int = 50
) -> int:
    """Send what is due; returns how many were sent. Each message has its own transaction."""
    sent = 0
    with factory() as session:
        ids = list(
            session.execute(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING.value,
                    OutboxMessage.next_attempt_at <= clock.now(),
                )
                .order_by(OutboxMessage.next_attempt_at)
                .limit(limit)
            ).scalars()
        )
    for message_id in ids:
        with factory() as session, session.begin():
            row = session.execute(
                select(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == OutboxStatus.PENDING.value,
                )
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if row is None:
                continue
            target = _recipient(session, row)
            if target is None:
                row.status = OutboxStatus.CANCELLED.value
                row.last_error = "no channel"
                row.payload = _scrub(row.payload)
                continue
            channel, address = target
            subject, body = render(row.template, row.payload or {}, channel)
            row.attempts += 1
            try:
                sender.send(Message(channel, address, subject, body))
            except SendError as error:
                _retry(row, settings, str(error))
                continue
            except Exception as error:
                _retry(row, settings, type(error).__name__)
                continue
            row.status = OutboxStatus.SENT.value
            row.sent_at = clock.now()
            row.last_error = None
            row.payload = _scrub(row.payload)
            sent += 1
    return sent


def _scrub(payload: dict[str, object] | None) -> dict[str, object]:
    return {k: v for k, v in (payload or {}).items() if k not in SECRET_KEYS}


def _retry(row: OutboxMessage, settings: Settings, error: str) -> None:
    row.last_error = error[:500]
    if row.attempts >= settings.outbox_max_attempts:
        row.status = OutboxStatus.FAILED.value
        row.payload = _scrub(row.payload)
        log.warning("outbox message %s failed after %d attempts", row.id, row.attempts)
        return
    delay = min(5 * 2 ** (row.attempts - 1), 3600)
    row.next_attempt_at = clock.now() + timedelta(seconds=delay)


class Worker:
    """A background thread in ``carnet serve``; ``carnet notifications run`` is the same loop."""

    def __init__(self, factory: sessionmaker[Session], sender: Sender, settings: Settings) -> None:
        self.factory, self.sender, self.settings = factory, sender, settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                dispatch_due(self.factory, self.sender, self.settings)
            except Exception as error:
                log.error("outbox worker error: %s", type(error).__name__)
            self._wake.wait(self.settings.outbox_poll_seconds)
            self._wake.clear()
