"""Bulk data for the scale scenario: synthetic patients with open records, an authorization each,
and their documents, inserted directly (no services, no audit trail) in large batches, around a
database that already holds the demo (``carnet demo --reset``).

    python -m bench.generate --database sqlite|postgres [--patients 100000]
        [--documents 2000000] [--measured-nir 275033155500425] [--measured-documents 50]
        [--target scale] [--batch 20000]

What is written, all in ONE transaction (so a run is all or nothing):

- ``--patients`` patients (valid NIRs, department 75, ``vitale_serial`` ``BENCH-<n>``), each with
  an open record and one active authorization for a demo professional (round robin, so Dr
  Durand is authorized on a tenth of them).
- ``--documents`` document rows spread over them (1 to 39 each, 20 on average for the default
  sizes): current version 1, valid columns and a pre-serialised ``resource`` rendered once per
  template by Carnet's own ``document_resource`` and string-substituted per row (ids, patient,
  masterIdentifier, dates). Ids are time-ordered (UUIDv7-like). ``blob_key`` points at one of a
  few shared blobs sealed under a throw-away key: the consult never reads contents, and those
  patients have no ``document_keys`` row (nothing needs one).
- The measured patient (Sylvie by default) gets an active treating-doctor authorization for Dr
  Durand if she has none, and document rows up to ``--measured-documents`` if she has fewer
  (``bench.documents`` loads hers through the API first, so normally none are added).

SQLite: ``executemany`` through SQLAlchemy's connection (rollback journal and a large cache for
the load, WAL again afterwards). PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3), then ``VACUUM
ANALYZE`` of the loaded tables (so that autovacuum does not wake up during a measurement).

Idempotent: if the synthetic patients and the last patient's documents are there, it says so
and writes nothing; if another size was generated, it refuses (reset the target first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, create_engine, text

from bench.common import DURAND_PS, NIR, Target
from carnet import models  # noqa: F401 - registers every table
from carnet.db import Base
from carnet.documents import envelope
from carnet.documents.fhir import document_resource
from carnet.documents.models import DocumentEntry
from carnet.documents.samples import pdf_report
from carnet.documents.service import blob_id_of
from carnet.documents.storage import LocalBlobStore
from carnet.terminology import documents as vocab

INS_OID = "1.2.250.1.213.1.4.8"
MARK = "BENCH-"  # vitale_serial of synthetic patients
GENERATOR = "bench-generator"  # recorded_by of generated documents
TYPES = ["11488-4", "34112-3", "11490-0", "11502-2", "18748-4", "57833-6", "60591-5", "87273-9"]
SHARED_BLOBS = 8
DATES = 2000
EPOCH = datetime(2015, 1, 5, 10, 0, tzinfo=UTC)

DOC_COLUMNS = [
    "id",
    "logical_id",
    "version",
    "current",
    "patient_id",
    "submission_id",
    "status",
    "archived",
    "unique_id",
    "type_system",
    "type_code",
    "class_code",
    "category",
    "format_code",
    "facility_type",
    "practice_setting",
    "masked_ps",
    "invisible_patient",
    "invisible_representatives",
    "patient_authored",
    "author_kind",
    "author_ref",
    "author_name",
    "author_profession",
    "created",
    "service_start",
    "service_end",
    "title",
    "content_type",
    "size",
    "sha1",
    "sha256",
    "blob_key",
    "blob_id",
    "replaces_id",
    "recorded_at",
    "recorded_by",
    "resource",
]
PATIENT_COLUMNS = [
    "id",
    "nir",
    "ins_oid",
    "birth_name",
    "birth_given_names",
    "used_name",
    "used_given_name",
    "birth_date",
    "sex",
    "birth_place_code",
    "vitale_serial",
    "email",
    "phone",
    "created_at",
]
RECORD_COLUMNS = [
    "patient_id",
    "status",
    "channel",
    "created_by",
    "opens_at",
    "opposed_at",
    "activated_at",
    "emergency_access_opposed",
    "regulator_access_opposed",
    "closed_at",
    "closure_reason",
    "closure_comment",
    "deletion_requested",
    "retention_until",
    "reactivated_at",
    "created_at",
]
AUTH_COLUMNS = [
    "id",
    "patient_id",
    "professional_id",
    "status",
    "source",
    "treating_doctor",
    "granted_at",
    "updated_at",
    "version",
    "created_at",
]


# --- values in each database's own format -------------------------------------------------


class Ids:
    """Time-ordered ids (UUIDv7 layout: ms, version 7, counter, variant, random) as 32 hex."""

    def __init__(self) -> None:
        self.ms = time.time_ns() // 1_000_000
        self.counter = 0
        self.random = random.Random(os.urandom(8))

    def next_hex(self) -> str:
        self.counter += 1
        if self.counter > 0xFFF:
            self.ms, self.counter = self.ms + 1, 0
        value = (self.ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | self.counter << 64
        value |= 0b10 << 62 | self.random.getrandbits(62)
        return f"{value:032x}"


def dashed(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Dialect:
    """How one database wants its values: SQLite rows are tuples of Python values as SQLAlchemy
    stores them (hex ids, naive UTC text dates, 0/1); PostgreSQL rows are COPY text lines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pg = name == "postgresql"

    def id(self, h: str) -> str:
        return dashed(h) if self.pg else h

    def moment(self, value: datetime | None) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.isoformat() if self.pg else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def bool(self, value: bool) -> Any:
        return ("t" if value else "f") if self.pg else int(value)

    def day(self, value: date) -> str:
        return value.isoformat()


