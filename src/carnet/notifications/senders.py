"""Senders: the external boundary for e-mail and SMS. Console and file senders serve
development; SMTP is configurable. Tests use a hand-written fake."""

from __future__ import annotations

import json
import smtplib
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from carnet import clock


@dataclass(frozen=True)
class Message:
    channel: str  # email | sms
    to: str
    subject: str
    body: str


class SendError(Exception):
    """The sender could not deliver now; the worker will retry."""


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class ConsoleSender:
    """Development only: prints messages (they may contain codes) to standard output."""

    def send(self, message: Message) -> None:
        sys.stdout.write(
            f"\n--- {message.channel} to {message.to}: {message.subject}\n{message.body}\n---\n"
        )
        sys.stdout.flush()


class FileSender:
    """Development only: appends messages as JSON lines to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(
                json.dumps({"at": clock.now().isoformat(), **message.__dict__}, ensure_ascii=False)
                + "\n"
            )


class SmtpSender:
    """E-mail through SMTP; SMS through an e-mail-to-SMS gateway address."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str | None,
        password: str | None,
        starttls: bool,
        sender: str,
    ) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.sender = starttls, sender

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise SendError(type(error).__name__) from error
