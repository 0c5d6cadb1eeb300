"""The retention purge: only records whose retention has ended, everything that carries the
patient's id, the identity last; a count on the system trail, never an identifier."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import authorize
from carnet.accounts.models import AccountKind
from carnet.accounts.service import create_account
from carnet.audit import service as audit
from carnet.audit.models import SYSTEM_CHAIN, AuditEntry, AuditHead
from carnet.audit.service import HASHED_FIELDS, verify
from carnet.authorizations.service import grant
from carnet.cli import app
from carnet.db import Base
from carnet.documents.storage import LocalBlobStore
from carnet.errors import Forbidden
from carnet.patients.models import Patient
from carnet.patients.service import add_representative
from carnet.records import service as records
from carnet.records.models import Channel, Record
from tests.conftest import NIRS, Cast, audit_rows

TEN_YEARS_LATER = datetime(2036, 3, 2, 9, 30, tzinfo=UTC)  # NOW + 10 years
HENRI_RETENTION_END = datetime(2034, 5, 2, 15, 30, tzinfo=UTC)  # closed 2024-05-02 15:30


@pytest.fixture(autouse=True)
def blobs_of_its_own(session: Session, tmp_path: Path) -> None:
    """The purge destroys contents for real once its transaction commits — and the test's
    savepoint does commit — while the test's rows roll back at its end: on a copy of the
    shared store, the tests that follow keep the contents of their documents."""
    shared = session.info["blobs"]
    assert isinstance(shared, LocalBlobStore)
    copy = tmp_path / "blobs"
    shutil.copytree(shared.root, copy)
    session.info["blobs"] = LocalBlobStore(copy)


def rows_of(session: Session, patient_id: uuid.UUID) -> dict[str, int]:
    """How many rows of each table still carry this patient's id (any column that holds it)."""
    audit.write_queued(session)  # the transaction's audit rows too (written at commit)
    session.flush()
    counts: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in ("patient_id", "representative_id", "id", "chain"):
            if column not in table.c:
                continue
            if column == "id" and table.name != "patients":
                continue
            value = str(patient_id) if column == "chain" else patient_id
            count = session.execute(
                select(func.count()).select_from(table).where(table.c[column] == value)
            ).scalar_one()
            if count:
                counts[f"{table.name}.{column}"] = count
    return counts


def system_rows(session: Session) -> list[AuditEntry]:
    return audit_rows(session, AuditEntry.chain == SYSTEM_CHAIN)


@pytest.fixture
def closed_person(
    session: Session,
    operator: Actor,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    now: datetime,
) -> Patient:
    """Someone with a bit of everything (record, codes, outbox, account, authorization, a
    representation, a notified access, a trail), who closed their record at ``NOW``."""
    person = newcomer(email="closing@example.org")
    child = newcomer(email=None)
    records.create_record(session, operator, person.id, channel=Channel.INSURER_COUNTER)
    records.issue_activation_code(session, operator, person.id, delivery="email")
    create_account(
        session,
        kind=AccountKind.PATIENT,
        login=f"{person.id}@example.org",
        password="not-checked",
        patient_id=person.id,
        check_strength=False,
    )
    me = Actor(kind=ActorKind.PATIENT, ref=f"patient:{person.id}", patient_id=person.id)
    grant(session, me, person.id, pro("durand").professional_id)  # type: ignore[arg-type]
    authorize(session, pro("durand"), person.id, Action.READ)  # first access: notified
    add_representative(
        session, operator, patient_id=child.id, representative_id=person.id, relation_code="FTH"
    )
    records.close_record(session, me, person.id)
    session.flush()
    tables = {name.split(".")[0] for name in rows_of(session, person.id)}
    assert {
        "records",
        "activation_codes",
        "outbox",
        "accounts",
        "authorizations",
        "audit_notified_accesses",
        "legal_representatives",
        "audit_entries",
        "audit_heads",
        "patients",
    } <= tables
    return person


