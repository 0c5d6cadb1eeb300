"""Appending to and verifying the hash-chained trail.

Each chain (one per patient, plus ``system``) is a sequence 1, 2, 3… where
``hash = SHA-256(prev_hash + canonical(row))``. The chain head row is locked for the append, so
concurrent appends to one patient's chain serialise while other patients' chains proceed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carnet import clock
from carnet.audit.models import SYSTEM_CHAIN, AuditEntry, AuditHead
from carnet.crypto import derive_key
from carnet.db import core, new_id, settings_of

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
    return values_hash(key, prev_hash, {name: getattr(entry, name) for name in HASHED_FIELDS})


def values_hash(key: bytes, prev_hash: str, values: dict[str, Any]) -> str:
    payload = json.dumps(
        [_canonical(values[name]) for name in HASHED_FIELDS],
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
) -> AuditEntry:
    """Append one row to the patient's chain (or the system chain) in the caller's transaction.

    Core statements, not the unit of work: this runs on every access, and three plain
    statements (lock the head, insert the row, move the head) are the whole cost."""
    values = append_many(
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
            }
        ],
    )[0]
    return AuditEntry(**values)


def append_many(session: Session, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append rows (the keyword arguments of ``append``) to one chain, in order: the head is
    locked and moved once, the rows inserted in one batch (an access and what it wrote).
    Returns the rows' values (no ORM objects: the hot paths do not need them)."""
    chains = {chain_of(e["patient_id"]) for e in entries}
    if len(chains) != 1:
        raise ValueError("append_many writes to one chain")
    chain = chains.pop()
    seq, prev_hash = _lock_head(session, chain)
    key = chain_key(session)
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        values = _row(entry, chain, seq, now, prev_hash, key)
        prev_hash = values["hash"]
        rows.append(values)
    # Constant statements with bound parameters: compiled once, cached, no per-call coercion.
    connection = core(session)
    connection.execute(INSERT_ENTRY, rows if len(rows) > 1 else rows[0])
    connection.execute(MOVE_HEAD, {"c": chain, "s": seq, "h": prev_hash})
    return rows


def append_each(session: Session, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append one row to each entry's own chain (a list that names several patients): the
    heads are locked in one statement, in the chains' order (two such lists never wait for
    each other in a cycle), the rows inserted in one batch and the heads moved in another, so
    that the cost does not grow in round trips with the number of patients."""
    if not entries:
        return []
    by_chain: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_chain.setdefault(chain_of(entry["patient_id"]), []).append(entry)
    heads = {
        row.chain: (int(row.seq), str(row.hash))
        for row in core(session).execute(LOCK_HEADS, {"c": sorted(by_chain)})
    }
    for chain in sorted(set(by_chain) - set(heads)):
        heads[chain] = _lock_head(session, chain)  # a chain's first row: rare in a list
    key = chain_key(session)
    now = clock.now()
    rows: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for chain in sorted(by_chain):
        seq, prev_hash = heads[chain]
        for entry in by_chain[chain]:
            seq += 1
            values = _row(entry, chain, seq, now, prev_hash, key)
            prev_hash = values["hash"]
            rows.append(values)
        moves.append({"c": chain, "s": seq, "h": prev_hash})
    connection = core(session)
    connection.execute(INSERT_ENTRY, rows if len(rows) > 1 else rows[0])
    connection.execute(MOVE_HEAD, moves if len(moves) > 1 else moves[0])
    return rows


def lock_chains(session: Session, patient_ids: Iterable[uuid.UUID]) -> None:
    """Lock these patients' chain heads now, in one statement and in the chains' order. A
    request that appends to several chains one after the other (a page listing several
    patients, each access audited) takes them all first, so that two such requests never wait
    for each other in a cycle (PostgreSQL would abort one). A chain without a head yet is
    created when first appended to."""
    chains = sorted({chain_of(p) for p in patient_ids})
    if chains:
        session.execute(LOCK_HEADS, {"c": chains}).all()


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
LOCK_HEAD = (
    select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain == bindparam("c")).with_for_update()
)
LOCK_HEADS = (
    select(HEADS.c.chain, HEADS.c.seq, HEADS.c.hash)
    .where(HEADS.c.chain.in_(bindparam("c", expanding=True)))
    .order_by(HEADS.c.chain)
    .with_for_update()
)


def _lock_head(session: Session, chain: str) -> tuple[int, str]:
    """Lock the chain's head row (creating it first if the chain is new): (seq, hash)."""
    row = core(session).execute(LOCK_HEAD, {"c": chain}).first()
    if row is not None:
        return int(row.seq), str(row.hash)
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


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    problem: str


def verify(session: Session, chain: str | None = None) -> Iterator[ChainProblem]:
    """Yield every inconsistency: altered rows, gaps (removed rows), reordering, a cut tail."""
    # Core reads: what is in the database now, never objects a session remembers.
    heads = select(HEADS.c.chain, HEADS.c.seq, HEADS.c.hash).order_by(HEADS.c.chain)
    if chain is not None:
        heads = heads.where(HEADS.c.chain == chain)
    for head in session.execute(heads).all():
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


def _verify_chain(session: Session, chain: str, head: Any | None) -> Iterator[ChainProblem]:
    key = chain_key(session)
    prev_hash, expected_seq = GENESIS, 1
    rows = session.execute(select(ENTRIES).where(ENTRIES.c.chain == chain).order_by(ENTRIES.c.seq))
    for row in rows:
        if row.seq != expected_seq:
            yield ChainProblem(chain, expected_seq, "missing row(s) before this position")
        if row.prev_hash != prev_hash:
            yield ChainProblem(chain, row.seq, "link to the previous row is broken")
        if entry_hash(key, row.prev_hash, row) != row.hash:
            yield ChainProblem(chain, row.seq, "row content was altered")
        prev_hash, expected_seq = row.hash, row.seq + 1
    if head is None:
        yield ChainProblem(
            chain, expected_seq - 1, "the chain head is missing: rows may have been removed"
        )
    elif head.seq != expected_seq - 1 or head.hash != prev_hash:
        yield ChainProblem(chain, head.seq, "rows were removed at the end of the chain")


def others_since(
    session: Session,
    patient_id: uuid.UUID,
    *,
    since: datetime | None,
    leave_out_kinds: tuple[str, ...],
    leave_out_actions: tuple[str, ...],
    limit: int,
) -> list[AuditEntry]:
    """The newest rows of the patient's trail recorded after ``since``, leaving out the given
    actor kinds and actions in the query itself (however many rows those are, they cannot push
    the others out of the page)."""
    e = AuditEntry
    query = select(e).where(
        e.chain == chain_of(patient_id),
        e.patient_id == patient_id,
        e.actor_kind.not_in(leave_out_kinds),
        e.action.not_in(leave_out_actions),
    )
    if since is not None:
        query = query.where(e.recorded_at > since)
    return list(session.execute(query.order_by(e.seq.desc()).limit(limit)).scalars())


def trail(
    session: Session, patient_id: uuid.UUID, *, limit: int = 100, before_seq: int | None = None
) -> list[AuditEntry]:
    """The patient's trail, newest first."""
    query = select(AuditEntry).where(AuditEntry.chain == chain_of(patient_id))
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    query = query.order_by(AuditEntry.seq.desc()).limit(limit)
    return list(session.execute(query).scalars())
