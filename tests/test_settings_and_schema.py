"""Settings refuse insecure production; the migrations describe exactly the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from carnet.db import Base
from carnet.settings import PLACEHOLDER_SECRET, InsecureSettings, load_settings

GOOD = {
    "env": "production",
    "secret_key": "s" * 48,
    "master_key": "bWFzdGVyLWtleS1vZi0zMi1ieXRlcy1mb3ItdGVzdHMh",
    "base_url": "https://carnet.example.org",
    "sender": "smtp",
}


def test_development_defaults_need_no_setting_at_all() -> None:
    settings = load_settings()
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite")


def test_production_starts_with_real_secrets() -> None:
    assert load_settings(**GOOD).env == "production"


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"secret_key": PLACEHOLDER_SECRET}, "CARNET_SECRET_KEY"),
        ({"secret_key": "short"}, "CARNET_SECRET_KEY"),
        ({"master_key": load_settings().master_key}, "CARNET_MASTER_KEY"),
        ({"previous_master_keys": load_settings().master_key}, "CARNET_PREVIOUS_MASTER_KEYS"),
        ({"debug": True}, "CARNET_DEBUG"),
        ({"base_url": "http://carnet.example.org"}, "CARNET_BASE_URL"),
        ({"sender": "console"}, "CARNET_SENDER"),
    ],
)
def test_production_refuses_insecure_defaults_naming_the_setting(
    override: dict[str, object], named: str
) -> None:
    with pytest.raises(InsecureSettings, match=named):
        load_settings(**{**GOOD, **override})


def test_production_refuses_settings_from_the_environment_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARNET_ENV", "production")
    with pytest.raises(InsecureSettings):
        load_settings()


def test_the_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_ids_are_time_ordered_uuid7_and_strictly_increasing() -> None:
    from carnet.db import new_id

    ids = [new_id() for _ in range(5000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_the_placeholder_secret_is_refused_beyond_loopback_even_in_development() -> None:
    with pytest.raises(InsecureSettings, match="CARNET_SECRET_KEY"):
        load_settings(host="0.0.0.0")  # noqa: S104 - the point of the test
    with pytest.raises(InsecureSettings):
        load_settings(base_url="http://carnet.example.org")
    assert load_settings(host="0.0.0.0", secret_key="r" * 40).host == "0.0.0.0"  # noqa: S104
