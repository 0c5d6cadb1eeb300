"""Appending to and verifying the hash-chained trail.

Each chain (one per patient, plus ``system``) is a sequence 1, 2, 3… where
``hash = HMAC-SHA-256(prev_hash + canonical(row))``. A transaction's rows are queued and
written just before it commits; the chain head rows are locked for that write, so concurrent
appends to one patient's chain serialise while other patients' chains proceed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Table,
    and_,
    bindparam,
    event,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.elements import TextClause

from carnet import clock
from carnet.audit.models import SYSTEM_CHAIN, AuditEntry, AuditHead
from carnet.crypto import derive_key
from carnet.db import core, new_id, settings_of
from carnet.patients.models import Patient

GENESIS = "0" * 64
HASHED_FIELDS = (
    "id",
    "chain",
    "seq",
    "patient_id",
    "recorded_at",
    "action",
    "outcome",
    "mode",
    "reason",
    "actor_kind",
    "actor_ref",
    "actor_name",
    "actor_profession",
    "actor_structure",
    "client_id",
    "resource_type",
    "resource_id",
    "detail",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # the same instant hashes the same whatever the offset it was given in (reads are UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def chain_key(session: Session) -> bytes:
    """The key of the chain's MAC, derived from the server secret: without it, a row cannot be
    rewritten with a matching hash (a plain hash could be recomputed by anyone)."""
    return derive_key(settings_of(session).secret_key, "audit-chain")


def entry_hash(key: bytes, prev_hash: str, entry: Any) -> str:
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    return values_hash(key, prev_hash, {**values, "secret": entry.secret})


def values_hash(key: bytes, prev_hash: str, values: dict[str, Any]) -> str:
    hashed = [_canonical(values[name]) for name in HASHED_FIELDS]
    if values.get("secret"):  # only then: the rows written before the column hash as they did
        hashed.append("secret")
    payload = json.dumps(
        hashed,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, (prev_hash + payload).encode(), hashlib.sha256).hexdigest()


def chain_of(patient_id: uuid.UUID | None) -> str:
    return str(patient_id) if patient_id else SYSTEM_CHAIN


def append(
    session: Session,
    *,
    patient_id: uuid.UUID | None,
    action: str,
    outcome: str = "allowed",
    mode: str = "normal",
    actor_kind: str,
    actor_ref: str | None = None,
    actor_name: str | None = None,
    actor_profession: str | None = None,
    actor_structure: str | None = None,
    client_id: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    reason: str | None = None,
    detail: str | None = None,
    secret: bool = False,
) -> None:
    """Record one row for the patient's chain (or the system chain) in the caller's
    transaction: it is written when the transaction commits (see ``append_many``)."""
    append_many(
        session,
        [
            {
                "patient_id": patient_id,
                "action": action,
                "outcome": outcome,
                "mode": mode,
                "actor_kind": actor_kind,
                "actor_ref": actor_ref,
                "actor_name": actor_name,
                "actor_profession": actor_profession,
                "actor_structure": actor_structure,
                "client_id": client_id,
                "resource_type": resource_type,
                "resource_id": resource_id,
                "reason": reason,
                "detail": detail,
                "secret": secret,
            }
        ],
    )


_QUEUE = "carnet.audit.queue"


@dataclass
class _Queued:
    entry: dict[str, Any]
    at: datetime  # the time of the access, not of the commit
    access: bool  # an access decision (kept as a failed attempt if the request is refused)


@dataclass
class _Queue:
    """A transaction's audit rows: all it recorded, of which the first ``written`` are in the
    database, and for each savepoint, (rows, written) when it began."""

    rows: list[_Queued] = field(default_factory=list)
    written: int = 0
    savepoints: weakref.WeakKeyDictionary[SessionTransaction, tuple[int, int]] = field(
        default_factory=weakref.WeakKeyDictionary
    )


def _queue(session: Session) -> _Queue:
    queue = session.info.get(_QUEUE)
    if queue is None:
        queue = session.info[_QUEUE] = _Queue()
    return queue


def append_many(session: Session, entries: list[dict[str, Any]], *, access: bool = False) -> None:
    """Record rows (the keyword arguments of ``append``), on any patients' chains, in the
    caller's transaction (``access``: they are the gate's access decisions). They are queued
    and written when the transaction commits, in the same transaction (``_write_at_commit``):
    each chain's head is then locked in the chains' order, in one statement, just before the
    commit. So a chain is held for the shortest time, and two transactions that touch the same
    chains in different orders (two professionals' pages listing the same patients) never wait
    for each other in a cycle. A rollback (or a savepoint's) forgets what it queued."""
    if session.get_transaction() is None:
        session.begin()  # the queue lives as long as this transaction (see _end)
    now = clock.now()
    _queue(session).rows.extend(_Queued(entry, now, access) for entry in entries)


def write_queued(session: Session) -> None:
    """Write what the transaction has queued now (the commit does it otherwise). Tests use it
    to read their transaction's rows back; the service reads only committed rows."""
    queue = session.info.get(_QUEUE)
    if queue is not None and queue.written < len(queue.rows):
        _write(session, queue.rows[queue.written :])
        queue.written = len(queue.rows)


def accesses(session: Session) -> list[tuple[dict[str, Any], datetime]]:
    """The access decisions this transaction recorded, with their times: the transaction
    boundary records them again as failed attempts after rolling a refused request back."""
    queue = session.info.get(_QUEUE)
    return [(q.entry, q.at) for q in queue.rows if q.access] if queue is not None else []


def append_failed(
    session: Session, attempts: list[tuple[dict[str, Any], datetime]], code: str
) -> None:
    """Record ``attempts`` (``accesses`` taken before the rollback) as accesses that failed
    with the error ``code`` (first in the detail: ``failed=conflict document=…``), each at its
    own time. An attempt on a patient who does not exist once rolled back (registered by the
    request itself) is left out: ids that are not patients never get an audit chain."""
    ids = {entry["patient_id"] for entry, _at in attempts if entry["patient_id"] is not None}
    existing = (
        set(session.execute(select(Patient.id).where(Patient.id.in_(ids))).scalars())
        if ids
        else set()
    )
    failed = [
        _Queued(
            {
                **entry,
                "outcome": "failed",
                "detail": f"failed={code}" + (f" {entry['detail']}" if entry.get("detail") else ""),
            },
            at,
            False,
        )
        for entry, at in attempts
        if entry.get("outcome", "allowed") == "allowed"
        and (entry["patient_id"] is None or entry["patient_id"] in existing)
    ]
    if failed:
        if session.get_transaction() is None:
            session.begin()
        _queue(session).rows.extend(failed)


def _drop(queue: _Queue, dropped: Callable[[_Queued], bool]) -> None:
    """Take rows out of the queue, keeping ``written`` and the savepoints' marks counting the
    same rows as before."""

    def kept_before(n: int) -> int:
        return sum(1 for q in queue.rows[:n] if not dropped(q))

    for savepoint, (rows, written) in list(queue.savepoints.items()):
        queue.savepoints[savepoint] = (kept_before(rows), kept_before(written))
    queue.written = kept_before(queue.written)
    queue.rows = [q for q in queue.rows if not dropped(q)]


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    # Also at a savepoint's release: the root's own hook may run while one is still open
    # (a root transaction committed around a savepoint left open).
    write_queued(session)


@event.listens_for(Session, "after_transaction_create")
def _mark(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        queue = _queue(session)
        queue.savepoints[transaction] = (len(queue.rows), queue.written)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the transaction itself: all is forgotten
        session.info.pop(_QUEUE, None)
        return
    if not previous_transaction.nested:
        return  # a failed flush's inner transaction: the enclosing one's rollback decides
    queue = session.info.get(_QUEUE)
    mark = queue.savepoints.pop(previous_transaction, None) if queue is not None else None
    if queue is not None and mark is not None:
        # What the savepoint recorded is forgotten; what was recorded before it but written
        # inside it went with the savepoint's rollback, and is written again later.
        del queue.rows[mark[0] :]
        queue.written = min(queue.written, mark[1])


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint's mark stays till it is collected: SQLAlchemy ends a savepoint before it
    # tells of its rollback (``_forget``).
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)  # committed (written) or ended without a commit


def _write(session: Session, entries: list[_Queued]) -> None:
    """Append the entries to their chains, in order within each chain: the heads are locked in
    the chains' order (one statement), the rows inserted in one batch and the heads moved in
    another, so that the cost does not grow in round trips with the number of patients."""
    by_chain: dict[str, list[_Queued]] = {}
    for queued in entries:
        by_chain.setdefault(chain_of(queued.entry["patient_id"]), []).append(queued)
    chains = sorted(by_chain)
    connection = core(session)
    if len(chains) == 1:  # the usual case: one access, one patient
        row = connection.execute(LOCK_HEAD, {"c": chains[0]}).first()
        heads = {chains[0]: (int(row.seq), str(row.hash))} if row is not None else {}
    else:
        heads = {
            row.chain: (int(row.seq), str(row.hash))
            for row in connection.execute(LOCK_HEADS, {"c": chains})
        }
    for chain in chains:
        if chain not in heads:
            heads[chain] = _new_head(session, chain)  # a chain's first row, in order too
    key = chain_key(session)
    rows: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for chain in chains:
        seq, prev_hash = heads[chain]
        for queued in by_chain[chain]:
            seq += 1
            values = _row(queued.entry, chain, seq, queued.at, prev_hash, key)
            prev_hash = values["hash"]
            rows.append(values)
        moves.append({"c": chain, "s": seq, "h": prev_hash})
    if (
        len(moves) == 1
        and len(rows) <= MOVING_HEAD_ROWS
        and connection.dialect.name == "postgresql"
    ):
        # One chain, the usual case (an access, a submission's rows): the head moved by the
        # insert's own statement, one round trip fewer on every audited request. SQLite has no
        # UPDATE in a WITH, and no round trips.
        head = moves[0]
        params = {"head_chain": head["c"], "head_seq": head["s"], "head_hash": head["h"]}
        for i, values in enumerate(rows):
            params.update({f"{name}_{i}": value for name, value in values.items()})
        connection.execute(_insert_moving_head(len(rows)), params)
        return
    connection.execute(INSERT_ENTRY, rows if len(rows) > 1 else rows[0])
    connection.execute(MOVE_HEAD, moves if len(moves) > 1 else moves[0])


def _row(
    entry: dict[str, Any], chain: str, seq: int, now: datetime, prev_hash: str, key: bytes
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": new_id(),
        "chain": chain,
        "seq": seq,
        "patient_id": entry["patient_id"],
        "recorded_at": now,
        "action": entry["action"],
        "outcome": entry.get("outcome", "allowed"),
        "mode": entry.get("mode", "normal"),
        "reason": _clip(entry.get("reason"), 500),
        "actor_kind": entry["actor_kind"],
        "actor_ref": entry.get("actor_ref"),
        "actor_name": _clip(entry.get("actor_name"), 200),
        "actor_profession": entry.get("actor_profession"),
        "actor_structure": _clip(entry.get("actor_structure"), 200),
        "client_id": entry.get("client_id"),
        "resource_type": entry.get("resource_type"),
        "resource_id": entry.get("resource_id"),
        "detail": _clip(entry.get("detail"), 500),
        "secret": bool(entry.get("secret")),
        "prev_hash": prev_hash,
    }
    values["hash"] = values_hash(key, prev_hash, values)
    return values


ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]
HEADS: Table = AuditHead.__table__  # type: ignore[assignment]
INSERT_ENTRY = ENTRIES.insert()
MOVE_HEAD = (
    HEADS.update()
    .where(HEADS.c.chain == bindparam("c"))
    .values(seq=bindparam("s"), hash=bindparam("h"))
)
_COLUMNS = [c.name for c in ENTRIES.c]  # the table's own column names, nothing else
MOVING_HEAD_ROWS = 8  # rows of one chain written with its head's move; more take two statements


@functools.cache
def _insert_moving_head(count: int) -> TextClause:
    """PostgreSQL: ``INSERT_ENTRY`` of ``count`` rows of one chain and ``MOVE_HEAD`` in one
    statement. Written out: SQLAlchemy would apply the rows' keys (chain, seq, hash) to the
    nested UPDATE's SET clause too."""
    rows = ", ".join(
        "(" + ", ".join(f":{name}_{i}" for name in _COLUMNS) + ")" for i in range(count)
    )
    return text(
        "WITH moved AS (UPDATE audit_heads SET seq = :head_seq, hash = :head_hash"  # noqa: S608
        " WHERE chain = :head_chain) "
        + "INSERT INTO audit_entries ("
        + ", ".join(_COLUMNS)
        + ") VALUES "
        + rows
    ).bindparams(
        *(bindparam(f"{c.name}_{i}", type_=c.type) for i in range(count) for c in ENTRIES.c),
        bindparam("head_chain", type_=HEADS.c.chain.type),
        bindparam("head_seq", type_=HEADS.c.seq.type),
        bindparam("head_hash", type_=HEADS.c.hash.type),
    )


LOCK_HEAD = (
    select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain == bindparam("c")).with_for_update()
)
LOCK_HEADS = (
    select(HEADS.c.chain, HEADS.c.seq, HEADS.c.hash)
    .where(HEADS.c.chain.in_(bindparam("c", expanding=True)))
    .order_by(HEADS.c.chain)
    .with_for_update()
)


