"""The operator curates the catalogue with the ``carnet`` command: register, list, label,
unlist — each change audited, mistakes reported with the field and exit status 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from carnet.apps.models import App
from carnet.audit.models import AuditEntry
from carnet.cli import app

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "var").mkdir()
    monkeypatch.setenv("CARNET_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'cli.db'}")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return tmp_path


def rows(workdir: Path) -> tuple[dict[str, Any], list[str]]:
    """The registered apps by client id, and the actions of the audit trail."""
    engine = create_engine(f"sqlite:///{workdir / 'var' / 'cli.db'}")
    with engine.connect() as conn:
        found = {a.client_id: a for a in conn.execute(select(App)).all()}
        actions = [str(r.action) for r in conn.execute(select(AuditEntry.action)).all()]
    engine.dispose()
    return found, actions


def test_an_operator_registers_labels_lists_and_unlists_an_app(workdir: Path) -> None:
    registered = runner.invoke(
        app,
        [
            "apps", "register",
            "--name", "Sommeil+",
            "--client-id", "sommeil",
            "--redirect-uri", "https://sommeil.example.org/cb",
            "--scopes", "launch/patient patient/Observation.cruds",
            "--publisher", "Sommeil SAS",
            "--category", "prevention",
            "--launch-url", "https://sommeil.example.org/carnet",
        ],
    )  # fmt: skip
    assert registered.exit_code == 0, registered.output
    assert "client_id: sommeil" in registered.output

    listed = runner.invoke(app, ["apps", "list"])
    assert listed.exit_code == 0
    assert "sommeil\tSommeil+\tnot in the catalogue\tprevention" in listed.output

    labelled = runner.invoke(app, ["apps", "label", "sommeil"])
    assert labelled.exit_code == 0, labelled.output
    assert "labelled referenced" in labelled.output
    assert "referenced since" in runner.invoke(app, ["apps", "list"]).output
    found, _ = rows(workdir)
    assert found["sommeil"].listed
    assert found["sommeil"].label == "referenced"
    assert found["sommeil"].publisher == "Sommeil SAS"
    assert found["sommeil"].launch_url == "https://sommeil.example.org/carnet"

    unlisted = runner.invoke(app, ["app", "unlist", "sommeil"])  # the singular group works too
    assert unlisted.exit_code == 0, unlisted.output
    found, trail = rows(workdir)
    assert not found["sommeil"].listed
    assert found["sommeil"].label is None
    assert [a for a in trail if a.startswith("app.")] == ["app.register", "app.label", "app.unlist"]


def test_curation_mistakes_exit_2_naming_the_field(workdir: Path) -> None:
    unknown = runner.invoke(app, ["apps", "label", "nope"])
    assert unknown.exit_code == 2
    bad_category = runner.invoke(
        app,
        [
            "apps", "register", "--name", "X", "--redirect-uri", "https://x.example.org/cb",
            "--scopes", "patient/Observation.rs", "--category", "astrology",
        ],
    )  # fmt: skip
    assert bad_category.exit_code == 2
    assert "[category]" in bad_category.output
    assert rows(workdir)[0] == {}  # nothing half-written
    assert runner.invoke(app, ["apps", "list"]).output.strip() == "no app registered"
