"""The floor of the consult scenario (ITI-67 search of a patient's documents): a bare ASGI app
doing the same SQL round trips as Carnet's ``GET /fhir/DocumentReference?patient.identifier=…``
(``python -m bench.profile_documents --sql`` lists them): the access decision's one query (the
patient by INS, the record, the authorization, the "already notified" check), the stored
DocumentReference JSON, then at commit the audit chain's head locked and the audit row
appended (the head moved in the same statement on PostgreSQL, decision 10; in a second on
SQLite), commit. No token check, no access layer, no ORM; the body is the stored JSON
concatenated into a searchset.

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
# "carnet" (Carnet's statements, in its order), or a what-if: "lock-first" (the chain head locked
# before the reads, as Carnet did before its audit rows were written at commit) or "no-chain"
# (the audit row inserted without locking a chain head).
VARIANT = os.environ.get("FLOOR_VARIANT", "carnet")
SQLITE = engine.dialect.name == "sqlite"
LOCK = "" if SQLITE else " FOR UPDATE"
TRUE = "1" if SQLITE else "true"

ACCESS = text(
    "SELECT patients.id, records.status, records.opens_at, records.emergency_access_opposed, "
    "records.regulator_access_opposed, authorizations.status, authorizations.treating_doctor, "
    "audit_notified_accesses.key FROM patients "
    "LEFT JOIN records ON records.patient_id = patients.id "
    "LEFT JOIN authorizations ON authorizations.patient_id = patients.id "
    "AND authorizations.professional_id = :r "
    "LEFT JOIN audit_notified_accesses ON audit_notified_accesses.patient_id = patients.id "
    "AND audit_notified_accesses.key = :k WHERE patients.nir = :n AND patients.ins_oid = :o"
)
HEAD = text("SELECT seq, hash FROM audit_heads WHERE chain = :c" + LOCK)  # noqa: S608
COLUMNS = (
    "(id, chain, seq, patient_id, recorded_at, action, outcome, mode, actor_kind, actor_ref, "
    "resource_type, secret, prev_hash, hash) VALUES (:id, :c, :s, :p, :t, 'search', 'allowed', "
    f"'normal', 'professional', :a, 'DocumentReference', {'0' if SQLITE else 'false'}, :ph, :h)"
)
INSERT = text("INSERT INTO audit_entries " + COLUMNS)
MOVE = text("UPDATE audit_heads SET seq = :s, hash = :h WHERE chain = :c")
INSERT_MOVING = text(  # PostgreSQL: Carnet's one statement (decision 10)
    "WITH moved AS (UPDATE audit_heads SET seq = :s, hash = :h WHERE chain = :c) "  # noqa: S608
    "INSERT INTO audit_entries " + COLUMNS
)
BYTES = "resource" if SQLITE else "convert_to(resource, 'UTF8')"
DOCUMENTS = text(
    f"SELECT {BYTES} FROM document_entries WHERE patient_id = :p AND current = {TRUE} "  # noqa: S608
    "AND status = 'current' ORDER BY created DESC, id DESC LIMIT :n"
)


def _round_trips(_body: bytes) -> bytes:
    with engine.begin() as conn:
        patient_id = conn.execute(
            ACCESS, {"n": NIR, "o": INS_OID, "r": PROFESSIONAL, "k": f"first:{PS_IDNAT}"}
        ).one()[0]
        if VARIANT == "lock-first":  # what if: the chain head locked before the reads
            _audit(conn, patient_id)
        resources = conn.execute(DOCUMENTS, {"p": patient_id, "n": COUNT + 1}).scalars().all()
        if VARIANT == "carnet":  # Carnet's order: the audit row appended at commit
            _audit(conn, patient_id)
        elif VARIANT == "no-chain":  # what if: no chain head in the request at all
            _insert(conn, INSERT, patient_id, f"u-{uuid.uuid4().hex[:30]}", 1, "0" * 64, "0" * 64)
    entries = ",".join(
        '{"resource":' + (r if isinstance(r, str) else bytes(r).decode()) + "}"
        for r in resources[:COUNT]
    )
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
    if SQLITE:
        _insert(conn, INSERT, patient_id, chain, seq, head.hash, digest)
        conn.execute(MOVE, {"s": seq, "h": digest, "c": chain})
    else:
        _insert(conn, INSERT_MOVING, patient_id, chain, seq, head.hash, digest)


def _insert(
    conn: Any, statement: Any, patient_id: Any, chain: str, seq: int, prev: str, digest: str
) -> None:
    conn.execute(
        statement,
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
