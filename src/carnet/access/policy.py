"""The access decision, as a pure function of its inputs (architecture.md §4).

Deny by default. The decision also says whether the actor may *know* that the record exists:
when not, every refusal surfaces as "not found".
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field

from carnet.access.scopes import allows

# Categories the law excludes whatever the patient consented (CSP L.1111-18 principle,
# domain.md §1.1). Facility types from JDV_J02, specialties from JDV_J01.
EXCLUDED_STRUCTURE_KINDS = frozenset({"insurer", "employer", "bank", "occupational_health"})
EXCLUDED_FACILITY_TYPES = frozenset(
    {
        "SA13",  # Prévention et soins en entreprise
        "SA23",  # Assurance privée
        "SA24",  # Organisme de sécurité sociale (médecins-conseils are not caregivers)
        "SA44",  # Recrutement ou gestion RH
        "SA48",  # Entreprise industrielle et tertiaire (employers)
        "SA66",  # Services de prévention et de santé au travail
    }
)
EXCLUDED_SPECIALTIES = frozenset({"SM25", "C41", "CAPA11"})  # médecine du travail
EXCLUDED_ROLES = frozenset({"occupational_physician"})
REGULATOR_ROLE = "samu_regulator"


class ActorKind(enum.StrEnum):
    PATIENT = "patient"  # the holder, or a legal representative acting for a minor
    PROFESSIONAL = "professional"  # in the portal or through registered software
    APP = "app"  # a connected app acting for the patient within its scopes
    OPERATOR = "operator"  # runs the service; never reads health data
    ANONYMOUS = "anonymous"  # e.g. a person opposing creation with their letter's code


class Mode(enum.StrEnum):
    NORMAL = "normal"
    EMERGENCY = "emergency"  # "bris de glace"
    REGULATOR = "regulator"  # SAMU "centre de régulation"


URGENT_MODES = (Mode.EMERGENCY, Mode.REGULATOR)  # a record opened without authorization


class Action(enum.StrEnum):
    LOOKUP = "lookup"  # existence and access conditions (TD0.2)
    READ = "read"
    SEARCH = "search"
    WRITE = "write"  # feed the record (documents, profile entries)
    DECLARE_CONSENT = "declare_consent"  # a professional records the patient's consent (TD0.3)
    MANAGE = "manage"  # authorizations, blocks, choices on emergency access
    LIFECYCLE = "lifecycle"  # close (the holder's own act)
    REOPEN = "reopen"  # reactivate a closed record, with the patient's consent
    READ_TRAIL = "read_trail"
    ADMINISTER = "administer"  # operator actions: create, issue codes, purge


READ_ACTIONS = frozenset({Action.READ, Action.SEARCH})
HOLDER_ACTIONS = frozenset(
    {
        Action.READ,
        Action.SEARCH,
        Action.WRITE,
        Action.MANAGE,
        Action.LIFECYCLE,
        Action.REOPEN,
        Action.READ_TRAIL,
    }
)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    ref: str  # PS_IdNat, account id or client id: what the trail records
    display_name: str = ""
    account_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None  # the holder (patients, apps)
    professional_id: uuid.UUID | None = None
    profession: str | None = None  # TRE_G15
    specialty: str | None = None
    roles: frozenset[str] = frozenset()
    structure_name: str | None = None
    structure_kind: str | None = None
    facility_type: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    mode: Mode = Mode.NORMAL
    reason: str | None = None
    bound_patient_id: uuid.UUID | None = None  # a token issued for one patient only
    bound_patient_ins: str | None = None  # "<OID>|<matricule>": professionals' tokens
    session_id: str | None = None  # token id or portal session: groups one emergency access
    acting_for: frozenset[uuid.UUID] = field(default_factory=frozenset)  # minors represented
    # A "connexion secrète" (domain.md §1.5): a minor's confidential care, kept from the legal
    # representatives (its accesses out of their history, only what is hidden from them added)
    secret: bool = False


@dataclass(frozen=True)
class RecordFacts:
    exists: bool  # a record exists and is past its opposition window
    closed: bool = False
    emergency_opposed: bool = False
    regulator_opposed: bool = False
    authorization: str | None = None  # active | revoked | blocked | None
    treating_doctor: bool = False
    is_holder: bool = False
    is_representative: bool = False  # of this patient, who is a minor


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    visible: bool  # may the actor know that this record exists?
    mode: Mode = Mode.NORMAL

    @property
    def emergency(self) -> bool:
        return self.allowed and self.mode is Mode.EMERGENCY


SCOPE_INTERACTIONS = {
    Action.LOOKUP: "read",
    Action.READ: "read",
    Action.SEARCH: "search",
    Action.WRITE: "create",
    Action.DECLARE_CONSENT: "create",
    Action.MANAGE: "update",
    Action.LIFECYCLE: "update",
    Action.REOPEN: "update",
    Action.READ_TRAIL: "search",
}


def scope_allows(actor: Actor, action: Action, resource_type: str | None) -> bool:
    """Software acts within the scopes of its token (SMART); portal sessions have no client."""
    if actor.client_id is None or resource_type is None:
        return True
    interaction = SCOPE_INTERACTIONS.get(action)
    if interaction is None:
        return False
    return allows(actor.scopes, resource_type, interaction)


INSURER_CHANNELS = frozenset({"insurer_counter", "opt_out"})
COUNTER_CHANNELS = frozenset({"professional", "pharmacy", "establishment"})
PHARMACIST = "21"


def decide_creation(actor: Actor, channel: str) -> Decision:
    """Who may create a record through which channel (domain.md §3.1). Online creation is the
    patient's own, with a code, and does not come here."""
    if actor.kind is ActorKind.OPERATOR:
        if channel in INSURER_CHANNELS:
            return _allow("insurer_channel")
        return _deny("channel_not_for_actor", visible=True)
    if actor.kind is not ActorKind.PROFESSIONAL:
        return _deny("channel_not_for_actor", visible=True)
    if is_excluded(actor):
        return _deny("excluded_actor", visible=False)
    if channel not in COUNTER_CHANNELS:
        return _deny("channel_not_for_actor", visible=True)
    if channel == "pharmacy" and actor.profession != PHARMACIST:
        return _deny("not_a_pharmacist", visible=True)
    if not scope_allows(actor, Action.WRITE, "Patient"):
        return _deny("insufficient_scope", visible=True)
    return _allow("counter_creation")


