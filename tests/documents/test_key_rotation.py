"""Master-key rotation: with the new key as ``CARNET_MASTER_KEY`` and the old one among
``CARNET_PREVIOUS_MASTER_KEYS``, every content stays readable; ``rewrap_keys`` (``carnet
documents rewrap-keys``) wraps each patient's data key with the new key — contents untouched —
after which the new key alone reads everything and the old one nothing. A key no configured
master opens is reported, not skipped silently; only an operator may run it; the run is traced
on the system chain; a malformed key is refused at start, naming the setting."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor
from carnet.app import create_app
from carnet.audit.models import AuditEntry
from carnet.documents import envelope
from carnet.documents.models import PatientKey
from carnet.documents.service import rewrap_keys, verify_contents
from carnet.errors import Forbidden
from carnet.settings import Settings
from tests.conftest import OPERATOR, Cast, audit_rows
from tests.documents.conftest import new_master


def configured(factory: sessionmaker[Session], settings: Settings, **changes: Any) -> Session:
    """A session on the same transaction, under other key settings."""
    info = {**factory.kw["info"], "settings": settings.model_copy(update=changes)}
    return sessionmaker(
        bind=factory.kw["bind"],
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
        info=info,
    )()


def keys(session: Session) -> int:
    return session.execute(select(func.count()).select_from(PatientKey)).scalar_one()


def test_the_old_key_reads_until_the_rewrap_then_the_new_key_alone(
    factory: sessionmaker[Session], settings: Settings, session: Session
) -> None:
    old, new = settings.master_key, new_master()
    total = keys(session)
    assert total > 0  # the demo's patients have documents

    with configured(factory, settings, master_key=new) as alone:
        assert list(verify_contents(alone))  # before the rotation, the new key opens nothing
    with configured(factory, settings, master_key=new, previous_master_keys=old) as rotating:
        assert list(verify_contents(rotating)) == []  # read through the previous key
        done = rewrap_keys(rotating, OPERATOR, batch=2)  # several batches
    assert (done.rewrapped, done.current, done.unreadable) == (total, 0, [])

    with configured(factory, settings, master_key=new) as alone:
        assert list(verify_contents(alone)) == []
        again = rewrap_keys(alone, OPERATOR)
    assert (again.rewrapped, again.current) == (0, total)
    with configured(factory, settings, master_key=old) as retired:
        assert list(verify_contents(retired))  # the old key no longer opens anything

    traced = audit_rows(session, AuditEntry.chain == "system", AuditEntry.action == "keys.rewrap")
    assert [row.detail for row in traced][-2:] == [
        f"rewrapped={total} current=0 unreadable=0",
        f"rewrapped=0 current={total} unreadable=0",
    ]


def test_a_key_no_configured_master_opens_is_reported(
    factory: sessionmaker[Session], settings: Settings, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    lost = session.get(PatientKey, sylvie)
    assert lost is not None
    lost.wrapped = envelope.wrap_key(
        envelope.master_key_from_setting(new_master()), envelope.new_data_key(), sylvie
    )
    session.commit()

    with configured(
        factory, settings, master_key=new_master(), previous_master_keys=settings.master_key
    ) as s:
        done = rewrap_keys(s, OPERATOR)
    assert done.unreadable == [sylvie]
    assert done.rewrapped == keys(session) - 1


def test_only_an_operator_rewraps(session: Session, holder: Callable[[str], Actor]) -> None:
    with pytest.raises(Forbidden):
        rewrap_keys(session, holder("sylvie"))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"master_key": "not base64!"}, "CARNET_MASTER_KEY"),
        (
            {"previous_master_keys": f"{new_master()}, {base64.b64encode(b'short').decode()}"},
            "CARNET_PREVIOUS_MASTER_KEYS, key 2",
        ),
    ],
)
def test_a_malformed_master_key_is_refused_at_start_naming_the_setting(
    settings: Settings, changes: dict[str, str], named: str
) -> None:
    with pytest.raises(ValueError, match=named) as refused:
        create_app(settings.model_copy(update=changes))
    for value in changes.values():
        for key in value.split(","):
            assert key.strip() not in str(refused.value)  # a key is never repeated
