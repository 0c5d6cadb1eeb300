"""The rule of the patient's profile pages, as a table: the patient side changes what the patient
side entered; a professional's entry is read-only for the patient and for other professionals;
an app changes only what it sent."""

from __future__ import annotations

import uuid

import pytest

from carnet.access import Actor, ActorKind
from carnet.access.profile import check_may_change_entry, may_change_entry
from carnet.errors import Forbidden

PATIENT = Actor(kind=ActorKind.PATIENT, ref="account:1", patient_id=uuid.uuid4())
# An app's token names the patient's account (sub), like any other app of the patient: the
# entries it records are named by its client id.
APP = Actor(kind=ActorKind.APP, ref="account:1", client_id="pasfit")
OTHER_APP = Actor(kind=ActorKind.APP, ref="account:1", client_id="another-app")
DURAND = Actor(kind=ActorKind.PROFESSIONAL, ref="810000000017")
OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="ops")

MESSAGES = {
    ActorKind.PATIENT: "recorded by a professional",
    ActorKind.APP: "An app changes only what it recorded",
    ActorKind.PROFESSIONAL: "A professional changes only the entries they recorded",
    ActorKind.OPERATOR: "recorded by a professional",
}

TABLE = [
    # actor, source kind, source ref, may change
    (PATIENT, "patient", "account:1", True),
    (PATIENT, "patient", "patient:someone-else", True),  # a representative's entry for a minor
    (PATIENT, "app", "app:pasfit", True),
    (PATIENT, "professional", "810000000017", False),
    (APP, "app", "app:pasfit", True),
    (APP, "app", "app:another-app", False),
    (OTHER_APP, "app", "app:pasfit", False),  # same account, another app
    (APP, "patient", "account:1", False),
    (DURAND, "professional", "810000000017", True),
    (DURAND, "professional", "810000000025", False),
    (DURAND, "patient", "account:1", False),
    (OPERATOR, "patient", "account:1", False),
]


@pytest.mark.parametrize(("actor", "kind", "ref", "allowed"), TABLE)
def test_who_may_change_a_profile_entry(actor: Actor, kind: str, ref: str, allowed: bool) -> None:
    assert may_change_entry(actor, kind, ref) is allowed
    if allowed:
        check_may_change_entry(actor, kind, ref)
    else:
        with pytest.raises(Forbidden, match=MESSAGES[actor.kind]):
            check_may_change_entry(actor, kind, ref)
