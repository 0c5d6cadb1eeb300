"""Prescription checks: a prescribed drug against the patient's allergies and current treatments.

Pure functions over the shipped terminologies (no database, no HTTP): the profile service
calls :func:`check_prescription` when a MedicationRequest arrives, and the "check before
prescribing" endpoint calls :func:`check` to also show what each drug was understood as.

- Every drug designation (CIS code, BDPM product name, substance in any spelling) is resolved
  to its substances with :func:`carnet.terminology.drugs.resolve`. One that cannot be resolved
  gives a warning of kind ``unknown``: a drug is never silently left unchecked.
- **Allergies**: the same substance, a member of a family the allergy names ("allergie aux
  pénicillines"), another member of the allergen's family, or a documented cross-reaction
  (:mod:`carnet.safety.families`). Interaction classes of the thesaurus are never used for
  allergies, so a drug unrelated to the allergen raises nothing.
- **Interactions**: every pair (prescribed × current treatment, and prescribed × prescribed)
  against the ANSM thesaurus, substance- and class-level entries, in both directions.

Warnings are sorted most serious first; each names the substances, the rule, its severity
and its source with the source's date. How and why: ``docs/safety.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from carnet.safety import families as fam
from carnet.terminology.drugs import (
    Bdpm,
    InteractionHit,
    Resolution,
    Severity,
    Thesaurus,
    load_bdpm,
    load_thesaurus,
    normalise,
    resolve,
)

Kind = Literal["allergy", "interaction", "unknown"]


class WarningSeverity(StrEnum):
    """The severity of a warning: the four thesaurus levels, and the two allergy levels
    (ranked with contre-indication and précaution d'emploi), and "not checked"."""

    CONTRE_INDICATION = "contre-indication"
    ALLERGIE = "allergie"
    ASSOCIATION_DECONSEILLEE = "association-deconseillee"
    PRECAUTION_EMPLOI = "precaution-emploi"
    REACTION_CROISEE = "reaction-croisee"
    A_PRENDRE_EN_COMPTE = "a-prendre-en-compte"
    INCONNU = "inconnu"

    @property
    def rank(self) -> int:
        """4 = contre-indication … 1 = à prendre en compte; 0 = not checked."""
        return _RANKS[self]

    @property
    def level(self) -> Severity | None:
        """The thesaurus level this severity stands at (None for "not checked")."""
        return Severity(self.rank) if self.rank else None

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]

    @classmethod
    def of(cls, level: Severity) -> WarningSeverity:
        return _FROM_LEVEL[level]


_RANKS: Mapping[WarningSeverity, int] = MappingProxyType(
    {
        WarningSeverity.CONTRE_INDICATION: 4,
        WarningSeverity.ALLERGIE: 4,
        WarningSeverity.ASSOCIATION_DECONSEILLEE: 3,
        WarningSeverity.PRECAUTION_EMPLOI: 2,
        WarningSeverity.REACTION_CROISEE: 2,
        WarningSeverity.A_PRENDRE_EN_COMPTE: 1,
        WarningSeverity.INCONNU: 0,
    }
)
_LABELS: Mapping[WarningSeverity, tuple[str, str]] = MappingProxyType(
    {
        WarningSeverity.CONTRE_INDICATION: ("Contre-indication", "Contraindication"),
        WarningSeverity.ALLERGIE: ("Allergie — contre-indication", "Allergy — contraindication"),
        WarningSeverity.ASSOCIATION_DECONSEILLEE: ("Association déconseillée", "Not recommended"),
        WarningSeverity.PRECAUTION_EMPLOI: ("Précaution d'emploi", "Precaution for use"),
        WarningSeverity.REACTION_CROISEE: (
            "Réaction croisée possible — précaution",
            "Possible cross-reaction — precaution",
        ),
        WarningSeverity.A_PRENDRE_EN_COMPTE: ("À prendre en compte", "To be taken into account"),
        WarningSeverity.INCONNU: ("Non vérifié", "Not checked"),
    }
)
_FROM_LEVEL: Mapping[Severity, WarningSeverity] = MappingProxyType(
    {
        Severity.CONTRE_INDICATION: WarningSeverity.CONTRE_INDICATION,
        Severity.ASSOCIATION_DECONSEILLEE: WarningSeverity.ASSOCIATION_DECONSEILLEE,
        Severity.PRECAUTION_EMPLOI: WarningSeverity.PRECAUTION_EMPLOI,
        Severity.A_PRENDRE_EN_COMPTE: WarningSeverity.A_PRENDRE_EN_COMPTE,
    }
)

