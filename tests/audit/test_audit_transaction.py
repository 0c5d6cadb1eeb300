"""The same-transaction rule (architecture.md §5): an access and its audit row commit together
or not at all, and a refusal is recorded even though the request's own work is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Action, Actor
from carnet.access.gate import authorize, deny_unknown
from carnet.audit import service as audit
from carnet.audit.models import SYSTEM_CHAIN, AuditEntry, AuditHead, NotifiedAccess
from carnet.audit.service import GENESIS
from carnet.audit.transaction import audited_transaction
from carnet.audit.words import describe
from carnet.errors import AccessDenied, Conflict, Forbidden, NotFound
from carnet.notifications.models import OutboxMessage
from carnet.patients.service import register_patient
from carnet.records.models import Record
from tests.conftest import Cast


class AuditStoreDown(RuntimeError):
    pass


def appender(session: Session, patient_id: uuid.UUID) -> Callable[[str], None]:
    """Record a row on the patient's chain, told apart by its detail."""

    def append(detail: str) -> None:
        audit.append(
            session, patient_id=patient_id, action="read", actor_kind="patient", detail=detail
        )

    return append


def entries(session: Session, patient_id: uuid.UUID) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.execute(
            select(AuditEntry).where(AuditEntry.chain == str(patient_id)).order_by(AuditEntry.seq)
        ).scalars()
    )


def regulator_opposed(session: Session, patient_id: uuid.UUID) -> bool:
    session.expire_all()
    record = session.get(Record, patient_id)
    assert record is not None
    return record.regulator_access_opposed


def outbox_count(session: Session, patient_id: uuid.UUID) -> int:
    return session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.patient_id == patient_id)
    ).scalar_one()


Step = Callable[[Session], object]


def run_request(factory: sessionmaker[Session], *steps: Step) -> None:
    """One request through the transaction boundary every surface uses."""
    with audited_transaction(factory) as request:
        for step in steps:
            step(request)


def change_the_record(patient_id: uuid.UUID) -> Step:
    """Stands for whatever the request wrote before (or after) passing the gate."""

    def change(session: Session) -> None:
        record = session.get(Record, patient_id)
        assert record is not None
        record.regulator_access_opposed = True
        session.flush()

    return change


def read(actor: Actor, patient_id: uuid.UUID) -> Step:
    return lambda session: authorize(
        session, actor, patient_id, Action.READ, resource_type="Patient"
    )


def crash(_: Session) -> None:
    raise ZeroDivisionError


@pytest.mark.parametrize(
    ("name", "public_error", "detail"),
    [
        ("noir", Forbidden, "blocked_by_patient"),
        ("blanc", NotFound, "excluded_actor"),
    ],
)
def test_a_refused_request_is_rolled_back_but_its_denial_is_committed_on_the_patients_chain(
    session: Session,
    factory: sessionmaker[Session],
    cast: Cast,
    pro: Callable[..., Actor],
    name: str,
    public_error: type[Exception],
    detail: str,
) -> None:
    sylvie = cast.patients["sylvie"]
    actor = pro(name)
    before = entries(session, sylvie)

    with pytest.raises(public_error) as raised:
        run_request(factory, change_the_record(sylvie), read(actor, sylvie))

    assert type(raised.value) is public_error  # the public error, not the internal AccessDenied
    assert not regulator_opposed(session, sylvie)
    after = entries(session, sylvie)
    assert len(after) == len(before) + 1
    denial = after[-1]
    assert (denial.outcome, denial.action, denial.detail) == ("denied", "read", detail)
    assert (denial.actor_ref, denial.seq) == (actor.ref, before[-1].seq + 1)
    assert list(audit.verify(session, str(sylvie))) == []


