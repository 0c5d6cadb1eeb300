"""The portal's profile forms: plain form fields ⇄ the FHIR resources of the profile. Each
section of the page has one small form; ``build`` turns its fields into a resource (errors name
the form field), ``initial`` reads a stored resource back into the fields for editing. Coded
where the value sets allow (ANSM substances, BDPM drugs, ATC vaccines, LOINC vital signs,
SNOMED CT blood groups), free text otherwise. Pure: no database, no HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from carnet.errors import Invalid
from carnet.profile.fhir import (
    BLOOD_GROUP_LOINC,
    CIS_SYSTEM,
    LOINC,
    ORGAN_DONATION,
    SNOMED,
    SUBSTANCE_SYSTEM,
    WISHES_SYSTEM,
)
from carnet.terminology import drugs, labs

ATC = "http://www.whocc.no/atc"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONTACT_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0131"
CARNET_CONTACT_ROLES = "https://carnet.invalid/fhir/CodeSystem/contact-role"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True)
class Section:
    slug: str  # the URL segment, French like the other portal paths
    resource_type: str
    title: str  # English key, translated by the catalogue


SECTIONS: tuple[Section, ...] = (
    Section("allergies", "AllergyIntolerance", "Allergies and intolerances"),
    Section("traitements", "MedicationStatement", "Current treatments"),
    Section("antecedents", "Condition", "Health problems"),
    Section("vaccinations", "Immunization", "Vaccinations"),
    Section("mesures", "Observation", "Measurements"),
    Section("contacts", "RelatedPerson", "Emergency contacts"),
    Section("volontes", "Observation", "Wishes"),
)
BY_SLUG = {s.slug: s for s in SECTIONS}

# Measurements a patient enters themselves: LOINC code → (unit shown, UCUM code, min, max)
MEASURES: dict[str, tuple[str, str, float, float]] = {
    "29463-7": ("kg", "kg", 0.2, 500),  # Poids
    "8302-2": ("cm", "cm", 20, 260),  # Taille
    "8480-6": ("mmHg", "mm[Hg]", 40, 300),  # Pression artérielle systolique
    "8462-4": ("mmHg", "mm[Hg]", 20, 200),  # Pression artérielle diastolique
    "8867-4": ("/min", "/min", 20, 250),  # Fréquence cardiaque
    "8310-5": ("°C", "Cel", 30, 45),  # Température corporelle
    "20564-1": ("%", "%", 50, 100),  # Saturation en O2
    "8280-0": ("cm", "cm", 20, 250),  # Périmètre abdominal
    "2339-0": ("g/L", "g/L", 0.1, 10),  # Glycémie
}
GLUCOSE_LABEL = "Glycémie"
CRITICALITIES = ("high", "low", "unable-to-assess")
ALLERGY_CATEGORIES = ("medication", "food", "environment", "biologic")
CONTACT_ROLES = ("C", "PERSONNE_CONFIANCE")


def section(slug: str) -> Section:
    found = BY_SLUG.get(slug)
    if found is None:
        raise Invalid("Unknown section.", field="section")
    return found


def section_of(resource_type: str, code: str | None) -> Section:
    """The section an entry is shown in (wishes and measurements are both Observations)."""
    if resource_type == "Observation":
        return BY_SLUG["volontes" if code == ORGAN_DONATION else "mesures"]
    return next(s for s in SECTIONS if s.resource_type == resource_type)


def measure_choices() -> list[tuple[str, str, str]]:
    """(LOINC code, French label, unit) of the measurements offered in the form."""
    labels = {c.code: c.display for c in labs.vital_signs()}
    labels["2339-0"] = GLUCOSE_LABEL
    return [(code, labels.get(code, code), unit) for code, (unit, _, _, _) in MEASURES.items()]


def blood_group_choices() -> list[tuple[str, str]]:
    return [(c.code, c.display) for c in labs.blood_groups()]


def vaccine_choices() -> list[tuple[str, str]]:
    return sorted(((c.code, c.display) for c in labs.vaccines()), key=lambda c: c[1])


def search_choices(slug: str, text: str, data_dir: Path | None) -> list[tuple[str, str]]:
    """Name search in the reference data for the plain-list fallback: (code, label)."""
    text = text.strip()
    if len(text) < 2:
        return []
    if slug == "allergies":
        return [(s.name, s.label) for s in drugs.search_substances(text, 10, data_dir=data_dir)]
    if slug == "traitements":
        return [(m.cis, m.name) for m in drugs.search_medications(text, 10, data_dir=data_dir)]
    return []


# --- fields → resource ------------------------------------------------------------------------


def _text(fields: dict[str, str], name: str, limit: int = 200) -> str:
    value = " ".join(fields.get(name, "").split())
    if len(value) > limit:
        raise Invalid("This text is too long.", field=name)
    return value


def _required(fields: dict[str, str], name: str, message: str, limit: int = 200) -> str:
    value = _text(fields, name, limit)
    if not value:
        raise Invalid(message, field=name)
    return value


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: str, name: str, today: date, *, required: bool = False) -> date | None:
    """A date as the browser's date picker sends it (YYYY-MM-DD) or typed (DD/MM/YYYY)."""
    value = value.strip()
    if not value:
        if required:
            raise Invalid("Give the date.", field=name)
        return None
    try:
        found = _DMY.fullmatch(value)
        if found:
            day, month, year = (int(g) for g in found.groups())
            parsed = date(year, month, day)
        else:
            parsed = date.fromisoformat(value)
    except ValueError:
        raise Invalid("Give the date as DD/MM/YYYY.", field=name) from None
    if parsed > today:
        raise Invalid("The date cannot be in the future.", field=name)
    if parsed.year < 1900:
        raise Invalid("Give the date as DD/MM/YYYY.", field=name)
    return parsed


