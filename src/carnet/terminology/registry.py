"""The process-wide terminology registry, loaded lazily once from the shipped files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from carnet.terminology.svs import ValueSet, load_value_set

DATA_DIR = Path(__file__).parent / "data"
JDV_DIR = DATA_DIR / "ans-jdv"

PROFESSION_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
)
SPECIALTY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)
FACILITY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
)


@dataclass(frozen=True)
class Terminology:
    jdv_dir: Path = JDV_DIR

    def value_set(self, name: str) -> ValueSet:
        return _load(self.jdv_dir, name)

    @cached_property
    def professions(self) -> dict[str, str]:
        """TRE_G15 profession code → French label (from JDV_J01 ``G15_xx`` entries)."""
        out: dict[str, str] = {}
        for code, concept in self.value_set("JDV_J01_XdsAuthorSpecialty_CISIS").concepts.items():
            if code.startswith("G15_") and "/" not in code:
                out[code[4:]] = concept.display
        return out

    @cached_property
    def specialties(self) -> dict[str, str]:
        """Specialty code (e.g. ``SM54``) → label, for physicians and others (JDV_J01)."""
        out: dict[str, str] = {}
        for code, concept in self.value_set("JDV_J01_XdsAuthorSpecialty_CISIS").concepts.items():
            if code.startswith("G15_") and "/" in code:
                label = concept.display.split(" - ", 1)[-1]
                out.setdefault(code.split("/", 1)[1], label)
        return out

    @cached_property
    def facility_types(self) -> dict[str, str]:
        """Healthcare facility / activity sector code (``SA01``…) → label (JDV_J02)."""
        vs = self.value_set("JDV_J02_XdsHealthcareFacilityTypeCode_CISIS")
        return {code: c.display for code, c in vs.concepts.items()}

    def profession_label(self, code: str | None) -> str:
        if not code:
            return ""
        return self.professions.get(code, code)


@cache
def _load(jdv_dir: Path, name: str) -> ValueSet:
    for suffix in (".xml", ".csv"):
        path = jdv_dir / f"{name}{suffix}"
        if path.exists():
            return load_value_set(path)
    raise KeyError(f"value set {name} is not shipped")


@cache
def terminology() -> Terminology:
    return Terminology()
