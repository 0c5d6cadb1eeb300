"""The operator command, run as an operator would."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from carnet.cli import app

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # a folder that does not exist yet, as in a fresh checkout
    monkeypatch.setenv("CARNET_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'cli.db'}")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CARNET_ENV", "development")
    return tmp_path


def test_help_lists_the_operator_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "serve",
        "db",
        "demo",
        "account",
        "system",
        "app",
        "directory",
        "record",
        "purge",
        "audit",
        "notifications",
    ):
        assert command in result.output


def test_demo_alone_sets_up_a_fresh_checkout(workdir: Path) -> None:
    result = runner.invoke(app, ["demo", "--reset"])
    assert result.exit_code == 0, result.output
    assert (workdir / "var" / "cli.db").exists()


def test_db_upgrade_then_demo_prints_how_to_sign_in_as_each_persona(workdir: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    for login in (
        "sylvie.martin@example.org",
        "paul.durand@example.org",
        "amina.benali@example.org",
        "henri.blanc@example.org",
    ):
        assert login in result.output
    assert "client_id=sys-" in result.output
    assert (workdir / "demo-keys" / "310000047.pem").exists()


def test_registering_a_system_prints_its_client_id_and_refuses_a_private_key(workdir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    assert runner.invoke(app, ["demo"]).exit_code == 0
    key = ec.generate_private_key(ec.SECP256R1())
    public = workdir / "pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    private = workdir / "priv.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    homeless = runner.invoke(
        app, ["system", "register", "--name", "LIS", "--public-key", str(public)]
    )
    assert homeless.exit_code == 2
    assert "structure" in homeless.output
    ok = runner.invoke(
        app,
        [
            "system",
            "register",
            "--name",
            "LIS",
            "--public-key",
            str(public),
            "--structure",
            "1310000047",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "client_id: sys-" in ok.output
    refused = runner.invoke(
        app, ["system", "register", "--name", "LIS", "--public-key", str(private)]
    )
    assert refused.exit_code == 2
    assert "public key only" in refused.output


def test_demo_is_refused_in_production(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARNET_ENV", "production")
    monkeypatch.setenv("CARNET_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("CARNET_MASTER_KEY", "bWFzdGVyLWtleS1vZi0zMi1ieXRlcy1mb3ItdGVzdHMh")
    monkeypatch.setenv("CARNET_BASE_URL", "https://carnet.example.org")
    monkeypatch.setenv("CARNET_SENDER", "smtp")
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 2


def test_serve_refuses_to_start_in_production_with_a_placeholder_secret(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARNET_ENV", "production")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code != 0
    assert "CARNET_SECRET_KEY" in str(result.exception) + result.output


def test_account_creation_prints_the_totp_secret_of_a_professional(workdir: Path) -> None:
    assert runner.invoke(app, ["demo"]).exit_code == 0
    result = runner.invoke(
        app,
        [
            "account",
            "create",
            "--kind",
            "professional",
            "--login",
            "second@example.org",
            "--ps-idnat",
            "810000000017",
            "--password",
            "another-Password-42",
        ],
    )
    assert result.exit_code == 2
    assert "already has an account" in result.output
    from carnet.identity import luhn_check_digit

    rpps = "1000000013" + luhn_check_digit("1000000013")
    csv_file = workdir / "pros.csv"
    csv_file.write_text(f"rpps,given_name,family_name,profession_code\n{rpps},Nina,Simon,60\n")
    imported = runner.invoke(app, ["directory", "import", "professionals", str(csv_file)])
    assert imported.exit_code == 0, imported.output
    assert "imported 1 professionals" in imported.output
    bad = workdir / "bad.csv"
    bad.write_text(f"rpps,given_name,family_name,profession_code\n{rpps},Nina,Simon,99\n")
    refused = runner.invoke(app, ["directory", "import", "professionals", str(bad)])
    assert refused.exit_code == 2
    assert "row 1 (profession_code): Unknown profession code" in refused.output
    missing = runner.invoke(app, ["directory", "import", "professionals", "nowhere.csv"])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    result = runner.invoke(
        app,
        [
            "account",
            "create",
            "--kind",
            "professional",
            "--login",
            "nina@example.org",
            "--ps-idnat",
            "8" + rpps,
            "--password",
            "another-Password-42",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "TOTP secret" in result.output
    weak = runner.invoke(
        app, ["account", "create", "--kind", "operator", "--login", "o2", "--password", "short"]
    )
    assert weak.exit_code == 2
    assert "password" in weak.output
