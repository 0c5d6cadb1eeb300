"""A document added from the portal: the form becomes the same ITI-65 Provide Document Bundle a
professional's software would send, checked by the same parser and stored by the same
``provide`` path (all or nothing, audited, encrypted). The patient adds their own documents
(class 90: DOCPAT*, EXPPAT_*, including advance directives); a professional adds a document of
a JDV_J07 type, authored by themself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import check, deny_unknown
from carnet.access.representation import is_minor
from carnet.db import settings_of
from carnet.documents import fhir, service
from carnet.documents.bundles import Author, Doc, provide_bundle
from carnet.documents.models import DocumentEntry
from carnet.errors import Forbidden, Invalid
from carnet.patients.models import Patient
from carnet.safety.engine import EarlierExam
from carnet.terminology import documents as vocab

PATIENT_CLASS = "90"
# What a browser may call the accepted files, and what the file name says when it does not.
BY_EXTENSION = {
    "pdf": "application/pdf",
    "txt": "text/plain",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "xml": "text/xml",
}
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str  # as the browser declared it
    content: bytes


def patient_types() -> list[vocab.DocType]:
    """The types a patient may give their own documents, advance directives last."""
    types = [vocab.document_type(system, code) for system, code in sorted(vocab.PATIENT_TYPES)]
    return [t for t in types if t is not None]


def professional_types() -> list[vocab.DocType]:
    """The JDV_J07 types a professional may give a document, by category then label."""
    order = {c.key: i for i, c in enumerate(vocab.categories())}
    types = [t for t in vocab.document_types() if not t.patient_authored]
    return sorted(types, key=lambda t: (order.get(t.category, 99), t.display.casefold()))


def content_type_of(upload: Upload) -> str:
    declared = upload.content_type.split(";")[0].strip().lower()
    declared = ALIASES.get(declared, declared)
    if declared in fhir.ACCEPTED_TYPES:
        return "text/xml" if declared == "application/xml" else declared
    extension = upload.filename.rpartition(".")[2].lower() if "." in upload.filename else ""
    return BY_EXTENSION.get(extension, declared or "application/octet-stream")


def _form_field(where: str | None) -> str | None:
    """The form field behind a Bundle path of the parser's error."""
    if where is None:
        return None
    if ".content" in where or where.endswith(".data") or ".size" in where or ".hash" in where:
        return "file"
    if where.endswith(".type") or ".category" in where:
        return "type"
    if "securityLabel" in where:
        return "visibility"
    return None


@dataclass(frozen=True)
class Visibility:
    """What a professional answers, for each deposit, about who sees the document (domain.md
    §1.5: hidden from professionals? visible to the patient? and, for a minor, to the legal
    representatives: ``representatives`` "shown" or "hidden", to be stated)."""

    masked: bool = False
    invisible_patient: bool = False
    representatives: str | None = None

    def codes(self) -> list[str]:
        return [
            code
            for code, chosen in (
                ("MASQUE_PS", self.masked),
                ("INVISIBLE_PATIENT", self.invisible_patient),
                ("INVISIBLE_REPRESENTANTS_LEGAUX", self.representatives == "hidden"),
            )
            if chosen
        ]


def add_document(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    type_code: str,
    title: str,
    upload: Upload,
    sealed: list[service.SealedContent] | None = None,
    visibility: Visibility | None = None,
) -> tuple[list[DocumentEntry], dict[uuid.UUID, list[EarlierExam]]]:
    """Add one document to the record through the ITI-65 path; returns the stored entry and,
    for exam results, the earlier same exams ("the same exam was done on …"). ``sealed``: the
    file's content, sealed and stored already (``service.seal``), which the caller removes if
    this fails; otherwise it is sealed here, inside the transaction. ``visibility``: a
    professional's answers (for a minor, the representatives' must be stated); the patient's
    own documents are visible to all, and hidden afterwards if she wishes."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise deny_unknown(actor, action=Action.WRITE, resource_type="DocumentReference")
    by_patient = actor.kind in (ActorKind.PATIENT, ActorKind.APP)
    if not by_patient and actor.kind is not ActorKind.PROFESSIONAL:
        raise Forbidden("Only the patient and professionals add documents.")
    allowed = patient_types() if by_patient else professional_types()
    doc_type = next((t for t in allowed if t.code == type_code), None)
    if doc_type is None:
        raise Invalid("Choose the type of the document in the list.", field="type")
    limit = settings_of(session).document_max_bytes
    if not upload.content:
        raise Invalid("The file is empty: choose a file to add.", field="file")
    if len(upload.content) > limit:
        raise Invalid("The file is larger than the limit shown under the field.", field="file")
    content_type = content_type_of(upload)
    if content_type not in fhir.ACCEPTED_TYPES or content_type == "image/tiff":
        raise Invalid(
            "This kind of file is not accepted: add a PDF, a text file, a JPEG or PNG image "
            "or a CDA R2 (XML) document.",
            field="file",
        )
    visibility = Visibility() if by_patient or visibility is None else visibility
    if not by_patient and visibility.representatives not in ("shown", "hidden"):
        # whether the patient is a minor is told only to whom may write to the record (the
        # decision alone: the submission records the access)
        check(
            session,
            actor,
            patient.id,
            Action.WRITE,
            resource_type="DocumentReference",
            audit_action="document.submit",
        )
        if is_minor(session, patient):
            raise Invalid(
                "Say whether the minor's legal representatives may see this document.",
                field="visibility",
            )
    title = " ".join(title.split())[:255] or doc_type.display
    author = (
        Author(ps_idnat=None)
        if by_patient
        else Author(ps_idnat=actor.ref, profession=actor.profession)
    )
    body: dict[str, Any] = provide_bundle(
        patient.nir,
        author,
        [
            Doc(
                type_code=doc_type.code,
                type_system=doc_type.system,
                class_code=PATIENT_CLASS if by_patient else None,
                content=upload.content,
                content_type=content_type,
                title=title,
                inline=True,
                confidentiality=visibility.codes(),
            )
        ],
        ins_oid=patient.ins_oid,
        source_id="urn:carnet:portal",
    )
    try:
        parsed = fhir.parse_provide_bundle(body, max_bytes=limit)
    except Invalid as error:
        raise Invalid(error.message, field=_form_field(error.field)) from None
    try:
        return service.provide_checked(session, actor, parsed, sealed=sealed)
    except Invalid as error:  # a secret connection's rule, say: said by the form's fields
        raise Invalid(error.message, field=_form_field(error.field) or error.field) from None
