"""Looking a record up by patient id or by INS: probing ids that match nobody is traced like
probing INS (an audited denial on the system chain, without the id), and a malformed INS is
refused naming the ``identifier`` parameter."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor
from carnet.audit.models import AuditEntry, AuditHead
from carnet.audit.transaction import audited_transaction
from carnet.errors import AccessDenied, Invalid, NotFound
from carnet.records import service as records
from tests.conftest import INS, NIRS, Cast


def system_rows_after(session: Session, seq: int) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.execute(
            select(AuditEntry)
            .where(AuditEntry.chain == "system", AuditEntry.seq > seq)
            .order_by(AuditEntry.seq)
        ).scalars()
    )


def system_head(session: Session) -> int:
    head = session.get(AuditHead, "system")
    return head.seq if head else 0


def test_an_unknown_patient_id_is_an_audited_denial_like_an_unknown_ins(
    session: Session, pro: Callable[..., Actor]
) -> None:
    probe = uuid.uuid4()

    with pytest.raises(AccessDenied) as denied:
        records.lookup_by_id(session, pro("durand"), probe)

    assert isinstance(denied.value.public, NotFound)
    entry = denied.value.entry
    assert (entry["patient_id"], entry["outcome"], entry["detail"]) == (
        None,
        "denied",
        "unknown_patient",
    )
    assert (entry["action"], entry["resource_type"]) == ("lookup", "Patient")
    assert str(probe) not in str(entry)


def test_the_denial_about_an_unknown_id_reaches_the_system_chain(
    session: Session, factory: sessionmaker[Session], pro: Callable[..., Actor]
) -> None:
    seq = system_head(session)
    durand = pro("durand")

    with pytest.raises(NotFound), audited_transaction(factory) as tx:
        records.lookup_by_id(tx, durand, uuid.uuid4())

    rows = system_rows_after(session, seq)
    assert [(r.action, r.outcome, r.detail, r.actor_ref) for r in rows] == [
        ("lookup", "denied", "unknown_patient", durand.ref)
    ]


def test_a_malformed_patient_id_is_an_audited_denial_too(
    session: Session, factory: sessionmaker[Session], pro: Callable[..., Actor]
) -> None:
    seq = system_head(session)
    durand = pro("durand")

    with pytest.raises(NotFound), audited_transaction(factory) as tx:
        records.lookup_by_id(tx, durand, "not-a-uuid")

    rows = system_rows_after(session, seq)
    assert [(r.action, r.outcome, r.detail, r.actor_ref) for r in rows] == [
        ("lookup", "denied", "unknown_patient", durand.ref)
    ]
    assert all("not-a-uuid" not in str(r.resource_id) for r in rows)


def test_reading_the_trail_of_a_malformed_patient_id_is_an_audited_denial(
    session: Session, factory: sessionmaker[Session], pro: Callable[..., Actor]
) -> None:
    seq = system_head(session)
    durand = pro("durand")

    with pytest.raises(NotFound), audited_transaction(factory) as tx:
        records.read_trail(tx, durand, "Patient-42")

    rows = system_rows_after(session, seq)
    assert [(r.action, r.outcome, r.detail, r.actor_ref) for r in rows] == [
        ("read_trail", "denied", "unknown_patient", durand.ref)
    ]


def test_a_known_patient_id_is_still_looked_up_through_the_gate(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    view = records.lookup_by_id(session, pro("durand"), cast.patients["sylvie"])
    assert view.patient.id == cast.patients["sylvie"]


def test_a_malformed_ins_is_refused_naming_the_identifier_parameter(
    session: Session, pro: Callable[..., Actor]
) -> None:
    for token in (INS.format(NIRS["sylvie"][:-1] + "0"), "no-separator", ""):
        with pytest.raises(Invalid) as refused:
            records.lookup_by_identifier(session, pro("durand"), token)
        assert refused.value.field == "identifier"
