"""Patient resources for the record lookup (TD0.2). Professionals get the record's status and
their own standing, not the identity traits (RG_0320); the holder gets their identity."""

from __future__ import annotations

from typing import Any

from carnet.identity import ins_system
from carnet.records.models import RecordStatus

PDSM4DMP_SD = "https://interop.esante.gouv.fr/ig/fhir/pdsm4dmp/StructureDefinition/"
CARNET_SD = "https://carnet.invalid/fhir/StructureDefinition/"
AUTHORIZATION_CODES = {
    "active": "VALIDE",
    "blocked": "INTERDIT",
    "revoked": "NON_EXISTE",
    None: "NON_EXISTE",
}


def patient_resource(view: Any) -> dict[str, Any]:
    patient, record = view.patient, view.record
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [
            {
                "use": "official",
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NH"}
                    ]
                },
                "system": ins_system(patient.ins_oid),
                "value": patient.nir,
            }
        ],
        "active": view.status is RecordStatus.OPEN,
    }
    extensions: list[dict[str, Any]] = [
        {"url": CARNET_SD + "dmp-statut", "valueCode": view.status.value},
        {
            "url": PDSM4DMP_SD + "dmp-rattachement-mes",
            "valueBoolean": record.activated_at is not None,
        },
    ]
    if view.status is RecordStatus.CLOSED:
        closure: list[dict[str, Any]] = [
            {"url": "date", "valueDateTime": _iso(record.closed_at)},
            {"url": "motif", "valueCode": record.closure_reason or ""},
        ]
        if record.closure_comment:
            closure.append({"url": "commentaire", "valueString": record.closure_comment})
        extensions.append({"url": PDSM4DMP_SD + "dmp-fermeture", "extension": closure})
    if not view.holder_view:
        extensions.append(
            {"url": PDSM4DMP_SD + "dmp-medecin-traitant", "valueBoolean": view.treating_doctor}
        )
        extensions.append(
            {
                "url": CARNET_SD + "dmp-autorisation",
                "valueCode": AUTHORIZATION_CODES.get(view.authorization, "NON_EXISTE"),
            }
        )
    else:
        extensions.append(
            {
                "url": CARNET_SD + "opposition-bris-de-glace",
                "valueBoolean": record.emergency_access_opposed,
            }
        )
        extensions.append(
            {
                "url": CARNET_SD + "opposition-regulation",
                "valueBoolean": record.regulator_access_opposed,
            }
        )
        resource["name"] = [
            {
                "use": "official",
                "family": patient.birth_name,
                "given": patient.birth_given_names.split(),
            }
        ]
        if patient.used_name or patient.used_given_name:
            resource["name"].append(
                {"use": "usual", "family": patient.family_name, "given": [patient.given_name]}
            )
        resource["birthDate"] = patient.birth_date.isoformat()
        resource["gender"] = {"M": "male", "F": "female"}.get(patient.sex, "unknown")
    resource["extension"] = extensions
    return resource


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
