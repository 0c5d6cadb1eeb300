"""The same-transaction rule (architecture.md §5): an access and its audit row commit together
or not at all, and a refusal is recorded even though the request's own work is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Action, Actor
from carnet.access.gate import authorize, deny_unknown
from carnet.audit import service as audit
from carnet.audit.models import AuditEntry, AuditHead, NotifiedAccess
from carnet.audit.transaction import audited_transaction
from carnet.audit.words import describe
from carnet.errors import AccessDenied, Conflict, Forbidden, NotFound
from carnet.notifications.models import OutboxMessage
from carnet.records.models import Record
from tests.conftest import Cast


class AuditStoreDown(RuntimeError):
    pass


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


def test_when_the_audit_row_cannot_be_written_nothing_of_the_access_is_committed(
    session: Session,
    factory: sessionmaker[Session],
    cast: Cast,
    pro: Callable[..., Actor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")
    before = entries(session, sylvie)

    def refuse(*_: object, **__: object) -> None:
        raise AuditStoreDown("audit store unavailable")

    monkeypatch.setattr(audit, "append_many", refuse)  # every append goes through it
    with pytest.raises(AuditStoreDown):
        run_request(factory, change_the_record(sylvie), read(durand, sylvie))

    assert not regulator_opposed(session, sylvie)
    assert entries(session, sylvie) == before
    assert outbox_count(session, sylvie) == 0
    assert session.get(NotifiedAccess, (sylvie, f"first:{durand.ref}")) is None


def test_when_the_audit_rows_cannot_be_written_at_commit_nothing_is_committed(
    session: Session,
    factory: sessionmaker[Session],
    cast: Cast,
    pro: Callable[..., Actor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The rows are queued at the access and written just before the commit, in the same
    # transaction: if that write fails, the commit does not happen.
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")
    before = entries(session, sylvie)

    def refuse(*_: object, **__: object) -> None:
        raise AuditStoreDown("audit store unavailable")

    monkeypatch.setattr(audit, "_write", refuse)
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

    def append(detail: str) -> None:
        audit.append(
            session, patient_id=patient_id, action="read", actor_kind="patient", detail=detail
        )

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
    # Reading the trail writes the queue mid-transaction (the read shows itself); what is
    # queued after it, in a savepoint that then rolls back, is forgotten too.
    patient_id = uuid.uuid4()

    def append(detail: str) -> None:
        audit.append(
            session, patient_id=patient_id, action="read", actor_kind="patient", detail=detail
        )

    append("before")
    inside = session.begin_nested()
    append("written early, then rolled back")
    audit.trail(session, patient_id)
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
