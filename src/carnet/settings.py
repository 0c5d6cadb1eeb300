"""Settings: the only reader of the environment (``CARNET_*`` variables).

Development defaults work with zero set-up; production refuses insecure ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-insecure-secret-change-me-0000000000"  # noqa: S105 - refused in production
PLACEHOLDER_MASTER_KEY = "ZGV2LWluc2VjdXJlLW1hc3Rlci1rZXktY2hhbmdlISE="  # refused in production


class InsecureSettings(Exception):
    """Raised when production mode is asked for with development defaults."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARNET_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    debug: bool = False
    database_url: str = "sqlite:///var/carnet.db"
    # Where the API's transactions run (decisions 8 and 10): on each worker's event loop (its
    # SQL round trips then block the worker: right for SQLite and a nearby PostgreSQL), or in
    # its thread pool (a PostgreSQL far away: a round trip of a millisecond or more).
    transactions_on_loop: bool = True
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("var")
    shared_data_dir: Path = Path("../shared/data")

    secret_key: str = PLACEHOLDER_SECRET
    master_key: str = PLACEHOLDER_MASTER_KEY
    # Rotation: the master keys being retired, comma-separated; data keys still wrapped by one
    # of them unwrap until `carnet documents rewrap-keys` has wrapped them all with master_key.
    previous_master_keys: str = ""

    # Tokens and sign-in
    access_token_ttl_seconds: int = 600
    patient_token_ttl_seconds: int = 3600
    assertion_max_lifetime_seconds: int = 300
    session_ttl_seconds: int = 1800
    session_absolute_ttl_seconds: int = 12 * 3600
    sign_in_code_ttl_seconds: int = 600
    sign_in_max_attempts: int = 5
    password_max_failures: int = 5
    password_lockout_seconds: int = 900

    # Record lifecycle (domain.md §3)
    activation_code_ttl_days: int = 90
    activation_code_max_attempts: int = 5
    opt_out_window_days: int = 42
    retention_years: int = 10
    majority_age: int = 18

    # Documents
    document_max_bytes: int = 20_000_000
    blob_store: Literal["local", "s3"] = "local"
    blob_root: Path | None = None  # default: <data_dir>/blobs
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    habilitation_matrix: Path | None = None  # default: the shipped matrix
    emergency_reveals_masked: bool = False  # bris de glace shows MASQUE_PS documents?
    emergency_access_ttl_seconds: int = 3600  # a portal bris de glace lasts at most this

    # Profile and safety
    duplicate_exam_window_days: int = 30
    terminology_dir: Path | None = None  # newer BDPM / ANSM files (carnet terminology import)

    # Notifications
    sender: Literal["console", "file", "smtp"] = "console"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "Carnet <no-reply@carnet.invalid>"
    outbox_max_attempts: int = 8
    outbox_poll_seconds: float = 2.0
    run_worker: bool = True

    # Demo
    demo_password: str = Field(default="carnet-demo-2026")

    @property
    def blob_path(self) -> Path:
        return self.blob_root or (self.data_dir / "blobs")

    def refuse_insecure(self) -> Settings:
        """Production refuses development defaults; returns self when all is well. Even in
        development, the public placeholder secret is only accepted on a loopback address."""
        if self.env != "production":
            if self.secret_key == PLACEHOLDER_SECRET and not self._loopback_only():
                raise InsecureSettings(
                    "refusing to serve beyond this machine with the placeholder "
                    "CARNET_SECRET_KEY: set a random secret of 32+ characters"
                )
            return self
        problems = []
        if self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32:
            problems.append("CARNET_SECRET_KEY must be set to a random value of 32+ characters")
        if self.master_key == PLACEHOLDER_MASTER_KEY:
            problems.append("CARNET_MASTER_KEY must be set (base64 of 32 random bytes)")
        if PLACEHOLDER_MASTER_KEY in self.previous_master_key_list:
            problems.append("CARNET_PREVIOUS_MASTER_KEYS must not hold the placeholder key")
        if self.debug:
            problems.append("CARNET_DEBUG must be off")
        if not self.base_url.startswith("https://"):
            problems.append("CARNET_BASE_URL must use https://")
        if self.sender != "smtp":
            problems.append("CARNET_SENDER must be smtp (console and file senders are for dev)")
        if problems:
            raise InsecureSettings("refusing to run in production: " + "; ".join(problems))
        return self

    def _loopback_only(self) -> bool:
        loopback = {"127.0.0.1", "localhost", "::1", "testserver"}
        return self.host in loopback and (urlsplit(self.base_url).hostname or "") in loopback

    @property
    def previous_master_key_list(self) -> list[str]:
        return [k.strip() for k in self.previous_master_keys.split(",") if k.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def fhir_base(self) -> str:
        return self.base_url.rstrip("/") + "/fhir"

    @property
    def token_endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/oauth/token"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides (tests, CLI flags)."""
    return Settings(**overrides).refuse_insecure()  # type: ignore[arg-type]
