"""The demo data: the personas of ``shared/docs/personas.md`` in the states they describe, built
through the same services as real use (so the trail shows how each state came to be)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor, ActorKind
from carnet.accounts import service as accounts
from carnet.accounts.models import AccountKind
from carnet.apps import service as apps
from carnet.authorizations import service as authorizations
from carnet.db import settings_of
from carnet.patients import service as patients
from carnet.professionals import service as directory
from carnet.records import service as records
from carnet.records.models import Channel
from carnet.systems import service as systems

OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="demo", display_name="demo loader")

STRUCTURES = [
    {
        "finess": "310000013",
        "name": "Cabinet médical des Carmes",
        "kind": "practice",
        "facility_type_code": "SA07",
        "city": "Toulouse",
    },
    {
        "finess": "310781406",
        "name": "CHU de Toulouse",
        "kind": "hospital",
        "facility_type_code": "SA01",
        "city": "Toulouse",
    },
    {
        "finess": "310000021",
        "name": "SAMU 31 — Centre de régulation",
        "kind": "samu",
        "facility_type_code": "SA01",
        "city": "Toulouse",
    },
    {
        "finess": "310000039",
        "name": "Pharmacie du Capitole",
        "kind": "pharmacy",
        "facility_type_code": "SA33",
        "city": "Toulouse",
    },
    {
        "finess": "310000047",
        "name": "Laboratoire Bio-Toulouse",
        "kind": "laboratory",
        "facility_type_code": "SA25",
        "city": "Toulouse",
    },
    {
        "finess": "310000054",
        "name": "Cabinet de podologie Saint-Cyprien",
        "kind": "practice",
        "facility_type_code": "SA07",
        "city": "Toulouse",
    },
    {
        "finess": "310000062",
        "name": "Cabinet dentaire Esquirol",
        "kind": "practice",
        "facility_type_code": "SA07",
        "city": "Toulouse",
    },
    {
        "finess": "310000070",
        "name": "Service de santé au travail Garonne",
        "kind": "occupational_health",
        "facility_type_code": "SA66",
        "city": "Toulouse",
    },
    {
        "finess": "750000010",
        "name": "Mutuelle Horizon",
        "kind": "insurer",
        "facility_type_code": "SA23",
        "city": "Paris",
    },
    {
        "finess": "310000088",
        "name": "Cabinet du Dr Noir",
        "kind": "practice",
        "facility_type_code": "SA07",
        "city": "Toulouse",
    },
]

PROFESSIONALS = [
    # rpps, title, given, family, profession, specialty, roles, structure finess, login
    ("10000000017", "Dr", "Paul", "Durand", "10", "SM54", "", "310000013", "paul.durand"),
    (
        "10000000025",
        "Dr",
        "Amina",
        "Benali",
        "10",
        "SM59",
        "emergency_physician",
        "310781406",
        "amina.benali",
    ),
    (
        "10000000033",
        "Dr",
        "Marc",
        "Lefèvre",
        "10",
        "SM59",
        "samu_regulator",
        "310000021",
        "marc.lefevre",
    ),
    ("10000000041", None, "Julie", "Moreau", "21", None, "", "310000039", "julie.moreau"),
    ("10000000058", None, "Thomas", "Petit", "80", None, "", "310000054", "thomas.petit"),
    ("10000000066", "Dr", "Claire", "Roux", "40", None, "", "310000062", "claire.roux"),
    (
        "10000000074",
        "Dr",
        "Henri",
        "Blanc",
        "10",
        "SM25",
        "occupational_physician",
        "310000070",
        "henri.blanc",
    ),
    ("10000000082", "Dr", "Éric", "Noir", "10", "SM54", "", "310000088", "eric.noir"),
    # Beyond the personas' table: authors of some demo documents.
    ("10000000140", "Dr", "Jeanne", "Leroy", "10", "SM42", "", "310781406", "jeanne.leroy"),
    ("10000000157", "Dr", "Nadia", "Haddad", "21", None, "", "310000047", "nadia.haddad"),
]

PATIENTS: dict[str, dict[str, Any]] = {
    "sylvie": dict(
        nir="275033155500425",
        birth_name="MARTIN",
        birth_given_names=["SYLVIE", "ANNE"],
        birth_date=date(1975, 3, 14),
        sex="F",
        birth_place_code="31555",
        email="sylvie.martin@example.org",
        phone="+33600000001",
        vitale_serial="SV-0001-2026",
    ),
    "lea": dict(
        nir="211083155504497",
        birth_name="MARTIN",
        birth_given_names=["LÉA"],
        birth_date=date(2011, 8, 21),
        sex="F",
        birth_place_code="31555",
    ),
    "jean": dict(
        nir="168073155512372",
        birth_name="DUPONT",
        birth_given_names=["JEAN", "PIERRE"],
        birth_date=date(1968, 7, 2),
        sex="M",
        birth_place_code="31555",
        email="jean.dupont@example.org",
    ),
    "rose": dict(
        nir="290069205003110",
        birth_name="GARNIER",
        birth_given_names=["ROSE"],
        birth_date=date(1990, 6, 9),
        sex="F",
        birth_place_code="92050",
        email="rose.garnier@example.org",
    ),
    "henri": dict(
        nir="155011305501013",
        birth_name="LAMBERT",
        birth_given_names=["HENRI"],
        birth_date=date(1955, 1, 27),
        sex="M",
        birth_place_code="13055",
        email="henri.lambert@example.org",
    ),
}


def _born(key: str) -> date:
    value = PATIENTS[key]["birth_date"]
    assert isinstance(value, date)
    return value


@dataclass
class DemoSummary:
    password: str
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # who, login, 2nd factor
    systems: list[tuple[str, str, str]] = field(default_factory=list)  # name, client id, key
    apps: list[tuple[str, str]] = field(default_factory=list)
    documents: int = 0


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Build past events at their real date (the trail shows them in order)."""
    previous = clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(previous)