@pytest.mark.parametrize(
    "actor",
    [
        Actor(kind=ActorKind.PATIENT, ref="patient:someone"),
        Actor(kind=ActorKind.PROFESSIONAL, ref="810000000017", profession="10"),
        Actor(kind=ActorKind.ANONYMOUS, ref="self-service"),
    ],
)
def test_only_an_operator_can_purge(session: Session, now: datetime, actor: Actor) -> None:
    with pytest.raises(Forbidden):
        records.purge_due(session, actor)


def test_a_record_within_its_retention_is_not_purged(
    session: Session,
    operator: Actor,
    closed_person: Patient,
    frozen: Callable[[datetime], None],
) -> None:
    frozen(TEN_YEARS_LATER - timedelta(seconds=1))

    records.purge_due(session, operator)

    assert session.get(Record, closed_person.id) is not None
    assert "patients.id" in rows_of(session, closed_person.id)


def test_the_purge_removes_every_row_of_a_patient_whose_retention_has_ended(
    session: Session,
    operator: Actor,
    closed_person: Patient,
    frozen: Callable[[datetime], None],
) -> None:
    frozen(TEN_YEARS_LATER)

    report = records.purge_due(session, operator)

    assert report.at == TEN_YEARS_LATER
    assert report.purged >= 1
    session.flush()  # pending changes first: expiring discards them
    session.expire_all()
    assert rows_of(session, closed_person.id) == {}
    assert session.get(Patient, closed_person.id) is None


def test_the_purge_leaves_other_patients_and_their_trails_intact(
    session: Session,
    operator: Actor,
    cast: Cast,
    closed_person: Patient,
    frozen: Callable[[datetime], None],
) -> None:
    keep = ("sylvie", "lea", "jean", "rose")
    before = {name: rows_of(session, cast.patients[name]) for name in keep}
    frozen(TEN_YEARS_LATER)

    records.purge_due(session, operator)

    session.flush()  # pending changes first: expiring discards them
    session.expire_all()
    after = {name: rows_of(session, cast.patients[name]) for name in keep}
    assert after == before
    assert list(verify(session)) == []  # no chain left broken or headless


def test_the_purge_counts_exactly_the_records_whose_retention_has_ended(
    session: Session,
    operator: Actor,
    cast: Cast,
    closed_person: Patient,
    frozen: Callable[[datetime], None],
) -> None:
    frozen(HENRI_RETENTION_END)
    assert records.purge_due(session, operator).purged == 1  # Henri, closed in 2024
    assert session.get(Patient, cast.patients["henri"]) is None
    assert session.get(Patient, closed_person.id) is not None

    frozen(TEN_YEARS_LATER)
    assert records.purge_due(session, operator).purged == 1  # now the newcomer
    assert records.purge_due(session, operator).purged == 0  # nothing left to do


def test_a_requested_deletion_is_purged_at_the_next_run(
    session: Session,
    operator: Actor,
    holder: Callable[[str], Actor],
    cast: Cast,
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]
    records.close_record(session, holder("sylvie"), sylvie, delete_now=True)

    records.purge_due(session, operator)

    session.flush()  # pending changes first: expiring discards them
    session.expire_all()
    assert rows_of(session, sylvie) == {}
    lea = session.get(Patient, cast.patients["lea"])
    assert lea is not None  # her daughter stays, without the link to her
    assert session.get(Record, lea.id) is not None


def test_the_purge_writes_a_count_on_the_system_trail_without_any_identifier(
    session: Session,
    operator: Actor,
    cast: Cast,
    closed_person: Patient,
    frozen: Callable[[datetime], None],
) -> None:
    henri = session.get(Patient, cast.patients["henri"])
    assert henri is not None
    identifiers = {str(closed_person.id), closed_person.nir, str(henri.id), henri.nir}
    frozen(TEN_YEARS_LATER)

    report = records.purge_due(session, operator)

    row = system_rows(session)[-1]
    assert (row.action, row.outcome, row.detail) == ("record.purge", "allowed", "purged=2")
    assert report.purged == 2
    assert (row.patient_id, row.resource_id, row.actor_kind) == (None, None, "operator")
    content = " ".join(str(getattr(row, name)) for name in HASHED_FIELDS)
    assert not any(identifier in content for identifier in identifiers)


