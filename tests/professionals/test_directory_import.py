"""Directory import by the operator: CSV and JSON, checked whole before anything is written,
errors naming row and field, then written in batches."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor
from carnet.audit.models import AuditEntry
from carnet.db import make_engine, make_session_factory
from carnet.errors import Forbidden, Invalid
from carnet.identity import luhn_check_digit
from carnet.migrations.runner import upgrade
from carnet.professionals import service as directory
from carnet.professionals.models import Professional
from carnet.settings import Settings
from tests.conftest import audit_rows, locked_elsewhere


def file_rows(tmp_path: Path, content: str, fmt: str) -> directory.RowFile:
    path = tmp_path / f"directory.{fmt}"
    path.write_text(content, encoding="utf-8")
    return directory.RowFile(path, fmt)


STRUCTURES_CSV = """struct_idnat,finess,name,kind,facility_type_code,city
,330781196,CHU de Bordeaux,hospital,SA01,Bordeaux
,310000096,Laboratoire du Midi,laboratory,SA25,Toulouse
"""


def test_structures_and_professionals_import_from_csv_and_json(
    factory: sessionmaker[Session], session: Session, operator: Actor, tmp_path: Path
) -> None:
    rows = file_rows(tmp_path, STRUCTURES_CSV, "csv")
    assert directory.import_directory(factory, operator, "structures", rows).imported == 2
    people = json.dumps(
        [
            {
                "rpps": "10000000108",
                "given_name": "Inès",
                "family_name": "Vidal",
                "profession_code": "60",
                "structure": "1330781196",
            }
        ]
    )
    report = directory.import_directory(
        factory, operator, "professionals", file_rows(tmp_path, people, "json")
    )
    assert report.imported == 1
    professional = directory.find_professional(session, "810000000108")
    assert professional is not None
    assert professional.profession_code == "60"


def test_one_bad_row_rejects_the_whole_file_naming_each_problem(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    rows = [
        {"rpps": "10000000116", "given_name": "A", "family_name": "B", "profession_code": "10"},
        {"rpps": "10000000117", "given_name": "C", "family_name": "D", "profession_code": "10"},
        {"rpps": "10000000124", "given_name": "E", "family_name": "F", "profession_code": "99"},
    ]
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", rows)
    message = error.value.message
    assert "row 2 (rpps)" in message
    assert "row 3 (profession_code)" in message
    assert directory.find_professional(session, "810000000116") is None


def test_unknown_roles_kinds_and_codes_are_refused(session: Session, operator: Actor) -> None:
    with pytest.raises(Invalid, match="role"):
        directory.upsert_professional(
            session,
            operator,
            {
                "rpps": "10000000116",
                "given_name": "A",
                "family_name": "B",
                "profession_code": "10",
                "roles": "astronaut",
            },
        )
    with pytest.raises(Invalid, match="kind"):
        directory.upsert_structure(
            session, operator, {"finess": "310000096", "name": "X", "kind": "casino"}
        )


def test_only_an_operator_changes_the_directory(session: Session, pro: object) -> None:
    durand = pro("durand")  # type: ignore[operator]
    with pytest.raises(Forbidden):
        directory.upsert_structure(session, durand, {"finess": "310000096", "name": "X"})


def test_a_malformed_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="list of objects"):
        file_rows(tmp_path, "[1, 2]", "json")
    with pytest.raises(Invalid, match="csv or json"):
        file_rows(tmp_path, "", "xml")
    with pytest.raises(Invalid, match="cannot be read"):
        directory.RowFile(tmp_path / "nowhere.json", "json")


def system_rows(session: Session, action: str) -> list[AuditEntry]:
    return audit_rows(session, AuditEntry.chain == "system", AuditEntry.action == action)


def test_each_change_to_a_professional_is_traced_on_the_system_chain(
    session: Session, operator: Actor
) -> None:
    before = len(system_rows(session, "directory.professional"))
    row = {
        "rpps": "10000000108",
        "given_name": "Inès",
        "family_name": "Vidal",
        "profession_code": "10",
        "specialty_code": "SM54",
    }
    directory.upsert_professional(session, operator, row)
    directory.upsert_professional(
        session, operator, {**row, "roles": "samu_regulator", "active": "false"}
    )

    rows = system_rows(session, "directory.professional")[before:]
    assert [(r.resource_id, r.patient_id, r.actor_kind, r.actor_ref) for r in rows] == [
        ("810000000108", None, "operator", operator.ref)
    ] * 2
    assert rows[0].detail is not None
    assert "created=true" in rows[0].detail
    assert "active=true" in rows[0].detail
    assert rows[1].detail is not None
    assert "created=false" in rows[1].detail
    assert "roles=samu_regulator" in rows[1].detail
    assert "active=false" in rows[1].detail


def test_each_change_to_a_structure_is_traced_on_the_system_chain(
    session: Session, operator: Actor
) -> None:
    before = len(system_rows(session, "directory.structure"))
    row = {"finess": "330781196", "name": "CHU de Bordeaux", "kind": "hospital"}
    directory.upsert_structure(session, operator, row)
    directory.upsert_structure(session, operator, {**row, "kind": "occupational_health"})

    rows = system_rows(session, "directory.structure")[before:]
    assert [r.resource_id for r in rows] == ["1330781196", "1330781196"]
    assert [r.detail.split()[:2] if r.detail else None for r in rows] == [
        ["created=true", "kind=hospital"],
        ["created=false", "kind=occupational_health"],
    ]


def test_a_rejected_import_leaves_no_directory_trail(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    before = len(system_rows(session, "directory.professional"))
    rows = [
        {"rpps": "10000000116", "given_name": "A", "family_name": "B", "profession_code": "10"},
        {"rpps": "10000000124", "given_name": "E", "family_name": "F", "profession_code": "99"},
    ]
    with pytest.raises(Invalid):
        directory.import_directory(factory, operator, "professionals", rows)

    assert len(system_rows(session, "directory.professional")) == before


def rpps(n: int) -> str:
    base = f"{2000000000 + n}"
    return base + luhn_check_digit(base)


def person(n: int, **extra: str) -> dict[str, str]:
    return {
        "rpps": rpps(n),
        "given_name": "Nina",
        "family_name": f"Simon-{n}",
        "profession_code": "60",
        **extra,
    }


def imported(session: Session, count: int) -> list[str]:
    """The ps_idnat of the first ``count`` people (``person``) found in the directory."""
    wanted = ["8" + rpps(n) for n in range(count)]
    return list(
        session.execute(
            select(Professional.ps_idnat)
            .where(Professional.ps_idnat.in_(wanted))
            .order_by(Professional.ps_idnat)
        ).scalars()
    )


def test_a_csv_file_is_streamed_and_written_in_batches_each_row_traced(
    factory: sessionmaker[Session],
    session: Session,
    operator: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "rpps.csv"
    lines = ["rpps,given_name,family_name,profession_code,structure"]
    lines += [f"{rpps(n)},Nina,Simon-{n},60,1330781196" for n in range(7)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    directory.upsert_structure(
        session, operator, {"finess": "330781196", "name": "CHU", "kind": "hospital"}
    )
    session.commit()
    before = len(system_rows(session, "directory.professional"))
    batches: list[int] = []
    write = directory._write_rows

    def counted(session: Session, actor: Actor, kind: str, chunk: list[Any]) -> None:
        batches.append(len(chunk))
        write(session, actor, kind, chunk)

    monkeypatch.setattr(directory, "_write_rows", counted)
    report = directory.import_directory(
        factory, operator, "professionals", directory.RowFile(path, "csv"), batch=3
    )
    monkeypatch.undo()

    assert report.imported == 7
    assert batches == [3, 3, 1]
    assert imported(session, 7) == sorted("8" + rpps(n) for n in range(7))
    assert len(system_rows(session, "directory.professional")) == before + 7
    # The same file again updates the same people: nobody is added twice.
    again = directory.import_directory(
        factory, operator, "professionals", directory.RowFile(path, "csv"), batch=3
    )
    assert again.imported == 7
    count = select(func.count()).select_from(Professional)
    assert session.execute(count.where(Professional.family_name == "Simon-6")).scalar_one() == 1
    rows = system_rows(session, "directory.professional")[before + 7 :]
    assert [r.detail.split()[0] if r.detail else None for r in rows] == ["created=false"] * 7


def test_a_row_repeated_in_one_batch_is_one_professional(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    rows = [person(0), person(0, given_name="Nine")]
    assert directory.import_directory(factory, operator, "professionals", rows).imported == 2
    found = directory.find_professional(session, "8" + rpps(0))
    assert found is not None
    assert found.given_name == "Nine"


def test_a_rejection_names_the_first_problems_and_counts_the_others(
    factory: sessionmaker[Session], operator: Actor
) -> None:
    shown = directory.IMPORT_ERRORS_SHOWN
    rows = [person(n, profession_code="99") for n in range(shown + 7)]
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", rows)
    lines = error.value.message.splitlines()
    assert lines[0] == "Import rejected, nothing was saved:"
    assert lines[1].startswith("row 1 (profession_code): Unknown profession code")
    assert lines[shown].startswith(f"row {shown} (profession_code)")
    assert lines[-1] == "… and 7 more rows."


def test_an_unknown_structure_is_named_at_the_first_row_using_it(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    rows = [person(0), person(1, structure="1999999999"), person(2, structure="1999999999")]
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", rows)
    assert "row 2 (structure): Unknown structure" in error.value.message
    assert "row 3" not in error.value.message
    assert imported(session, 3) == []


class Passes:
    """Rows read afresh on each pass, as ``import_directory`` reads a file: ``reading(n)``
    gives the n-th reading, and may act first (the file or the directory changed meanwhile)."""

    def __init__(self, reading: Callable[[int], Iterable[Mapping[str, Any]]]) -> None:
        self.reading, self.reads = reading, 0

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        self.reads += 1
        yield from self.reading(self.reads)


def test_an_import_stopped_half_way_says_how_far_it_went_and_can_be_run_again(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    rows = [person(n) for n in range(5)]
    edited = [*rows[:3], person(3, profession_code="99"), rows[4]]
    changed = Passes(lambda n: rows if n == 1 else edited)
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", changed, batch=2)
    assert error.value.message.startswith(
        "Import stopped: the first 2 rows were saved, the others were not. "
        "Then: row 4 (profession_code): Unknown profession code"
    )
    assert error.value.field == "profession_code"
    assert imported(session, 5) == sorted("8" + rpps(n) for n in range(2))

    assert directory.import_directory(factory, operator, "professionals", rows).imported == 5
    assert len(imported(session, 5)) == 5


def test_an_rpps_number_given_twice_or_held_by_another_professional_is_refused_first(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    directory.upsert_professional(session, operator, person(9))
    session.commit()
    rows = [
        person(0),
        {**person(1), "rpps": rpps(0), "ps_idnat": "8" + rpps(1)},  # row 1's number
        {**person(2), "rpps": rpps(9), "ps_idnat": "8" + rpps(2)},  # the directory's Simon-9
        person(0, given_name="Nine"),  # the same professional again: an update, no conflict
    ]
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", rows, batch=2)
    assert error.value.message.splitlines()[1:] == [
        f"row 2 (rpps): This RPPS number belongs to another professional (8{rpps(0)}).",
        f"row 3 (rpps): This RPPS number belongs to another professional (8{rpps(9)}).",
    ]
    assert imported(session, 3) == []


def take_rpps(factory: sessionmaker[Session], number: str) -> None:
    """Another operator's change: a professional takes RPPS ``number`` under another id."""
    with factory() as other:
        other.add(
            Professional(
                ps_idnat="8" + rpps(99),
                rpps=number,
                family_name="Autre",
                given_name="Opérateur",
                profession_code="60",
            )
        )
        other.commit()


