"""The patient is told about accesses through an outbox: what the gate enqueues, and how the
worker sends it, retries with back-off while the sender is down, gives up, scrubs secrets and
cancels what has nowhere to go. The sender and the clock are the faked boundaries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Action, Actor, Mode
from carnet.access.gate import authorize
from carnet.accounts.models import Account
from carnet.accounts.service import begin_sign_in
from carnet.agenda import service as agenda
from carnet.audit.models import NotifiedAccess
from carnet.notifications.models import (
    SEALED_CODE,
    OutboxMessage,
    OutboxStatus,
    enqueue,
    open_code,
)
from carnet.notifications.senders import Message
from carnet.notifications.worker import CLAIM_TIMEOUT, dispatch_due
from carnet.patients.models import LegalRepresentative
from carnet.records.service import issue_activation_code
from carnet.settings import Settings
from tests.agenda.conftest import draft
from tests.conftest import Cast, FakeSender

MOMENT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
REASON = "détresse respiratoire, patiente inconsciente"
SYLVIE_EMAIL = "sylvie.martin@example.org"
SYLVIE_PHONE = "+33600000001"
MEDICAL_WORDS = ("respiratoire", "inconsciente", "Levothyrox", "pénicilline", "thyro")


Deliver = Callable[[], int]


@pytest.fixture
def deliver(factory: sessionmaker[Session], sender: FakeSender, settings: Settings) -> Deliver:
    """One pass of the notification worker over the due messages; how many were sent."""
    return lambda: dispatch_due(factory, sender, settings)


@pytest.fixture
def now(frozen: Callable[[datetime], None]) -> datetime:
    frozen(MOMENT)
    return MOMENT


def read(
    session: Session, actor: Actor, patient_id: uuid.UUID, action: Action = Action.READ
) -> None:
    authorize(session, actor, patient_id, action, resource_type="Patient")
    session.flush()


def outbox(
    session: Session, patient_id: uuid.UUID, template: str | None = None
) -> list[OutboxMessage]:
    session.expire_all()  # the worker changed the rows through its own sessions
    query = select(OutboxMessage).where(OutboxMessage.patient_id == patient_id)
    if template is not None:
        query = query.where(OutboxMessage.template == template)
    return list(session.execute(query.order_by(OutboxMessage.created_at)).scalars())


def only(rows: list[OutboxMessage]) -> OutboxMessage:
    assert len(rows) == 1, [(r.template, r.payload) for r in rows]
    return rows[0]


def sylvies_account(session: Session) -> Account:
    return session.execute(select(Account).where(Account.login == SYLVIE_EMAIL)).scalar_one()


class BrokenSender:
    """A sender failing in a way nobody planned for."""

    def send(self, message: Message) -> None:
        raise RuntimeError("unexpected")


# -- what the gate enqueues ------------------------------------------------------------------


def test_a_professionals_first_read_enqueues_one_first_access_message_and_later_reads_none(
    session: Session, cast: Cast, pro: Callable[..., Actor], now: datetime
) -> None:
    sylvie, durand = cast.patients["sylvie"], pro("durand")

    read(session, durand, sylvie)
    read(session, durand, sylvie, Action.SEARCH)
    read(session, durand, sylvie)

    message = only(outbox(session, sylvie))
    assert message.template == "first_access"
    assert message.status == OutboxStatus.PENDING.value
    assert message.next_attempt_at == now
    assert message.payload["professional"] == "Dr Paul Durand"
    assert message.payload["structure"] == "Cabinet médical des Carmes"
    assert (message.payload["mode"], message.payload["reason"]) == ("normal", None)
    assert session.get(NotifiedAccess, (sylvie, f"first:{durand.ref}")) is not None


def test_each_professional_gets_their_own_first_access_message(
    session: Session, cast: Cast, pro: Callable[..., Actor], now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]

    read(session, pro("durand"), sylvie)
    read(session, pro("petit"), sylvie)
    read(session, pro("durand"), sylvie)

    named = [m.payload["professional"] for m in outbox(session, sylvie, "first_access")]
    assert sorted(named) == ["Dr Paul Durand", "Thomas Petit"]


def test_checking_that_a_record_exists_does_not_count_as_a_first_read(
    session: Session, cast: Cast, pro: Callable[..., Actor], now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]

    read(session, pro("durand"), sylvie, Action.LOOKUP)

    assert outbox(session, sylvie) == []


def test_each_emergency_session_enqueues_one_emergency_access_message_with_its_reason(
    session: Session, cast: Cast, pro: Callable[..., Actor], now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]

    def benali(session_id: str) -> Actor:
        return pro("benali", mode=Mode.EMERGENCY, reason=REASON, session_id=session_id)

    read(session, benali("night-shift"), sylvie)
    read(session, benali("night-shift"), sylvie, Action.SEARCH)
    read(session, benali("night-shift"), sylvie)
    assert len(outbox(session, sylvie, "emergency_access")) == 1

    read(session, benali("next-morning"), sylvie)

    emergencies = outbox(session, sylvie, "emergency_access")
    assert len(emergencies) == 2
    assert all(m.payload["reason"] == REASON for m in emergencies)
    assert all(m.payload["mode"] == "emergency" for m in emergencies)
    # a first access made in emergency is told once, by the emergency message
    assert outbox(session, sylvie, "first_access") == []


# -- how the worker sends ---------------------------------------------------------------------


def test_due_messages_go_to_the_patients_email_naming_the_professional_without_medical_content(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
    deliver: Deliver,
) -> None:
    sylvie = cast.patients["sylvie"]
    read(session, pro("benali", mode=Mode.EMERGENCY, reason=REASON, session_id="s1"), sylvie)
    read(session, pro("durand"), sylvie)

    assert deliver() == 2

    assert {(m.channel, m.to) for m in sender.messages} == {("email", SYLVIE_EMAIL)}
    by_subject = {m.subject: m.body for m in sender.messages}
    emergency = by_subject["Accès en urgence à votre dossier"]
    first = by_subject["Un professionnel a consulté votre dossier pour la première fois"]
    assert "Dr Paul Durand" in first
    for body in (emergency,):
        assert "Dr Amina Benali" in body
        assert "historique des accès" in body
        assert not [word for word in MEDICAL_WORDS if word.lower() in body.lower()]
        assert "275033155500425" not in body
    assert "bris de glace" in emergency
    for row in outbox(session, sylvie):
        assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.SENT.value, 1, now)
        assert "reason" not in row.payload  # the reason stays in the audit trail only


def test_a_sent_message_is_not_sent_again(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    now: datetime,
    deliver: Deliver,
) -> None:
    read(session, pro("durand"), cast.patients["sylvie"])
    deliver()
    frozen(now + timedelta(days=1))

    assert deliver() == 0
    assert len(sender.messages) == 1


def test_when_the_sender_is_down_the_message_waits_and_is_sent_once_it_is_back(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    now: datetime,
    deliver: Deliver,
) -> None:
    sylvie = cast.patients["sylvie"]
    read(session, pro("durand"), sylvie)
    sender.down = True

    assert deliver() == 0

    message = only(outbox(session, sylvie))
    assert (message.status, message.attempts) == (OutboxStatus.PENDING.value, 1)
    assert message.next_attempt_at == now + timedelta(seconds=5)
    assert message.last_error == "connection refused"

    sender.down = False
    assert deliver() == 0  # not due yet: no retry storm
    assert sender.messages == []

    frozen(now + timedelta(seconds=5))
    assert deliver() == 1

    message = only(outbox(session, sylvie))
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, None)
    assert [m.to for m in sender.messages] == [SYLVIE_EMAIL]


def test_the_back_off_doubles_after_each_failed_attempt(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    now: datetime,
    deliver: Deliver,
) -> None:
    sylvie = cast.patients["sylvie"]
    read(session, pro("durand"), sylvie)
    sender.down = True
    delays = []
    moment = now

    for _ in range(4):
        deliver()
        message = only(outbox(session, sylvie))
        delays.append((message.next_attempt_at - moment).total_seconds())
        moment = message.next_attempt_at
        frozen(moment)

    assert delays == [5, 10, 20, 40]


def test_after_the_maximum_number_of_attempts_the_message_is_marked_failed_for_good(
    session: Session,
    factory: sessionmaker[Session],
    sender: FakeSender,
    settings: Settings,
    cast: Cast,
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]
    three_tries = settings.model_copy(update={"outbox_max_attempts": 3})
    read(session, pro("durand"), sylvie)
    sender.down = True

    for hours in range(3):
        frozen(now + timedelta(hours=hours))
        dispatch_due(factory, sender, three_tries)

    message = only(outbox(session, sylvie))
    assert (message.status, message.attempts) == (OutboxStatus.FAILED.value, 3)
    assert message.last_error == "connection refused"

    sender.down = False
    frozen(now + timedelta(days=2))
    assert dispatch_due(factory, sender, three_tries) == 0
    assert sender.messages == []


def test_an_unexpected_sender_error_is_retried_like_a_refused_connection(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]
    read(session, pro("durand"), sylvie)

    assert dispatch_due(factory, BrokenSender(), settings) == 0

    message = only(outbox(session, sylvie))
    assert (message.status, message.attempts) == (OutboxStatus.PENDING.value, 1)
    assert message.last_error == "RuntimeError"
    assert message.next_attempt_at > now


def test_one_pass_sends_at_most_the_limit_and_leaves_the_rest_pending(
    session: Session,
    factory: sessionmaker[Session],
    sender: FakeSender,
    settings: Settings,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]
    for name in ("durand", "petit", "roux"):
        read(session, pro(name), sylvie)

    assert dispatch_due(factory, sender, settings, limit=2) == 2
    assert [m.status for m in outbox(session, sylvie)].count(OutboxStatus.PENDING.value) == 1
    assert dispatch_due(factory, sender, settings, limit=2) == 1


# -- sign-in codes ----------------------------------------------------------------------------


def test_a_sign_in_code_is_sent_then_scrubbed_from_the_payload(
    session: Session,
    sender: FakeSender,
    settings: Settings,
    cast: Cast,
    now: datetime,
    deliver: Deliver,
) -> None:
    begin_sign_in(session, login=SYLVIE_EMAIL, password=cast.password)
    session.flush()
    pending = only(outbox(session, cast.patients["sylvie"], "sign_in_code"))
    code = open_code(settings.secret_key, pending.payload)
    assert code

    assert deliver() == 1

    assert sender.last_code(SYLVIE_EMAIL) == code
    sent = only(outbox(session, cast.patients["sylvie"], "sign_in_code"))
    assert sent.status == OutboxStatus.SENT.value
    assert "code" not in sent.payload
    assert SEALED_CODE not in sent.payload
    assert code not in str(sent.payload)


def test_a_sign_in_code_is_scrubbed_too_when_its_message_fails_for_good(
    session: Session,
    factory: sessionmaker[Session],
    sender: FakeSender,
    settings: Settings,
    cast: Cast,
    now: datetime,
) -> None:
    begin_sign_in(session, login=SYLVIE_EMAIL, password=cast.password)
    session.flush()
    sender.down = True

    dispatch_due(factory, sender, settings.model_copy(update={"outbox_max_attempts": 1}))

    failed = only(outbox(session, cast.patients["sylvie"], "sign_in_code"))
    assert failed.status == OutboxStatus.FAILED.value
    assert "code" not in failed.payload
    assert SEALED_CODE not in failed.payload


def test_a_sign_in_code_by_sms_goes_to_the_phone_on_one_line(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    now: datetime,
    deliver: Deliver,
) -> None:
    sylvies_account(session).otp_channel = "sms"
    begin_sign_in(session, login=SYLVIE_EMAIL, password=cast.password)
    session.flush()

    deliver()

    (message,) = sender.messages
    assert (message.channel, message.to) == ("sms", SYLVIE_PHONE)
    assert "\n" not in message.body
    assert sender.last_code(SYLVIE_PHONE).isdigit()


# -- where messages go ------------------------------------------------------------------------


def test_a_patient_who_prefers_sms_is_told_by_sms_in_one_short_line(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
    deliver: Deliver,
) -> None:
    account = sylvies_account(session)
    account.notify_email, account.notify_sms = False, True
    read(session, pro("durand"), cast.patients["sylvie"])

    deliver()

    (message,) = sender.messages
    assert (message.channel, message.to) == ("sms", SYLVIE_PHONE)
    assert "Dr Paul Durand" in message.body
    assert len(message.body) <= 300
    assert "\n" not in message.body


def test_a_minors_access_notice_goes_to_the_legal_representative(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    deliver: Deliver,
) -> None:
    lea = cast.patients["lea"]  # a minor: no e-mail, no phone, no account of her own
    read(session, pro("durand"), lea)

    assert deliver() == 1
    assert [m.to for m in sender.messages] == [SYLVIE_EMAIL]


@pytest.mark.parametrize("secret", ["no", "booked secret", "made secret later"])
def test_a_minors_appointment_reminder_goes_to_the_parent_unless_the_appointment_is_secret(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    secret: str,
    deliver: Deliver,
) -> None:
    lea = cast.patients["lea"]  # a minor: no e-mail, no phone, no account of her own
    start = datetime.now(UTC) + timedelta(days=3)

    row = agenda.create_appointment(
        session,
        pro("durand"),
        patient_id=lea,
        draft=draft(start, hidden_from_representatives=secret == "booked secret"),
    )
    if secret == "made secret later":
        agenda.update_appointment(
            session,
            pro("durand"),
            appointment_id=row.id,
            draft=draft(start, hidden_from_representatives=True),
        )
        agenda.update_appointment(  # a later update without the label keeps it
            session,
            pro("durand"),
            appointment_id=row.id,
            draft=draft(start, hidden_from_representatives=False),
        )
    session.commit()
    for message in outbox(session, lea):  # the first-access notice is another test's matter
        if message.template != "appointment_reminder":
            message.status = OutboxStatus.CANCELLED.value
    session.commit()
    frozen(start - timedelta(hours=23))

    deliver()

    reminder = only(outbox(session, lea, "appointment_reminder"))
    if secret != "no":  # even "when" would tell the parents of it
        assert sender.messages == []
        assert reminder.status == OutboxStatus.CANCELLED.value
    else:
        (message,) = sender.messages
        assert message.to == SYLVIE_EMAIL
        assert "votre enfant a un rendez-vous" in message.body
        assert reminder.status == OutboxStatus.SENT.value


def test_a_message_for_a_patient_without_any_channel_is_cancelled_not_retried(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    now: datetime,
    deliver: Deliver,
) -> None:
    lea = cast.patients["lea"]
    session.execute(delete(LegalRepresentative).where(LegalRepresentative.patient_id == lea))
    read(session, pro("durand"), lea)

    assert deliver() == 0

    message = only(outbox(session, lea))
    assert (message.status, message.attempts) == (OutboxStatus.CANCELLED.value, 0)
    assert message.last_error == "no channel"
    frozen(now + timedelta(days=1))
    assert deliver() == 0
    assert only(outbox(session, lea)).status == OutboxStatus.CANCELLED.value
    assert sender.messages == []


def test_a_patient_who_turned_every_notification_off_gets_nothing(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
    deliver: Deliver,
) -> None:
    account = sylvies_account(session)
    account.notify_email = account.notify_sms = False
    sylvie = cast.patients["sylvie"]
    read(session, pro("durand"), sylvie)

    deliver()

    assert sender.messages == []
    assert only(outbox(session, sylvie)).status == OutboxStatus.CANCELLED.value


def test_a_patient_without_an_account_is_told_at_the_email_of_their_identity(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
    deliver: Deliver,
) -> None:
    jean = cast.patients["jean"]  # record created through the opt-out route, never activated
    read(session, pro("benali", mode=Mode.EMERGENCY, reason=REASON, session_id="s1"), jean)

    assert deliver() == 1
    assert {m.to for m in sender.messages} == {"jean.dupont@example.org"}


def test_an_adults_access_notice_no_longer_goes_to_their_former_representative(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    frozen: Callable[[datetime], None],
    deliver: Deliver,
) -> None:
    lea = cast.patients["lea"]  # born in 2011: of age in 2029; the link was never ended
    frozen(datetime(2030, 1, 15, 9, 0, tzinfo=UTC))
    session.add(enqueue("first_access", patient_id=lea, professional="Dr Paul Durand"))
    session.flush()

    assert deliver() == 0

    assert sender.messages == []  # her mother is not told about an adult's record
    message = only(outbox(session, lea))
    assert (message.status, message.last_error) == (OutboxStatus.CANCELLED.value, "no channel")


# -- no transaction while sending, and claims that outlive a crash -----------------------------


class WatchingSender(FakeSender):
    """Records, at the moment of each send, what the database holds for the message and whether
    the worker still had a transaction open on the (shared) test connection."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        super().__init__()
        self.factory = factory
        self.seen: list[tuple[str, datetime | None, bool]] = []

    def send(self, message: Message) -> None:
        connection = self.factory.kw["bind"]
        in_worker_transaction = connection.in_nested_transaction()
        with self.factory() as session:
            row = session.execute(
                select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(1)
            ).scalar_one()
            self.seen.append((row.status, row.claimed_at, in_worker_transaction))
        super().send(message)


