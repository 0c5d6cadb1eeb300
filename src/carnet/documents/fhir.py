"""IHE MHD mapping: parse an ITI-65 Provide Document Bundle into checked inputs, and render
stored entries as DocumentReference JSON. Pure: no database, no HTTP. Every refusal names the
field, FHIRPath-style (``Bundle.entry[2].resource.type``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from carnet.documents.models import FHIR_BASE, DocumentEntry
from carnet.errors import Invalid
from carnet.identity import OID_PS_IDNAT, parse_ins_identifier, parse_ps_idnat
from carnet.terminology import documents as vocab

PS_SYSTEM = f"urn:oid:{OID_PS_IDNAT}"
CONFIDENTIALITY_V3 = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACCEPTED_TYPES = {
    "application/pdf": "PDF",
    "text/xml": "CDA R2 XML",
    "application/xml": "CDA R2 XML",
    "application/hl7-v3+xml": "CDA R2 XML",
    "text/plain": "plain text",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
}
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}
ARCHIVED_URL = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-isArchived"
AUTHOR_KIND_URL = "https://carnet.invalid/fhir/StructureDefinition/author-kind"


@dataclass
class DocumentInput:
    """One checked DocumentReference of a submission, with its content."""

    where: str  # "Bundle.entry[i].resource" for error messages
    full_url: str
    unique_id: str
    type_system: str
    type_code: str
    type_display: str
    class_code: str
    category: str
    format_code: str | None
    facility_type: str | None
    practice_setting: str | None
    masked_ps: bool
    invisible_patient: bool
    invisible_representatives: bool
    author_kind: str
    author_ref: str
    author_name: str | None
    author_profession: str | None
    created: datetime
    service_start: datetime | None
    service_end: datetime | None
    title: str
    description: str | None
    content_type: str
    language: str
    content: bytes
    replaces: uuid.UUID | None
    binary_url: str | None = None  # the Binary entry that carried the content, if any
    sha1: str = ""  # hex digests of the content, computed once (on the way in)
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha1:
            self.sha1 = hashlib.sha1(self.content, usedforsecurity=False).hexdigest()
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.content).hexdigest()


@dataclass
class ProvideRequest:
    patient_identifier: str  # urn:oid:<INS OID>|<matricule>
    submission_unique_id: str
    source_id: str | None
    documents: list[DocumentInput] = field(default_factory=list)


def _fail(message: str, where: str) -> Invalid:
    return Invalid(message, field=where)


def _coding(value: Any, where: str) -> tuple[str, str, str]:
    codings = (value or {}).get("coding") or []
    if not codings or not isinstance(codings, list):
        raise _fail("A coding (system and code) is required.", where)
    coding = codings[0]
    system, code = coding.get("system"), coding.get("code")
    if not system or not code:
        raise _fail("The coding needs both a system and a code.", f"{where}.coding[0]")
    return str(system), str(code), str(coding.get("display") or "")


def _datetime(value: Any, where: str, *, required: bool = True) -> datetime | None:
    if value in (None, ""):
        if required:
            raise _fail("A date-time is required.", where)
        return None
    try:
        text = str(value)
        if len(text) == 10:  # a date only
            text += "T00:00:00+00:00"
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"Not a valid FHIR dateTime: {str(value)[:40]!r}.", where) from None
    if moment.tzinfo is None:
        raise _fail("A time zone is required (e.g. 2026-06-12T10:00:00+02:00).", where)
    return moment.astimezone(UTC)


def parse_provide_bundle(body: Any, *, max_bytes: int) -> ProvideRequest:
    """Check an ITI-65 transaction Bundle completely before anything is written."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise _fail("The body must be a FHIR Bundle.", "Bundle")
    if body.get("type") != "transaction":
        raise _fail("An ITI-65 submission is a Bundle of type 'transaction'.", "Bundle.type")
    entries = body.get("entry")
    if not isinstance(entries, list) or not entries:
        raise _fail("The Bundle has no entries.", "Bundle.entry")
    lists, references, binaries = [], [], {}
    for i, entry in enumerate(entries):
        where = f"Bundle.entry[{i}]"
        resource = (entry or {}).get("resource") or {}
        kind = resource.get("resourceType")
        method = ((entry or {}).get("request") or {}).get("method")
        if kind == "List" and method == "POST":
            lists.append((where, entry, resource))
        elif kind == "DocumentReference" and method == "POST":
            references.append((where, entry, resource))
        elif kind == "Binary" and method == "POST":
            binaries[str(entry.get("fullUrl") or "")] = (where, resource)
        elif kind == "Parameters" and method == "PATCH":
            continue  # PDSm's patch of the replaced document: replacement supersedes it anyway
        else:
            raise _fail(
                f"Unexpected entry ({kind} with {method}); ITI-65 takes one List, "
                "DocumentReferences and Binaries, all POST.",
                f"{where}.request",
            )
    if len(lists) != 1:
        raise _fail("An ITI-65 submission has exactly one SubmissionSet List.", "Bundle.entry")
    if not references:
        raise _fail("The submission holds no DocumentReference.", "Bundle.entry")
    where, _, submission = lists[0]
    code = ((submission.get("code") or {}).get("coding") or [{}])[0].get("code")
    if code != "submissionset":
        raise _fail(
            "The List must be a SubmissionSet (code 'submissionset').", f"{where}.resource.code"
        )
    subject = _patient_identifier(submission.get("subject"), f"{where}.resource.subject")
    request = ProvideRequest(
        patient_identifier=subject,
        submission_unique_id=_identifier_value(submission, f"{where}.resource.identifier"),
        source_id=_extension_identifier(submission, "ihe-sourceId"),
    )
    listed = {
        str((item.get("item") or {}).get("reference") or "")
        for item in submission.get("entry") or []
    }
    for where, entry, resource in references:
        full_url = str(entry.get("fullUrl") or "")
        if listed and full_url not in listed:
            raise _fail(
                "This DocumentReference is not listed in the SubmissionSet.", f"{where}.fullUrl"
            )
        document = _document(resource, f"{where}.resource", full_url, binaries, max_bytes)
        if _patient_identifier(resource.get("subject"), f"{where}.resource.subject") != subject:
            raise _fail(
                "The document's subject differs from the SubmissionSet's.",
                f"{where}.resource.subject",
            )
        request.documents.append(document)
    return request