def _new_head(session: Session, chain: str) -> tuple[int, str]:
    """Create the head of a chain that has none yet, and lock it: (seq, hash)."""
    create = _insert_head_if_absent(session, chain)
    if create is None:
        session.execute(HEADS.insert().values(chain=chain, seq=0, hash=GENESIS))
        return 0, GENESIS
    # Two first appends to a new chain: the second insert waits for the first transaction and
    # then does nothing, and both go on to lock the one head row instead of one failing.
    session.execute(create)
    row = session.execute(LOCK_HEAD, {"c": chain}).one()
    return int(row.seq), str(row.hash)


def _insert_head_if_absent(session: Session, chain: str) -> Insert | None:
    values = {"chain": chain, "seq": 0, "hash": GENESIS}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(AuditHead).values(values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(AuditHead).values(values).on_conflict_do_nothing()
    return None


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else value


VERIFY_BATCH = 1_000  # heads, and rows of a chain, read at a time


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    problem: str


def verify(session: Session, chain: str | None = None) -> Iterator[ChainProblem]:
    """Yield every inconsistency: altered rows, gaps (removed rows), reordering, a cut tail.
    Heads and rows stream a batch at a time: memory does not grow with the number of chains
    (one per patient) nor with a chain's length."""
    # Core reads: what is in the database now, never objects a session remembers.
    heads = (
        select(HEADS.c.chain, HEADS.c.seq, HEADS.c.hash)
        .order_by(HEADS.c.chain)
        .execution_options(yield_per=VERIFY_BATCH)
    )
    if chain is not None:
        heads = heads.where(HEADS.c.chain == chain)
    for head in session.execute(heads):
        yield from _verify_chain(session, head.chain, head)
    # Deleting a head must not take its chain out of verification.
    headless = (
        select(AuditEntry.chain)
        .distinct()
        .where(~select(AuditHead.chain).where(AuditHead.chain == AuditEntry.chain).exists())
        .order_by(AuditEntry.chain)
    )
    if chain is not None:
        headless = headless.where(AuditEntry.chain == chain)
    for name in session.execute(headless).scalars().all():
        yield from _verify_chain(session, name, None)


def _chain_rows(session: Session, chain: str, after: int = 0) -> Iterator[Any]:
    """The chain's rows past ``after`` in order, a page at a time (keyset on ``seq``: one
    round trip a page, where a server-side cursor per chain would cost three)."""
    while True:
        page = session.execute(
            select(ENTRIES)
            .where(ENTRIES.c.chain == chain, ENTRIES.c.seq > after)
            .order_by(ENTRIES.c.seq)
            .limit(VERIFY_BATCH)
        ).all()
        yield from page
        if len(page) < VERIFY_BATCH:
            return
        after = page[-1].seq


HEAD_OF = select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain == bindparam("c"))
LIVE_PASSES = 5  # how often a chain growing while it is verified is read on


