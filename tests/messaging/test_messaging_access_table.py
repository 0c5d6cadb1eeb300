"""The messaging rule as a table (pure): actor × verb × record facts × thread facts."""

from __future__ import annotations

import pytest

from carnet.access import Actor, ActorKind, Mode, RecordFacts
from carnet.access.messaging import ThreadFacts, Verb, decide_messaging, public_error
from carnet.errors import Conflict, Forbidden, NotFound

DURAND = Actor(kind=ActorKind.PROFESSIONAL, ref="810000000017", profession="10")
EMERGENCY = Actor(
    kind=ActorKind.PROFESSIONAL, ref="810000000025", mode=Mode.EMERGENCY, reason="inconsciente"
)
OCCUPATIONAL = Actor(kind=ActorKind.PROFESSIONAL, ref="810000000074", specialty="SM25")
SYLVIE = Actor(kind=ActorKind.PATIENT, ref="account:sylvie")
APP = Actor(kind=ActorKind.APP, ref="pasfit", client_id="pasfit")
OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="operator")

AUTHORIZED = RecordFacts(exists=True, authorization="active")
REVOKED = RecordFacts(exists=True, authorization="revoked")
BLOCKED = RecordFacts(exists=True, authorization="blocked")
CLOSED_AUTHORIZED = RecordFacts(exists=True, closed=True, authorization="active")
HOLDER = RecordFacts(exists=True, is_holder=True)
CLOSED_HOLDER = RecordFacts(exists=True, closed=True, is_holder=True)
REPRESENTATIVE = RecordFacts(exists=True, is_representative=True)
STRANGER = RecordFacts(exists=True)
NO_RECORD = RecordFacts(exists=False)

HIS = ThreadFacts(participants=frozenset({"810000000017"}))
OTHERS = ThreadFacts(participants=frozenset({"810000000066"}))
CONFIDENTIAL = ThreadFacts(
    participants=frozenset({"810000000017"}), hidden_from_representatives=True
)

# actor, verb, record, thread, allowed, reason, visible
TABLE = [
    (DURAND, Verb.START, AUTHORIZED, None, True, "authorized", True),
    (DURAND, Verb.REPLY, AUTHORIZED, HIS, True, "participant", True),
    (DURAND, Verb.READ, AUTHORIZED, HIS, True, "participant", True),
    (DURAND, Verb.READ, AUTHORIZED, OTHERS, False, "no_thread", False),
    (DURAND, Verb.REPLY, AUTHORIZED, OTHERS, False, "no_thread", False),
    (DURAND, Verb.LIST, AUTHORIZED, None, True, "authorized", True),
    (DURAND, Verb.START, REVOKED, None, False, "no_authorization", True),
    (DURAND, Verb.READ, REVOKED, HIS, False, "no_authorization", True),
    (DURAND, Verb.START, STRANGER, None, False, "no_authorization", True),
    (DURAND, Verb.READ, BLOCKED, HIS, False, "blocked_by_patient", True),
    (DURAND, Verb.START, CLOSED_AUTHORIZED, None, False, "record_closed", True),
    (DURAND, Verb.START, NO_RECORD, None, False, "no_record", False),
    (EMERGENCY, Verb.START, AUTHORIZED, None, False, "messaging_in_normal_care_only", True),
    (EMERGENCY, Verb.READ, AUTHORIZED, HIS, False, "messaging_in_normal_care_only", True),
    (OCCUPATIONAL, Verb.START, AUTHORIZED, None, False, "excluded_actor", False),
    (OCCUPATIONAL, Verb.READ, AUTHORIZED, HIS, False, "excluded_actor", False),
    (SYLVIE, Verb.START, HOLDER, None, False, "patient_cannot_start", True),
    (SYLVIE, Verb.REPLY, HOLDER, HIS, True, "holder", True),
    (SYLVIE, Verb.READ, HOLDER, CONFIDENTIAL, True, "holder", True),
    (SYLVIE, Verb.READ, CLOSED_HOLDER, HIS, True, "holder", True),
    (SYLVIE, Verb.REPLY, CLOSED_HOLDER, HIS, False, "record_closed", True),
    (SYLVIE, Verb.READ, REPRESENTATIVE, HIS, True, "representative", True),
    (SYLVIE, Verb.READ, REPRESENTATIVE, CONFIDENTIAL, False, "no_thread", False),
    (SYLVIE, Verb.REPLY, REPRESENTATIVE, CONFIDENTIAL, False, "no_thread", False),
    (SYLVIE, Verb.READ, STRANGER, HIS, False, "not_holder", False),
    (SYLVIE, Verb.LIST, NO_RECORD, None, False, "no_record", False),
    (APP, Verb.READ, HOLDER, HIS, True, "holder", True),
    (APP, Verb.START, HOLDER, None, False, "patient_cannot_start", True),
    (OPERATOR, Verb.READ, HOLDER, HIS, False, "operator_no_health_data", False),
    (OPERATOR, Verb.START, AUTHORIZED, None, False, "operator_no_health_data", False),
]


@pytest.mark.parametrize(
    ("actor", "verb", "record", "thread", "allowed", "reason", "visible"), TABLE
)
def test_the_messaging_decision_table(
    actor: Actor,
    verb: Verb,
    record: RecordFacts,
    thread: ThreadFacts | None,
    allowed: bool,
    reason: str,
    visible: bool,
) -> None:
    decision = decide_messaging(actor, verb, record, thread)
    assert (decision.allowed, decision.reason, decision.visible) == (allowed, reason, visible)


@pytest.mark.parametrize(
    ("reason", "visible", "error"),
    [
        ("no_thread", False, NotFound),
        ("excluded_actor", False, NotFound),
        ("blocked_by_patient", True, Forbidden),
        ("record_closed", True, Conflict),
        ("patient_cannot_start", True, Forbidden),
    ],
)
def test_what_a_refusal_says(reason: str, visible: bool, error: type[Exception]) -> None:
    from carnet.access.policy import Decision

    public = public_error(Decision(False, reason, visible))
    assert type(public) is error
