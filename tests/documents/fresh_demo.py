"""A demo of its own for the tests that cannot live in the rolled-back transaction: a real server
in another thread, a child process killed mid-upload, the ``carnet`` command. Each gets a fresh,
committed database (a SQLite file, or a PostgreSQL schema of its own) loaded with
``carnet.demo.load_demo``, its own data folder (blobs and demo keys) and settings that match."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import uvicorn
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from carnet.db import make_engine, make_session_factory
from carnet.demo import load_demo
from carnet.documents.storage import LocalBlobStore
from carnet.migrations.runner import upgrade
from carnet.professionals.models import Structure
from carnet.settings import Settings
from carnet.systems.models import System
from tests.conftest import TEST_URL

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def settings_like(settings: Settings, **changes: Any) -> Settings:
    """The run's settings with some fields changed. Not ``settings.model_copy(update=…)``: that
    copies the cached properties too (``fhir_base``, ``token_endpoint``, ``blob_path``), so a
    copy with another ``base_url`` would still issue tokens for the old address."""
    return Settings(**{**settings.model_dump(), **changes})


@dataclass
class FreshDemo:
    url: str  # what CARNET_DATABASE_URL must say to reach this database
    engine: Engine
    settings: Settings
    factory: sessionmaker[Session]
    blobs: LocalBlobStore

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    def env(self) -> dict[str, str]:
        """The environment under which ``carnet`` (or a child process) uses this demo."""
        return {
            "CARNET_ENV": "test",
            "CARNET_DATABASE_URL": self.url,
            "CARNET_DATA_DIR": str(self.data_dir),
            "CARNET_SECRET_KEY": self.settings.secret_key,
            "CARNET_MASTER_KEY": self.settings.master_key,
            "CARNET_RUN_WORKER": "false",
        }

    def blob_keys(self) -> set[str]:
        return set(self.blobs.iter_keys())

    def temp_files(self) -> list[Path]:
        return [p for p in self.data_dir.joinpath("blobs").rglob("*.tmp") if p.is_file()]


@contextmanager
def fresh_demo(folder: Path, settings: Settings, **changes: Any) -> Iterator[FreshDemo]:
    """A committed demo in ``folder``, dropped afterwards (PostgreSQL: its schema)."""
    schema = None
    if TEST_URL.startswith("sqlite"):
        url = f"sqlite:///{folder / 'carnet.db'}"
    else:
        schema = f"carnet_docs_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        url = (
            make_url(TEST_URL)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        admin = create_engine(TEST_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    own = settings_like(settings, database_url=url, data_dir=folder, **changes)
    engine = make_engine(url)
    try:
        upgrade(url, engine=engine)
        blobs = LocalBlobStore(own.blob_path)
        factory = make_session_factory(engine, own, blobs=blobs)
        with factory() as session:
            load_demo(session)
            session.commit()
        yield FreshDemo(url, engine, own, factory, blobs)
    finally:
        engine.dispose()
        if schema is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


# --- a real server ------------------------------------------------------------------------


def free_socket() -> socket.socket:
    """A socket bound to a free loopback port, handed to the server as is (no race for it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app: FastAPI, sock: socket.socket) -> Iterator[None]:
    """Run ``app`` under uvicorn in a background thread until the block ends."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def professional_token(
    demo: FreshDemo, finess: str, ps_idnat: str, base_url: str, **claims: Any
) -> str:
    """A real access token through the JWT-bearer grant (RFC 7523), signed with the demo key
    that ``load_demo`` wrote for the structure's software."""
    with demo.factory() as session:
        client_id = session.execute(
            select(System.client_id)
            .join(Structure, Structure.id == System.structure_id)
            .where(Structure.finess == finess)
        ).scalar_one()
    key = ECKey.import_key((demo.data_dir / "demo-keys" / f"{finess}.pem").read_text())
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": ps_idnat,
        "aud": f"{base_url}/oauth/token",
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    response = requests.post(
        f"{base_url}/oauth/token",
        data={"grant_type": JWT_BEARER, "assertion": jwt.encode({"alg": "ES256"}, body, key)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
