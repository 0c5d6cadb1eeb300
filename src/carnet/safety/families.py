"""Allergy families and cross-reactivity: the small table behind class-level allergy checks.

The ANSM thesaurus classes are *interaction* classes ("médicaments sédatifs",
"hyperkaliémiants"): sharing one says nothing about allergy, so the allergy check never uses
them directly. It uses this table instead: a few drug families in which an allergy to one
member is, in current allergology practice, a reason to avoid or to be careful with another.
Everything else (two drugs that merely share an interaction class) is not an allergy alarm.

A substance belongs to a family when the thesaurus index puts it in one of the family's ANSM
classes (exact spellings of the 2020 index), when it is listed by name, or when its name
carries the family's WHO INN stem (``cef-`` cephalosporins, ``-cilline`` penicillins,
``-penem`` carbapenems): the stems keep the table right for molecules newer than the index.

Severities (reasoning in ``docs/safety.md``):

- **same substance**, or a member of a family the allergy names as a class ("allergie aux
  pénicillines"): ``CONTRE_INDICATION``, labelled "allergie";
- **another member of the same family**: the family's ``within`` severity — contra-indicated
  for penicillins, carbapenems and antibacterial sulfonamides (one allergy label covers the
  class); a precaution for cephalosporins (cross-reactivity follows the R1 side chain, not the
  class), NSAIDs (cross-intolerance through COX-1 inhibition) and iodinated contrast media;
- **across families** (:data:`CROSS_REACTIONS`) and **shared R1 side chains**
  (:data:`SIDE_CHAINS`): ``PRECAUTION_EMPLOI``, labelled "réaction croisée possible".

Deliberately absent, because the evidence says there is no clinically relevant
cross-reactivity: penicillins → aztreonam (except through the ceftazidime side chain, below),
antibacterial sulfonamides → non-antibacterial ones (furosemide, thiazides, sulfonylureas,
celecoxib), NSAIDs → paracetamol, iodinated contrast media → povidone-iodine or seafood.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from carnet.terminology.drugs import Severity, normalise


@dataclass(frozen=True)
class Family:
    key: str
    label: str  # French plural, as in a sentence: "allergie aux {label}"
    label_en: str
    member: str  # French, "amoxicilline est {member}"
    within: Severity  # allergy to one member, another member prescribed
    ansm_classes: frozenset[str] = frozenset()  # exact index spellings
    substances: frozenset[str] = frozenset()  # normalised INNs
    prefixes: tuple[str, ...] = ()  # WHO INN stems
    suffixes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # normalised names an allergy record may use for the class
    note: str = ""

    def contains(self, substance: str, classes: frozenset[str]) -> bool:
        if substance in self.substances or classes & self.ansm_classes:
            return True
        first = substance.split(" ", 1)[0]
        return first.startswith(self.prefixes) or first.endswith(self.suffixes)


@dataclass(frozen=True)
class CrossReaction:
    allergy: str  # family key of the allergy
    drug: str  # family key of the prescribed drug
    note: str  # French, shown in the warning
    note_en: str


@dataclass(frozen=True)
class SideChain:
    """Substances with an identical or near-identical R1 side chain: an allergy to one is a
    reason for care with the others even across families."""

    name: str
    substances: frozenset[str]
    note: str
    note_en: str


_P, _CI = Severity.PRECAUTION_EMPLOI, Severity.CONTRE_INDICATION

REVIEWED = "2026-11-22"
"""When the table and its references (docs/safety.md) were last reviewed."""

FAMILIES: tuple[Family, ...] = (
    Family(
        "penicillines",
        "pénicillines",
        "penicillins",
        "une pénicilline",
        within=_CI,
        ansm_classes=frozenset({"pénicillines", "pénicillines A", "pipéracilline/tazobactam"}),
        substances=frozenset(
            {
                "amoxicilline",
                "ampicilline",
                "bacampicilline",
                "pivampicilline",
                "benzylpenicilline",
                "benzathine benzylpenicilline",
                "benethamine-penicilline",
                "phenoxymethylpenicilline",
                "benzathine phenoxymethylpenicilline",
                "penicilline v",
                "penicilline g",
                "cloxacilline",
                "dicloxacilline",
                "flucloxacilline",
                "oxacilline",
                "piperacilline",
                "ticarcilline",
                "temocilline",
                "mecillinam",
                "pivmecillinam",
            }
        ),
        suffixes=("cilline", "cillinam"),
        aliases=("penicilline", "penicillines", "penicillin", "penicillins"),
        note="One penicillin allergy label covers the class (shared β-lactam/thiazolidine core).",
    ),
    Family(
        "cephalosporines",
        "céphalosporines",
        "cephalosporins",
        "une céphalosporine",
        within=_P,
        substances=frozenset(
            {
                "cefaclor",
                "cefadroxil",
                "cefalexine",
                "cefalotine",
                "cefamandole",
                "cefatrizine",
                "cefazoline",
                "cefepime",
                "cefiderocol",
                "cefixime",
                "cefotaxime",
                "cefotetan",
                "cefotiam",
                "cefoxitine",
                "cefpirome",
                "cefpodoxime",
                "cefprozil",
                "cefradine",
                "ceftaroline",
                "ceftazidime",
                "ceftobiprole",
                "ceftolozane",
                "ceftriaxone",
                "cefuroxime",
                "latamoxef",
            }
        ),
        prefixes=("cef", "ceph"),
        aliases=("cephalosporine", "cephalosporines", "cephalosporin", "cephalosporins"),
        note="Cross-reactivity between cephalosporins follows the R1 side chain, not the class.",
    ),
    Family(
        "carbapenemes",
        "carbapénèmes",
        "carbapenems",
        "un carbapénème",
        within=_CI,
        ansm_classes=frozenset({"pénems"}),
        substances=frozenset({"imipenem", "meropenem", "ertapenem", "doripenem"}),
        suffixes=("penem",),
        aliases=("carbapeneme", "carbapenemes", "penems", "carbapenem", "carbapenems"),
    ),
    Family(
        "monobactames",
        "monobactames",
        "monobactams",
        "un monobactame",
        within=_CI,
        substances=frozenset({"aztreonam"}),
        aliases=("monobactame", "monobactames", "monobactam", "monobactams"),
        note="Aztreonam does not cross-react with penicillins or most cephalosporins; "
        "it shares its R1 side chain with ceftazidime (see SIDE_CHAINS).",
    ),
    Family(
        "sulfamides-antibacteriens",
        "sulfamides antibactériens",
        "sulfonamide antibacterials",
        "un sulfamide antibactérien",
        within=_CI,
        # Not the index class "sulfaméthoxazole + triméthoprime": trimethoprim is no sulfonamide.
        ansm_classes=frozenset({"sulfamides antibactériens"}),
        substances=frozenset(
            {
                "sulfamethoxazole",
                "sulfadiazine",
                "sulfadiazine argentique",
                "sulfadoxine",
                "sulfamethizol",
                "sulfafurazol",
                "sulfaguanidine",
                "sulfacetamide",
                "sulfasalazine",  # releases sulfapyridine, an arylamine sulfonamide
            }
        ),
        aliases=(
            "sulfamides",
            "sulfamide",
            "sulfamides antibacteriens",
            "sulfonamides",
            "sulfonamide antibiotics",
            "sulfa",
        ),
        note="The N4 arylamine of antibacterial sulfonamides drives the allergy; "
        "non-antibacterial sulfonamides lack it and are not flagged.",
    ),
    Family(
        "ains",
        "anti-inflammatoires non stéroïdiens",
        "NSAIDs",
        "un anti-inflammatoire non stéroïdien",
        within=_P,
        ansm_classes=frozenset({"anti-inflammatoires non stéroïdiens"}),
        substances=frozenset(
            {
                "acide acetylsalicylique",
                "ketorolac",
                "dexketoprofene",
                "dexketoprofene trometamol",
                "nepafenac",
                "bromfenac",
            }
        ),
        suffixes=("profene", "fenac", "oxicam", "coxib"),
        aliases=(
            "ains",
            "anti-inflammatoires non steroidiens",
            "anti-inflammatoire non steroidien",
            "nsaid",
            "nsaids",
        ),
        note="Most NSAID hypersensitivity is cross-intolerance through COX-1 inhibition; "
        "selective COX-2 inhibitors are usually tolerated, paracetamol is not flagged.",
    ),
    Family(
        "produits-de-contraste-iodes",
        "produits de contraste iodés",
        "iodinated contrast media",
        "un produit de contraste iodé",
        within=_P,
        ansm_classes=frozenset({"produits de contraste iodés"}),
        substances=frozenset(
            {
                "iohexol",
                "iopamidol",
                "iomeprol",
                "iobitridol",
                "iodixanol",
                "ioversol",
                "iopromide",
                "acide ioxaglique",
                "acide ioxitalamique",
                "acide amidotrizoique",
            }
        ),
        aliases=(
            "produits de contraste iodes",
            "produit de contraste iode",
            "iodinated contrast media",
            "contrast media",
        ),
        note="Cross-reactivity between contrast agents is possible (change agent, "
        "premedicate, allergology advice); povidone-iodine and seafood are unrelated.",
    ),
)

GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"beta-lactamines": ("penicillines", "cephalosporines", "carbapenemes", "monobactames")}
)
"""Allergy labels that name several families at once."""

GROUP_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "beta-lactamines": "beta-lactamines",
        "betalactamines": "beta-lactamines",
        "beta lactamines": "beta-lactamines",
        "beta-lactamine": "beta-lactamines",
        "beta-lactams": "beta-lactamines",
        "beta-lactam": "beta-lactamines",
    }
)

CROSS_REACTIONS: tuple[CrossReaction, ...] = (
    CrossReaction(
        "penicillines",
        "cephalosporines",
        "réactivité croisée pénicillines–céphalosporines faible (de l'ordre de 1 à 2 %), "
        "plus élevée si la chaîne latérale R1 est commune",
        "low penicillin–cephalosporin cross-reactivity (about 1–2 %), "
        "higher with a shared R1 side chain",
    ),
    CrossReaction(
        "cephalosporines",
        "penicillines",
        "réactivité croisée céphalosporines–pénicillines faible, "
        "plus élevée si la chaîne latérale R1 est commune",
        "low cephalosporin–penicillin cross-reactivity, higher with a shared R1 side chain",
    ),
    CrossReaction(
        "penicillines",
        "carbapenemes",
        "réactivité croisée pénicillines–carbapénèmes très faible (< 1 %)",
        "very low penicillin–carbapenem cross-reactivity (< 1 %)",
    ),
    CrossReaction(
        "carbapenemes",
        "penicillines",
        "réactivité croisée carbapénèmes–pénicillines très faible (< 1 %)",
        "very low carbapenem–penicillin cross-reactivity (< 1 %)",
    ),
    CrossReaction(
        "cephalosporines",
        "carbapenemes",
        "réactivité croisée céphalosporines–carbapénèmes très faible (< 1 %)",
        "very low cephalosporin–carbapenem cross-reactivity (< 1 %)",
    ),
    CrossReaction(
        "carbapenemes",
        "cephalosporines",
        "réactivité croisée carbapénèmes–céphalosporines très faible",
        "very low carbapenem–cephalosporin cross-reactivity",
    ),
)

SIDE_CHAINS: tuple[SideChain, ...] = (
    SideChain(
        "aminopénicillines",
        frozenset(
            {
                "amoxicilline",
                "ampicilline",
                "bacampicilline",
                "pivampicilline",
                "cefalexine",
                "cefadroxil",
                "cefaclor",
                "cefradine",
                "cefatrizine",
                "cefprozil",
            }
        ),
        "chaîne latérale R1 identique ou proche (aminopénicillines / céphalosporines de "
        "1re génération) : risque de réaction croisée plus élevé",
        "identical or similar R1 side chain (aminopenicillins / first-generation "
        "cephalosporins): higher cross-reactivity risk",
    ),
    SideChain(
        "aztréonam",
        frozenset({"aztreonam", "ceftazidime", "cefiderocol"}),
        "chaîne latérale R1 identique (aztréonam / ceftazidime / céfidérocol)",
        "identical R1 side chain (aztreonam / ceftazidime / cefiderocol)",
    ),
)

_BY_KEY: Mapping[str, Family] = MappingProxyType({f.key: f for f in FAMILIES})


def family(key: str) -> Family | None:
    return _BY_KEY.get(key)


def families_of(substance: str, classes: frozenset[str] = frozenset()) -> tuple[Family, ...]:
    """The families a substance (normalised key, with its ANSM classes) belongs to."""
    return tuple(f for f in FAMILIES if f.contains(substance, classes))


@cache
def _aliases() -> Mapping[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for f in FAMILIES:
        for name in (*f.aliases, normalise(f.label), f.key, *map(normalise, f.ansm_classes)):
            out[normalise(name)] = (f.key,)
    for alias, group in GROUP_ALIASES.items():
        out[alias] = GROUPS[group]
    return MappingProxyType(out)


def families_named(name: str) -> tuple[Family, ...]:
    """The families an allergy label names ("pénicillines", "AINS", "bêta-lactamines")."""
    keys = _aliases().get(normalise(name).replace("β", "beta"), ())
    return tuple(_BY_KEY[k] for k in keys)


def family_aliases() -> Mapping[str, tuple[str, ...]]:
    """Every recognised allergy label (normalised) → the family keys it names."""
    return _aliases()


def cross_reaction(allergy: str, drug: str) -> CrossReaction | None:
    for rule in CROSS_REACTIONS:
        if rule.allergy == allergy and rule.drug == drug:
            return rule
    return None


def shared_side_chain(a: str, b: str) -> SideChain | None:
    """The side-chain group two different substances share, if any."""
    if a == b:
        return None
    for group in SIDE_CHAINS:
        if a in group.substances and b in group.substances:
            return group
    return None


__all__ = [
    "CROSS_REACTIONS",
    "FAMILIES",
    "GROUPS",
    "REVIEWED",
    "SIDE_CHAINS",
    "CrossReaction",
    "Family",
    "SideChain",
    "cross_reaction",
    "families_named",
    "families_of",
    "family",
    "family_aliases",
    "shared_side_chain",
]
