"""Who may change which entry of a medical profile, through the portal and the API alike: the
patient, or the legal representative acting for a minor, changes what the patient side entered
(and what the patient's connected apps sent); an entry a professional recorded stays read-only
for them — it keeps its author, and the patient asks that professional to correct it. A
professional or an app changes only what it recorded itself. Pure."""

from __future__ import annotations

from carnet.access.policy import Actor, ActorKind
from carnet.errors import Forbidden

PROFESSIONAL_ENTRY = (
    "This entry was recorded by a professional: only they can change it. "
    "Ask them to correct it if it is wrong."
)
NOT_THEIRS = {
    ActorKind.APP: "An app changes only what it recorded.",
    ActorKind.PROFESSIONAL: "A professional changes only the entries they recorded.",
}
PATIENT_SIDE_SOURCES = frozenset({"patient", "app"})


def entry_ref(actor: Actor) -> str:
    """Who an entry records as its author. An app's token names the patient's account (its
    ``sub``), the same for every app the patient connected: an app is named by its client id."""
    if actor.kind is ActorKind.APP:
        return f"app:{actor.client_id}"
    return actor.ref


def may_change_entry(actor: Actor, source_kind: str, source_ref: str) -> bool:
    """May ``actor`` change or remove an entry recorded by ``source_kind`` / ``source_ref``?"""
    if actor.kind is ActorKind.PATIENT:
        return source_kind in PATIENT_SIDE_SOURCES
    if actor.kind in (ActorKind.APP, ActorKind.PROFESSIONAL):
        return source_ref == entry_ref(actor)  # each changes only what it recorded
    return False


def check_may_change_entry(actor: Actor, source_kind: str, source_ref: str) -> None:
    if not may_change_entry(actor, source_kind, source_ref):
        raise Forbidden(NOT_THEIRS.get(actor.kind, PROFESSIONAL_ENTRY))
