"""Concurrent appends to one patient's chain, through separate connections that really commit
(not the rolled-back test connection): the chain head lock must serialise them.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` so writers queue on the file
lock; on PostgreSQL the ``SELECT … FOR UPDATE`` on the head row does the queueing. Both run."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.audit import service as audit
from carnet.audit.models import AuditEntry
from carnet.db import make_session_factory, session_scope
from carnet.patients.service import register_patient
from carnet.records.service import purge_patient
from carnet.settings import Settings
from tests.conftest import OPERATOR, Cast, blob_store, valid_nir

THREADS = 8
APPENDS_PER_THREAD = 5


@pytest.fixture
def committing(engine: Engine, settings: Settings, cast: Cast) -> sessionmaker[Session]:
    """Sessions on the real engine: what they commit stays, so each test cleans up."""
    return make_session_factory(engine, settings, blobs=blob_store(settings))


@pytest.fixture
def fresh_patient(committing: sessionmaker[Session]) -> Iterator[uuid.UUID]:
    with session_scope(committing) as session:
        patient = register_patient(
            session,
            OPERATOR,
            nir=valid_nir("1800575056901"),
            birth_name="CONCURRENT",
            birth_given_names=["TEST"],
            birth_date=date(1980, 5, 17),
            sex="M",
            birth_place_code="75056",
        )
        patient_id = patient.id
    yield patient_id
    with session_scope(committing) as session:
        purge_patient(session, patient_id)


def run_together(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Start ``count`` threads at the same instant; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(n)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is still running"
    return errors


def seqs_of(factory: sessionmaker[Session], chain: str) -> list[int]:
    with factory() as session:
        return list(
            session.execute(
                select(AuditEntry.seq).where(AuditEntry.chain == chain).order_by(AuditEntry.seq)
            ).scalars()
        )


def test_concurrent_appends_to_one_chain_get_consecutive_numbers_and_verify_clean(
    committing: sessionmaker[Session], fresh_patient: uuid.UUID
) -> None:
    def work(n: int) -> None:
        for i in range(APPENDS_PER_THREAD):
            with session_scope(committing) as session:
                audit.append(
                    session,
                    patient_id=fresh_patient,
                    action="read",
                    actor_kind="professional",
                    actor_ref=f"thread-{n}-{i}",
                )

    errors = run_together(THREADS, work)

    assert errors == []
    total = 1 + THREADS * APPENDS_PER_THREAD  # the registration row comes first
    assert seqs_of(committing, str(fresh_patient)) == list(range(1, total + 1))
    with committing() as session:
        assert list(audit.verify(session, str(fresh_patient))) == []


def test_concurrent_first_appends_to_a_new_chain_all_succeed(
    committing: sessionmaker[Session],
) -> None:
    # e.g. simultaneous denials about a patient whose chain does not exist yet: nobody holds a
    # head row to lock, so creating the head must not make all but one of them fail.
    chain_id = uuid.uuid4()

    def work(n: int) -> None:
        with session_scope(committing) as session:
            audit.append(
                session,
                patient_id=chain_id,
                action="read",
                outcome="denied",
                actor_kind="professional",
                actor_ref=f"thread-{n}",
            )

    try:
        errors = run_together(THREADS, work)

        assert errors == []
        assert seqs_of(committing, str(chain_id)) == list(range(1, THREADS + 1))
        with committing() as session:
            assert list(audit.verify(session, str(chain_id))) == []
    finally:
        with session_scope(committing) as session:
            purge_patient(session, chain_id)


def test_two_transactions_appending_to_the_same_chains_in_opposite_orders_both_commit(
    committing: sessionmaker[Session],
) -> None:
    # A page naming several patients audits each: one request may name A then B while another
    # names B then A. Rows are written at commit, each chain's head locked in the chains'
    # order, so neither waits for the other in a cycle. (Were each row written at its append,
    # PostgreSQL would abort one as a deadlock; on SQLite the second would wait at its first
    # append for the first's commit, which waits here for the second.)
    first, second = sorted(uuid.uuid4() for _ in range(2))
    both_appended = threading.Barrier(2)
    with session_scope(committing) as session:  # both chains have a head already
        for patient_id in (first, second):
            audit.append(session, patient_id=patient_id, action="read", actor_kind="patient")

    def work(n: int) -> None:
        order = (first, second) if n == 0 else (second, first)
        with session_scope(committing) as session:
            for patient_id in order:
                audit.append(
                    session,
                    patient_id=patient_id,
                    action="patient_list.messaging",
                    actor_kind="professional",
                    actor_ref=f"thread-{n}",
                )
            both_appended.wait(timeout=30)

    try:
        errors = run_together(2, work)

        assert errors == []
        for patient_id in (first, second):
            assert seqs_of(committing, str(patient_id)) == [1, 2, 3]
            with committing() as session:
                assert list(audit.verify(session, str(patient_id))) == []
    finally:
        with session_scope(committing) as session:
            purge_patient(session, first)
            purge_patient(session, second)
