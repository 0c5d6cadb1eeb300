"""Opposing an automatic (opt-out) creation during its window, and changing one's mind later
(domain.md §3.1, MES since 2022)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import authorize
from carnet.audit.models import AuditEntry
from carnet.errors import AccessDenied, Conflict, Invalid, NotFound
from carnet.patients.models import Patient
from carnet.records import service as records
from carnet.records.models import Channel, Record, RecordStatus
from tests.conftest import Cast

Trail = Callable[..., list[AuditEntry]]


@pytest.fixture
def pending(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> tuple[Patient, str]:
    """A person whose record was just created automatically, with the code of their letter."""
    person = newcomer()
    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)
    code = records.issue_activation_code(session, operator, person.id)
    return person, code


def oppose(session: Session, person: Patient, code: str) -> None:
    records.oppose_creation(session, nir=person.nir, code=code, birth_date=person.birth_date)


def test_a_person_opposes_the_automatic_creation_within_the_window(
    session: Session,
    pending: tuple[Patient, str],
    frozen: Callable[[datetime], None],
    trail: Trail,
    now: datetime,
) -> None:
    person, code = pending
    last_day = now + timedelta(days=42) - timedelta(minutes=1)
    frozen(last_day)

    oppose(session, person, code)

    record = session.get(Record, person.id)
    assert record is not None
    assert (record.status, record.opposed_at) == ("opposed", last_day)
    assert record.effective_status(last_day + timedelta(days=365)) is RecordStatus.OPPOSED
    [row] = trail(person.id, "record.oppose_creation")
    assert (row.actor_kind, row.actor_ref, row.outcome) == (
        "patient",
        f"patient:{person.id}",
        "allowed",
    )


@pytest.mark.parametrize("name", ["durand", "benali", "moreau"])
def test_after_an_opposition_nobody_finds_a_record_even_once_the_window_has_passed(
    session: Session,
    pending: tuple[Patient, str],
    pro: Callable[..., Actor],
    frozen: Callable[[datetime], None],
    now: datetime,
    name: str,
) -> None:
    person, code = pending
    oppose(session, person, code)
    the_person = Actor(kind=ActorKind.PATIENT, ref="p", patient_id=person.id)

    for moment in (now, now + timedelta(days=43), now + timedelta(days=3650)):
        frozen(moment)
        for actor, action in ((pro(name), Action.LOOKUP), (pro(name), Action.WRITE)):
            with pytest.raises(AccessDenied) as denied:
                authorize(session, actor, person.id, action)
            assert isinstance(denied.value.public, NotFound)
        with pytest.raises(AccessDenied) as denied:
            authorize(session, the_person, person.id, Action.READ)
        assert isinstance(denied.value.public, NotFound)
        with pytest.raises(AccessDenied):
            records.lookup_record(session, pro(name), person)


def test_opposing_after_the_window_is_refused(
    session: Session,
    pending: tuple[Patient, str],
    frozen: Callable[[datetime], None],
    trail: Trail,
    now: datetime,
) -> None:
    person, code = pending
    frozen(now + timedelta(days=42))

    with pytest.raises(Conflict):
        oppose(session, person, code)

    record = session.get(Record, person.id)
    assert record is not None
    assert record.effective_status(now + timedelta(days=42)) is RecordStatus.OPEN
    assert record.opposed_at is None
    assert trail(person.id, "record.oppose_creation") == []


def test_opposing_needs_the_code_of_the_letter(
    session: Session, pending: tuple[Patient, str], now: datetime
) -> None:
    person, _ = pending

    with pytest.raises(Invalid) as refused:
        oppose(session, person, "AAAA-BBBB-CCCC")

    assert refused.value.field == "code"
    record = session.get(Record, person.id)
    assert record is not None
    assert record.status == "pending"


def test_a_wrong_code_gets_the_same_answer_whether_or_not_a_creation_is_pending(
    session: Session,
    operator: Actor,
    pending: tuple[Patient, str],
    newcomer: Callable[..., Patient],
    cast: Cast,
    now: datetime,
) -> None:
    """NIR and birth date are not secrets: without the right code, the answer must not tell
    whether this person is in an opposition window (each holds an outstanding code)."""
    with_pending, _ = pending
    without_record = newcomer()
    records.issue_activation_code(session, operator, without_record.id)
    with_open = session.get(Patient, cast.patients["sylvie"])
    assert with_open is not None
    records.issue_activation_code(session, operator, with_open.id)

    messages = set()
    for person in (with_pending, without_record, with_open):
        with pytest.raises(Invalid) as refused:
            oppose(session, person, "AAAA-BBBB-CCCC")
        messages.add((type(refused.value), refused.value.message))

    assert len(messages) == 1


def test_there_is_nothing_to_oppose_without_an_automatic_creation(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    at_counter = newcomer()
    records.create_record(session, operator, at_counter.id, channel=Channel.INSURER_COUNTER)
    nothing = newcomer()

    for person in (at_counter, nothing):
        code = records.issue_activation_code(session, operator, person.id)
        with pytest.raises(Conflict):
            oppose(session, person, code)

    record = session.get(Record, at_counter.id)
    assert record is not None
    assert record.status == "open"
    assert session.get(Record, nothing.id) is None


def test_an_opposition_cannot_be_repeated_with_the_same_code(
    session: Session, pending: tuple[Patient, str], now: datetime
) -> None:
    person, code = pending
    oppose(session, person, code)

    with pytest.raises((Conflict, Invalid)):
        oppose(session, person, code)


def test_a_person_who_opposed_changes_their_mind_and_activates_online(
    session: Session, operator: Actor, cast: Cast, trail: Trail, now: datetime
) -> None:
    rose_id = cast.patients["rose"]
    rose = session.get(Patient, rose_id)
    assert rose is not None
    record = session.get(Record, rose_id)
    assert record is not None
    assert record.status == "opposed"  # the persona opposed in February 2022
    code = records.issue_activation_code(session, operator, rose_id, delivery="email")

    records.activate_record(session, nir=rose.nir, code=code, birth_date=rose.birth_date)

    record = session.get(Record, rose_id)
    assert record is not None
    assert (record.status, record.channel, record.opposed_at) == ("open", "online", None)
    assert (record.created_at, record.activated_at, record.opens_at) == (now, now, now)
    actions = [(row.action, row.detail) for row in trail(rose_id)]
    assert actions[-2:] == [("record.create", "channel=online"), ("record.activate", None)]
    assert ("record.oppose_creation", None) in actions  # the history is kept


def test_a_person_who_opposed_can_have_a_record_opened_at_a_counter_with_consent(
    session: Session, pro: Callable[..., Actor], cast: Cast, now: datetime
) -> None:
    rose_id = cast.patients["rose"]

    record = records.create_record(
        session, pro("moreau"), rose_id, channel=Channel.PHARMACY, patient_consented=True
    )

    assert (record.status, record.channel, record.opposed_at) == ("open", "pharmacy", None)


def test_the_automatic_route_does_not_override_an_opposition(
    session: Session, operator: Actor, cast: Cast, trail: Trail, now: datetime
) -> None:
    rose_id = cast.patients["rose"]
    before = len(trail(rose_id))

    with pytest.raises(Conflict, match="opposed"):
        records.create_record(session, operator, rose_id, channel=Channel.OPT_OUT)

    record = session.get(Record, rose_id)
    assert record is not None
    assert record.status == "opposed"
    assert len(trail(rose_id)) == before


def test_a_code_sent_late_in_the_window_gives_the_full_window_from_that_notice(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    person = newcomer()
    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)
    notice = now + timedelta(days=40)  # the letter went out two days before the window's end
    frozen(notice)

    code = records.issue_activation_code(session, operator, person.id)

    record = session.get(Record, person.id)
    assert record is not None
    assert record.opens_at == notice + timedelta(days=42)
    frozen(notice + timedelta(days=41))
    assert record.effective_status(notice + timedelta(days=41)) is RecordStatus.PENDING
    oppose(session, person, code)  # still within the window the notice announced
    assert record.status == RecordStatus.OPPOSED.value


def test_an_early_code_does_not_shorten_or_move_the_window(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    now: datetime,
) -> None:
    person = newcomer()
    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)

    records.issue_activation_code(session, operator, person.id)

    record = session.get(Record, person.id)
    assert record is not None
    assert record.opens_at == now + timedelta(days=42)


def test_a_code_sent_once_the_record_has_opened_does_not_close_it_again(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    person = newcomer()
    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)
    frozen(now + timedelta(days=60))

    records.issue_activation_code(session, operator, person.id)

    record = session.get(Record, person.id)
    assert record is not None
    assert record.opens_at == now + timedelta(days=42)
    assert record.effective_status(now + timedelta(days=60)) is RecordStatus.OPEN