def copy_escape(value: Any) -> str:
    if value is None:
        return "\\N"
    text_value = str(value)
    if any(c in text_value for c in "\\\t\n\r"):
        text_value = (
            text_value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text_value


# --- documents: templates rendered once -----------------------------------------------------

SENTINEL_ID = uuid.UUID(int=0xA1)
SENTINEL_LOGICAL = uuid.UUID(int=0xA2)
SENTINEL_PATIENT = uuid.UUID(int=0xA3)
SENTINEL_UID = "@@UID@@"
SENTINEL_CREATED = datetime(1901, 1, 1, tzinfo=UTC)
SENTINEL_RECORDED = datetime(1902, 2, 2, tzinfo=UTC)


@dataclass
class Blob:
    key: str
    size: int
    sha1: str
    sha256: str


@dataclass
class Template:
    static: dict[str, Any]  # column values shared by every row of this template
    resource: str  # %-format string: id, logical, patient, uid, created, recorded


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_blobs(target: Target) -> list[Blob]:
    """A few real sealed blobs that every generated row points at (contents are never read)."""
    import hashlib

    store = LocalBlobStore(target.data_dir / "blobs")
    key = envelope.new_data_key()
    blobs = []
    for i in range(SHARED_BLOBS):
        content = pdf_report(
            title="Document de charge",
            patient="Patient Synthétique",
            born="01/01/1970",
            author="Dr Paul Durand",
            structure="Cabinet médical des Carmes",
            date="01/01/2025",
            sections=[("Objet", [f"Document partagé n° {i} des données de charge."])],
        )
        blob_key = f"bench-shared/{uuid.uuid4().hex}"
        store.put(blob_key, envelope.encrypt(key, content, blob_key.encode()))
        blobs.append(
            Blob(
                blob_key,
                len(content),
                hashlib.sha1(content, usedforsecurity=False).hexdigest(),
                hashlib.sha256(content).hexdigest(),
            )
        )
    return blobs


def make_templates(authors: list[dict[str, Any]], blobs: list[Blob]) -> list[Template]:
    templates = []
    for i, code in enumerate(TYPES * 2):
        doc_type = vocab.document_type(vocab.LOINC, code)
        assert doc_type is not None, code
        klass = vocab.class_code(doc_type.class_code)
        author = authors[i % len(authors)]
        blob = blobs[i % len(blobs)]
        static: dict[str, Any] = {
            "version": 1,
            "current": True,
            "submission_id": None,
            "status": "current",
            "archived": False,
            "type_system": doc_type.system,
            "type_code": code,
            "class_code": doc_type.class_code,
            "category": vocab.category_of(doc_type).key,
            "format_code": None,
            "facility_type": "SA07",
            "practice_setting": None,
            "masked_ps": False,
            "invisible_patient": False,
            "invisible_representatives": False,
            "patient_authored": False,
            "author_kind": "professional",
            "author_ref": author["ps_idnat"],
            "author_name": author["name"],
            "author_profession": author["profession"],
            "service_end": None,
            "title": doc_type.display[:255],
            "content_type": "application/pdf",
            "size": blob.size,
            "sha1": blob.sha1,
            "sha256": blob.sha256,
            "blob_key": blob.key,
            "blob_id": blob_id_of(blob.key),
            "replaces_id": None,
            "recorded_by": GENERATOR,
        }
        entry = DocumentEntry(
            id=SENTINEL_ID,
            logical_id=SENTINEL_LOGICAL,
            patient_id=SENTINEL_PATIENT,
            unique_id=SENTINEL_UID,
            created=SENTINEL_CREATED,
            service_start=SENTINEL_CREATED,
            recorded_at=SENTINEL_RECORDED,
            **{k: v for k, v in static.items() if k != "recorded_by"},
            recorded_by=author["ps_idnat"],
        )
        rendered = document_resource(
            entry, type_display=doc_type.display, class_display=klass.display if klass else ""
        )
        resource = rendered.replace("%", "%%")
        for sentinel, name in (
            (str(SENTINEL_ID), "id"),
            (str(SENTINEL_LOGICAL), "logical"),
            (str(SENTINEL_PATIENT), "patient"),
            (SENTINEL_UID, "uid"),
            (_iso(SENTINEL_CREATED), "created"),
            (_iso(SENTINEL_RECORDED), "recorded"),
        ):
            assert sentinel in resource, sentinel
            resource = resource.replace(sentinel, f"%({name})s")
        templates.append(Template(static, resource))
    return templates


# --- synthetic people -----------------------------------------------------------------------


def nir_of(i: int) -> tuple[str, date, str]:
    """A valid, unique NIR (department 75) for synthetic patient ``i``; birth date and sex."""
    order = i % 999 + 1
    rest = i // 999
    commune = 100 + rest % 900
    rest //= 900
    month = rest % 12 + 1
    year = 40 + rest // 12
    if year > 99:
        raise ValueError("too many synthetic patients for this NIR scheme")
    sex = 1 + i % 2
    body = f"{sex}{year:02d}{month:02d}75{commune:03d}{order:03d}"
    key = 97 - int(body) % 97
    return f"{body}{key:02d}", date(1900 + year, month, 15), "M" if sex == 1 else "F"


def documents_per_patient(patients: int, documents: int) -> Callable[[int], int]:
    """Deterministic spread: pairs of patients share 2 × the mean, split unevenly (≥ 1 each)."""
    mean, extra = divmod(documents, patients)

    def count(i: int) -> int:
        base = mean + (1 if i < extra else 0)
        if mean < 2 or (i ^ 1) >= patients:
            return base
        swing = (i // 2 * 7) % mean  # 0 … mean-1
        return base + swing if i % 2 == 0 else base - swing

    return count


# --- writing --------------------------------------------------------------------------------


class Sink:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = Dialect(conn.dialect.name)

    def write(self, table: str, columns: list[str], rows: list[Any]) -> None:
        if not rows:
            return
        if self.dialect.pg:
            raw = self.conn.connection.driver_connection
            assert raw is not None
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.write("".join(rows))
        else:
            marks = ", ".join("?" for _ in columns)
            self.conn.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                rows,
            )

    def row(self, values: list[Any]) -> Any:
        if self.dialect.pg:
            return "\t".join(copy_escape(v) for v in values) + "\n"
        return tuple(values)


def check_columns() -> None:
    for table, columns in (
        ("document_entries", DOC_COLUMNS),
        ("patients", PATIENT_COLUMNS),
        ("records", RECORD_COLUMNS),
        ("authorizations", AUTH_COLUMNS),
    ):
        actual = {c.name for c in Base.metadata.tables[table].columns}
        if actual != set(columns):
            raise SystemExit(
                f"bench.generate is out of date with the {table} table: "
                f"missing {sorted(actual - set(columns))}, unknown {sorted(set(columns) - actual)}"
            )


def document_rows(
    sink: Sink,
    ids: Ids,
    templates: list[Template],
    dates: list[tuple[Any, str]],
    patient_hex: str,
    count: int,
    seed: int,
) -> Iterator[Any]:
    """``count`` rows for one patient; static parts come from the template, the rest per row."""
    d = sink.dialect
    patient_value = d.id(patient_hex)
    patient_dashed = dashed(patient_hex)
    for j in range(count):
        template = templates[(seed + j) % len(templates)]
        moment_value, moment_iso = dates[(seed * 7 + j * 13) % len(dates)]
        row_hex, logical_hex = ids.next_hex(), ids.next_hex()
        uid = f"urn:oid:1.2.250.1.999.88.{seed}.{j}"
        resource = template.resource % {
            "id": dashed(row_hex),
            "logical": dashed(logical_hex),
            "patient": patient_dashed,
            "uid": uid,
            "created": moment_iso,
            "recorded": moment_iso,
        }
        s = template.static
        yield sink.row(
            [
                d.id(row_hex),
                d.id(logical_hex),
                1,
                d.bool(True),
                patient_value,
                None,
                "current",
                d.bool(False),
                uid,
                s["type_system"],
                s["type_code"],
                s["class_code"],
                s["category"],
                None,
                s["facility_type"],
                None,
                d.bool(False),
                d.bool(False),
                d.bool(False),
                d.bool(False),
                "professional",
                s["author_ref"],
                s["author_name"],
                s["author_profession"],
                moment_value,
                moment_value,
                None,
                s["title"],
                s["content_type"],
                s["size"],
                s["sha1"],
                s["sha256"],
                s["blob_key"],
                s["blob_id"],
                None,
                moment_value,
                GENERATOR,
                resource,
            ]
        )


# --- the run --------------------------------------------------------------------------------


@dataclass
class Plan:
    patients: int
    documents: int
    measured_nir: str
    measured_documents: int
    batch: int


def status(conn: Connection, plan: Plan) -> str:
    """ "empty", "done" or a reason to refuse."""
    synthetic = conn.execute(
        text("SELECT count(*) FROM patients WHERE vitale_serial LIKE :m"), {"m": MARK + "%"}
    ).scalar_one()
    if synthetic == 0:
        return "empty"
    if synthetic != plan.patients:
        return f"{synthetic} synthetic patients are there, not {plan.patients}"
    last_nir = nir_of(plan.patients - 1)[0]
    expected = documents_per_patient(plan.patients, plan.documents)(plan.patients - 1)
    found = conn.execute(
        text(
            "SELECT count(*) FROM document_entries d JOIN patients p ON p.id = d.patient_id "
            "WHERE p.nir = :n"
        ),
        {"n": last_nir},
    ).scalar_one()
    if found != expected:
        return f"the last synthetic patient has {found} documents, not {expected}"
    return "done"


def authors(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT id, ps_idnat, title, given_name, family_name, profession_code "
            "FROM professionals ORDER BY ps_idnat"
        )
    ).all()
    if not rows:
        raise SystemExit("no professionals: load the demo first (carnet demo --reset)")
    return [
        {
            "id": str(r.id).replace("-", ""),
            "ps_idnat": r.ps_idnat,
            "name": " ".join(p for p in (r.title, r.given_name, r.family_name) if p),
            "profession": r.profession_code,
        }
        for r in rows
    ]


