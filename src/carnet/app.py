"""The composition root: ``create_app(settings)`` wires the engine, the session factory, the
routers, the error handlers and the notification worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from carnet import models  # noqa: F401 - registers every table
from carnet.accounts import pages as account_pages
from carnet.accounts.service import LocalTotpProvider
from carnet.authorizations import api as authorization_api
from carnet.db import make_engine, make_session_factory
from carnet.fhir import api as fhir_api
from carnet.notifications.senders import Sender
from carnet.notifications.worker import Worker, make_sender
from carnet.records import api as record_api
from carnet.settings import Settings, load_settings
from carnet.web import errors, oauth_routes

log = logging.getLogger("carnet")


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    sender: Sender | None = None,
) -> FastAPI:
    settings = (settings or load_settings()).refuse_insecure()
    engine = engine or make_engine(settings.database_url)
    session_factory = session_factory or make_session_factory(engine, settings)
    worker = Worker(session_factory, sender or make_sender(settings), settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()

    app = FastAPI(
        title="Carnet",
        version="0.1.0",
        debug=settings.debug,
        lifespan=lifespan,
        docs_url="/api/docs" if settings.env != "production" else None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if settings.env != "production" else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.worker = worker
    app.state.identity_provider = LocalTotpProvider()
    errors.install(app)

    for router in (
        fhir_api.router,
        record_api.router,
        authorization_api.router,
        oauth_routes.router,
        account_pages.router,
    ):
        app.include_router(router)
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        actor = getattr(request.state, "actor", None)
        mode = getattr(actor, "mode", None)
        if mode is not None and mode.value != "normal" and response.status_code < 400:
            # Emergency and regulator accesses are flagged on every response.
            response.headers["X-Carnet-Access-Mode"] = mode.value
        return response

    return app
