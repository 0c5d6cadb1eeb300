"""The floor of the ingest scenario (ITI-65 with one ~100 KB PDF): a bare ASGI app doing the work
that no implementation can skip, with the same libraries and the same storage as Carnet — the
body parsed (orjson), the content base64-decoded, its SHA-1 checked and its SHA-256 computed,
sealed with AES-256-GCM under the patient's data key (unwrapped from ``document_keys`` with the
master key), written to the local blob store (``LocalBlobStore.put``: temp file, fsync, rename,
fsync of the folder), then in one transaction: the patient by INS, the submission and document
rows, two audit rows on the patient's chain (head locked, rows inserted, head moved), commit.
No token check, no access decision, no metadata validation, no ORM (Core statements built once).

    FLOOR_DATABASE_URL=… FLOOR_BLOBS=<folder> uvicorn bench.floor_ingest:app
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, select

from bench.floor_base import Refused, asgi, engine
from carnet import models  # noqa: F401 - registers every table
from carnet.audit.models import AuditEntry, AuditHead
from carnet.audit.service import GENESIS, chain_of, values_hash
from carnet.documents import envelope
from carnet.documents.models import DocumentEntry, PatientKey, Submission
from carnet.documents.storage import LocalBlobStore
from carnet.patients.models import Patient
from carnet.settings import load_settings

store = LocalBlobStore(Path(os.environ["FLOOR_BLOBS"]))
MASTER = envelope.master_key_from_setting(load_settings().master_key)
CHAIN_KEY = b"floor"

ENTRIES: Table = DocumentEntry.__table__  # type: ignore[assignment]
SUBMISSIONS: Table = Submission.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]
HEADS: Table = AuditHead.__table__  # type: ignore[assignment]
PATIENT = select(Patient.id).where(Patient.nir == bindparam("n"), Patient.ins_oid == bindparam("o"))
KEY = select(PatientKey.wrapped).where(PatientKey.patient_id == bindparam("p"))
HEAD = select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain == bindparam("c")).with_for_update()
MOVE = (
    HEADS.update()
    .where(HEADS.c.chain == bindparam("c"))
    .values(seq=bindparam("s"), hash=bindparam("h"))
)
INSERT_ENTRY, INSERT_SUBMISSION, INSERT_AUDIT = (
    ENTRIES.insert(),
    SUBMISSIONS.insert(),
    AUDIT.insert(),
)


def _parts(body: bytes) -> tuple[str, str, dict[str, Any], bytes]:
    bundle = orjson.loads(body)
    submission = reference = None
    binaries: dict[str, Any] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "List":
            submission = resource
        elif kind == "DocumentReference":
            reference = resource
        elif kind == "Binary":
            binaries[entry.get("fullUrl", "")] = resource
    if submission is None or reference is None:
        raise Refused("not an ITI-65 bundle")
    system, _, nir = (
        submission["subject"]["reference"].removeprefix("Patient?identifier=").partition("|")
    )
    oid = system.removeprefix("urn:oid:")
    attachment = reference["content"][0]["attachment"]
    data = attachment.get("data") or binaries[attachment["url"]]["data"]
    content = base64.b64decode(data, validate=True)
    sha1 = base64.b64encode(hashlib.sha1(content, usedforsecurity=False).digest()).decode()
    if attachment.get("hash") != sha1 or attachment.get("size", len(content)) != len(content):
        raise Refused("hash or size")
    return nir, oid, reference, content


def _ingest(body: bytes) -> bytes:
    if not body:
        return b"{}"  # the readiness probe (GET /)
    nir, oid, reference, content = _parts(body)
    sha256 = hashlib.sha256(content).hexdigest()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        patient_id = conn.execute(PATIENT, {"n": nir, "o": oid}).scalar_one()
        key = envelope.unwrap_key(
            MASTER, conn.execute(KEY, {"p": patient_id}).scalar_one(), patient_id
        )
        blob_key = f"{patient_id}/{uuid.uuid4().hex}"
        store.put(blob_key, envelope.encrypt(key, content, blob_key.encode()))
        submission_id, entry_id = uuid.uuid4(), uuid.uuid4()
        unique_id = reference["masterIdentifier"]["value"]
        conn.execute(
            INSERT_SUBMISSION,
            {
                "id": submission_id,
                "patient_id": patient_id,
                "unique_id": unique_id,
                "source_id": None,
                "submitted_at": now,
                "submitted_by": "floor",
                "client_id": None,
                "entry_count": 1,
            },
        )
        coding = reference["type"]["coding"][0]
        conn.execute(
            INSERT_ENTRY,
            {
                "id": entry_id,
                "logical_id": uuid.uuid4(),
                "version": 1,
                "current": True,
                "patient_id": patient_id,
                "submission_id": submission_id,
                "status": "current",
                "archived": False,
                "unique_id": unique_id,
                "type_system": coding["system"][:120],
                "type_code": coding["code"],
                "class_code": "10",
                "category": "cr",
                "format_code": None,
                "facility_type": None,
                "practice_setting": None,
                "masked_ps": False,
                "invisible_patient": False,
                "invisible_representatives": False,
                "patient_authored": False,
                "author_kind": "professional",
                "author_ref": "floor",
                "author_name": None,
                "author_profession": None,
                "created": now,
                "service_start": None,
                "service_end": None,
                "title": "floor",
                "content_type": "application/pdf",
                "size": len(content),
                "sha1": hashlib.sha1(content, usedforsecurity=False).hexdigest(),
                "sha256": sha256,
                "blob_key": blob_key,
                "blob_id": blob_key.rsplit("/", 1)[-1],
                "replaces_id": None,
                "recorded_at": now,
                "recorded_by": "floor",
                "resource": orjson.dumps(reference).decode(),
            },
        )
        chain = chain_of(patient_id)
        head = conn.execute(HEAD, {"c": chain}).first()
        seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
        rows = []
        for action, resource_id in (("document.submit", None), ("write", str(entry_id))):
            seq += 1
            values: dict[str, Any] = {
                "id": uuid.uuid4(),
                "chain": chain,
                "seq": seq,
                "patient_id": patient_id,
                "recorded_at": now,
                "action": action,
                "outcome": "allowed",
                "mode": "normal",
                "reason": None,
                "actor_kind": "professional",
                "actor_ref": "floor",
                "actor_name": None,
                "actor_profession": None,
                "actor_structure": None,
                "client_id": None,
                "resource_type": "DocumentReference",
                "resource_id": resource_id,
                "detail": None,
                "prev_hash": prev,
            }
            values["hash"] = prev = values_hash(CHAIN_KEY, prev, values)
            rows.append(values)
        conn.execute(INSERT_AUDIT, rows)
        if head is not None:
            conn.execute(MOVE, {"c": chain, "s": seq, "h": prev})
    return orjson.dumps(
        {"resourceType": "Bundle", "type": "transaction-response", "id": str(entry_id)}
    )


app = asgi(_ingest)
