"""AuditEvent (IHE BALP style) from trail rows. Pure mapping."""

from __future__ import annotations

from typing import Any

from carnet.audit.models import AuditEntry
from carnet.audit.words import describe

ACTION_CODES = {"read": "R", "search": "E", "lookup": "E", "write": "C", "read_trail": "E"}
SUBTYPES = {
    "read": "read",
    "search": "search-type",
    "lookup": "search-type",
    "write": "create",
    "read_trail": "search-type",
}
PURPOSE = {
    "normal": ("TREAT", "treatment"),
    "emergency": ("BTG", "break the glass"),
    "regulator": ("ETREAT", "emergency treatment"),
}
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"


def audit_event(
    entry: AuditEntry, *, lang: str = "fr", profession_label: str | None = None
) -> dict[str, Any]:
    text = describe(entry, lang, profession_label)
    purpose_code, purpose_display = PURPOSE.get(entry.mode, PURPOSE["normal"])
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                    "code": "humanuser" if entry.actor_kind != "app" else "dataprocessor",
                }
            ]
        },
        "requestor": True,
        "name": entry.actor_name or entry.actor_kind,
    }
    if entry.actor_kind == "professional" and entry.actor_ref:
        agent["who"] = {
            "identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": entry.actor_ref}
        }
    if entry.actor_profession:
        agent["role"] = [
            {
                "coding": [
                    {
                        "system": "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/"
                        "TRE-G15-ProfessionSante",
                        "code": entry.actor_profession,
                        "display": profession_label or entry.actor_profession,
                    }
                ]
            }
        ]
    if entry.client_id:
        agent["altId"] = entry.client_id
    entities: list[dict[str, Any]] = []
    if entry.patient_id:
        entities.append(
            {
                "what": {"reference": f"Patient/{entry.patient_id}"},
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
            }
        )
    if entry.resource_type and entry.resource_id:
        entities.append({"what": {"reference": f"{entry.resource_type}/{entry.resource_id}"}})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(entry.id),
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{_escape(text)}</div>',
        },
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "action": ACTION_CODES.get(entry.action, "E"),
        "recorded": entry.recorded_at.isoformat().replace("+00:00", "Z"),
        "outcome": "0" if entry.outcome == "allowed" else "4",
        "outcomeDesc": text,
        "purposeOfEvent": [
            {
                "coding": [
                    {"system": ACT_REASON, "code": purpose_code, "display": purpose_display}
                ],
                **({"text": entry.reason} if entry.reason else {}),
            }
        ],
        "agent": [agent],
        "source": {
            "observer": {"display": "Carnet"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "3",
                    "display": "Web Server",
                }
            ],
        },
        "entity": entities,
    }
    if entry.action in SUBTYPES:
        event["subtype"] = [
            {"system": "http://hl7.org/fhir/restful-interaction", "code": SUBTYPES[entry.action]}
        ]
    else:
        event["subtype"] = [{"system": "urn:carnet:audit-action", "code": entry.action}]
    return event


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
