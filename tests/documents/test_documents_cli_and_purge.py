"""Operating the documents: ``carnet documents verify`` finds contents that were altered or lost,
``carnet documents check-matrix`` checks an edited habilitation matrix, and the retention purge
destroys a closed record's documents, data key and contents (crypto-shredding) and nothing
else."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from carnet import cli as cli_module
from carnet.access import Actor
from carnet.cli import app as cli
from carnet.documents import envelope
from carnet.documents import service as documents
from carnet.documents.models import DocumentEntry, PatientKey
from carnet.documents.service import shred_patient
from carnet.documents.storage import LocalBlobStore
from carnet.messaging.models import Attachment
from carnet.records.models import Record
from carnet.records.service import purge_due
from carnet.settings import Settings
from carnet.terminology.habilitations import DEFAULT_MATRIX_PATH
from tests.conftest import Cast
from tests.documents.conftest import new_master
from tests.documents.fresh_demo import FreshDemo, fresh_demo

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[FreshDemo]:
    # The command reads a committed database; every test here puts back what it altered.
    with fresh_demo(tmp_path_factory.mktemp("cli"), settings) as fresh:
        yield fresh


def verify(demo: FreshDemo, **env: str) -> Any:
    """``carnet documents verify`` on the demo (``env``: settings changed for this run)."""
    return runner.invoke(cli, ["documents", "verify"], env={**demo.env(), **env})


def rewrap(demo: FreshDemo, master: str, previous: str) -> Any:
    env = {**demo.env(), "CARNET_MASTER_KEY": master, "CARNET_PREVIOUS_MASTER_KEYS": previous}
    return runner.invoke(cli, ["documents", "rewrap-keys"], env=env)


def a_current_document(demo: FreshDemo) -> DocumentEntry:
    with demo.factory() as session:
        return session.execute(
            select(DocumentEntry)
            .where(DocumentEntry.current.is_(True))
            .order_by(DocumentEntry.created, DocumentEntry.id)
            .limit(1)
        ).scalar_one()


def test_verify_passes_on_the_demo_and_counts_its_documents(demo: FreshDemo) -> None:
    with demo.factory() as session:
        current = session.execute(
            select(func.count()).select_from(DocumentEntry).where(DocumentEntry.current.is_(True))
        ).scalar_one()

    result = verify(demo)

    assert result.exit_code == 0, result.output
    assert f"{current} document(s) verified" in result.output


def test_verify_streams_the_documents_and_unwraps_each_patients_key_once_per_pass(
    demo: FreshDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built for 420 M documents: rows come a batch at a time in patient order (a batch of 2
    # here, so that batches are crossed), and a patient's data key is not unwrapped again for
    # each of their documents.
    unwrapped: list[uuid.UUID] = []
    unwrap = envelope.unwrap_key

    def counting(master: bytes, wrapped: bytes, patient_id: uuid.UUID) -> bytes:
        unwrapped.append(patient_id)
        return unwrap(master, wrapped, patient_id)

    monkeypatch.setattr(envelope, "unwrap_key", counting)
    monkeypatch.setattr(documents, "VERIFY_BATCH", 2)
    with demo.factory() as session:
        owners = list(
            session.execute(
                select(DocumentEntry.patient_id).where(DocumentEntry.current.is_(True))
            ).scalars()
        )
        holders = list(session.execute(select(Attachment.patient_id)).scalars())

        assert list(documents.verify_contents(session)) == []

    assert len(owners) > len(set(owners))  # some patients have several documents
    # once per patient in the documents' pass, and once in the attachments' pass
    assert sorted(unwrapped) == sorted([*set(owners), *set(holders)])


def test_verify_fails_naming_the_document_whose_content_was_tampered_with(
    demo: FreshDemo,
) -> None:
    entry = a_current_document(demo)
    path = demo.data_dir / "blobs" / entry.blob_key
    original = path.read_bytes()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0xFF
    path.write_bytes(bytes(tampered))
    try:
        result = verify(demo)
    finally:
        path.write_bytes(original)

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"document {entry.id}: content cannot be decrypted"
    ]
    assert verify(demo).exit_code == 0  # and the check is about that byte only


def test_verify_fails_naming_the_document_whose_content_is_gone(demo: FreshDemo) -> None:
    entry = a_current_document(demo)
    path = demo.data_dir / "blobs" / entry.blob_key
    aside = path.with_name("aside")
    path.rename(aside)
    try:
        result = verify(demo)
    finally:
        aside.rename(path)

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"document {entry.id}: content missing from the blob store"
    ]


def test_verify_checks_message_attachments_too_and_gc_keeps_them(demo: FreshDemo) -> None:
    with demo.factory() as session:
        attachment = session.execute(select(Attachment).limit(1)).scalar_one()  # demo_messages
    path = demo.data_dir / "blobs" / attachment.blob_key
    original = path.read_bytes()
    gc = runner.invoke(cli, ["documents", "gc", "--older-than-hours", "0"], env=demo.env())
    assert gc.exit_code == 0, gc.output
    assert path.read_bytes() == original  # an attachment is not an orphan

    path.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    try:
        result = verify(demo)
    finally:
        path.write_bytes(original)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"attachment {attachment.id}: content cannot be decrypted"
    ]
    assert verify(demo).exit_code == 0


def test_check_matrix_accepts_the_shipped_matrix() -> None:
    result = runner.invoke(cli, ["documents", "check-matrix", str(DEFAULT_MATRIX_PATH)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("matrix valid: ")


def test_check_matrix_rejects_a_bad_matrix_listing_each_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "matrix.csv"
    bad.write_text(
        "profession_code,type_system,type_code,allowed,comment\n"  # line 1
        "# a comment does not count as a rule\n"  # line 2
        "80,http://loinc.org,15508-5,no,CR d'accouchement\n"  # line 3: fine
        "99,http://loinc.org,15508-5,no,unknown profession\n"  # line 4
        "80,http://loinc.org,00000-0,no,unknown type\n"  # line 5
        "80,http://loinc.org,11488-4,perhaps,neither yes nor no\n"  # line 6
        "\n"  # line 7
        "80,http://loinc.org,15508-5,yes,duplicate of line 3\n",  # line 8
        encoding="utf-8",
    )

    result = runner.invoke(cli, ["documents", "check-matrix", str(bad)])

    assert result.exit_code == 2
    problems = result.output.strip().splitlines()
    assert [p.split(",")[0] for p in problems] == ["line 4", "line 5", "line 6", "line 8"]
    assert "column profession_code" in problems[0]
    assert "column type_code" in problems[1]
    assert "column allowed" in problems[2]
    assert "duplicate of line 3" in problems[3]


# --- the retention purge ----------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, settings: Settings) -> LocalBlobStore:
    """A copy of the run's contents: the purge really deletes files, and the run's other tests
    still need theirs (their rows come back with the rollback, files would not)."""
    shutil.copytree(settings.data_dir / "blobs", tmp_path / "blobs")
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def purging(
    connection: Connection, settings: Settings, store: LocalBlobStore
) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
        info={"settings": settings, "blobs": store},
    )


def henris(session: Session, cast: Cast) -> tuple[list[str], bool]:
    henri = cast.patients["henri"]
    keys = list(
        session.execute(
            select(DocumentEntry.blob_key).where(DocumentEntry.patient_id == henri)
        ).scalars()
    )
    return keys, session.get(PatientKey, henri) is not None


def test_the_purge_shreds_henris_documents_ten_years_after_his_closure_and_nothing_else(
    purging: sessionmaker[Session],
    store: LocalBlobStore,
    cast: Cast,
    operator: Actor,
    frozen: Callable[[datetime], None],
) -> None:
    henri = cast.patients["henri"]
    with purging() as session:
        record = session.get(Record, henri)
        assert record is not None
        assert record.closed_at is not None
        closed = record.closed_at
        blob_keys, has_key = henris(session, cast)
    assert blob_keys  # he has documents, their contents and his data key
    assert has_key
    assert set(blob_keys) <= set(store.iter_keys())
    others = set(store.iter_keys()) - set(blob_keys)
    assert others
    decade = closed.replace(year=closed.year + 10)

    frozen(decade - timedelta(days=1))  # not yet
    with purging() as session:
        assert purge_due(session, operator).purged == 0
        session.commit()
        assert henris(session, cast) == (blob_keys, True)
    assert set(blob_keys) <= set(store.iter_keys())

    frozen(decade + timedelta(days=1))
    with purging() as session:
        report = purge_due(session, operator)
        session.commit()  # as the command does
        assert report.purged == 1
        assert henris(session, cast) == ([], False)  # rows and data key gone
        assert session.get(Record, henri) is None

    assert not set(blob_keys) & set(store.iter_keys())  # contents gone
    assert list(store.iter_keys(str(henri))) == []
    assert set(store.iter_keys()) == others  # everyone else's untouched


def test_a_purge_that_is_rolled_back_destroys_no_content(
    purging: sessionmaker[Session], store: LocalBlobStore, cast: Cast
) -> None:
    henri = cast.patients["henri"]
    with purging() as session:
        blob_keys, _ = henris(session, cast)
        assert shred_patient(session, henri) == len(set(blob_keys))
        assert set(blob_keys) <= set(store.iter_keys())  # not before the commit
        session.rollback()
        assert henris(session, cast) == (blob_keys, True)
    assert set(blob_keys) <= set(store.iter_keys())  # his documents are still readable

    with purging() as session:
        shred_patient(session, henri)
        session.commit()
    assert list(store.iter_keys(str(henri))) == []


def test_rewrap_keys_rotates_the_master_key_and_verify_passes_under_the_new_one(
    demo: FreshDemo,
) -> None:
    old, new = demo.settings.master_key, new_master()
    done = rewrap(demo, new, old)
    try:
        assert done.exit_code == 0, done.output
        counted = re.search(r"(\d+) data key\(s\) rewrapped, 0 already current", done.output)
        assert counted
        assert int(counted[1]) > 0
        assert verify(demo, CARNET_MASTER_KEY=new).exit_code == 0
        assert verify(demo, CARNET_MASTER_KEY=old).exit_code == 1  # the old key is retired
    finally:  # the demo back under its own key, for the other tests of the module
        restored = rewrap(demo, old, new)
    assert counted is not None  # (for the type checker: asserted in the try block)
    assert f"{counted[1]} data key(s) rewrapped, 0 already current" in restored.output
    assert verify(demo).exit_code == 0


def test_a_content_stored_before_content_keys_is_still_read_and_verified(
    demo: FreshDemo,
) -> None:
    """Rows written before migration 0014 have no content key: their content is sealed under
    the patient's data key directly, and reads that way."""
    from carnet.documents import envelope
    from carnet.documents.service import patient_data_key

    entry = a_current_document(demo)
    assert entry.content_key is not None
    sealed = demo.blobs.get(entry.blob_key)
    with demo.factory() as session:
        key = patient_data_key(session, entry.patient_id, create=False)
        content_key = envelope.unwrap_content_key(key, entry.content_key, entry.blob_key)
        plain = envelope.decrypt(content_key, sealed, entry.blob_key.encode())
        # the same content, as it was sealed before content keys
        demo.blobs.put(entry.blob_key, envelope.encrypt(key, plain, entry.blob_key.encode()))
        row = session.get(DocumentEntry, entry.id)
        assert row is not None
        row.content_key = None
        session.commit()
    try:
        assert verify(demo).exit_code == 0  # read under the data key, and its hash matches
    finally:
        with demo.factory() as session:
            row = session.get(DocumentEntry, entry.id)
            assert row is not None
            row.content_key = entry.content_key
            session.commit()
        demo.blobs.put(entry.blob_key, sealed)
    assert verify(demo).exit_code == 0


@pytest.mark.parametrize(
    "command",
    [["documents", "verify"], ["documents", "gc", "--older-than-hours", "0"], ["audit", "verify"]],
)
def test_the_long_checks_read_without_ever_taking_the_writer(
    demo: FreshDemo, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks of the store and of the audit trail only read rows (``gc`` deletes contents
    in the store): their engine is read-only (on SQLite a snapshot that never holds the
    writer, ``tests/test_writer_queue.py``), so a long check does not stop the running
    server's writes."""
    asked: list[dict[str, Any]] = []
    factory = cli_module._factory

    def recording(settings: Any, **kwargs: Any) -> Any:
        asked.append(kwargs)
        return factory(settings, **kwargs)

    monkeypatch.setattr(cli_module, "_factory", recording)
    result = runner.invoke(cli, command, env=demo.env())
    assert result.exit_code == 0, result.output
    assert asked == [{"read_only": True}]
