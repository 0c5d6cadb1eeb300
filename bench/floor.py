"""The floor: a bare ASGI app doing the same SQL round trips as Carnet's INS lookup (patient,
record, authorization, audit head locked, audit insert, head update, commit) with no token
check, no access layer, no ORM and no FHIR rendering. Carnet's cost is measured against it."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from bench.common import NIR as DEFAULT_NIR
from bench.floor_base import asgi, engine

NIR = os.environ.get("FLOOR_NIR", DEFAULT_NIR)
PROFESSIONAL = os.environ["FLOOR_PROFESSIONAL_ID"]


def _round_trips(_body: bytes) -> bytes:
    with engine.begin() as conn:
        patient = conn.execute(
            text("SELECT id, nir, ins_oid FROM patients WHERE nir = :n"), {"n": NIR}
        ).one()
        conn.execute(
            text("SELECT status, emergency_access_opposed FROM records WHERE patient_id = :p"),
            {"p": patient.id},
        ).one()
        conn.execute(
            text(
                "SELECT status, treating_doctor FROM authorizations "
                "WHERE patient_id = :p AND professional_id = :r"
            ),
            {"p": patient.id, "r": PROFESSIONAL},
        ).first()
        lock = "" if engine.dialect.name == "sqlite" else " FOR UPDATE"
        chain = str(uuid.UUID(str(patient.id)))
        head = conn.execute(
            text("SELECT seq, hash FROM audit_heads WHERE chain = :c" + lock),  # noqa: S608
            {"c": chain},
        ).one()
        seq = head.seq + 1
        digest = hashlib.sha256(f"{head.hash}{seq}".encode()).hexdigest()
        conn.execute(
            text(
                "INSERT INTO audit_entries (id, chain, seq, patient_id, recorded_at, action, "
                "outcome, mode, actor_kind, prev_hash, hash) VALUES (:id, :c, :s, :p, :t, "
                "'lookup', 'allowed', 'normal', 'professional', :ph, :h)"
            ),
            {
                "id": uuid.uuid4().hex if engine.dialect.name == "sqlite" else uuid.uuid4(),
                "c": chain,
                "s": seq,
                "p": patient.id,
                "t": datetime.now(UTC),
                "ph": head.hash,
                "h": digest,
            },
        )
        conn.execute(
            text("UPDATE audit_heads SET seq = :s, hash = :h WHERE chain = :c"),
            {"s": seq, "h": digest, "c": chain},
        )
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": 1,
            "entry": [{"resource": {"resourceType": "Patient", "id": str(patient.id)}}],
        }
    ).encode()


app = asgi(_round_trips)
