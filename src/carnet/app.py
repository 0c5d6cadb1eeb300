"""The composition root: ``create_app(settings)`` wires the engine, the session factory, the
routers, the error handlers and the notification worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from carnet import models  # noqa: F401 - registers every table
from carnet.accounts import pages as account_pages
from carnet.accounts.service import LocalTotpProvider
from carnet.agenda import api as agenda_api
from carnet.agenda import pages as agenda_pages
from carnet.apps import pages as app_pages
from carnet.authorizations import api as authorization_api
from carnet.authorizations import pages as authorization_pages
from carnet.db import make_engine, make_session_factory, writer_lock_file
from carnet.documents import api as document_api
from carnet.documents import pages as document_pages
from carnet.documents.service import check_master_keys
from carnet.documents.storage import make_blob_store
from carnet.fhir import api as fhir_api
from carnet.messaging import api as messaging_api
from carnet.messaging import pages as messaging_pages
from carnet.notifications.senders import Sender
from carnet.notifications.worker import Worker, make_sender
from carnet.profile import api as profile_api
from carnet.profile import pages as profile_pages
from carnet.profile import terminology_api
from carnet.records import api as record_api
from carnet.records import pages as record_pages
from carnet.settings import Settings, load_settings
from carnet.web import errors, oauth_routes
from carnet.web.deps import ConnectionUse
from carnet.web.middleware import SecurityHeaders


def preload_terminology(data_dir: Path | None) -> None:
    from carnet.terminology import documents, drugs, labs, terminology
    from carnet.terminology.habilitations import load_matrix

    drugs.load_bdpm(data_dir)
    drugs.load_thesaurus(data_dir)
    documents.document_types()
    labs.lab_tests()
    terminology().professions  # noqa: B018 - loads the value sets
    load_matrix()


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    sender: Sender | None = None,
) -> FastAPI:
    settings = (settings or load_settings()).refuse_insecure()
    check_master_keys(settings.master_key, settings.previous_master_key_list)
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url, single_writer=True)
    if session_factory is not None:
        outbox_factory = session_factory
    else:
        blobs = make_blob_store(
            settings.blob_store,
            root=settings.blob_path,
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
        session_factory = outbox_factory = make_session_factory(engine, settings, blobs=blobs)
        if own_engine and writer_lock_file(settings.database_url) is not None:
            # The process's one SQLite connection serves the event loop's transactions
            # (decision 8): the outbox thread has its own, queued on the writer lock as another
            # process's, so that its waits for the lock never hold the loop's connection.
            outbox_engine = make_engine(settings.database_url, single_writer=True)
            outbox_factory = make_session_factory(outbox_engine, settings, blobs=blobs)
    worker = Worker(outbox_factory, sender or make_sender(settings), settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Reference data into memory before the first request needs it (≈0.6 s, once).
        await run_in_threadpool(preload_terminology, settings.terminology_dir)
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
        # FastAPI's own OpenTelemetry spans would carry URLs and their query strings (a FHIR
        # search names the patient's INS) to any collector the process is set up with.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.connection_use = ConnectionUse(
        on_loop=settings.transactions_on_loop, one_connection=engine.dialect.name == "sqlite"
    )
    app.state.worker = worker
    app.state.identity_provider = LocalTotpProvider()
    errors.install(app)

    for router in (
        document_api.router,
        fhir_api.router,
        record_api.router,
        authorization_api.router,
        oauth_routes.router,
        account_pages.router,
        document_pages.router,
        record_pages.router,
        authorization_pages.router,
        profile_pages.router,
        agenda_api.router,
        agenda_pages.router,
        messaging_api.router,
        messaging_pages.router,
        app_pages.router,
        terminology_api.router,
        profile_api.router,  # after the others: its paths are concrete, but keep it last
    ):
        app.include_router(router)
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )

    app.add_middleware(SecurityHeaders)
    return app
