"""The outbox worker: sends due messages, retries with back-off, never loses one.

Each message goes through three short steps, so that no database transaction is open while
the sender talks to the outside world (SMTP may take seconds; on SQLite an open write
transaction would hold up every request): claim it (status "sending", committed), send it
with no session open, then record the outcome in a new transaction. A worker that dies
between the first and the last step leaves a claim that expires after ``CLAIM_TIMEOUT``: the
message goes back to the queue (it may then be sent twice; it is never lost)."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from carnet import clock
from carnet.access.representation import representatives_of
from carnet.accounts.models import Account
from carnet.notifications.models import SEALED_CODE, OutboxMessage, OutboxStatus, open_code
from carnet.notifications.senders import (
    ConsoleSender,
    FileSender,
    Message,
    Sender,
    SendError,
    SmtpSender,
)
from carnet.notifications.templates import render
from carnet.patients.models import Patient
from carnet.settings import Settings

log = logging.getLogger("carnet.notifications")
# scrubbed from the payload once sent: codes, and the emergency reason (health data kept in
# the audit trail, which the message does not need)
SECRET_KEYS = ("code", SEALED_CODE, "reason")
# Far beyond the sender's own time-out (SMTP: 10 s): a claim this old belongs to a worker that
# died while sending.
CLAIM_TIMEOUT = timedelta(minutes=10)


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


def _forwarded(row: OutboxMessage) -> bool:
    """Notices a legal representative receives for a minor out of reach: the access notices,
    except those of an access in a secret connection, and appointment reminders except those
    of an appointment kept secret from them."""
    if row.template in ACCESS_TEMPLATES:
        return (row.payload or {}).get("secret") is not True
    return (
        row.template == "appointment_reminder"
        and (row.payload or {}).get("to_representatives") is True
    )


def _recipient(session: Session, row: OutboxMessage) -> tuple[str, str, bool] | None:
    """(channel, address, for a child) from the account's preferences, or the patient's
    contacts; a minor who cannot be reached is represented by their legal representative for
    access notices and reminders (only while a minor: ``access.representation`` checks the age,
    as for any access)."""
    target = _own_recipient(session, row)
    if target is not None:
        return (*target, False)
    if _forwarded(row) and row.patient_id is not None:
        for representative_id in representatives_of(session, row.patient_id):
            proxy = OutboxMessage(template=row.template, patient_id=representative_id)
            target = _own_recipient(session, proxy)
            if target is not None:
                return (*target, True)
    return None


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
    """Send what is due; returns how many were sent. No transaction stays open while sending."""
    release_stale_claims(factory, settings)
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
    sent = 0
    for message_id in ids:
        claimed = _claim(factory, settings, message_id)
        if claimed is None:
            continue
        message, claimed_at = claimed
        error: str | None = None
        try:
            sender.send(message)
        except SendError as failure:
            error = str(failure)
        except Exception as failure:
            error = type(failure).__name__
        if _record_outcome(factory, settings, message_id, claimed_at, error):
            sent += 1
    return sent


def _claim(
    factory: sessionmaker[Session], settings: Settings, message_id: uuid.UUID
) -> tuple[Message, datetime] | None:
    """Take one due message (committed as "sending") and build what to send; None when another
    worker took it first, or when it has nowhere to go (then cancelled)."""
    now = clock.now()
    with factory() as session, session.begin():
        # A conditional UPDATE is the claim on every database: of two workers, one changes the
        # row, the other changes nothing and moves on.
        taken = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.PENDING.value,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(status=OutboxStatus.SENDING.value, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            return None
        row = session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .execution_options(populate_existing=True)
        ).scalar_one()
        target = _recipient(session, row)
        if target is None:
            row.status = OutboxStatus.CANCELLED.value
            row.claimed_at = None
            row.last_error = "no channel"
            row.payload = _scrub(row.payload)
            return None
        channel, address, for_child = target
        try:
            subject, body = render(
                row.template, _opened(row.payload, settings), channel, for_child=for_child
            )
        except Exception as error:  # e.g. a code sealed under a secret since rotated
            # Retrying cannot help, and one unreadable message must not stop the others.
            row.status = OutboxStatus.FAILED.value
            row.claimed_at = None
            row.last_error = f"cannot render: {type(error).__name__}"
            row.payload = _scrub(row.payload)
            log.warning("outbox message %s cannot be rendered", row.id)
            return None
        row.attempts += 1
        return Message(channel, address, subject, body), now


def _opened(payload: dict[str, object] | None, settings: Settings) -> dict[str, object]:
    """The payload as the template needs it: a sealed code opened (in memory only)."""
    opened = dict(payload or {})
    code = open_code(settings.secret_key, opened)
    if code is not None:
        opened["code"] = code
    opened.pop(SEALED_CODE, None)
    return opened


def _record_outcome(
    factory: sessionmaker[Session],
    settings: Settings,
    message_id: uuid.UUID,
    claimed_at: datetime,
    error: str | None,
) -> bool:
    """Sent, or to retry (or failed for good); True when recorded as sent."""
    with factory() as session, session.begin():
        row = session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.SENDING.value,
                OutboxMessage.claimed_at == claimed_at,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is None:  # the claim expired and was released meanwhile: the retry decides
            log.warning("outbox message %s: claim lost while sending", message_id)
            return False
        row.claimed_at = None
        if error is not None:
            row.status = OutboxStatus.PENDING.value
            _retry(row, settings, error)
            return False
        row.status = OutboxStatus.SENT.value
        row.sent_at = clock.now()
        row.last_error = None
        row.payload = _scrub(row.payload)
        return True


def release_stale_claims(factory: sessionmaker[Session], settings: Settings) -> int:
    """Messages left "sending" by a worker that died mid-send go back to the queue (or fail
    for good when that was their last attempt); returns how many."""
    now = clock.now()
    with factory() as session, session.begin():
        stale = list(
            session.execute(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.SENDING.value,
                    OutboxMessage.claimed_at <= now - CLAIM_TIMEOUT,
                )
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            ).scalars()
        )
        for row in stale:
            row.status = OutboxStatus.PENDING.value
            row.claimed_at = None
            _retry(row, settings, "interrupted while sending")
    return len(stale)


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
