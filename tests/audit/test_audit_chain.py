"""The hash chain itself: how appends are numbered and linked, and how ``verify`` catches each
kind of tampering done behind the application's back (raw SQL on the tables)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from carnet.audit import service as audit
from carnet.audit.models import AuditEntry, AuditHead
from carnet.audit.service import GENESIS, ChainProblem, chain_key, entry_hash, verify
from tests.conftest import Cast, audit_rows

MOMENT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def append_rows(session: Session, patient_id: uuid.UUID, count: int) -> list[AuditEntry]:
    for n in range(1, count + 1):
        audit.append(
            session,
            patient_id=patient_id,
            action="read",
            actor_kind="professional",
            actor_ref=f"81000000000{n}",
            actor_name=f"Dr Test {n}",
            actor_profession="10",
            actor_structure="Cabinet des tests",
            resource_type="Patient",
            resource_id=str(patient_id),
        )
    return audit_rows(session, AuditEntry.chain == str(patient_id))[-count:]


def rows_of(session: Session, chain: str) -> list[AuditEntry]:
    return audit_rows(session, AuditEntry.chain == chain)


def tamper(session: Session, sql: str, **params: object) -> None:
    """Change the tables behind the ORM's back, as someone with database access would."""
    session.execute(text(sql), params)
    session.expire_all()


@pytest.fixture
def chain(session: Session) -> str:
    """A fresh patient chain of five rows (the trail needs no patient row: it has no FK)."""
    patient_id = uuid.uuid4()
    append_rows(session, patient_id, 5)
    return str(patient_id)


# Rows of one chain written at one commit: on PostgreSQL one statement inserts them and moves
# the head, up to MOVING_HEAD_ROWS of them; more take two (decision 10). Twice: a new chain,
# then one that has a head already.
@pytest.mark.parametrize("count", [1, 4, audit.MOVING_HEAD_ROWS, audit.MOVING_HEAD_ROWS + 4])
def test_appends_are_numbered_one_to_n_and_each_links_to_the_previous_hash(
    session: Session, count: int
) -> None:
    patient_id = uuid.uuid4()
    append_rows(session, patient_id, count)
    append_rows(session, patient_id, count)
    session.expire_all()

    rows = rows_of(session, str(patient_id))

    assert [r.seq for r in rows] == list(range(1, 2 * count + 1))
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert all(entry_hash(chain_key(session), r.prev_hash, r) == r.hash for r in rows)
    head = session.get(AuditHead, str(patient_id))
    assert head is not None
    assert (head.seq, head.hash) == (2 * count, rows[-1].hash)
    assert not list(verify(session, str(patient_id)))


def test_each_patient_has_their_own_chain_starting_at_one(session: Session) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    append_rows(session, first, 3)
    append_rows(session, second, 2)

    assert [r.seq for r in rows_of(session, str(first))] == [1, 2, 3]
    assert [r.seq for r in rows_of(session, str(second))] == [1, 2]
    assert rows_of(session, str(second))[0].prev_hash == GENESIS


def test_events_about_no_patient_go_to_the_system_chain(session: Session) -> None:
    audit.append(session, patient_id=None, action="record.purge", actor_kind="operator")

    [entry] = audit_rows(session, AuditEntry.action == "record.purge")
    assert (entry.chain, entry.patient_id) == ("system", None)
    assert not list(verify(session, "system"))


def test_the_whole_demo_trail_and_fresh_appends_verify_without_any_problem(
    session: Session, chain: str
) -> None:
    session.expire_all()

    assert list(verify(session)) == []
    assert list(verify(session, chain)) == []


def test_rows_appended_while_verification_runs_are_not_reported(
    session: Session, chain: str
) -> None:
    # On a live database the head is read first: by the time the chain's rows are read, more
    # were appended (and the head moved with them). The head as it was then says 3.
    rows = rows_of(session, chain)
    then = SimpleNamespace(seq=rows[2].seq, hash=rows[2].hash)

    assert list(audit._verify_chain(session, chain, then)) == []