def test_the_sender_is_called_with_the_message_claimed_and_no_transaction_open(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
) -> None:
    read(session, pro("durand"), cast.patients["sylvie"])
    session.commit()  # the test's own session leaves its savepoint too
    watching = WatchingSender(factory)

    assert dispatch_due(factory, watching, settings) == 1

    assert watching.seen == [(OutboxStatus.SENDING.value, now, False)]
    message = only(outbox(session, cast.patients["sylvie"]))
    assert (message.status, message.claimed_at, message.attempts) == ("sent", None, 1)


def test_a_message_left_sending_by_a_crashed_worker_goes_back_to_the_queue(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    now: datetime,
    deliver: Deliver,
) -> None:
    sylvie = cast.patients["sylvie"]
    read(session, pro("durand"), sylvie)
    crashed = only(outbox(session, sylvie))
    crashed.status, crashed.claimed_at, crashed.attempts = "sending", now, 1
    session.flush()

    frozen(now + CLAIM_TIMEOUT - timedelta(seconds=1))
    assert deliver() == 0  # perhaps still sending: left alone
    assert only(outbox(session, sylvie)).status == OutboxStatus.SENDING.value

    frozen(now + CLAIM_TIMEOUT)
    deliver()
    released = only(outbox(session, sylvie))
    assert (released.status, released.claimed_at) == (OutboxStatus.PENDING.value, None)
    assert released.last_error == "interrupted while sending"

    frozen(released.next_attempt_at)
    assert deliver() == 1
    assert [m.to for m in sender.messages] == [SYLVIE_EMAIL]
    assert only(outbox(session, sylvie)).attempts == 2


