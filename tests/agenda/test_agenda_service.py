"""The agenda's use cases on a real database: who adds, sees, changes and cancels which
appointment; the refusals (audited, "not found" when the actor may not know); the reminders
kept in step in the outbox, with the fake clock and the fake sender."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor
from carnet.agenda import service
from carnet.agenda.models import Appointment
from carnet.audit.models import AuditEntry
from carnet.audit.transaction import audited_transaction
from carnet.errors import AccessDenied, CarnetError, Conflict, Forbidden, NotFound
from carnet.notifications.models import OutboxStatus
from carnet.notifications.worker import dispatch_due
from carnet.settings import Settings
from tests.agenda.conftest import MONDAY, app_actor, draft, reminder_of, trail
from tests.conftest import Cast, FakeSender


def book(session: Session, actor: Actor, cast: Cast, start: datetime, **texts: str) -> Appointment:
    """Sylvie's appointment at ``start`` (with ``texts``: location…), added by ``actor``."""
    return service.create_appointment(
        session, actor, patient_id=cast.patients["sylvie"], draft=draft(start, **texts)
    )


@pytest.fixture
def at_monday(frozen: Callable[[datetime], None]) -> datetime:
    frozen(MONDAY)
    return MONDAY


def test_a_patient_adds_an_appointment_with_its_reminder_the_day_before(
    session: Session, cast: Cast, sylvie: Actor, at_monday: datetime
) -> None:
    start = at_monday + timedelta(days=3)
    row = book(
        session, sylvie, cast, start, practitioner_name="Dr Vidal", location="Clinique Pasteur"
    )
    assert (row.source_kind, row.source_ref, row.status, row.version) == (
        "patient",
        sylvie.ref,
        "booked",
        1,
    )
    reminder = reminder_of(session, row)
    assert reminder is not None
    assert reminder.template == "appointment_reminder"
    assert reminder.status == OutboxStatus.PENDING.value
    assert reminder.next_attempt_at == start - timedelta(hours=24)
    assert reminder.patient_id == cast.patients["sylvie"]
    rows = trail(session, cast.patients["sylvie"])
    assert [(r.action, r.outcome, r.detail) for r in rows[-1:]] == [
        ("write", "allowed", "appointment.create")
    ]


def test_an_appointment_starting_within_a_day_is_reminded_at_once_and_a_past_one_never(
    session: Session, cast: Cast, sylvie: Actor, at_monday: datetime
) -> None:
    soon = book(session, sylvie, cast, at_monday + timedelta(hours=3))
    past = book(session, sylvie, cast, at_monday - timedelta(days=3))
    reminder = reminder_of(session, soon)
    assert reminder is not None
    assert reminder.next_attempt_at == at_monday
    assert reminder_of(session, past) is None


def test_the_reminder_sent_says_when_and_nothing_medical(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    cast: Cast,
    sylvie: Actor,
    frozen: Callable[[datetime], None],
) -> None:
    frozen(MONDAY)
    row = service.create_appointment(
        session,
        sylvie,
        patient_id=cast.patients["sylvie"],
        draft=draft(
            MONDAY + timedelta(days=2),  # Wednesday 10:00 in Paris
            practitioner_name="Dr Psy",
            location="Centre d'addictologie",
            description="Suivi sevrage",
        ),
    )
    session.commit()
    sender = FakeSender()
    frozen(MONDAY + timedelta(hours=23))
    dispatch_due(factory, sender, settings)
    ours = "le 09/12/2026 à 10h00"  # (the demo's own reminders went out meanwhile)
    assert not [m for m in sender.messages if ours in m.body]  # not due yet
    frozen(MONDAY + timedelta(days=1, minutes=1))
    dispatch_due(factory, sender, settings)
    sent = [m for m in sender.messages if ours in m.body]
    assert len(sent) == 1
    assert sent[0].to == "sylvie.martin@example.org"
    assert sent[0].subject == "Rappel de rendez-vous"
    for secret in ("Psy", "addictologie", "sevrage"):
        assert secret not in sent[0].body
    reminder = reminder_of(session, row)
    assert reminder is not None
    assert reminder.status == OutboxStatus.SENT.value


