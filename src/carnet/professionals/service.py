"""Directory use cases: add or update structures and professionals, import them in bulk from
CSV or JSON (the RPPS extract an operator receives), look them up."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor, ActorKind
from carnet.access.gate import actor_fields
from carnet.audit import service as audit
from carnet.audit.transaction import audited_transaction
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


@dataclass(frozen=True)
class StructureEntry:
    """A structure as a directory row gives it, checked (``read_structure``)."""

    struct_idnat: str
    name: str
    kind: str
    finess: str | None
    siret: str | None
    facility: str | None
    city: str | None


@dataclass(frozen=True)
class ProfessionalEntry:
    """A professional as a directory row gives it, checked (``read_professional``)."""

    ps_idnat: str
    rpps: str | None
    adeli: str | None
    family: str
    given: str
    title: str | None
    profession: str
    specialty: str | None
    roles: tuple[str, ...]
    structure: str | None  # the struct_idnat of the structure, which must be in the directory
    email: str | None
    active: bool


def read_structure(row: Mapping[str, Any]) -> StructureEntry:
    """Check a structure row, without the database; ``Invalid`` names the field."""
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
    return StructureEntry(struct_idnat, name, kind, finess, siret, facility, _text(row, "city"))


def read_professional(row: Mapping[str, Any]) -> ProfessionalEntry:
    """Check a professional row, without the database (its structure is checked by the
    caller); ``Invalid`` names the field."""
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
    return ProfessionalEntry(
        ps_idnat=ps_idnat,
        rpps=rpps,
        adeli=_text(row, "adeli"),
        family=family,
        given=given,
        title=_text(row, "title"),
        profession=profession,
        specialty=specialty,
        roles=tuple(sorted(set(roles))),
        structure=_text(row, "structure"),
        email=_text(row, "email"),
        active=(_text(row, "active") or "true").lower() not in ("false", "0", "no"),
    )


def upsert_structure(session: Session, actor: Actor, row: Mapping[str, Any]) -> Structure:
    _require_operator(actor)
    entry = read_structure(row)
    structure = _save_structure(session, actor, entry, find_structure(session, entry.struct_idnat))
    session.flush()
    return structure


def upsert_professional(session: Session, actor: Actor, row: Mapping[str, Any]) -> Professional:
    _require_operator(actor)
    entry = read_professional(row)
    structure_id: uuid.UUID | None = None
    if entry.structure:
        structure = find_structure(session, entry.structure)
        if structure is None:
            raise _unknown_structure()
        structure_id = structure.id
    professional = _save_professional(
        session, actor, entry, structure_id, find_professional(session, entry.ps_idnat)
    )
    session.flush()
    return professional


def _unknown_structure() -> Invalid:
    return Invalid("Unknown structure (give its struct_idnat).", field="structure")


def _save_structure(
    session: Session, actor: Actor, entry: StructureEntry, structure: Structure | None
) -> Structure:
    created = structure is None
    if structure is None:
        structure = Structure(struct_idnat=entry.struct_idnat, name=entry.name, kind=entry.kind)
        session.add(structure)
    structure.name, structure.kind = entry.name, entry.kind
    structure.finess, structure.siret = entry.finess, entry.siret
    structure.facility_type_code = entry.facility
    structure.city = entry.city
    # The directory feeds access decisions (a structure's kind can exclude its staff): every
    # change is traced on the system chain, with what the decisions read.
    _trail(
        session,
        actor,
        "directory.structure",
        entry.struct_idnat,
        created=created,
        kind=entry.kind,
        facility_type=entry.facility or "-",
    )
    return structure


def _save_professional(
    session: Session,
    actor: Actor,
    entry: ProfessionalEntry,
    structure_id: uuid.UUID | None,
    professional: Professional | None,
) -> Professional:
    created = professional is None
    if professional is None:
        professional = Professional(
            ps_idnat=entry.ps_idnat,
            family_name=entry.family,
            given_name=entry.given,
            profession_code=entry.profession,
        )
        session.add(professional)
    professional.rpps = entry.rpps
    professional.adeli = entry.adeli
    professional.family_name, professional.given_name = entry.family, entry.given
    professional.title = entry.title
    professional.profession_code = entry.profession
    professional.specialty_code = entry.specialty
    professional.roles = " ".join(entry.roles)
    professional.structure_id = structure_id
    professional.email = entry.email
    professional.active = entry.active
    _trail(
        session,
        actor,
        "directory.professional",
        entry.ps_idnat,
        created=created,
        profession=entry.profession,
        specialty=entry.specialty or "-",
        roles=",".join(entry.roles) or "-",
        active=entry.active,
        structure=entry.structure or "-",
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


IMPORT_BATCH = 500  # rows written per transaction by ``import_directory``
IMPORT_ERRORS_SHOWN = 50  # problems named in a rejection; the rest are counted


class RowFile:
    """The rows of a directory file, read afresh on each pass over it (``import_directory``
    makes two): a CSV file is streamed, so that the national extract (millions of lines) is
    never held in memory; a JSON file is parsed once. A file that is not UTF-8 text, or not
    valid CSV or JSON, is refused with ``Invalid`` saying so (and where, when it can)."""

    def __init__(self, path: Path, fmt: str) -> None:
        if fmt not in ("csv", "json"):
            raise Invalid("Format must be csv or json.", field="format")
        self.path, self.fmt = path, fmt
        self._rows: list[dict[str, Any]] | None = None
        if fmt == "json":
            try:
                content = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as error:
                raise _not_utf8(f" (byte {error.start})") from None
            self._rows = parse_rows(content, fmt)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        if self._rows is not None:
            yield from self._rows
            return
        with self.path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            try:
                yield from reader
            except UnicodeDecodeError:
                raise _not_utf8("") from None
            except csv.Error as error:
                raise Invalid(f"Not valid CSV (line {reader.line_num + 1}: {error}).") from None


def _not_utf8(where: str) -> Invalid:
    return Invalid(f"The file is not UTF-8 text{where}: save it as UTF-8.")


def parse_rows(content: str, fmt: str) -> list[dict[str, Any]]:
    """The rows of a directory file held in memory."""
    if fmt == "json":
        try:
            data = json.loads(content)
        except json.JSONDecodeError as error:
            raise Invalid(f"Not valid JSON ({error.msg}, line {error.lineno}).") from None
        if isinstance(data, dict):
            data = data.get("items", [])
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise Invalid('JSON import must be a list of objects (or {"items": [...]}).')
        return data
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content)))
    raise Invalid("Format must be csv or json.", field="format")


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[str] = field(default_factory=list)
    more_errors: int = 0  # problems beyond the first ``IMPORT_ERRORS_SHOWN``

    def refuse(self, number: int, error: CarnetError) -> None:
        if len(self.errors) < IMPORT_ERRORS_SHOWN:
            where = f" ({error.field})" if error.field else ""
            self.errors.append(f"row {number}{where}: {error.message}")
        else:
            self.more_errors += 1


def import_directory(
    factory: sessionmaker[Session],
    actor: Actor,
    kind: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    batch: int = IMPORT_BATCH,
) -> ImportReport:
    """Import structures or professionals: a first pass checks every row (the fields, and
    that each professional's structure is in the directory) and writes nothing; any bad row
    rejects the file, and ``Invalid`` names each bad row and field. A second pass writes the
    rows ``batch`` at a time, one transaction each, every change traced on the system chain
    (``_trail``), so that a national extract neither sits in one transaction nor in memory.
    ``rows`` is read twice (a list, or a ``RowFile``). Should the database fail during the
    second pass, the batches before stay written and the error says how far it went; running
    the same import again finishes it (rows update what exists)."""
    _require_operator(actor)
    if iter(rows) is rows:  # a one-shot iterator could not be read twice
        rows = list(rows)
    report = _check_rows(factory, kind, rows)
    if report.errors:
        more = f"\n… and {report.more_errors} more rows." if report.more_errors else ""
        raise Invalid("Import rejected, nothing was saved:\n" + "\n".join(report.errors) + more)
    done = 0
    try:
        for chunk in _chunks(rows, batch):
            with audited_transaction(factory) as session:
                _write_rows(session, actor, kind, chunk)
            done += len(chunk)
    except Invalid as error:  # the file or the directory changed since the first pass
        raise Invalid(f"{_so_far(done)} Then: {error.message}", field=error.field) from None
    except SQLAlchemyError:
        raise CarnetError(f"{_so_far(done)} The database failed; run the import again.") from None
    report.imported = done
    return report


def _so_far(done: int) -> str:
    return f"Import stopped: the first {done} rows were saved, the others were not."


def _chunks(
    rows: Iterable[Mapping[str, Any]], size: int
) -> Iterator[list[tuple[int, Mapping[str, Any]]]]:
    chunk: list[tuple[int, Mapping[str, Any]]] = []
    for numbered in enumerate(rows, start=1):
        chunk.append(numbered)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_rows(
    factory: sessionmaker[Session], kind: str, rows: Iterable[Mapping[str, Any]]
) -> ImportReport:
    """The first pass: every row checked, nothing written. A professional's structure must be
    in the directory: the names are gathered, then looked up ``IMPORT_BATCH`` at a time."""
    report = ImportReport()
    first_use: dict[str, int] = {}  # structure → the first row naming it
    for number, row in enumerate(rows, start=1):
        try:
            if kind == "structures":
                read_structure(row)
            else:
                structure = read_professional(row).structure
                if structure:
                    first_use.setdefault(structure, number)
        except CarnetError as error:
            report.refuse(number, error)
    names = list(first_use)
    with factory() as session:
        for start in range(0, len(names), IMPORT_BATCH):
            part = names[start : start + IMPORT_BATCH]
            known = set(_structure_ids(session, part))
            for name in part:
                if name not in known:
                    report.refuse(first_use[name], _unknown_structure())
    return report


def _structure_ids(session: Session, names: Iterable[str]) -> dict[str, uuid.UUID]:
    found = session.execute(
        select(Structure.struct_idnat, Structure.id).where(Structure.struct_idnat.in_(names))
    )
    return {name: structure_id for name, structure_id in found}


def _write_rows(
    session: Session, actor: Actor, kind: str, chunk: list[tuple[int, Mapping[str, Any]]]
) -> None:
    """One batch of the second pass, with what exists read in one statement per table."""

    def read(number: int, reader: Any, row: Mapping[str, Any]) -> Any:
        try:
            return reader(row)
        except CarnetError as error:
            raise Invalid(f"row {number}: {error.message}", field=error.field) from None

    if kind == "structures":
        structures = [read(n, read_structure, row) for n, row in chunk]
        existing = {
            s.struct_idnat: s
            for s in session.execute(
                select(Structure).where(
                    Structure.struct_idnat.in_({e.struct_idnat for e in structures})
                )
            ).scalars()
        }
        for entry in structures:
            existing[entry.struct_idnat] = _save_structure(
                session, actor, entry, existing.get(entry.struct_idnat)
            )
        return
    people = [(n, read(n, read_professional, row)) for n, row in chunk]
    structure_ids = _structure_ids(session, {e.structure for _, e in people if e.structure})
    known = {
        p.ps_idnat: p
        for p in session.execute(
            select(Professional).where(Professional.ps_idnat.in_({e.ps_idnat for _, e in people}))
        ).scalars()
    }
    for number, entry in people:
        structure_id = structure_ids.get(entry.structure) if entry.structure else None
        if entry.structure and structure_id is None:
            raise Invalid(f"row {number}: {_unknown_structure().message}", field="structure")
        known[entry.ps_idnat] = _save_professional(
            session, actor, entry, structure_id, known.get(entry.ps_idnat)
        )
