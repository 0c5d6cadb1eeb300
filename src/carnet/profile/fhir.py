"""Profile resources at the edge: validate incoming FHIR (fhir.resources R4B), pick out the
searchable fields, and stamp what Carnet owns (id, subject, source). Pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from carnet.errors import Invalid
from carnet.profile.models import RESOURCE_TYPES

SOURCE_URL = "https://carnet.invalid/fhir/StructureDefinition/entry-source"
CIS_SYSTEM = "urn:oid:1.2.250.1.213.2.3.1"  # ANSM CIS (BDPM medicinal product code)
SUBSTANCE_SYSTEM = "https://carnet.invalid/fhir/CodeSystem/ansm-substance"
CLASS_SYSTEM = "https://carnet.invalid/fhir/CodeSystem/ansm-class"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
WISHES_SYSTEM = "https://carnet.invalid/fhir/CodeSystem/wishes"
ORGAN_DONATION = "organ-donation"
BLOOD_GROUP_LOINC = "882-1"  # ABO and Rh group [Type] in Blood
CONTACT_ROLES = {"C": "contact d'urgence", "PERSONNE_CONFIANCE": "personne de confiance"}

_MODELS: dict[str, Any] = {}


def _model(resource_type: str) -> Any:
    if resource_type not in _MODELS:
        from fhir.resources.R4B import get_fhir_model_class

        _MODELS[resource_type] = get_fhir_model_class(resource_type)
    return _MODELS[resource_type]


@dataclass
class ProfileInput:
    resource_type: str
    status: str
    code_system: str | None
    code: str | None
    display: str
    category: str | None
    substances: tuple[str, ...]
    effective: datetime | None
    value: str | None
    resource: dict[str, Any]


def parse_resource(body: Any, resource_type: str) -> ProfileInput:
    """Check an incoming resource of ``resource_type`` and pick its searchable fields."""
    if resource_type not in RESOURCE_TYPES:
        raise Invalid(f"Unsupported resource type {resource_type!r}.", field="resourceType")
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        raise Invalid(f"The body must be a FHIR {resource_type}.", field="resourceType")
    body = {k: v for k, v in body.items() if k not in ("id", "meta", "text")}
    body.setdefault(
        "patient"
        if resource_type in ("AllergyIntolerance", "Immunization", "RelatedPerson")
        else "subject",
        {"reference": "Patient/placeholder"},
    )
    try:
        _model(resource_type).model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith("__"))
        raise Invalid(
            f"Invalid {resource_type}: {first.get('msg')}",
            field=f"{resource_type}.{where}" if where else resource_type,
        ) from None
    _check_required_codes(body, resource_type)
    extract = _EXTRACTORS[resource_type]
    return ProfileInput(resource_type=resource_type, resource=body, **extract(body))


# Elements whose value set binding is "required" in FHIR R4 (fhir.resources checks the type of
# a code, not its value set).
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("AllergyIntolerance", "criticality"): frozenset({"low", "high", "unable-to-assess"}),
    ("AllergyIntolerance", "type"): frozenset({"allergy", "intolerance"}),
    ("AllergyIntolerance", "category"): frozenset(
        {"food", "medication", "environment", "biologic"}
    ),
    ("MedicationStatement", "status"): frozenset(
        {
            "active",
            "completed",
            "entered-in-error",
            "intended",
            "stopped",
            "on-hold",
            "unknown",
            "not-taken",
        }
    ),
    ("MedicationRequest", "status"): frozenset(
        {
            "active",
            "on-hold",
            "cancelled",
            "completed",
            "entered-in-error",
            "stopped",
            "draft",
            "unknown",
        }
    ),
    ("MedicationRequest", "intent"): frozenset(
        {
            "proposal",
            "plan",
            "order",
            "original-order",
            "reflex-order",
            "filler-order",
            "instance-order",
            "option",
        }
    ),
    ("Observation", "status"): frozenset(
        {
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    ),
    ("Immunization", "status"): frozenset({"completed", "entered-in-error", "not-done"}),
}


def _check_required_codes(body: dict[str, Any], resource_type: str) -> None:
    for (kind, element), allowed in REQUIRED_CODES.items():
        if kind != resource_type or element not in body:
            continue
        values = body[element] if isinstance(body[element], list) else [body[element]]
        for value in values:
            if value not in allowed:
                raise Invalid(
                    f"{resource_type}.{element} must be one of {', '.join(sorted(allowed))}.",
                    field=f"{resource_type}.{element}",
                )


def _first_coding(concept: Any) -> tuple[str | None, str | None, str]:
    concept = concept or {}
    codings = concept.get("coding") or []
    coding = codings[0] if codings else {}
    display = str(concept.get("text") or coding.get("display") or coding.get("code") or "")
    return coding.get("system"), coding.get("code"), display[:300]


def _status(concept: Any, default: str) -> str:
    _, code, _ = _first_coding(concept)
    return str(code or default)


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value)
    if len(text) == 4:
        text += "-01-01"
    if len(text) == 7:
        text += "-01"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _need(display: str, field: str) -> str:
    if not display:
        raise Invalid("A code or a text naming the entry is required.", field=field)
    return display


def resolve_substances(concept: Any) -> tuple[str, ...]:
    """ANSM substance names behind a coded or free-text drug / allergen (empty when unknown)."""
    from carnet.terminology import drugs

    found: list[str] = []
    for coding in (concept or {}).get("coding") or []:
        system, code = coding.get("system"), str(coding.get("code") or "")
        if system == CIS_SYSTEM and code:
            found += list(drugs.substances_of(code))
        elif system in (SUBSTANCE_SYSTEM, CLASS_SYSTEM) and code:
            found.append(drugs.normalise_substance(code))
    if not found:
        text = str((concept or {}).get("text") or "")
        names = [text, *[str(c.get("display") or "") for c in (concept or {}).get("coding") or []]]
        for name in names:
            if not name:
                continue
            substance = drugs.substance(name)
            if substance is not None:
                found.append(substance.name)
                break
            matches = drugs.search_medications(name, limit=1)
            if matches:
                found += list(drugs.substances_of(matches[0].cis))
                break
    return tuple(dict.fromkeys(found))


def _allergy(body: dict[str, Any]) -> dict[str, Any]:
    system, code, display = _first_coding(body.get("code"))
    return dict(
        status=_status(body.get("clinicalStatus"), "active"),
        code_system=system,
        code=code,
        display=_need(display, "AllergyIntolerance.code"),
        category=",".join(body.get("category") or []) or None,
        substances=resolve_substances(body.get("code")),
        effective=_when(body.get("onsetDateTime") or body.get("recordedDate")),
        value=body.get("criticality"),
    )


def _medication(body: dict[str, Any]) -> dict[str, Any]:
    concept = body.get("medicationCodeableConcept")
    if concept is None:
        raise Invalid(
            "Give the medication as medicationCodeableConcept (CIS code, substance or text).",
            field=f"{body['resourceType']}.medicationCodeableConcept",
        )
    system, code, display = _first_coding(concept)
    period = body.get("effectivePeriod") or {}
    when = body.get("effectiveDateTime") or period.get("start") or body.get("authoredOn")
    dosage = (body.get("dosage") or body.get("dosageInstruction") or [{}])[0]
    return dict(
        status=str(body.get("status") or "active"),
        code_system=system,
        code=code,
        display=_need(display, f"{body['resourceType']}.medicationCodeableConcept"),
        category=None,
        substances=resolve_substances(concept),
        effective=_when(when),
        value=str(dosage.get("text"))[:120] if dosage.get("text") else None,
    )


def _condition(body: dict[str, Any]) -> dict[str, Any]:
    system, code, display = _first_coding(body.get("code"))
    category = _first_coding((body.get("category") or [None])[0])[1]
    return dict(
        status=_status(body.get("clinicalStatus"), "active"),
        code_system=system,
        code=code,
        display=_need(display, "Condition.code"),
        category=category,
        substances=(),
        effective=_when(body.get("onsetDateTime") or body.get("recordedDate")),
        value=None,
    )


def _immunization(body: dict[str, Any]) -> dict[str, Any]:
    system, code, display = _first_coding(body.get("vaccineCode"))
    return dict(
        status=str(body.get("status") or "completed"),
        code_system=system,
        code=code,
        display=_need(display, "Immunization.vaccineCode"),
        category=None,
        substances=(),
        effective=_when(body.get("occurrenceDateTime")),
        value=None,
    )


def _observation(body: dict[str, Any]) -> dict[str, Any]:
    system, code, display = _first_coding(body.get("code"))
    if code == BLOOD_GROUP_LOINC:
        _check_blood_group(body.get("valueCodeableConcept"))
    category = _first_coding((body.get("category") or [None])[0])[1]
    value: str | None = None
    if body.get("valueQuantity"):
        quantity = body["valueQuantity"]
        value = f"{quantity.get('value')} {quantity.get('unit') or quantity.get('code') or ''}"
    elif body.get("valueCodeableConcept"):
        value = _first_coding(body["valueCodeableConcept"])[2]
    elif "valueBoolean" in body:
        value = "oui" if body["valueBoolean"] else "non"
    elif body.get("valueString"):
        value = str(body["valueString"])
    elif body.get("component"):
        parts = []
        for component in body["component"]:
            quantity = component.get("valueQuantity") or {}
            parts.append(str(quantity.get("value")))
        value = (
            "/".join(parts)
            + " "
            + str((body["component"][0].get("valueQuantity") or {}).get("unit") or "")
        )
    return dict(
        status=str(body.get("status") or "final"),
        code_system=system,
        code=code,
        display=_need(display, "Observation.code"),
        category=category,
        substances=(),
        effective=_when(body.get("effectiveDateTime") or body.get("issued")),
        value=value.strip()[:120] if value else None,
    )


def _check_blood_group(value: Any) -> None:
    """A blood group is coded (SNOMED CT, JDV_GroupeRhesus): free text is not enough here."""
    from carnet.terminology import labs

    known = {(c.system, c.code) for c in labs.blood_groups()}
    codings = (value or {}).get("coding") or []
    if not any((c.get("system"), c.get("code")) in known for c in codings):
        raise Invalid(
            "A blood group is given as a SNOMED CT code of JDV_GroupeRhesus "
            "(e.g. 278149003 A positif).",
            field="Observation.valueCodeableConcept",
        )


def _related(body: dict[str, Any]) -> dict[str, Any]:
    names = body.get("name") or [{}]
    name = names[0]
    display = str(
        name.get("text") or " ".join([*(name.get("given") or []), str(name.get("family") or "")])
    ).strip()
    _, role, role_display = _first_coding((body.get("relationship") or [None])[0])
    telecom = ", ".join(str(t.get("value")) for t in body.get("telecom") or [] if t.get("value"))
    return dict(
        status="active" if body.get("active", True) else "inactive",
        code_system=None,
        code=role,
        display=_need(display, "RelatedPerson.name"),
        category=role,
        substances=(),
        effective=None,
        value=(telecom or role_display or None),
    )


_EXTRACTORS = {
    "AllergyIntolerance": _allergy,
    "MedicationStatement": _medication,
    "MedicationRequest": _medication,
    "Condition": _condition,
    "Immunization": _immunization,
    "Observation": _observation,
    "RelatedPerson": _related,
}


def stamp(
    resource: dict[str, Any],
    *,
    entry_id: uuid.UUID,
    patient_id: uuid.UUID,
    version: int,
    updated: datetime,
    source_kind: str,
    source_ref: str,
    source_name: str | None,
) -> str:
    """The stored JSON: our id, version, subject, and the source of the entry."""
    out = dict(resource)
    out["id"] = str(entry_id)
    out["meta"] = {
        "versionId": str(version),
        "lastUpdated": updated.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    key = (
        "patient"
        if out["resourceType"] in ("AllergyIntolerance", "Immunization", "RelatedPerson")
        else "subject"
    )
    out[key] = {"reference": f"Patient/{patient_id}"}
    extensions = [e for e in out.get("extension") or [] if e.get("url") != SOURCE_URL]
    extensions.append(
        {
            "url": SOURCE_URL,
            "extension": [
                {"url": "kind", "valueCode": source_kind},
                {"url": "reference", "valueString": source_ref},
                *([{"url": "name", "valueString": source_name}] if source_name else []),
            ],
        }
    )
    out["extension"] = extensions
    return orjson.dumps(out).decode()