def test_rescheduling_moves_the_pending_reminder_and_cancelling_withdraws_it(
    session: Session, cast: Cast, sylvie: Actor, at_monday: datetime
) -> None:
    row = book(session, sylvie, cast, at_monday + timedelta(days=3))
    first = reminder_of(session, row)
    assert first is not None
    later = at_monday + timedelta(days=10)
    service.update_appointment(session, sylvie, appointment_id=row.id, draft=draft(later))
    moved = reminder_of(session, row)
    assert moved is not None
    assert moved.id == first.id
    assert moved.next_attempt_at == later - timedelta(hours=24)
    assert row.version == 2
    service.cancel_appointment(session, sylvie, appointment_id=row.id)
    session.refresh(moved)
    assert moved.status == OutboxStatus.CANCELLED.value
    assert row.status == "cancelled"
    assert row.cancelled_at == at_monday
    assert row.version == 3
    assert session.get(Appointment, row.id) is not None  # cancelled, not deleted


def test_rescheduling_after_the_reminder_went_queues_a_new_one(
    session: Session, cast: Cast, sylvie: Actor, at_monday: datetime
) -> None:
    row = book(session, sylvie, cast, at_monday + timedelta(days=3))
    first = reminder_of(session, row)
    assert first is not None
    first.status = OutboxStatus.SENT.value  # as the worker leaves it
    session.flush()
    service.update_appointment(
        session, sylvie, appointment_id=row.id, draft=draft(at_monday + timedelta(days=6))
    )
    second = reminder_of(session, row)
    assert second is not None
    assert second.id != first.id
    assert second.status == OutboxStatus.PENDING.value


def test_a_cancelled_appointment_cannot_be_changed_again(
    session: Session, cast: Cast, sylvie: Actor, at_monday: datetime
) -> None:
    row = book(session, sylvie, cast, at_monday + timedelta(days=3))
    service.cancel_appointment(session, sylvie, appointment_id=row.id)
    with pytest.raises(Conflict):
        service.update_appointment(
            session, sylvie, appointment_id=row.id, draft=draft(at_monday + timedelta(days=4))
        )


def test_the_professionals_software_books_with_the_professional_and_the_patient_sees_it(
    session: Session, cast: Cast, sylvie: Actor, software: Callable[..., Actor]
) -> None:
    durand = software("durand")
    row = service.create_appointment(
        session,
        durand,
        patient_id=cast.patients["sylvie"],
        draft=draft(datetime.now().astimezone() + timedelta(days=4)),
    )
    assert (row.source_kind, row.practitioner_ref, row.source_name) == (
        "software",
        durand.ref,
        "Dr Paul Durand",
    )
    assert row.structure_name
    assert service.read_appointment(session, sylvie, appointment_id=row.id).id == row.id
    view = service.agenda_of(session, sylvie, cast.patients["sylvie"])
    mine = next(i for i in view.upcoming if i.appointment.id == row.id)
    assert mine.cancellable is False  # booked by the professional: theirs to change
    with pytest.raises(AccessDenied) as refused:
        service.cancel_appointment(session, sylvie, appointment_id=row.id)
    assert isinstance(refused.value.public, Forbidden)
    assert refused.value.entry["detail"] == "appointment_not_theirs"


def test_a_professional_sees_only_the_appointments_booked_by_or_with_them(
    session: Session, cast: Cast, sylvie: Actor, software: Callable[..., Actor]
) -> None:
    sylvie_id = cast.patients["sylvie"]
    own = service.create_appointment(
        session,
        sylvie,
        patient_id=sylvie_id,
        draft=draft(datetime.now().astimezone() + timedelta(days=4), practitioner_name="Dr Psy"),
    )
    durand, petit = software("durand"), software("petit")
    found = service.search_appointments(
        session, durand, patient_id=sylvie_id, query=service.AppointmentQuery()
    )
    assert found.appointments
    assert all(a.practitioner_ref == durand.ref for a in found.appointments)
    assert own.id not in {a.id for a in found.appointments}
    with pytest.raises(AccessDenied) as refused:
        service.read_appointment(session, durand, appointment_id=own.id)
    assert isinstance(refused.value.public, NotFound)
    # Thomas Petit is authorized on the record, but none of its appointments is with him.
    assert (
        service.search_appointments(
            session, petit, patient_id=sylvie_id, query=service.AppointmentQuery()
        ).appointments
        == []
    )


