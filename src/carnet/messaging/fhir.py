"""Messages at the FHIR edge (R4 ``Communication``), pure: no database, no HTTP.

One message is one Communication. The thread is carried by ``partOf``: the first message's id
is the thread's id, and every reply has ``partOf`` = that first message and ``inResponseTo`` =
the message it answers. ``topic.text`` is the thread's subject; ``payload`` holds the text
(``contentString``) and the attachments (``contentAttachment`` with a ``url`` to download)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from carnet.errors import Invalid
from carnet.identity import parse_ins_identifier

PS_IDNAT_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


@dataclass(frozen=True)
class AttachmentFacts:
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class MessageFacts:
    """What the mapping needs of one message (built by the service from its rows)."""

    id: uuid.UUID
    thread_id: uuid.UUID
    patient_id: uuid.UUID
    subject: str
    sender_kind: str  # professional | patient | representative
    sender_ref: str
    sender_name: str
    body: str
    sent_at: datetime
    in_response_to_id: uuid.UUID | None
    recipients: tuple[tuple[str, str], ...]  # (PS_IdNat, name) of the professionals
    hidden_from_representatives: bool = False
    attachments: tuple[AttachmentFacts, ...] = ()


def attachment_url(base: str, message_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    return f"{base}/Communication/{message_id}/attachment/{attachment_id}"


def communication(message: MessageFacts, base: str) -> dict[str, Any]:
    """The Communication for one message; ``base`` is the server's FHIR base URL."""
    patient: dict[str, Any] = {"reference": f"Patient/{message.patient_id}"}
    professionals: list[dict[str, Any]] = [
        {"identifier": {"system": PS_IDNAT_SYSTEM, "value": ref}, "display": name}
        for ref, name in message.recipients
    ]
    if message.sender_kind == "professional":
        sender: dict[str, Any] = {
            "identifier": {"system": PS_IDNAT_SYSTEM, "value": message.sender_ref},
            "display": message.sender_name,
        }
        recipients: list[dict[str, Any]] = [patient]
    elif message.sender_kind == "representative":
        sender = {"type": "RelatedPerson", "display": message.sender_name}
        recipients = [p for p in professionals if p["identifier"]["value"] != message.sender_ref]
    else:
        sender = {**patient, "display": message.sender_name}
        recipients = professionals
    payload: list[dict[str, Any]] = [{"contentString": message.body}]
    for attachment in message.attachments:
        payload.append(
            {
                "contentAttachment": {
                    "contentType": attachment.content_type,
                    "title": attachment.filename,
                    "size": attachment.size,
                    "url": attachment_url(base, message.id, attachment.id),
                }
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(message.id),
        "meta": {"lastUpdated": message.sent_at.isoformat()},
        "status": "completed",
        "subject": patient,
        "topic": {"text": message.subject},
        "sent": message.sent_at.isoformat(),
        "sender": sender,
        "recipient": recipients,
        "payload": payload,
    }
    if message.id != message.thread_id:
        resource["partOf"] = [{"reference": f"Communication/{message.thread_id}"}]
    if message.in_response_to_id is not None:
        resource["inResponseTo"] = [{"reference": f"Communication/{message.in_response_to_id}"}]
    if message.hidden_from_representatives:
        resource["meta"]["security"] = [
            {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}
        ]
    return resource


# --- incoming ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content: bytes
    declared_type: str | None = None


@dataclass(frozen=True)
class CommunicationInput:
    """A Communication posted by software: a new thread, or a reply to ``in_response_to``."""

    patient_id: uuid.UUID | None  # subject = Patient/<id>
    patient_ins: str | None  # or subject.identifier = the INS
    body: str
    subject: str | None  # topic.text (a new thread's subject)
    in_response_to: uuid.UUID | None  # a message of the thread (partOf or inResponseTo)
    hidden_from_representatives: bool = False
    attachments: list[NewAttachment] = field(default_factory=list)


def _communication_id(reference: Any, where: str) -> uuid.UUID:
    text = str((reference or {}).get("reference") or "")
    if not text.startswith("Communication/"):
        raise Invalid(f"{where} must reference Communication/<id>.", field=where)
    try:
        return uuid.UUID(text.removeprefix("Communication/"))
    except ValueError:
        raise Invalid(f"{where} must reference Communication/<id>.", field=where) from None


def parse_communication(body: Any) -> CommunicationInput:
    """Check an incoming Communication (fhir.resources R4B) and pick out what we store."""
    if not isinstance(body, dict) or body.get("resourceType") != "Communication":
        raise Invalid("The body must be a FHIR Communication.", field="resourceType")
    try:
        from fhir.resources.R4B.communication import Communication

        Communication.model_validate({k: v for k, v in body.items() if k not in ("id", "meta")})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith("__"))
        raise Invalid(
            f"Invalid Communication: {first.get('msg')}",
            field=f"Communication.{where}" if where else "Communication",
        ) from None
    if body.get("status") != "completed":
        raise Invalid(
            "A message sent is a Communication with status completed.",
            field="Communication.status",
        )
    patient_id, patient_ins = _subject(body.get("subject"))
    texts: list[str] = []
    attachments: list[NewAttachment] = []
    for index, part in enumerate(body.get("payload") or []):
        if "contentString" in part:
            texts.append(str(part["contentString"]))
        elif "contentAttachment" in part:
            attachments.append(_attachment(part["contentAttachment"], index))
        else:
            raise Invalid(
                "Only contentString and contentAttachment payloads are accepted.",
                field=f"Communication.payload[{index}]",
            )
    reply_to: uuid.UUID | None = None
    for key in ("inResponseTo", "partOf"):
        refs = body.get(key) or []
        if refs:
            reply_to = _communication_id(refs[0], f"Communication.{key}")
            break
    security = (body.get("meta") or {}).get("security") or []
    hidden = any(s.get("system") == CONFIDENTIALITY and s.get("code") == "R" for s in security)
    return CommunicationInput(
        patient_id=patient_id,
        patient_ins=patient_ins,
        body="\n\n".join(texts),
        subject=((body.get("topic") or {}).get("text") or None),
        in_response_to=reply_to,
        hidden_from_representatives=hidden,
        attachments=attachments,
    )


def _subject(subject: Any) -> tuple[uuid.UUID | None, str | None]:
    where = "Communication.subject"
    subject = subject or {}
    reference = str(subject.get("reference") or "")
    if reference.startswith("Patient/"):
        try:
            return uuid.UUID(reference.removeprefix("Patient/")), None
        except ValueError:
            raise Invalid("The subject must reference Patient/<id>.", field=where) from None
    identifier = subject.get("identifier") or {}
    if identifier.get("value"):
        text = f"{identifier.get('system') or ''}|{identifier['value']}"
        parse_ins_identifier(text, field=f"{where}.identifier")
        return None, text
    raise Invalid(
        "The subject is required: Patient/<id>, or the patient's INS as identifier.", field=where
    )


def _attachment(attachment: Any, index: int) -> NewAttachment:
    where = f"Communication.payload[{index}].contentAttachment"
    data = attachment.get("data")
    if not data:
        raise Invalid("An attachment must carry its content in data (base64).", field=where)
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("The attachment's data is not valid base64.", field=f"{where}.data") from None
    return NewAttachment(
        filename=str(attachment.get("title") or ""),
        content=content,
        declared_type=attachment.get("contentType"),
    )
