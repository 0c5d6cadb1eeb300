"""The CapabilityStatement and SMART configuration: what this server offers."""

from __future__ import annotations

from typing import Any

from carnet import __version__

RESOURCES: dict[str, dict[str, Any]] = {
    "Patient": {
        "operation": [
            {
                "name": "create-record",
                "definition": "https://carnet.invalid/fhir/OperationDefinition/Patient-create-record",
            },
            {
                "name": "reactivate-record",
                "definition": "https://carnet.invalid/fhir/OperationDefinition/Patient-reactivate-record",
            },
        ],
        "interaction": ["read", "search-type"],
        "searchParam": [
            {
                "name": "identifier",
                "type": "token",
                "documentation": "INS: urn:oid:1.2.250.1.213.1.4.8|<NIR>",
            }
        ],
    },
    "Consent": {
        "interaction": ["read", "search-type", "create", "update"],
        "searchParam": [{"name": "patient", "type": "reference"}],
    },
    "DocumentReference": {
        "interaction": ["read", "search-type"],
        "searchParam": [
            {"name": n, "type": t}
            for n, t in (
                ("patient", "reference"),
                ("patient.identifier", "token"),
                ("type", "token"),
                ("category", "token"),
                ("date", "date"),
                ("period", "date"),
                ("status", "token"),
                ("author.identifier", "token"),
                ("_lastUpdated", "date"),
            )
        ],
        "operation": [
            {
                "name": op,
                "definition": f"https://carnet.invalid/fhir/OperationDefinition/DocumentReference-{op}",
            }
            for op in ("delete", "archive", "unarchive", "hide", "unhide", "set-patient-visibility")
        ],
    },
    "Binary": {"interaction": ["read"]},
    "AuditEvent": {
        "interaction": ["search-type"],
        "searchParam": [{"name": "patient", "type": "reference"}],
    },
    "Appointment": {
        "interaction": ["read", "search-type", "create", "update"],
        "searchParam": [
            {"name": "patient", "type": "reference"},
            {"name": "date", "type": "date", "documentation": "on the start: eq, ge, gt, le, lt"},
            {"name": "status", "type": "token"},
        ],
    },
    "Communication": {  # secure messaging (docs/messaging.md)
        "interaction": ["read", "search-type", "create"],
        "searchParam": [
            {"name": "patient", "type": "reference"},
            {"name": "part-of", "type": "reference"},
        ],
    },
}


def capability_statement(
    fhir_base: str, base_url: str, extra: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    resources = {**RESOURCES, **(extra or {})}
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-22",
        "kind": "instance",
        "software": {"name": "Carnet", "version": __version__},
        "implementation": {"description": "Carnet shared health record", "url": fhir_base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [
                                {"url": "token", "valueUri": f"{base_url}/oauth/token"},
                                {"url": "authorize", "valueUri": f"{base_url}/oauth/authorize"},
                            ],
                        }
                    ],
                },
                "resource": [_resource(name, spec) for name, spec in sorted(resources.items())],
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "IHE MHD ITI-65 Provide Document Bundle",
                    }
                ],
            }
        ],
    }


def _resource(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": name,
        **spec,
        "interaction": [{"code": code} for code in spec.get("interaction", [])],
    }


def smart_configuration(base_url: str) -> dict[str, Any]:
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "grant_types_supported": [
            "authorization_code",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": [
            "RS256",
            "RS384",
            "ES256",
            "ES384",
            "EdDSA",
        ],
        "scopes_supported": [
            "openid",
            "fhirUser",
            "launch/patient",
            "patient/*.rs",
            "patient/*.cruds",
            "user/*.cruds",
        ],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": [
            "launch-standalone",
            "client-public",
            "context-standalone-patient",
            "permission-patient",
            "permission-user",
            "permission-v1",
            "permission-v2",
        ],
        "carnet_assertion_claims": {
            "sub": "PS_IdNat of the professional",
            "profession": "TRE_G15 profession code (optional; checked against the directory)",
            "patient": "INS as urn:oid:<OID>|<matricule> (binds the token to one patient)",
            "purpose_of_use": "normal | bris_de_glace | regulation",
            "reason": "mandatory with bris_de_glace",
            "confidentiality_code": (
                "INVISIBLE_REPRESENTANTS_LEGAUX: a secret connection to a minor's record "
                "(with patient)"
            ),
        },
    }
