"""Sign-in use cases. Patients: password (argon2) then a one-time code by e-mail or SMS.
Professionals: password then TOTP, behind ``ProfessionalIdentityProvider`` so that an OpenID
Connect provider (Pro Santé Connect) can replace the local one. Portal sessions are server-side.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import URGENT_MODES, Action, Actor, ActorKind, Mode
from carnet.access.gate import actor_fields, authorize
from carnet.access.representation import in_secret_connection
from carnet.accounts.models import Account, AccountKind, SignInChallenge, WebSession
from carnet.audit import service as audit
from carnet.crypto import (
    decrypt_field,
    encrypt_field,
    keyed_hash,
    numeric_code,
    random_token,
    same,
    sha256_hex,
)
from carnet.db import settings_of
from carnet.errors import Conflict, Forbidden, Invalid, TooManyAttempts, Unauthenticated
from carnet.notifications.models import enqueue, seal_code
from carnet.patients.models import Patient
from carnet.professionals.models import Professional

_hasher = PasswordHasher()
T = TypeVar("T")
OTP_PURPOSE = "sign-in-code"
TOTP_KINDS = (AccountKind.PROFESSIONAL.value, AccountKind.OPERATOR.value)
BAD_CREDENTIALS = "Unknown identifier or wrong password."
ACCOUNT_LOCKED = "Too many failed sign-ins: try again in a few minutes."
MIN_PASSWORD = 12
# At most one new e-mailed/SMS code per account in this time: a password step repeated within
# it reuses the pending challenge (no new code, no new message to pay for or to flood with).
CODE_RESEND_SECONDS = 30


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            f"The password must have at least {MIN_PASSWORD} characters.", field="password"
        )
    if password.isdigit() or password.isalpha():
        raise Invalid("The password must mix letters with digits or symbols.", field="password")


def _normalise_login(login: str) -> str:
    return login.strip().lower()


def find_account(session: Session, login: str, *, for_update: bool = False) -> Account | None:
    query = select(Account).where(Account.login == _normalise_login(login))
    if for_update:
        query = _locked_fresh(query)
    return session.execute(query).scalar_one_or_none()


def _locked_fresh(query: Select[T]) -> Select[T]:
    """Lock the row (PostgreSQL) and read what is committed now, not what the session
    remembers: concurrent sign-in attempts then count one after another, none is lost. SQLite
    has no row locks; its write transactions (``BEGIN IMMEDIATE``) already queue."""
    return query.with_for_update().execution_options(populate_existing=True)


def _load_account(session: Session, account_id: uuid.UUID) -> Account | None:
    return session.execute(
        _locked_fresh(select(Account).where(Account.id == account_id))
    ).scalar_one_or_none()


def create_account(
    session: Session,
    *,
    kind: AccountKind,
    login: str,
    password: str,
    patient_id: uuid.UUID | None = None,
    professional_id: uuid.UUID | None = None,
    otp_channel: str = "email",
    check_strength: bool = True,
) -> tuple[Account, str | None]:
    """Create an account; returns it with the TOTP secret for professionals (shown once)."""
    if check_strength:
        check_password_strength(password)
    login = _normalise_login(login)
    if not login:
        raise Invalid("The identifier is empty.", field="login")
    if find_account(session, login) is not None:
        raise Conflict("This identifier is already taken.", field="login")
    if kind is AccountKind.PATIENT and patient_id is None:
        raise Invalid("A patient account needs a patient.", field="patient")
    if kind is AccountKind.PROFESSIONAL and professional_id is None:
        raise Invalid("A professional account needs a professional.", field="professional")
    owner = (
        (Account.patient_id == patient_id)
        if patient_id
        else ((Account.professional_id == professional_id) if professional_id else None)
    )
    if owner is not None and session.execute(select(Account.id).where(owner)).first():
        raise Conflict("This person already has an account.", field="login")
    if otp_channel not in ("email", "sms"):
        raise Invalid("The code channel must be email or sms.", field="otp_channel")
    secret: str | None = None
    account = Account(
        kind=kind.value,
        login=login,
        password_hash=hash_password(password),
        patient_id=patient_id,
        professional_id=professional_id,
        otp_channel=otp_channel,
    )
    if kind in (AccountKind.PROFESSIONAL, AccountKind.OPERATOR):
        secret = pyotp.random_base32()
        account.totp_secret = encrypt_field(settings_of(session).secret_key, secret)
    session.add(account)
    session.flush()
    return account, secret


def totp_secret(session: Session, account: Account) -> str | None:
    if not account.totp_secret:
        return None
    return decrypt_field(settings_of(session).secret_key, account.totp_secret)


def _check_password(session: Session, login: str, password: str) -> Account:
    settings = settings_of(session)
    account = find_account(session, login, for_update=True)
    now = clock.now()
    if account is None or account.disabled:
        _hasher.hash(password)  # same cost whether the login exists or not
        raise Unauthenticated(BAD_CREDENTIALS)
    if _locked(account, now):
        raise TooManyAttempts(ACCOUNT_LOCKED)
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        account.failed_attempts += 1
        if account.failed_attempts >= settings.password_max_failures:
            account.locked_until = now + timedelta(seconds=settings.password_lockout_seconds)
            account.failed_attempts = 0
        raise Unauthenticated(BAD_CREDENTIALS, keep_changes=True) from None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed_attempts = 0  # wrong passwords only: the second factor keeps its own count
    return account


def _locked(account: Account, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def _second_factor_failed(session: Session, account: Account, now: datetime) -> bool:
    """Count a wrong second factor (TOTP or code, whatever the challenge) and lock the account
    when the count reaches the limit; True when it just locked. The lock does not reset the
    count: once the lockout is over, each further wrong code locks again, until a right one."""
    settings = settings_of(session)
    account.second_factor_failures += 1
    if account.second_factor_failures >= settings.sign_in_max_attempts:
        account.locked_until = now + timedelta(seconds=settings.password_lockout_seconds)
        return True
    return False


@dataclass(frozen=True)
class FirstStep:
    session_token: str
    account: Account
    second_factor: str  # "email" | "sms" | "totp"


def begin_sign_in(session: Session, *, login: str, password: str) -> FirstStep:
    """Check the password; start the second step (send a code, or expect a TOTP)."""
    account = _check_password(session, login, password)
    settings = settings_of(session)
    now = clock.now()
    challenge_id: uuid.UUID | None = None
    if account.kind in TOTP_KINDS:
        factor = "totp"
    else:
        factor = account.otp_channel
        challenge = _recent_challenge(session, account, now)
        if challenge is None:
            code = numeric_code()
            challenge = SignInChallenge(
                account_id=account.id,
                code_hash=keyed_hash(settings.secret_key, OTP_PURPOSE, code),
                expires_at=now + timedelta(seconds=settings.sign_in_code_ttl_seconds),
            )
            session.add(challenge)
            session.flush()
            session.add(
                enqueue(
                    "sign_in_code",
                    account_id=account.id,
                    patient_id=account.patient_id,
                    channel=factor,
                    code_sealed=seal_code(settings.secret_key, code),
                )
            )
        challenge_id = challenge.id
    token = _new_session(
        session,
        account,
        stage="password_ok",
        challenge_id=challenge_id,
        ttl=settings.sign_in_code_ttl_seconds,
    )
    return FirstStep(token, account, factor)


def _recent_challenge(session: Session, account: Account, now: datetime) -> SignInChallenge | None:
    """The account's live challenge made less than ``CODE_RESEND_SECONDS`` ago, if any. The
    caller holds the account's row lock, so two password steps cannot both make a new one."""
    return session.execute(
        select(SignInChallenge)
        .where(
            SignInChallenge.account_id == account.id,
            SignInChallenge.used_at.is_(None),
            SignInChallenge.expires_at > now,
            SignInChallenge.created_at > now - timedelta(seconds=CODE_RESEND_SECONDS),
            SignInChallenge.attempts < settings_of(session).sign_in_max_attempts,
        )
        .order_by(SignInChallenge.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _new_session(
    session: Session, account: Account, *, stage: str, challenge_id: uuid.UUID | None, ttl: int
) -> str:
    token = random_token()
    now = clock.now()
    session.add(
        WebSession(
            token_hash=sha256_hex(token),
            account_id=account.id,
            stage=stage,
            challenge_id=challenge_id,
            csrf_token=random_token(24),
            last_seen_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return token


def complete_sign_in(session: Session, *, session_token: str, code: str) -> tuple[str, Account]:
    """Check the second factor; replace the half-open session by a signed-in one."""
    settings = settings_of(session)
    web = load_session(session, session_token, stage="password_ok")
    account = _load_account(session, web.account_id)
    if account is None:
        raise Unauthenticated("Your sign-in has expired; start again.")
    code = code.strip().replace(" ", "")
    if account.kind in TOTP_KINDS:
        _check_totp(session, account, code)
    else:
        _check_code(session, account, web, code)
    session.delete(web)
    now = clock.now()
    account.previous_sign_in_at = account.last_sign_in_at
    account.last_sign_in_at = now
    token = _new_session(
        session, account, stage="signed_in", challenge_id=None, ttl=settings.session_ttl_seconds
    )
    audit.append(
        session,
        patient_id=None,
        action="sign_in",
        actor_kind=account.kind,
        actor_ref=str(account.id),
    )
    return token, account


TOTP_LOCKED = "Too many wrong authenticator codes: try again in a few minutes."


def _check_totp(session: Session, account: Account, code: str) -> None:
    # A 6-digit code is only as strong as the number of guesses allowed: wrong codes lock the
    # account like wrong passwords do (a right password must not reset the count and reopen
    # the guessing). ``account`` was loaded with its row lock (``complete_sign_in``).
    now = clock.now()
    if _locked(account, now):
        raise TooManyAttempts(TOTP_LOCKED, field="code")
    secret = totp_secret(session, account)
    step = _accepted_step(secret, code, now) if secret else None
    if step is not None and account.totp_last_step is not None and step <= account.totp_last_step:
        step = None  # RFC 6238 §5.2: an accepted code is never accepted again
    if step is None:
        if _second_factor_failed(session, account, now):
            raise TooManyAttempts(TOTP_LOCKED, field="code", keep_changes=True)
        raise Unauthenticated("Wrong authenticator code.", field="code", keep_changes=True)
    account.second_factor_failures = 0
    account.totp_last_step = step


def _accepted_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code matches (one step of clock drift either way), or None."""
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if same(totp.generate_otp(step), code):
            return step
    return None


def _check_code(session: Session, account: Account, web: WebSession, code: str) -> None:
    """Check an e-mailed/SMS code. Wrong codes count on the challenge (a few tries per code)
    and on the account (a few tries in all, however many challenges the password opens)."""
    settings = settings_of(session)
    challenge = None
    if web.challenge_id is not None:
        challenge = session.execute(
            _locked_fresh(select(SignInChallenge).where(SignInChallenge.id == web.challenge_id))
        ).scalar_one_or_none()
    now = clock.now()
    if (
        challenge is None
        or challenge.account_id != account.id
        or challenge.used_at is not None
        or challenge.expires_at <= now
    ):
        raise Unauthenticated("The code has expired; start again.", field="code")
    if challenge.attempts >= settings.sign_in_max_attempts:
        raise TooManyAttempts("Too many wrong codes; start again.", field="code")
    if _locked(account, now):
        raise TooManyAttempts(ACCOUNT_LOCKED, field="code")
    if not same(keyed_hash(settings.secret_key, OTP_PURPOSE, code), challenge.code_hash):
        challenge.attempts += 1
        _second_factor_failed(session, account, now)
        raise Unauthenticated("Wrong code.", field="code", keep_changes=True)
    challenge.used_at = now
    account.second_factor_failures = 0


def load_session(session: Session, token: str | None, *, stage: str = "signed_in") -> WebSession:
    """The live session for a cookie token; sliding expiry within an absolute limit."""
    if not token:
        raise Unauthenticated("Please sign in.")
    settings = settings_of(session)
    web = session.get(WebSession, sha256_hex(token))
    now = clock.now()
    if web is None or web.stage != stage or web.expires_at <= now:
        raise Unauthenticated("Your session has expired; please sign in again.")
    if web.created_at + timedelta(seconds=settings.session_absolute_ttl_seconds) <= now:
        raise Unauthenticated("Your session has expired; please sign in again.")
    if stage == "signed_in" and now - web.last_seen_at >= SLIDE_EVERY:
        web.last_seen_at = now
        web.expires_at = now + timedelta(seconds=settings.session_ttl_seconds)
    return web


# The idle expiry slides on at most once a minute: not a write of the session row on every
# page and every image of it (the expiry is late by less than a minute, out of its 30).
SLIDE_EVERY = timedelta(seconds=60)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(token)))


def actor_for_account(session: Session, account: Account) -> Actor:
    """The access actor a signed-in account acts as."""
    if account.kind == AccountKind.PATIENT.value and account.patient_id is not None:
        patient = session.get(Patient, account.patient_id)
        name = patient.display_name if patient else ""
        return Actor(
            kind=ActorKind.PATIENT,
            ref=f"account:{account.id}",
            display_name=name,
            account_id=account.id,
            patient_id=account.patient_id,
        )
    if account.kind == AccountKind.PROFESSIONAL.value and account.professional_id is not None:
        from carnet.professionals.models import Structure

        professional = session.get(Professional, account.professional_id)
        if professional is None or not professional.active:
            raise Forbidden("This professional is no longer active in the directory.")
        structure = (
            session.get(Structure, professional.structure_id) if professional.structure_id else None
        )
        return professional_actor(professional, structure, account_id=account.id)
    if account.kind == AccountKind.OPERATOR.value:
        return Actor(kind=ActorKind.OPERATOR, ref=f"account:{account.id}", account_id=account.id)
    raise Forbidden("This account cannot act.")


def professional_actor(
    professional: Professional, structure: object | None, **extra: object
) -> Actor:
    return Actor(
        kind=ActorKind.PROFESSIONAL,
        ref=professional.ps_idnat,
        display_name=professional.display_name,
        professional_id=professional.id,
        profession=professional.profession_code,
        specialty=professional.specialty_code,
        roles=professional.role_set,
        structure_name=getattr(structure, "name", None),
        structure_kind=getattr(structure, "kind", None),
        facility_type=getattr(structure, "facility_type_code", None),
        **extra,  # type: ignore[arg-type]
    )


class ProfessionalIdentityProvider(Protocol):
    """The boundary an OpenID Connect provider (Pro Santé Connect) plugs into: it turns a
    successful authentication into a directory professional."""

    name: str

    def first_step(self, session: Session, *, login: str, password: str) -> FirstStep: ...

    def second_step(
        self, session: Session, *, session_token: str, code: str
    ) -> tuple[str, Account]: ...


class LocalTotpProvider:
    """Password + TOTP against Carnet's own accounts (development and small deployments)."""

    name = "local-totp"

    def first_step(self, session: Session, *, login: str, password: str) -> FirstStep:
        return begin_sign_in(session, login=login, password=password)

    def second_step(
        self, session: Session, *, session_token: str, code: str
    ) -> tuple[str, Account]:
        return complete_sign_in(session, session_token=session_token, code=code)


def audit_account_event(
    session: Session, actor: Actor, action: str, detail: str | None = None
) -> None:
    audit.append(session, patient_id=None, action=action, detail=detail, **actor_fields(actor))


# --- a professional's urgent access in the portal: bris de glace, or SAMU regulation ---------


@dataclass(frozen=True)
class EmergencyAccess:
    """A live urgent access of a portal session: one record, an end, and its mode — a bris de
    glace (with its reason) or a SAMU regulator's access (reason optional: the regulation
    file, say)."""

    patient_id: uuid.UUID
    reason: str
    until: datetime
    session_id: str  # groups the accesses of this emergency (one notification to the patient)
    mode: Mode = Mode.EMERGENCY


EMERGENCY_REASON_MAX = 300


def live_emergency(web: WebSession) -> EmergencyAccess | None:
    """The session's urgent access, unless it has ended or expired."""
    if web.emergency_patient_id is None or web.emergency_until is None:
        return None
    mode = Mode(web.emergency_mode or Mode.EMERGENCY.value)
    if web.emergency_until <= clock.now() or (mode is Mode.EMERGENCY and not web.emergency_reason):
        return None
    return EmergencyAccess(
        patient_id=web.emergency_patient_id,
        reason=web.emergency_reason or "",
        until=web.emergency_until,
        session_id=_emergency_session_id(web, web.emergency_until),
        mode=mode,
    )


def _emergency_session_id(web: WebSession, until: datetime) -> str:
    """Groups one emergency access's rows (and its one notice to the patient)."""
    return f"web:{web.token_hash[:24]}:{until.timestamp():.0f}"


def emergency_actor(actor: Actor, emergency: EmergencyAccess) -> Actor:
    return replace(
        actor,
        mode=emergency.mode,
        reason=emergency.reason or None,
        session_id=emergency.session_id,
    )


def start_emergency_access(
    session: Session,
    actor: Actor,
    web: WebSession,
    patient_id: uuid.UUID,
    *,
    reason: str,
    mode: Mode = Mode.EMERGENCY,
) -> EmergencyAccess:
    """Open one record in an urgent mode for this portal session: break the glass (a reason is
    required, the patient may have opposed it), or, for a SAMU regulator, regulator mode (the
    patient may have opposed it; a professional without the role is refused). The access
    decides (a blocked professional is refused) and is audited in that mode; then every page of
    the session acts in it on that record until the professional ends it or
    ``emergency_access_ttl_seconds`` pass."""
    if actor.kind is not ActorKind.PROFESSIONAL:
        raise Forbidden("Emergency access is for professionals.")
    if mode not in URGENT_MODES:
        raise Invalid("The access mode is bris de glace or regulation.", field="mode")
    reason = " ".join(reason.split())
    if len(reason) > EMERGENCY_REASON_MAX:
        raise Invalid(
            f"The reason is too long (at most {EMERGENCY_REASON_MAX} characters).", field="reason"
        )
    settings = settings_of(session)
    now = clock.now()
    until = min(
        now + timedelta(seconds=settings.emergency_access_ttl_seconds),
        web.created_at + timedelta(seconds=settings.session_absolute_ttl_seconds),
    )
    web.emergency_patient_id, web.emergency_reason, web.emergency_until = patient_id, reason, until
    web.emergency_mode = mode.value
    emergency = EmergencyAccess(patient_id, reason, until, _emergency_session_id(web, until), mode)
    authorize(
        session,
        emergency_actor(actor, emergency),
        patient_id,
        Action.READ,
        resource_type="Patient",
        resource_id=str(patient_id),
        audit_action="read",
        detail=f"{mode.value} access started",
    )
    return emergency


def end_emergency_access(session: Session, web: WebSession) -> None:
    """End the session's urgent access now (the next pages act in normal mode)."""
    web.emergency_patient_id = web.emergency_reason = web.emergency_until = None
    web.emergency_mode = None


# --- a professional's secret connection to a minor's record ---------------------------------


def start_secret_connection(
    session: Session, actor: Actor, web: WebSession, patient_id: uuid.UUID
) -> None:
    """Open a minor's record in a secret connection for this portal session (domain.md §1.5:
    the minor seen without her parents): the access is decided and traced as a secret one, and
    every page of the session then acts in it on that record until the professional ends it or
    the session ends. Refused for an adult's record (no one to keep it from)."""
    if actor.kind is not ActorKind.PROFESSIONAL:
        raise Forbidden("A secret connection is for professionals.")
    secret = replace(actor, secret=True)
    authorize(
        session,
        secret,
        patient_id,
        Action.READ,
        resource_type="Patient",
        resource_id=str(patient_id),
        audit_action="read",
        detail="secret connection started",
    )
    if not in_secret_connection(session, secret, patient_id):
        raise Invalid("A secret connection is for a minor's record.", field="secret")
    web.secret_patient_id = patient_id


def end_secret_connection(web: WebSession) -> None:
    """End the session's secret connection now (the next pages act in a normal one)."""
    web.secret_patient_id = None