def _identifier_value(resource: dict[str, Any], where: str) -> str:
    identifiers = resource.get("identifier") or []
    master = resource.get("masterIdentifier")
    if master:
        identifiers = [master, *identifiers]
    for identifier in identifiers:
        if identifier.get("value"):
            return str(identifier["value"])[:200]
    return f"urn:uuid:{uuid.uuid4()}"


def _extension_identifier(resource: dict[str, Any], name: str) -> str | None:
    for extension in resource.get("extension") or []:
        if str(extension.get("url", "")).endswith(name):
            value = (extension.get("valueIdentifier") or {}).get("value")
            return str(value)[:200] if value else None
    return None


def _patient_identifier(subject: Any, where: str) -> str:
    reference = str((subject or {}).get("reference") or "")
    if reference.startswith("Patient?identifier="):
        token = reference.removeprefix("Patient?identifier=")
    elif (subject or {}).get("identifier"):
        identifier = subject["identifier"]
        token = f"{identifier.get('system', '')}|{identifier.get('value', '')}"
    else:
        raise _fail(
            "The patient must be given by INS: "
            "'Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR>'.",
            where,
        )
    ins = parse_ins_identifier(token, field=where)
    return f"urn:oid:{ins.oid}|{ins.matricule}"


def _contained(resource: dict[str, Any], reference: str) -> dict[str, Any] | None:
    if not reference.startswith("#"):
        return None
    for item in resource.get("contained") or []:
        if item.get("id") == reference[1:]:
            return dict(item)
    return None


