"""On SQLite, the server's writers (one per worker process) queue on an ``flock`` beside the
database instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from carnet import db as carnet_db
from carnet.db import WriterBusy, make_engine
from tests.conftest import hold_elsewhere, locked_elsewhere


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    engine.dispose()
    return url


def test_a_write_transaction_holds_the_queue_until_its_connection_is_returned(
    database: str, tmp_path: Path
) -> None:
    engine = make_engine(database, single_writer=True)
    lock_file = tmp_path / "queue.db-writer.lock"
    with engine.connect() as conn:
        assert lock_file.exists()
        assert not locked_elsewhere(lock_file)
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert locked_elsewhere(lock_file)
        conn.commit()
    assert not locked_elsewhere(lock_file)
    with engine.connect() as conn:  # a failed transaction releases it too
        conn.execute(text("INSERT INTO t VALUES (2)"))
        conn.rollback()
    assert not locked_elsewhere(lock_file)
    engine.dispose()


def test_a_second_worker_waits_its_turn_then_writes(database: str) -> None:
    first = make_engine(database, single_writer=True)
    second = make_engine(database, single_writer=True)  # as another process would
    started, done = threading.Event(), threading.Event()

    def other_worker() -> None:
        started.set()
        with second.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (20)"))
        done.set()

    with first.connect() as conn:
        conn.execute(text("INSERT INTO t VALUES (10)"))
        thread = threading.Thread(target=other_worker)
        thread.start()
        assert started.wait(5)
        assert not done.wait(0.3)  # queued behind the open transaction
        conn.commit()
    thread.join(10)
    assert done.is_set()
    with first.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY rowid")).scalars().all() == [10, 20]
    first.dispose()
    second.dispose()


def test_plain_engines_and_memory_databases_do_not_queue(tmp_path: Path) -> None:
    for engine in (
        make_engine(f"sqlite:///{tmp_path / 'plain.db'}"),
        make_engine("sqlite://", single_writer=True),
    ):
        with engine.begin() as conn:  # a write transaction, as the server's
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        engine.dispose()
    assert (tmp_path / "plain.db").exists()
    assert not list(tmp_path.glob("*-writer.lock"))


def test_a_writer_kept_busy_too_long_fails_instead_of_hanging(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(carnet_db, "WRITER_WAIT_SECONDS", 0.2)
    engine = make_engine(database, single_writer=True)
    with engine.connect():
        pass  # the lock file exists once a connection is made
    holder = hold_elsewhere(
        tmp_path / "queue.db-writer.lock"
    )  # another worker, stuck in a transaction
    try:
        with pytest.raises(WriterBusy), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        os.close(holder)
    with engine.begin() as conn:  # free again: writes go through, nothing was half-written
        conn.execute(text("INSERT INTO t VALUES (2)"))
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [2]
    engine.dispose()


def test_a_wait_given_up_does_not_keep_the_lock_and_the_next_waiter_gets_it(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(carnet_db, "WRITER_WAIT_SECONDS", 0.2)
    engine = make_engine(database, single_writer=True)
    with engine.connect():
        pass
    lock_file = tmp_path / "queue.db-writer.lock"
    holder = hold_elsewhere(lock_file)
    with pytest.raises(WriterBusy), engine.begin() as conn:  # its helper stays blocked
        conn.execute(text("INSERT INTO t VALUES (1)"))
    monkeypatch.setattr(carnet_db, "WRITER_WAIT_SECONDS", 30.0)
    written = threading.Event()

    def next_request() -> None:  # waits for the same helper's lock
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        written.set()

    thread = threading.Thread(target=next_request)
    thread.start()
    assert not written.wait(0.3)  # still held by the other worker
    os.close(holder)
    thread.join(10)
    assert written.is_set()  # handed over when it was released
    assert not locked_elsewhere(lock_file)  # and released with the connection
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [2]
    engine.dispose()


def test_a_lock_no_caller_waits_for_any_more_is_let_go(tmp_path: Path) -> None:
    lock_file = tmp_path / "queue.db-writer.lock"
    lock = carnet_db.WriterLock(lock_file)
    holder = hold_elsewhere(lock_file)
    with pytest.raises(WriterBusy):
        lock.take(0.1)
    os.close(holder)  # the helper gets the lock, and lets it go: nobody waits for it
    for _ in range(200):
        if not locked_elsewhere(lock_file):
            break
        time.sleep(0.01)
    assert not locked_elsewhere(lock_file)
    assert not lock.held
    lock.take(1)  # free: taken at once
    assert lock.held
    assert locked_elsewhere(lock_file)
    lock.close()
    assert not locked_elsewhere(lock_file)


def test_a_lock_closed_while_its_helper_waits_is_closed_by_the_helper(tmp_path: Path) -> None:
    lock_file = tmp_path / "queue.db-writer.lock"
    lock = carnet_db.WriterLock(lock_file)
    holder = hold_elsewhere(lock_file)
    with pytest.raises(WriterBusy):
        lock.take(0.05)
    helper = lock._helper
    assert helper is not None
    lock.close()  # the connection goes away while the helper is blocked on its descriptor
    assert helper.is_alive()
    os.close(holder)
    helper.join(5)
    assert not helper.is_alive()  # it got the lock, let it go and closed the descriptor
    assert not locked_elsewhere(lock_file)
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(lock.fd)


def test_a_lock_closed_before_its_helper_starts_waiting_is_closed_by_the_helper(
    tmp_path: Path,
) -> None:
    lock_file = tmp_path / "queue.db-writer.lock"
    lock = carnet_db.WriterLock(lock_file)
    holder = hold_elsewhere(lock_file)
    with lock._state:  # the helper is asked to wait, and the lock closed, before it runs
        lock._wait_in_helper()
        lock._closed = True
    helper = lock._helper
    assert helper is not None
    helper.join(5)
    assert not helper.is_alive()
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(lock.fd)
    os.close(holder)


class Interrupted(threading.Event):
    """An event whose first wait is interrupted (Ctrl-C, a worker told to stop)."""

    def __init__(self) -> None:
        super().__init__()
        self.interrupted = False

    def wait(self, timeout: float | None = None) -> bool:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return super().wait(timeout)


def test_a_wait_interrupted_does_not_leave_the_lock_held(tmp_path: Path) -> None:
    lock_file = tmp_path / "queue.db-writer.lock"
    lock = carnet_db.WriterLock(lock_file)
    lock._granted = Interrupted()
    holder = hold_elsewhere(lock_file)
    with pytest.raises(KeyboardInterrupt):
        lock.take(5)
    os.close(holder)  # the helper gets the lock; nobody wants it any more
    for _ in range(200):
        with lock._state:  # (the helper lets the lock go under it)
            if not lock._waiting:
                break
        time.sleep(0.01)
    assert not lock.held
    assert not locked_elsewhere(lock_file)
    lock.close()


class FailingFlock:
    """``fcntl`` as ``carnet.db`` sees it, whose blocking flock fails (ENOLCK, say)."""

    LOCK_EX, LOCK_NB, LOCK_UN = fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN

    @staticmethod
    def flock(fd: int, operation: int) -> None:
        if operation == fcntl.LOCK_EX:
            raise OSError(37, "No locks available")
        fcntl.flock(fd, operation)


def test_a_helper_whose_flock_fails_fails_the_waiting_caller_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock_file = tmp_path / "queue.db-writer.lock"
    lock = carnet_db.WriterLock(lock_file)
    holder = hold_elsewhere(lock_file)
    monkeypatch.setattr(carnet_db, "fcntl", FailingFlock)
    outcome: list[str] = []

    def writer() -> None:
        try:
            lock.take(60)
            outcome.append("taken")
        except WriterBusy:
            outcome.append("busy")

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(10)  # not its 60 s
    assert outcome == ["busy"]
    assert not lock.held
    monkeypatch.undo()
    os.close(holder)
    lock.take(1)  # the next write goes through
    assert lock.held
    lock.close()


def test_a_read_only_engine_reads_while_another_connection_writes_and_never_writes(
    database: str, tmp_path: Path
) -> None:
    """``carnet documents verify``'s engine: it reads a snapshot while a writer is busy (it
    would wait for that writer, 30 s at most, with ``BEGIN IMMEDIATE``), and refuses to write."""
    writer = sqlite3.connect(tmp_path / "queue.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")  # SQLite's writer is taken, not committed
    engine = make_engine(database, read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            with pytest.raises(OperationalError, match="readonly"):
                conn.execute(text("INSERT INTO t VALUES (2)"))
        writer.execute("COMMIT")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT n FROM t")).scalars().all() == [1]
    finally:
        writer.close()
        engine.dispose()


def test_waiting_briefly_gives_up_a_transaction_before_it_begins_until_one_commits(
    database: str, tmp_path: Path
) -> None:
    """An event loop's transactions (decision 8): past a short wait for another process's lock,
    one is given up before its first statement, as long as none of the block has committed
    (after a rollback too: a refusal's trail); once one has, the others wait as usual."""
    engine = make_engine(database, single_writer=True)
    with engine.connect():
        pass  # the lock file exists once a connection is made
    lock_file = tmp_path / "queue.db-writer.lock"
    with carnet_db.waiting_briefly(0.05):
        with engine.connect() as conn, conn.begin() as rolled_back:  # free: it begins at once
            conn.execute(text("INSERT INTO t VALUES (1)"))
            rolled_back.rollback()
        holder = hold_elsewhere(lock_file)
        try:
            with pytest.raises(carnet_db.WriterBusyForNow), engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (2)"))
        finally:
            os.close(holder)
    with carnet_db.waiting_briefly(0.05):
        with engine.begin() as conn:  # free: it begins at once, and commits
            conn.execute(text("INSERT INTO t VALUES (3)"))
        holder = hold_elsewhere(lock_file)
        threading.Timer(0.3, os.close, [holder]).start()  # another worker, done in 0.3 s
        with engine.begin() as conn:  # waits for it, past the brief wait
            conn.execute(text("INSERT INTO t VALUES (4)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [3, 4]
    engine.dispose()


def test_commands_that_write_queue_on_the_writer_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that a server's worker meeting a command's transaction waits in its thread pool, not
    in SQLite's busy handler on its event loop."""
    from typer.testing import CliRunner

    from carnet.cli import app

    monkeypatch.setenv("CARNET_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    lock_file = tmp_path / "x.db-writer.lock"
    lock_file.touch()
    monkeypatch.setattr(carnet_db, "WRITER_WAIT_SECONDS", 0.2)
    holder = hold_elsewhere(lock_file)
    try:
        busy = runner.invoke(app, ["purge"])
    finally:
        os.close(holder)
    assert isinstance(busy.exception, WriterBusy)
    done = runner.invoke(app, ["purge"])
    assert (done.exit_code, done.output.strip()) == (0, "purged 0 record(s)")