def test_a_row_committed_between_reading_the_rows_and_the_head_is_read_on(
    session: Session, chain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race of a live database: the head is read (5), then requests append while the rows
    # are read — one before (the rows read go past the head read), one after (the head moves
    # on again). Verification reads the head again, reads on from there, and finds nothing.
    read_rows = audit._chain_rows
    calls: list[int] = []

    def append() -> None:
        audit.append(session, patient_id=uuid.UUID(chain), action="read", actor_kind="patient")
        audit.write_queued(session)

    def rows_around_appends(db: Session, name: str, after: int = 0) -> Iterator[Any]:
        calls.append(after)
        if len(calls) == 1:
            append()
        yield from read_rows(db, name, after)
        if len(calls) == 1:
            append()

    monkeypatch.setattr(audit, "_chain_rows", rows_around_appends)

    assert list(verify(session, chain)) == []
    assert calls == [0, 6]  # the rows, then the one appended after them


def test_a_row_added_past_the_chain_head_is_reported(session: Session, chain: str) -> None:
    last = rows_of(session, chain)[-1]
    forged = {c.key: getattr(last, c.key) for c in AuditEntry.__table__.columns}
    session.add(AuditEntry(**{**forged, "id": uuid.uuid4(), "seq": last.seq + 1}))
    session.flush()

    problems = list(verify(session, chain))

    past = ChainProblem(chain, last.seq, "rows past the chain head: added without moving it")
    assert past in problems
    assert all(p.seq == last.seq + 1 for p in problems if p != past)  # only the forged row


def test_verification_reads_heads_and_rows_a_batch_at_a_time_and_still_finds_a_change(
    session: Session, chain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "VERIFY_BATCH", 2)  # every chain and the heads cross batches
    assert list(verify(session)) == []

    tamper(
        session,
        "UPDATE audit_entries SET detail = 'changed' WHERE chain = :chain AND seq = 4",
        chain=chain,
    )

    assert list(verify(session)) == [ChainProblem(chain, 4, "row content was altered")]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_name", "Dr Quelqu'un d'autre"),
        ("reason", "motif réécrit après coup"),
        ("outcome", "denied"),
        ("actor_ref", "810000000999"),
        ("recorded_at", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_row_altered_with_raw_sql_is_reported_as_altered_at_its_position(
    session: Session, chain: str, column: str, value: object
) -> None:
    tamper(
        session,
        f"UPDATE audit_entries SET {column} = :value WHERE chain = :chain AND seq = 3",  # noqa: S608
        value=value,
        chain=chain,
    )

    assert list(verify(session, chain)) == [ChainProblem(chain, 3, "row content was altered")]


def test_a_row_removed_from_the_middle_is_reported_as_a_gap_and_a_broken_link(
    session: Session, chain: str
) -> None:
    tamper(session, "DELETE FROM audit_entries WHERE chain = :chain AND seq = 3", chain=chain)

    problems = list(verify(session, chain))

    assert ChainProblem(chain, 3, "missing row(s) before this position") in problems
    assert ChainProblem(chain, 4, "link to the previous row is broken") in problems
    assert all(p.problem != "row content was altered" for p in problems)


def test_the_first_row_removed_is_reported_too(session: Session, chain: str) -> None:
    tamper(session, "DELETE FROM audit_entries WHERE chain = :chain AND seq = 1", chain=chain)

    assert ChainProblem(chain, 1, "missing row(s) before this position") in list(
        verify(session, chain)
    )


def test_a_removed_tail_is_reported_against_the_chain_head(session: Session, chain: str) -> None:
    tamper(session, "DELETE FROM audit_entries WHERE chain = :chain AND seq = 5", chain=chain)

    assert list(verify(session, chain)) == [
        ChainProblem(chain, 5, "rows were removed at the end of the chain")
    ]


def test_a_removed_chain_head_is_reported(session: Session, chain: str) -> None:
    tamper(session, "DELETE FROM audit_heads WHERE chain = :chain", chain=chain)

    assert list(verify(session, chain)) == [
        ChainProblem(chain, 5, "the chain head is missing: rows may have been removed")
    ]


def test_two_swapped_rows_are_reported(session: Session, chain: str) -> None:
    # (chain, seq) is unique: go through a temporary value, as an attacker would
    swap = "UPDATE audit_entries SET seq = :new WHERE chain = :chain AND seq = :old"
    tamper(session, swap, chain=chain, old=2, new=-2)
    tamper(session, swap, chain=chain, old=3, new=2)
    tamper(session, swap, chain=chain, old=-2, new=3)

    problems = list(verify(session, chain))

    assert {p.seq for p in problems} >= {2, 3}
    assert ChainProblem(chain, 2, "link to the previous row is broken") in problems
    assert ChainProblem(chain, 2, "row content was altered") in problems


def test_a_forged_row_with_a_recomputed_hash_but_a_wrong_link_is_reported(
    session: Session, chain: str
) -> None:
    # The forger appends a plausible row, hashes it correctly against a link of their own
    # choosing, and even moves the head: only the link to the real previous row gives it away.
    forged = AuditEntry(
        id=uuid.uuid4(),
        chain=chain,
        seq=6,
        patient_id=uuid.UUID(chain),
        recorded_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
        action="read",
        outcome="allowed",
        mode="normal",
        reason=None,
        actor_kind="professional",
        actor_ref="810000000017",
        actor_name="Dr Paul Durand",
        actor_profession="10",
        actor_structure="Cabinet médical des Carmes",
        client_id=None,
        resource_type=None,
        resource_id=None,
        detail=None,
        prev_hash="f" * 64,
        hash="",
    )
    forged.hash = entry_hash(chain_key(session), forged.prev_hash, forged)
    session.add(forged)
    session.flush()
    tamper(
        session,
        "UPDATE audit_heads SET seq = 6, hash = :hash WHERE chain = :chain",
        hash=forged.hash,
        chain=chain,
    )

    assert list(verify(session, chain)) == [
        ChainProblem(chain, 6, "link to the previous row is broken")
    ]


def test_a_deleted_chain_head_does_not_hide_the_chain_from_verification(
    session: Session, chain: str
) -> None:
    tamper(
        session,
        "UPDATE audit_entries SET actor_name = 'personne' WHERE chain = :chain AND seq = 2",
        chain=chain,
    )
    tamper(session, "DELETE FROM audit_heads WHERE chain = :chain", chain=chain)

    problems = list(verify(session))

    assert ChainProblem(chain, 2, "row content was altered") in problems
    assert any(p.chain == chain and "head" in p.problem for p in problems)


def test_verifying_one_chain_reports_only_that_chain(session: Session, chain: str) -> None:
    other = uuid.uuid4()
    append_rows(session, other, 2)
    tamper(session, "DELETE FROM audit_entries WHERE chain = :chain AND seq = 1", chain=chain)

    assert list(verify(session, str(other))) == []
    assert {p.chain for p in verify(session)} == {chain}


def test_the_hash_is_the_same_whatever_the_time_zone_of_the_clock(
    session: Session, frozen: Callable[[datetime], None]
) -> None:
    # The clock should give UTC; a clock set to Paris time is the same instant and must not
    # make the stored row look altered once it is read back (in UTC) from the database.
    frozen(datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=1))))
    patient_id = uuid.uuid4()
    append_rows(session, patient_id, 2)
    session.expire_all()

    assert list(verify(session, str(patient_id))) == []


