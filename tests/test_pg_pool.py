"""PostgreSQL's pooled connections (decision 10): checked on checkout without a round trip on the
hot path (``db._check_on_checkout``): one the server closed while it sat in the pool is
replaced before use, and one idle past ``IDLE_PING_SECONDS`` is pinged first; and their lock
timeout set for the event loop's brief waits only when it changes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

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

    def nothing_to_read(*_args: Any) -> tuple[list[Any], list[Any], list[Any]]:
        return [], [], []

    monkeypatch.setattr(db, "select", SimpleNamespace(select=nothing_to_read))
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
