"""Demo data for the agenda: Sylvie's next consultation booked by Dr Durand's software, one she
added herself, one she cancelled, a past one; the vaccination reminder she added for Léa.

The service queues a reminder for each upcoming appointment; the demo then withdraws them
(``_outbox_starts_empty``) because the notification tests expect the demo's outbox to be empty
(see docs/agenda.md, "Known limits"). Any change made to these appointments afterwards (portal
or API) queues a fresh reminder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor
from carnet.accounts.models import Account
from carnet.accounts.service import actor_for_account, professional_actor
from carnet.agenda import service
from carnet.agenda.fhir import AppointmentDraft
from carnet.agenda.models import LOCAL_TZ, Appointment
from carnet.notifications.models import OutboxMessage
from carnet.professionals.models import Structure
from carnet.systems.models import System


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    previous = clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(previous)


def _local(now: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    """A local time ``days`` from ``now``'s day (France's legal time), in UTC."""
    day = now.astimezone(LOCAL_TZ).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), LOCAL_TZ).astimezone(UTC)


def _draft(start: datetime, minutes: int = 30, **texts: Any) -> AppointmentDraft:
    return AppointmentDraft(
        status="booked", start=start, end=start + timedelta(minutes=minutes), **texts
    )


def _software_of(session: Session, professional: Any) -> Actor:
    """Dr X's practice software, acting for them through the API (as its tokens do)."""
    structure = session.get(Structure, professional.structure_id)
    client_id = session.execute(
        select(System.client_id).where(System.structure_id == professional.structure_id)
    ).scalar_one_or_none()
    return professional_actor(
        professional,
        structure,
        client_id=client_id or "demo-software",
        scopes=frozenset({"user/*.cruds"}),
    )


def load(session: Session, people: dict[str, Any], pros: dict[str, Any]) -> None:
    """Adds the personas' agenda."""
    account = session.execute(
        select(Account).where(Account.patient_id == people["sylvie"].id)
    ).scalar_one()
    sylvie = actor_for_account(session, account)
    durand = _software_of(session, pros["paul.durand"])
    sylvie_id, lea_id = people["sylvie"].id, people["lea"].id
    cabinet = "12 place des Carmes, Toulouse"
    now = clock.now()  # the demo is relative to the day it is loaded
    queued_before = set(session.execute(select(OutboxMessage.id)).scalars())

    # A past consultation, booked three weeks ahead then marked as done by the software.
    past = _local(now, -40, 10)
    with _at(past - timedelta(days=21)):
        done = service.create_appointment(
            session,
            durand,
            patient_id=sylvie_id,
            draft=_draft(past, description="Consultation de suivi", location=cabinet),
        )
    with _at(past + timedelta(hours=1)):
        service.update_appointment(
            session,
            durand,
            appointment_id=done.id,
            draft=AppointmentDraft(
                status="fulfilled",
                start=done.start,
                end=done.end,
                description=done.description,
                location=done.location,
            ),
        )

    # The next consultation, booked by Dr Durand's software a few days ago.
    with _at(now - timedelta(days=3)):
        service.create_appointment(
            session,
            durand,
            patient_id=sylvie_id,
            draft=_draft(
                _local(now, 5, 9, 30), description="Consultation de suivi", location=cabinet
            ),
        )
    # One Sylvie added herself, and one she cancelled.
    with _at(now - timedelta(days=2)):
        service.create_appointment(
            session,
            sylvie,
            patient_id=sylvie_id,
            draft=_draft(
                _local(now, 12, 14, 15),
                45,
                practitioner_name="Dr Sophie Vidal, ophtalmologue",
                location="Clinique Pasteur, Toulouse",
                description="Apporter mes lunettes",
            ),
        )
        dentist = service.create_appointment(
            session,
            sylvie,
            patient_id=sylvie_id,
            draft=_draft(
                _local(now, 8, 17, 0),
                practitioner_name="Dr Claire Roux",
                location="Cabinet dentaire",
            ),
        )
    with _at(now - timedelta(days=1)):
        service.cancel_appointment(session, sylvie, appointment_id=dentist.id)
    # For Léa, as her legal representative.
    with _at(now - timedelta(days=1)):
        service.create_appointment(
            session,
            sylvie,
            patient_id=lea_id,
            draft=_draft(
                _local(now, 20, 16, 30),
                practitioner_name="Dr Paul Durand",
                location=cabinet,
                description="Rappel de vaccin",
            ),
        )
    _outbox_starts_empty(session, queued_before)


def _outbox_starts_empty(session: Session, queued_before: set[Any]) -> None:
    """Withdraw the reminders the demo's appointments queued (see the module's docstring)."""
    session.flush()
    ours = [
        i for i in session.execute(select(OutboxMessage.id)).scalars() if i not in queued_before
    ]
    if ours:
        for row in session.execute(
            select(Appointment).where(Appointment.reminder_id.in_(ours))
        ).scalars():
            row.reminder_id = None
        session.flush()
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ours)))
    session.flush()
