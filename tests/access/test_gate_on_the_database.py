"""The same decisions through the database: facts loaded from real rows, the audit row written
in the same transaction, denials surfacing as the right public error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from carnet.access import Action, Actor, Mode
from carnet.access.gate import authorize
from carnet.audit.models import AuditEntry
from carnet.errors import AccessDenied, Conflict, Forbidden, Invalid, NotFound
from carnet.records.models import Record
from tests.conftest import Cast, audit_rows

REASON = "détresse respiratoire, patiente inconsciente"


def last_entry(session: Session, cast: Cast, who: str = "sylvie") -> AuditEntry:
    return audit_rows(session, AuditEntry.patient_id == cast.patients[who])[-1]


def set_record(session: Session, cast: Cast, who: str = "sylvie", **values: object) -> None:
    record = session.get(Record, cast.patients[who])
    assert record is not None
    for key, value in values.items():
        setattr(record, key, value)
    session.flush()


@pytest.mark.parametrize(
    ("name", "mode", "reason", "allowed", "audit_mode"),
    [
        ("durand", Mode.NORMAL, None, True, "normal"),
        ("petit", Mode.NORMAL, None, True, "normal"),
        ("roux", Mode.NORMAL, None, True, "normal"),
        ("benali", Mode.NORMAL, None, False, "normal"),
        ("benali", Mode.EMERGENCY, REASON, True, "emergency"),
        ("lefevre", Mode.REGULATOR, None, True, "regulator"),
        ("moreau", Mode.NORMAL, None, False, "normal"),
        ("noir", Mode.NORMAL, None, False, "normal"),
        ("noir", Mode.EMERGENCY, REASON, False, "emergency"),
        ("blanc", Mode.NORMAL, None, False, "normal"),
    ],
)
def test_each_professional_reading_sylvies_record_is_decided_and_audited(
    session: Session,
    cast: Cast,
    pro: Callable[..., Actor],
    name: str,
    mode: Mode,
    reason: str | None,
    allowed: bool,
    audit_mode: str,
) -> None:
    actor = pro(name, mode=mode, reason=reason)
    if allowed:
        decision = authorize(
            session, actor, cast.patients["sylvie"], Action.READ, resource_type="Patient"
        )
        assert decision.allowed
        entry = last_entry(session, cast)
        assert (entry.outcome, entry.mode, entry.actor_ref) == ("allowed", audit_mode, actor.ref)
        assert entry.reason == reason
    else:
        with pytest.raises(AccessDenied) as denied:
            authorize(session, actor, cast.patients["sylvie"], Action.READ)
        assert denied.value.entry["outcome"] == "denied"
        assert denied.value.entry["actor_ref"] == actor.ref


def test_an_excluded_actor_gets_not_found_and_a_blocked_one_a_refusal(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    with pytest.raises(AccessDenied) as excluded:
        authorize(session, pro("blanc"), cast.patients["sylvie"], Action.READ)
    assert isinstance(excluded.value.public, NotFound)
    with pytest.raises(AccessDenied) as blocked:
        authorize(session, pro("noir"), cast.patients["sylvie"], Action.READ)
    assert isinstance(blocked.value.public, Forbidden)


def test_the_patients_oppositions_are_read_from_the_record(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    set_record(session, cast, emergency_access_opposed=True)
    with pytest.raises(AccessDenied) as denied:
        authorize(
            session,
            pro("benali", mode=Mode.EMERGENCY, reason=REASON),
            cast.patients["sylvie"],
            Action.READ,
        )
    assert isinstance(denied.value.public, Forbidden)
    # the two choices are independent: the regulator still reads
    assert authorize(
        session, pro("lefevre", mode=Mode.REGULATOR), cast.patients["sylvie"], Action.READ
    ).allowed
    set_record(session, cast, regulator_access_opposed=True)
    with pytest.raises(AccessDenied):
        authorize(
            session, pro("lefevre", mode=Mode.REGULATOR), cast.patients["sylvie"], Action.READ
        )


def test_emergency_without_a_reason_is_refused_naming_the_reason_field(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    with pytest.raises(AccessDenied) as denied:
        authorize(
            session,
            pro("benali", mode=Mode.EMERGENCY, reason=""),
            cast.patients["sylvie"],
            Action.READ,
        )
    assert isinstance(denied.value.public, Invalid)
    assert denied.value.public.field == "reason"


def test_a_closed_record_is_read_only_for_its_holder_and_closed_to_professionals(
    session: Session, cast: Cast, pro: Callable[..., Actor], holder: Callable[[str], Actor]
) -> None:
    henri = holder("henri")
    assert authorize(session, henri, cast.patients["henri"], Action.READ).allowed
    with pytest.raises(AccessDenied) as write:
        authorize(session, henri, cast.patients["henri"], Action.WRITE)
    assert isinstance(write.value.public, Conflict)
    with pytest.raises(AccessDenied):
        authorize(session, pro("durand"), cast.patients["henri"], Action.WRITE)


def test_records_without_existence_answer_not_found(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    for who in ("rose",):  # opposed during the opt-out window
        with pytest.raises(AccessDenied) as denied:
            authorize(session, pro("durand"), cast.patients[who], Action.WRITE)
        assert isinstance(denied.value.public, NotFound)


def test_a_legal_representative_acts_for_a_minor_but_not_for_an_adult(
    session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    sylvie = holder("sylvie")
    decision = authorize(session, sylvie, cast.patients["lea"], Action.READ)
    assert decision.allowed
    assert decision.reason == "representative"
    with pytest.raises(AccessDenied) as denied:
        authorize(session, holder("lea"), cast.patients["sylvie"], Action.READ)
    assert isinstance(denied.value.public, NotFound)
