"""Directory import by the operator: CSV and JSON, all-or-nothing, errors naming row and field."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.audit.models import AuditEntry
from carnet.errors import Forbidden, Invalid
from carnet.professionals import service as directory
from tests.conftest import audit_rows

STRUCTURES_CSV = """struct_idnat,finess,name,kind,facility_type_code,city
,330781196,CHU de Bordeaux,hospital,SA01,Bordeaux
,310000096,Laboratoire du Midi,laboratory,SA25,Toulouse
"""


def test_structures_and_professionals_import_from_csv_and_json(
    session: Session, operator: Actor
) -> None:
    rows = directory.parse_rows(STRUCTURES_CSV, "csv")
    assert directory.import_directory(session, operator, "structures", rows).imported == 2
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
        session, operator, "professionals", directory.parse_rows(people, "json")
    )
    assert report.imported == 1
    professional = directory.find_professional(session, "810000000108")
    assert professional is not None
    assert professional.profession_code == "60"


def test_one_bad_row_rejects_the_whole_file_naming_each_problem(
    session: Session, operator: Actor
) -> None:
    rows = [
        {"rpps": "10000000116", "given_name": "A", "family_name": "B", "profession_code": "10"},
        {"rpps": "10000000117", "given_name": "C", "family_name": "D", "profession_code": "10"},
        {"rpps": "10000000124", "given_name": "E", "family_name": "F", "profession_code": "99"},
    ]
    with pytest.raises(Invalid) as error:
        directory.import_directory(session, operator, "professionals", rows)
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


def test_a_malformed_file_is_explained() -> None:
    with pytest.raises(Invalid, match="list of objects"):
        directory.parse_rows("[1, 2]", "json")
    with pytest.raises(Invalid, match="csv or json"):
        directory.parse_rows("", "xml")


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


def test_a_rejected_import_leaves_no_directory_trail(session: Session, operator: Actor) -> None:
    before = len(system_rows(session, "directory.professional"))
    rows = [
        {"rpps": "10000000116", "given_name": "A", "family_name": "B", "profession_code": "10"},
        {"rpps": "10000000124", "given_name": "E", "family_name": "F", "profession_code": "99"},
    ]
    with pytest.raises(Invalid):
        directory.import_directory(session, operator, "professionals", rows)

    assert len(system_rows(session, "directory.professional")) == before