def _verify_chain(session: Session, chain: str, head: Any | None) -> Iterator[ChainProblem]:
    key = chain_key(session)
    prev_hash, last = GENESIS, 0
    for _pass in range(LIVE_PASSES):
        for row in _chain_rows(session, chain, after=last):
            if row.seq != last + 1:
                yield ChainProblem(chain, last + 1, "missing row(s) before this position")
            if row.prev_hash != prev_hash:
                yield ChainProblem(chain, row.seq, "link to the previous row is broken")
            if entry_hash(key, row.prev_hash, row) != row.hash:
                yield ChainProblem(chain, row.seq, "row content was altered")
            prev_hash, last = row.hash, row.seq
        if head is None or (head.seq, head.hash) == (last, prev_hash):
            break
        # On a live database the head was read before the rows, and rows may have been
        # appended (with their head) since: read the head again, and the rows after it.
        seen = (head.seq, head.hash)
        head = session.execute(HEAD_OF, {"c": chain}).first()
        if head is None or (head.seq, head.hash) == seen or head.seq <= last:
            break  # gone, or not grown, or grown no further than the rows read
    if head is None:
        yield ChainProblem(chain, last, "the chain head is missing: rows may have been removed")
    elif head.seq < last:
        yield ChainProblem(chain, head.seq, "rows past the chain head: added without moving it")
    elif (head.seq, head.hash) != (last, prev_hash):
        yield ChainProblem(chain, head.seq, "rows were removed at the end of the chain")