def _author(resource: dict[str, Any], where: str) -> tuple[str, str, str | None, str | None]:
    """(kind, ref, name, profession) of the first author."""
    authors = resource.get("author") or []
    if not authors:
        raise _fail("An author is required (the professional, the patient or a device).", where)
    reference = authors[0]
    target = _contained(resource, str(reference.get("reference") or "")) or reference
    kind = target.get("resourceType") or str(reference.get("type") or "")
    identifiers = target.get("identifier") or []
    if isinstance(identifiers, dict):
        identifiers = [identifiers]
    name = _name(target) or reference.get("display")
    if kind in ("Practitioner", "PractitionerRole"):
        ps = next((i for i in identifiers if i.get("system") == PS_SYSTEM), None)
        if ps is None:
            raise _fail(
                f"The author must be identified by PS_IdNat (system {PS_SYSTEM}).", f"{where}[0]"
            )
        value = parse_ps_idnat(str(ps.get("value") or ""), field=f"{where}[0].identifier").value
        profession = _profession(target)
        return "professional", value, name, profession
    if kind == "Patient":
        return "patient", "patient", name, None
    if kind == "Device":
        return "device", str((identifiers or [{}])[0].get("value") or "device")[:64], name, None
    raise _fail(
        "The author must be a Practitioner, PractitionerRole, Patient or Device.", f"{where}[0]"
    )


def _name(resource: dict[str, Any]) -> str | None:
    names = resource.get("name") or []
    if isinstance(names, list) and names:
        first = names[0]
        parts = [*(first.get("prefix") or []), *(first.get("given") or []), first.get("family")]
        text = " ".join(p for p in parts if p)
        return text[:200] or None
    return None


def _profession(resource: dict[str, Any]) -> str | None:
    """TRE_G15 profession of a PractitionerRole (``code``) or Practitioner (``qualification``)."""
    codes = list(resource.get("code") or [])
    codes += [q.get("code") or {} for q in resource.get("qualification") or []]
    for code in codes:
        for coding in code.get("coding") or []:
            if "G15" in str(coding.get("system", "")) and coding.get("code"):
                return str(coding["code"])[:8]
    return None


def _security(resource: dict[str, Any], where: str) -> tuple[bool, bool, bool]:
    masked = invisible = hidden_reps = False
    for i, label in enumerate(resource.get("securityLabel") or []):
        system, code, _ = _coding(label, f"{where}[{i}]")
        if system == CONFIDENTIALITY_V3 and code in ("N", "R", "V", "L", "M", "U"):
            continue
        if vocab.confidentiality(system, code) is None:
            raise _fail(
                f"Unknown confidentiality code {code!r} (TRE_A07: MASQUE_PS, "
                "INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX).",
                f"{where}[{i}]",
            )
        masked |= code == "MASQUE_PS"
        invisible |= code == "INVISIBLE_PATIENT"
        hidden_reps |= code == "INVISIBLE_REPRESENTANTS_LEGAUX"
    if masked and invisible:
        raise _fail(
            "A document cannot be both hidden from professionals (MASQUE_PS) and "
            "invisible to the patient (INVISIBLE_PATIENT).",
            where,
        )
    return masked, invisible, hidden_reps


