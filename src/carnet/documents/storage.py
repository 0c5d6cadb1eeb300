"""Blob stores for document contents (architecture §3): the local filesystem by default,
S3-compatible object storage in production, behind one small protocol.

Stores hold opaque bytes (already sealed by ``carnet.documents.envelope``); they know nothing of
encryption. Keys look like ``<patient uuid>/<blob uuid>``: one or more segments of
``[0-9A-Za-z_-]`` joined by ``/``. Anything else (``..``, absolute paths, empty segments, dots,
backslashes, non-ASCII) is refused with ``ValueError`` before any I/O.

A *prefix* (``iter_keys``, ``delete_prefix``) is made of whole segments: ``"p"`` and ``"p/"``
both mean "every key under ``p/``", and never match ``"p2/..."``.

boto3 is optional (the ``s3`` extra) and only imported by ``make_blob_store("s3", ...)``.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

MAX_KEY_LENGTH = 512
S3_DELETE_BATCH = 1000  # the most keys one DeleteObjects request may carry

_SEGMENT = r"[0-9A-Za-z_-]+"
_SEGMENT_RE = re.compile(_SEGMENT)
_KEY_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
# A temp file is ".<target name>.<random>.tmp": the dots keep it out of the key space.
_TEMP_SUFFIX = ".tmp"
_TEMP_RE = re.compile(rf"\.{_SEGMENT}\.[^/]+\.tmp")
_S3_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


class BlobMissing(Exception):
    """No blob under this key."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any blob there. Atomic and durable: once it
        returns, the whole blob is stored; if it fails or the process dies part-way, ``key``
        holds either its previous blob or nothing, never a partial one."""
        ...

    def get(self, key: str) -> bytes:
        """The blob under ``key``; ``BlobMissing`` if there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob under ``key``; deleting a missing blob is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every blob under ``prefix`` (whole segments, never empty); how many were."""
        ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """The keys under ``prefix`` (all keys when empty), in no promised order."""
        ...

    def modified(self, key: str) -> datetime | None:
        """When the blob under ``key`` was last written (aware, UTC); None if there is none."""
        ...


def validate_key(key: str) -> str:
    """``key`` itself when it is a well-formed blob key, else ``ValueError``."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        shown = key[:80] if isinstance(key, str) else type(key).__name__
        raise ValueError(
            f"invalid blob key {shown!r}: expected segments of [0-9A-Za-z_-] separated by '/'"
        )
    return key


def _normalise_prefix(prefix: str, *, allow_empty: bool) -> str:
    """``""`` (everything, when allowed) or the prefix's segments followed by one ``/``."""
    if prefix == "" and allow_empty:
        return ""
    stripped = prefix[:-1] if prefix.endswith("/") else prefix
    if stripped == "":
        raise ValueError("an empty prefix is refused here: it would mean every blob")
    validate_key(stripped)
    return stripped + "/"


# --- Local filesystem -------------------------------------------------------------------------


def _fsync_dir(directory: Path | str) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs as files under ``root`` (one directory per leading segment, i.e. per patient).

    ``put`` writes a temp file in the target's directory, flushes and fsyncs it, renames it over
    the target with ``os.replace`` and fsyncs the directory. An ordinary error removes the temp
    file; a crash may leave one behind, which ``get``/``iter_keys`` never see (its name is not a
    key) and ``sweep_temp`` removes. Files are created 0600, directories 0700.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _dir(self, normalised_prefix: str) -> Path:
        return self.root.joinpath(*normalised_prefix.rstrip("/").split("/"))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        fd, temp = self._temp_file(path)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except Exception:
            # An ordinary failure (disk full, I/O error): leave nothing behind. A crash or an
            # interruption skips this, and sweep_temp collects the leftover later.
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)

    def _temp_file(self, path: Path) -> tuple[int, str]:
        for attempt in range(2):
            self._make_dirs(path.parent)
            try:
                return tempfile.mkstemp(
                    dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX
                )
            except FileNotFoundError:
                # The directory was removed (by a concurrent delete_prefix) after we made it.
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _make_dirs(self, directory: Path) -> None:
        """Create the missing directories down to ``directory``, fsyncing each new entry."""
        if directory.is_dir():
            return
        current = self.root
        for part in directory.relative_to(self.root).parts:
            child = current / part
            try:
                child.mkdir(mode=0o700)
            except FileExistsError:
                pass
            else:
                _fsync_dir(current)
            current = child

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobMissing(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return
        _fsync_dir(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        start = self._dir(_normalise_prefix(prefix, allow_empty=False))
        if not start.is_dir():
            return 0
        deleted = 0
        # Bottom-up, so that emptied directories can be removed; leftover temp files go too.
        for dirpath, _dirnames, filenames in os.walk(start, topdown=False):
            for name in filenames:
                is_blob = _SEGMENT_RE.fullmatch(name) is not None
                if not is_blob and _TEMP_RE.fullmatch(name) is None:
                    continue  # not ours: leave it (and so its directory)
                try:
                    os.unlink(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                if is_blob:
                    deleted += 1
            try:
                os.rmdir(dirpath)
            except OSError:
                _fsync_dir(dirpath)  # not empty: make its removed entries durable instead
        _fsync_dir(start.parent)
        return deleted

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        normalised = _normalise_prefix(prefix, allow_empty=True)
        start = self._dir(normalised) if normalised else self.root
        return self._walk_keys(start)

    def modified(self, key: str) -> datetime | None:
        try:
            found = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(found.st_mode):  # a folder: the prefix of blobs, not one (``exists``)
            return None
        return datetime.fromtimestamp(found.st_mtime, UTC)

    def _walk_keys(self, start: Path) -> Iterator[str]:
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if _SEGMENT_RE.fullmatch(d))
            parts = Path(dirpath).relative_to(self.root).parts
            for name in sorted(filenames):
                if _SEGMENT_RE.fullmatch(name) and os.path.isfile(os.path.join(dirpath, name)):
                    yield "/".join((*parts, name))

    def sweep_temp(self, older_than_seconds: float) -> int:
        """Remove temp files left by interrupted puts whose last write is at least
        ``older_than_seconds`` old (pick well above the slowest put); how many were removed."""
        if older_than_seconds < 0:
            raise ValueError("older_than_seconds must not be negative")
        cutoff = time.time() - older_than_seconds
        removed = 0
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if not _TEMP_RE.fullmatch(name):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if os.stat(path).st_mtime <= cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue  # finished (renamed) or removed meanwhile
        return removed


# --- S3-compatible object storage -------------------------------------------------------------


class S3Client(Protocol):
    """The subset of a boto3 S3 client that ``S3BlobStore`` uses."""

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> Any: ...

    def get_object(self, *, Bucket: str, Key: str) -> Any: ...

    def head_object(self, *, Bucket: str, Key: str) -> Any: ...

    def delete_object(self, *, Bucket: str, Key: str) -> Any: ...

    def list_objects_v2(self, *, Bucket: str, Prefix: str, ContinuationToken: str = ...) -> Any: ...

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any]) -> Any: ...


