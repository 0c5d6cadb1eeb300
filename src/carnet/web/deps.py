"""Request dependencies: the audited transaction, the settings, the acting actor.

Cheap dependencies are ``async`` so that they run on the event loop: a sync dependency costs a
trip through the thread pool, and the hot path would otherwise make five of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from carnet.access import Actor
from carnet.audit.transaction import audited_transaction, finish_request
from carnet.db import WriterBusyForNow, waiting_briefly
from carnet.errors import Unauthenticated
from carnet.settings import Settings
from carnet.web import tokens

T = TypeVar("T")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _session(request: Request) -> AsyncIterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    connection: ConnectionUse = request.app.state.connection_use
    session = factory()  # connects lazily, in the route's thread
    error: BaseException | None = None
    connection.held += 1  # from the route's thread until the commit's: across awaits
    try:
        try:
            yield session
        except BaseException as raised:
            error = raised
        if error is None and connection.one_connection:
            # SQLite: the commit on the loop, with the connection the session holds. In the
            # thread pool it would need a thread, and every thread may be taken by
            # transactions waiting for this very connection (a stall until the pool's timeout).
            # Not on PostgreSQL: the commit writes the session's audit rows, and may wait for
            # a chain's head that another worker's transaction holds.
            finish_request(session, None)
        else:
            # One trip to the thread pool: commit (or record a denial, or roll back) and
            # close; shielded, so that a cancelled request still gives its connection back.
            # (A refusal rolls back, then writes its trail: it may need the connection again.)
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(finish_request, session, error)
    finally:
        connection.held -= 1


# scope="function": commit happens before the response is sent, so a failed commit (and so a
# missing audit row) fails the request — no audit, no access.
DbSession = Annotated[Session, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass
class ConnectionUse:
    """Where a process's ``Transaction``s run (decisions 8 and 10). A transaction's SQL is short
    and its round trips to a nearby database shorter than the thread pool's hop there and back
    with the GIL's hand-overs between the event loop's thread and the pool's, so it runs on the
    event loop (``on_loop``, the ``transactions_on_loop`` setting). Not while another request
    of the process may hold a connection, or locks, off the loop (``held``): a ``DbSession``,
    from its route in the thread pool to its commit after the route — waiting for that
    connection (SQLite's one) or its locks on the loop would block the very loop its release
    needs — or a transaction in the thread pool (a content read: the loop would wait as long
    as it takes). Then the thread pool. And when another worker process keeps a lock longer
    than ``LOOP_WAIT_SECONDS`` (SQLite's writer lock, a PostgreSQL row lock): the transaction
    then waits for it in the thread pool, and the loop goes on answering.

    ``one_connection``: SQLite, where a worker has one connection (decision 4), so a
    ``DbSession``'s commit runs on the loop too (see ``_session``)."""

    on_loop: bool
    one_connection: bool
    held: int = 0  # requests that may hold it off the loop (counted on the loop's thread)

    def here(self) -> bool:
        """Whether a transaction may run on the event loop now."""
        return self.on_loop and self.held == 0


# How long a worker's event loop may wait for another worker's writer lock before its
# transaction waits in the thread pool. The other's transactions take a millisecond or a few,
# but under load it may take the lock several times in a row: 10 ms cost a fifth of the
# submissions at 32 clients (decision 8).
LOOP_WAIT_SECONDS = 0.1


class Transaction:
    """Runs one service call and its transaction boundary: on the event loop when
    ``ConnectionUse`` allows it, otherwise in a single trip to the thread pool (the route
    stays async; ``DbSession`` costs a second trip for the commit). Used by the FHIR routes."""

    def __init__(self, factory: sessionmaker[Session], connection: ConnectionUse) -> None:
        self.factory = factory
        self.connection = connection

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``func(session, *args, **kwargs)`` in a transaction. On the loop, if another worker
        keeps a lock past ``LOOP_WAIT_SECONDS`` (SQLite's writer lock, a PostgreSQL row lock),
        ``func`` is stopped as its transaction begins or waits (none of its transactions
        committed yet: ``db.waiting_briefly``), rolled back, and called again in the thread
        pool: a function run here does nothing outside the database, and
        changes none of its arguments, before its first commit."""
        if self.connection.here():
            try:
                with waiting_briefly(LOOP_WAIT_SECONDS):
                    return self._run(func, args, kwargs)
            except WriterBusyForNow:
                pass  # a long transaction elsewhere: wait for it off the loop
        return await self._in_thread(func, args, kwargs)

    async def run_in_thread(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``run``, always in the thread pool: for a call that may take long outside the
        database (a content read from the blob store, perhaps over the network, and
        decrypted; attachments encrypted and stored), which would hold up every request of
        the process on the event loop."""
        return await self._in_thread(func, args, kwargs)

    async def _in_thread(
        self, func: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        # Counted while it may hold the connection: a transaction on the loop would otherwise
        # wait for it there, holding up the whole process for as long as a content read takes.
        self.connection.held += 1
        try:
            return await run_in_threadpool(self._run, func, args, kwargs)
        finally:
            self.connection.held -= 1

    def _run(self, func: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with audited_transaction(self.factory) as session:
            return func(session, *args, **kwargs)


async def _transaction(request: Request) -> Transaction:
    state = request.app.state
    return Transaction(state.session_factory, state.connection_use)


Tx = Annotated[Transaction, Depends(_transaction)]


async def bearer_actor(request: Request, settings: SettingsDep) -> Actor:
    """The actor named by the bearer token (a JWT checked without any database round trip;
    whether an app is still connected is checked by ``access`` with the rest)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("An access token is required (Authorization: Bearer …).")
    actor = tokens.actor_from_claims(tokens.decode(settings, token.strip()))
    request.state.actor = actor
    return actor


ApiActor = Annotated[Actor, Depends(bearer_actor)]


@dataclass(frozen=True)
class FhirCall:
    """What a hot FHIR route needs — the actor named by the bearer token, its transaction and
    the settings — resolved as one dependency: each dependency costs FastAPI a resolution per
    request, and the document routes (ITI-65, ITI-67, ITI-68) are the busiest."""

    actor: Actor
    tx: Transaction
    settings: Settings


async def fhir_call(request: Request) -> FhirCall:
    settings: Settings = request.app.state.settings
    actor = await bearer_actor(request, settings)
    state = request.app.state
    return FhirCall(actor, Transaction(state.session_factory, state.connection_use), settings)


Call = Annotated[FhirCall, Depends(fhir_call)]
