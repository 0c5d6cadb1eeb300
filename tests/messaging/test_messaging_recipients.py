"""The professional's list of patients to write to: decided by the messaging rule in
``access`` (authorized, not blocked, record open, normal care, not excluded), each name shown
traced on the patient's trail, and as cheap for many patients as for one — and so is the
professional's inbox of conversations."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from carnet.access import Actor, ActorKind, Mode
from carnet.audit import service as audit
from carnet.audit.models import AuditEntry
from carnet.audit.words import describe
from carnet.authorizations import service as authorizations
from carnet.messaging import service
from carnet.notifications.models import OutboxMessage
from carnet.patients.service import register_patient
from carnet.records import service as records
from carnet.records.models import Channel
from tests.conftest import Cast, audit_rows, valid_nir
from tests.messaging.conftest import rows_about

Make = Callable[..., Actor]
_orders = itertools.count(700)


def names(session: Session, actor: Actor) -> set[str]:
    return {p.display_name for p in service.my_patients(session, actor)[0]}


def list_rows(session: Session, patient_id: object, actor: Actor) -> list[AuditEntry]:
    return audit_rows(
        session,
        AuditEntry.patient_id == patient_id,
        AuditEntry.action == "patient_list.messaging",
        AuditEntry.actor_ref == actor.ref,
    )


def test_each_patient_named_in_the_list_is_traced_on_their_trail(
    session: Session, cast: Cast, pro: Make
) -> None:
    durand = pro("durand")

    listed = service.my_patients(session, durand)[0]

    assert {p.id for p in listed} == {cast.patients["sylvie"], cast.patients["lea"]}
    for who in ("sylvie", "lea"):
        rows = list_rows(session, cast.patients[who], durand)
        assert [(r.outcome, r.resource_type, r.resource_id) for r in rows] == [
            ("allowed", "Patient", str(cast.patients[who]))
        ]
        assert list(audit.verify(session, audit.chain_of(cast.patients[who]))) == []
    row = list_rows(session, cast.patients["sylvie"], durand)[0]
    assert describe(row, "fr").startswith("Dr Paul Durand")
    assert describe(row, "fr").endswith("a vu votre nom dans la liste des patients à qui écrire.")
    assert describe(row, "en").endswith("saw your name in their list of patients to write to.")


def test_a_closed_record_leaves_the_list(
    session: Session, cast: Cast, pro: Make, holder: Callable[[str], Actor]
) -> None:
    records.close_record(session, holder("sylvie"), cast.patients["sylvie"])

    assert names(session, pro("durand")) == {"Léa Martin"}
    assert list_rows(session, cast.patients["sylvie"], pro("durand")) == []


def test_an_excluded_actor_lists_nobody_even_with_an_authorization(
    session: Session, cast: Cast, pro: Make, holder: Callable[[str], Actor]
) -> None:
    blanc = pro("blanc")  # occupational medicine
    authorizations.grant(session, holder("sylvie"), cast.patients["sylvie"], blanc.professional_id)

    assert service.my_patients(session, blanc)[0] == []
    assert list_rows(session, cast.patients["sylvie"], blanc) == []


def test_nobody_is_listed_in_emergency_or_regulator_mode(session: Session, pro: Make) -> None:
    assert (
        service.my_patients(session, pro("durand", mode=Mode.EMERGENCY, reason="malaise"))[0] == []
    )
    assert service.my_patients(session, pro("lefevre", mode=Mode.REGULATOR))[0] == []


def test_blocked_or_revoked_patients_are_not_listed(
    session: Session, cast: Cast, pro: Make, holder: Callable[[str], Actor]
) -> None:
    petit, roux = pro("petit"), pro("roux")
    assert names(session, petit) == {"Sylvie Martin"}
    authorizations.block(session, holder("sylvie"), cast.patients["sylvie"], petit.professional_id)
    authorizations.revoke(session, holder("sylvie"), cast.patients["sylvie"], roux.professional_id)

    assert service.my_patients(session, petit)[0] == []
    assert service.my_patients(session, roux)[0] == []
    assert service.my_patients(session, pro("noir"))[0] == []  # blocked by Sylvie from the start


def _authorizing_patients(
    session: Session, operator: Actor, professional_id: Any, count: int
) -> list[Any]:
    made = []
    for _ in range(count):
        born = date(1980, 5, 17)
        patient = register_patient(
            session,
            operator,
            nir=valid_nir(f"1{born:%y%m}31555{next(_orders):03d}"),
            birth_name="PATIENT",
            birth_given_names=["CAMILLE"],
            birth_date=born,
            sex="M",
            birth_place_code="31555",
        )
        records.create_record(session, operator, patient.id, channel=Channel.INSURER_COUNTER)
        himself = Actor(kind=ActorKind.PATIENT, ref=f"patient:{patient.id}", patient_id=patient.id)
        authorizations.grant(session, himself, patient.id, professional_id)
        made.append(patient.id)
    session.flush()
    return made


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    connection = session.connection()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", count)


def test_the_list_costs_the_same_few_statements_for_many_patients(
    session: Session, pro: Make, operator: Actor
) -> None:
    durand = pro("durand")
    service.my_patients(session, durand)
    audit.write_queued(session)  # the chains' heads exist from here on
    with statements(session) as few:
        assert len(service.my_patients(session, durand)[0]) == 2
        audit.write_queued(session)  # its audit rows count (written at commit)

    _authorizing_patients(session, operator, durand.professional_id, 8)
    service.my_patients(session, durand)
    audit.write_queued(session)
    with statements(session) as many:
        assert len(service.my_patients(session, durand)[0]) == 10
        audit.write_queued(session)

    assert len(many) == len(few) <= 5


def test_the_inbox_costs_the_same_few_statements_for_many_patients_each_traced(
    session: Session, cast: Cast, pro: Make, operator: Actor
) -> None:
    durand = pro("durand")

    def write_to(patient_id: Any) -> None:
        service.start_thread(session, durand, patient_id=patient_id, subject="S", body="B")

    def listed(patient_id: Any) -> list[AuditEntry]:
        return audit_rows(
            session,
            AuditEntry.patient_id == patient_id,
            AuditEntry.action == "communication.list",
            AuditEntry.actor_ref == durand.ref,
        )

    write_to(cast.patients["sylvie"])
    service.list_my_threads(session, durand)
    audit.write_queued(session)  # the chains' heads exist from here on
    with statements(session) as few:
        assert cast.patients["sylvie"] in {
            t.patient_id for t in service.list_my_threads(session, durand)[0]
        }
        audit.write_queued(session)  # its audit rows count (written at commit)

    others = _authorizing_patients(session, operator, durand.professional_id, 8)
    for patient_id in others:
        write_to(patient_id)
    service.list_my_threads(session, durand)
    audit.write_queued(session)
    with statements(session) as many:
        inbox = service.list_my_threads(session, durand)[0]
        audit.write_queued(session)

    assert set(others) <= {t.patient_id for t in inbox}
    assert len(many) == len(few) <= 9
    for patient_id in others:
        rows = listed(patient_id)
        assert len(rows) == 2  # one row per listing that named the record
        assert {(r.outcome, r.resource_type) for r in rows} == {("allowed", "Communication")}
        assert list(audit.verify(session, audit.chain_of(patient_id))) == []
        # the first listing was his first look at their messages: each patient told once
        told = session.execute(
            select(OutboxMessage.template).where(OutboxMessage.patient_id == patient_id)
        ).scalars()
        assert list(told).count("first_access") == 1


def test_the_inbox_shows_a_page_of_conversations_and_traces_only_the_records_on_it(
    session: Session, pro: Make, operator: Actor, frozen: Callable[[datetime], None]
) -> None:
    # A professional with years of conversations: a page at a time, the latest first, and
    # only the records of the page read and traced.
    durand = pro("durand")
    patients = _authorizing_patients(session, operator, durand.professional_id, 5)
    start = datetime.now(UTC) + timedelta(days=1)  # after the demo's conversations
    for minutes, patient_id in enumerate(patients):  # the last one written to is the latest
        frozen(start + timedelta(minutes=minutes))
        service.start_thread(session, durand, patient_id=patient_id, subject="S", body="B")
    audit.write_queued(session)

    def listed(patient_id: Any) -> int:
        return len(rows_about(session, patient_id, "communication.list"))

    first, older = service.list_my_threads(session, durand, limit=2)
    assert [t.patient_id for t in first] == [patients[4], patients[3]]
    assert older is not None
    assert older.id == first[-1].id
    assert [listed(p) for p in patients] == [0, 0, 0, 1, 1]

    second, older = service.list_my_threads(session, durand, before=older, limit=2)
    assert [t.patient_id for t in second] == [patients[2], patients[1]]
    third, older = service.list_my_threads(session, durand, before=older, limit=2)
    assert third[0].patient_id == patients[0]  # then the demo's, older


def test_the_patients_to_write_to_are_the_latest_authorizations_and_only_they_are_traced(
    session: Session, pro: Make, operator: Actor, frozen: Callable[[datetime], None]
) -> None:
    durand = pro("durand")
    tomorrow = datetime.now(UTC) + timedelta(days=1)  # after the demo's authorizations
    frozen(tomorrow)
    older = _authorizing_patients(session, operator, durand.professional_id, 3)
    frozen(tomorrow + timedelta(hours=1))
    latest = _authorizing_patients(session, operator, durand.professional_id, 2)

    shown, more = service.my_patients(session, durand, limit=2)

    assert {p.id for p in shown} == set(latest)
    assert more
    named = [p for p in [*older, *latest] if rows_about(session, p, "patient_list.messaging")]
    assert named == latest
    assert service.my_patients(session, durand, limit=100)[1] is False


def test_the_inbox_pages_hold_through_ties_and_conversations_written_to_meanwhile(
    session: Session, pro: Make, operator: Actor, frozen: Callable[[datetime], None]
) -> None:
    durand = pro("durand")
    patients = _authorizing_patients(session, operator, durand.professional_id, 4)
    same_minute = datetime.now(UTC) + timedelta(days=1)  # after the demo's conversations
    frozen(same_minute)  # four conversations written at the very same time: ties on the time
    threads = [
        service.start_thread(session, durand, patient_id=p, subject="S", body="B").thread_id
        for p in patients
    ]
    audit.write_queued(session)

    first, older = service.list_my_threads(session, durand, limit=2)
    assert older is not None
    frozen(same_minute + timedelta(minutes=1))  # the first page's conversations move on
    service.reply(session, durand, thread_id=first[0].id, body="Et aussi…")
    second, _ = service.list_my_threads(session, durand, before=older, limit=2)

    assert [t.id for t in first] == sorted(threads, key=lambda t: t.hex)[:2]  # ties: by id
    assert [t.id for t in second] == sorted(threads, key=lambda t: t.hex)[2:]  # no repeat
    link = service.Position.parse(older.token())
    assert link == older  # what the link carries is the position itself
    assert service.Position.parse("not-a-position") is None
