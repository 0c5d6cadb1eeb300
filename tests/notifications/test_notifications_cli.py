"""``carnet notifications run --once`` on a throw-away SQLite file, with the development file
sender: a code e-mailed by the insurer goes out once, and its code leaves the outbox."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carnet.cli import app

JEAN_NIR = "168073155512372"


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARNET_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    monkeypatch.setenv("CARNET_SENDER", "file")
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    return tmp_path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_one_pass_sends_what_is_due_once_and_scrubs_the_code(demo_dir: Path) -> None:
    assert run("notifications", "run", "--once") == "sent 0\n"
    assert run("record", "issue-code", "--nir", JEAN_NIR, "--delivery", "email") == (
        "code sent by email\n"
    )

    assert run("notifications", "run", "--once") == "sent 1\n"
    assert run("notifications", "run", "--once") == "sent 0\n"

    lines = (demo_dir / "outbox" / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    (message,) = (json.loads(line) for line in lines)
    assert (message["channel"], message["to"]) == ("email", "jean.dupont@example.org")
    assert message["subject"] == "Votre code d'activation Carnet"
    with sqlite3.connect(demo_dir / "a.db") as conn:
        rows = conn.execute("SELECT status, payload FROM outbox").fetchall()
    conn.close()
    assert [(status, json.loads(payload)) for status, payload in rows] == [("sent", {})]
