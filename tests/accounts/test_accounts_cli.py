"""``carnet account create`` for a patient on a throw-away SQLite file with the demo loaded: the
NIR may be typed as printed on a carte Vitale; a malformed one is explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from carnet.cli import app

ROSE_PRINTED = "2 90 06 92 050 031 10"  # has no account in the demo
PASSWORD = "rose-password-2026"


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARNET_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    return tmp_path


def create(nir: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "account",
            "create",
            "--kind",
            "patient",
            "--login",
            "rose@example.org",
            "--nir",
            nir,
            "--password",
            PASSWORD,
        ],
    )
    return result.exit_code, result.output


def test_a_patient_account_is_created_for_a_nir_typed_with_spaces(demo_dir: Path) -> None:
    assert create(ROSE_PRINTED) == (0, "account rose@example.org created (patient)\n")


def test_a_malformed_nir_is_explained_naming_the_option(demo_dir: Path) -> None:
    code, output = create("2 90 06 92")
    assert code == 2
    assert "error [nir]: " in output