def _key_pair(path: Path) -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_demo(session: Session) -> DemoSummary:
    settings = settings_of(session)
    password = settings.demo_password
    summary = DemoSummary(password=password)
    structures = {
        row["finess"]: directory.upsert_structure(session, OPERATOR, row) for row in STRUCTURES
    }
    pros = {}
    for rpps, title, given, family, prof, spec, roles, finess, login in PROFESSIONALS:
        professional = directory.upsert_professional(
            session,
            OPERATOR,
            {
                "rpps": rpps,
                "title": title,
                "given_name": given,
                "family_name": family,
                "profession_code": prof,
                "specialty_code": spec,
                "roles": roles,
                "structure": structures[finess].struct_idnat,
                "email": f"{login}@example.org",
            },
        )
        pros[login] = professional
        accounts.create_account(
            session,
            kind=AccountKind.PROFESSIONAL,
            login=f"{login}@example.org",
            password=password,
            professional_id=professional.id,
        )
        summary.logins.append(
            (
                professional.display_name,
                f"{login}@example.org",
                f"TOTP: carnet totp {login}@example.org",
            )
        )

    people = {}
    with at(datetime(2021, 9, 1, 9, 0, tzinfo=UTC)):
        for key, traits in PATIENTS.items():
            people[key] = patients.register_patient(session, OPERATOR, **traits)
        patients.add_representative(
            session,
            OPERATOR,
            patient_id=people["lea"].id,
            representative_id=people["sylvie"].id,
            relation_code="MTH",
        )

    # Henri: created at the insurer's counter in 2012 (dates are shaped), closed in 2024.
    with at(datetime(2021, 9, 2, 10, 0, tzinfo=UTC)):
        records.create_record(
            session, OPERATOR, people["henri"].id, channel=Channel.INSURER_COUNTER
        )
        accounts.create_account(
            session,
            kind=AccountKind.PATIENT,
            login="henri.lambert@example.org",
            password=password,
            patient_id=people["henri"].id,
        )
    henri = Actor(
        kind=ActorKind.PATIENT,
        ref="account:henri",
        display_name="Henri Lambert",
        patient_id=people["henri"].id,
    )
    # Jean: created automatically (opt-out) in January 2022, never activated.
    with at(datetime(2022, 1, 10, 8, 0, tzinfo=UTC)):
        records.create_record(session, OPERATOR, people["jean"].id, channel=Channel.OPT_OUT)
        records.issue_activation_code(session, OPERATOR, people["jean"].id)

    # Rose: opposed within the 6-week window.
    with at(datetime(2022, 1, 10, 8, 0, tzinfo=UTC)):
        records.create_record(session, OPERATOR, people["rose"].id, channel=Channel.OPT_OUT)
        rose_code = records.issue_activation_code(session, OPERATOR, people["rose"].id)
    with at(datetime(2022, 2, 1, 19, 0, tzinfo=UTC)):
        records.oppose_creation(
            session,
            nir=PATIENTS["rose"]["nir"],
            code=rose_code,
            birth_date=_born("rose"),
        )

    # Sylvie: activated online with the code of her insurer's letter; Léa opened for her.
    with at(datetime(2022, 3, 1, 18, 0, tzinfo=UTC)):
        code = records.issue_activation_code(session, OPERATOR, people["sylvie"].id)
    with at(datetime(2022, 3, 4, 20, 15, tzinfo=UTC)):
        records.activate_record(
            session,
            nir=PATIENTS["sylvie"]["nir"],
            code=code,
            birth_date=_born("sylvie"),
        )
        accounts.create_account(
            session,
            kind=AccountKind.PATIENT,
            login="sylvie.martin@example.org",
            password=password,
            patient_id=people["sylvie"].id,
        )
        records.create_record(session, OPERATOR, people["lea"].id, channel=Channel.INSURER_COUNTER)
    sylvie = Actor(
        kind=ActorKind.PATIENT,
        ref="account:sylvie",
        display_name="Sylvie Martin",
        patient_id=people["sylvie"].id,
    )
    with at(datetime(2022, 3, 5, 9, 0, tzinfo=UTC)):
        authorizations.set_treating_doctor(
            session, sylvie, people["sylvie"].id, pros["paul.durand"].id, treating=True
        )
        authorizations.grant(session, sylvie, people["sylvie"].id, pros["thomas.petit"].id)
        authorizations.grant(session, sylvie, people["sylvie"].id, pros["claire.roux"].id)
        authorizations.block(session, sylvie, people["sylvie"].id, pros["eric.noir"].id)
        authorizations.set_treating_doctor(
            session, sylvie, people["lea"].id, pros["paul.durand"].id, treating=True
        )

    summary.logins[:0] = [
        (
            "Sylvie Martin (patiente, et représentante de Léa)",
            "sylvie.martin@example.org",
            "code by e-mail (printed on the console)",
        ),
        (
            "Henri Lambert (dossier fermé)",
            "henri.lambert@example.org",
            "code by e-mail (printed on the console)",
        ),
    ]
    accounts.create_account(
        session, kind=AccountKind.OPERATOR, login="operator@example.org", password=password
    )
    summary.logins.append(
        ("Opérateur", "operator@example.org", "TOTP: carnet totp operator@example.org")
    )

    key_dir = Path(settings.data_dir) / "demo-keys"
    for row in STRUCTURES:
        finess = row["finess"]
        name = f"{row['name']} (logiciel)"
        key_path = key_dir / f"{finess}.pem"
        system = systems.register_system(
            session,
            OPERATOR,
            name=name,
            public_key_pem=_key_pair(key_path),
            structure_idnat=structures[finess].struct_idnat,
        )
        summary.systems.append((name, system.client_id, str(key_path)))

    pasfit = apps.register_app(
        session,
        OPERATOR,
        name="PasFit",
        client_id="pasfit",
        redirect_uris=["http://127.0.0.1:8765/callback"],
        allowed_scopes="launch/patient openid fhirUser patient/Observation.cruds patient/Patient.r",
        description="Podomètre : envoie vos pas quotidiens et votre poids.",
        publisher="PasFit SAS",
        listed=True,
    )
    summary.apps.append((pasfit.name, pasfit.client_id))
    own = apps.register_app(
        session,
        OPERATOR,
        name="Carnet (application patient)",
        client_id="carnet-patient",
        redirect_uris=["http://127.0.0.1:8765/callback", "http://localhost:8765/callback"],
        allowed_scopes="launch/patient openid fhirUser patient/*.cruds",
        description="L'application Carnet elle-même : votre dossier sur votre téléphone.",
        publisher="Carnet",
        first_party=True,
    )
    summary.apps.append((own.name, own.client_id))

    from carnet.demo_documents import load_documents, load_profile

    summary.documents = load_documents(session, people, pros, structures)
    load_profile(session, people, pros)
    from carnet import demo_agenda, demo_apps, demo_messages

    demo_agenda.load(session, people, pros)
    demo_messages.load(session, people, pros)
    demo_apps.load(session, people, pros)
    # Henri closed his record in 2024, after these documents were fed.
    with at(datetime(2024, 5, 2, 15, 30, tzinfo=UTC)):
        records.close_record(
            session, henri, people["henri"].id, comment="Je ne souhaite plus utiliser le service."
        )
    return summary


def print_sign_in(summary: DemoSummary, settings: object) -> None:
    base = getattr(settings, "base_url", "http://127.0.0.1:8000")
    print(f"\nCarnet demo loaded — open {base}/login")
    print(f"Every demo account uses the password: {summary.password}\n")
    width = max(len(w) for w, _, _ in summary.logins)
    for who, login, factor in summary.logins:
        print(f"  {who:<{width}}  {login:<30}  then {factor}")
    print("\nProfessionals' software (JWT-bearer, private keys for the demo only):")
    for name, client_id, key in summary.systems:
        print(f"  {name:<40} client_id={client_id}  key={key}")
    print(f"\n{summary.documents} demo documents stored (encrypted) in the records.")
    for name, client_id in summary.apps:
        print(f"\nConnected app: {name} (client_id={client_id})")
    print()
