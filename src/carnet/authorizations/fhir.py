"""Consent resources for authorizations, and parsing of incoming ones. Pure mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carnet.authorizations.models import Authorization, AuthorizationStatus
from carnet.errors import Invalid
from carnet.professionals.models import Professional

PS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
TREATING_DOCTOR_URL = (
    "https://interop.esante.gouv.fr/ig/fhir/pdsm4dmp/StructureDefinition/dmp-medecin-traitant"
)
SOURCE_URL = "https://carnet.invalid/fhir/StructureDefinition/consent-source"


def consent_resource(row: Authorization, professional: Professional) -> dict[str, Any]:
    status = AuthorizationStatus(row.status)
    return {
        "resourceType": "Consent",
        "id": str(row.id),
        "meta": {
            "versionId": str(row.version),
            "lastUpdated": row.updated_at.isoformat().replace("+00:00", "Z"),
        },
        "extension": [
            {"url": TREATING_DOCTOR_URL, "valueBoolean": row.treating_doctor},
            {"url": SOURCE_URL, "valueCode": row.source},
        ],
        "status": "inactive" if status is AuthorizationStatus.REVOKED else "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}
                ]
            }
        ],
        "patient": {"reference": f"Patient/{row.patient_id}"},
        "dateTime": (row.granted_at or row.updated_at).isoformat().replace("+00:00", "Z"),
        "policyRule": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "OPTIN" if status is not AuthorizationStatus.BLOCKED else "OPTOUT",
                }
            ]
        },
        "provision": {
            "type": "deny" if status is AuthorizationStatus.BLOCKED else "permit",
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "PRCP",
                                "display": "primary information recipient",
                            }
                        ]
                    },
                    "reference": {
                        "identifier": {"system": PS_SYSTEM, "value": professional.ps_idnat},
                        "display": professional.display_name,
                    },
                }
            ],
        },
    }


@dataclass(frozen=True)
class ConsentRequest:
    patient_ref: str
    ps_idnat: str
    status: str  # active | inactive
    provision: str  # permit | deny
    treating_doctor: bool
    verified: bool  # the patient's consent was explicitly confirmed (professional declaration)


def parse_consent(body: Any) -> ConsentRequest:
    if not isinstance(body, dict) or body.get("resourceType") != "Consent":
        raise Invalid("The body must be a FHIR Consent resource.", field="resourceType")
    from fhir.resources.R4B.consent import Consent
    from pydantic import ValidationError

    try:
        Consent.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Invalid(f"Invalid Consent: {first.get('msg')}", field=f"Consent.{where}") from None
    patient_ref = str((body.get("patient") or {}).get("reference") or "")
    if not patient_ref.startswith("Patient/"):
        raise Invalid("Consent.patient must reference Patient/<id>.", field="Consent.patient")
    provision = body.get("provision") or {}
    actors = provision.get("actor") or []
    if len(actors) != 1:
        raise Invalid(
            "Consent.provision.actor must name exactly one professional.",
            field="Consent.provision.actor",
        )
    identifier = ((actors[0].get("reference") or {}).get("identifier")) or {}
    if identifier.get("system") != PS_SYSTEM or not identifier.get("value"):
        raise Invalid(
            f"The professional must be identified by PS_IdNat (system {PS_SYSTEM}).",
            field="Consent.provision.actor.reference.identifier",
        )
    treating = any(
        ext.get("url") == TREATING_DOCTOR_URL and ext.get("valueBoolean") is True
        for ext in body.get("extension") or []
    )
    verified = any(v.get("verified") is True for v in body.get("verification") or [])
    kind = provision.get("type", "permit")
    if kind not in ("permit", "deny"):
        raise Invalid(
            "Consent.provision.type must be permit or deny.", field="Consent.provision.type"
        )
    return ConsentRequest(
        patient_ref.removeprefix("Patient/"),
        str(identifier["value"]),
        str(body.get("status")),
        kind,
        treating,
        verified,
    )
