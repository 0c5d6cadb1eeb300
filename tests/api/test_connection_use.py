"""Where a request's transaction runs (decisions 8 and 10): on the event loop, unless a
``DbSession`` request holds a connection across an await, or the setting says otherwise; and
then in the thread pool. A small app with the real dependencies and the tests' session factory."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from carnet.app import create_app
from carnet.db import make_engine, make_session_factory
from carnet.migrations.runner import upgrade
from carnet.settings import Settings
from carnet.web.deps import ConnectionUse, DbSession, Tx
from tests.conftest import TEST_URL, hold_elsewhere
from tests.documents.fresh_demo import settings_like


def where_it_ran(session: Session) -> dict[str, Any]:
    """The thread a transaction ran in, and proof that it had the database."""
    return {"thread": threading.get_ident(), "one": session.execute(text("SELECT 1")).scalar()}


def ran_on_the_loop(answer: Any) -> bool:
    """Whether a ``where_it_ran`` answer ran on the event loop's thread (having reached the
    database either way)."""
    ran = answer.json()
    assert ran["one"] == 1
    return bool(ran["thread"] == ran["loop"])


def small_app(factory: sessionmaker[Session], *, on_loop: bool) -> tuple[FastAPI, ConnectionUse]:
    app = FastAPI()
    bind: Any = factory.kw["bind"]
    use = ConnectionUse(on_loop=on_loop, one_connection=bind.dialect.name == "sqlite")
    app.state.session_factory = factory
    app.state.connection_use = use

    @app.get("/tx")
    async def in_a_transaction(tx: Tx) -> dict[str, Any]:
        ran = await tx.run(where_it_ran)
        return {**ran, "loop": threading.get_ident()}

    @app.get("/tx-in-thread")
    async def in_a_thread(tx: Tx) -> dict[str, Any]:
        ran = await tx.run_in_thread(where_it_ran)
        return {**ran, "loop": threading.get_ident()}

    @app.get("/session")
    def with_a_session(request: Request, session: DbSession) -> dict[str, Any]:
        session.execute(text("SELECT 1"))
        return {"held": request.app.state.connection_use.held}

    return app, use


def test_on_sqlite_a_transaction_runs_on_the_event_loop(
    factory: sessionmaker[Session],
) -> None:
    app, _ = small_app(factory, on_loop=True)
    with TestClient(app) as client:
        assert ran_on_the_loop(client.get("/tx"))
        assert not ran_on_the_loop(client.get("/tx-in-thread"))  # a content read: the pool


def test_a_session_held_across_awaits_sends_transactions_to_the_thread_pool(
    factory: sessionmaker[Session],
) -> None:
    app, use = small_app(factory, on_loop=True)
    with TestClient(app) as client:
        assert client.get("/session").json() == {"held": 1}  # counted while its route runs
        assert use.held == 0  # and no longer once its commit is done
        use.held = 1  # as while such a request is in flight
        assert not ran_on_the_loop(client.get("/tx"))


def test_a_failed_session_request_is_no_longer_counted(factory: sessionmaker[Session]) -> None:
    app, use = small_app(factory, on_loop=True)

    @app.get("/broken")
    def broken(session: DbSession) -> None:
        session.execute(text("SELECT no_such_column FROM patients"))

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/broken").status_code == 500
    assert use.held == 0


def test_off_the_loop_transactions_run_in_the_thread_pool(factory: sessionmaker[Session]) -> None:
    app, _ = small_app(factory, on_loop=False)
    with TestClient(app) as client:
        assert not ran_on_the_loop(client.get("/tx"))


def test_the_app_runs_transactions_on_the_loop_unless_told_not_to(
    client: TestClient, settings: Settings
) -> None:
    app: Any = client.app
    use = app.state.connection_use
    assert use.on_loop is True  # SQLite and PostgreSQL alike (decision 10)
    assert use.one_connection is (app.state.engine.dialect.name == "sqlite")
    threads = create_app(settings_like(settings, transactions_on_loop=False))
    assert threads.state.connection_use.on_loop is False


# --- with the server's own engine: one SQLite connection, the writer lock -------------------


def one_connection_app(tmp_path: Path) -> tuple[FastAPI, threading.Event, threading.Event]:
    """An app on the server's SQLite engine (one pooled connection, a 5 s pool timeout here),
    with two ways to hold that connection until ``release`` is set: a ``DbSession`` route
    (``/hold``) and a transaction in the thread pool (``/hold-in-thread``, as ITI-68's)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}", single_writer=True, pool_timeout=5)
    app, _ = small_app(make_session_factory(engine, None), on_loop=True)
    holding, release = threading.Event(), threading.Event()

    def hold(session: Session) -> None:
        session.execute(text("SELECT 1"))  # the connection and the writer are this request's
        holding.set()
        assert release.wait(20)

    @app.get("/hold")
    def hold_in_a_route(session: DbSession) -> None:
        hold(session)

    @app.get("/hold-in-thread")
    async def hold_in_a_thread(tx: Tx) -> None:
        await tx.run_in_thread(hold)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    return app, holding, release


@pytest.mark.parametrize("holder", ["/hold", "/hold-in-thread"])
def test_a_transaction_waits_off_the_loop_for_a_connection_another_request_holds(
    tmp_path: Path, holder: str
) -> None:
    """On the loop, it would wait for the pool (5 s) with the loop blocked: nothing else would be
    answered meanwhile, and it would fail. In the thread pool, it waits for the holder."""
    app, holding, release = one_connection_app(tmp_path)
    with TestClient(app) as client, ThreadPoolExecutor(2) as requests:
        held = requests.submit(client.get, holder)
        assert holding.wait(10)
        waiting = requests.submit(client.get, "/tx")
        time.sleep(0.3)  # time for it to reach the pool
        started = time.monotonic()
        assert client.get("/ping").json() == {"pong": True}  # the loop still answers
        assert time.monotonic() - started < 2
        release.set()
        assert held.result(20).status_code == 200
        answer = waiting.result(20)
        assert answer.status_code == 200
        assert not ran_on_the_loop(answer)


def test_a_session_request_commits_without_a_thread_while_every_thread_waits_for_it(
    tmp_path: Path,
) -> None:
    """With one thread in the pool (for the test; 40 in Carnet), a transaction sent to the pool
    while a ``DbSession`` request holds the connection takes that thread and waits for the
    connection. The ``DbSession`` request's commit must not need a thread to give it back."""
    app, holding, release = one_connection_app(tmp_path)

    def one_thread() -> None:  # run on the app's event loop: the pool is the loop's
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1

    with TestClient(app) as client, ThreadPoolExecutor(2) as requests:
        assert client.portal is not None
        client.portal.call(one_thread)
        held = requests.submit(client.get, "/hold")
        assert holding.wait(10)
        waiting = requests.submit(client.get, "/tx")  # in the pool: the connection is held
        time.sleep(0.3)  # it queues for the one thread, taken by /hold's route
        release.set()  # /hold's route gives the thread back: /tx takes it, /hold commits
        assert held.result(20).status_code == 200
        answer = waiting.result(20)
        assert answer.status_code == 200, answer.text


def test_a_transaction_waits_in_the_thread_pool_while_another_worker_keeps_the_writer(
    tmp_path: Path,
) -> None:
    """Another worker process in a long transaction (its lock file held here): on the loop, the
    transaction would wait for it with the loop blocked, nothing else answered. Past a short
    wait, it waits in the thread pool instead, and commits once the writer is free."""
    app, _, _ = one_connection_app(tmp_path)
    with TestClient(app) as client, ThreadPoolExecutor(1) as requests:
        assert ran_on_the_loop(client.get("/tx"))  # the writer free: on the loop
        holder = hold_elsewhere(tmp_path / "one.db-writer.lock")
        try:
            waiting = requests.submit(client.get, "/tx")
            time.sleep(0.3)
            started = time.monotonic()
            assert client.get("/ping").json() == {"pong": True}  # the loop still answers
            assert time.monotonic() - started < 2
            assert not waiting.done()  # and the transaction still waits for the writer
        finally:
            os.close(holder)
        answer = waiting.result(20)
        assert answer.status_code == 200
        assert not ran_on_the_loop(answer)
        assert ran_on_the_loop(client.get("/tx"))  # back on the loop


def test_on_a_sqlite_file_the_outbox_thread_has_a_connection_of_its_own(
    settings: Settings, tmp_path: Path
) -> None:
    """The event loop's transactions use the process's one connection. The outbox thread's
    transactions wait for the writer lock like another process's, on a connection of their
    own: waiting on the loop's, they would hold up the loop for as long as the lock is busy."""
    url = f"sqlite:///{tmp_path / 'own.db'}"
    app = create_app(settings_like(settings, database_url=url))
    loop_engine, outbox_engine = app.state.engine, app.state.worker.factory.kw["bind"]
    assert outbox_engine is not loop_engine
    assert str(outbox_engine.url) == str(loop_engine.url) == url
    assert outbox_engine.pool.size() == loop_engine.pool.size() == 1  # each queued on the lock
    memory = create_app(settings_like(settings, database_url="sqlite://"))
    assert memory.state.worker.factory.kw["bind"] is memory.state.engine  # one database only


# --- PostgreSQL: a row lock held by another worker's transaction ---------------------------


@pytest.mark.skipif(
    TEST_URL.startswith("sqlite"), reason="a PostgreSQL row lock (SQLite: the writer lock, above)"
)
def test_on_postgresql_a_transaction_waits_in_the_thread_pool_for_a_row_lock_held_elsewhere() -> (
    None
):
    """Another worker's transaction holds a row the request must lock (an audit chain's head,
    say). On the loop the request would wait for it with the loop blocked; past a short wait
    (``lock_timeout``) it is rolled back and waits in the thread pool instead, on the same
    connection (a pool of one here), whose lock timeout is lifted for it: it waits longer
    than the short wait, and commits once the row is free. Then back on the loop."""
    schema = f"carnet_lock_{os.getpid()}"
    admin = create_engine(TEST_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    in_schema = {"options": f"-csearch_path={schema}"}
    other = create_engine(TEST_URL, isolation_level="AUTOCOMMIT", connect_args=in_schema)
    with other.connect() as conn:
        conn.execute(text("CREATE TABLE heads (id int PRIMARY KEY)"))
        conn.execute(text("INSERT INTO heads VALUES (1)"))
    engine = make_engine(TEST_URL, pool_size=1, max_overflow=0, connect_args=in_schema)
    app, _ = small_app(make_session_factory(engine, None), on_loop=True)
    lock_it = text("SELECT id FROM heads WHERE id = 1 FOR UPDATE")

    @app.get("/lock")
    async def lock_the_row(tx: Tx) -> dict[str, Any]:
        def lock(session: Session) -> dict[str, Any]:
            return {"thread": threading.get_ident(), "one": session.execute(lock_it).scalar()}

        return {**(await tx.run(lock)), "loop": threading.get_ident()}

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    try:
        with TestClient(app) as client, ThreadPoolExecutor(1) as requests:
            assert ran_on_the_loop(client.get("/lock"))  # the row free: on the loop
            with other.connect() as holder:  # another worker's transaction
                holder.execute(text("BEGIN"))
                holder.execute(lock_it)
                waiting = requests.submit(client.get, "/lock")
                time.sleep(0.3)  # past the loop's short wait: now in the thread pool
                started = time.monotonic()
                assert client.get("/ping").json() == {"pong": True}  # the loop still answers
                assert time.monotonic() - started < 2
                time.sleep(0.4)  # the thread's wait goes on past the loop's lock timeout
                assert not waiting.done()
                holder.execute(text("ROLLBACK"))
            answer = waiting.result(20)
            assert answer.status_code == 200, answer.text
            assert not ran_on_the_loop(answer)
            assert ran_on_the_loop(client.get("/lock"))  # back on the loop
    finally:
        engine.dispose()
        other.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# --- the token endpoint: an async route with a session -------------------------------------


def test_the_token_endpoint_waits_for_the_connection_off_the_loop(
    settings: Settings, tmp_path: Path
) -> None:
    """``/oauth/token`` is async (it reads its form) and uses a ``DbSession``. Were its SQL run on
    the loop, it would wait there for SQLite's one connection while a portal request holds it
    in the thread pool — a request whose commit needs that very loop: a stall until the pool's
    timeout (5 s here). It runs in the thread pool, and answers as soon as the holder commits."""
    url = f"sqlite:///{tmp_path / 'token.db'}"
    engine = make_engine(url, single_writer=True, pool_timeout=5)
    upgrade(url, engine=engine)
    app = create_app(settings_like(settings, database_url=url), engine=engine)
    holding, release = threading.Event(), threading.Event()

    @app.get("/hold")
    def hold(session: DbSession) -> None:  # a portal page, say
        session.execute(text("SELECT 1"))
        holding.set()
        assert release.wait(20)

    with TestClient(app) as client, ThreadPoolExecutor(2) as requests:
        held = requests.submit(client.get, "/hold")
        assert holding.wait(10)
        asked = requests.submit(
            client.post,
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": "nope", "client_id": "nobody"},
        )
        time.sleep(0.3)  # the token request reaches its first statement
        release.set()
        started = time.monotonic()
        assert held.result(20).status_code == 200
        answer = asked.result(20)
        assert time.monotonic() - started < 3
        assert answer.status_code in (400, 401), answer.text  # refused, not failed
    engine.dispose()
