"""The access decision as a table: personas × modes × record states × patient choices, then
Hypothesis properties over the whole input space."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.access import Action, Actor, ActorKind, Mode, RecordFacts, decide, decide_creation

SYLVIE = uuid.uuid4()
LEA = uuid.uuid4()


def professional(name: str, profession: str = "10", **kw: object) -> Actor:
    return Actor(
        kind=ActorKind.PROFESSIONAL,
        ref=f"8{name}",
        display_name=name,
        professional_id=uuid.uuid4(),
        profession=profession,
        **kw,
    )  # type: ignore[arg-type]


DURAND = professional("durand", specialty="SM54", structure_kind="practice")
BENALI = professional(
    "benali", specialty="SM59", roles=frozenset({"emergency_physician"}), structure_kind="hospital"
)
LEFEVRE = professional(
    "lefevre", specialty="SM59", roles=frozenset({"samu_regulator"}), structure_kind="samu"
)
MOREAU = professional("moreau", profession="21", structure_kind="pharmacy")
PETIT = professional("petit", profession="80", structure_kind="practice")
BLANC = professional(
    "blanc",
    specialty="SM25",
    roles=frozenset({"occupational_physician"}),
    structure_kind="occupational_health",
    facility_type="SA66",
)
NOIR = professional("noir", specialty="SM54")
INSURER = professional("horizon", structure_kind="insurer", facility_type="SA23")
HOLDER = Actor(kind=ActorKind.PATIENT, ref="sylvie", patient_id=SYLVIE)
APP = Actor(kind=ActorKind.APP, ref="pasfit", patient_id=SYLVIE, client_id="pasfit")
OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="ops")

OPEN = RecordFacts(exists=True)
CLOSED = RecordFacts(exists=True, closed=True)
ABSENT = RecordFacts(exists=False)  # no record, pending opt-out window, or opposed
REASON = "patiente inconsciente aux urgences"


def facts(base: RecordFacts, **kw: object) -> RecordFacts:
    return replace(base, **kw)  # type: ignore[arg-type]


def emergency(actor: Actor, reason: str | None = REASON) -> Actor:
    return replace(actor, mode=Mode.EMERGENCY, reason=reason)


def regulator(actor: Actor) -> Actor:
    return replace(actor, mode=Mode.REGULATOR)


# (case, actor, action, facts, allowed, reason, visible)
TABLE = [
    (
        "treating doctor reads an open record",
        DURAND,
        Action.READ,
        facts(OPEN, authorization="active", treating_doctor=True),
        True,
        "treating_doctor",
        True,
    ),
    (
        "treating doctor cannot read a closed record",
        DURAND,
        Action.READ,
        facts(CLOSED, authorization="active"),
        False,
        "record_closed",
        True,
    ),
    ("nobody learns of an absent record", DURAND, Action.READ, ABSENT, False, "no_record", False),
    (
        "authorized podiatrist reads",
        PETIT,
        Action.SEARCH,
        facts(OPEN, authorization="active"),
        True,
        "authorized",
        True,
    ),
    (
        "revoked authorization is refused",
        PETIT,
        Action.READ,
        facts(OPEN, authorization="revoked"),
        False,
        "no_authorization",
        True,
    ),
    (
        "unauthorized emergency physician in normal mode is refused",
        BENALI,
        Action.READ,
        OPEN,
        False,
        "no_authorization",
        True,
    ),
    (
        "bris de glace with a reason is allowed",
        emergency(BENALI),
        Action.READ,
        OPEN,
        True,
        "bris_de_glace",
        True,
    ),
    (
        "bris de glace without a reason is refused",
        emergency(BENALI, "  "),
        Action.READ,
        OPEN,
        False,
        "emergency_reason_required",
        True,
    ),
    (
        "bris de glace is refused when the patient opposed it",
        emergency(BENALI),
        Action.READ,
        facts(OPEN, emergency_opposed=True),
        False,
        "emergency_opposed",
        True,
    ),
    (
        "bris de glace ignores an opposition to the regulator only",
        emergency(BENALI),
        Action.READ,
        facts(OPEN, regulator_opposed=True),
        True,
        "bris_de_glace",
        True,
    ),
    (
        "bris de glace cannot open a closed record",
        emergency(BENALI),
        Action.READ,
        CLOSED,
        False,
        "record_closed",
        True,
    ),
    (
        "regulator reads without authorization",
        regulator(LEFEVRE),
        Action.READ,
        OPEN,
        True,
        "regulator",
        True,
    ),
    (
        "regulator is refused when the patient opposed regulator access",
        regulator(LEFEVRE),
        Action.READ,
        facts(OPEN, regulator_opposed=True),
        False,
        "regulator_opposed",
        True,
    ),
    (
        "regulator ignores an opposition to bris de glace only",
        regulator(LEFEVRE),
        Action.READ,
        facts(OPEN, emergency_opposed=True),
        True,
        "regulator",
        True,
    ),
    (
        "regulator mode is reserved to regulators",
        regulator(BENALI),
        Action.READ,
        OPEN,
        False,
        "not_a_regulator",
        True,
    ),
    (
        "blocked professional is refused even with consent",
        NOIR,
        Action.READ,
        facts(OPEN, authorization="blocked"),
        False,
        "blocked_by_patient",
        True,
    ),
    (
        "blocked professional is refused in emergency",
        emergency(NOIR),
        Action.READ,
        facts(OPEN, authorization="blocked"),
        False,
        "blocked_by_patient",
        True,
    ),
    (
        "blocked professional cannot feed",
        NOIR,
        Action.WRITE,
        facts(OPEN, authorization="blocked"),
        False,
        "blocked_by_patient",
        True,
    ),
    (
        "blocked professional learns their status (TD0.2)",
        NOIR,
        Action.LOOKUP,
        facts(OPEN, authorization="blocked"),
        True,
        "lookup",
        True,
    ),
    (
        "occupational physician is refused whatever the consent",
        BLANC,
        Action.READ,
        facts(OPEN, authorization="active"),
        False,
        "excluded_actor",
        False,
    ),
    (
        "occupational physician is refused in emergency",
        emergency(BLANC),
        Action.READ,
        OPEN,
        False,
        "excluded_actor",
        False,
    ),
    (
        "occupational physician cannot even look up",
        BLANC,
        Action.LOOKUP,
        OPEN,
        False,
        "excluded_actor",
        False,
    ),
    (
        "insurer is refused",
        INSURER,
        Action.READ,
        facts(OPEN, authorization="active"),
        False,
        "excluded_actor",
        False,
    ),
    (
        "pharmacist feeds without consent",
        MOREAU,
        Action.WRITE,
        OPEN,
        True,
        "feeding_needs_no_consent",
        True,
    ),
    ("nobody feeds a closed record", MOREAU, Action.WRITE, CLOSED, False, "record_closed", True),
    (
        "pharmacist without consent cannot read",
        MOREAU,
        Action.READ,
        OPEN,
        False,
        "no_authorization",
        True,
    ),
    (
        "professional declares consent",
        MOREAU,
        Action.DECLARE_CONSENT,
        OPEN,
        True,
        "consent_declared",
        True,
    ),
    (
        "professional cannot manage the patient's choices",
        DURAND,
        Action.MANAGE,
        facts(OPEN, authorization="active"),
        False,
        "not_a_professional_action",
        True,
    ),
    (
        "holder reads their open record",
        HOLDER,
        Action.READ,
        facts(OPEN, is_holder=True),
        True,
        "holder",
        True,
    ),
    (
        "holder still reads a closed record",
        HOLDER,
        Action.READ,
        facts(CLOSED, is_holder=True),
        True,
        "holder",
        True,
    ),
    (
        "holder cannot write to a closed record",
        HOLDER,
        Action.WRITE,
        facts(CLOSED, is_holder=True),
        False,
        "record_closed",
        True,
    ),
    (
        "holder reopens a closed record",
        HOLDER,
        Action.LIFECYCLE,
        facts(CLOSED, is_holder=True),
        True,
        "holder",
        True,
    ),
    (
        "holder reads their trail",
        HOLDER,
        Action.READ_TRAIL,
        facts(OPEN, is_holder=True),
        True,
        "holder",
        True,
    ),
    (
        "legal representative reads the minor's record",
        HOLDER,
        Action.READ,
        facts(OPEN, is_representative=True),
        True,
        "representative",
        True,
    ),
    ("another patient learns nothing", HOLDER, Action.READ, OPEN, False, "not_holder", False),
    ("connected app reads", APP, Action.READ, facts(OPEN, is_holder=True), True, "holder", True),
    (
        "connected app cannot manage authorizations",
        APP,
        Action.MANAGE,
        facts(OPEN, is_holder=True),
        False,
        "app_cannot_manage",
        True,
    ),
    (
        "operator never reads health data",
        OPERATOR,
        Action.READ,
        OPEN,
        False,
        "operator_no_health_data",
        False,
    ),
    ("operator administers", OPERATOR, Action.ADMINISTER, OPEN, True, "operator", True),
    (
        "a doctor reopens a closed record with the patient",
        DURAND,
        Action.REOPEN,
        CLOSED,
        True,
        "reopen_with_consent",
        True,
    ),
    (
        "a blocked doctor cannot reopen",
        NOIR,
        Action.REOPEN,
        facts(CLOSED, authorization="blocked"),
        False,
        "blocked_by_patient",
        True,
    ),
    (
        "a doctor cannot close the patient's record",
        DURAND,
        Action.LIFECYCLE,
        facts(OPEN, authorization="active"),
        False,
        "not_a_professional_action",
        True,
    ),
    (
        "a connected app cannot reopen",
        APP,
        Action.REOPEN,
        facts(CLOSED, is_holder=True),
        False,
        "app_cannot_manage",
        True,
    ),
]


CREATION = [
    ("the insurer opens at its counter", OPERATOR, "insurer_counter", True, "insurer_channel"),
    ("the insurer runs the opt-out route", OPERATOR, "opt_out", True, "insurer_channel"),
    (
        "the insurer does not use a pharmacy counter",
        OPERATOR,
        "pharmacy",
        False,
        "channel_not_for_actor",
    ),
    ("a pharmacist opens at the pharmacy", MOREAU, "pharmacy", True, "counter_creation"),
    ("a podiatrist is not a pharmacist", PETIT, "pharmacy", False, "not_a_pharmacist"),
    ("a doctor opens at the surgery", DURAND, "professional", True, "counter_creation"),
    ("a hospital doctor opens at admission", BENALI, "establishment", True, "counter_creation"),
    ("a doctor cannot run the opt-out route", DURAND, "opt_out", False, "channel_not_for_actor"),
    ("an occupational physician creates nothing", BLANC, "professional", False, "excluded_actor"),
    ("a patient creates online only", HOLDER, "professional", False, "channel_not_for_actor"),
    (
        "software without the right scope creates nothing",
        replace(DURAND, client_id="sys", scopes=frozenset({"user/*.rs"})),
        "professional",
        False,
        "insufficient_scope",
    ),
]


@pytest.mark.parametrize(
    ("case", "actor", "channel", "allowed", "reason"), CREATION, ids=[row[0] for row in CREATION]
)
def test_the_creation_table(
    case: str, actor: Actor, channel: str, allowed: bool, reason: str
) -> None:
    decision = decide_creation(actor, channel)
    assert (decision.allowed, decision.reason) == (allowed, reason)


@pytest.mark.parametrize(
    ("case", "actor", "action", "record", "allowed", "reason", "visible"),
    TABLE,
    ids=[row[0] for row in TABLE],
)
def test_the_decision_table(
    case: str,
    actor: Actor,
    action: Action,
    record: RecordFacts,
    allowed: bool,
    reason: str,
    visible: bool,
) -> None:
    decision = decide(actor, action, record)
    assert (decision.allowed, decision.reason, decision.visible) == (allowed, reason, visible)


def test_an_emergency_decision_is_flagged_as_emergency() -> None:
    decision = decide(emergency(BENALI), Action.READ, OPEN)
    assert decision.emergency
    assert decision.mode is Mode.EMERGENCY
    assert not decide(DURAND, Action.READ, facts(OPEN, authorization="active")).emergency


# --- properties over the whole space ---------------------------------------------------

actors = st.builds(
    Actor,
    kind=st.sampled_from(list(ActorKind)),
    ref=st.just("x"),
    patient_id=st.sampled_from([None, SYLVIE]),
    professional_id=st.just(uuid.uuid4()),
    profession=st.sampled_from(["10", "21", "40", "80", None]),
    specialty=st.sampled_from(["SM54", "SM59", "SM25", "C41", None]),
    roles=st.frozensets(
        st.sampled_from(["emergency_physician", "samu_regulator", "occupational_physician"])
    ),
    structure_kind=st.sampled_from(
        ["hospital", "insurer", "employer", "bank", "practice", "occupational_health", None]
    ),
    facility_type=st.sampled_from(["SA01", "SA23", "SA66", "SA07", None]),
    mode=st.sampled_from(list(Mode)),
    reason=st.sampled_from([None, "", "  ", REASON]),
)
record_facts = st.builds(
    RecordFacts,
    exists=st.booleans(),
    closed=st.booleans(),
    emergency_opposed=st.booleans(),
    regulator_opposed=st.booleans(),
    authorization=st.sampled_from([None, "active", "revoked", "blocked"]),
    treating_doctor=st.booleans(),
    is_holder=st.booleans(),
    is_representative=st.booleans(),
)


def excluded(actor: Actor) -> bool:
    return actor.kind is ActorKind.PROFESSIONAL and (
        actor.structure_kind in {"insurer", "employer", "bank", "occupational_health"}
        or actor.facility_type in {"SA23", "SA66"}
        or actor.specialty in {"SM25", "C41"}
        or "occupational_physician" in actor.roles
    )


@given(actors, st.sampled_from(list(Action)), record_facts)
def test_no_input_lets_an_excluded_actor_in_or_tells_them_anything(
    actor: Actor, action: Action, record: RecordFacts
) -> None:
    if excluded(actor):
        decision = decide(actor, action, record)
        assert not decision.allowed
        assert not decision.visible


@given(actors, st.sampled_from(list(Action)), record_facts)
def test_an_absent_record_is_never_accessible_nor_revealed(
    actor: Actor, action: Action, record: RecordFacts
) -> None:
    if not record.exists and actor.kind is not ActorKind.OPERATOR:
        decision = decide(actor, action, record)
        assert not decision.allowed
        assert not decision.visible


@given(actors, st.sampled_from(list(Action)), record_facts)
def test_a_blocked_professional_only_learns_the_record_status(
    actor: Actor, action: Action, record: RecordFacts
) -> None:
    if actor.kind is ActorKind.PROFESSIONAL and record.authorization == "blocked":
        assert decide(actor, action, record).allowed is (
            action is Action.LOOKUP and record.exists and not excluded(actor)
        )


@given(actors, st.sampled_from([Action.READ, Action.SEARCH]), record_facts)
def test_professional_reads_follow_consent_or_an_emergency_mode(
    actor: Actor, action: Action, record: RecordFacts
) -> None:
    if actor.kind is not ActorKind.PROFESSIONAL:
        return
    decision = decide(actor, action, record)
    if not decision.allowed:
        return
    assert record.exists
    assert not record.closed
    assert record.authorization != "blocked"
    if actor.mode is Mode.NORMAL:
        assert record.authorization == "active"
    elif actor.mode is Mode.EMERGENCY:
        assert actor.reason
        assert actor.reason.strip()
        assert not record.emergency_opposed
    else:
        assert "samu_regulator" in actor.roles
        assert not record.regulator_opposed


@given(actors, record_facts)
def test_nobody_writes_to_a_closed_record(actor: Actor, record: RecordFacts) -> None:
    if record.closed:
        assert not decide(actor, Action.WRITE, record).allowed


@given(actors, st.sampled_from([Action.READ, Action.SEARCH, Action.READ_TRAIL]), record_facts)
def test_an_operator_never_reads_health_data(
    actor: Actor, action: Action, record: RecordFacts
) -> None:
    operator = replace(actor, kind=ActorKind.OPERATOR)
    assert not decide(operator, action, record).allowed


def test_granular_scopes_are_never_widened_to_the_whole_resource_type() -> None:
    from carnet.access.scopes import allows, narrow

    allowed = "patient/Observation.rs?category=vital-signs patient/Patient.r"
    assert narrow("patient/Observation.rs patient/Patient.r", allowed) == "patient/Patient.r"
    assert not allows(
        frozenset({"patient/Observation.rs?category=vital-signs"}), "Observation", "read"
    )
