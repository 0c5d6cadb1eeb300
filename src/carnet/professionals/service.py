"""Directory use cases: add or update structures and professionals, import them in bulk from
CSV or JSON (the RPPS extract an operator receives), look them up."""

from __future__ import annotations

import csv
import heapq
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
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


def _text(row: Mapping[str, Any], key: str, column: Any = None) -> str | None:
    """The row's ``key``, stripped (None when empty); with the model ``column`` it is stored
    in, refused (``Invalid`` naming the field) when longer than the column holds."""
    value = row.get(key)
    if value is None:
        return None
    value = str(value).strip()
    length = getattr(getattr(column, "type", None), "length", None)
    if length is not None and len(value) > length:
        raise Invalid(f"Too long: at most {length} characters.", field=key)
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
    name = _text(row, "name", Structure.name)
    if not name:
        raise Invalid("A structure needs a name.", field="name")
    kind = _text(row, "kind") or StructureKind.OTHER.value
    if kind not in KINDS:
        raise Invalid(
            f"Unknown structure kind; expected one of {', '.join(sorted(KINDS))}.", field="kind"
        )
    facility = _text(row, "facility_type_code", Structure.facility_type_code)
    if facility and facility not in terminology().facility_types:
        raise Invalid("Unknown facility type code (JDV_J02).", field="facility_type_code")
    city = _text(row, "city", Structure.city)
    return StructureEntry(struct_idnat, name, kind, finess, siret, facility, city)


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
    family = _text(row, "family_name", Professional.family_name)
    given = _text(row, "given_name", Professional.given_name)
    if not family or not given:
        raise Invalid("A professional needs family_name and given_name.", field="family_name")
    profession = _text(row, "profession_code")
    if not profession or profession not in terminology().professions:
        raise Invalid(
            "Unknown profession code (TRE_G15, e.g. 10 médecin, 21 pharmacien).",
            field="profession_code",
        )
    specialty = _text(row, "specialty_code", Professional.specialty_code)
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
        adeli=_text(row, "adeli", Professional.adeli),
        family=family,
        given=given,
        title=_text(row, "title", Professional.title),
        profession=profession,
        specialty=specialty,
        roles=tuple(sorted(set(roles))),
        structure=_text(row, "structure", Structure.struct_idnat),
        email=_text(row, "email", Professional.email),
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


IMPORT_BATCH = 500  # rows checked or written per round trip / per transaction by the import
IMPORT_ERRORS_SHOWN = (
    50  # problems named in a rejection (those of the first rows); the rest counted
)


class RowFile:
    """The rows of a directory file, read afresh on each pass over it (``import_directory``
    makes two): a CSV file is streamed, so that the national extract (millions of lines) is
    never held in memory; a JSON file (a list of objects, or ``{"items": [...]}``) is parsed
    once. A file that cannot be read, or is not UTF-8 text, valid CSV or JSON, is refused with
    ``Invalid`` saying so (and where, when it can)."""

    def __init__(self, path: Path, fmt: str) -> None:
        if fmt not in ("csv", "json"):
            raise Invalid("Format must be csv or json.", field="format")
        self.path, self.fmt = path, fmt
        self._rows: list[dict[str, Any]] | None = None
        if fmt == "json":
            try:
                self._rows = _json_rows(path.read_text(encoding="utf-8-sig"))
            except UnicodeDecodeError as error:
                raise _not_utf8(f" (byte {error.start})") from None
            except OSError as error:
                raise _unreadable(error) from None

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        if self._rows is not None:
            yield from self._rows
            return
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as stream:
                reader = csv.DictReader(stream)
                try:
                    yield from reader
                except csv.Error as error:
                    line = reader.line_num + 1
                    raise Invalid(f"Not valid CSV (line {line}: {error}).") from None
        except UnicodeDecodeError:
            raise _not_utf8("") from None
        except OSError as error:
            raise _unreadable(error) from None


