"""What a person does for themselves in the portal without a counter: activate their record with
the code of the insurer's letter (and create their account in the same transaction), choose how
they are notified and how they receive their sign-in code, close their record with a clear
confirmation. Each check names the form field at fault; flushes, never commits."""

from __future__ import annotations

import re
import uuid
from datetime import date

from sqlalchemy.orm import Session

from carnet.access import Actor, ActorKind
from carnet.accounts import service as accounts
from carnet.accounts.models import Account, AccountKind
from carnet.errors import Conflict, Forbidden, Invalid
from carnet.identity import parse_nir
from carnet.identity.errors import InvalidIdentifier
from carnet.patients.models import Patient
from carnet.records import service as records
from carnet.records.models import Record

BAD_NIR = "This social security number is not valid: check its 15 characters."
CHANNELS = ("email", "sms")
LOCALES = ("fr", "en")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def nir_of(value: str) -> str:
    """The NIR as typed (spaces allowed), or an error on the ``nir`` field."""
    if not value.strip():
        raise Invalid("Give your social security number.", field="nir")
    try:
        return parse_nir(value, field="nir").value
    except InvalidIdentifier:
        raise Invalid(BAD_NIR, field="nir") from None


def birth_date_of(value: str) -> date:
    value = value.strip()
    if not value:
        raise Invalid("Give your date of birth.", field="birth_date")
    try:
        found = _DMY.fullmatch(value)
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("Give your date of birth as DD/MM/YYYY.", field="birth_date") from None


def _code_of(value: str) -> str:
    if not value.strip():
        raise Invalid("Give the code of your letter.", field="code")
    return value.strip()


def activate_with_account(
    session: Session,
    *,
    nir: str,
    birth_date: str,
    code: str,
    login: str,
    password: str,
    password_again: str,
) -> Account:
    """Activate the record with the letter's code and create the person's account: both, or
    neither (the caller's transaction). The form is checked before the code is spent."""
    nir_value, born, code = nir_of(nir), birth_date_of(birth_date), _code_of(code)
    login = login.strip().lower()
    if not _EMAIL.fullmatch(login):
        raise Invalid("Give your e-mail address: it will be your identifier.", field="login")
    accounts.check_password_strength(password)
    if password != password_again:
        raise Invalid("The two passwords are different.", field="password_again")
    if accounts.find_account(session, login) is not None:
        raise Conflict("This identifier is already taken.", field="login")
    patient = records.activate_record(session, nir=nir_value, code=code, birth_date=born)
    account, _ = accounts.create_account(
        session, kind=AccountKind.PATIENT, login=login, password=password, patient_id=patient.id
    )
    return account


def oppose_creation(session: Session, *, nir: str, birth_date: str, code: str) -> None:
    """Oppose the automatic creation of one's record, with the letter's code."""
    nir_value, born, code = nir_of(nir), birth_date_of(birth_date), _code_of(code)
    records.oppose_creation(session, nir=nir_value, code=code, birth_date=born)


def _own_account(session: Session, actor: Actor) -> tuple[Account, Patient]:
    account = session.get(Account, actor.account_id) if actor.account_id else None
    if (
        actor.kind is not ActorKind.PATIENT
        or account is None
        or account.patient_id is None
        or account.patient_id != actor.patient_id
    ):
        raise Forbidden("This page is for patients.")
    patient = session.get(Patient, account.patient_id)
    assert patient is not None
    return account, patient


def preferences_of(session: Session, actor: Actor) -> tuple[Account, Patient]:
    """The signed-in patient's account and the contacts their codes and notices go to."""
    return _own_account(session, actor)


def update_preferences(
    session: Session,
    actor: Actor,
    *,
    notify_email: bool,
    notify_sms: bool,
    otp_channel: str,
    locale: str,
) -> Account:
    """The patient's notification channels, sign-in code channel and language."""
    account, patient = _own_account(session, actor)
    if otp_channel not in CHANNELS:
        raise Invalid("Choose e-mail or SMS.", field="otp_channel")
    if locale not in LOCALES:
        raise Invalid("Choose French or English.", field="locale")
    if otp_channel == "sms" and not patient.phone:
        raise Invalid(
            "No mobile number is known for you: the code cannot be sent by SMS.",
            field="otp_channel",
        )
    if otp_channel == "email" and not patient.email:
        raise Invalid(
            "No e-mail address is known for you: the code cannot be sent by e-mail.",
            field="otp_channel",
        )
    if notify_sms and not patient.phone:
        raise Invalid("No mobile number is known for you.", field="notify_sms")
    if notify_email and not patient.email:
        raise Invalid("No e-mail address is known for you.", field="notify_email")
    account.notify_email, account.notify_sms = notify_email, notify_sms
    account.otp_channel, account.locale = otp_channel, locale
    accounts.audit_account_event(
        session,
        actor,
        "account.preferences",
        detail=f"notify_email={notify_email} notify_sms={notify_sms} "
        f"otp_channel={otp_channel} locale={locale}",
    )
    session.flush()
    return account


def close_record(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    confirmed: bool,
    delete_now: bool,
    delete_confirmed: bool,
    comment: str,
) -> Record:
    """Close the record once the person has confirmed they read what closing means."""
    if not confirmed:
        raise Invalid("Tick the box to confirm that you want to close the record.", field="confirm")
    if delete_now and not delete_confirmed:
        raise Invalid(
            "Tick the second box to confirm the definitive deletion.", field="delete_confirm"
        )
    if len(comment) > 500:
        raise Invalid("This text is too long.", field="comment")
    return records.close_record(
        session, actor, patient_id, comment=comment or None, delete_now=delete_now
    )