def _document(
    resource: dict[str, Any],
    where: str,
    full_url: str,
    binaries: dict[str, tuple[str, dict[str, Any]]],
    max_bytes: int,
) -> DocumentInput:
    if resource.get("status", "current") != "current":
        raise _fail("A provided document has status 'current'.", f"{where}.status")
    type_system, type_code, type_display = _coding(resource.get("type"), f"{where}.type")
    doc_type = vocab.document_type(type_system, type_code)
    if doc_type is None:
        raise _fail(
            f"Unknown document type {type_code!r} (JDV_J07: LOINC or TRE_A05 codes).",
            f"{where}.type",
        )
    categories = resource.get("category") or []
    class_code = doc_type.class_code
    if categories:
        _, class_code, _ = _coding(categories[0], f"{where}.category[0]")
        if vocab.class_code(class_code) is None:
            raise _fail(
                f"Unknown class code {class_code!r} (JDV_J06 / TRE_A03).", f"{where}.category[0]"
            )
    if (class_code == "90") != vocab.is_patient_type(doc_type.system, type_code):
        raise _fail(
            "Class 90 is for the patient's own documents (DOCPAT*, EXPPAT_*) and "
            "those types take class 90.",
            f"{where}.category[0]",
        )
    author_kind, author_ref, author_name, profession = _author(resource, f"{where}.author")
    patient_type = vocab.is_patient_type(doc_type.system, type_code)
    if author_kind == "patient" and not patient_type:
        raise _fail(
            "A document authored by the patient uses a patient type (DOCPAT*, EXPPAT_*).",
            f"{where}.type",
        )
    masked, invisible, hidden_reps = _security(resource, f"{where}.securityLabel")
    contents = resource.get("content") or []
    if len(contents) != 1:
        raise _fail("A DocumentReference has exactly one content.", f"{where}.content")
    attachment = contents[0].get("attachment") or {}
    at = f"{where}.content[0].attachment"
    content_type = str(attachment.get("contentType") or "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise _fail(
            f"Content type {content_type or '(none)'!r} is not accepted; accepted: "
            + ", ".join(sorted(ACCEPTED_TYPES))
            + ".",
            f"{at}.contentType",
        )
    content = _content(attachment, at, binaries, max_bytes)
    _check_content(content, content_type, at)
    declared_size = attachment.get("size")
    if declared_size is None or int(declared_size) != len(content):
        raise _fail(
            f"The declared size ({declared_size}) differs from the content's "
            f"({len(content)} bytes).",
            f"{at}.size",
        )
    declared_hash = str(attachment.get("hash") or "")
    if not declared_hash:
        raise _fail("The SHA-1 hash of the content is required (base64).", f"{at}.hash")
    sha1 = hashlib.sha1(content, usedforsecurity=False).digest()
    if declared_hash != base64.b64encode(sha1).decode():
        raise _fail("The declared SHA-1 hash does not match the content.", f"{at}.hash")
    format_code = None
    if contents[0].get("format"):
        _, format_code, _ = _coding(
            {"coding": [contents[0]["format"]]}, f"{where}.content[0].format"
        )
        if vocab.format_code(format_code) is None:
            raise _fail(
                f"Unknown format code {format_code!r} (JDV_J10).", f"{where}.content[0].format"
            )
    context = resource.get("context") or {}
    facility = practice = None
    if context.get("facilityType"):
        _, facility, _ = _coding(context["facilityType"], f"{where}.context.facilityType")
        if vocab.facility_type(facility) is None:
            raise _fail(
                f"Unknown facility type {facility!r} (JDV_J02).", f"{where}.context.facilityType"
            )
    if context.get("practiceSetting"):
        _, practice, _ = _coding(context["practiceSetting"], f"{where}.context.practiceSetting")
        if vocab.practice_setting(practice) is None:
            raise _fail(
                f"Unknown practice setting {practice!r} (JDV_J04).",
                f"{where}.context.practiceSetting",
            )
    period = context.get("period") or {}
    created = _datetime(resource.get("date") or attachment.get("creation"), f"{where}.date")
    assert created is not None
    replaces = None
    for i, relation in enumerate(resource.get("relatesTo") or []):
        if relation.get("code") == "replaces":
            target = str((relation.get("target") or {}).get("reference") or "")
            try:
                replaces = uuid.UUID(target.removeprefix("DocumentReference/"))
            except ValueError:
                raise _fail(
                    "relatesTo.target must reference DocumentReference/<id>.",
                    f"{where}.relatesTo[{i}].target",
                ) from None
    title = str(
        attachment.get("title") or resource.get("description") or type_display or doc_type.display
    )[:255]
    return DocumentInput(
        where=where,
        full_url=full_url,
        unique_id=_identifier_value(resource, f"{where}.masterIdentifier"),
        type_system=doc_type.system,
        type_code=type_code,
        type_display=type_display or doc_type.display,
        class_code=class_code,
        category=vocab.category_of(doc_type).key,
        format_code=format_code,
        facility_type=facility,
        practice_setting=practice,
        masked_ps=masked,
        invisible_patient=invisible,
        invisible_representatives=hidden_reps,
        author_kind=author_kind,
        author_ref=author_ref,
        author_name=author_name,
        author_profession=profession,
        created=created,
        service_start=_datetime(
            period.get("start"), f"{where}.context.period.start", required=False
        ),
        service_end=_datetime(period.get("end"), f"{where}.context.period.end", required=False),
        title=title,
        description=(str(resource["description"])[:500] if resource.get("description") else None),
        content_type=content_type,
        language=str(attachment.get("language") or "fr-FR")[:10],
        content=content,
        replaces=replaces,
        binary_url=None if attachment.get("data") else str(attachment.get("url") or ""),
        sha1=sha1.hex(),
    )


