"""``carnet audit verify`` on a throw-away SQLite file loaded with the demo: exit 0 on an intact
trail, exit 1 naming the chain and the position once someone tampered with the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carnet.cli import app

SYLVIE_NIR = "275033155500425"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo loaded once per module through the CLI; each test works on a copy."""
    where = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as env:
        use(env, where / "a.db", where)
        result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    return where / "a.db"


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "a.db"
    with sqlite3.connect(demo_template) as source, sqlite3.connect(db) as copy:
        source.backup(copy)  # includes what is still in the WAL file
    source.close()
    copy.close()
    use(monkeypatch, db, tmp_path)
    return db


def use(env: pytest.MonkeyPatch, db: Path, data_dir: Path) -> None:
    env.setenv("CARNET_DATABASE_URL", f"sqlite:///{db}")
    env.setenv("CARNET_DATA_DIR", str(data_dir))
    env.setenv("CARNET_ENV", "development")


def sql(db: Path, statement: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(statement, params).fetchall()
    conn.close()
    return rows


def sylvies_chain(db: Path) -> str:
    ((patient_id,),) = sql(db, "SELECT id FROM patients WHERE nir = ?", SYLVIE_NIR)
    ((chain,),) = sql(
        db, "SELECT DISTINCT chain FROM audit_entries WHERE patient_id = ?", patient_id
    )
    return str(chain)


def verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", *args])
    return result.exit_code, result.output


def test_verify_says_the_demo_trail_is_intact(demo_db: Path) -> None:
    assert verify() == (0, "audit trail intact\n")


def test_verify_exits_1_naming_an_altered_row(demo_db: Path) -> None:
    chain = sylvies_chain(demo_db)
    sql(
        demo_db,
        "UPDATE audit_entries SET actor_name = 'quelqu''un' WHERE chain = ? AND seq = 2",
        chain,
    )

    assert verify() == (1, f"chain {chain} at #2: row content was altered\n")


def test_verify_exits_1_naming_a_removed_row_and_a_removed_tail(demo_db: Path) -> None:
    chain = sylvies_chain(demo_db)
    ((last,),) = sql(demo_db, "SELECT max(seq) FROM audit_entries WHERE chain = ?", chain)
    sql(demo_db, "DELETE FROM audit_entries WHERE chain = ? AND seq IN (2, ?)", chain, last)

    code, output = verify()

    assert code == 1
    assert f"chain {chain} at #2: missing row(s) before this position" in output
    assert f"chain {chain} at #{last}: rows were removed at the end of the chain" in output


def test_verify_of_one_chain_ignores_problems_elsewhere(demo_db: Path) -> None:
    sql(demo_db, "UPDATE audit_entries SET detail = 'x' WHERE chain = 'system' AND seq = 1")

    assert verify("--chain", sylvies_chain(demo_db)) == (0, "audit trail intact\n")
    assert verify("--chain", "system")[0] == 1