def _is_not_found(error: BaseException) -> bool:
    """Whether a client error (botocore ``ClientError`` or alike) means "no such object"."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    details = response.get("Error")
    return isinstance(details, dict) and str(details.get("Code")) in _S3_NOT_FOUND


class S3BlobStore:
    """Blobs as objects ``<prefix>/<key>`` in ``bucket``. A PUT is atomic on S3 (a reader sees
    the old object, or the whole new one) and durable once acknowledged.

    Not-found errors become ``BlobMissing``; every other client error (access denied, network)
    propagates as is. Note that S3 answers 403, not 404, for a missing object when the
    credentials lack ``s3:ListBucket``: grant it, or missing blobs will look like refusals.
    """

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ValueError("the S3 blob store needs a bucket name")
        self.client = client
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix, allow_empty=True)

    def _object_key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=data)

    def get(self, key: str) -> bytes:
        object_key = self._object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key)
        except Exception as error:
            if _is_not_found(error):
                raise BlobMissing(key) from None
            raise
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return data

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def modified(self, key: str) -> datetime | None:
        head = self._head(key)
        if head is None:
            return None
        stamp: datetime = head["LastModified"]  # aware (boto3 parses the HTTP date as UTC)
        return stamp

    def _head(self, key: str) -> Any:
        """The object's metadata (HEAD), or None if there is no such object."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as error:
            if _is_not_found(error):
                return None
            raise

    def delete(self, key: str) -> None:
        object_key = self._object_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=object_key)
        except Exception as error:
            if not _is_not_found(error):
                raise

    def delete_prefix(self, prefix: str) -> int:
        normalised = _normalise_prefix(prefix, allow_empty=False)
        # List everything first, then delete: deleting while paginating relies on how each
        # S3-compatible server builds its continuation tokens.
        object_keys = [self.prefix + key for key in self._list(self.prefix + normalised)]
        deleted = 0
        for start in range(0, len(object_keys), S3_DELETE_BATCH):
            batch = object_keys[start : start + S3_DELETE_BATCH]
            response = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            errors = (response or {}).get("Errors") or []
            deleted += len(batch) - len(errors)
            if errors:
                code = errors[0].get("Code", "unknown")
                raise OSError(
                    f"object storage refused to delete {len(errors)} of {len(batch)} objects "
                    f"(first error: {code}); {deleted} were deleted, retrying is safe"
                )
        return deleted

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        return self._list(self.prefix + _normalise_prefix(prefix, allow_empty=True))

    def _list(self, full_prefix: str) -> Iterator[str]:
        """Keys (without the store prefix) of the objects under ``full_prefix``, page by page."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix}
        while True:
            page = self.client.list_objects_v2(**request)
            for entry in page.get("Contents") or ():  # absent when the page is empty
                key = str(entry["Key"])[len(self.prefix) :]
                if _KEY_RE.fullmatch(key):
                    yield key
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")
            if not token:
                raise OSError("object storage listing is truncated but gives no continuation")
            request["ContinuationToken"] = token


# --- Construction from settings ---------------------------------------------------------------


def make_blob_store(
    kind: str,
    *,
    root: Path,
    bucket: str | None,
    prefix: str,
    endpoint_url: str | None,
    region: str | None,
) -> BlobStore:
    """The configured store: ``"local"`` (files under ``root``; ``prefix`` and the S3 settings
    are ignored) or ``"s3"`` (boto3 client, credentials from the usual AWS chain)."""
    if kind == "local":
        return LocalBlobStore(root)
    if kind == "s3":
        if not bucket:
            raise ValueError("the s3 blob store needs a bucket name")
        try:
            import boto3
        except ImportError as error:
            raise RuntimeError(
                "the s3 blob store needs boto3, which is not installed: "
                "install Carnet with the `s3` extra (pip install 'carnet[s3]')"
            ) from error
        client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)
        return S3BlobStore(client, bucket, prefix)
    raise ValueError(f"unknown blob store kind {kind!r}: expected 'local' or 's3'")
