"""Who sees which document, as a table over the demo records: personas × document
confidentiality × modes; and the pure rule and the SQL scope always agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.access import Actor, ActorKind, Mode
from carnet.access.documents import document_visible, facts_of
from carnet.access.gate import load_facts
from carnet.documents import service
from carnet.documents.models import DocumentEntry
from carnet.errors import AccessDenied
from tests.conftest import Cast

REASON = "patiente inconsciente aux urgences"
PSYCHIATRY = "Consultation de psychiatrie"  # hidden from professionals by Sylvie (MASQUE_PS)
CHILDBIRTH = "Compte rendu d'accouchement"  # podiatrists may not see it (matrix)
DIRECTIVES = "Mes directives anticipées"  # dentists (and podiatrists) may not see them
VACCINE = "Vaccination antigrippale"
SCAN = "Scanner thoracique"  # invisible to the patient until her doctor tells her
LEA_SECRET = "Consultation"  # Léa's secret consultation: invisible to her representatives
LEA_VACCINE = "Rappel DTCaP"


def titles(session: Session, actor: Actor, patient: object) -> set[str]:
    result = service.search(session, actor, patient, service.DocumentQuery(count=200))
    import json

    return {json.loads(r)["content"][0]["attachment"]["title"] for r in result.resources}


def holder(cast: Cast, who: str, *, app: bool = False) -> Actor:
    return Actor(
        kind=ActorKind.APP if app else ActorKind.PATIENT, ref=who, patient_id=cast.patients[who]
    )


@pytest.mark.parametrize(
    ("who", "mode", "sees", "hidden"),
    [
        ("durand", Mode.NORMAL, {PSYCHIATRY, CHILDBIRTH, DIRECTIVES, SCAN}, set()),
        ("petit", Mode.NORMAL, {SCAN}, {PSYCHIATRY, CHILDBIRTH, DIRECTIVES}),
        ("roux", Mode.NORMAL, {CHILDBIRTH, SCAN}, {PSYCHIATRY, DIRECTIVES}),
        ("benali", Mode.EMERGENCY, {CHILDBIRTH, DIRECTIVES, SCAN}, {PSYCHIATRY}),
        ("lefevre", Mode.REGULATOR, {CHILDBIRTH, DIRECTIVES, SCAN}, {PSYCHIATRY}),
    ],
    ids=[
        "treating doctor sees masked",
        "podiatrist: matrix + masked",
        "dentist: matrix + masked",
        "emergency does not reveal masked",
        "regulator does not reveal masked",
    ],
)
def test_professionals_see_what_their_profession_and_the_patients_choices_allow(
    session: Session,
    cast: Cast,
    pro: Callable[..., Actor],
    who: str,
    mode: Mode,
    sees: set[str],
    hidden: set[str],
) -> None:
    actor = pro(who, mode=mode, reason=REASON if mode is Mode.EMERGENCY else None)
    visible = titles(session, actor, cast.patients["sylvie"])
    assert sees <= visible
    assert not (hidden & visible)


def test_the_author_of_a_masked_document_still_sees_it(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    from carnet.authorizations import service as authorizations

    leroy = pro("leroy")
    authorizations.declare_consent(session, leroy, cast.patients["sylvie"], patient_consented=True)
    assert PSYCHIATRY in titles(session, leroy, cast.patients["sylvie"])


def test_an_operator_setting_can_let_emergency_access_reveal_masked_documents(
    session: Session, cast: Cast, pro: Callable[..., Actor], settings: object
) -> None:
    session.info["settings"] = settings.model_copy(  # type: ignore[attr-defined]
        update={"emergency_reveals_masked": True}
    )
    try:
        actor = pro("benali", mode=Mode.EMERGENCY, reason=REASON)
        assert PSYCHIATRY in titles(session, actor, cast.patients["sylvie"])
    finally:
        session.info["settings"] = settings


def test_the_patient_sees_her_documents_but_not_the_one_waiting_for_her_doctor(
    session: Session, cast: Cast
) -> None:
    sylvie = holder(cast, "sylvie")
    visible = titles(session, sylvie, cast.patients["sylvie"])
    assert {PSYCHIATRY, CHILDBIRTH, DIRECTIVES} <= visible
    assert SCAN not in visible
    assert service.waiting_for_patient(session, sylvie, cast.patients["sylvie"]) == 1


def test_a_legal_representative_does_not_see_the_minors_secret_consultation(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    as_mother = titles(session, holder(cast, "sylvie"), cast.patients["lea"])
    assert LEA_VACCINE in as_mother
    assert LEA_SECRET not in as_mother
    assert LEA_SECRET in titles(session, pro("durand"), cast.patients["lea"])


def test_unauthorized_blocked_and_excluded_professionals_see_no_document(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    for who in ("benali", "noir", "blanc"):
        with pytest.raises(AccessDenied):
            titles(session, pro(who), cast.patients["sylvie"])


def test_a_professional_makes_the_scan_visible_and_then_the_patient_sees_it(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    scan = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.patient_id == cast.patients["sylvie"],
            DocumentEntry.title == SCAN,
            DocumentEntry.current.is_(True),
        )
    ).scalar_one()
    service.set_patient_visibility(session, pro("durand"), scan.id, True)  # treating doctor
    assert SCAN in titles(session, holder(cast, "sylvie"), cast.patients["sylvie"])


def test_the_patient_hides_and_unhides_a_document_from_professionals(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = holder(cast, "sylvie")
    vaccine = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.patient_id == cast.patients["sylvie"],
            DocumentEntry.title == VACCINE,
            DocumentEntry.current.is_(True),
        )
    ).scalar_one()
    hidden = service.set_hidden_from_professionals(session, sylvie, vaccine.id, True)
    assert VACCINE not in titles(session, pro("petit"), cast.patients["sylvie"])
    service.set_hidden_from_professionals(session, sylvie, hidden.id, False)
    assert VACCINE in titles(session, pro("petit"), cast.patients["sylvie"])
    with pytest.raises(Exception):  # noqa: B017, PT011 - a professional cannot mask for her
        service.set_hidden_from_professionals(session, pro("durand"), hidden.id, True)


@pytest.mark.parametrize("who", ["durand", "petit", "roux", "benali", "lefevre", "moreau"])
def test_the_pure_rule_and_the_sql_scope_agree_on_every_document(
    session: Session, cast: Cast, pro: Callable[..., Actor], who: str
) -> None:
    from carnet.access.policy import decide

    modes = {"benali": Mode.EMERGENCY, "lefevre": Mode.REGULATOR}
    actor = pro(who, mode=modes.get(who, Mode.NORMAL), reason=REASON)
    for patient in ("sylvie", "lea", "jean"):
        facts = load_facts(session, actor, cast.patients[patient])
        from carnet.access import Action

        if not decide(actor, Action.SEARCH, facts).allowed:
            continue
        entries = (
            session.execute(
                select(DocumentEntry).where(
                    DocumentEntry.patient_id == cast.patients[patient],
                    DocumentEntry.current.is_(True),
                )
            )
            .scalars()
            .all()
        )
        expected = {
            e.title
            for e in entries
            if document_visible(actor, facts, actor.mode, facts_of(e), service.matrix_of(session))
        }
        assert titles(session, actor, cast.patients[patient]) == expected


def _actors(cast: Cast, pro: Callable[..., Actor]) -> list[tuple[str, Actor]]:
    """Every kind of reader of a record: professionals in each mode, the holder, her app, a
    legal representative (Sylvie for Léa, as the portal makes her) and her app."""
    sylvie = holder(cast, "sylvie")
    return [
        ("durand", pro("durand")),
        ("petit", pro("petit")),
        ("roux", pro("roux")),
        ("benali", pro("benali", mode=Mode.EMERGENCY, reason=REASON)),
        ("lefevre", pro("lefevre", mode=Mode.REGULATOR, reason=REASON)),
        ("moreau", pro("moreau")),
        ("sylvie", sylvie),
        ("sylvie's app", holder(cast, "sylvie", app=True)),
        ("jean", holder(cast, "jean")),
    ]


def test_the_plain_search_and_a_filtered_one_scope_alike(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    """The unfiltered search runs a statement built once per visibility shape; a filtered one
    builds its conditions: a filter that keeps everything must find the same documents, page
    by page (the ITI-67 answer, with its "more" flag, and the portal's rows), for every kind
    of reader."""
    keeps_all = [("ge", datetime(1900, 1, 1, tzinfo=UTC))]
    pages = [
        (
            service.DocumentQuery(count=count, offset=offset),
            service.DocumentQuery(count=count, offset=offset, date=keeps_all),
        )
        for offset, count in ((0, 200), (0, 3), (3, 3), (6, 50))
    ]
    assert all(plain.plain() and not filtered.plain() for plain, filtered in pages)
    seen_any = set()
    for name, actor in _actors(cast, pro):
        for patient in ("sylvie", "lea", "jean"):
            pid = cast.patients[patient]
            for plain, filtered in pages:
                try:
                    found = service.search(session, actor, pid, plain)
                except AccessDenied:
                    with pytest.raises(AccessDenied):
                        service.search(session, actor, pid, filtered)
                    continue
                again = service.search(session, actor, pid, filtered)
                assert (found.resources, found.has_more) == (again.resources, again.has_more)
                rows = service.list_documents(session, actor, pid, plain)
                assert [e.id for e in rows] == [
                    e.id for e in service.list_documents(session, actor, pid, filtered)
                ]
                assert len(rows) == len(found.resources)
                if found.resources:
                    seen_any.add((name, patient))
    assert ("sylvie", "lea") in seen_any, "a legal representative reads the minor's documents"
    assert ("sylvie's app", "sylvie") in seen_any
    assert ("durand", "sylvie") in seen_any


def test_a_change_to_a_document_one_may_not_see_answers_not_found_before_anything_else(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    from carnet.errors import Conflict, Forbidden, NotFound

    def current(title: str) -> DocumentEntry:
        return session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == cast.patients["sylvie"],
                DocumentEntry.title == title,
                DocumentEntry.current.is_(True),
            )
        ).scalar_one()

    sylvie = holder(cast, "sylvie")
    scan, psychiatry, vaccine = current(SCAN), current(PSYCHIATRY), current(VACCINE)
    # The scan waits for her doctor: "not visible to you yet" would tell her it exists.
    with pytest.raises(NotFound):
        service.set_hidden_from_professionals(session, sylvie, scan.id, True)
    with pytest.raises(NotFound):  # nor may she learn of it through a professional's operation
        service.set_patient_visibility(session, sylvie, scan.id, True)
    # A podiatrist does not see the report she masked, and learns nothing of it either.
    with pytest.raises(NotFound):
        service.set_patient_visibility(session, pro("petit"), psychiatry.id, False)
    # Where the document is seen, the refusal says why.
    with pytest.raises(Forbidden):
        service.set_patient_visibility(session, sylvie, vaccine.id, True)
    with pytest.raises(Conflict):  # her doctor sees the masked report: it cannot also be hidden
        service.set_patient_visibility(session, pro("durand"), psychiatry.id, False)
