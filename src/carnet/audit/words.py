"""The trail in plain words, for the patient (French first, English too)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from carnet.audit.models import AuditEntry

ACTIONS: dict[str, tuple[str, str]] = {
    "lookup": ("a vérifié l'existence de votre dossier", "checked that your record exists"),
    "read": ("a consulté votre dossier", "read your record"),
    "search": ("a consulté votre dossier", "searched your record"),
    "write": ("a ajouté des informations à votre dossier", "added to your record"),
    "identity.register": ("a enregistré votre identité", "registered your identity"),
    "record.create": ("a créé votre dossier", "created your record"),
    "record.activate": ("a activé votre dossier", "activated your record"),
    "record.oppose_creation": (
        "a fait opposition à la création de votre dossier",  # no agreement to get wrong
        "opposed the creation of your record",
    ),
    "record.close": ("a fermé votre dossier", "closed your record"),
    "record.reactivate": ("a réactivé votre dossier", "reopened your record"),
    "record.access_choices": (
        "a modifié vos choix d'accès en urgence",
        "changed your emergency-access choices",
    ),
    "activation_code.issue": ("a émis un code d'activation", "issued an activation code"),
    "authorization.grant": ("a autorisé un professionnel", "authorized a professional"),
    "authorization.revoke": ("a retiré une autorisation", "revoked an authorization"),
    "authorization.block": ("a bloqué un professionnel", "blocked a professional"),
    "authorization.unblock": ("a débloqué un professionnel", "unblocked a professional"),
    "authorization.declare_consent": (
        "a déclaré votre consentement à l'accès",
        "recorded your consent to access",
    ),
    "authorization.designate_treating_doctor": (
        "a désigné un médecin traitant",
        "designated a treating doctor",
    ),
    "authorization.remove_treating_doctor": (
        "a retiré un médecin traitant",
        "removed a treating doctor",
    ),
    "authorization.search": ("a consulté les autorisations", "read the authorizations"),
    "read_trail": ("a consulté l'historique des accès", "read the access history"),
    "representative.add": ("a rattaché un représentant légal", "attached a legal representative"),
    "app.connect": ("a connecté une application", "connected an app"),
    "document.submit": ("a déposé des documents", "submitted documents"),
    "document.delete": ("a supprimé un document", "deleted a document"),
    "document.archive": ("a archivé un document", "archived a document"),
    "document.unarchive": ("a désarchivé un document", "unarchived a document"),
    "document.hide": (
        "a masqué un document aux professionnels",
        "hid a document from professionals",
    ),
    "document.unhide": (
        "a rendu un document visible aux professionnels",
        "made a document visible to professionals",
    ),
    "document.patient_visibility": (
        "a changé la visibilité d'un document pour vous",
        "changed whether you can see a document",
    ),
    "app.disconnect": ("a déconnecté une application", "disconnected an app"),
    # secure messaging (docs/messaging.md)
    "communication.start": ("a écrit un nouveau message", "wrote a new message"),
    "communication.reply": ("a répondu à un message", "replied to a message"),
    "communication.read": ("a lu une conversation", "read a conversation"),
    "communication.list": ("a consulté la liste des messages", "listed the messages"),
    # a professional's portal naming the patient in a list (access.listing)
    "patient_list.recent": (
        "a vu votre nom dans la liste de ses patients récents",
        "saw your name in their list of recent patients",
    ),
    "patient_list.messaging": (
        "a vu votre nom dans la liste des patients à qui écrire",
        "saw your name in their list of patients to write to",
    ),
}

# Reads, searches and writes say what was looked at or changed, when the row knows it.
PROFILE_TYPES = (
    "AllergyIntolerance",
    "MedicationStatement",
    "MedicationRequest",
    "Condition",
    "Immunization",
    "Observation",
    "RelatedPerson",
)
ON_RESOURCE: dict[tuple[str, str], tuple[str, str]] = {
    ("search", "DocumentReference"): (
        "a consulté la liste de vos documents",
        "listed your documents",
    ),
    ("read", "DocumentReference"): ("a consulté un document", "read a document"),
    ("read", "Record"): ("a consulté l'état de votre dossier", "read the status of your record"),
    ("search", "Appointment"): ("a consulté votre agenda", "read your agenda"),
    ("read", "Appointment"): ("a consulté un rendez-vous", "read an appointment"),
    ("write", "Appointment"): ("a modifié votre agenda", "changed your agenda"),
    **{
        ("search", t): ("a consulté votre profil médical", "read your medical profile")
        for t in PROFILE_TYPES
    },
    **{
        ("read", t): ("a consulté votre profil médical", "read your medical profile")
        for t in PROFILE_TYPES
    },
    **{
        ("write", t): ("a modifié votre profil médical", "changed your medical profile")
        for t in PROFILE_TYPES
    },
}

# An access allowed, then refused for another reason (audit.append_failed): the error's
# code comes first in the row's detail.
FAILURES: dict[str, tuple[str, str]] = {
    "conflict": (
        "sans suite : l'état du dossier ou du document ne le permettait pas",
        "not done: the state of the record or document did not allow it",
    ),
    "forbidden": ("sans suite : opération non permise", "not done: not permitted"),
    "not-found": ("sans suite : introuvable", "not done: not found"),
    "invalid": ("sans suite : demande incorrecte", "not done: incorrect request"),
}

DENIALS: dict[str, tuple[str, str]] = {
    "excluded_actor": (
        "refusé : cet acteur n'a jamais accès au dossier",
        "refused: this actor may never access the record",
    ),
    "blocked_by_patient": (
        "refusé : vous avez bloqué ce professionnel",
        "refused: you blocked this professional",
    ),
    "no_authorization": ("refusé : pas d'autorisation", "refused: no authorization"),
    "emergency_opposed": (
        "refusé : vous vous êtes opposé à l'accès en urgence",
        "refused: you opposed emergency access",
    ),
    "regulator_opposed": (
        "refusé : vous vous êtes opposé à l'accès du régulateur",
        "refused: you opposed regulator access",
    ),
    "record_closed": ("refusé : le dossier est fermé", "refused: the record is closed"),
}

# The denials that speak of the holder's own choices, on a minor's record.
_THEIR_CHOICES: tuple[dict[str, str], dict[str, str]] = (
    {
        "blocked_by_patient": "refusé : ce professionnel est bloqué sur ce dossier",
        "emergency_opposed": "refusé : l'accès en urgence a été refusé sur ce dossier",
        "regulator_opposed": "refusé : l'accès du régulateur a été refusé sur ce dossier",
    },
    {
        "blocked_by_patient": "refused: this professional is blocked on this record",
        "emergency_opposed": "refused: emergency access was opposed on this record",
        "regulator_opposed": "refused: regulator access was opposed on this record",
    },
)

MODES = {
    "emergency": ("en urgence (bris de glace)", "in emergency mode (break the glass)"),
    "regulator": ("en mode régulation SAMU", "in SAMU regulator mode"),
}

KINDS = {
    "patient": ("Vous", "You"),
    "app": ("Une application connectée", "A connected app"),
    "representative": ("Votre représentant légal", "Your legal representative"),
    "operator": ("L'opérateur du service", "The service operator"),
    "anonymous": ("Une personne munie du code", "Someone with the code"),
}


@dataclass(frozen=True)
class Reader:
    """Who reads a trail that is not their own: a legal representative reading a minor's
    record. The sentences then name the minor ("le dossier de Léa", "Léa's record"), and
    only the rows this representative wrote say "Vous"."""

    minor_name: str  # the minor's given name
    ref: str  # the representative's actor ref


# The possessives of the phrases above: (yours, the minor's — followed by « de Léa » —, the
# minor's in a row the minor wrote).
_THEIRS_FR = (
    ("de vos documents", "des documents", "de ses documents"),
    ("vos documents", "les documents", "ses documents"),
    (
        "vos choix d'accès en urgence",
        "les choix d'accès en urgence",
        "ses choix d'accès en urgence",
    ),
    ("vos choix", "les choix", "ses choix"),
    ("à votre dossier", "au dossier", "à son dossier"),
    ("de votre dossier", "du dossier", "de son dossier"),
    ("votre dossier", "le dossier", "son dossier"),
    ("votre identité", "l'identité", "son identité"),
    ("votre consentement", "le consentement", "son consentement"),
    ("votre nom", "le nom", "son nom"),
    ("votre agenda", "l'agenda", "son agenda"),
    ("votre profil médical", "le profil médical", "son profil médical"),
)


def _of_minor(what: str, i: int, name: str, *, by_minor: bool) -> str:
    """The phrase about the minor's record: « le dossier de Léa » / "Léa's record", or, in a
    row the minor wrote, « son dossier » / "their record"."""
    if i == 1:
        if not by_minor:
            what = re.sub(r"\byou can\b", f"{name} can", what)
        return re.sub(r"\byour\b", "their" if by_minor else f"{name}'s", what)
    if not by_minor:
        what = what.replace("pour vous", f"pour {name}")
    of = "d'" if name[:1].lower() in "aâeéèêiîoôuûy" else "de "
    for yours, theirs, own in _THEIRS_FR:
        what = what.replace(yours, own if by_minor else f"{theirs} {of}{name}")
    return what


def describe(
    entry: AuditEntry,
    lang: str = "fr",
    profession_label: str | None = None,
    reader: Reader | None = None,
) -> str:
    i = 0 if lang == "fr" else 1
    yours = entry.actor_kind == "patient" or (  # « Vous avez … »
        reader is not None
        and entry.actor_kind == "representative"
        and entry.actor_ref == reader.ref
    )
    if reader is not None and entry.actor_kind == "patient":
        yours = False
        who = reader.minor_name
    elif reader is not None and yours:
        who = KINDS["patient"][i]
    elif reader is not None and entry.actor_kind == "representative":
        who = ("Un représentant légal", "A legal representative")[i]
        who += f" ({entry.actor_name})" if entry.actor_name else ""
    elif entry.actor_kind == "professional":
        who = entry.actor_name or entry.actor_ref or "?"
        extras = [x for x in (profession_label, entry.actor_structure) if x]
        if extras:
            who += f" ({', '.join(extras)})"
    elif entry.actor_kind == "app":
        who = f"{KINDS['app'][i]} « {entry.actor_name} »" if entry.actor_name else KINDS["app"][i]
    elif entry.actor_kind == "representative" and entry.actor_name:
        who = f"{KINDS['representative'][i]} ({entry.actor_name})"
    else:
        who = KINDS.get(entry.actor_kind, ("?", "?"))[i]
    phrases = ON_RESOURCE.get((entry.action, entry.resource_type or ""))
    what = (phrases or ACTIONS.get(entry.action, (entry.action, entry.action)))[i]
    if reader is not None:
        what = _of_minor(what, i, reader.minor_name, by_minor=entry.actor_kind == "patient")
    if i == 0 and yours and what.startswith("a "):
        what = "avez " + what[2:]  # « Vous avez … », not « Vous a … »
    sentence = f"{who} {what}"
    if entry.mode in MODES:
        sentence += " " + MODES[entry.mode][i]
        if entry.reason:
            sentence += (" — motif : " if i == 0 else " — reason: ") + entry.reason
    if entry.outcome == "failed":
        code = (entry.detail or "").split(" ", 1)[0].removeprefix("failed=")
        sentence += " — " + FAILURES.get(code, ("sans suite", "not done"))[i]
    if entry.outcome == "denied":
        denial = DENIALS.get(entry.detail or "", ("refusé", "refused"))[i]
        if reader is not None:  # the choices were made on the child's record
            denial = _THEIR_CHOICES[i].get(entry.detail or "", denial)
        sentence += f" — {denial}"
    return sentence + "."
