"""The patient's two independent choices: opposing emergency access ("bris de glace") and
opposing access by the SAMU regulator. Only the holder, or the legal representative of a minor,
makes them; each change is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Action, Actor, ActorKind, Mode
from carnet.access.gate import authorize
from carnet.audit.models import AuditEntry
from carnet.audit.transaction import audited_transaction
from carnet.errors import AccessDenied, Forbidden, NotFound
from carnet.records import service as records
from carnet.records.models import Record
from tests.conftest import Cast

Trail = Callable[..., list[AuditEntry]]
REASON = "patiente inconsciente aux urgences"


def choices(session: Session, patient_id: object) -> tuple[bool, bool]:
    record = session.get(Record, patient_id)
    assert record is not None
    return record.emergency_access_opposed, record.regulator_access_opposed


def may_read(session: Session, actor: Actor, patient_id: object) -> bool:
    try:
        authorize(session, actor, patient_id, Action.READ)  # type: ignore[arg-type]
    except AccessDenied:
        return False
    return True


@pytest.mark.parametrize(
    ("emergency", "regulator"), [(True, False), (False, True), (True, True), (False, False)]
)
def test_the_holder_makes_the_two_choices_independently_and_they_take_effect(
    session: Session,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
    cast: Cast,
    trail: Trail,
    now: datetime,
    emergency: bool,
    regulator: bool,
) -> None:
    sylvie = cast.patients["sylvie"]

    records.set_access_choices(
        session,
        holder("sylvie"),
        sylvie,
        emergency_access_opposed=emergency,
        regulator_access_opposed=regulator,
    )

    assert choices(session, sylvie) == (emergency, regulator)
    [row] = trail(sylvie, "record.access_choices")
    assert row.detail == f"emergency_opposed={emergency} regulator_opposed={regulator}"
    assert (row.outcome, row.actor_kind, row.actor_ref) == ("allowed", "patient", "patient:sylvie")
    benali = pro("benali", mode=Mode.EMERGENCY, reason=REASON)
    lefevre = pro("lefevre", mode=Mode.REGULATOR)
    assert may_read(session, benali, sylvie) is not emergency
    assert may_read(session, lefevre, sylvie) is not regulator


def test_a_legal_representative_makes_the_choices_for_a_minor(
    session: Session, holder: Callable[[str], Actor], cast: Cast, trail: Trail, now: datetime
) -> None:
    lea = cast.patients["lea"]

    records.set_access_choices(
        session,
        holder("sylvie"),
        lea,
        emergency_access_opposed=False,
        regulator_access_opposed=True,
    )

    assert choices(session, lea) == (False, True)
    [row] = trail(lea, "record.access_choices")
    assert row.actor_ref == "patient:sylvie"


def test_a_former_representative_cannot_make_the_choices_once_the_child_is_of_age(
    session: Session,
    holder: Callable[[str], Actor],
    cast: Cast,
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    lea = cast.patients["lea"]
    frozen(datetime(2029, 8, 21, 8, 0, tzinfo=UTC))  # Léa's 18th birthday

    with pytest.raises(AccessDenied) as denied:
        records.set_access_choices(
            session,
            holder("sylvie"),
            lea,
            emergency_access_opposed=True,
            regulator_access_opposed=True,
        )

    assert isinstance(denied.value.public, NotFound)
    assert choices(session, lea) == (False, False)


@pytest.mark.parametrize("name", ["durand", "benali", "lefevre", "moreau"])
def test_a_professional_cannot_change_the_patients_choices(
    session: Session, pro: Callable[..., Actor], cast: Cast, now: datetime, name: str
) -> None:
    sylvie = cast.patients["sylvie"]

    with pytest.raises(AccessDenied) as denied:
        records.set_access_choices(
            session, pro(name), sylvie, emergency_access_opposed=True, regulator_access_opposed=True
        )

    assert isinstance(denied.value.public, Forbidden)
    assert denied.value.entry["action"] == "record.access_choices"
    assert choices(session, sylvie) == (False, False)


def test_a_refused_change_of_choices_is_audited_and_changes_nothing(
    factory: sessionmaker[Session], pro: Callable[..., Actor], cast: Cast, now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")

    with pytest.raises(Forbidden), audited_transaction(factory) as db:
        records.set_access_choices(
            db, durand, sylvie, emergency_access_opposed=True, regulator_access_opposed=True
        )

    with factory() as db:
        assert choices(db, sylvie) == (False, False)
        row = db.execute(
            select(AuditEntry)
            .where(AuditEntry.chain == str(sylvie))
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        ).scalar_one()
        assert (row.action, row.outcome, row.actor_ref) == (
            "record.access_choices",
            "denied",
            durand.ref,
        )


@pytest.mark.parametrize(
    "actor",
    [
        Actor(kind=ActorKind.OPERATOR, ref="operator"),
        Actor(kind=ActorKind.ANONYMOUS, ref="self-service"),
    ],
)
def test_neither_the_operator_nor_an_anonymous_caller_can_change_the_choices(
    session: Session, cast: Cast, now: datetime, actor: Actor
) -> None:
    sylvie = cast.patients["sylvie"]

    with pytest.raises(AccessDenied) as denied:
        records.set_access_choices(
            session, actor, sylvie, emergency_access_opposed=True, regulator_access_opposed=True
        )

    assert isinstance(denied.value.public, NotFound)
    assert choices(session, sylvie) == (False, False)


def test_another_patient_or_a_connected_app_cannot_change_the_choices(
    session: Session, holder: Callable[[str], Actor], cast: Cast, now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]
    pasfit = Actor(
        kind=ActorKind.APP,
        ref="pasfit",
        client_id="pasfit",
        patient_id=sylvie,
        scopes=frozenset({"patient/Observation.cruds"}),
    )

    for actor, public in (
        (holder("henri"), NotFound),
        (holder("jean"), NotFound),
        (pasfit, Forbidden),
    ):
        with pytest.raises(AccessDenied) as denied:
            records.set_access_choices(
                session, actor, sylvie, emergency_access_opposed=True, regulator_access_opposed=True
            )
        assert isinstance(denied.value.public, public)

    assert choices(session, sylvie) == (False, False)
