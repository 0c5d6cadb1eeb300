"""PostgreSQL's pooled connections (decision 10): checked on checkout without a round trip on the
hot path (``db._check_on_checkout``): one the server closed while it sat in the pool is
replaced before use, and one idle past ``IDLE_PING_SECONDS`` is pinged first; and their lock
timeout set for the event loop's brief waits only when it changes."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from carnet import db
from carnet.db import make_engine, waiting_briefly
from tests.conftest import TEST_URL

pytestmark = pytest.mark.skipif(
    TEST_URL.startswith("sqlite"), reason="PostgreSQL's pool (SQLite: one local connection)"
)


@pytest.fixture
def one() -> Iterator[Engine]:
    engine = make_engine(TEST_URL, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def backend(engine: Engine) -> int:
    """The server process of the pool's connection, checked out and given back."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pid: int) -> None:
    """What a server restart or an administrator does to a connection."""
    admin = create_engine(TEST_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()
    time.sleep(0.2)  # the server's goodbye reaches the pooled socket


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(one: Engine) -> None:
    first = backend(one)
    terminate(first)
    second = backend(one)  # no error: the dead connection was discarded on checkout
    assert second != first


def test_a_connection_lost_silently_is_pinged_once_idle_past_the_limit(
    one: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection dropped on the way (a firewall's idle timeout) shows nothing on its socket:
    that is what the patched ``select`` says here. Used again soon, it is trusted (and fails
    its request); idle past the limit, it is pinged and replaced."""

    monkeypatch.setattr(db, "_has_news", lambda _socket: False)
    first = backend(one)
    terminate(first)
    with pytest.raises(DBAPIError), one.connect() as conn:  # trusted: not pinged
        conn.execute(text("SELECT 1"))
    one.dispose()

    first = backend(one)
    terminate(first)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    assert backend(one) != first  # pinged, found dead, replaced


def test_the_lock_timeout_is_sent_only_when_it_changes(one: Engine) -> None:
    """A transaction on the event loop waits briefly for locks (``waiting_briefly``); the
    ``SET lock_timeout`` that says so outlives its transaction once committed, so under load
    it is sent once per connection, not once per request. A transaction that may wait puts
    the server's default back; a rolled-back ``SET`` is sent again."""
    sent: list[str] = []
    event.listen(one, "before_cursor_execute", lambda *a: sent.append(a[2]))

    def transaction(*, brief: bool, commit: bool = True) -> list[str]:
        sent.clear()
        with contextlib.ExitStack() as stack:
            if brief:
                stack.enter_context(waiting_briefly(0.1))
            with one.connect() as conn, conn.begin() as tx:
                conn.execute(text("SELECT 1"))
                if not commit:
                    tx.rollback()
        return [s for s in sent if "lock_timeout" in s]

    assert transaction(brief=True) == ["SET lock_timeout = '100ms'"]
    assert transaction(brief=True) == []  # the same connection: nothing to send
    with waiting_briefly(0.1), one.connect() as conn:  # what the server has
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "100ms"
    assert transaction(brief=False) == ["SET lock_timeout TO DEFAULT"]
    assert transaction(brief=False) == []
    assert transaction(brief=True, commit=False) == ["SET lock_timeout = '100ms'"]
    assert transaction(brief=True) == ["SET lock_timeout = '100ms'"]  # it went with the rollback


def test_a_socket_numbered_past_1023_is_checked_too(one: Engine) -> None:
    """``select`` refuses descriptors past 1023, which a busy worker's connections reach;
    ``poll`` does not. A connection the server closed, numbered past 1023, is replaced."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    hold = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]  # the low numbers taken
    try:
        one.dispose()
        with one.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            assert dbapi.fileno() > 1023
            first = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert backend(one) == first  # healthy: kept
        terminate(first)
        assert backend(one) != first  # closed by the server: replaced
    finally:
        for fd in hold:
            os.close(fd)


def test_a_dead_database_fails_a_connection_in_seconds(one: Engine) -> None:
    """libpq's limits (``PG_CONNECT_ARGS``): a request on the event loop blocks its worker while
    it waits, so a dead host must fail it in seconds, not in TCP's quarter of an hour."""
    with one.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        parameters = dbapi.info.get_parameters()  # type: ignore[attr-defined]
    for name, value in db.PG_CONNECT_ARGS.items():
        assert parameters.get(name) == str(value), name


def test_a_failed_commit_leaves_the_lock_timeout_to_send_again() -> None:
    """SQLAlchemy tells of a commit before it is sent: a COMMIT that fails (here a deferred
    constraint) undoes the transaction's SET on the server. The next transaction on the
    connection must not take it for granted."""
    schema = f"carnet_commit_{os.getpid()}"
    admin = create_engine(TEST_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(
        TEST_URL, pool_size=1, max_overflow=0, connect_args={"options": f"-csearch_path={schema}"}
    )
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with waiting_briefly(0.1), pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))  # refused only at COMMIT
        with waiting_briefly(0.1), engine.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "100ms"
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
