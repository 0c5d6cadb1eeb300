"""The floor of the consult scenario (ITI-67 search of a patient's documents): a bare ASGI app
doing the same SQL round trips as Carnet's ``GET /fhir/DocumentReference?patient.identifier=…``
(seen with the engine's echo): the patient by INS, the record, the authorization, the audit
chain head locked, the audit insert, the head update, the "already notified" check, the select
of the stored DocumentReference JSON, commit. No token check, no access layer, no ORM; the body
is the stored JSON concatenated into a searchset.

    FLOOR_DATABASE_URL=… FLOOR_PROFESSIONAL_ID=… uvicorn bench.floor_documents:app
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bench.common import DURAND_PS, INS_OID
from bench.common import NIR as DEFAULT_NIR
from bench.floor_base import asgi, engine

NIR = os.environ.get("FLOOR_NIR", DEFAULT_NIR)
PROFESSIONAL = os.environ["FLOOR_PROFESSIONAL_ID"]
PS_IDNAT = os.environ.get("FLOOR_PS_IDNAT", DURAND_PS)
COUNT = 50
# "carnet" (the same order as Carnet), or a what-if: "lock-last" (the reads first, the chain head
# locked only to append) or "no-chain" (the audit row inserted without locking a chain head).
VARIANT = os.environ.get("FLOOR_VARIANT", "carnet")
SQLITE = engine.dialect.name == "sqlite"
LOCK = "" if SQLITE else " FOR UPDATE"
TRUE = "1" if SQLITE else "true"

PATIENT = text("SELECT id FROM patients WHERE nir = :n AND ins_oid = :o")
RECORD = text(
    "SELECT status, opens_at, emergency_access_opposed, regulator_access_opposed "
    "FROM records WHERE patient_id = :p"
)
AUTHORIZATION = text(
    "SELECT status, treating_doctor FROM authorizations "
    "WHERE patient_id = :p AND professional_id = :r"
)
HEAD = text("SELECT seq, hash FROM audit_heads WHERE chain = :c" + LOCK)  # noqa: S608
INSERT = text(
    "INSERT INTO audit_entries (id, chain, seq, patient_id, recorded_at, action, outcome, mode, "
    "actor_kind, actor_ref, resource_type, prev_hash, hash) VALUES (:id, :c, :s, :p, :t, "
    "'search', 'allowed', 'normal', 'professional', :a, 'DocumentReference', :ph, :h)"
)
MOVE = text("UPDATE audit_heads SET seq = :s, hash = :h WHERE chain = :c")
NOTIFIED = text("SELECT 1 FROM audit_notified_accesses WHERE patient_id = :p AND key = :k")
DOCUMENTS = text(
    f"SELECT resource FROM document_entries WHERE patient_id = :p AND current = {TRUE} "  # noqa: S608
    "AND status = 'current' ORDER BY created DESC, id DESC LIMIT :n"
)


def _round_trips(_body: bytes) -> bytes:
    with engine.begin() as conn:
        patient_id = conn.execute(PATIENT, {"n": NIR, "o": INS_OID}).scalar_one()
        conn.execute(RECORD, {"p": patient_id}).one()
        conn.execute(AUTHORIZATION, {"p": patient_id, "r": PROFESSIONAL}).first()
        if VARIANT == "carnet":  # Carnet's order: the chain head is locked before the reads
            _audit(conn, patient_id)
        conn.execute(NOTIFIED, {"p": patient_id, "k": f"first:{PS_IDNAT}"}).first()
        resources = conn.execute(DOCUMENTS, {"p": patient_id, "n": COUNT + 1}).scalars().all()
        if VARIANT == "lock-last":  # what if: the head is locked only to append, at the end
            _audit(conn, patient_id)
        elif VARIANT == "no-chain":  # what if: no chain head in the request at all
            _insert(conn, patient_id, f"u-{uuid.uuid4().hex[:30]}", 1, "0" * 64, "0" * 64)
    entries = ",".join('{"resource":' + r + "}" for r in resources[:COUNT])
    return (
        '{"resourceType":"Bundle","type":"searchset","total":'
        + str(len(resources[:COUNT]))
        + ',"entry":['
        + entries
        + "]}"
    ).encode()


def _audit(conn: Any, patient_id: Any) -> None:
    chain = str(uuid.UUID(str(patient_id)))
    head = conn.execute(HEAD, {"c": chain}).one()
    seq = head.seq + 1
    digest = hashlib.sha256(f"{head.hash}{seq}".encode()).hexdigest()
    _insert(conn, patient_id, chain, seq, head.hash, digest)
    conn.execute(MOVE, {"s": seq, "h": digest, "c": chain})


def _insert(conn: Any, patient_id: Any, chain: str, seq: int, prev: str, digest: str) -> None:
    conn.execute(
        INSERT,
        {
            "id": uuid.uuid4().hex if SQLITE else uuid.uuid4(),
            "c": chain,
            "s": seq,
            "p": patient_id,
            "t": datetime.now(UTC),
            "a": PS_IDNAT,
            "ph": prev,
            "h": digest,
        },
    )


app = asgi(_round_trips)