def generate(target: Target, plan: Plan, log: Callable[[str], None] = print) -> dict[str, Any]:
    check_columns()
    engine = create_engine(target.url)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            state = status(conn, plan)
        if state == "done":
            log(f"{target.kind}: already generated ({plan.patients} patients), nothing to do")
            return {"generated": False, "state": "done"}
        if state != "empty":
            raise SystemExit(f"{target.kind}: refusing to generate: {state}; reset the target")
        if target.kind == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
        with engine.connect() as conn:
            if target.kind == "sqlite":
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.exec_driver_sql("PRAGMA cache_size=-1000000")  # 1 GB for the indexes
                conn.commit()
            transaction = conn.begin()
            try:
                _load(conn, target, plan, timings, log)
            except BaseException:
                transaction.rollback()
                raise
            t = time.perf_counter()
            transaction.commit()
            timings["commit_s"] = round(time.perf_counter() - t, 1)
        if target.kind == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        else:
            t = time.perf_counter()
            vacuum = engine.execution_options(isolation_level="AUTOCOMMIT")
            with vacuum.connect() as conn:
                for table in ("patients", "records", "authorizations", "document_entries"):
                    conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
            timings["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
    finally:
        engine.dispose()
    total = round(time.perf_counter() - started, 1)
    log(f"{target.kind}: generated in {total} s {timings}")
    manifest = {
        "generated": True,
        "patients": plan.patients,
        "documents": plan.documents,
        "seconds": total,
        "timings": timings,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    target.data_dir.mkdir(parents=True, exist_ok=True)
    (target.data_dir / "generated.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _load(
    conn: Connection,
    target: Target,
    plan: Plan,
    timings: dict[str, float],
    log: Callable[[str], None],
) -> None:
    sink = Sink(conn)
    d = sink.dialect
    ids = Ids()
    t = time.perf_counter()
    people = authors(conn)
    durand = next(p for p in people if p["ps_idnat"] == DURAND_PS)
    measured = conn.execute(
        text("SELECT id FROM patients WHERE nir = :n AND ins_oid = :o"),
        {"n": plan.measured_nir, "o": INS_OID},
    ).scalar_one_or_none()
    if measured is None:
        raise SystemExit("the measured patient is missing: load the demo first")
    measured_hex = str(measured).replace("-", "")
    templates = make_templates(people, make_blobs(target))
    dates = [
        (d.moment(EPOCH + timedelta(hours=21 * k)), _iso(EPOCH + timedelta(hours=21 * k)))
        for k in range(DATES)
    ]
    created = d.moment(datetime(2025, 1, 2, 9, 0, tzinfo=UTC))
    timings["prepare_s"] = round(time.perf_counter() - t, 1)

    # The measured patient: Dr Durand's authorization, and documents up to the wanted count.
    t = time.perf_counter()
    authorized = conn.execute(
        text("SELECT count(*) FROM authorizations WHERE patient_id = :p AND professional_id = :r"),
        {"p": d.id(measured_hex), "r": d.id(durand["id"])},
    ).scalar_one()
    if not authorized:
        sink.write(
            "authorizations",
            AUTH_COLUMNS,
            [
                sink.row(
                    [
                        d.id(ids.next_hex()),
                        d.id(measured_hex),
                        d.id(durand["id"]),
                        "active",
                        "patient",
                        d.bool(True),
                        created,
                        created,
                        1,
                        created,
                    ]
                )
            ],
        )
    have = conn.execute(
        text(
            "SELECT count(*) FROM document_entries WHERE patient_id = :p AND current = :t "
            "AND status = 'current'"
        ),
        {"p": d.id(measured_hex), "t": True},
    ).scalar_one()
    missing = max(plan.measured_documents - have, 0)
    durand_templates = [tp for tp in templates if tp.static["author_ref"] == DURAND_PS]
    sink.write(
        "document_entries",
        DOC_COLUMNS,
        list(document_rows(sink, ids, durand_templates, dates, measured_hex, missing, 10**9)),
    )
    log(f"measured patient: authorization {'kept' if authorized else 'added'}, {missing} added")

    # Synthetic patients, records and authorizations.
    patient_hex = [ids.next_hex() for _ in range(plan.patients)]
    for start in range(0, plan.patients, plan.batch):
        stop = min(start + plan.batch, plan.patients)
        patients, records, grants = [], [], []
        for i in range(start, stop):
            nir, born, sex = nir_of(i)
            pid = d.id(patient_hex[i])
            patients.append(
                sink.row(
                    [
                        pid,
                        nir,
                        INS_OID,
                        "SYNTHETIQUE",
                        f"PATIENT {i}",
                        None,
                        None,
                        d.day(born),
                        sex,
                        "75101",
                        f"{MARK}{i}",
                        None,
                        None,
                        created,
                    ]
                )
            )
            records.append(
                sink.row(
                    [
                        pid,
                        "open",
                        "insurer_counter",
                        "bench",
                        None,
                        None,
                        None,
                        d.bool(False),
                        d.bool(False),
                        None,
                        None,
                        None,
                        d.bool(False),
                        None,
                        None,
                        created,
                    ]
                )
            )
            grants.append(
                sink.row(
                    [
                        d.id(ids.next_hex()),
                        pid,
                        d.id(people[i % len(people)]["id"]),
                        "active",
                        "patient",
                        d.bool(False),
                        created,
                        created,
                        1,
                        created,
                    ]
                )
            )
        sink.write("patients", PATIENT_COLUMNS, patients)
        sink.write("records", RECORD_COLUMNS, records)
        sink.write("authorizations", AUTH_COLUMNS, grants)
    timings["patients_s"] = round(time.perf_counter() - t, 1)
    log(f"{plan.patients} patients, records and authorizations in {timings['patients_s']} s")

    # Their documents, patient after patient (indexes on patient_id grow at their end).
    t = time.perf_counter()
    per_patient = documents_per_patient(plan.patients, plan.documents)
    batch: list[Any] = []
    written = 0
    for i in range(plan.patients):
        batch.extend(document_rows(sink, ids, templates, dates, patient_hex[i], per_patient(i), i))
        if len(batch) >= plan.batch or i == plan.patients - 1:
            sink.write("document_entries", DOC_COLUMNS, batch)
            written += len(batch)
            batch = []
            if written % (plan.batch * 25) < plan.batch:
                rate = written / (time.perf_counter() - t)
                log(f"  {written} documents ({rate:,.0f}/s)")
    if written != plan.documents:
        raise AssertionError(f"wrote {written} documents, not {plan.documents}")
    timings["documents_s"] = round(time.perf_counter() - t, 1)
    log(f"{written} documents in {timings['documents_s']} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--target", default="scale", help="bench.common.Target name")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=2_000_000)
    parser.add_argument("--measured-nir", default=NIR)
    parser.add_argument("--measured-documents", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20_000)
    args = parser.parse_args()
    target = Target(args.database, args.target)
    if not target.exists():
        sys.exit(f"{target.url}: no Carnet schema; run `carnet demo --reset` on it first")
    plan = Plan(
        args.patients, args.documents, args.measured_nir, args.measured_documents, args.batch
    )
    generate(target, plan)


if __name__ == "__main__":
    main()
