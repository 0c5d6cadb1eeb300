"""The professional's "recent patients", re-checked against the current access by ``access``:
a patient who blocked the professional, withdrew their authorization or closed their record
leaves the list at once (not 30 days later); a patient reached in emergency stays while
emergency access stays open to the professional; each name shown is traced, and showing a name
does not keep it in the list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from carnet.access import Actor, Mode
from carnet.audit import service as audit
from carnet.audit.models import AuditEntry
from carnet.audit.words import describe
from carnet.authorizations import service as authorizations
from carnet.records import practice
from carnet.records import service as records
from tests.conftest import Cast, audit_rows

Make = Callable[..., Actor]
Holder = Callable[[str], Actor]
REASON = "patiente inconsciente aux urgences"


def recent(session: Session, actor: Actor) -> list[str]:
    """The list as the professional's next page shows it: what the test did so far was earlier
    requests, each of which wrote its audit rows at its commit."""
    audit.write_queued(session)
    return [p.name for p in practice.recent_patients(session, actor)]


def listed_rows(session: Session, cast: Cast, who: str) -> list[AuditEntry]:
    return audit_rows(
        session,
        AuditEntry.patient_id == cast.patients[who],
        AuditEntry.action == "patient_list.recent",
    )


@pytest.mark.parametrize(
    ("who", "change"),
    [
        ("petit", authorizations.block),
        ("roux", authorizations.revoke),
        ("durand", authorizations.revoke),  # her médecin traitant
    ],
)
def test_a_patient_who_blocks_or_withdraws_the_professional_leaves_the_list(
    session: Session, cast: Cast, pro: Make, holder: Holder, who: str, change: Callable[..., object]
) -> None:
    actor = pro(who)
    practice.open_patient(session, actor, cast.patients["sylvie"])
    assert recent(session, actor)[0] == "Sylvie Martin"

    change(session, holder("sylvie"), cast.patients["sylvie"], actor.professional_id)

    assert "Sylvie Martin" not in recent(session, actor)


def test_a_closed_record_leaves_the_list(
    session: Session, cast: Cast, pro: Make, holder: Holder
) -> None:
    durand = pro("durand")
    practice.open_patient(session, durand, cast.patients["sylvie"])
    practice.open_patient(session, durand, cast.patients["lea"])
    assert set(recent(session, durand)) == {"Sylvie Martin", "Léa Martin"}

    records.close_record(session, holder("sylvie"), cast.patients["sylvie"])

    assert recent(session, durand) == ["Léa Martin"]


def test_the_list_is_drawn_from_the_professionals_latest_accesses_only(
    session: Session, cast: Cast, pro: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A laboratory feeding thousands of records a day: the list is worked out from its latest
    # accesses (one here), not by grouping a month of them on every page.
    durand = pro("durand")
    practice.open_patient(session, durand, cast.patients["sylvie"])
    practice.open_patient(session, durand, cast.patients["lea"])
    assert set(recent(session, durand)) == {"Sylvie Martin", "Léa Martin"}

    monkeypatch.setattr(practice, "RECENT_ROWS", 1)

    assert recent(session, durand) == ["Léa Martin"]


def test_a_patient_reached_in_emergency_stays_while_emergency_access_stays_open(
    session: Session, cast: Cast, pro: Make, holder: Holder
) -> None:
    benali = pro("benali")  # not authorized: she opened the record in bris de glace
    emergency = pro("benali", mode=Mode.EMERGENCY, reason=REASON)
    page = practice.open_patient(session, emergency, cast.patients["sylvie"])
    assert page.summary is not None
    assert recent(session, benali) == ["Sylvie Martin"]

    records.set_access_choices(
        session,
        holder("sylvie"),
        cast.patients["sylvie"],
        emergency_access_opposed=True,
        regulator_access_opposed=False,
    )

    assert recent(session, benali) == []


def test_a_patient_who_withdrew_the_professional_leaves_even_an_emergency_list(
    session: Session, cast: Cast, pro: Make, holder: Holder
) -> None:
    emergency = pro("roux", mode=Mode.EMERGENCY, reason=REASON)
    practice.open_patient(session, emergency, cast.patients["sylvie"])
    roux = pro("roux")
    authorizations.revoke(session, holder("sylvie"), cast.patients["sylvie"], roux.professional_id)

    assert recent(session, roux) == []  # she may still break the glass, but is not listed


def test_each_name_shown_is_traced_and_does_not_keep_itself_in_the_list(
    session: Session, cast: Cast, pro: Make, frozen: Callable[[datetime], None]
) -> None:
    durand = pro("durand")
    opened = datetime.now(UTC).replace(microsecond=0)
    frozen(opened)
    practice.open_patient(session, durand, cast.patients["sylvie"])

    frozen(opened + timedelta(days=20))
    assert "Sylvie Martin" in recent(session, durand)
    rows = listed_rows(session, cast, "sylvie")
    assert [(r.actor_ref, r.outcome, r.resource_type) for r in rows] == [
        (durand.ref, "allowed", "Patient")
    ]
    assert describe(rows[0], "fr").endswith("a vu votre nom dans la liste de ses patients récents.")
    assert describe(rows[0], "en").endswith("saw your name in their list of recent patients.")

    frozen(opened + timedelta(days=31))  # 30 days after opening, 11 after being listed
    assert "Sylvie Martin" not in recent(session, durand)


def test_nothing_is_traced_for_a_patient_left_out(
    session: Session, cast: Cast, pro: Make, holder: Holder
) -> None:
    petit = pro("petit")
    practice.open_patient(session, petit, cast.patients["sylvie"])
    authorizations.block(session, holder("sylvie"), cast.patients["sylvie"], petit.professional_id)

    recent(session, petit)

    assert listed_rows(session, cast, "sylvie") == []


def test_the_patients_home_keeps_the_names_shown_in_lists_for_the_history_only(
    session: Session, cast: Cast, pro: Make, holder: Holder
) -> None:
    durand = pro("durand")
    practice.open_patient(session, durand, cast.patients["sylvie"])
    assert "Sylvie Martin" in recent(session, durand)

    audit.write_queued(session)  # her visit comes after his page (its own request)
    news = records.what_is_new(session, holder("sylvie"), cast.patients["sylvie"], since=None)
    history = records.read_trail(session, holder("sylvie"), cast.patients["sylvie"], limit=20)

    assert "patient_list.recent" not in {e.action for e in news.accesses}
    assert "patient_list.recent" in {e.action for e in history}


def test_opening_the_message_inbox_does_not_keep_a_patient_in_the_list(
    session: Session,
    cast: Cast,
    pro: Make,
    frozen: Callable[[datetime], None],
) -> None:
    from carnet.messaging import service as messaging

    durand = pro("durand")
    messaging.start_thread(
        session, durand, patient_id=cast.patients["sylvie"], subject="Bilan", body="Bonjour."
    )
    frozen(datetime.now(UTC) + timedelta(days=40))  # everything he did is past the 30 days
    assert recent(session, durand) == []

    inbox, _ = messaging.list_my_threads(session, durand)  # lists her thread, traced

    assert any(t.patient_id == cast.patients["sylvie"] for t in inbox)
    assert recent(session, durand) == []
    mine = next(t for t in inbox if t.patient_id == cast.patients["sylvie"])
    messaging.read_thread(session, durand, mine.id)  # opening a thread does count
    assert recent(session, durand) == ["Sylvie Martin"]
