"""Test fixtures: a real database (SQLite or PostgreSQL, from CARNET_TEST_DATABASE_URL), the
personas loaded once per run, and one rolled-back transaction per test. Only external
boundaries are faked (the notification sender, the clock)."""

from __future__ import annotations

import fcntl
import html
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import ColumnElement, Connection, Engine, create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from carnet import clock
from carnet.access import Actor, ActorKind
from carnet.accounts.service import professional_actor
from carnet.app import create_app
from carnet.audit.models import AuditEntry
from carnet.db import make_engine
from carnet.demo import load_demo
from carnet.documents.models import DocumentEntry
from carnet.documents.storage import LocalBlobStore
from carnet.identity.nir import nir_key
from carnet.migrations.runner import upgrade
from carnet.notifications.senders import Message, SendError
from carnet.patients.models import Patient
from carnet.professionals.models import Professional, Structure
from carnet.settings import Settings, load_settings
from carnet.systems.models import System

TEST_URL = os.environ.get("CARNET_TEST_DATABASE_URL", "sqlite://")
NIRS = {
    "sylvie": "275033155500425",
    "lea": "211083155504497",
    "jean": "168073155512372",
    "rose": "290069205003110",
    "henri": "155011305501013",
}
INS = "urn:oid:1.2.250.1.213.1.4.8|{}"


def valid_nir(body: str) -> str:
    """A NIR from its first 13 digits (sex, year and month of birth, place, order) and its key,
    for a throwaway person in a test (``nir_key`` has its own tests with worked values)."""
    return body + nir_key(body)


EXPIRED = "Le formulaire a expiré"  # the portal's CSRF refusal (web.i18n)


def refused_for_csrf(response: Any) -> bool:
    """The portal refused the form for its CSRF token (403, "the form has expired"), not for
    the access it asked for."""
    return response.status_code == 403 and EXPIRED in html.unescape(response.text)


class FakeSender:
    """Hand-written fake of the e-mail/SMS boundary: keeps messages, can be made to fail."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.down = False

    def send(self, message: Message) -> None:
        if self.down:
            raise SendError("connection refused")
        self.messages.append(message)

    def last_code(self, to: str) -> str:
        for message in reversed(self.messages):
            if message.to == to:
                return "".join(ch for ch in message.body.split("\n")[0] if ch.isdigit())
        raise AssertionError(f"no message to {to}")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return load_settings(
        env="test",
        database_url=TEST_URL,
        data_dir=data_dir,
        secret_key="test-secret-" + "x" * 40,
        run_worker=False,
        base_url="http://127.0.0.1:8000",
    )


def blob_store(settings: Settings) -> LocalBlobStore:
    """Documents' contents go to a real local store under the run's temporary folder."""
    return LocalBlobStore(settings.data_dir / "blobs")


def _sqlite_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'carnet-test.db'}"


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if TEST_URL.startswith("sqlite"):
        url = _sqlite_url(tmp_path_factory.mktemp("db"))
        eng = make_engine(url)
        upgrade(url, engine=eng)
        yield eng
        eng.dispose()
        return
    schema = f"carnet_test_{os.getpid()}"
    admin = create_engine(TEST_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(TEST_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(TEST_URL, engine=eng)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@dataclass
class Cast:
    """Ids of the personas, loaded once per run (``carnet.demo``)."""

    patients: dict[str, uuid.UUID] = field(default_factory=dict)
    professionals: dict[str, uuid.UUID] = field(default_factory=dict)  # by family name, lower
    systems: dict[str, tuple[str, Path]] = field(default_factory=dict)  # finess → (client, key)
    password: str = ""


@pytest.fixture(scope="session")
def cast(engine: Engine, settings: Settings) -> Cast:
    factory = sessionmaker(
        bind=engine,
        expire_on_commit=False,
        info={"settings": settings, "blobs": blob_store(settings)},
    )
    with factory() as session:
        summary = load_demo(session)
        session.commit()
        result = Cast(password=summary.password)
        for key, nir in NIRS.items():
            result.patients[key] = session.execute(
                select(Patient.id).where(Patient.nir == nir)
            ).scalar_one()
        for pro in session.execute(select(Professional)).scalars():
            result.professionals[pro.family_name.lower().replace("è", "e")] = pro.id
        for system, finess in session.execute(
            select(System, Structure.finess).join(Structure, Structure.id == System.structure_id)
        ).all():
            result.systems[finess or ""] = (
                system.client_id,
                settings.data_dir / "demo-keys" / f"{finess}.pem",
            )
    return result


@pytest.fixture
def connection(engine: Engine, cast: Cast) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def factory(connection: Connection, settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
        info={"settings": settings, "blobs": blob_store(settings)},
    )


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as db:
        yield db


def audit_rows(session: Session, *where: ColumnElement[bool]) -> list[AuditEntry]:
    """The audit rows matching ``where``, oldest first (by position in their chain), with what
    the session's transaction has done: its rows are written at commit, so the session commits
    first — the tests' sessions run in a savepoint of a connection rolled back at the end, and
    the rows go the way a request's do (``before_commit``) — and rows read earlier are
    refreshed."""
    session.commit()
    return list(
        session.execute(
            select(AuditEntry)
            .where(*where)
            .order_by(AuditEntry.seq)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def current_documents(
    session: Session, patient_id: uuid.UUID, *where: ColumnElement[bool]
) -> list[DocumentEntry]:
    """The patient's documents as they stand (their current versions) matching ``where``."""
    return list(
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == patient_id, DocumentEntry.current.is_(True), *where
            )
        ).scalars()
    )


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def client(
    settings: Settings, factory: sessionmaker[Session], sender: FakeSender
) -> Iterator[TestClient]:
    app = create_app(
        settings, engine=factory.kw["bind"].engine, session_factory=factory, sender=sender
    )
    with TestClient(app, base_url=settings.base_url) as test_client:
        yield test_client