_KIND_ORDER: Mapping[str, int] = MappingProxyType({"allergy": 0, "interaction": 1, "unknown": 2})


@dataclass(frozen=True)
class Allergy:
    """An allergy or intolerance of the record: a substance (or product, or CIS code), a
    class ("pénicillines", "AINS", an ANSM class), or only a free text."""

    substance: str | None = None
    class_name: str | None = None
    text: str = ""
    criticality: str | None = None  # FHIR AllergyIntolerance.criticality: low | high | …


@dataclass(frozen=True)
class Treatment:
    """A current treatment: ``substance`` may also be a CIS code or a product name."""

    substance: str
    name: str = ""


@dataclass(frozen=True)
class Prescribed:
    """A prescribed item as understood: what was typed and the substances it stands for."""

    query: str
    name: str
    substances: tuple[str, ...]
    via: str  # "cis" | "substance" | "product" | "ambiguous" | "unknown"
    cis: str | None = None

    @property
    def checked(self) -> bool:
        return bool(self.substances)


@dataclass(frozen=True)
class SafetyWarning:
    kind: Kind
    severity: WarningSeverity
    drug: str  # the prescribed item (or the treatment, for an unreadable one) as given
    substances: tuple[str, ...]
    rule: str
    message_fr: str
    message_en: str
    source: str
    source_date: str
    conditions: tuple[tuple[Severity, str], ...] = ()  # thesaurus levels and their conditions
    mechanism: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (API responses, DetectedIssue details)."""
        return {
            "kind": self.kind,
            "severity": self.severity.value,
            "severity_label": self.severity.label,
            "severity_label_en": self.severity.label_en,
            "rank": self.severity.rank,
            "drug": self.drug,
            "substances": list(self.substances),
            "rule": self.rule,
            "message_fr": self.message_fr,
            "message_en": self.message_en,
            "source": self.source,
            "source_date": self.source_date,
            "conditions": [
                {"severity": level.code, "label": level.label, "text": text}
                for level, text in self.conditions
            ],
            "mechanism": self.mechanism,
        }


Warning = SafetyWarning  # the name the issue and callers use; shadows the builtin here only


@dataclass(frozen=True)
class SafetyReport:
    prescribed: tuple[Prescribed, ...]
    warnings: tuple[SafetyWarning, ...]


# --- entry points -----------------------------------------------------------------------------


def check_prescription(
    prescribed: Sequence[str],
    allergies: Sequence[Allergy],
    treatments: Sequence[Treatment],
    *,
    data_dir: Path | None = None,
) -> list[SafetyWarning]:
    """Warnings for prescribing ``prescribed`` (substances, product names or CIS codes) to a
    patient with these allergies and current treatments, most serious first."""
    return list(check(prescribed, allergies, treatments, data_dir=data_dir).warnings)


def check(
    prescribed: Sequence[str],
    allergies: Sequence[Allergy],
    treatments: Sequence[Treatment],
    *,
    data_dir: Path | None = None,
) -> SafetyReport:
    """:func:`check_prescription`, with what each prescribed item was understood as."""
    thesaurus, bdpm = load_thesaurus(data_dir), load_bdpm(data_dir)
    items = tuple(_prescribed(q, resolve(q, data_dir=data_dir)) for q in prescribed if q.strip())
    warnings: list[SafetyWarning] = []
    for item in items:
        if not item.checked:
            warnings.append(_unknown(item.query, item, bdpm, treatment=False))
    current: list[tuple[str, str]] = []  # (substance, display name of the treatment)
    for treatment in treatments:
        resolution = resolve(treatment.substance, data_dir=data_dir)
        if not resolution.resolved and treatment.name:
            resolution = resolve(treatment.name, data_dir=data_dir)
        label = treatment.name or treatment.substance
        if resolution.resolved:
            current.extend((s, label) for s in resolution.substances)
        else:
            item = _prescribed(treatment.substance, resolution)
            warnings.append(_unknown(label, item, bdpm, treatment=True))
    profiles = [_profile(a, thesaurus, bdpm, data_dir) for a in allergies]
    for item in items:
        for substance in item.substances:
            for profile in profiles:
                found = _allergy_warning(item, substance, profile, thesaurus, bdpm)
                if found:
                    warnings.append(found)
    warnings.extend(_interaction_warnings(items, current, thesaurus, bdpm))
    return SafetyReport(items, tuple(_sorted(_deduplicated(warnings))))


def _prescribed(query: str, r: Resolution) -> Prescribed:
    return Prescribed(query.strip(), r.label or query.strip(), r.substances, r.via, r.cis)


def _sorted(warnings: Iterable[SafetyWarning]) -> list[SafetyWarning]:
    return sorted(
        warnings,
        key=lambda w: (-w.severity.rank, _KIND_ORDER[w.kind], w.drug, w.substances, w.rule),
    )


def _deduplicated(warnings: Iterable[SafetyWarning]) -> list[SafetyWarning]:
    seen: dict[tuple[str, frozenset[str], str], SafetyWarning] = {}
    for w in warnings:
        seen.setdefault((w.kind, frozenset(w.substances), w.rule), w)
    return list(seen.values())


def _label(substance: str, bdpm: Bdpm) -> str:
    found = bdpm.substances.get(substance)
    return found.label if found else substance


_BDPM_SOURCE = "BDPM (base de données publique des médicaments)"


def _shown(substance_label: str, name: str) -> str:
    """ "amoxicilline (CLAMOXYL 1 g…)", or just the substance when that is what was named."""
    if not name or normalise(name) == normalise(substance_label):
        return substance_label
    return f"{substance_label} ({name})"


# --- unknown drugs ----------------------------------------------------------------------------


def _unknown(drug: str, item: Prescribed, bdpm: Bdpm, *, treatment: bool) -> SafetyWarning:
    if item.via == "ambiguous":
        why_fr = "le nom correspond à des médicaments de compositions différentes"
        why_en = "the name matches medicines with different compositions"
    elif item.cis:
        why_fr = f"le code CIS {item.cis} est inconnu ou sans composition connue"
        why_en = f"CIS code {item.cis} is unknown or has no known composition"
    else:
        why_fr = "ni code CIS, ni nom de spécialité, ni substance reconnus"
        why_en = "not a known CIS code, product name or substance"
    what_fr = "Traitement en cours" if treatment else "Médicament"
    what_en = "Current treatment" if treatment else "Drug"
    return SafetyWarning(
        kind="unknown",
        severity=WarningSeverity.INCONNU,
        drug=drug,
        substances=(),
        rule="médicament non identifié",
        message_fr=f"{what_fr} « {drug} » non vérifié ({why_fr}) : allergies et interactions "
        "n'ont pas pu être contrôlées. Précisez la spécialité ou la substance.",
        message_en=f"{what_en} '{drug}' not checked ({why_en}): allergies and interactions "
        "could not be checked. Give the product or the substance.",
        source=_BDPM_SOURCE,
        source_date=bdpm.snapshot,
    )


# --- allergies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Profile:
    allergy: Allergy
    substances: frozenset[str]  # allergen substances
    families: tuple[fam.Family, ...]  # families the allergy names as a class
    ansm_classes: frozenset[str]  # normalised ANSM classes the allergy names


def _profile(allergy: Allergy, thesaurus: Thesaurus, bdpm: Bdpm, data_dir: Path | None) -> _Profile:
    substances: set[str] = set()
    families: list[fam.Family] = []
    classes: set[str] = set()

    def as_class(name: str) -> bool:
        named = fam.families_named(name)
        if named:
            families.extend(named)
            return True
        key = normalise(name)
        for candidate in (key, f"autres {key}"):
            if candidate in thesaurus.classes:
                classes.add(key)
                return True
        return False

    if allergy.substance and allergy.substance.strip() and not as_class(allergy.substance):
        r = resolve(allergy.substance, data_dir=data_dir)
        substances.update(r.substances)
    if allergy.class_name and allergy.class_name.strip():
        as_class(allergy.class_name)
    if not substances and not families and not classes and allergy.text:
        found = _scan_text(allergy.text, data_dir)
        families.extend(f for k in found.get("family", ()) if (f := fam.family(k)))
        substances.update(found.get("substance", ()))
        classes.update(found.get("class", ()))
    return _Profile(
        allergy, frozenset(substances), tuple(dict.fromkeys(families)), frozenset(classes)
    )


def _allergy_warning(
    item: Prescribed, substance: str, profile: _Profile, thesaurus: Thesaurus, bdpm: Bdpm
) -> SafetyWarning | None:
    allergy = profile.allergy
    label = _label(substance, bdpm)
    drug = item.name
    info = bdpm.substances.get(substance)
    own_families = fam.families_of(substance, info.classes if info else frozenset())
    criticality = _criticality(allergy)
    # 1. The allergen itself.
    if substance in profile.substances:
        return _allergy(
            item,
            (substance,),
            WarningSeverity.ALLERGIE,
            rule=f"allergie à {label} — {drug} contient {label}",
            rule_en=f"allergy to {label} — {drug} contains {label}",
            extra=criticality,
            source=f"Allergies du dossier; composition : {_BDPM_SOURCE}",
            source_date=bdpm.snapshot,
        )
    # 2. A class the allergy names.
    for family in profile.families:
        if family in own_families:
            return _allergy(
                item,
                (substance,),
                WarningSeverity.ALLERGIE,
                rule=f"allergie aux {family.label} (classe) — {label} est {family.member}",
                rule_en=f"allergy to {family.label_en} (class) — {label} is one of them",
                extra=criticality,
            )
    keys = thesaurus.keys_of(substance)
    for cls in sorted(profile.ansm_classes):
        if cls in keys or f"autres {cls}" in keys:
            return _allergy(
                item,
                (substance,),
                WarningSeverity.ALLERGIE,
                rule=f"allergie : {cls} (classe ANSM) — {label} appartient à cette classe",
                rule_en=f"allergy: {cls} (ANSM class) — {label} belongs to it",
                extra=criticality,
                source=thesaurus.source,
                source_date=thesaurus.edition,
            )
    # 3. Another member of the allergen's family, a shared side chain, a cross-reaction.
    best: SafetyWarning | None = None
    for allergen in sorted(profile.substances):
        a_label = _label(allergen, bdpm)
        a_info = bdpm.substances.get(allergen)
        a_families = fam.families_of(allergen, a_info.classes if a_info else frozenset())
        chain = fam.shared_side_chain(allergen, substance)
        chain_fr = f" ; {chain.note}" if chain else ""
        chain_en = f"; {chain.note_en}" if chain else ""
        for family in a_families:
            if family in own_families:
                severity = (
                    WarningSeverity.ALLERGIE
                    if family.within >= Severity.CONTRE_INDICATION
                    else WarningSeverity.REACTION_CROISEE
                )
                best = _stronger(
                    best,
                    _allergy(
                        item,
                        (substance, allergen),
                        severity,
                        rule=f"allergie à {a_label} ({family.label}) — {label} est aussi "
                        f"{family.member}{chain_fr}",
                        rule_en=f"allergy to {a_label} ({family.label_en}) — {label} is one "
                        f"too{chain_en}",
                        extra=criticality,
                    ),
                )
            for other in own_families:
                cross = fam.cross_reaction(family.key, other.key)
                if cross:
                    best = _stronger(
                        best,
                        _allergy(
                            item,
                            (substance, allergen),
                            WarningSeverity.REACTION_CROISEE,
                            rule=f"allergie à {a_label} ({family.label}) — {label} est "
                            f"{other.member} : {cross.note}{chain_fr}",
                            rule_en=f"allergy to {a_label} ({family.label_en}) — {label} is "
                            f"one of the {other.label_en}: {cross.note_en}{chain_en}",
                            extra=criticality,
                        ),
                    )
        if chain and best is None:
            best = _allergy(
                item,
                (substance, allergen),
                WarningSeverity.REACTION_CROISEE,
                rule=f"allergie à {a_label} — {label} : {chain.note}",
                rule_en=f"allergy to {a_label} — {label}: {chain.note_en}",
                extra=criticality,
            )
    for family in profile.families:
        for other in own_families:
            cross = fam.cross_reaction(family.key, other.key)
            if cross:
                best = _stronger(
                    best,
                    _allergy(
                        item,
                        (substance,),
                        WarningSeverity.REACTION_CROISEE,
                        rule=f"allergie aux {family.label} (classe) — {label} est {other.member}"
                        f" : {cross.note}",
                        rule_en=f"allergy to {family.label_en} (class) — {label} is one of the "
                        f"{other.label_en}: {cross.note_en}",
                        extra=criticality,
                    ),
                )
    return best


def _stronger(current: SafetyWarning | None, new: SafetyWarning) -> SafetyWarning:
    if current is None or new.severity.rank > current.severity.rank:
        return new
    return current


def _criticality(allergy: Allergy) -> tuple[str, str]:
    value = (allergy.criticality or "").strip().lower()
    if value in ("high", "elevee", "élevée", "haute"):
        return " Criticité élevée.", " High criticality."
    return "", ""


def _allergy(
    item: Prescribed,
    substances: tuple[str, ...],
    severity: WarningSeverity,
    *,
    rule: str,
    rule_en: str,
    extra: tuple[str, str],
    source: str | None = None,
    source_date: str | None = None,
) -> SafetyWarning:
    allergy = severity is WarningSeverity.ALLERGIE
    head_fr = "Allergie" if allergy else "Réaction croisée possible"
    head_en = "Allergy" if allergy else "Possible cross-reaction"
    advice_fr = " Ne pas prescrire sans avis." if allergy else " Prescrire avec précaution."
    advice_en = " Do not prescribe without advice." if allergy else " Prescribe with caution."
    return SafetyWarning(
        kind="allergy",
        severity=severity,
        drug=item.name,
        substances=substances,
        rule=rule,
        message_fr=f"{head_fr} ({item.name}) : {rule}.{extra[0]}{advice_fr}",
        message_en=f"{head_en} ({item.name}): {rule_en}.{extra[1]}{advice_en}",
        source=source or "Carnet, table des familles allergiques et réactions croisées",
        source_date=source_date or fam.REVIEWED,
    )


_TextTable = Mapping[str, tuple[tuple[tuple[str, ...], str, str], ...]]


def _text_words(text: str) -> tuple[str, ...]:
    return tuple(normalise(text).replace("-", " ").replace("'", " ").replace("/", " ").split())


@cache
def _text_table(data_dir: Path | None) -> _TextTable:
    """First word → (words, key, what) for the free-text allergy scan, longest first."""
    thesaurus, bdpm = load_thesaurus(data_dir), load_bdpm(data_dir)
    rows: list[tuple[tuple[str, ...], str, str]] = []
    for alias, keys in fam.family_aliases().items():
        rows.extend((_text_words(alias), key, "family") for key in keys)
    rows.extend((_text_words(c), c, "class") for c in thesaurus.classes)
    rows.extend((_text_words(k), k, "substance") for k in bdpm.substances if len(k) >= 5)
    table: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
    for row in rows:
        if row[0]:
            table.setdefault(row[0][0], []).append(row)
    return MappingProxyType(
        {k: tuple(sorted(v, key=lambda r: -len(r[0]))) for k, v in table.items()}
    )


def _scan_text(text: str, data_dir: Path | None) -> dict[str, list[str]]:
    """Families, ANSM classes and substances a free-text allergy names, word for word and
    longest first ("Allergie à la pénicilline" → pénicillines; "sulfamides hypoglycémiants"
    is that ANSM class, not the antibacterial sulfonamides). Product names are not guessed."""
    words = tuple(w.strip(".,;:()[]!?") for w in _text_words(text))
    table = _text_table(data_dir)
    found: dict[str, list[str]] = {}
    i = 0
    while i < len(words):
        for seq, key, what in table.get(words[i], ()):
            if words[i : i + len(seq)] == seq:
                if key not in found.setdefault(what, []):
                    found[what].append(key)
                i += len(seq) - 1
                break
        i += 1
    return found


# --- interactions -----------------------------------------------------------------------------


def _interaction_warnings(
    items: Sequence[Prescribed],
    current: Sequence[tuple[str, str]],
    thesaurus: Thesaurus,
    bdpm: Bdpm,
) -> list[SafetyWarning]:
    out: list[SafetyWarning] = []
    for i, item in enumerate(items):
        partners = [*current]
        for other in items[i + 1 :]:
            partners.extend((s, other.name) for s in other.substances)
        for substance in item.substances:
            for partner, partner_name in partners:
                for hit in thesaurus.interactions_between(substance, partner):
                    out.append(_interaction(item, substance, partner, partner_name, hit, bdpm))
    return out


def _interaction(
    item: Prescribed,
    substance: str,
    partner: str,
    partner_name: str,
    hit: InteractionHit,
    bdpm: Bdpm,
) -> SafetyWarning:
    severity = WarningSeverity.of(hit.severity)
    entry = hit.interaction
    label, partner_label = _label(substance, bdpm), _label(partner, bdpm)

    members = [
        (_label(sub, bdpm), side)
        for sub, side, level in (
            (hit.substance_a, entry.a, hit.level_a),
            (hit.substance_b, entry.b, hit.level_b),
        )
        if level == "class"
    ]
    matched_fr = "; ".join(f"{sub} : classe {side}" for sub, side in members) or "substances"
    matched_en = "; ".join(f"{sub}: class {side}" for sub, side in members) or "substances"
    shown = _shown(label, item.name)
    partner_shown = _shown(partner_label, partner_name)
    conduct = next((text for level, text in hit.applicable if level == hit.severity and text), "")
    others = [lvl for lvl, _ in entry.severities if lvl != hit.severity]
    context_fr = (
        " Autres niveaux selon le contexte : " + ", ".join(lvl.label for lvl in others) + "."
        if others
        else ""
    )
    context_en = (
        " Other levels depending on context: " + ", ".join(lvl.label_en for lvl in others) + "."
        if others
        else ""
    )
    conduct_fr = f" Conduite : {' '.join(conduct.split())}" if conduct else ""
    return SafetyWarning(
        kind="interaction",
        severity=severity,
        drug=item.name,
        substances=(substance, partner),
        rule=entry.rule,
        message_fr=f"{severity.label} : {shown} + {partner_shown} — thésaurus ANSM "
        f"« {entry.rule} » ({matched_fr}). {' '.join(entry.mechanism.split())}"
        f"{conduct_fr}{context_fr}",
        message_en=f"{severity.label_en}: {shown} + {partner_shown} — ANSM thesaurus entry "
        f"'{entry.rule}' ({matched_en}). Mechanism (French, ANSM): "
        f"{' '.join(entry.mechanism.split())}{context_en}",
        source=hit.source,
        source_date=hit.edition,
        conditions=entry.severities,
        mechanism=entry.mechanism,
    )


__all__ = [
    "Allergy",
    "Kind",
    "Prescribed",
    "SafetyReport",
    "SafetyWarning",
    "Treatment",
    "Warning",
    "WarningSeverity",
    "check",
    "check_prescription",
]


@dataclass(frozen=True)
class EarlierExam:
    """The same exam, done recently (within the operator's window): when, and by whom. Both a
    result provided as a document and one entered in the profile are warned of in these
    words."""

    done_on: datetime
    by: str

    def sentence(self, lang: str = "fr") -> str:
        if lang == "fr":
            return f"Le même examen a été fait le {self.done_on:%d/%m/%Y}, par {self.by}."
        return f"The same exam was done on {self.done_on:%Y-%m-%d}, by {self.by}."