def is_excluded(actor: Actor) -> bool:
    return bool(
        (actor.structure_kind in EXCLUDED_STRUCTURE_KINDS)
        or (actor.facility_type in EXCLUDED_FACILITY_TYPES)
        or (actor.specialty in EXCLUDED_SPECIALTIES)
        or (actor.roles & EXCLUDED_ROLES)
    )


def _allow(reason: str, mode: Mode = Mode.NORMAL) -> Decision:
    return Decision(True, reason, True, mode)


def _deny(reason: str, *, visible: bool) -> Decision:
    return Decision(False, reason, visible)


def decide(actor: Actor, action: Action, facts: RecordFacts) -> Decision:
    """Decide whether ``actor`` may do ``action`` on a record described by ``facts``."""
    if actor.kind is ActorKind.OPERATOR:
        if action is Action.ADMINISTER:
            return _allow("operator")
        return _deny("operator_no_health_data", visible=False)
    if actor.kind is ActorKind.PROFESSIONAL and is_excluded(actor):
        return _deny("excluded_actor", visible=False)
    if not facts.exists:
        return _deny("no_record", visible=False)
    if actor.kind in (ActorKind.PATIENT, ActorKind.APP):
        return _decide_holder(actor, action, facts)
    if actor.kind is ActorKind.PROFESSIONAL:
        return _decide_professional(actor, action, facts)
    return _deny("unknown_actor", visible=False)


def _decide_holder(actor: Actor, action: Action, facts: RecordFacts) -> Decision:
    if not (facts.is_holder or facts.is_representative):
        return _deny("not_holder", visible=False)
    if action not in HOLDER_ACTIONS:
        return _deny("not_a_holder_action", visible=True)
    if actor.kind is ActorKind.APP and action in (Action.MANAGE, Action.LIFECYCLE, Action.REOPEN):
        return _deny("app_cannot_manage", visible=True)
    if facts.closed and action in (Action.WRITE, Action.MANAGE):
        return _deny("record_closed", visible=True)
    return _allow("representative" if facts.is_representative else "holder")


def _decide_professional(actor: Actor, action: Action, facts: RecordFacts) -> Decision:
    if action is Action.LOOKUP:
        return _allow("lookup")
    if facts.authorization == "blocked":
        return _deny("blocked_by_patient", visible=True)
    if action is Action.REOPEN:
        # Reopening a closed record at the counter, in the patient's presence and with their
        # consent (DEVBOX #123); closing stays the patient's own act.
        return _allow("reopen_with_consent")
    if facts.closed:
        return _deny("record_closed", visible=True)
    if action is Action.WRITE:
        return _allow("feeding_needs_no_consent")
    if action is Action.DECLARE_CONSENT:
        return _allow("consent_declared")
    if action not in READ_ACTIONS:
        return _deny("not_a_professional_action", visible=True)
    if actor.mode is Mode.EMERGENCY:
        if not (actor.reason and actor.reason.strip()):
            return _deny("emergency_reason_required", visible=True)
        if facts.emergency_opposed:
            return _deny("emergency_opposed", visible=True)
        return _allow("bris_de_glace", Mode.EMERGENCY)
    if actor.mode is Mode.REGULATOR:
        if REGULATOR_ROLE not in actor.roles:
            return _deny("not_a_regulator", visible=True)
        if facts.regulator_opposed:
            return _deny("regulator_opposed", visible=True)
        return _allow("regulator", Mode.REGULATOR)
    if facts.authorization == "active":
        return _allow("treating_doctor" if facts.treating_doctor else "authorized")
    return _deny("no_authorization", visible=True)