def _json_rows(content: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as error:
        raise Invalid(f"Not valid JSON ({error.msg}, line {error.lineno}).") from None
    if isinstance(data, dict):
        data = data.get("items", [])
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise Invalid('JSON import must be a list of objects (or {"items": [...]}).')
    return data


def _not_utf8(where: str) -> Invalid:
    return Invalid(f"The file is not UTF-8 text{where}: save it as UTF-8.")


def _unreadable(error: OSError) -> Invalid:
    return Invalid(f"The file cannot be read ({error.strerror or error.__class__.__name__}).")


def _row_error(number: int, error: CarnetError) -> Invalid:
    where = f" ({error.field})" if error.field else ""
    return Invalid(f"row {number}{where}: {error.message}", field=error.field)


@dataclass
class ImportReport:
    imported: int = 0
    checked: int = 0  # rows read by the first pass
    more_errors: int = 0  # problems beyond the ``IMPORT_ERRORS_SHOWN`` shown
    _shown: list[tuple[int, int, str]] = field(default_factory=list)  # a heap: (-row, n, text)

    def refuse(self, number: int, error: CarnetError) -> None:
        """Note a bad row; the problems of the first rows are kept, whatever order they are
        found in (an unknown structure is found after the pass)."""
        problem = (-number, len(self._shown) + self.more_errors, _row_error(number, error).message)
        if len(self._shown) < IMPORT_ERRORS_SHOWN:
            heapq.heappush(self._shown, problem)
        else:
            heapq.heappushpop(self._shown, problem)
            self.more_errors += 1

    @property
    def errors(self) -> list[str]:
        return [text for _, _, text in sorted(self._shown, reverse=True)]


def import_directory(
    factory: sessionmaker[Session],
    actor: Actor,
    kind: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    batch: int = IMPORT_BATCH,
) -> ImportReport:
    """Import structures or professionals. A first pass checks every row and writes nothing:
    the fields; that each professional's structure is in the directory; that no RPPS number is
    given to two professionals, in the file or against the directory. Any bad row rejects the
    file, and ``Invalid`` names the bad rows and fields (the first ``IMPORT_ERRORS_SHOWN``). A
    second pass writes the rows ``batch`` at a time, one transaction each, every change traced
    on the system chain (``_trail``), so that a national extract neither sits in one
    transaction nor in memory. ``rows`` is read twice (a list, or a ``RowFile``).

    Should the second pass stop — the file or the directory changed since the check, or the
    database failed — the batches before stay written and the error says how far it went and
    why; once the cause is mended, the same import run again finishes it (rows update what
    exists)."""
    _require_operator(actor)
    if iter(rows) is rows:  # a one-shot iterator could not be read twice
        rows = list(rows)
    report = _check_rows(factory, kind, rows, batch)
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
    except IntegrityError:
        last = min(done + batch, report.checked)
        raise Invalid(
            f"{_so_far(done)} Then: rows {done + 1} to {last} broke a rule of the directory (an "
            "RPPS number or an identifier already used by another entry): the directory changed "
            "since the check. Correct the file and import it again."
        ) from None
    except DataError:  # (the first pass checks lengths: the file changed meanwhile)
        last = min(done + batch, report.checked)
        raise Invalid(
            f"{_so_far(done)} Then: rows {done + 1} to {last} hold a value the directory cannot "
            "store. Correct the file and import it again."
        ) from None
    except SQLAlchemyError as error:
        raise CarnetError(
            f"{_so_far(done)} The database failed ({error.__class__.__name__}); "
            "run the import again."
        ) from None
    if done != report.checked:
        raise Invalid(
            f"The file changed during the import: {report.checked} rows were checked, {done} "
            "written. Import it again."
        )
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
    factory: sessionmaker[Session], kind: str, rows: Iterable[Mapping[str, Any]], batch: int
) -> ImportReport:
    """The first pass: every row checked, nothing written, ``batch`` rows per round trip."""
    report = ImportReport()
    known: set[str] = set()  # structures found in the directory
    unknown: set[str] = set()  # … not found (reported at the first row naming them)
    holders: dict[str, str] = {}  # RPPS → the ps_idnat the file gives it
    reader = read_structure if kind == "structures" else read_professional
    for chunk in _chunks(rows, batch):
        report.checked += len(chunk)
        entries: list[tuple[int, Any]] = []
        for number, row in chunk:
            try:
                entries.append((number, reader(row)))
            except CarnetError as error:
                report.refuse(number, error)
        if kind == "structures":
            continue  # (nothing of them to look up)
        people: list[tuple[int, ProfessionalEntry]] = entries
        # One short transaction per batch: on SQLite every transaction holds the writer (and
        # its lock), which the server's requests need between two batches.
        with factory() as session:
            _check_structures(session, report, people, known, unknown)
            _check_rpps(session, report, people, holders)
    return report


def _check_structures(
    session: Session,
    report: ImportReport,
    people: list[tuple[int, ProfessionalEntry]],
    known: set[str],
    unknown: set[str],
) -> None:
    named = {e.structure for _, e in people if e.structure} - known - unknown
    found = set(_structure_ids(session, named)) if named else set()
    known |= found
    missing = named - found
    for number, entry in people:
        if entry.structure in missing and entry.structure not in unknown:
            unknown.add(entry.structure)
            report.refuse(number, _unknown_structure())


def _check_rpps(
    session: Session,
    report: ImportReport,
    people: list[tuple[int, ProfessionalEntry]],
    holders: dict[str, str],
) -> None:
    """An RPPS number names one professional: not two in the file, nor another one in the
    directory (the database would refuse the row in the second pass)."""
    numbers = {e.rpps for _, e in people if e.rpps}
    query = select(Professional.rpps, Professional.ps_idnat).where(Professional.rpps.in_(numbers))
    held = {rpps: ps_idnat for rpps, ps_idnat in session.execute(query)} if numbers else {}
    for number, entry in people:
        if not entry.rpps:
            continue
        other = holders.setdefault(entry.rpps, entry.ps_idnat)
        if other == entry.ps_idnat:
            other = held.get(entry.rpps, entry.ps_idnat)
        if other != entry.ps_idnat:
            report.refuse(
                number,
                Invalid(
                    f"This RPPS number belongs to another professional ({other}).", field="rpps"
                ),
            )


def _structure_ids(session: Session, names: Iterable[str]) -> dict[str, uuid.UUID]:
    found = session.execute(
        select(Structure.struct_idnat, Structure.id).where(Structure.struct_idnat.in_(names))
    )
    return {name: structure_id for name, structure_id in found}


def _write_rows(
    session: Session, actor: Actor, kind: str, chunk: list[tuple[int, Mapping[str, Any]]]
) -> None:
    """One batch of the second pass, with what exists read in one statement per table; each
    row is checked again (the file may have changed since the first pass)."""

    def read(number: int, reader: Any, row: Mapping[str, Any]) -> Any:
        try:
            return reader(row)
        except CarnetError as error:
            raise _row_error(number, error) from None

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
            raise _row_error(number, _unknown_structure())
        known[entry.ps_idnat] = _save_professional(
            session, actor, entry, structure_id, known.get(entry.ps_idnat)
        )
    session.flush()  # a broken rule is found here, in this batch