def test_an_empty_purge_is_traced_too(
    session: Session, operator: Actor, frozen: Callable[[datetime], None], now: datetime
) -> None:
    before = len(system_rows(session))

    report = records.purge_due(session, operator)

    assert report.purged == 0
    rows = system_rows(session)
    assert len(rows) == before + 1
    assert (rows[-1].action, rows[-1].detail) == ("record.purge", "purged=0")


def test_the_purge_honours_its_limit(
    session: Session,
    operator: Actor,
    cast: Cast,
    closed_person: Patient,
    frozen: Callable[[datetime], None],
) -> None:
    frozen(TEN_YEARS_LATER)

    assert records.purge_due(session, operator, limit=1).purged == 1
    assert records.purge_due(session, operator, limit=1).purged == 1
    assert records.purge_due(session, operator, limit=1).purged == 0


# --- the `carnet purge` command ----------------------------------------------------------------


def test_the_carnet_purge_command_purges_what_is_due_and_says_how_many(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("CARNET_DATABASE_URL", url)
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    runner = CliRunner()
    loaded = runner.invoke(app, ["demo"])
    assert loaded.exit_code == 0, loaded.output

    frozen(HENRI_RETENTION_END - timedelta(minutes=1))
    early = runner.invoke(app, ["purge"])
    frozen(HENRI_RETENTION_END)
    due = runner.invoke(app, ["purge"])
    again = runner.invoke(app, ["purge"])
    verified = runner.invoke(app, ["audit", "verify"])

    assert (early.exit_code, early.output.strip()) == (0, "purged 0 record(s)")
    assert (due.exit_code, due.output.strip()) == (0, "purged 1 record(s)")
    assert (again.exit_code, again.output.strip()) == (0, "purged 0 record(s)")
    assert verified.exit_code == 0, verified.output
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            nirs = set(db.execute(select(Patient.nir)).scalars())
            assert NIRS["henri"] not in nirs
            assert {NIRS["sylvie"], NIRS["lea"], NIRS["jean"], NIRS["rose"]} <= nirs
            details = db.execute(
                select(AuditEntry.detail)
                .where(AuditEntry.chain == SYSTEM_CHAIN, AuditEntry.action == "record.purge")
                .order_by(AuditEntry.seq)
            ).scalars()
            assert list(details) == ["purged=0", "purged=1", "purged=0"]
            assert (
                db.execute(select(func.count()).select_from(AuditHead)).scalar_one()
                == len(nirs) + 1
            )
    finally:
        engine.dispose()


def test_the_carnet_purge_command_commits_a_batch_at_a_time(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    """Each batch in its own transaction, with its own count: the server's writers wait for a
    batch, not for the whole run; ``--limit`` caps the run."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("CARNET_DATABASE_URL", url)
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    engine = create_engine(url)
    try:
        with Session(engine) as db, db.begin():  # Rose's record too, closed as long ago as Henri's
            rose = db.execute(select(Patient).where(Patient.nir == NIRS["rose"])).scalar_one()
            record = db.get_one(Record, rose.id)
            record.status, record.closed_at = "closed", HENRI_RETENTION_END - timedelta(days=3653)
            record.retention_until = HENRI_RETENTION_END
        frozen(HENRI_RETENTION_END)

        capped = runner.invoke(app, ["purge", "--batch", "1", "--limit", "1"])
        rest = runner.invoke(app, ["purge", "--batch", "1"])

        assert (capped.exit_code, capped.output.strip()) == (0, "purged 1 record(s)")
        assert (rest.exit_code, rest.output.strip()) == (0, "purged 1 record(s)")
        with Session(engine) as db:
            nirs = set(db.execute(select(Patient.nir)).scalars())
            assert not {NIRS["henri"], NIRS["rose"]} & nirs
            details = db.execute(
                select(AuditEntry.detail)
                .where(AuditEntry.chain == SYSTEM_CHAIN, AuditEntry.action == "record.purge")
                .order_by(AuditEntry.seq)
            ).scalars()
            assert list(details) == ["purged=1", "purged=1", "purged=0"]  # a row per batch
    finally:
        engine.dispose()
