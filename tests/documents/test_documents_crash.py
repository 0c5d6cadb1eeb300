"""A process killed in the middle of an upload leaves no metadata without content and no
unreadable document: a real child process uploads to a fresh demo and is SIGKILLed at chosen
points; what it leaves behind is at most an orphan content (or a temp file) that nobody can
reach, which ``carnet documents gc`` removes."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from carnet.cli import app as cli
from carnet.documents import service as documents
from carnet.documents.bundles import Doc
from carnet.documents.models import DocumentEntry, Submission
from carnet.documents.service import verify_contents
from carnet.documents.storage import LocalBlobStore, S3BlobStore
from carnet.messaging.models import Attachment
from carnet.settings import Settings
from tests.documents.conftest import bundle, sample_pdf
from tests.documents.fakes import FakeS3Client
from tests.documents.fresh_demo import FreshDemo, fresh_demo

CHILD = r'''
"""Upload one document to the Carnet demo of the CARNET_* environment, through the service and
the audited transaction as the API does, and die by SIGKILL at the point named in argv[1]."""
import os
import signal
import sys

from sqlalchemy.orm import Session

from carnet import models  # noqa: F401 - registers every table
from carnet.accounts.service import professional_actor
from carnet.audit.transaction import audited_transaction
from carnet.db import make_engine, make_session_factory
from carnet.documents import fhir, service
from carnet.documents.bundles import Author, Doc, provide_bundle
from carnet.documents.storage import LocalBlobStore
from carnet.professionals.models import Structure
from carnet.professionals.service import find_professional
from carnet.settings import load_settings

point = sys.argv[1]
settings = load_settings()
store = LocalBlobStore(settings.blob_path)
real_put = store.put


def die(said):
    print(said, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def put_half_then_die(key, data):
    fd, _ = store._temp_file(store._path(key))  # as put() does, then half the bytes
    os.write(fd, data[: len(data) // 2])
    os.fsync(fd)
    die("half written")


def put_then_die(key, data):
    real_put(key, data)
    die("stored")


def commit_never(self):
    self.flush()  # the rows reach the database inside the transaction, never committed
    die("flushed")


if point == "while-writing-the-content":
    store.put = put_half_then_die
elif point == "after-storing-the-content":
    store.put = put_then_die
elif point == "while-committing-the-metadata":
    Session.commit = commit_never
else:
    sys.exit(f"unknown point {point}")

factory = make_session_factory(make_engine(settings.database_url), settings, blobs=store)
content = b"%PDF-1.4\n" + os.urandom(1_000_000)
body = provide_bundle(
    "275033155500425",
    Author("810000000017", "Paul", "Durand", "10"),
    [Doc("11488-4", content, title="Killed upload")],
)
request = fhir.parse_provide_bundle(body, max_bytes=settings.document_max_bytes)
with factory() as session:
    professional = find_professional(session, "810000000017")
    actor = professional_actor(professional, session.get(Structure, professional.structure_id))
# As the API does: the content sealed and stored first, then the transaction.
sealed = service.seal_contents(store, request)
with audited_transaction(factory) as session:
    service.provide(session, actor, request, sealed=sealed)
print("committed", flush=True)
'''

POINTS = {
    "while-writing-the-content": "half written",
    "after-storing-the-content": "stored",
    "while-committing-the-metadata": "flushed",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[FreshDemo]:
    # One demo for the module: each test starts by checking it is clean, and leaves it so.
    with fresh_demo(tmp_path_factory.mktemp("crash"), settings) as fresh:
        yield fresh


def rows(demo: FreshDemo) -> tuple[int, int]:
    with demo.factory() as session:
        entries = session.execute(select(func.count()).select_from(DocumentEntry)).scalar_one()
        submissions = session.execute(select(func.count()).select_from(Submission)).scalar_one()
    return int(entries), int(submissions)


def stored_keys(demo: FreshDemo) -> set[str]:
    with demo.factory() as session:
        documents = set(session.execute(select(DocumentEntry.blob_key)).scalars())
        return documents | set(session.execute(select(Attachment.blob_key)).scalars())


def unreadable(demo: FreshDemo) -> list[Any]:
    with demo.factory() as session:
        return list(verify_contents(session))


def gc(demo: FreshDemo) -> Any:
    return CliRunner().invoke(
        cli, ["documents", "gc", "--older-than-hours", "0"], env=demo.env(), catch_exceptions=False
    )


@pytest.mark.parametrize("point", list(POINTS))
def test_a_process_killed_during_an_upload_leaves_no_document_without_its_content(
    demo: FreshDemo, tmp_path: Path, point: str
) -> None:
    assert demo.blob_keys() == stored_keys(demo)  # a clean start: every content is a document's
    before = rows(demo)
    script = tmp_path / "upload_and_die.py"
    script.write_text(CHILD)

    child = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, str(script), point],
        env={**os.environ, **demo.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout.split("\n")[0] == POINTS[point]  # killed where meant, not before
    assert rows(demo) == before  # no document, no submission
    assert unreadable(demo) == []  # every document there is still readable
    leftovers = demo.blob_keys() - stored_keys(demo)
    if point == "while-writing-the-content":
        assert leftovers == set()  # a half-written content never shows as a blob
        assert len(demo.temp_files()) == 1
    else:
        assert len(leftovers) == 1  # the content is there, but no document points at it
        assert demo.temp_files() == []

    result = gc(demo)

    assert result.exit_code == 0, result.output
    assert "removed 1 orphan content(s)" in result.output
    assert demo.blob_keys() == stored_keys(demo)
    assert demo.temp_files() == []
    assert rows(demo) == before
    assert unreadable(demo) == []
    assert "removed 0 orphan content(s)" in gc(demo).output  # nothing more to collect


def test_gc_leaves_recent_contents_alone_as_they_may_belong_to_an_upload_under_way(
    demo: FreshDemo,
) -> None:
    recent = f"{'0' * 32}/{'1' * 32}"
    demo.blobs.put(recent, b"sealed bytes of an upload not yet committed")
    try:
        result = CliRunner().invoke(cli, ["documents", "gc"], env=demo.env())  # 24 hours
        assert result.exit_code == 0, result.output
        assert "removed 0 orphan content(s)" in result.output
        assert recent in demo.blob_keys()
    finally:
        demo.blobs.delete(recent)


def test_gc_on_object_storage_also_leaves_recent_contents_alone(session: Session) -> None:
    """Object storage has no file times: its age is the object's LastModified."""
    fake = FakeS3Client()
    store = S3BlobStore(fake, "carnet-test")
    session.info["blobs"] = store  # this session's content store only
    recent, old = f"{'0' * 32}/{'1' * 32}", f"{'0' * 32}/{'2' * 32}"
    store.put(recent, b"sealed bytes of an upload not yet committed")
    store.put(old, b"sealed bytes of an upload that died two days ago")
    fake.modified[old] = datetime.now(UTC) - timedelta(days=2)

    assert documents.collect_orphans(session, older_than_seconds=24 * 3600) == 1

    assert set(store.iter_keys()) == {recent}