def build(
    slug: str, fields: dict[str, str], *, today: date, data_dir: Path | None = None
) -> dict[str, Any]:
    """The FHIR resource a section's form describes; ``Invalid`` names the form field."""
    builders = {
        "allergies": _allergy,
        "traitements": _treatment,
        "antecedents": _condition,
        "vaccinations": _vaccination,
        "mesures": _measurement,
        "contacts": _contact,
        "volontes": _wish,
    }
    section(slug)
    resource: dict[str, Any] = builders[slug](fields, today, data_dir)
    return resource


def _chosen_or_typed(
    fields: dict[str, str],
    chosen: Callable[[str], tuple[str, str, str] | None],
    *,
    unknown: str,
    missing: str,
) -> dict[str, Any]:
    """The concept of a form that offers a list (``code``: coded with its system, code and
    label, as ``chosen`` finds it) or a free name (``name``: text only)."""
    code = fields.get("code", "").strip()
    if code:
        found = chosen(code)
        if found is None:
            raise Invalid(unknown, field="code")
        system, value, label = found
        return {"coding": [{"system": system, "code": value, "display": label}], "text": label}
    name = _text(fields, "name")
    if not name:
        raise Invalid(missing, field="name")
    return {"text": name}


def _allergy(fields: dict[str, str], today: date, data_dir: Path | None) -> dict[str, Any]:
    def substance(code: str) -> tuple[str, str, str] | None:
        found = drugs.substance(code, data_dir=data_dir)
        return (SUBSTANCE_SYSTEM, found.name, found.label) if found else None

    concept = _chosen_or_typed(
        fields,
        substance,
        unknown="Choose a substance from the list, or type its name.",
        missing="Give the substance or the food you react to.",
    )
    category = fields.get("category", "").strip()
    if category and category not in ALLERGY_CATEGORIES:
        raise Invalid("Choose a kind from the list.", field="category")
    criticality = fields.get("criticality", "").strip()
    if criticality and criticality not in CRITICALITIES:
        raise Invalid("Choose a severity from the list.", field="criticality")
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
        "code": concept,
    }
    if category:
        resource["category"] = [category]
    if criticality:
        resource["criticality"] = criticality
    reaction = _text(fields, "reaction")
    if reaction:
        resource["reaction"] = [{"manifestation": [{"text": reaction}]}]
    since = parse_date(fields.get("since", ""), "since", today)
    if since:
        resource["onsetDateTime"] = since.isoformat()
    return resource