def test_the_professional_changes_and_cancels_their_own_booking(
    session: Session, cast: Cast, software: Callable[..., Actor]
) -> None:
    durand = software("durand")
    start = datetime.now().astimezone() + timedelta(days=4)
    row = service.create_appointment(
        session, durand, patient_id=cast.patients["sylvie"], draft=draft(start)
    )
    service.update_appointment(
        session, durand, appointment_id=row.id, draft=draft(start, status="cancelled")
    )
    assert row.status == "cancelled"
    reminder = reminder_of(session, row)
    assert reminder is not None
    assert reminder.status == OutboxStatus.CANCELLED.value


def test_a_stale_version_is_refused(
    session: Session, cast: Cast, sylvie: Actor, at_monday: datetime
) -> None:
    row = service.create_appointment(
        session, sylvie, patient_id=cast.patients["sylvie"], draft=draft(at_monday + timedelta(1))
    )
    with pytest.raises(Conflict):
        service.update_appointment(
            session,
            sylvie,
            appointment_id=row.id,
            draft=draft(at_monday + timedelta(2)),
            expected_version=7,
        )


def _refusal(
    factory: sessionmaker[Session], call: Callable[[Session], object]
) -> tuple[Exception, AuditEntry | None]:
    """Run ``call`` behind the real transaction boundary; the refusal and its audit row."""
    with pytest.raises(CarnetError) as raised, audited_transaction(factory) as tx:
        call(tx)
    with factory() as session:
        last = (
            session.execute(
                select(AuditEntry).order_by(AuditEntry.recorded_at.desc(), AuditEntry.seq.desc())
            )
            .scalars()
            .first()
        )
    return raised.value, last


@pytest.mark.parametrize(
    ("who", "error", "reason"),
    [
        ("noir", Forbidden, "blocked_by_patient"),  # blocked by Sylvie
        ("blanc", NotFound, "excluded_actor"),  # occupational medicine: excluded
    ],
)
def test_blocked_and_excluded_professionals_cannot_book_and_the_refusal_is_audited(
    factory: sessionmaker[Session],
    cast: Cast,
    software: Callable[..., Actor],
    who: str,
    error: type[Exception],
    reason: str,
) -> None:
    actor = software(who)
    sylvie_id = cast.patients["sylvie"]
    refused, audited = _refusal(
        factory,
        lambda tx: service.create_appointment(
            tx, actor, patient_id=sylvie_id, draft=draft(datetime.now().astimezone())
        ),
    )
    assert isinstance(refused, error)
    assert audited is not None
    assert (audited.outcome, audited.detail, audited.actor_ref) == ("denied", reason, actor.ref)
    with factory() as session:
        assert (
            session.execute(select(Appointment).where(Appointment.source_ref == actor.ref)).first()
            is None
        )


def test_another_patients_appointment_is_not_found_and_the_attempt_audited(
    factory: sessionmaker[Session],
    session: Session,
    cast: Cast,
    sylvie: Actor,
    software: Callable[..., Actor],
) -> None:
    jean = service.create_appointment(
        session,
        software("durand"),
        patient_id=cast.patients["jean"],
        draft=draft(datetime.now().astimezone() + timedelta(days=1)),
    )
    session.commit()
    refused, audited = _refusal(
        factory, lambda tx: service.read_appointment(tx, sylvie, appointment_id=jean.id)
    )
    assert isinstance(refused, NotFound)
    assert audited is not None
    assert audited.outcome == "denied"
    assert audited.actor_ref == sylvie.ref
    refused, _ = _refusal(
        factory, lambda tx: service.cancel_appointment(tx, sylvie, appointment_id=jean.id)
    )
    assert isinstance(refused, NotFound)


