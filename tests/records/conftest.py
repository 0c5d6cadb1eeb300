"""Fixtures for the record lifecycle: fresh people with no record yet (so that each test starts
from a known state, whatever the personas went through), a fixed "now", and trail readers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.audit.models import AuditEntry
from carnet.audit.service import chain_of
from carnet.errors import AccessDenied, CarnetError
from carnet.patients.models import Patient
from carnet.patients.service import register_patient
from tests.conftest import audit_rows, valid_nir

# A fixed moment after the personas' history (2021-2024), well before Léa comes of age (2029).
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BIRTH_DATE = date(1980, 5, 17)

_orders = itertools.count(900)


@pytest.fixture
def now(frozen: Callable[[datetime], None]) -> datetime:
    """Freeze the clock at ``NOW`` (and return it); tests move it with ``frozen``."""
    frozen(NOW)
    return NOW


@pytest.fixture
def newcomer(session: Session, operator: Actor) -> Callable[..., Patient]:
    """Register a person in the identity referential, without any record."""

    def make(
        *, email: str | None = "newcomer@example.org", vitale_serial: str | None = None
    ) -> Patient:
        return register_patient(
            session,
            operator,
            nir=valid_nir(f"1{BIRTH_DATE:%y%m}31555{next(_orders):03d}"),
            birth_name="NOUVEAU",
            birth_given_names=["CAMILLE"],
            birth_date=BIRTH_DATE,
            sex="M",
            birth_place_code="31555",
            email=email,
            vitale_serial=vitale_serial,
        )

    return make


@pytest.fixture
def trail(session: Session) -> Callable[..., list[AuditEntry]]:
    """The rows of one patient's chain, oldest first (optionally only some actions)."""

    def read(patient_id: object, *actions: str) -> list[AuditEntry]:
        where = [AuditEntry.chain == chain_of(patient_id)]  # type: ignore[arg-type]
        if actions:
            where.append(AuditEntry.action.in_(actions))
        return audit_rows(session, *where)

    return read


@contextmanager
def refused(kind: type[CarnetError]) -> Iterator[None]:
    """Expect a refusal surfacing as ``kind``: raised directly, or as the public error of an
    audited ``AccessDenied`` (what the transaction boundary turns it into)."""
    try:
        yield
    except AccessDenied as denied:
        if not isinstance(denied.public, kind):
            raise AssertionError(f"expected {kind.__name__}, got {denied.public!r}") from denied
    except kind:
        pass
    else:
        raise AssertionError(f"expected a refusal ({kind.__name__})")
