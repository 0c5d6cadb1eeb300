"""Request dependencies: the audited transaction, the settings, the acting actor.

Cheap dependencies are ``async`` so that they run on the event loop: a sync dependency costs a
trip through the thread pool, and the hot path would otherwise make five of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from carnet.access import Actor
from carnet.audit.transaction import audited_transaction, finish_request
from carnet.errors import Unauthenticated
from carnet.settings import Settings
from carnet.web import tokens

T = TypeVar("T")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _session(request: Request) -> AsyncIterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()  # connects lazily, in the route's thread
    error: BaseException | None = None
    try:
        yield session
    except BaseException as raised:
        error = raised
    # One trip to the thread pool: commit (or record a denial, or roll back) and close.
    await run_in_threadpool(finish_request, session, error)


# scope="function": commit happens before the response is sent, so a failed commit (and so a
# missing audit row) fails the request — no audit, no access.
DbSession = Annotated[Session, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


class Transaction:
    """Runs one service call and its transaction boundary in a single trip to the thread pool
    (the route stays async; ``DbSession`` costs a second trip for the commit). Used by the hot
    FHIR routes."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(self._run, func, args, kwargs)

    def _run(self, func: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with audited_transaction(self.factory) as session:
            return func(session, *args, **kwargs)


async def _transaction(request: Request) -> Transaction:
    return Transaction(request.app.state.session_factory)


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
    return FhirCall(actor, Transaction(request.app.state.session_factory), settings)


Call = Annotated[FhirCall, Depends(fhir_call)]
