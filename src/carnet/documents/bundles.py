"""Build ITI-65 Provide Document Bundles the way professionals' software does (used by the
demo, the benchmarks, the tests and the integrator examples). Pure: returns FHIR JSON."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from carnet import clock
from carnet.identity import OID_INS_NIR, OID_PS_IDNAT
from carnet.terminology import documents as vocab

LOINC = "http://loinc.org"
TRE_A05 = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
TRE_A03 = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
TRE_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
TRE_G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
TRE_R02 = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"


@dataclass
class Author:
    """A professional (PS_IdNat), or the patient themself (``ps_idnat=None``)."""

    ps_idnat: str | None
    given: str = ""
    family: str = ""
    profession: str | None = None
    prefix: str | None = None


@dataclass
class Doc:
    type_code: str
    content: bytes
    content_type: str = "application/pdf"
    title: str = ""
    type_system: str = LOINC
    class_code: str | None = None
    created: datetime | None = None
    service_start: datetime | None = None
    confidentiality: list[str] = field(default_factory=list)  # TRE_A07 codes
    format_code: str | None = None
    facility_type: str | None = None
    practice_setting: str | None = None
    unique_id: str | None = None
    replaces: str | None = None  # DocumentReference id of the replaced document
    inline: bool = False  # content in attachment.data instead of a Binary entry


def provide_bundle(
    nir: str,
    author: Author,
    documents: list[Doc],
    *,
    ins_oid: str = OID_INS_NIR,
    source_id: str = "urn:oid:1.2.250.1.999.1",
    when: datetime | None = None,
) -> dict[str, object]:
    subject = {"reference": f"Patient?identifier=urn:oid:{ins_oid}|{nir}"}
    contained_author = _author_resource(author, nir, ins_oid)
    entries: list[dict[str, object]] = []
    items = []
    for doc in documents:
        ref_url, bin_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
        items.append({"item": {"reference": ref_url}})
        attachment: dict[str, object] = {
            "contentType": doc.content_type,
            "language": "fr-FR",
            "size": len(doc.content),
            "hash": base64.b64encode(
                hashlib.sha1(doc.content, usedforsecurity=False).digest()
            ).decode(),
            "title": doc.title or doc.type_code,
        }
        data = base64.b64encode(doc.content).decode()
        if doc.inline:
            attachment["data"] = data
        else:
            attachment["url"] = bin_url
        created = doc.created or when or clock.now()
        reference: dict[str, object] = {
            "resourceType": "DocumentReference",
            "contained": [contained_author],
            "masterIdentifier": {
                "system": "urn:ietf:rfc:3986",
                "value": doc.unique_id or f"urn:uuid:{uuid.uuid4()}",
            },
            "status": "current",
            "type": {"coding": [{"system": doc.type_system, "code": doc.type_code}]},
            "subject": subject,
            "author": [{"reference": "#author"}],
            "securityLabel": [
                {"coding": [{"system": TRE_A07, "code": code}]} for code in doc.confidentiality
            ],
            "content": [{"attachment": attachment}],
        }
        if created:
            reference["date"] = created.isoformat()
        if doc.class_code:
            reference["category"] = [{"coding": [{"system": TRE_A03, "code": doc.class_code}]}]
        if doc.format_code:
            reference["content"] = [
                {
                    "attachment": attachment,
                    "format": _coding(
                        doc.format_code,
                        vocab.format_code(doc.format_code),
                        "urn:oid:1.2.250.1.213.1.1.4.2.282",
                    ),
                }
            ]
        context: dict[str, object] = {}
        context["period"] = {"start": (doc.service_start or created).isoformat()}
        if doc.facility_type:
            context["facilityType"] = {
                "coding": [
                    _coding(doc.facility_type, vocab.facility_type(doc.facility_type), TRE_R02)
                ]
            }
        if doc.practice_setting:  # was dropped before: the field was never sent
            practice = vocab.practice_setting(doc.practice_setting)
            context["practiceSetting"] = {
                "coding": [_coding(doc.practice_setting, practice, vocab.TRE_A01)]
            }
        if context:
            reference["context"] = context
        if doc.replaces:
            reference["relatesTo"] = [
                {"code": "replaces", "target": {"reference": f"DocumentReference/{doc.replaces}"}}
            ]
        entries.append(
            {
                "fullUrl": ref_url,
                "resource": reference,
                "request": {"method": "POST", "url": "DocumentReference"},
            }
        )
        if not doc.inline:
            entries.append(
                {
                    "fullUrl": bin_url,
                    "resource": {
                        "resourceType": "Binary",
                        "contentType": doc.content_type,
                        "data": data,
                    },
                    "request": {"method": "POST", "url": "Binary"},
                }
            )
    submission = {
        "resourceType": "List",
        "extension": [
            {
                "url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
                "valueIdentifier": {"system": "urn:ietf:rfc:3986", "value": source_id},
            }
        ],
        "identifier": [
            {"use": "usual", "system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}
        ],
        "status": "current",
        "mode": "working",
        "code": {
            "coding": [
                {
                    "system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                    "code": "submissionset",
                }
            ]
        },
        "subject": subject,
        "entry": items,
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": submission,
                "request": {"method": "POST", "url": "List"},
            },
            *entries,
        ],
    }


def _coding(code: str, concept: object | None, fallback: str) -> dict[str, str]:
    """A code in its own code system (J02 and J04 mix TRE_R02 / TRE_A01 with TRE_A00; J10 mixes
    TRE_A06, TRE_A11…), ``fallback`` for a code the value sets do not know."""
    return {"system": str(getattr(concept, "system", None) or fallback), "code": code}


def _author_resource(author: Author, nir: str, ins_oid: str) -> dict[str, object]:
    if author.ps_idnat is None:
        return {
            "resourceType": "Patient",
            "id": "author",
            "identifier": [{"system": f"urn:oid:{ins_oid}", "value": nir}],
        }
    resource: dict[str, object] = {
        "resourceType": "Practitioner",
        "id": "author",
        "identifier": [{"system": f"urn:oid:{OID_PS_IDNAT}", "value": author.ps_idnat}],
        "name": [
            {
                "family": author.family,
                "given": [author.given],
                **({"prefix": [author.prefix]} if author.prefix else {}),
            }
        ],
    }
    if author.profession:
        resource["qualification"] = [
            {"code": {"coding": [{"system": TRE_G15, "code": author.profession}]}}
        ]
    return resource