def test_a_legal_representative_manages_the_minors_agenda(
    session: Session, cast: Cast, sylvie: Actor, at_monday: datetime
) -> None:
    row = service.create_appointment(
        session, sylvie, patient_id=cast.patients["lea"], draft=draft(at_monday + timedelta(5))
    )
    assert row.source_kind == "representative"
    view = service.agenda_of(session, sylvie, cast.patients["lea"])
    assert any(i.appointment.id == row.id and i.cancellable for i in view.upcoming)
    service.cancel_appointment(session, sylvie, appointment_id=row.id)
    assert row.status == "cancelled"
    assert trail(session, cast.patients["lea"])[-1].actor_kind == "representative"


def test_an_app_acts_within_its_scopes(session: Session, cast: Cast, at_monday: datetime) -> None:
    reader = app_actor(cast, "launch/patient patient/Appointment.rs")
    sylvie_id = cast.patients["sylvie"]
    found = service.search_appointments(
        session, reader, patient_id=sylvie_id, query=service.AppointmentQuery()
    )
    assert found.appointments  # the demo's
    with pytest.raises(AccessDenied) as refused:
        service.create_appointment(
            session, reader, patient_id=sylvie_id, draft=draft(at_monday + timedelta(2))
        )
    assert refused.value.entry["detail"] == "insufficient_scope"
    creator = app_actor(cast, "patient/Appointment.crs")
    row = service.create_appointment(
        session, creator, patient_id=sylvie_id, draft=draft(at_monday + timedelta(2))
    )
    assert row.source_kind == "app"
    with pytest.raises(AccessDenied) as refused:  # no "u": cannot change
        service.cancel_appointment(session, creator, appointment_id=row.id)
    assert refused.value.entry["detail"] == "insufficient_scope"
    writer = app_actor(cast, "patient/Appointment.cruds")
    assert service.cancel_appointment(session, writer, appointment_id=row.id).status == "cancelled"
    other = app_actor(cast, "patient/Appointment.cruds", who="jean")
    with pytest.raises(AccessDenied) as refused:
        service.read_appointment(session, other, appointment_id=row.id)
    assert isinstance(refused.value.public, NotFound)


def test_upcoming_gives_the_next_ones_and_those_added_since_the_last_visit(
    session: Session, cast: Cast, sylvie: Actor, frozen: Callable[[datetime], None]
) -> None:
    sylvie_id = cast.patients["sylvie"]
    now = datetime.now().astimezone()
    before = service.upcoming(session, sylvie, sylvie_id, since=now, limit=10)
    assert before.added_since == []
    assert before.next
    assert all(a.status != "cancelled" for a in before.next)
    assert [a.start for a in before.next] == sorted(a.start for a in before.next)
    frozen(now + timedelta(minutes=5))
    row = service.create_appointment(
        session, sylvie, patient_id=sylvie_id, draft=draft(now + timedelta(days=1))
    )
    after = service.upcoming(session, sylvie, sylvie_id, since=now, limit=10)
    assert [a.id for a in after.added_since] == [row.id]
    assert after.next[0].id == row.id  # the soonest


def test_the_home_fragment_shows_the_next_appointments_and_the_new_ones(
    session: Session, cast: Cast, sylvie: Actor
) -> None:
    from carnet.agenda.pages import when
    from carnet.web.i18n import translator
    from carnet.web.portal import templates

    now = datetime.now().astimezone()
    sylvie_id = cast.patients["sylvie"]
    data = service.upcoming(session, sylvie, sylvie_id, since=now - timedelta(days=2, hours=1))
    html = templates.get_template("agenda_home.html").render(
        upcoming=data, when=when, lang="fr", t=translator("fr"), link=lambda path: path
    )
    assert "Prochains rendez-vous" in html
    assert "Dr Sophie Vidal, ophtalmologue" in html  # her next ones
    assert "Nouveaux rendez-vous (2)" in html  # she added two the day before yesterday
    assert 'href="/agenda"' in html
