"""Request dependencies: the audited transaction, the settings, the acting actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor
from carnet.apps import service as apps
from carnet.audit.transaction import audited_transaction
from carnet.errors import Unauthenticated
from carnet.settings import Settings
from carnet.web import tokens


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    with audited_transaction(factory) as session:
        yield session


# scope="function": commit happens before the response is sent, so a failed commit (and so a
# missing audit row) fails the request — no audit, no access.
DbSession = Annotated[Session, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def bearer_actor(request: Request, session: DbSession, settings: SettingsDep) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("An access token is required (Authorization: Bearer …).")
    actor = tokens.actor_from_claims(tokens.decode(settings, token.strip()))
    if actor.account_id is not None and actor.client_id is not None:
        # A disconnected app loses access at once, whatever its token's lifetime.
        patient = actor.bound_patient_id or actor.patient_id
        if patient is None or apps.active_grant(session, patient, actor.client_id or "") is None:
            raise Unauthenticated("This app is no longer connected to the record.")
    request.state.actor = actor
    return actor


ApiActor = Annotated[Actor, Depends(bearer_actor)]
