"""``carnet record …`` on a throw-away SQLite file with the demo loaded: a NIR typed as it is
printed on a carte Vitale (spaces, dots) finds the person; a malformed one is explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from carnet.cli import app

ROSE_PRINTED = "2 90 06 92 050 031 10"  # opposed to the automatic creation in 2022
JEAN_PRINTED = "1.68.07.31.555.123.72"


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARNET_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    monkeypatch.setenv("CARNET_SENDER", "file")
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_record_create_finds_a_nir_typed_with_spaces(demo_dir: Path) -> None:
    assert run("record", "create", "--nir", ROSE_PRINTED) == (
        0,
        "record open (channel insurer_counter)\n",
    )


def test_record_issue_code_finds_a_nir_typed_with_dots(demo_dir: Path) -> None:
    code, output = run("record", "issue-code", "--nir", JEAN_PRINTED)
    assert code == 0, output
    assert output.startswith("activation code: ")


def test_a_malformed_nir_is_explained_naming_the_option(demo_dir: Path) -> None:
    code, output = run("record", "issue-code", "--nir", "2 90 06 92 050 031 11")
    assert code == 2
    assert "error [nir]: " in output
    assert "wrong key" in output
