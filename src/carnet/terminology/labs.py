"""Lab tests, vital signs, blood groups and childhood vaccines, for the profile forms.

- Lab tests: the LOINC codes of the ANS "socle commun EDS" lab value set
  (``data/loinc/loinc-lab-common-eds.csv``: code and LOINC long name, in English). French
  search words are ours (:data:`FRENCH_WORDS`), so that "créatinine" or "plaquettes" find the
  test; they are search aids, not official French LOINC labels.
- Vital signs (``JDV_SignesVitaux_CISIS``, LOINC), blood groups (``JDV_GroupeRhesus_CISIS``,
  SNOMED CT) and the vaccines of the child health certificates (``JDV_VaccinCSE8/9/24_CISIS``,
  ATC), from the shipped ANS value sets, with their French labels and FHIR system URIs.

Read once per process; lookups are dictionary accesses.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from carnet.terminology.drugs import DataSource, normalise
from carnet.terminology.registry import DATA_DIR, terminology
from carnet.terminology.svs import Concept

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
LAB_FILE = DATA_DIR / "loinc" / "loinc-lab-common-eds.csv"

_SYSTEMS: Mapping[str, str] = MappingProxyType(
    {
        "2.16.840.1.113883.6.1": LOINC,
        "2.16.840.1.113883.6.96": SNOMED,
        "2.16.840.1.113883.6.73": ATC,
    }
)

LOINC_NOTICE = (
    "This material contains content from LOINC (http://loinc.org). LOINC is copyright © "
    "Regenstrief Institute, Inc. and the Logical Observation Identifiers Names and Codes "
    "(LOINC) Committee and is available at no cost under the license at "
    "http://loinc.org/license. LOINC® is a registered United States trademark of "
    "Regenstrief Institute, Inc."
)
SNOMED_NOTICE = (
    "This material includes SNOMED Clinical Terms® (SNOMED CT®), used by permission of "
    "SNOMED International. SNOMED CT® is a registered trademark of SNOMED International. "
    "Use in France is covered by France's SNOMED International membership (ANS, national "
    "release centre)."
)

FRENCH_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "22664-7": "urée urémie",
        "14682-9": "créatinine créatininémie",
        "2160-0": "créatinine créatininémie",
        "62238-1": "débit de filtration glomérulaire DFG CKD-EPI fonction rénale",
        "77147-7": "débit de filtration glomérulaire DFG MDRD fonction rénale",
        "35591-7": "clairance de la créatinine Cockcroft fonction rénale",
        "6690-2": "leucocytes globules blancs NFS numération",
        "718-7": "hémoglobine NFS numération",
        "4544-3": "hématocrite NFS numération",
        "789-8": "hématies globules rouges érythrocytes NFS numération",
        "30428-7": "VGM volume globulaire moyen NFS",
        "777-3": "plaquettes numération plaquettaire NFS",
        "26499-4": "polynucléaires neutrophiles formule leucocytaire",
        "26474-7": "lymphocytes formule leucocytaire",
        "26449-9": "polynucléaires éosinophiles formule leucocytaire",
        "26484-6": "monocytes formule leucocytaire",
        "5894-1": "taux de prothrombine TP temps de Quick coagulation",
        "14979-9": "temps de céphaline activée TCA coagulation",
        "13488-2": "temps de céphaline activée TCA témoin coagulation",
        "63561-5": "temps de céphaline activée TCA ratio coagulation",
        "69423-2": "indice de Rosner coagulation",
        "1920-8": "ASAT transaminases TGO bilan hépatique",
        "30239-8": "ASAT transaminases TGO bilan hépatique",
        "1742-6": "ALAT transaminases TGP bilan hépatique",
        "1743-4": "ALAT transaminases TGP bilan hépatique",
        "2324-2": "gamma GT gamma-glutamyltransférase GGT bilan hépatique",
        "6768-6": "phosphatases alcalines PAL bilan hépatique",
        "14631-6": "bilirubine totale bilan hépatique",
        "29760-6": "bilirubine conjuguée bilan hépatique",
        "14749-6": "glucose glycémie",
        "40193-5": "glucose glycémie à jeun préprandiale",
        "4548-4": "hémoglobine glyquée HbA1c",
        "59261-8": "hémoglobine glyquée HbA1c IFCC",
        "50197-3": "temps de céphaline activée TCA bilan coagulation",
    }
)


@dataclass(frozen=True)
class LabTest:
    code: str
    display: str  # LOINC long name (English)
    system: str = LOINC
    words_fr: str = ""  # French search words (ours, not a LOINC label)


@dataclass(frozen=True)
class _Labs:
    tests: Mapping[str, LabTest]
    search_keys: tuple[tuple[str, str], ...]  # (normalised searchable text, code), file order


@cache
def _labs() -> _Labs:
    text = LAB_FILE.read_text(encoding="utf-8-sig")
    tests: dict[str, LabTest] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        code, name = (row.get("loinc_code") or "").strip(), (row.get("name_en") or "").strip()
        if not code or not name:
            raise ValueError(f"{LAB_FILE.name} line {line}: a code and a name are required")
        tests[code] = LabTest(code, name, LOINC, FRENCH_WORDS.get(code, ""))
    keys = tuple((normalise(f"{t.code} {t.display} {t.words_fr}"), t.code) for t in tests.values())
    return _Labs(MappingProxyType(tests), keys)


def lab_tests() -> list[LabTest]:
    """Every shipped lab test, in file order."""
    return list(_labs().tests.values())


def lab_test(code: str) -> LabTest | None:
    return _labs().tests.get(code.strip())


def search_lab_tests(text: str, limit: int = 20) -> list[LabTest]:
    """Tests whose code, LOINC name or French search words contain a word starting with
    each word of ``text`` (accents and case ignored): "créat", "hba1c", "plaquettes"."""
    tokens = normalise(text).replace("-", " ").split()
    if not tokens or limit <= 0:
        return []
    labs = _labs()
    out: list[LabTest] = []
    for searchable, code in labs.search_keys:
        words = searchable.replace("-", " ").replace("/", " ").replace("[", " ").split()
        if all(any(w.startswith(t) for w in words) for t in tokens):
            out.append(labs.tests[code])
            if len(out) >= limit:
                break
    return out


def _concepts(*names: str) -> list[Concept]:
    out: dict[tuple[str, str], Concept] = {}
    for name in names:
        for c in terminology().value_set(name).concepts.values():
            system = _SYSTEMS.get(c.system, c.system)
            out.setdefault((system, c.code), Concept(c.code, system, c.display))
    return list(out.values())


@cache
def _vital_signs() -> tuple[Concept, ...]:
    return tuple(_concepts("JDV_SignesVitaux_CISIS"))


@cache
def _blood_groups() -> tuple[Concept, ...]:
    return tuple(_concepts("JDV_GroupeRhesus_CISIS"))


@cache
def _vaccines() -> tuple[Concept, ...]:
    return tuple(_concepts("JDV_VaccinCSE8_CISIS", "JDV_VaccinCSE9_CISIS", "JDV_VaccinCSE24_CISIS"))


def vital_signs() -> list[Concept]:
    """The ANS vital signs (LOINC codes, French labels: "Poids", "Taille", "Saturation en O2"…)."""
    return list(_vital_signs())


def blood_groups() -> list[Concept]:
    """ABO / RhD blood groups (SNOMED CT codes, French labels)."""
    return list(_blood_groups())


def vaccines() -> list[Concept]:
    """Vaccines of the 8th-day, 9th- and 24th-month child health certificates (ATC codes,
    French labels), each once."""
    return list(_vaccines())


def data_sources() -> list[DataSource]:
    """Credits of the lab and value-set data (for the "sources" page)."""
    return [
        DataSource(
            name="LOINC — analyses de biologie courantes (socle commun EDS de l'ANS)",
            publisher="Regenstrief Institute; sélection ANS",
            date="",
            licence="LOINC licence (https://loinc.org/license), redistribution with notice",
            notice=LOINC_NOTICE,
            url="https://loinc.org",
        ),
        DataSource(
            name="Jeux de valeurs du CI-SIS (NOS)",
            publisher="ANS (Agence du Numérique en Santé)",
            date="2025-02-19",
            licence="Informations publiques, réutilisation libre avec mention « ANS – NOS »",
            notice="Source : ANS – Nomenclatures des objets de santé (NOS).",
            url="https://mos.esante.gouv.fr/NOS/",
        ),
        DataSource(
            name="SNOMED CT (groupes sanguins)",
            publisher="SNOMED International",
            date="",
            licence="Affiliate licence; France is a member country (ANS)",
            notice=SNOMED_NOTICE,
            url="https://www.snomed.org",
        ),
    ]


__all__ = [
    "ATC",
    "FRENCH_WORDS",
    "LOINC",
    "LOINC_NOTICE",
    "SNOMED",
    "SNOMED_NOTICE",
    "LabTest",
    "blood_groups",
    "data_sources",
    "lab_test",
    "lab_tests",
    "search_lab_tests",
    "vaccines",
    "vital_signs",
]
