"""Who acts for a minor, decided in one place (``access.representation``): the gate's decision,
the portal's record switcher, the app consent page and the notices all follow the same rule —
a current link, and a patient under the age of majority."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import carnet
from carnet import clock
from carnet.access import Actor, ActorKind
from carnet.access.gate import load_facts
from carnet.access.representation import representatives_of, represented_minors, represents
from carnet.patients.models import LegalRepresentative
from carnet.records.service import record_in_view
from tests.conftest import Cast

SOURCES = Path(carnet.__file__).parent


def sylvie_as_patient(cast: Cast) -> Actor:
    return Actor(kind=ActorKind.PATIENT, ref="account:sylvie", patient_id=cast.patients["sylvie"])


def answers(session: Session, cast: Cast) -> tuple[bool, ...]:
    """What every user of the rule says about Sylvie acting for Léa."""
    sylvie, lea = cast.patients["sylvie"], cast.patients["lea"]
    actor = sylvie_as_patient(cast)
    switcher = record_in_view(session, actor, str(lea))
    return (
        represents(session, sylvie, lea),
        lea in {p.id for p in represented_minors(session, sylvie)},
        representatives_of(session, lea) == [sylvie],
        load_facts(session, actor, lea).is_representative,
        switcher.patient.id == lea and not switcher.own,
    )


@pytest.mark.parametrize(
    ("moment", "acts"),
    [
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), True),
        (datetime(2029, 8, 20, 12, 0, tzinfo=UTC), True),  # the eve of her 18th birthday
        (datetime(2029, 8, 21, 9, 0, tzinfo=UTC), False),  # of age: her own person
    ],
)
def test_a_representative_acts_for_the_child_until_she_comes_of_age(
    session: Session, cast: Cast, frozen: Callable[[datetime], None], moment: datetime, acts: bool
) -> None:
    frozen(moment)
    assert answers(session, cast) == (acts,) * 5


def test_an_ended_link_represents_nobody(session: Session, cast: Cast) -> None:
    link = session.execute(
        select(LegalRepresentative).where(LegalRepresentative.patient_id == cast.patients["lea"])
    ).scalar_one()
    link.ended_at = clock.now()
    session.flush()

    assert answers(session, cast) == (False,) * 5


def test_an_adult_has_no_representative(session: Session, cast: Cast) -> None:
    assert representatives_of(session, cast.patients["sylvie"]) == []
    assert represented_minors(session, cast.patients["lea"]) == []


def test_the_age_of_majority_is_applied_in_access_only() -> None:
    """One definition: nothing outside ``access.representation`` compares an age to the
    majority (settings define it, the patient model computes an age)."""
    allowed = {SOURCES / "access" / "representation.py", SOURCES / "settings.py"}
    found = sorted(
        str(path.relative_to(SOURCES))
        for path in SOURCES.rglob("*.py")
        if path not in allowed and re.search(r"majority_age|\.age_on\(", path.read_text())
    )
    assert found == []