def _treatment(fields: dict[str, str], today: date, data_dir: Path | None) -> dict[str, Any]:
    def medicine(code: str) -> tuple[str, str, str] | None:
        product = drugs.medication(code, data_dir=data_dir)
        return (CIS_SYSTEM, product.cis, product.name) if product else None

    concept = _chosen_or_typed(
        fields,
        medicine,
        unknown="Choose a medicine from the list, or type its name.",
        missing="Give the name of the medicine.",
    )
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": concept,
    }
    since = parse_date(fields.get("since", ""), "since", today)
    if since:
        resource["effectivePeriod"] = {"start": since.isoformat()}
    dosage = _text(fields, "dosage")
    if dosage:
        resource["dosage"] = [{"text": dosage}]
    return resource


def _condition(fields: dict[str, str], today: date, _: Path | None) -> dict[str, Any]:
    name = _required(fields, "name", "Give the health problem.")
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "code": {"text": name},
    }
    since = parse_date(fields.get("since", ""), "since", today)
    if since:
        resource["onsetDateTime"] = since.isoformat()
    return resource


def _vaccination(fields: dict[str, str], today: date, _: Path | None) -> dict[str, Any]:
    code = fields.get("vaccine", "").strip()
    name = _text(fields, "name")
    known = dict(vaccine_choices())
    concept: dict[str, Any]
    if code:
        if code not in known:
            raise Invalid("Choose a vaccine from the list.", field="vaccine")
        concept = {"coding": [{"system": ATC, "code": code, "display": known[code]}]}
        if name:
            concept["text"] = name
    else:
        if not name:
            raise Invalid("Choose a vaccine from the list, or type its name.", field="vaccine")
        concept = {"text": name}
    when = parse_date(fields.get("date", ""), "date", today, required=True)
    assert when is not None
    return {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": concept,
        "occurrenceDateTime": when.isoformat(),
    }


def _number(value: str, name: str) -> float:
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        raise Invalid("Give a number, e.g. 62.5.", field=name) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Invalid("Give a number, e.g. 62.5.", field=name)
    return number


def _when(fields: dict[str, str], today: date) -> str:
    when = parse_date(fields.get("date", ""), "date", today) or today
    return when.isoformat()


def _measurement(fields: dict[str, str], today: date, _: Path | None) -> dict[str, Any]:
    kind = fields.get("kind", "").strip()
    if kind == BLOOD_GROUP_LOINC:
        groups = dict(blood_group_choices())
        chosen = fields.get("blood_group", "").strip()
        if chosen not in groups:
            raise Invalid("Choose your blood group from the list.", field="blood_group")
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {
                "coding": [
                    {"system": LOINC, "code": BLOOD_GROUP_LOINC, "display": "Groupe sanguin"}
                ]
            },
            "valueCodeableConcept": {
                "coding": [{"system": SNOMED, "code": chosen, "display": groups[chosen]}]
            },
            "effectiveDateTime": _when(fields, today),
        }
    labels = {code: label for code, label, _ in measure_choices()}
    if kind not in MEASURES:
        raise Invalid("Choose what you measured.", field="kind")
    if not fields.get("value", "").strip():
        raise Invalid("Give the value you measured.", field="value")
    value = _number(fields.get("value", ""), "value")
    unit, ucum, low, high = MEASURES[kind]
    if not low <= value <= high:
        raise Invalid("This value is not plausible for this measurement.", field="value")
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": OBSERVATION_CATEGORY,
                        "code": "laboratory" if kind == "2339-0" else "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": kind, "display": labels[kind]}]},
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum},
        "effectiveDateTime": _when(fields, today),
    }


_PHONE = re.compile(r"\+?[0-9 .()-]{6,24}")


def _contact(fields: dict[str, str], today: date, _: Path | None) -> dict[str, Any]:
    given = _required(fields, "given", "Give the person's first name.", 100)
    family = _required(fields, "family", "Give the person's last name.", 100)
    role = fields.get("role", "").strip() or "C"
    if role not in CONTACT_ROLES:
        raise Invalid("Choose a role from the list.", field="role")
    phone = _text(fields, "phone", 30)
    if phone and not _PHONE.fullmatch(phone):
        raise Invalid("Give a phone number, e.g. 06 12 34 56 78.", field="phone")
    relation = _text(fields, "relation", 60)
    relationship: list[dict[str, Any]] = [
        {
            "coding": [
                {"system": CONTACT_ROLE_SYSTEM, "code": "C", "display": "Contact d'urgence"}
                if role == "C"
                else {
                    "system": CARNET_CONTACT_ROLES,
                    "code": "PERSONNE_CONFIANCE",
                    "display": "Personne de confiance",
                }
            ]
        }
    ]
    if relation:
        relationship.append({"text": relation})
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "active": True,
        "relationship": relationship,
        "name": [{"family": family, "given": [given]}],
    }
    if phone:
        resource["telecom"] = [{"system": "phone", "value": phone}]
    return resource


