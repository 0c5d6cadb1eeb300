"""Hand-written fake of the S3 boundary: the subset of a boto3 S3 client that ``S3BlobStore``
uses, over in-memory dicts. It answers like S3 does where the store depends on it: errors carry
``.response = {"Error": {"Code": ...}}`` as botocore's ``ClientError`` does ("NoSuchKey" for
GetObject, "404" for HeadObject), listings are sorted and paginated with opaque continuation
tokens (2 keys a page by default, to exercise pagination), an empty page has no "Contents", and
DeleteObjects refuses more than 1000 keys."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class FakeClientError(Exception):
    """Shaped like botocore's ClientError: the code is in ``response["Error"]["Code"]``."""

    def __init__(self, code: str, operation: str) -> None:
        super().__init__(f"An error occurred ({code}) when calling the {operation} operation")
        self.response: dict[str, Any] = {"Error": {"Code": code, "Message": code}}


@dataclass
class FakeS3Client:
    page_size: int = 2
    buckets: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"carnet-test": {}})
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Error codes to raise on the next call of an operation, e.g. {"get_object": "AccessDenied"}.
    fail_next: dict[str, str] = field(default_factory=dict)
    # Object keys that DeleteObjects reports as errors (AccessDenied) instead of deleting.
    undeletable: set[str] = field(default_factory=set)
    # When each object was last put (S3's LastModified): tests may age an object here.
    modified: dict[str, datetime] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    def _enter(self, operation: str, bucket: str, **kwargs: Any) -> dict[str, bytes]:
        self.calls.append((operation, {"Bucket": bucket, **kwargs}))
        code = self.fail_next.pop(operation, None)
        if code is not None:
            raise FakeClientError(code, operation)
        if bucket not in self.buckets:
            raise FakeClientError("NoSuchBucket", operation)
        return self.buckets[bucket]

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> dict[str, Any]:
        objects = self._enter("put_object", Bucket, Key=Key)
        objects[Key] = bytes(Body)
        self.modified[Key] = datetime.now(UTC).replace(microsecond=0)  # S3 keeps seconds
        return {"ETag": '"fake"'}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        objects = self._enter("get_object", Bucket, Key=Key)
        if Key not in objects:
            raise FakeClientError("NoSuchKey", "GetObject")
        return {"Body": io.BytesIO(objects[Key]), "ContentLength": len(objects[Key])}

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        objects = self._enter("head_object", Bucket, Key=Key)
        if Key not in objects:
            raise FakeClientError("404", "HeadObject")  # HEAD has no body, so no "NoSuchKey"
        return {"ContentLength": len(objects[Key]), "LastModified": self.modified[Key]}

    def delete_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        objects = self._enter("delete_object", Bucket, Key=Key)
        objects.pop(Key, None)  # S3 answers 204 whether or not the key existed
        return {}

    def list_objects_v2(
        self, *, Bucket: str, Prefix: str = "", ContinuationToken: str | None = None
    ) -> dict[str, Any]:
        objects = self._enter(
            "list_objects_v2", Bucket, Prefix=Prefix, ContinuationToken=ContinuationToken
        )
        keys = sorted(key for key in objects if key.startswith(Prefix))
        if ContinuationToken is not None:
            if ContinuationToken not in self._tokens:
                raise FakeClientError("InvalidArgument", "ListObjectsV2")
            after = self._tokens[ContinuationToken]
            keys = [key for key in keys if key > after]  # like S3: resumes after the last key
        page, rest = keys[: self.page_size], keys[self.page_size :]
        response: dict[str, Any] = {"KeyCount": len(page), "IsTruncated": bool(rest)}
        if page:
            response["Contents"] = [{"Key": key, "Size": len(objects[key])} for key in page]
        if rest:
            token = f"token-{len(self._tokens)}"
            self._tokens[token] = page[-1]
            response["NextContinuationToken"] = token
        return response

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:
        objects = self._enter("delete_objects", Bucket, Delete=Delete)
        entries = Delete["Objects"]
        if len(entries) > 1000:
            raise FakeClientError("MalformedXML", "DeleteObjects")
        deleted: list[dict[str, str]] = []
        errors: list[dict[str, str]] = []
        for entry in entries:
            key = entry["Key"]
            if key in self.undeletable:
                errors.append({"Key": key, "Code": "AccessDenied", "Message": "Access Denied"})
            else:
                objects.pop(key, None)
                deleted.append({"Key": key})
        response: dict[str, Any] = {}
        if not Delete.get("Quiet"):
            response["Deleted"] = deleted
        if errors:
            response["Errors"] = errors
        return response

    def calls_to(self, operation: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == operation]