def test_a_message_claimed_by_another_worker_is_not_sent_twice(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
    deliver: Deliver,
) -> None:
    sylvie = cast.patients["sylvie"]
    read(session, pro("durand"), sylvie)
    message = only(outbox(session, sylvie))
    message.status, message.claimed_at = OutboxStatus.SENDING.value, now
    session.flush()

    assert deliver() == 0
    assert sender.messages == []


def test_an_activation_code_waits_in_the_outbox_sealed_and_is_sent_in_clear(
    session: Session,
    sender: FakeSender,
    settings: Settings,
    cast: Cast,
    operator: Actor,
    now: datetime,
    deliver: Deliver,
) -> None:
    jean = cast.patients["jean"]
    code = issue_activation_code(session, operator, jean, delivery="email")
    session.flush()

    pending = only(outbox(session, jean, "activation_code"))
    assert "code" not in pending.payload
    assert code not in str(pending.payload)
    assert open_code(settings.secret_key, pending.payload) == code

    assert deliver() == 1
    (message,) = sender.messages
    assert code in message.body
    assert only(outbox(session, jean, "activation_code")).payload == {}


def test_a_code_that_cannot_be_opened_fails_alone_and_does_not_block_the_others(
    session: Session,
    sender: FakeSender,
    cast: Cast,
    pro: Callable[..., Actor],
    now: datetime,
    deliver: Deliver,
) -> None:
    sylvie = cast.patients["sylvie"]
    session.add(
        enqueue("sign_in_code", patient_id=sylvie, channel="email", code_sealed="not-sealed")
    )
    session.flush()
    read(session, pro("durand"), sylvie)

    assert deliver() == 1

    unreadable = only(outbox(session, sylvie, "sign_in_code"))
    assert unreadable.status == OutboxStatus.FAILED.value
    assert SEALED_CODE not in unreadable.payload
    assert [m.subject for m in sender.messages] == [
        "Un professionnel a consulté votre dossier pour la première fois"
    ]