def _content(
    attachment: dict[str, Any],
    at: str,
    binaries: dict[str, tuple[str, dict[str, Any]]],
    max_bytes: int,
) -> bytes:
    data = attachment.get("data")
    where = f"{at}.data"
    if data is None:
        url = str(attachment.get("url") or "")
        if url not in binaries:
            raise _fail(
                "The content must be inline (attachment.data) or a Binary entry of the "
                "Bundle referenced by attachment.url.",
                f"{at}.url",
            )
        where, binary = binaries[url]
        data = binary.get("data")
        where = f"{where}.resource.data"
    if not isinstance(data, str) or not data:
        raise _fail("The content is empty.", where)
    if len(data) > (max_bytes * 4) // 3 + 8:
        raise _fail(f"The content is larger than the limit ({max_bytes // 1_000_000} MB).", where)
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(
            "The content is not valid base64 (no line breaks or spaces allowed).", where
        ) from None
    if len(content) > max_bytes:
        raise _fail(f"The content is larger than the limit ({max_bytes // 1_000_000} MB).", where)
    return content


def _check_content(content: bytes, content_type: str, at: str) -> None:
    """The bytes must be what the content type says (a wrong type is refused, not stored)."""
    magic = MAGIC.get(content_type)
    if magic and not content.startswith(magic):
        raise _fail(
            f"The content is not a {ACCEPTED_TYPES[content_type]} file.", f"{at}.contentType"
        )
    if content_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("Plain text must be UTF-8.", f"{at}.contentType") from None
    if ACCEPTED_TYPES[content_type] == "CDA R2 XML":
        head = content[:2048].lstrip()
        if b"ClinicalDocument" not in head or b"urn:hl7-org:v3" not in head:
            raise _fail(
                "XML content must be a CDA R2 document (ClinicalDocument in the "
                "urn:hl7-org:v3 namespace).",
                f"{at}.contentType",
            )


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def document_resource(
    entry: DocumentEntry,
    *,
    type_display: str = "",
    class_display: str = "",
    description: str | None = None,
) -> str:
    """The DocumentReference JSON of one stored version (base URL left as a placeholder)."""
    labels = []
    if entry.masked_ps:
        labels.append("MASQUE_PS")
    if entry.invisible_patient:
        labels.append("INVISIBLE_PATIENT")
    if entry.invisible_representatives:
        labels.append("INVISIBLE_REPRESENTANTS_LEGAUX")
    security = [{"coding": [{"system": vocab.TRE_A07, "code": code}]} for code in labels] or [
        {"coding": [{"system": CONFIDENTIALITY_V3, "code": "N"}]}
    ]
    if entry.author_kind == "professional":
        author: dict[str, Any] = {"identifier": {"system": PS_SYSTEM, "value": entry.author_ref}}
    elif entry.author_kind == "patient":
        author = {"reference": f"Patient/{entry.patient_id}"}
    else:
        author = {"identifier": {"value": entry.author_ref}}
    if entry.author_name:
        author["display"] = entry.author_name
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(entry.id),
        "meta": {"versionId": str(entry.version), "lastUpdated": _iso(entry.recorded_at)},
        "extension": [
            {"url": ARCHIVED_URL, "valueBoolean": entry.archived},
            {"url": AUTHOR_KIND_URL, "valueCode": entry.author_kind},
        ],
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": entry.unique_id},
        "identifier": [
            {
                "use": "official",
                "system": "urn:ietf:rfc:3986",
                "value": f"urn:uuid:{entry.logical_id}",
            }
        ],
        "status": entry.status,
        "type": {
            "coding": [
                {
                    "system": entry.type_system,
                    "code": entry.type_code,
                    **({"display": type_display} if type_display else {}),
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": vocab.TRE_A03,
                        "code": entry.class_code,
                        **({"display": class_display} if class_display else {}),
                    }
                ]
            }
        ],
        "subject": {"reference": f"Patient/{entry.patient_id}"},
        "date": _iso(entry.created),
        "author": [author],
        "securityLabel": security,
        "content": [
            {
                "attachment": {
                    "contentType": entry.content_type,
                    "language": "fr-FR",
                    "url": f"{FHIR_BASE}/Binary/{entry.blob_id}",
                    "size": entry.size,
                    "hash": base64.b64encode(bytes.fromhex(entry.sha1)).decode(),
                    "title": entry.title,
                    "creation": _iso(entry.created),
                },
                **(
                    {
                        "format": {
                            "system": _system_of(vocab.format_code(entry.format_code)),
                            "code": entry.format_code,
                        }
                    }
                    if entry.format_code
                    else {}
                ),
            }
        ],
    }
    if description:
        resource["description"] = description
    if entry.replaces_id:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{entry.replaces_id}"}}
        ]
    context: dict[str, Any] = {}
    if entry.service_start or entry.service_end:
        context["period"] = {
            k: v
            for k, v in (("start", _iso(entry.service_start)), ("end", _iso(entry.service_end)))
            if v
        }
    if entry.facility_type:
        # JDV_J02 mixes TRE_R02 sectors and TRE_A00 codes (EXP_PATIENT, SNR): each its own system
        context["facilityType"] = {
            "coding": [
                {
                    "system": _system_of(vocab.facility_type(entry.facility_type)),
                    "code": entry.facility_type,
                }
            ]
        }
    if entry.practice_setting:
        context["practiceSetting"] = {
            "coding": [
                {
                    "system": _system_of(vocab.practice_setting(entry.practice_setting)),
                    "code": entry.practice_setting,
                }
            ]
        }
    if context:
        resource["context"] = context
    return orjson.dumps(resource).decode()