def test_a_rule_broken_in_the_second_pass_names_the_batch_and_keeps_the_ones_before(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    rows = [person(n) for n in range(5)]

    def reading(n: int) -> list[dict[str, str]]:
        if n == 2:  # between the two passes, the directory changed
            take_rpps(factory, rpps(2))
        return rows

    changed = Passes(reading)
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", changed, batch=2)
    assert error.value.message == (
        "Import stopped: the first 2 rows were saved, the others were not. Then: rows 3 to 4 "
        "broke a rule of the directory (an RPPS number or an identifier already used by "
        "another entry): the directory changed since the check. Correct the file and import "
        "it again."
    )
    assert imported(session, 5) == sorted("8" + rpps(n) for n in range(2))


def test_a_file_cut_during_the_import_is_said_to_have_changed(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    rows = [person(n) for n in range(4)]
    cut = Passes(lambda n: rows if n == 1 else rows[:2])
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", cut)
    assert error.value.message == (
        "The file changed during the import: 4 rows were checked, 2 written. Import it again."
    )


def test_the_problems_shown_are_those_of_the_first_rows_whatever_found_them(
    factory: sessionmaker[Session], operator: Actor
) -> None:
    shown = directory.IMPORT_ERRORS_SHOWN
    rows = [person(0, structure="1999999999")]  # found after its batch's fields are read
    rows += [person(n, profession_code="99") for n in range(1, shown + 3)]
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", rows, batch=1000)
    lines = error.value.message.splitlines()
    assert lines[1] == "row 1 (structure): Unknown structure (give its struct_idnat)."
    assert lines[2].startswith("row 2 (profession_code)")
    assert lines[shown].startswith(f"row {shown} (profession_code)")
    assert lines[-1] == "… and 3 more rows."


def test_a_value_longer_than_the_directory_holds_is_refused_in_the_first_pass(
    factory: sessionmaker[Session], session: Session, operator: Actor
) -> None:
    rows = [person(0), person(1, family_name="X" * 101), person(2, title="Professeur" * 3)]
    with pytest.raises(Invalid) as error:
        directory.import_directory(factory, operator, "professionals", rows)
    assert error.value.message.splitlines()[1:] == [
        "row 2 (family_name): Too long: at most 100 characters.",
        "row 3 (title): Too long: at most 20 characters.",
    ]
    assert imported(session, 3) == []


def test_the_import_leaves_the_sqlite_writer_free_between_its_batches(
    tmp_path: Path, settings: Settings, operator: Actor
) -> None:
    url = f"sqlite:///{tmp_path / 'directory.db'}"
    upgrade(url)
    engine = make_engine(url, single_writer=True)  # as the command's
    lock_file = tmp_path / "directory.db-writer.lock"
    seen: list[bool] = []

    def watched(_reading: int) -> Iterator[dict[str, str]]:
        for number, row in enumerate([person(n) for n in range(4)], start=1):
            if number == 3:  # between the first two batches of each pass
                seen.append(locked_elsewhere(lock_file))
            yield row

    factory = make_session_factory(engine, settings)
    report = directory.import_directory(
        factory, operator, "professionals", Passes(watched), batch=2
    )
    engine.dispose()
    assert report.imported == 4
    assert seen == [False, False]  # the server's requests could write meanwhile


def test_a_file_that_is_not_utf8_or_not_csv_is_explained(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("rpps,family_name\n10000000108,Hélène\n".encode("latin-1"))
    with pytest.raises(Invalid, match="not UTF-8 text"):
        list(directory.RowFile(latin, "csv"))
    huge = tmp_path / "huge.csv"
    huge.write_text('rpps,family_name\n1,a\n2,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    rows = iter(directory.RowFile(huge, "csv"))
    assert next(rows) == {"rpps": "1", "family_name": "a"}  # streamed: read up to here only
    with pytest.raises(Invalid, match=r"Not valid CSV \(line 3: field larger"):
        next(rows)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"rpps": 1},', encoding="utf-8")
    with pytest.raises(Invalid, match="Not valid JSON"):
        directory.RowFile(broken, "json")
    with pytest.raises(Invalid, match="csv or json"):
        directory.RowFile(broken, "xml")