def trail(
    session: Session,
    patient_id: uuid.UUID,
    *,
    limit: int = 100,
    before_seq: int | None = None,
    since: datetime | None = None,
    leave_out_kinds: tuple[str, ...] = (),
    leave_out_actions: tuple[str, ...] = (),
    leave_out_reads_of: tuple[str, str] | None = None,
    leave_out_tied: Ties | None = None,
) -> list[AuditEntry]:
    """The patient's trail as committed, newest first (this transaction's own rows are written
    at its commit, and show from the next read on): before the row ``before_seq`` (paging),
    recorded after ``since``. Actor kinds and actions left out, and the allowed reads of one
    actor (``leave_out_reads_of``: kind and ref — the reader's own consultations), and the
    rows tied to documents kept from the reader (``leave_out_tied``) are left out in the query
    itself (however many rows those are, they cannot push the others out of the page)."""
    e = AuditEntry
    query = select(e).where(e.chain == chain_of(patient_id))
    if before_seq is not None:
        query = query.where(e.seq < before_seq)
    if since is not None:
        # by the (patient, time) index: what is new is read, not the whole chain back to it
        query = query.where(e.patient_id == patient_id, e.recorded_at > since)
    if leave_out_kinds:
        query = query.where(e.actor_kind.not_in(leave_out_kinds))
    if leave_out_actions:
        query = query.where(e.action.not_in(leave_out_actions))
    if leave_out_reads_of is not None:
        kind, ref = leave_out_reads_of
        query = query.where(
            or_(
                e.actor_kind != kind,
                e.actor_ref.is_(None),
                e.actor_ref != ref,
                e.action.not_in(READS),
                e.outcome != "allowed",
            )
        )
    if leave_out_tied is not None:
        if leave_out_tied.resource_ids:
            query = query.where(
                or_(
                    e.resource_id.is_(None),
                    e.resource_id.not_in(sorted(leave_out_tied.resource_ids)),
                )
            )
        if leave_out_tied.marks:
            query = query.where(_mentions_none(e.detail, sorted(leave_out_tied.marks)))
        if leave_out_tied.secret_connections:
            query = query.where(e.secret.is_(False))
    return list(session.execute(query.order_by(e.seq.desc()).limit(limit)).scalars())


