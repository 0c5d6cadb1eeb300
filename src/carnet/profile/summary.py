"""What is built from the profile: the safety checks on arrival (prescriptions against
allergies and treatments, duplicate exams), and the International Patient Summary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC
from html import escape
from typing import Any

import orjson
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, RecordFacts
from carnet.access.gate import authorize, check
from carnet.db import settings_of
from carnet.errors import AccessDenied
from carnet.patients.models import Patient
from carnet.profile import service
from carnet.profile.fhir import BLOOD_GROUP_LOINC, CONTACT_ROLES, ORGAN_DONATION, ProfileInput
from carnet.profile.models import ProfileEntry
from carnet.safety.engine import EarlierExam

DETECTED_ISSUE_URL = "https://carnet.invalid/fhir/StructureDefinition/detected-issue"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ISSUE_CODES = {
    "allergy": ("ALGY", "Allergy Alert"),
    "interaction": ("DRG", "Drug Interaction Alert"),
    "duplicate": ("DUPTHPY", "Duplicate Therapy Alert"),
    "unknown": ("DRG", "Drug Interaction Alert"),
}


def create_checked(
    session: Session, actor: Actor, patient_id: uuid.UUID, parsed: ProfileInput
) -> tuple[ProfileEntry, list[dict[str, Any]]]:
    """Create the entry; prescriptions and exam results come back with their warnings — when
    the writer may also read the record: feeding needs no consent, seeing the allergies,
    treatments and earlier exams the warnings rest on does (the check is an audited read)."""
    warnings: list[dict[str, Any]] = []
    prescription = parsed.resource_type == "MedicationRequest"
    exam = parsed.resource_type == "Observation" and parsed.effective is not None
    if (prescription or exam) and _may_read(session, actor, patient_id, parsed.resource_type):
        warnings = (
            prescription_warnings(session, patient_id, parsed.substances, parsed.display)
            if prescription
            else duplicate_warnings(session, patient_id, parsed)
        )
    entry = service.create(session, actor, patient_id, parsed)
    return entry, warnings


def _may_read(session: Session, actor: Actor, patient_id: uuid.UUID, resource_type: str) -> bool:
    try:
        access = check(
            session,
            actor,
            patient_id,
            Action.READ,
            resource_type=resource_type,
            audit_action="read",
            detail="safety check",
        )
    except AccessDenied:
        return False  # decided before anything was written: the write goes on, without warnings
    access.record(session)
    return True


def prescription_warnings(
    session: Session, patient_id: uuid.UUID, substances: tuple[str, ...], name: str
) -> list[dict[str, Any]]:
    """Check a prescribed drug against the patient's allergies and current treatments (the
    caller has authorized the access)."""
    from carnet.safety.engine import Allergy, Treatment, check_prescription

    allergies = [
        Allergy(
            substance=(e.substances or "").split("|")[0] or None,
            class_name=None,
            text=e.display,
            criticality=e.value,
        )
        for e in service.entries_of(session, patient_id, "AllergyIntolerance")
        if e.status in ("active", "")
    ]
    treatments = [
        Treatment(substance=substance, name=e.display)
        for e in service.entries_of(session, patient_id, "MedicationStatement")
        if e.status in ("active", "intended", "on-hold")
        for substance in (e.substances or "").split("|")
        if substance
    ]
    prescribed = list(substances) or [name]
    data_dir = settings_of(session).terminology_dir
    return [
        _as_dict(w)
        for w in check_prescription(prescribed, allergies, treatments, data_dir=data_dir)
    ]


def check_before_prescribing(
    session: Session, actor: Actor, patient_id: uuid.UUID, parsed: ProfileInput
) -> list[dict[str, Any]]:
    """The same checks without recording anything (software asks before prescribing)."""
    authorize(
        session,
        actor,
        patient_id,
        Action.READ,
        resource_type="MedicationRequest",
        audit_action="read",
        detail="prescription check",
    )
    return prescription_warnings(session, patient_id, parsed.substances, parsed.display)


def prescribe(
    session: Session, actor: Actor, patient_id: uuid.UUID, parsed: ProfileInput
) -> tuple[ProfileEntry, list[dict[str, Any]]]:
    """A prescription confirmed after its check: the warnings come from one audited read (a
    professional who may not read what they rest on is refused), then the prescription is
    written. Where ``create_checked`` would read and check a second time."""
    warnings = check_before_prescribing(session, actor, patient_id, parsed)
    return service.create(session, actor, patient_id, parsed), warnings


def _as_dict(warning: Any) -> dict[str, Any]:
    return {
        "kind": warning.kind,
        "severity": getattr(warning.severity, "value", str(warning.severity)),
        "severity_label": getattr(warning.severity, "label", str(warning.severity)),
        "substances": list(warning.substances),
        "rule": warning.rule,
        "message_fr": warning.message_fr,
        "message_en": warning.message_en,
        "source": warning.source,
        "source_date": warning.source_date,
    }


def duplicate_warnings(
    session: Session, patient_id: uuid.UUID, parsed: ProfileInput
) -> list[dict[str, Any]]:
    assert parsed.effective is not None
    earlier = service.recent_same_exam(session, patient_id, parsed.code, parsed.effective)
    out = []
    for entry in earlier:
        assert entry.effective is not None  # the same exam is found by its date
        exam = EarlierExam(entry.effective.astimezone(UTC), entry.source_name or entry.source_ref)
        out.append(
            {
                "kind": "duplicate",
                "severity": "duplicate",
                "severity_label": "examen récent",
                "substances": [],
                "rule": f"{parsed.display} ({parsed.code})",
                "message_fr": exam.sentence("fr"),
                "message_en": exam.sentence("en"),
                "source": "Carnet",
                "source_date": "",
            }
        )
    return out


SEVERITY = {
    "contre-indication": "high",
    "association-deconseillee": "high",
    "allergie": "high",
    "precaution-emploi": "moderate",
    "reaction-croisee": "moderate",
    "a-prendre-en-compte": "low",
    "duplicate": "low",
    "inconnu": "low",
}


def detected_issue(warning: dict[str, Any], index: int, patient_ref: str) -> dict[str, Any]:
    code, display = ISSUE_CODES.get(warning["kind"], ("DRG", "Drug Interaction Alert"))
    return {
        "resourceType": "DetectedIssue",
        "id": f"issue{index}",
        "status": "final",
        "code": {
            "coding": [{"system": ACT_CODE, "code": code, "display": display}],
            "text": warning["severity_label"],
        },
        "severity": SEVERITY.get(str(warning["severity"]), "moderate"),
        "patient": {"reference": patient_ref},
        "detail": warning["message_fr"],
        "reference": warning["source"]
        + (f" ({warning['source_date']})" if warning["source_date"] else ""),
        "extension": [
            {
                "url": "https://carnet.invalid/fhir/StructureDefinition/issue-rule",
                "valueString": warning["rule"],
            }
        ],
    }


def with_issues(entry: ProfileEntry, warnings: list[dict[str, Any]]) -> str:
    """The stored resource with its warnings as contained DetectedIssues (a prescription
    references them in ``detectedIssue``, other resources by an extension)."""
    resource = orjson.loads(entry.resource)
    patient_ref = f"Patient/{entry.patient_id}"
    issues = [detected_issue(w, i + 1, patient_ref) for i, w in enumerate(warnings)]
    resource["contained"] = [*resource.get("contained", []), *issues]
    references = [{"reference": f"#{issue['id']}"} for issue in issues]
    if entry.resource_type == "MedicationRequest":
        resource["detectedIssue"] = references
    else:
        resource.setdefault("extension", []).extend(
            {"url": DETECTED_ISSUE_URL, "valueReference": ref} for ref in references
        )
    return orjson.dumps(resource).decode()


# --- International Patient Summary ----------------------------------------------------------

SECTIONS = [
    # (resource type, LOINC, title, required by IPS)
    ("AllergyIntolerance", "48765-2", "Allergies et intolérances", True),
    ("MedicationStatement", "10160-0", "Traitements", True),
    ("Condition", "11450-4", "Problèmes de santé", True),
    ("Immunization", "11369-6", "Vaccinations", False),
    ("Observation", "8716-3", "Mesures", False),
    ("RelatedPerson", "56864-2", "Contacts et personne de confiance", False),
]


def ips_bundle(session: Session, actor: Actor, patient_id: uuid.UUID, base: str) -> dict[str, Any]:
    """The IPS document Bundle of what the reader may see of this record."""
    authorize(
        session,
        actor,
        patient_id,
        Action.READ,
        resource_type="Patient",
        audit_action="read",
        detail="summary",
    )
    patient = session.get(Patient, patient_id)
    assert patient is not None
    now = clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
    patient_url = f"urn:uuid:{patient_id}"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "id": str(patient_id),
                "identifier": [{"system": f"urn:oid:{patient.ins_oid}", "value": patient.nir}],
                "name": [
                    {"family": patient.birth_name, "given": patient.birth_given_names.split()}
                ],
                "birthDate": patient.birth_date.isoformat(),
                "gender": {"M": "male", "F": "female"}.get(patient.sex, "unknown"),
            },
        }
    ]
    sections = []
    for resource_type, loinc, title, required in SECTIONS:
        rows = service.entries_of(session, patient_id, resource_type)
        refs, lines = [], []
        for row in rows:
            url = f"urn:uuid:{row.id}"
            resource = orjson.loads(row.resource)
            _reference_patient(resource, patient_url)
            entries.append({"fullUrl": url, "resource": resource})
            refs.append({"reference": url})
            lines.append(escape(row.display + (f" — {row.value}" if row.value else "")))
        section: dict[str, Any] = {
            "title": title,
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "text": {
                "status": "generated",
                "div": '<div xmlns="http://www.w3.org/1999/xhtml">'
                + (
                    "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"
                    if lines
                    else "<p>Aucune information.</p>"
                )
                + "</div>",
            },
        }
        if refs:
            section["entry"] = refs
        elif required:
            section["emptyReason"] = {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                        "code": "unavailable",
                    }
                ]
            }
        else:
            continue
        sections.append(section)
    composition = {
        "resourceType": "Composition",
        "id": str(uuid.uuid4()),
        "status": "final",
        "type": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "60591-5",
                    "display": "Patient summary Document",
                }
            ]
        },
        "subject": {"reference": patient_url},
        "date": now,
        "author": [{"display": "Carnet"}],
        "title": "Synthèse du dossier (Patient Summary)",
        "confidentiality": "N",
        "section": sections,
    }
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "document",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "timestamp": now,
        "entry": [{"fullUrl": f"urn:uuid:{composition['id']}", "resource": composition}, *entries],
    }
    return bundle


def _reference_patient(resource: dict[str, Any], patient_url: str) -> None:
    for key in ("patient", "subject"):
        if key in resource:
            resource[key] = {"reference": patient_url}


# --- The printable emergency summary -------------------------------------------------------


@dataclass(frozen=True)
class EmergencyView:
    """What an emergency doctor needs first, within what the reader may see."""

    name: str
    born: str
    sex: str
    allergies: list[tuple[str, str]]  # (what, criticality)
    treatments: list[tuple[str, str]]  # (what, dosage)
    conditions: list[str]
    blood_group: str | None
    contacts: list[tuple[str, str, str]]  # (name, role, telecom)
    organ_donation: str | None
    advance_directives: list[str]  # visible documents' titles and dates
    emergency_mode: bool
    printed_at: str


def emergency_view(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, facts: RecordFacts | None = None
) -> EmergencyView:
    """``facts``: the record's facts, when this transaction loaded them already."""
    from carnet.documents import service as documents
    from carnet.terminology.documents import ADVANCE_DIRECTIVES

    decision = authorize(
        session,
        actor,
        patient_id,
        Action.READ,
        resource_type="Patient",
        audit_action="read",
        detail="emergency summary",
        facts=facts,
    )
    patient = session.get(Patient, patient_id)
    assert patient is not None

    def rows(kind: str) -> list[ProfileEntry]:
        return [
            e
            for e in service.entries_of(session, patient_id, kind)
            if e.status not in ("inactive", "resolved", "completed", "stopped")
        ]

    # Only the two codes: a connected app's daily measurements must never push them out.
    observations = service.entries_of(
        session,
        patient_id,
        "Observation",
        service.ProfileQuery(codes=[BLOOD_GROUP_LOINC, ORGAN_DONATION]),
    )
    blood = next((o.value for o in observations if o.code == BLOOD_GROUP_LOINC), None)
    donation = next((o.value for o in observations if o.code == ORGAN_DONATION), None)
    directives: list[str] = []
    try:
        found = documents.search(
            session, actor, patient_id, documents.DocumentQuery(types=[ADVANCE_DIRECTIVES], count=5)
        )
        for resource in found.resources:
            parsed = orjson.loads(resource)
            directives.append(
                f"{parsed['content'][0]['attachment']['title']} ({parsed['date'][:10]})"
            )
    except AccessDenied:
        directives = []
    return EmergencyView(
        name=patient.display_name.title(),
        born=patient.birth_date.strftime("%d/%m/%Y"),
        sex={"M": "homme", "F": "femme"}.get(patient.sex, "non précisé"),
        allergies=[(e.display, e.value or "") for e in rows("AllergyIntolerance")],
        treatments=[(e.display, "") for e in rows("MedicationStatement")],
        conditions=[e.display for e in rows("Condition")],
        blood_group=blood,
        contacts=[
            (e.display, CONTACT_ROLES.get(e.code or "", e.code or ""), e.value or "")
            for e in rows("RelatedPerson")
        ],
        organ_donation=donation,
        advance_directives=directives,
        emergency_mode=decision.emergency,
        printed_at=clock.now().strftime("%d/%m/%Y %H:%M UTC"),
    )
