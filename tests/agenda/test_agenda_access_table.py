"""The agenda's access rule (carnet.access.agenda) as a table: who sees and who changes which
appointment once the record is open to them; and the SQL form of the rule agrees with the
pure one on the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.access import Actor, ActorKind, RecordFacts
from carnet.access.agenda import (
    AppointmentFacts,
    appointment_visible,
    facts_of,
    may_change,
    update_scope_ok,
    visibility_clauses,
)
from carnet.agenda import service
from carnet.agenda.models import Appointment
from tests.agenda.conftest import draft
from tests.conftest import Cast

DURAND = "810000000017"
PETIT = "810000000058"

HOLDER = RecordFacts(exists=True, is_holder=True)
REPRESENTATIVE = RecordFacts(exists=True, is_representative=True)
STRANGER = RecordFacts(exists=True)
AUTHORIZED = RecordFacts(exists=True, authorization="active")
CLOSED = RecordFacts(exists=True, is_holder=True, closed=True)

PATIENT = Actor(kind=ActorKind.PATIENT, ref="account:sylvie")
APP = Actor(kind=ActorKind.APP, ref="client:pasfit", client_id="pasfit")
DR_DURAND = Actor(kind=ActorKind.PROFESSIONAL, ref=DURAND)
MR_PETIT = Actor(kind=ActorKind.PROFESSIONAL, ref=PETIT)
OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="ops")

BY_PATIENT = AppointmentFacts("patient", "account:sylvie", None)
BY_REPRESENTATIVE = AppointmentFacts("representative", "account:sylvie", None)
BY_APP = AppointmentFacts("app", "client:pasfit", None)
BY_DURAND = AppointmentFacts("software", DURAND, DURAND)
WITH_DURAND = AppointmentFacts("patient", "account:sylvie", DURAND)
SECRET = AppointmentFacts("software", DURAND, DURAND, hidden_from_representatives=True)

TABLE = [
    # actor, record facts, appointment, visible, may change
    (PATIENT, HOLDER, BY_PATIENT, True, True),
    (PATIENT, HOLDER, BY_APP, True, True),
    (PATIENT, HOLDER, BY_DURAND, True, False),  # booked by the doctor: theirs to change
    (PATIENT, REPRESENTATIVE, BY_REPRESENTATIVE, True, True),
    (PATIENT, REPRESENTATIVE, BY_DURAND, True, False),
    (PATIENT, STRANGER, BY_PATIENT, False, False),  # not their record
    (APP, HOLDER, BY_PATIENT, True, True),
    (APP, STRANGER, BY_APP, False, False),
    (DR_DURAND, AUTHORIZED, BY_DURAND, True, True),
    (DR_DURAND, AUTHORIZED, WITH_DURAND, True, True),  # the patient noted it is with him
    (DR_DURAND, AUTHORIZED, BY_PATIENT, False, False),  # her other appointments are hers
    (MR_PETIT, AUTHORIZED, BY_DURAND, False, False),
    (OPERATOR, HOLDER, BY_PATIENT, False, False),
    (PATIENT, CLOSED, BY_PATIENT, True, False),  # a closed record is read-only
    # a minor's secret care: hidden from the parents, not from the minor nor the doctor
    (PATIENT, REPRESENTATIVE, SECRET, False, False),
    (APP, REPRESENTATIVE, SECRET, False, False),
    (PATIENT, HOLDER, SECRET, True, False),
    (DR_DURAND, AUTHORIZED, SECRET, True, True),
]


@pytest.mark.parametrize(("actor", "record", "appointment", "visible", "change"), TABLE)
def test_the_agenda_rule_table(
    actor: Actor,
    record: RecordFacts,
    appointment: AppointmentFacts,
    visible: bool,
    change: bool,
) -> None:
    assert appointment_visible(actor, record, appointment) is visible
    assert may_change(actor, record, appointment) is change


@pytest.mark.parametrize(
    ("client", "scopes", "allowed"),
    [
        (None, "", True),  # a portal session has no client and no scopes
        ("app", "patient/Appointment.rs", False),
        ("app", "patient/Appointment.cruds", True),
        ("app", "patient/Appointment.write", True),  # SMART v1
        ("app", "patient/*.u", True),
        ("software", "user/Observation.cruds", False),
    ],
)
def test_changing_needs_the_update_scope(client: str | None, scopes: str, allowed: bool) -> None:
    actor = Actor(kind=ActorKind.APP, ref="x", client_id=client, scopes=frozenset(scopes.split()))
    assert update_scope_ok(actor) is allowed


ACTORS = (DR_DURAND, MR_PETIT, PATIENT, OPERATOR)


def test_the_sql_rule_agrees_with_the_pure_rule(
    session: Session, cast: Cast, sylvie: Actor, software: Callable[..., Actor]
) -> None:
    sylvie_id = cast.patients["sylvie"]
    start = datetime.now(UTC) + timedelta(days=2)
    service.create_appointment(session, sylvie, patient_id=sylvie_id, draft=draft(start))
    service.create_appointment(
        session, software("durand"), patient_id=sylvie_id, draft=draft(start)
    )
    rows = list(
        session.execute(select(Appointment).where(Appointment.patient_id == sylvie_id)).scalars()
    )
    assert len(rows) >= 2
    secret = service.create_appointment(
        session,
        software("durand"),
        patient_id=sylvie_id,
        draft=replace(draft(start), hidden_from_representatives=True),
    )
    rows.append(secret)
    cases = [(a, HOLDER if a.kind is ActorKind.PATIENT else AUTHORIZED) for a in ACTORS]
    for actor, record in [*cases, (PATIENT, REPRESENTATIVE)]:
        by_sql = set(
            session.execute(
                select(Appointment.id).where(
                    Appointment.patient_id == sylvie_id, *visibility_clauses(actor, record)
                )
            ).scalars()
        )
        by_rule = {r.id for r in rows if appointment_visible(actor, record, facts_of(r))}
        assert by_sql == by_rule, (actor.ref, record)
        if actor is PATIENT:  # the minor sees her secret appointment, her parent does not
            assert (secret.id in by_sql) is (record is HOLDER)