@pytest.fixture
def frozen() -> Iterator[Callable[[datetime], None]]:
    """Freeze the clock at a given moment (the clock is an external boundary)."""
    previous = clock.set_clock(lambda: datetime.now(UTC))

    def freeze(moment: datetime) -> None:
        clock.set_clock(lambda: moment)

    yield freeze
    clock.set_clock(previous)


@pytest.fixture
def pro(session: Session, cast: Cast) -> Callable[..., Actor]:
    """The access actor of a persona professional, optionally in another mode."""

    def make(name: str, **overrides: Any) -> Actor:
        professional = session.get(Professional, cast.professionals[name])
        assert professional is not None
        structure = session.get(Structure, professional.structure_id)
        actor = professional_actor(professional, structure)
        return Actor(**{**actor.__dict__, **overrides})

    return make


@pytest.fixture
def holder(cast: Cast) -> Callable[[str], Actor]:
    def make(name: str) -> Actor:
        return Actor(
            kind=ActorKind.PATIENT,
            ref=f"patient:{name}",
            display_name=name,
            patient_id=cast.patients[name],
        )

    return make


OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="tests", display_name="tests")


@pytest.fixture
def operator() -> Actor:
    return OPERATOR


@pytest.fixture
def assertion(settings: Settings, cast: Cast) -> Callable[..., str]:
    """Sign an RFC 7523 assertion with a persona system's key."""

    def sign(finess: str, sub: str, **claims: Any) -> str:
        client_id, key_path = cast.systems[finess]
        key = ECKey.import_key(key_path.read_text())
        now = int(time.time())
        body = {
            "iss": client_id,
            "sub": sub,
            "aud": settings.token_endpoint,
            "iat": now,
            "exp": now + 120,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode({"alg": "ES256"}, body, key)

    return sign


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture
def system_token(client: TestClient, assertion: Callable[..., str]) -> Callable[..., str]:
    """Obtain a real access token for a professional through a persona system."""

    def get(finess: str, rpps: str, patient: str | None = None, **claims: Any) -> str:
        signed = assertion(
            finess, "8" + rpps, patient=INS.format(NIRS[patient]) if patient else None, **claims
        )
        response = client.post("/oauth/token", data={"grant_type": JWT_BEARER, "assertion": signed})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    return get


def hold_elsewhere(lock_file: Path) -> int:
    """Another worker's descriptor, holding the writer lock: close it to release."""
    holder = os.open(lock_file, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    return holder


def locked_elsewhere(path: Path) -> bool:
    """Whether another open file description holds the lock (as another worker would see)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases it when this probe got it
    return False