def _mentions_none(detail: Any, marks: list[str], chunk: int = 64) -> ColumnElement[bool]:
    """``detail`` mentions none of ``marks``: NOT (… LIKE … OR …) per chunk of marks, the
    chunks joined by AND. SQLite parses a flat chain of ANDs into a tree as deep as it is long
    and refuses one past 1,000 (a record with a few hundred kept documents); two levels keep
    the depth to a chunk plus the number of chunks."""
    groups = [
        not_(or_(*(detail.like(f"%{mark}%") for mark in marks[i : i + chunk])))
        for i in range(0, len(marks), chunk)
    ]
    return or_(detail.is_(None), and_(*groups))


@dataclass(frozen=True)
class Ties:
    """What ties trail rows to what is kept from their reader: documents, by their ids as the
    rows' resource and marks in the rows' detail (``document=<logical id>``,
    ``submission=<id>``); and the secret connections (``secret_connections``: every row
    recorded in one, for a minor's legal representative)."""

    resource_ids: frozenset[str] = frozenset()
    marks: frozenset[str] = frozenset()
    secret_connections: bool = False

    def __or__(self, other: Ties | None) -> Ties:
        if other is None:
            return self
        return Ties(
            self.resource_ids | other.resource_ids,
            self.marks | other.marks,
            self.secret_connections or other.secret_connections,
        )


# The actions that only look (the access history can leave out its reader's own).
READS = (
    "lookup",
    "read",
    "search",
    "read_trail",
    "authorization.search",
    "communication.read",
    "communication.list",
)


def erase_chain(session: Session, patient_id: uuid.UUID) -> None:
    """Delete the patient's chain (the retention purge), with what this transaction recorded
    on it so far: nothing of the patient's trail is left after the purge. Its queued rows are
    dropped, not written (writing would lock its head out of the chains' order)."""
    chain = chain_of(patient_id)
    queue = session.info.get(_QUEUE)
    if queue is not None:
        _drop(queue, lambda q: chain_of(q.entry["patient_id"]) == chain)
    session.execute(ENTRIES.delete().where(ENTRIES.c.chain == chain))
    session.execute(HEADS.delete().where(HEADS.c.chain == chain))