def test_an_append_reads_the_chain_head_afresh_even_from_a_long_lived_session(
    factory: sessionmaker[Session],
) -> None:
    # Sessions keep their objects after commit (expire_on_commit=False): even while the session
    # holds a head object read earlier, the append must lock and read the row as it is now, or
    # it would reuse a sequence number another session took.
    patient_id = uuid.uuid4()
    with factory() as first, factory() as second:
        audit.append(first, patient_id=patient_id, action="read", actor_kind="patient")
        first.commit()
        held = first.get(AuditHead, str(patient_id))
        assert held is not None
        audit.append(second, patient_id=patient_id, action="read", actor_kind="patient")
        second.commit()
        audit.append(first, patient_id=patient_id, action="read", actor_kind="patient")
        first.commit()

        assert [e.seq for e in audit_rows(first, AuditEntry.chain == str(patient_id))] == [1, 2, 3]
        assert list(verify(first, str(patient_id))) == []


def test_a_row_rewritten_with_a_hash_recomputed_without_the_server_key_is_detected(
    session: Session, cast: Cast
) -> None:
    chain = str(cast.patients["sylvie"])
    row = session.execute(
        select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq).limit(1)
    ).scalar_one()
    row.actor_name = "Quelqu'un d'autre"
    row.hash = entry_hash(b"a key that is not the server's", row.prev_hash, row)
    session.flush()
    assert ChainProblem(chain, row.seq, "row content was altered") in list(verify(session, chain))


def test_the_trail_can_leave_out_the_allowed_reads_of_one_actor_only(session: Session) -> None:
    patient_id = uuid.uuid4()
    rows = [  # (action, kind, ref, outcome)
        ("read", "patient", "me", "allowed"),  # left out: my own consultation
        ("search", "patient", "me", "allowed"),  # left out
        ("document.hide", "patient", "me", "allowed"),  # my change: kept
        ("read", "patient", "me", "denied"),  # a refusal: kept
        ("read", "representative", "me", "allowed"),  # another kind with the same ref: kept
        ("read", "patient", "someone else", "allowed"),  # another actor: kept
        ("read", "professional", "810000000108", "allowed"),  # kept
        ("read", "operator", None, "allowed"),  # no ref: kept
        ("read", "patient", None, "allowed"),  # the same kind without a ref: kept
    ]
    for action, kind, ref, outcome in rows:
        audit.append(
            session,
            patient_id=patient_id,
            action=action,
            actor_kind=kind,
            actor_ref=ref,
            outcome=outcome,
        )
    session.commit()

    def shown(**options: Any) -> list[tuple[str, str, str | None, str]]:
        found = audit.trail(session, patient_id, **options)
        return [(e.action, e.actor_kind, e.actor_ref, e.outcome) for e in reversed(found)]

    assert shown() == rows
    assert shown(leave_out_reads_of=("patient", "me")) == rows[2:]


def test_a_history_leaving_out_rows_tied_to_thousands_of_kept_items_still_reads(
    session: Session,
) -> None:
    """A record with many kept documents: the filter still runs on SQLite (whose parser refuses
    a chain of a thousand ANDs) and leaves out exactly the rows tied to them."""
    patient_id = uuid.uuid4()
    kept = [f"document={uuid.uuid4()}" for _ in range(1_500)]
    for detail in (kept[700], "document=not-kept", None):
        audit.append(
            session, patient_id=patient_id, action="read", actor_kind="professional", detail=detail
        )
    audit_rows(session, AuditEntry.chain == str(patient_id))  # committed, as a request's
    ties = audit.Ties(
        resource_ids=frozenset(str(uuid.uuid4()) for _ in range(1_500)), marks=frozenset(kept)
    )

    shown = audit.trail(session, patient_id, leave_out_tied=ties)

    assert sorted(str(row.detail) for row in shown) == ["None", "document=not-kept"]