def _wish(fields: dict[str, str], today: date, _: Path | None) -> dict[str, Any]:
    answer = fields.get("organ_donation", "").strip()
    if answer not in ("yes", "no"):
        raise Invalid("Say whether you agree to organ donation.", field="organ_donation")
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [
                {"system": WISHES_SYSTEM, "code": ORGAN_DONATION, "display": "Don d'organes"}
            ]
        },
        "valueBoolean": answer == "yes",
        "effectiveDateTime": today.isoformat(),
    }


# --- resource → fields (editing) -------------------------------------------------------------


def _coding(concept: Any) -> dict[str, Any]:
    codings = (concept or {}).get("coding") or []
    return codings[0] if codings else {}


def _day(value: Any) -> str:
    text = str(value or "")[:10]
    try:
        return datetime.fromisoformat(text).date().isoformat() if len(text) == 10 else ""
    except ValueError:
        return ""


def initial(slug: str, resource: dict[str, Any]) -> dict[str, str]:
    """The form fields that describe a stored resource (to edit it)."""
    if slug == "allergies":
        coding = _coding(resource.get("code"))
        reaction = ((resource.get("reaction") or [{}])[0].get("manifestation") or [{}])[0]
        return {
            "name": str(resource.get("code", {}).get("text") or coding.get("display") or ""),
            "code": str(coding.get("code") or "")
            if coding.get("system") == SUBSTANCE_SYSTEM
            else "",
            "category": str((resource.get("category") or [""])[0]),
            "criticality": str(resource.get("criticality") or ""),
            "reaction": str(reaction.get("text") or ""),
            "since": _day(resource.get("onsetDateTime")),
        }
    if slug == "traitements":
        concept = resource.get("medicationCodeableConcept") or {}
        coding = _coding(concept)
        return {
            "name": str(concept.get("text") or coding.get("display") or ""),
            "code": str(coding.get("code") or "") if coding.get("system") == CIS_SYSTEM else "",
            "dosage": str(((resource.get("dosage") or [{}])[0]).get("text") or ""),
            "since": _day((resource.get("effectivePeriod") or {}).get("start")),
        }
    if slug == "antecedents":
        coding = _coding(resource.get("code"))
        return {
            "name": str((resource.get("code") or {}).get("text") or coding.get("display") or ""),
            "since": _day(resource.get("onsetDateTime")),
        }
    if slug == "vaccinations":
        concept = resource.get("vaccineCode") or {}
        coding = _coding(concept)
        return {
            "vaccine": str(coding.get("code") or "") if coding.get("system") == ATC else "",
            "name": str(concept.get("text") or ""),
            "date": _day(resource.get("occurrenceDateTime")),
        }
    if slug == "mesures":
        code = str(_coding(resource.get("code")).get("code") or "")
        fields = {"kind": code, "date": _day(resource.get("effectiveDateTime"))}
        if code == BLOOD_GROUP_LOINC:
            fields["blood_group"] = str(_coding(resource.get("valueCodeableConcept")).get("code"))
        else:
            value = (resource.get("valueQuantity") or {}).get("value")
            fields["value"] = f"{value:g}" if isinstance(value, int | float) else str(value or "")
        return fields
    if slug == "contacts":
        name = (resource.get("name") or [{}])[0]
        relationship = resource.get("relationship") or []
        role = str(_coding(relationship[0] if relationship else None).get("code") or "C")
        relation = next((str(r.get("text")) for r in relationship[1:] if r.get("text")), "")
        phone = next(
            (str(t.get("value")) for t in resource.get("telecom") or [] if t.get("value")), ""
        )
        return {
            "given": " ".join(name.get("given") or []),
            "family": str(name.get("family") or ""),
            "role": role if role in CONTACT_ROLES else "C",
            "relation": relation,
            "phone": phone,
        }
    if slug == "volontes":
        return {"organ_donation": "yes" if resource.get("valueBoolean") else "no"}
    raise Invalid("Unknown section.", field="section")
