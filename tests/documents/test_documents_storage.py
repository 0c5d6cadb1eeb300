"""Blob stores: one behavioural suite run on the local filesystem and on (fake) S3, then what is
particular to each: crash-safe writes on disk, pagination and batching on object storage."""

from __future__ import annotations

import os
import stat
import sys
import types
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carnet.documents import storage
from carnet.documents.storage import (
    BlobMissing,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    make_blob_store,
)
from tests.documents.fakes import FakeClientError, FakeS3Client

BUCKET = "carnet-test"
PATIENT = "0190f2a1-7c2e-7a4b-9d3e-5f6a7b8c9d0e"
OTHER_PATIENT = "0190f2a1-7c2e-7a4b-9d3e-5f6a7b8c9d0f"

BAD_KEYS = [
    "",
    "/",
    "/etc/passwd",
    "../outside",
    f"{PATIENT}/../{OTHER_PATIENT}/blob",
    f"{PATIENT}/..",
    f"{PATIENT}/./blob",
    f"{PATIENT}//blob",
    f"{PATIENT}/",
    f"/{PATIENT}/blob",
    f"{PATIENT}/blob.pdf",
    f"{PATIENT}\\blob",
    f"{PATIENT}/blob\n",
    f"{PATIENT}/ blob",
    f"{PATIENT}/dossier-médical",
    "a" * 513,
]


