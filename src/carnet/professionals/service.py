"""Directory use cases: add or update structures and professionals, import them in bulk from
CSV or JSON (the RPPS extract an operator receives), look them up."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.access import Actor, ActorKind
from carnet.access.gate import actor_fields
from carnet.audit import service as audit
from carnet.errors import CarnetError, Forbidden, Invalid, NotFound
from carnet.identity import (
    parse_finess,
    parse_ps_idnat,
    parse_rpps,
    parse_siret,
    parse_struct_idnat,
    ps_idnat_from_rpps,
)
from carnet.professionals.models import Professional, Role, Structure, StructureKind
from carnet.terminology import terminology

ROLES = {r.value for r in Role}
KINDS = {k.value for k in StructureKind}


def _require_operator(actor: Actor) -> None:
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can change the directory.")


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def upsert_structure(session: Session, actor: Actor, row: Mapping[str, Any]) -> Structure:
    _require_operator(actor)
    struct_idnat = _text(row, "struct_idnat")
    finess = _text(row, "finess")
    siret = _text(row, "siret")
    if finess:
        finess = parse_finess(finess, field="finess")
    if siret:
        siret = parse_siret(siret, field="siret")
    if not struct_idnat:
        if finess:
            struct_idnat = "1" + finess
        elif siret:
            struct_idnat = "3" + siret
        else:
            raise Invalid("A structure needs struct_idnat, finess or siret.", field="struct_idnat")
    struct_idnat = parse_struct_idnat(struct_idnat, field="struct_idnat").value
    name = _text(row, "name")
    if not name:
        raise Invalid("A structure needs a name.", field="name")
    kind = _text(row, "kind") or StructureKind.OTHER.value
    if kind not in KINDS:
        raise Invalid(
            f"Unknown structure kind; expected one of {', '.join(sorted(KINDS))}.", field="kind"
        )
    facility = _text(row, "facility_type_code")
    if facility and facility not in terminology().facility_types:
        raise Invalid("Unknown facility type code (JDV_J02).", field="facility_type_code")
    structure = find_structure(session, struct_idnat)
    created = structure is None
    if structure is None:
        structure = Structure(struct_idnat=struct_idnat, name=name, kind=kind)
        session.add(structure)
    structure.name, structure.kind = name, kind
    structure.finess, structure.siret = finess, siret
    structure.facility_type_code = facility
    structure.city = _text(row, "city")
    session.flush()
    # The directory feeds access decisions (a structure's kind can exclude its staff): every
    # change is traced on the system chain, with what the decisions read.
    _trail(
        session,
        actor,
        "directory.structure",
        struct_idnat,
        created=created,
        kind=kind,
        facility_type=facility or "-",
    )
    return structure


def upsert_professional(session: Session, actor: Actor, row: Mapping[str, Any]) -> Professional:
    _require_operator(actor)
    rpps = _text(row, "rpps")
    ps_idnat = _text(row, "ps_idnat")
    if rpps:
        rpps = parse_rpps(rpps, field="rpps")
        ps_idnat = ps_idnat or ps_idnat_from_rpps(rpps)
    if not ps_idnat:
        raise Invalid("A professional needs rpps or ps_idnat.", field="rpps")
    ps_idnat = parse_ps_idnat(ps_idnat, field="ps_idnat").value
    family, given = _text(row, "family_name"), _text(row, "given_name")
    if not family or not given:
        raise Invalid("A professional needs family_name and given_name.", field="family_name")
    profession = _text(row, "profession_code")
    if not profession or profession not in terminology().professions:
        raise Invalid(
            "Unknown profession code (TRE_G15, e.g. 10 médecin, 21 pharmacien).",
            field="profession_code",
        )
    specialty = _text(row, "specialty_code")
    if specialty and specialty not in terminology().specialties:
        raise Invalid(
            "Unknown specialty code (e.g. SM54 médecine générale).", field="specialty_code"
        )
    roles = (_text(row, "roles") or "").replace(",", " ").split()
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise Invalid(
            f"Unknown role(s): {', '.join(unknown)}; expected {', '.join(sorted(ROLES))}.",
            field="roles",
        )
    structure_id: uuid.UUID | None = None
    struct_ref = _text(row, "structure")
    if struct_ref:
        structure = find_structure(session, struct_ref)
        if structure is None:
            raise Invalid("Unknown structure (give its struct_idnat).", field="structure")
        structure_id = structure.id
    professional = find_professional(session, ps_idnat)
    created = professional is None
    if professional is None:
        professional = Professional(
            ps_idnat=ps_idnat, family_name=family, given_name=given, profession_code=profession
        )
        session.add(professional)
    professional.rpps = rpps
    professional.adeli = _text(row, "adeli")
    professional.family_name, professional.given_name = family, given
    professional.title = _text(row, "title")
    professional.profession_code = profession
    professional.specialty_code = specialty
    professional.roles = " ".join(sorted(set(roles)))
    professional.structure_id = structure_id
    professional.email = _text(row, "email")
    professional.active = (_text(row, "active") or "true").lower() not in ("false", "0", "no")
    session.flush()
    _trail(
        session,
        actor,
        "directory.professional",
        ps_idnat,
        created=created,
        profession=profession,
        specialty=specialty or "-",
        roles=",".join(sorted(set(roles))) or "-",
        active=professional.active,
        structure=struct_ref or "-",
    )
    return professional


def _trail(session: Session, actor: Actor, action: str, resource_id: str, **detail: object) -> None:
    audit.append(
        session,
        patient_id=None,
        action=action,
        resource_type="Organization" if action == "directory.structure" else "Practitioner",
        resource_id=resource_id,
        detail=" ".join(
            f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in detail.items()
        ),
        **actor_fields(actor),
    )


def find_professional(session: Session, ps_idnat: str) -> Professional | None:
    return session.execute(
        select(Professional).where(Professional.ps_idnat == ps_idnat)
    ).scalar_one_or_none()


def get_professional(session: Session, professional_id: uuid.UUID) -> Professional:
    professional = session.get(Professional, professional_id)
    if professional is None:
        raise NotFound("No such professional in the directory.")
    return professional


def find_structure(session: Session, struct_idnat: str) -> Structure | None:
    return session.execute(
        select(Structure).where(Structure.struct_idnat == struct_idnat)
    ).scalar_one_or_none()


def search_professionals(session: Session, text: str, *, limit: int = 20) -> list[Professional]:
    """Directory search by name or RPPS, for the patient's authorization screens."""
    needle = f"%{text.strip().lower()}%"
    query = (
        select(Professional)
        .where(Professional.active.is_(True))
        .where(
            (Professional.family_name.ilike(needle))
            | (Professional.given_name.ilike(needle))
            | (Professional.rpps == text.strip())
        )
        .order_by(Professional.family_name, Professional.given_name)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[str] = field(default_factory=list)


def parse_rows(content: str, fmt: str) -> list[dict[str, Any]]:
    if fmt == "json":
        data = json.loads(content)
        if isinstance(data, dict):
            data = data.get("items", [])
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise Invalid('JSON import must be a list of objects (or {"items": [...]}).')
        return data
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content)))
    raise Invalid("Format must be csv or json.", field="format")


def import_directory(
    session: Session, actor: Actor, kind: str, rows: Iterable[Mapping[str, Any]]
) -> ImportReport:
    """Import structures or professionals; all-or-nothing: any bad row rejects the file, and
    the report names every bad row and field."""
    _require_operator(actor)
    upsert = upsert_structure if kind == "structures" else upsert_professional
    report = ImportReport()
    whole = session.begin_nested()  # all-or-nothing even inside a larger transaction
    for number, row in enumerate(rows, start=1):
        try:
            with session.begin_nested():
                upsert(session, actor, row)
            report.imported += 1
        except CarnetError as error:
            where = f" ({error.field})" if error.field else ""
            report.errors.append(f"row {number}{where}: {error.message}")
    if report.errors:
        whole.rollback()
        raise Invalid("Import rejected, nothing was saved:\n" + "\n".join(report.errors))
    whole.commit()
    return report
