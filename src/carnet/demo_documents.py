"""The demo records' documents, provided through the same ITI-65 path as professionals'
software, so that the demo shows the rules at work: Sylvie's psychiatry report she hid from
professionals, the childbirth report podiatrists may not see, the advance directives dentists
may not see, the scan result waiting for the treating doctor, Léa's secret consultation, Jean's
lab results, Henri's documents kept in his closed record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor, ActorKind
from carnet.accounts.service import professional_actor
from carnet.db import settings_of
from carnet.documents import fhir, service
from carnet.documents.bundles import TRE_A05, Author, Doc, provide_bundle
from carnet.documents.samples import SAMPLE_REPORTS, cda_document, pdf_report
from carnet.patients.models import Patient
from carnet.professionals.models import Professional, Structure


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    previous = clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(previous)


def _pdf(
    type_code: str,
    patient: Patient,
    author: Professional | None,
    structure: str,
    when: datetime,
    title: str | None = None,
) -> bytes:
    default_title, _, sections = SAMPLE_REPORTS[type_code]
    return pdf_report(
        title=title or default_title,
        patient=patient.display_name.title(),
        born=patient.birth_date.strftime("%d/%m/%Y"),
        author=author.display_name if author else patient.display_name.title(),
        structure=structure,
        date=when.strftime("%d/%m/%Y"),
        sections=sections,
    )


def _cda(
    type_code: str, patient: Patient, author: Professional, structure: str, when: datetime
) -> bytes:
    title, _, sections = SAMPLE_REPORTS[type_code]
    return cda_document(
        document_id=f"1.2.250.1.999.{int(when.timestamp())}",
        type_code=type_code,
        type_display=title,
        title=title,
        effective=when,
        patient_nir=patient.nir,
        patient_given=patient.birth_given_names.split(),
        patient_family=patient.birth_name,
        patient_sex=patient.sex,
        patient_birth=patient.birth_date,
        author_ps_idnat=author.ps_idnat,
        author_given=author.given_name,
        author_family=author.family_name,
        author_profession_code=author.profession_code,
        custodian=structure,
        sections=sections,
    )


def _author(professional: Professional) -> Author:
    return Author(
        ps_idnat=professional.ps_idnat,
        given=professional.given_name,
        family=professional.family_name,
        profession=professional.profession_code,
        prefix=professional.title,
    )


def _provide(
    session: Session, actor: Actor, patient: Patient, author: Author, docs: list[Doc]
) -> list[Any]:
    bundle = provide_bundle(patient.nir, author, docs)
    request = fhir.parse_provide_bundle(bundle, max_bytes=settings_of(session).document_max_bytes)
    return service.provide(session, actor, request)


def load_documents(
    session: Session,
    people: dict[str, Patient],
    pros: dict[str, Professional],
    structures: dict[str, Structure],
) -> int:
    def actor(login: str) -> Actor:
        professional = pros[login]
        structure = session.get(Structure, professional.structure_id)
        return professional_actor(professional, structure)

    def place(login: str) -> str:
        structure = session.get(Structure, pros[login].structure_id)
        return structure.name if structure else ""

    sylvie, lea, jean, henri = people["sylvie"], people["lea"], people["jean"], people["henri"]
    durand, leroy, haddad, benali = (
        pros["paul.durand"],
        pros["jeanne.leroy"],
        pros["nadia.haddad"],
        pros["amina.benali"],
    )
    count = 0

    def when(y: int, m: int, d: int, h: int = 10) -> datetime:
        return datetime(y, m, d, h, 0, tzinfo=UTC)

    # Sylvie: hypothyroidism follow-up by her treating doctor, lab results, prescription.
    moment = when(2025, 11, 4)
    with at(moment):
        count += len(
            _provide(
                session,
                actor("paul.durand"),
                sylvie,
                _author(durand),
                [
                    Doc(
                        "11488-4",
                        _pdf("11488-4", sylvie, durand, place("paul.durand"), moment),
                        title="Consultation de suivi — hypothyroïdie",
                        created=moment,
                    ),
                    Doc(
                        "57833-6",
                        _pdf("57833-6", sylvie, durand, place("paul.durand"), moment),
                        title="Ordonnance — lévothyroxine 75 µg",
                        created=moment,
                    ),
                    Doc(
                        "60591-5",
                        _cda("60591-5", sylvie, durand, place("paul.durand"), moment),
                        content_type="text/xml",
                        title="Volet de synthèse médicale",
                        created=moment,
                    ),
                ],
            )
        )
    moment = when(2025, 10, 28, 7)
    with at(moment):
        count += len(
            _provide(
                session,
                actor("nadia.haddad"),
                sylvie,
                _author(haddad),
                [
                    Doc(
                        "11502-2",
                        _cda("11502-2", sylvie, haddad, place("nadia.haddad"), moment),
                        content_type="text/xml",
                        title="Bilan thyroïdien (TSH, T4L)",
                        created=moment,
                    ),
                ],
            )
        )
    # The psychiatry report she later hid from professionals (MASQUE_PS, by the patient).
    moment = when(2024, 3, 12)
    with at(moment):
        [psychiatry] = _provide(
            session,
            actor("jeanne.leroy"),
            sylvie,
            _author(leroy),
            [
                Doc(
                    "11488-4",
                    _pdf(
                        "11488-4:psychiatrie",
                        sylvie,
                        leroy,
                        place("jeanne.leroy"),
                        moment,
                        title="Consultation de psychiatrie",
                    ),
                    title="Consultation de psychiatrie",
                    created=moment,
                ),
            ],
        )
        count += 1
    holder = Actor(
        kind=ActorKind.PATIENT,
        ref=f"patient:{sylvie.id}",
        display_name="Sylvie Martin",
        patient_id=sylvie.id,
    )
    with at(when(2024, 3, 20, 21)):
        service.set_hidden_from_professionals(session, holder, psychiatry.id, True)
    # Léa's birth: the childbirth report (podiatrists may not see it).
    moment = when(2011, 8, 22)
    with at(moment):
        count += len(
            _provide(
                session,
                actor("jeanne.leroy"),
                sylvie,
                _author(leroy),
                [
                    Doc(
                        "15508-5",
                        _pdf("15508-5", sylvie, None, "CHU de Toulouse — Maternité", moment),
                        title="Compte rendu d'accouchement",
                        created=moment,
                    ),
                ],
            )
        )
    # A scan result kept invisible to her until her doctor has told her (INVISIBLE_PATIENT).
    moment = when(2026, 11, 18, 16)
    with at(moment):
        count += len(
            _provide(
                session,
                actor("amina.benali"),
                sylvie,
                _author(benali),
                [
                    Doc(
                        "18748-4",
                        _pdf("18748-4", sylvie, benali, place("amina.benali"), moment),
                        title="Scanner thoracique",
                        created=moment,
                        confidentiality=["INVISIBLE_PATIENT"],
                    ),
                ],
            )
        )
    # Her own advance directives (dentists may not see them) and vaccination note.
    moment = when(2023, 1, 15, 19)
    with at(moment):
        count += len(
            _provide(
                session,
                holder,
                sylvie,
                Author(ps_idnat=None),
                [
                    Doc(
                        "EXPPAT_3",
                        _pdf("EXPPAT_3", sylvie, None, "", moment),
                        type_system=TRE_A05,
                        title="Mes directives anticipées",
                        created=moment,
                    ),
                ],
            )
        )
    moment = when(2025, 10, 2, 11)
    with at(moment):
        count += len(
            _provide(
                session,
                actor("julie.moreau"),
                sylvie,
                _author(pros["julie.moreau"]),
                [
                    Doc(
                        "87273-9",
                        _pdf(
                            "87273-9", sylvie, pros["julie.moreau"], place("julie.moreau"), moment
                        ),
                        title="Vaccination antigrippale",
                        created=moment,
                    ),
                ],
            )
        )

    # Léa: a secret consultation (seen alone, in a secret connection: invisible to her legal
    # representatives, and so is what Dr Durand did in it), then a vaccination her mother sees.
    moment = when(2026, 6, 3, 17)
    with at(moment):
        count += len(
            _provide(
                session,
                replace(actor("paul.durand"), secret=True),
                lea,
                _author(durand),
                [
                    Doc(
                        "11488-4",
                        _pdf(
                            "11488-4",
                            lea,
                            durand,
                            place("paul.durand"),
                            moment,
                            title="Consultation",
                        ),
                        title="Consultation",
                        created=moment,
                        confidentiality=["INVISIBLE_REPRESENTANTS_LEGAUX"],
                    ),
                ],
            )
        )
    moment = when(2026, 6, 10, 17)
    with at(moment):
        count += len(
            _provide(
                session,
                actor("paul.durand"),
                lea,
                _author(durand),
                [
                    Doc(
                        "87273-9",
                        _pdf("87273-9", lea, durand, place("paul.durand"), moment),
                        title="Rappel DTCaP",
                        created=moment,
                    ),
                ],
            )
        )

    # Jean: never activated his record, still receives his lab results.
    for month in (3, 9):
        moment = when(2026, month, 14, 7)
        with at(moment):
            count += len(
                _provide(
                    session,
                    actor("nadia.haddad"),
                    jean,
                    _author(haddad),
                    [
                        Doc(
                            "11502-2",
                            _cda("11502-2", jean, haddad, place("nadia.haddad"), moment),
                            content_type="text/xml",
                            title="Bilan biologique",
                            created=moment,
                        ),
                    ],
                )
            )
    # Henri's documents were fed before he closed his record in 2024; they are kept.
    moment = when(2023, 5, 9)
    with at(moment):
        count += len(
            _provide(
                session,
                actor("paul.durand"),
                henri,
                _author(durand),
                [
                    Doc(
                        "11490-0",
                        _pdf("11490-0", henri, durand, "CHU de Toulouse", moment),
                        title="Lettre de liaison de sortie",
                        created=moment,
                    ),
                ],
            )
        )
    return count


def load_profile(
    session: Session, people: dict[str, Patient], pros: dict[str, Professional]
) -> int:
    """Sylvie's medical profile as personas.md describes it: hypothyroidism treated with
    lévothyroxine, allergic to penicillin, blood group A+, her husband as emergency contact,
    organ donation: yes. Entered by her doctor, her lab, her pharmacist and herself."""
    from carnet.profile import fhir as profile_fhir
    from carnet.profile import service as profile

    sylvie = people["sylvie"]
    subject = {"reference": f"Patient/{sylvie.id}"}

    def actor(login: str) -> Actor:
        professional = pros[login]
        return professional_actor(professional, session.get(Structure, professional.structure_id))

    herself = Actor(
        kind=ActorKind.PATIENT,
        ref=f"patient:{sylvie.id}",
        display_name="Sylvie Martin",
        patient_id=sylvie.id,
    )
    entries: list[tuple[Actor, dict[str, Any], datetime]] = [
        (
            actor("paul.durand"),
            {
                "resourceType": "Condition",
                "subject": subject,
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "40930008",
                            "display": "Hypothyroïdie",
                        }
                    ],
                    "text": "Hypothyroïdie",
                },
                "onsetDateTime": "2015-04-01",
            },
            datetime(2022, 3, 10, 10, tzinfo=UTC),
        ),
        (
            actor("paul.durand"),
            {
                "resourceType": "MedicationStatement",
                "status": "active",
                "subject": subject,
                "medicationCodeableConcept": {"text": "Lévothyroxine sodique 75 µg (Levothyrox)"},
                "effectivePeriod": {"start": "2015-04-01"},
                "dosage": [{"text": "1 comprimé le matin à jeun"}],
            },
            datetime(2022, 3, 10, 10, tzinfo=UTC),
        ),
        (
            herself,
            {
                "resourceType": "AllergyIntolerance",
                "patient": subject,
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                            "code": "active",
                        }
                    ]
                },
                "category": ["medication"],
                "criticality": "high",
                "code": {"text": "Pénicillines"},
                "reaction": [{"manifestation": [{"text": "Urticaire généralisée"}]}],
            },
            datetime(2022, 3, 6, 20, tzinfo=UTC),
        ),
        (
            actor("nadia.haddad"),
            {
                "resourceType": "Observation",
                "status": "final",
                "subject": subject,
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "laboratory",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [
                        {
                            "system": "http://loinc.org",
                            "code": "882-1",
                            "display": "Groupe sanguin ABO et Rhésus",
                        }
                    ]
                },
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "278149003",
                            "display": "A Rh+",
                        }
                    ]
                },
                "effectiveDateTime": "2019-06-12T08:00:00+02:00",
            },
            datetime(2022, 3, 12, 9, tzinfo=UTC),
        ),
        (
            herself,
            {
                "resourceType": "RelatedPerson",
                "patient": subject,
                "relationship": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                                "code": "C",
                                "display": "Contact d'urgence",
                            }
                        ]
                    },
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                "code": "HUSB",
                                "display": "époux",
                            }
                        ]
                    },
                ],
                "name": [{"family": "Martin", "given": ["Marc"]}],
                "telecom": [{"system": "phone", "value": "+33 6 00 00 00 02"}],
            },
            datetime(2022, 3, 6, 20, tzinfo=UTC),
        ),
        (
            herself,
            {
                "resourceType": "Observation",
                "status": "final",
                "subject": subject,
                "code": {
                    "coding": [
                        {
                            "system": profile_fhir.WISHES_SYSTEM,
                            "code": profile_fhir.ORGAN_DONATION,
                            "display": "Don d'organes",
                        }
                    ]
                },
                "valueBoolean": True,
                "effectiveDateTime": "2022-03-06T20:00:00+01:00",
            },
            datetime(2022, 3, 6, 20, tzinfo=UTC),
        ),
    ]
    for who, resource, moment in entries:
        with at(moment):
            profile.create(
                session,
                who,
                sylvie.id,
                profile_fhir.parse_resource(resource, resource["resourceType"]),
            )
    return len(entries)