def test_a_refusal_leaves_no_notification_behind(
    session: Session, factory: sessionmaker[Session], cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    with pytest.raises(Forbidden):
        run_request(factory, read(pro("noir"), sylvie))

    assert outbox_count(session, sylvie) == 0


def test_a_refusal_about_an_unknown_patient_is_recorded_on_the_system_chain(
    session: Session, factory: sessionmaker[Session], pro: Callable[..., Actor]
) -> None:
    head = session.get(AuditHead, "system")
    seq = head.seq if head else 0

    with pytest.raises(NotFound), audited_transaction(factory):
        raise deny_unknown(pro("durand"), action=Action.SEARCH, resource_type="Patient")

    session.expire_all()
    recorded = session.execute(
        select(AuditEntry).where(AuditEntry.chain == "system", AuditEntry.seq > seq)
    ).scalars()
    assert [(e.outcome, e.detail, e.patient_id) for e in recorded] == [
        ("denied", "unknown_patient", None)
    ]


def test_an_allowed_access_commits_together_with_its_audit_row(
    session: Session, factory: sessionmaker[Session], cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")
    before = entries(session, sylvie)

    run_request(factory, change_the_record(sylvie), read(durand, sylvie))

    assert regulator_opposed(session, sylvie)
    after = entries(session, sylvie)
    assert len(after) == len(before) + 1
    assert (after[-1].outcome, after[-1].actor_ref) == ("allowed", durand.ref)
    assert list(audit.verify(session, str(sylvie))) == []


def test_a_request_failing_after_the_access_rolls_back_the_access_and_its_audit_row(
    session: Session, factory: sessionmaker[Session], cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    before = entries(session, sylvie)

    with pytest.raises(ZeroDivisionError):
        run_request(factory, change_the_record(sylvie), read(pro("durand"), sylvie), crash)

    assert not regulator_opposed(session, sylvie)
    assert entries(session, sylvie) == before
    assert outbox_count(session, sylvie) == 0


def test_a_request_refused_after_its_access_was_allowed_keeps_that_access_as_a_failed_attempt(
    session: Session, factory: sessionmaker[Session], cast: Cast, pro: Callable[..., Actor]
) -> None:
    # Allowed in, then refused for another reason (a state that forbids the change): the
    # request's work is undone and no notice is left, but what was tried stays on the trail.
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")
    before = entries(session, sylvie)

    def conflict(_: Session) -> None:
        raise Conflict("The document was replaced already.")

    with pytest.raises(Conflict):
        run_request(factory, change_the_record(sylvie), read(durand, sylvie), conflict)

    assert not regulator_opposed(session, sylvie)
    assert outbox_count(session, sylvie) == 0
    after = entries(session, sylvie)
    assert [(e.outcome, e.action, e.actor_ref, e.detail) for e in after[len(before) :]] == [
        ("failed", "read", durand.ref, "failed=conflict")
    ]
    assert describe(after[-1]).endswith(
        "a consulté votre dossier — sans suite : l'état du dossier ou du document ne le "
        "permettait pas."
    )
    assert list(audit.verify(session, str(sylvie))) == []


def test_a_denial_after_an_allowed_access_keeps_the_attempt_and_the_denial(
    session: Session, factory: sessionmaker[Session], cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    durand, noir = pro("durand"), pro("noir")
    before = entries(session, sylvie)

    with pytest.raises(Forbidden):
        run_request(factory, read(durand, sylvie), read(noir, sylvie))

    assert [
        (e.outcome, e.actor_ref, e.detail) for e in entries(session, sylvie)[len(before) :]
    ] == [
        ("failed", durand.ref, "failed=forbidden"),
        ("denied", noir.ref, "blocked_by_patient"),
    ]


def test_a_denial_after_the_same_actor_was_allowed_in_is_written_alone(
    session: Session, factory: sessionmaker[Session], cast: Cast, pro: Callable[..., Actor]
) -> None:
    # Let into the record, then refused something in it (an appointment that is not theirs,
    # say): the denial says what was tried, without a failed row beside it.
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")
    before = entries(session, sylvie)

    def refused_inside(_: Session) -> None:
        raise AccessDenied(
            Forbidden("Not yours."),
            {
                "patient_id": sylvie,
                "action": "read",
                "outcome": "denied",
                "mode": "normal",
                "detail": "not_a_participant",
                "actor_kind": "professional",
                "actor_ref": durand.ref,
            },
        )

    with pytest.raises(Forbidden):
        run_request(factory, read(durand, sylvie), refused_inside)

    added = entries(session, sylvie)[len(before) :]
    assert [(e.outcome, e.actor_ref, e.detail) for e in added] == [
        ("denied", durand.ref, "not_a_participant")
    ]


@pytest.mark.parametrize(
    "failing",
    [
        pytest.param("append_many", id="at-the-access"),  # every append goes through it
        pytest.param("_write", id="at-the-commit"),  # the queue is written just before it
    ],
)
def test_when_the_audit_rows_cannot_be_written_nothing_of_the_access_is_committed(
    session: Session,
    factory: sessionmaker[Session],
    cast: Cast,
    pro: Callable[..., Actor],
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")
    before = entries(session, sylvie)

    def refuse(*_: object, **__: object) -> None:
        raise AuditStoreDown("audit store unavailable")

    monkeypatch.setattr(audit, failing, refuse)
    with pytest.raises(AuditStoreDown):
        run_request(factory, change_the_record(sylvie), read(durand, sylvie))

    assert not regulator_opposed(session, sylvie)
    assert entries(session, sylvie) == before
    assert outbox_count(session, sylvie) == 0
    assert session.get(NotifiedAccess, (sylvie, f"first:{durand.ref}")) is None


def test_a_rolled_back_savepoint_takes_its_audit_rows_and_only_them_with_it(
    session: Session,
) -> None:
    patient_id = uuid.uuid4()
    append = appender(session, patient_id)

    append("before")
    inside = session.begin_nested()
    append("inside, rolled back")
    deeper = session.begin_nested()
    append("nested deeper, released then rolled back with its parent")
    deeper.commit()
    inside.rollback()
    with session.begin_nested():
        append("inside, released")
    append("after")
    session.commit()

    assert [e.detail for e in entries(session, patient_id)] == [
        "before",
        "inside, released",
        "after",
    ]


def test_rows_written_early_inside_a_savepoint_still_roll_back_with_it(session: Session) -> None:
    # Rows written mid-transaction (``write_queued``) inside a savepoint go with its rollback;
    # those queued before the savepoint are written again, those queued after it forgotten.
    patient_id = uuid.uuid4()
    append = appender(session, patient_id)

    append("before")
    inside = session.begin_nested()
    append("written early, then rolled back")
    audit.write_queued(session)
    append("queued after, then rolled back")
    inside.rollback()
    append("after")
    session.commit()

    assert [e.detail for e in entries(session, patient_id)] == ["before", "after"]


def test_a_rollback_forgets_what_the_transaction_queued_and_a_denial_after_it_is_written_alone(
    session: Session,
) -> None:
    patient_id = uuid.uuid4()
    audit.append(session, patient_id=patient_id, action="read", actor_kind="patient")
    session.rollback()
    audit.append(
        session, patient_id=patient_id, action="read", outcome="denied", actor_kind="patient"
    )
    session.commit()

    assert [(e.seq, e.outcome) for e in entries(session, patient_id)] == [(1, "denied")]


def test_when_a_denial_cannot_be_recorded_the_request_fails_and_nothing_is_committed(
    session: Session,
    factory: sessionmaker[Session],
    cast: Cast,
    pro: Callable[..., Actor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sylvie = cast.patients["sylvie"]
    before = entries(session, sylvie)

    def refuse(*_: object, **__: object) -> None:
        raise AuditStoreDown("audit store unavailable")

    monkeypatch.setattr(audit, "append_many", refuse)  # every append goes through it
    with pytest.raises(AuditStoreDown):
        run_request(factory, change_the_record(sylvie), read(pro("noir"), sylvie))

    assert not regulator_opposed(session, sylvie)
    assert entries(session, sylvie) == before


def test_the_gate_itself_never_writes_a_denial_without_the_transaction_boundary(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    # authorize raises AccessDenied carrying the row; only audited_transaction appends it,
    # after rolling back, so a denial is never committed together with the request's work.
    sylvie = cast.patients["sylvie"]
    before = entries(session, sylvie)

    with pytest.raises(AccessDenied) as denied:
        authorize(session, pro("noir"), sylvie, Action.READ)

    assert denied.value.entry["detail"] == "blocked_by_patient"
    assert entries(session, sylvie) == before


def test_a_failed_flush_inside_a_savepoint_keeps_what_was_recorded_before_it(
    session: Session,
) -> None:
    # SQLAlchemy rolls a failed flush's inner transaction back on its own: that is not the
    # request's transaction ending, and what was recorded before stays queued.
    patient_id = uuid.uuid4()
    append = appender(session, patient_id)
    append("before")
    savepoint = session.begin_nested()
    session.add(AuditHead(chain=SYSTEM_CHAIN, seq=0, hash=GENESIS))  # exists: refused
    with pytest.raises(IntegrityError):
        session.flush()
    savepoint.rollback()
    append("after")
    session.commit()

    assert [e.detail for e in entries(session, patient_id)] == ["before", "after"]


def test_a_transaction_committed_around_a_savepoint_left_open_writes_all_it_recorded(
    factory: sessionmaker[Session],
) -> None:
    patient_id = uuid.uuid4()
    with factory() as other:
        root = other.begin()
        append = appender(other, patient_id)
        append("before")
        other.begin_nested()
        append("inside the savepoint left open")
        root.commit()

        assert [e.detail for e in entries(other, patient_id)] == [
            "before",
            "inside the savepoint left open",
        ]


def test_a_closed_session_forgets_what_it_had_not_committed(
    factory: sessionmaker[Session],
) -> None:
    patient_id = uuid.uuid4()
    with factory() as reused:
        append = appender(reused, patient_id)
        append("never committed")
        reused.close()
        append("after the close")
        reused.commit()

        assert [e.detail for e in entries(reused, patient_id)] == ["after the close"]


def test_a_refused_request_keeps_only_its_access_decisions_as_failed_attempts_at_their_time(
    session: Session,
    factory: sessionmaker[Session],
    cast: Cast,
    pro: Callable[..., Actor],
    operator: Actor,
    frozen: Callable[[datetime], None],
) -> None:
    # The request registers a person (a row on their new chain), reads Sylvie's record (an
    # access decision) and lists Léa's name (a row of what it showed), then is refused. Only
    # the access is kept, as a failed attempt, at the time it was made; the person it
    # registered does not exist, and gets no chain.
    sylvie, lea = cast.patients["sylvie"], cast.patients["lea"]
    durand = pro("durand")
    before = {who: entries(session, who) for who in (sylvie, lea)}
    at_read = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    registered: list[uuid.UUID] = []

    def register(db: Session) -> None:
        registered.append(
            register_patient(
                db,
                operator,
                nir="180057505690239",
                birth_name="PASSANT",
                birth_given_names=["LOUIS"],
                birth_date=date(1980, 5, 17),
                sex="M",
                birth_place_code="75056",
            ).id
        )

    def read_at_nine(db: Session) -> None:
        frozen(at_read)
        read(durand, sylvie)(db)
        frozen(at_read + timedelta(minutes=5))

    def show_lea(db: Session) -> None:
        audit.append(db, patient_id=lea, action="patient_list.messaging", actor_kind="professional")

    def refuse(_: Session) -> None:
        raise Conflict("Refused after all.")

    with pytest.raises(Conflict):
        run_request(factory, register, read_at_nine, show_lea, refuse)

    [attempt] = entries(session, sylvie)[len(before[sylvie]) :]
    assert (attempt.outcome, attempt.detail, attempt.recorded_at) == (
        "failed",
        "failed=conflict",
        at_read,
    )
    assert entries(session, lea) == before[lea]
    assert entries(session, registered[0]) == []
    assert session.get(AuditHead, str(registered[0])) is None