def blob_key(patient: str = PATIENT) -> str:
    return f"{patient}/{uuid.uuid4()}"


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so no cleanup handler runs."""


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return S3BlobStore(FakeS3Client(page_size=2), BUCKET, prefix="env1/blobs")


# --- The same behaviour from both stores ------------------------------------------------------


def test_a_blob_reads_back_as_written(store: BlobStore) -> None:
    key = blob_key()
    data = os.urandom(100_000)
    store.put(key, data)
    assert store.get(key) == data
    assert store.exists(key)


def test_an_empty_blob_is_still_a_blob(store: BlobStore) -> None:
    key = blob_key()
    store.put(key, b"")
    assert store.exists(key)
    assert store.get(key) == b""


def test_putting_again_replaces_the_blob(store: BlobStore) -> None:
    key = blob_key()
    store.put(key, b"first version, longer than the second")
    store.put(key, b"second")
    assert store.get(key) == b"second"
    assert list(store.iter_keys(PATIENT)) == [key]


def test_a_missing_blob_raises_blob_missing(store: BlobStore) -> None:
    key = blob_key()
    assert not store.exists(key)
    with pytest.raises(BlobMissing):
        store.get(key)


def test_delete_removes_the_blob_and_can_be_repeated(store: BlobStore) -> None:
    key, kept = blob_key(), blob_key()
    store.put(key, b"x")
    store.put(kept, b"y")
    store.delete(key)
    store.delete(key)
    store.delete(blob_key())  # never existed
    assert not store.exists(key)
    with pytest.raises(BlobMissing):
        store.get(key)
    assert store.get(kept) == b"y"


def test_a_blob_says_when_it_was_written(store: BlobStore) -> None:
    key = blob_key()
    assert store.modified(key) is None
    before = datetime.now(UTC) - timedelta(seconds=2)
    store.put(key, b"x")
    written = store.modified(key)
    assert written is not None
    assert written.utcoffset() == timedelta(0)
    assert before <= written <= datetime.now(UTC) + timedelta(seconds=2)
    assert store.modified(key.rsplit("/", 1)[0]) is None  # a prefix is no blob (as ``exists``)


def test_iter_keys_lists_every_blob_or_those_under_a_prefix(store: BlobStore) -> None:
    mine = {blob_key() for _ in range(5)}
    theirs = {blob_key(OTHER_PATIENT) for _ in range(3)}
    for key in mine | theirs:
        store.put(key, key.encode())
    assert set(store.iter_keys()) == mine | theirs
    assert set(store.iter_keys(PATIENT)) == mine
    assert set(store.iter_keys(f"{PATIENT}/")) == mine
    assert list(store.iter_keys(blob_key())) == []


def test_a_prefix_matches_whole_segments_only(store: BlobStore) -> None:
    store.put("abc/one", b"1")
    store.put("abcd/two", b"2")
    assert list(store.iter_keys("abc")) == ["abc/one"]
    assert store.delete_prefix("abc") == 1
    assert store.get("abcd/two") == b"2"


def test_delete_prefix_removes_only_that_patients_blobs(store: BlobStore) -> None:
    mine = [blob_key() for _ in range(5)]
    theirs = [blob_key(OTHER_PATIENT) for _ in range(3)]
    for key in mine + theirs:
        store.put(key, b"content")
    assert store.delete_prefix(PATIENT) == 5
    assert not any(store.exists(key) for key in mine)
    assert list(store.iter_keys(PATIENT)) == []
    assert sorted(store.iter_keys()) == sorted(theirs)
    assert all(store.get(key) == b"content" for key in theirs)
    assert store.delete_prefix(f"{PATIENT}/") == 0  # nothing left, and no error


def test_keys_can_be_nested_deeper_than_two_segments(store: BlobStore) -> None:
    key = f"{PATIENT}/renditions/{uuid.uuid4()}"
    store.put(key, b"thumbnail")
    assert store.get(key) == b"thumbnail"
    assert list(store.iter_keys(f"{PATIENT}/renditions")) == [key]
    assert store.delete_prefix(PATIENT) == 1


@pytest.mark.parametrize("key", BAD_KEYS)
def test_malformed_keys_are_refused_by_every_operation(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        store.put(key, b"x")
    with pytest.raises(ValueError, match="invalid blob key"):
        store.get(key)
    with pytest.raises(ValueError, match="invalid blob key"):
        store.exists(key)
    with pytest.raises(ValueError, match="invalid blob key"):
        store.delete(key)
    assert list(store.iter_keys()) == []


@pytest.mark.parametrize("prefix", ["../", "/", "//", f"{PATIENT}/../x", "a/b.c", "a//"])
def test_malformed_prefixes_are_refused(store: BlobStore, prefix: str) -> None:
    with pytest.raises(ValueError, match=r"invalid blob key|empty prefix"):
        store.iter_keys(prefix)
    with pytest.raises(ValueError, match=r"invalid blob key|empty prefix"):
        store.delete_prefix(prefix)


def test_delete_prefix_refuses_the_empty_prefix(store: BlobStore) -> None:
    key = blob_key()
    store.put(key, b"x")
    with pytest.raises(ValueError, match="empty prefix"):
        store.delete_prefix("")
    assert store.exists(key)


# --- Local filesystem -------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and path.name.endswith(".tmp")]


def test_the_local_store_creates_its_root(tmp_path: Path) -> None:
    root = tmp_path / "var" / "blobs"
    store = LocalBlobStore(root)
    store.put(blob_key(), b"x")
    assert root.is_dir()


def test_a_crash_before_the_rename_leaves_nothing_readable_and_a_temp_file_to_sweep(
    local: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = blob_key()

    def crash(src: Any, dst: Any) -> None:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", crash)
        with pytest.raises(Crash):
            local.put(key, b"half-written document")

    assert not local.exists(key)
    with pytest.raises(BlobMissing):
        local.get(key)
    assert list(local.iter_keys()) == []
    [leftover] = temp_files(local.root)
    assert leftover.read_bytes() == b"half-written document"  # complete, but not under the key

    assert local.sweep_temp(older_than_seconds=3600) == 0  # could be a put still running
    assert leftover.exists()
    assert local.sweep_temp(older_than_seconds=0) == 1
    assert temp_files(local.root) == []
    local.put(key, b"retried")
    assert local.get(key) == b"retried"


def test_a_crash_while_replacing_keeps_the_previous_blob(
    local: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = blob_key()
    local.put(key, b"version 1")

    def crash(src: Any, dst: Any) -> None:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", crash)
        with pytest.raises(Crash):
            local.put(key, b"version 2")
    assert local.get(key) == b"version 1"
    assert list(local.iter_keys()) == [key]


def test_an_ordinary_write_error_cleans_up_its_temp_file(
    local: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = blob_key()

    def disk_full(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        local.put(key, b"document")
    assert not local.exists(key)
    assert temp_files(local.root) == []


def test_put_fsyncs_the_file_then_its_directory_before_returning(
    local: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def recording_fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    def recording_replace(src: Any, dst: Any) -> None:
        synced.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    local.put(blob_key(), b"document")
    # New patient directory (root synced), then the file, the rename, the patient directory.
    assert synced == ["dir", "file", "replace", "dir"]

    synced.clear()
    local.put(blob_key(), b"another")
    assert synced == ["file", "replace", "dir"]


def test_blobs_are_private_to_the_service_account(local: LocalBlobStore) -> None:
    key = blob_key()
    local.put(key, b"document")
    path = local.root / PATIENT / key.split("/")[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("key", BAD_KEYS)
def test_traversal_keys_write_nothing_anywhere(tmp_path: Path, key: str) -> None:
    root = tmp_path / "deep" / "blobs"
    store = LocalBlobStore(root)
    with pytest.raises(ValueError, match="invalid blob key"):
        store.put(key, b"x")
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_stray_files_are_not_listed_nor_deleted_as_blobs(local: LocalBlobStore) -> None:
    key = blob_key()
    local.put(key, b"document")
    (local.root / PATIENT / "notes.txt").write_text("not a blob")
    (local.root / "README").mkdir()
    assert list(local.iter_keys()) == [key]
    assert local.delete_prefix(PATIENT) == 1
    assert (local.root / PATIENT / "notes.txt").exists()


def test_delete_prefix_removes_the_patient_directory_and_leftover_temp_files(
    local: LocalBlobStore,
) -> None:
    local.put(blob_key(), b"a")
    local.put(blob_key(OTHER_PATIENT), b"b")
    (local.root / PATIENT / ".leftover.abc123.tmp").write_bytes(b"partial")
    assert local.delete_prefix(PATIENT) == 1  # temp files are not counted as blobs
    assert not (local.root / PATIENT).exists()
    assert (local.root / OTHER_PATIENT).is_dir()


def test_a_directory_is_not_a_blob(local: LocalBlobStore) -> None:
    local.put(f"{PATIENT}/renditions/one", b"x")
    assert not local.exists(f"{PATIENT}/renditions")
    with pytest.raises(BlobMissing):
        local.get(f"{PATIENT}/renditions")
    local.delete(f"{PATIENT}/renditions")
    assert local.get(f"{PATIENT}/renditions/one") == b"x"


def test_sweep_temp_refuses_a_negative_age(local: LocalBlobStore) -> None:
    with pytest.raises(ValueError, match="negative"):
        local.sweep_temp(-1)


# --- S3-compatible object storage -------------------------------------------------------------


@pytest.fixture
def fake() -> FakeS3Client:
    return FakeS3Client(page_size=2)


def test_s3_objects_are_stored_under_the_store_prefix(fake: FakeS3Client) -> None:
    store = S3BlobStore(fake, BUCKET, prefix="env1/blobs/")
    key = blob_key()
    store.put(key, b"document")
    assert fake.buckets[BUCKET] == {f"env1/blobs/{key}": b"document"}
    assert fake.calls_to("put_object") == [{"Bucket": BUCKET, "Key": f"env1/blobs/{key}"}]


def test_s3_listing_follows_continuation_tokens(fake: FakeS3Client) -> None:
    store = S3BlobStore(fake, BUCKET)
    keys = {blob_key() for _ in range(7)}
    for key in keys:
        store.put(key, b"x")
    assert set(store.iter_keys(PATIENT)) == keys
    requests = fake.calls_to("list_objects_v2")
    assert len(requests) == 4  # 2 + 2 + 2 + 1
    assert requests[0]["ContinuationToken"] is None
    assert all(request["ContinuationToken"] for request in requests[1:])


def test_s3_listing_ignores_objects_outside_the_store_or_not_shaped_like_keys(
    fake: FakeS3Client,
) -> None:
    store = S3BlobStore(fake, BUCKET, prefix="env1")
    key = blob_key()
    store.put(key, b"mine")
    fake.buckets[BUCKET][f"env2/{key}"] = b"another deployment"
    fake.buckets[BUCKET][f"env1/{PATIENT}/notes.txt"] = b"not a blob"
    assert list(store.iter_keys()) == [key]
    assert store.delete_prefix(PATIENT) == 1
    assert set(fake.buckets[BUCKET]) == {f"env2/{key}", f"env1/{PATIENT}/notes.txt"}


def test_s3_delete_prefix_deletes_in_batches_of_a_thousand(fake: FakeS3Client) -> None:
    fake.page_size = 1000
    store = S3BlobStore(fake, BUCKET)
    for index in range(2500):
        fake.buckets[BUCKET][f"{PATIENT}/blob-{index:05d}"] = b"x"
    fake.buckets[BUCKET][f"{OTHER_PATIENT}/kept"] = b"y"
    assert store.delete_prefix(PATIENT) == 2500
    batches = [len(call["Delete"]["Objects"]) for call in fake.calls_to("delete_objects")]
    assert batches == [1000, 1000, 500]
    assert fake.buckets[BUCKET] == {f"{OTHER_PATIENT}/kept": b"y"}


def test_s3_delete_prefix_reports_objects_it_could_not_delete(fake: FakeS3Client) -> None:
    store = S3BlobStore(fake, BUCKET)
    keys = sorted(blob_key() for _ in range(3))
    for key in keys:
        store.put(key, b"x")
    fake.undeletable = {keys[1]}
    with pytest.raises(OSError, match=r"refused to delete 1 of 3 objects .*AccessDenied"):
        store.delete_prefix(PATIENT)
    assert list(store.iter_keys()) == [keys[1]]


def test_s3_not_found_errors_become_blob_missing(fake: FakeS3Client) -> None:
    store = S3BlobStore(fake, BUCKET)
    for code in ("NoSuchKey", "404", "NotFound"):
        fake.fail_next["get_object"] = code
        with pytest.raises(BlobMissing):
            store.get(blob_key())
        fake.fail_next["head_object"] = code
        assert not store.exists(blob_key())
        fake.fail_next["delete_object"] = code
        store.delete(blob_key())


@pytest.mark.parametrize("operation", ["get_object", "head_object", "delete_object", "put_object"])
def test_s3_errors_other_than_not_found_propagate(fake: FakeS3Client, operation: str) -> None:
    store = S3BlobStore(fake, BUCKET)
    key = blob_key()
    fake.buckets[BUCKET][key] = b"x"
    fake.fail_next[operation] = "AccessDenied"
    actions: dict[str, Callable[[], object]] = {
        "get_object": lambda: store.get(key),
        "head_object": lambda: store.exists(key),
        "delete_object": lambda: store.delete(key),
        "put_object": lambda: store.put(key, b"y"),
    }
    with pytest.raises(FakeClientError, match="AccessDenied"):
        actions[operation]()


def test_s3_errors_without_a_response_propagate(fake: FakeS3Client) -> None:
    class Unreachable(Exception):
        pass

    def down(**kwargs: Any) -> Any:
        raise Unreachable("connection refused")

    fake.get_object = down  # type: ignore[method-assign]
    with pytest.raises(Unreachable):
        S3BlobStore(fake, BUCKET).get(blob_key())


def test_s3_store_needs_a_bucket(fake: FakeS3Client) -> None:
    with pytest.raises(ValueError, match="bucket"):
        S3BlobStore(fake, "")


def test_s3_store_refuses_a_malformed_prefix(fake: FakeS3Client) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        S3BlobStore(fake, BUCKET, prefix="../env1")


# --- Construction from settings ---------------------------------------------------------------


def test_make_blob_store_builds_a_local_store(tmp_path: Path) -> None:
    store = make_blob_store(
        "local", root=tmp_path / "blobs", bucket=None, prefix="", endpoint_url=None, region=None
    )
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "blobs"


@pytest.fixture
def fake_boto3(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    built: list[dict[str, Any]] = []

    def client(service: str, **kwargs: Any) -> FakeS3Client:
        built.append({"service": service, **kwargs})
        return FakeS3Client()

    module = types.ModuleType("boto3")
    module.client = client  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "boto3", module)
    return built


def test_make_blob_store_builds_an_s3_store_with_the_endpoint_and_region(
    tmp_path: Path, fake_boto3: list[dict[str, Any]]
) -> None:
    store = make_blob_store(
        "s3",
        root=tmp_path,
        bucket=BUCKET,
        prefix="env1",
        endpoint_url="https://s3.fr-par.example",
        region="fr-par",
    )
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == (BUCKET, "env1/")
    assert fake_boto3 == [
        {"service": "s3", "endpoint_url": "https://s3.fr-par.example", "region_name": "fr-par"}
    ]
    key = blob_key()
    store.put(key, b"x")
    assert store.get(key) == b"x"


def test_make_blob_store_says_to_install_the_s3_extra_without_boto3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes `import boto3` fail
    with pytest.raises(RuntimeError, match=r"boto3.*`s3` extra"):
        make_blob_store(
            "s3", root=tmp_path, bucket=BUCKET, prefix="", endpoint_url=None, region=None
        )


def test_make_blob_store_needs_a_bucket_for_s3(
    tmp_path: Path, fake_boto3: list[dict[str, Any]]
) -> None:
    with pytest.raises(ValueError, match="bucket"):
        make_blob_store("s3", root=tmp_path, bucket=None, prefix="", endpoint_url=None, region=None)
    assert fake_boto3 == []


def test_make_blob_store_refuses_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown blob store kind 'gcs'"):
        make_blob_store(
            "gcs", root=tmp_path, bucket=None, prefix="", endpoint_url=None, region=None
        )


def test_the_storage_module_does_not_import_boto3_or_botocore() -> None:
    source = Path(storage.__file__).read_text()
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in top_level if "boto" in line]
