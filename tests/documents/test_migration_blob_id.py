"""Migration 0012 gives the documents already stored their Binary id, so that ITI-68 finds
them through an index; on the database the suite runs on (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, create_engine, text

from carnet import models  # noqa: F401 - registers every table
from carnet.db import Base
from carnet.migrations.runner import upgrade
from tests.conftest import TEST_URL


@pytest.fixture
def bare_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own: a file, or a schema of the PostgreSQL test database."""
    if TEST_URL.startswith("sqlite"):
        engine = create_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"carnet_migrate_{os.getpid()}"
    admin = create_engine(TEST_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(TEST_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _filled(table: sa.Table, present: set[str], **given: Any) -> dict[str, Any]:
    """A row of the columns ``present`` before the migration: every required one filled with a
    value of its type (the models' types), and ``given``."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name not in present or column.name in given or column.nullable:
            continue
        kind = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
        if isinstance(kind, sa.Boolean):
            row[column.name] = False
        elif isinstance(kind, sa.Integer):
            row[column.name] = 1
        elif isinstance(kind, sa.DateTime):
            row[column.name] = datetime(2026, 1, 2, tzinfo=UTC)
        elif isinstance(kind, sa.Date):
            row[column.name] = date(1975, 3, 27)
        elif isinstance(kind, sa.Uuid):
            row[column.name] = uuid.uuid4()
        elif isinstance(kind, sa.LargeBinary):
            row[column.name] = b"x"
        else:
            row[column.name] = "x"
    return {**row, **given}


def test_stored_documents_get_their_binary_id(bare_engine: Engine) -> None:
    url = str(bare_engine.url.render_as_string(hide_password=False))
    upgrade(url, "0011", engine=bare_engine)
    inspector = sa.inspect(bare_engine)
    patients, entries = Base.metadata.tables["patients"], Base.metadata.tables["document_entries"]
    before = {
        t.name: {c["name"] for c in inspector.get_columns(t.name)} for t in (patients, entries)
    }
    assert "blob_id" not in before["document_entries"]
    patient_id = uuid.uuid4()
    blob = uuid.uuid4().hex
    with bare_engine.begin() as conn:
        conn.execute(
            patients.insert(),
            _filled(patients, before["patients"], id=patient_id, nir="275033155500425"),
        )
        conn.execute(
            entries.insert(),
            _filled(
                entries,
                before["document_entries"],
                patient_id=patient_id,
                blob_key=f"{patient_id}/{blob}",
            ),
        )
    upgrade(url, "0012", engine=bare_engine)
    with bare_engine.connect() as conn:
        stored = conn.execute(text("SELECT blob_id FROM document_entries")).scalar_one()
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("document_entries")}
    assert stored == blob
    assert "ix_document_entries_blob_id" in indexes
