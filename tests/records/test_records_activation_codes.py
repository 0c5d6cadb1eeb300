"""Activation codes (domain.md §3.1): one-time, expiring, kept only as a keyed hash, locked after
too many wrong tries, replaced by a newer code, and requested without revealing who exists."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor
from carnet.audit.models import AuditEntry
from carnet.audit.transaction import audited_transaction
from carnet.crypto import normalise_code
from carnet.errors import Forbidden, Invalid, TooManyAttempts
from carnet.notifications.models import OutboxMessage, open_code
from carnet.patients.models import Patient
from carnet.records import service as records
from carnet.records.models import ActivationCode, Record
from carnet.settings import Settings
from tests.conftest import NIRS, Cast

Trail = Callable[..., list[AuditEntry]]
SYLVIE_SERIAL = "SV-0001-2026"


def codes_of(session: Session, person: Patient | uuid.UUID) -> list[ActivationCode]:
    session.flush()
    session.expire_all()
    patient_id = person.id if isinstance(person, Patient) else person
    return list(
        session.execute(
            select(ActivationCode)
            .where(ActivationCode.patient_id == patient_id)
            .order_by(ActivationCode.created_at, ActivationCode.id)
        ).scalars()
    )


def activate(session: Session, person: Patient, code: str) -> Patient:
    return records.activate_record(session, nir=person.nir, code=code, birth_date=person.birth_date)


def outbox_codes(session: Session, patient_id: object) -> list[OutboxMessage]:
    session.flush()
    return list(
        session.execute(
            select(OutboxMessage).where(
                OutboxMessage.patient_id == patient_id,
                OutboxMessage.template == "activation_code",
            )
        ).scalars()
    )


def test_an_activation_code_is_kept_only_as_a_keyed_hash(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    trail: Trail,
    now: datetime,
) -> None:
    person = newcomer()

    code = records.issue_activation_code(session, operator, person.id)

    [row] = codes_of(session, person)
    assert len(row.code_hash) == 64
    assert row.code_hash not in (code, normalise_code(code))
    assert code not in row.code_hash
    assert normalise_code(code) not in row.code_hash.upper()
    assert row.expires_at == now + timedelta(days=90)
    assert row.delivery == "letter"
    [issued] = trail(person.id, "activation_code.issue")
    assert code not in (issued.detail or "")
    assert issued.detail == "delivery=letter"


def test_an_activation_code_works_only_once(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()
    code = records.issue_activation_code(session, operator, person.id)
    activate(session, person, code)

    with pytest.raises(Invalid) as refused:
        activate(session, person, code)

    assert refused.value.field == "code"
    [row] = codes_of(session, person)
    assert row.used_at == now


def test_an_activation_code_accepts_the_letters_spelling_in_any_case_and_grouping(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()
    code = records.issue_activation_code(session, operator, person.id)

    activate(session, person, f"  {code.replace('-', ' ').lower()} ")

    record = session.get(Record, person.id)
    assert record is not None
    assert record.status == "open"


@pytest.mark.parametrize(
    ("elapsed", "accepted"),
    [(timedelta(days=90) - timedelta(minutes=1), True), (timedelta(days=90), False)],
)
def test_an_activation_code_expires_after_its_validity(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    frozen: Callable[[datetime], None],
    settings: Settings,
    now: datetime,
    elapsed: timedelta,
    accepted: bool,
) -> None:
    assert settings.activation_code_ttl_days == 90
    person = newcomer()
    code = records.issue_activation_code(session, operator, person.id)

    frozen(now + elapsed)
    if accepted:
        activate(session, person, code)
        assert session.get(Record, person.id) is not None
    else:
        with pytest.raises(Invalid, match="not valid"):
            activate(session, person, code)
        assert session.get(Record, person.id) is None


def test_a_wrong_code_or_a_wrong_birth_date_does_not_activate(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()
    code = records.issue_activation_code(session, operator, person.id)

    with pytest.raises(Invalid) as wrong_code:
        activate(session, person, "AAAA-BBBB-CCCC")
    with pytest.raises(Invalid) as wrong_birth:
        records.activate_record(
            session, nir=person.nir, code=code, birth_date=person.birth_date + timedelta(days=1)
        )

    assert wrong_code.value.message == wrong_birth.value.message  # no hint about which was wrong
    assert session.get(Record, person.id) is None
    [row] = codes_of(session, person)
    assert row.used_at is None


def test_a_code_is_locked_after_too_many_wrong_tries_and_the_lock_outlives_the_refusals(
    factory: sessionmaker[Session],
    operator: Actor,
    newcomer: Callable[..., Patient],
    settings: Settings,
    now: datetime,
) -> None:
    person = newcomer()
    with audited_transaction(factory) as db:
        code = records.issue_activation_code(db, operator, person.id)
    tries = settings.activation_code_max_attempts
    assert tries == 5

    for attempt in range(1, tries):
        with pytest.raises(Invalid), audited_transaction(factory) as db:
            activate(db, person, "AAAA-BBBB-CCCC")
        with factory() as db:
            [row] = codes_of(db, person)
            assert row.failed_attempts == attempt  # committed despite the refusal
            assert row.locked_at is None

    with pytest.raises(TooManyAttempts), audited_transaction(factory) as db:
        activate(db, person, "AAAA-BBBB-CCCC")
    with pytest.raises(TooManyAttempts), audited_transaction(factory) as db:
        activate(db, person, code)  # even the right code: the lock persisted

    with factory() as db:
        [row] = codes_of(db, person)
        assert (row.failed_attempts, row.locked_at, row.used_at) == (tries, now, None)
        assert db.get(Record, person.id) is None

    with audited_transaction(factory) as db:  # the way out: ask for a new code
        fresh = records.issue_activation_code(db, operator, person.id)
    with audited_transaction(factory) as db:
        activate(db, person, fresh)
    with factory() as db:
        record = db.get(Record, person.id)
        assert record is not None
        assert record.status == "open"


def test_a_new_code_revokes_the_older_unused_ones(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer(email="newcomer@example.org")
    first = records.issue_activation_code(session, operator, person.id)
    second = records.issue_activation_code(session, operator, person.id, delivery="email")

    older, newer = codes_of(session, person)
    assert (older.revoked_at, newer.revoked_at) == (now, None)
    with pytest.raises(Invalid):
        activate(session, person, first)
    assert session.get(Record, person.id) is None

    activate(session, person, second)

    assert session.get(Record, person.id) is not None


def test_a_used_code_is_not_revoked_by_a_later_one(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()
    used = records.issue_activation_code(session, operator, person.id)
    activate(session, person, used)

    records.issue_activation_code(session, operator, person.id)

    older, _ = codes_of(session, person)
    assert (older.used_at, older.revoked_at) == (now, None)


@pytest.mark.parametrize("name", ["durand", "moreau"])
def test_only_the_insurer_issues_activation_codes(
    session: Session,
    pro: Callable[..., Actor],
    holder: Callable[[str], Actor],
    cast: Cast,
    now: datetime,
    name: str,
) -> None:
    for actor in (pro(name), holder("jean")):
        with pytest.raises(Forbidden):
            records.issue_activation_code(session, actor, cast.patients["jean"])


def test_a_code_cannot_be_sent_to_a_contact_nobody_gave(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer(email=None)

    for delivery in ("email", "sms"):
        with pytest.raises(Invalid) as refused:
            records.issue_activation_code(session, operator, person.id, delivery=delivery)
        assert refused.value.field == "delivery"
    with pytest.raises(Invalid):
        records.issue_activation_code(session, operator, person.id, delivery="pigeon")


# --- self-service request with NIR + carte Vitale serial ----------------------------------------


def test_a_person_gets_a_code_by_email_when_the_carte_vitale_serial_matches(
    session: Session, cast: Cast, trail: Trail, settings: Settings, now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]

    answer = records.request_activation_code(
        session, nir=NIRS["sylvie"], vitale_serial=SYLVIE_SERIAL
    )

    assert answer is None
    [message] = outbox_codes(session, sylvie)
    assert (message.channel, message.status) == ("email", "pending")
    code = open_code(settings.secret_key, message.payload)
    assert code
    [row] = [r for r in codes_of(session, sylvie) if r.used_at is None and r.revoked_at is None]
    assert row.code_hash != code
    assert row.delivery == "email"
    [issued] = trail(sylvie, "activation_code.issue")[-1:]
    assert issued.actor_kind == "anonymous"
    assert issued.detail == "delivery=email"


def test_the_code_sent_after_a_request_activates_the_record(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    settings: Settings,
    now: datetime,
) -> None:
    person = newcomer(vitale_serial="NC-0900-2026")

    records.request_activation_code(session, nir=person.nir, vitale_serial="nc 0900 2026")

    [message] = outbox_codes(session, person.id)
    code = open_code(settings.secret_key, message.payload)
    assert code
    activate(session, person, code)
    record = session.get(Record, person.id)
    assert record is not None
    assert (record.status, record.channel) == ("open", "online")


@pytest.mark.parametrize(
    ("nir", "serial"),
    [
        (NIRS["sylvie"], "SV-0001-2025"),  # wrong serial
        (NIRS["sylvie"], ""),
        (NIRS["rose"], "SV-0001-2026"),  # someone else's serial; Rose has none on file
        ("190013155599959", SYLVIE_SERIAL),  # nobody (a well-formed NIR that no one has)
    ],
)
def test_a_request_with_details_that_do_not_match_sends_nothing_and_says_nothing(
    session: Session, cast: Cast, now: datetime, nir: str, serial: str
) -> None:
    count = select(func.count()).select_from(OutboxMessage)
    codes = select(func.count()).select_from(ActivationCode)
    trail_rows = select(func.count()).select_from(AuditEntry)
    before = [session.execute(q).scalar_one() for q in (count, codes, trail_rows)]

    answer = records.request_activation_code(session, nir=nir, vitale_serial=serial)

    assert answer is None  # the same answer as when it matched
    session.flush()
    assert [session.execute(q).scalar_one() for q in (count, codes, trail_rows)] == before


@pytest.mark.parametrize("serial", [SYLVIE_SERIAL, "SV-9999-9999"])
def test_a_request_on_an_unknown_channel_answers_the_same_whether_or_not_the_serial_matches(
    session: Session, cast: Cast, now: datetime, serial: str
) -> None:
    with pytest.raises(Invalid) as refused:
        records.request_activation_code(
            session, nir=NIRS["sylvie"], vitale_serial=serial, channel="fax"
        )

    assert refused.value.field == "channel"
    assert outbox_codes(session, cast.patients["sylvie"]) == []


def test_a_code_to_be_sent_waits_in_the_outbox_sealed(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()

    code = records.issue_activation_code(session, operator, person.id, delivery="email")

    [message] = outbox_codes(session, person.id)
    assert "code" not in message.payload
    assert code not in str(message.payload)
    assert normalise_code(code) not in str(message.payload)


@pytest.mark.parametrize(
    "typed", ["2 75 03 31 555 004 25", "2.75.03.31.555.004.25", " 275033155500425 "]
)
def test_a_nir_typed_with_spaces_or_dots_finds_the_person(
    session: Session, cast: Cast, now: datetime, typed: str
) -> None:
    records.request_activation_code(session, nir=typed, vitale_serial=SYLVIE_SERIAL)

    assert len(outbox_codes(session, cast.patients["sylvie"])) == 1


def test_a_malformed_nir_is_refused_naming_the_field_whoever_exists(
    session: Session, now: datetime
) -> None:
    for nir in (NIRS["sylvie"][:-1] + "0", "not a nir"):
        with pytest.raises(Invalid) as refused:
            records.request_activation_code(session, nir=nir, vitale_serial=SYLVIE_SERIAL)
        assert refused.value.field == "nir"