def _system_of(concept: Any) -> str:
    system = str(getattr(concept, "system", "") or "")
    if system and not system.startswith(("http", "urn:")):
        return vocab.canonical_system(system) or f"urn:oid:{system}"
    return system


def search_bundle(
    resources: list[bytes], *, base: str, total: int, self_link: str, next_link: str | None
) -> bytes:
    """A searchset Bundle assembled from the stored JSON (UTF-8, as read from the database)
    without decoding or re-parsing it."""
    links = [{"relation": "self", "url": self_link}]
    if next_link:
        links.append({"relation": "next", "url": next_link})
    head = orjson.dumps(
        {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    )
    prefix = f'{{"fullUrl":"{base}/DocumentReference/'.encode()
    parts = [head[:-1], b',"entry":[']
    for resource in resources:
        parts += (
            prefix,
            _id_of(resource),
            b'","resource":',
            resource,
            b',"search":{"mode":"match"}},',
        )
    if resources:
        parts[-1] = parts[-1][:-1]  # no comma after the last entry
    parts.append(b"]}")
    return b"".join(parts).replace(FHIR_BASE.encode(), base.encode())


def _id_of(resource_json: bytes) -> bytes:
    start = resource_json.index(b'"id":"') + 6
    return resource_json[start : resource_json.index(b'"', start)]
