"""Reader for IHE SVS ``RetrieveValueSetResponse`` files (the ANS NOS "jeux de valeurs")."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

SVS_NS = "{urn:ihe:iti:svs:2008}"


@dataclass(frozen=True)
class Concept:
    code: str
    system: str
    display: str


@dataclass(frozen=True)
class ValueSet:
    name: str
    oid: str
    updated: str
    concepts: dict[str, Concept] = field(default_factory=dict)

    def __contains__(self, code: object) -> bool:
        return code in self.concepts

    def display(self, code: str) -> str | None:
        concept = self.concepts.get(code)
        return concept.display if concept else None


def load_value_set(path: Path) -> ValueSet:
    if path.suffix == ".csv":
        return _load_csv(path)
    root = ET.parse(path).getroot()  # noqa: S314 - trusted shipped file
    vs = root.find(f"{SVS_NS}ValueSet")
    if vs is None:
        raise ValueError(f"{path.name}: not an SVS value set")
    concepts: dict[str, Concept] = {}
    for c in vs.iter(f"{SVS_NS}Concept"):
        code = c.get("code") or ""
        concepts[code] = Concept(code, c.get("codeSystem") or "", c.get("displayName") or "")
    name = path.stem
    return ValueSet(name, vs.get("id") or "", (vs.get("dateMaj") or "")[:8], concepts)


def _load_csv(path: Path) -> ValueSet:
    concepts: dict[str, Concept] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            lower = {k.lower(): v for k, v in row.items() if k}
            code = lower.get("code") or ""
            system = lower.get("system") or lower.get("codesystem") or ""
            display = lower.get("display") or lower.get("displayname") or ""
            concepts[code] = Concept(code, system, display)
    return ValueSet(path.stem, "", "", concepts)