def test_gc_checks_the_store_a_batch_at_a_time_and_removes_only_orphans(
    demo: FreshDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store is walked and checked against the rows a few keys at a time (3 here, so that
    # orphans and the contents of documents and message attachments share batches).
    monkeypatch.setattr(documents, "GC_BATCH", 3)
    assert demo.blob_keys() == stored_keys(demo)
    orphans = {f"c/{n:02x}/00/{'9' * 30}{n:02d}" for n in range(5)}
    for key in orphans:
        demo.blobs.put(key, b"sealed bytes nobody refers to")

    result = gc(demo)

    assert result.exit_code == 0, result.output
    assert f"removed {len(orphans)} orphan content(s)" in result.output
    assert demo.blob_keys() == stored_keys(demo)  # every document's and attachment's content
    assert unreadable(demo) == []


# --- a corrupted upload through the API ---------------------------------------------------


def counts(session: Session) -> tuple[int, int]:
    return (
        int(session.execute(select(func.count()).select_from(DocumentEntry)).scalar_one()),
        int(session.execute(select(func.count()).select_from(Submission)).scalar_one()),
    )


def store_state(settings: Settings) -> tuple[set[str], list[Path]]:
    root = settings.data_dir / "blobs"
    return set(LocalBlobStore(root).iter_keys()), sorted(root.rglob("*.tmp"))


def test_a_submission_cut_short_in_transit_is_refused_and_leaves_nothing(
    api: Callable[..., Any], session: Session, settings: Settings
) -> None:
    before, store_before = counts(session), store_state(settings)
    body = json.dumps(bundle("durand", "sylvie")).encode()

    response = api(
        "durand",
        "post",
        "/fhir",
        content=body[: len(body) // 2],
        headers={"Content-Type": "application/fhir+json"},
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Bundle"]
    assert counts(session) == before
    assert store_state(settings) == store_before


def test_a_content_altered_in_transit_fails_its_hash_and_leaves_nothing(
    api: Callable[..., Any], session: Session, settings: Settings
) -> None:
    before, store_before = counts(session), store_state(settings)
    pdf = sample_pdf("Altéré en route")
    body = bundle("durand", "sylvie", Doc("11488-4", pdf))
    altered = bytearray(pdf)
    altered[len(altered) // 2] ^= 0x01  # same size, same PDF header, one bit flipped
    body["entry"][2]["resource"]["data"] = base64.b64encode(bytes(altered)).decode()

    response = api("durand", "post", "/fhir", json=body)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [
        "Bundle.entry[1].resource.content[0].attachment.hash"
    ]
    assert counts(session) == before
    assert store_state(settings) == store_before
