"""What the patient is shown: the trail in plain words (French first, English too) and as FHIR
``AuditEvent`` resources (IHE BALP style) that validate against the R4B models."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fhir.resources.R4B.auditevent import AuditEvent
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Action, Actor, Mode
from carnet.access.gate import authorize
from carnet.audit import service as audit
from carnet.audit.fhir import audit_event
from carnet.audit.models import AuditEntry
from carnet.audit.transaction import audited_transaction
from carnet.audit.words import ACTIONS, Reader, describe
from carnet.errors import CarnetError
from carnet.terminology.registry import terminology
from tests.conftest import Cast, audit_rows

REASON = "patiente inconsciente aux urgences"
MEDECIN = "Médecin"


def last_entry(session: Session, patient_id: uuid.UUID) -> AuditEntry:
    return audit_rows(session, AuditEntry.chain == str(patient_id))[-1]


def refused(factory: sessionmaker[Session], actor: Actor, patient_id: uuid.UUID) -> None:
    """Run a refused read through the real boundary, which commits the denial row."""
    with audited_transaction(factory) as request:
        authorize(request, actor, patient_id, Action.READ, resource_type="Patient")


def validated(event: dict[str, Any]) -> AuditEvent:
    return AuditEvent.model_validate(event)


def test_the_profession_label_for_physicians_is_medecin() -> None:
    assert terminology().profession_label("10") == MEDECIN


def test_a_normal_read_names_the_professional_profession_and_structure_in_french(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    authorize(session, pro("durand"), sylvie, Action.READ)

    sentence = describe(last_entry(session, sylvie), profession_label=MEDECIN)

    assert sentence == (
        "Dr Paul Durand (Médecin, Cabinet médical des Carmes) a consulté votre dossier."
    )


def test_an_emergency_read_says_break_the_glass_and_gives_the_reason_in_both_languages(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    authorize(session, pro("benali", mode=Mode.EMERGENCY, reason=REASON), sylvie, Action.READ)
    entry = last_entry(session, sylvie)

    french = describe(entry, "fr", MEDECIN)
    english = describe(entry, "en", "Physician")

    assert french == (
        "Dr Amina Benali (Médecin, CHU de Toulouse) a consulté votre dossier "
        f"en urgence (bris de glace) — motif : {REASON}."
    )
    assert english == (
        "Dr Amina Benali (Physician, CHU de Toulouse) read your record "
        f"in emergency mode (break the glass) — reason: {REASON}."
    )


def test_a_regulator_read_says_samu_regulation(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    authorize(session, pro("lefevre", mode=Mode.REGULATOR), sylvie, Action.READ)

    assert "en mode régulation SAMU" in describe(last_entry(session, sylvie))
    assert "in SAMU regulator mode" in describe(last_entry(session, sylvie), "en")


@pytest.mark.parametrize(
    ("name", "french", "english"),
    [
        (
            "noir",
            "refusé : vous avez bloqué ce professionnel",
            "refused: you blocked this professional",
        ),
        (
            "blanc",
            "refusé : cet acteur n'a jamais accès au dossier",
            "refused: this actor may never access the record",
        ),
        ("benali", "refusé : pas d'autorisation", "refused: no authorization"),
    ],
)
def test_a_refusal_is_told_with_its_reason(
    session: Session,
    factory: sessionmaker[Session],
    cast: Cast,
    pro: Callable[..., Actor],
    name: str,
    french: str,
    english: str,
) -> None:
    sylvie = cast.patients["sylvie"]
    actor = pro(name)
    with pytest.raises(CarnetError):
        refused(factory, actor, sylvie)
    entry = last_entry(session, sylvie)

    assert describe(entry).endswith(f"a consulté votre dossier — {french}.")
    assert describe(entry, "en").endswith(f"read your record — {english}.")
    assert describe(entry).startswith(actor.display_name)


def test_the_patients_own_actions_and_connected_apps_are_named_as_such(session: Session) -> None:
    patient_id = uuid.uuid4()
    audit.append(session, patient_id=patient_id, action="read", actor_kind="patient")
    audit.append(
        session, patient_id=patient_id, action="write", actor_kind="app", actor_name="PasFit"
    )
    own, app = audit_rows(session, AuditEntry.chain == str(patient_id))

    assert describe(own) == "Vous avez consulté votre dossier."
    assert describe(own, "en") == "You read your record."
    assert (
        describe(app)
        == "Une application connectée « PasFit » a ajouté des informations à votre dossier."
    )
    assert describe(app, "en") == "A connected app « PasFit » added to your record."


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_patients_own_actions_agree_with_vous_in_french(action: str) -> None:
    entry = AuditEntry(action=action, actor_kind="patient", outcome="allowed", mode="normal")

    assert describe(entry).startswith("Vous avez ")


def test_every_action_on_the_demo_patients_trails_has_plain_words(session: Session) -> None:
    actions = set(
        session.execute(
            select(AuditEntry.action).where(AuditEntry.chain != "system").distinct()
        ).scalars()
    )

    assert actions  # the demo wrote patient trails
    assert actions <= set(ACTIONS)


def test_an_allowed_read_maps_to_a_valid_audit_event_for_treatment(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    durand = pro("durand")
    authorize(session, durand, sylvie, Action.READ, resource_type="Patient", resource_id="x1")
    entry = last_entry(session, sylvie)

    mapped = audit_event(entry, profession_label=MEDECIN)
    event = validated(mapped)

    assert (event.action, event.outcome) == ("R", "0")
    assert event.purposeOfEvent[0].coding[0].code == "TREAT"
    assert event.agent[0].who.identifier.value == durand.ref
    assert event.agent[0].role[0].coding[0].display == MEDECIN
    assert [e.what.reference for e in event.entity] == [f"Patient/{sylvie}", "Patient/x1"]
    assert event.outcomeDesc == describe(entry, "fr", MEDECIN)
    assert mapped["recorded"].endswith("Z")
    assert event.recorded == entry.recorded_at


def test_an_emergency_read_maps_to_break_the_glass_with_the_reason(
    session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    authorize(session, pro("benali", mode=Mode.EMERGENCY, reason=REASON), sylvie, Action.READ)

    event = validated(audit_event(last_entry(session, sylvie), lang="en"))

    purpose = event.purposeOfEvent[0]
    assert (purpose.coding[0].code, purpose.text) == ("BTG", REASON)
    assert event.outcome == "0"
    assert "break the glass" in event.outcomeDesc


def test_a_denial_maps_to_outcome_4(
    session: Session, factory: sessionmaker[Session], cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    with pytest.raises(CarnetError):
        refused(factory, pro("noir"), sylvie)

    event = validated(audit_event(last_entry(session, sylvie)))

    assert event.outcome == "4"
    assert "vous avez bloqué ce professionnel" in event.outcomeDesc


def test_names_with_markup_characters_are_escaped_in_the_narrative(session: Session) -> None:
    patient_id = uuid.uuid4()
    audit.append(
        session,
        patient_id=patient_id,
        action="read",
        actor_kind="professional",
        actor_ref="810000000017",
        actor_name="Dr <b>Durand</b> & Fils",
    )

    event = validated(audit_event(last_entry(session, patient_id)))

    assert "&lt;b&gt;Durand&lt;/b&gt; &amp; Fils" in event.text.div
    assert "<b>" not in event.text.div


def test_every_row_of_the_demo_trail_maps_to_a_valid_audit_event_in_both_languages(
    session: Session,
) -> None:
    rows = list(session.execute(select(AuditEntry)).scalars())

    assert rows
    for row in rows:
        for lang in ("fr", "en"):
            validated(audit_event(row, lang=lang))


@pytest.mark.parametrize(
    ("action", "resource_type", "french", "english"),
    [
        (
            "search",
            "DocumentReference",
            "a consulté la liste de vos documents",
            "listed your documents",
        ),
        ("search", "Appointment", "a consulté votre agenda", "read your agenda"),
        ("write", "Appointment", "a modifié votre agenda", "changed your agenda"),
        ("search", "Observation", "a consulté votre profil médical", "read your medical profile"),
        (
            "write",
            "AllergyIntolerance",
            "a modifié votre profil médical",
            "changed your medical profile",
        ),
        ("read", None, "a consulté votre dossier", "read your record"),
        ("search", None, "a consulté votre dossier", "searched your record"),
    ],
)
def test_reads_and_writes_say_what_was_looked_at(
    action: str, resource_type: str | None, french: str, english: str
) -> None:
    entry = AuditEntry(
        action=action,
        outcome="allowed",
        mode="normal",
        actor_kind="professional",
        actor_name="Dr Paul Durand",
        resource_type=resource_type,
    )
    assert describe(entry) == f"Dr Paul Durand {french}."
    assert describe(entry, "en") == f"Dr Paul Durand {english}."


def _row(kind: str, ref: str, name: str | None, action: str = "read", **extra: Any) -> AuditEntry:
    """A trail row (``extra``: any other column; a misspelt one is a TypeError)."""
    return AuditEntry(
        actor_kind=kind,
        actor_ref=ref,
        actor_name=name,
        action=action,
        **{"outcome": "allowed", "mode": "normal", **extra},
    )


@pytest.mark.parametrize(
    ("row", "french", "english"),
    [
        (
            _row("professional", "810000000017", "Dr Paul Durand"),
            "Dr Paul Durand a consulté le dossier de Léa.",
            "Dr Paul Durand read Léa's record.",
        ),
        (
            _row("representative", "patient:sylvie", "Sylvie Martin"),
            "Vous avez consulté le dossier de Léa.",
            "You read Léa's record.",
        ),
        (
            _row("representative", "patient:marc", "Marc Martin"),
            "Un représentant légal (Marc Martin) a consulté le dossier de Léa.",
            "A legal representative (Marc Martin) read Léa's record.",
        ),
        (
            _row(
                "patient", "patient:lea", "Léa Martin", resource_type="Appointment", action="search"
            ),
            "Léa a consulté son agenda.",
            "Léa read their agenda.",
        ),
        (
            _row("professional", "810000000017", "Dr Paul Durand", action="write"),
            "Dr Paul Durand a ajouté des informations au dossier de Léa.",
            "Dr Paul Durand added to Léa's record.",
        ),
        (
            _row("representative", "patient:sylvie", "Sylvie Martin", resource_type="Record"),
            "Vous avez consulté l'état du dossier de Léa.",
            "You read the status of Léa's record.",
        ),
        (
            _row("professional", "810000000017", "Dr Paul Durand", action="lookup"),
            "Dr Paul Durand a vérifié l'existence du dossier de Léa.",
            "Dr Paul Durand checked that Léa's record exists.",
        ),
        (
            _row(
                "professional",
                "810000000017",
                "Dr Éric Noir",
                outcome="denied",
                detail="blocked_by_patient",
            ),
            "Dr Éric Noir a consulté le dossier de Léa — refusé : ce professionnel est bloqué "
            "sur ce dossier.",
            "Dr Éric Noir read Léa's record — refused: this professional is blocked on this "
            "record.",
        ),
        (
            _row("app", "pasfit", "PasFit", action="patient_list.messaging"),
            "Une application connectée « PasFit » a vu le nom de Léa dans la liste des patients "
            "à qui écrire.",
            "A connected app « PasFit » saw Léa's name in their list of patients to write to.",
        ),
    ],
)
def test_a_parent_reading_a_minors_trail_reads_whose_record_it_is(
    row: AuditEntry, french: str, english: str
) -> None:
    parent = Reader(minor_name="Léa", ref="patient:sylvie")

    assert describe(row, "fr", reader=parent) == french
    assert describe(row, "en", reader=parent) == english


def test_the_holder_reads_their_own_trail_in_the_second_person() -> None:
    assert describe(_row("patient", "patient:sylvie", None)) == "Vous avez consulté votre dossier."
    assert describe(_row("representative", "patient:sylvie", "Sylvie Martin")) == (
        "Votre représentant légal (Sylvie Martin) a consulté votre dossier."
    )


def test_a_minor_whose_name_starts_with_a_vowel_takes_an_elision() -> None:
    row = _row("professional", "810000000017", "Dr Paul Durand")
    assert describe(row, reader=Reader(minor_name="Emma", ref="x")).endswith("le dossier d'Emma.")
