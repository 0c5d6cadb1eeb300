"""Appointments at the edge: validate an incoming FHIR R4 Appointment (fhir.resources, R4B
models), pick out what the agenda keeps, and map a stored appointment back to FHIR. Also the
portal form's reading of the same fields. Pure: no database, no HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from carnet.agenda.models import LOCAL_TZ, STATUSES, Appointment
from carnet.errors import Invalid
from carnet.terminology.documents import TRE_A07

PS_IDNAT_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
SOURCE_URL = "https://carnet.invalid/fhir/StructureDefinition/entry-source"
MAX_TEXT = 200
MAX_LENGTH = timedelta(hours=24)  # an appointment, not a stay
DURATIONS = (15, 30, 45, 60, 90, 120)  # minutes offered in the portal


@dataclass(frozen=True)
class AppointmentDraft:
    """What an appointment says, checked: the same shape from the API and from the portal."""

    status: str
    start: datetime
    end: datetime
    description: str | None = None
    location: str | None = None
    practitioner_ref: str | None = None  # PS_IdNat
    practitioner_name: str | None = None
    patient_id: uuid.UUID | None = None  # from the FHIR participant; the portal knows it
    hidden_from_representatives: bool = False  # meta.security INVISIBLE_REPRESENTANTS_LEGAUX


_MODEL: list[Any] = []


def _model() -> Any:
    if not _MODEL:
        from fhir.resources.R4B.appointment import Appointment as FhirAppointment

        _MODEL.append(FhirAppointment)
    return _MODEL[0]


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    if len(text) > MAX_TEXT:
        raise Invalid(f"{field} is too long (at most {MAX_TEXT} characters).", field=field)
    return text or None


def _instant(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise Invalid(f"{field} is required (a date and time with its time zone).", field=field)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{field} is not a date and time: {value[:40]!r}.", field=field) from None
    if moment.tzinfo is None:
        raise Invalid(f"{field} needs a time zone (e.g. 2026-12-01T09:30:00+01:00).", field=field)
    return moment.astimezone(UTC)


def check_times(start: datetime, end: datetime, *, start_field: str, end_field: str) -> None:
    if end <= start:
        raise Invalid("The end must come after the start.", field=end_field)
    if end - start > MAX_LENGTH:
        raise Invalid("An appointment lasts at most 24 hours.", field=end_field)


def _participants(
    body: dict[str, Any],
) -> tuple[uuid.UUID | None, str | None, str | None, str | None]:
    patient_id: uuid.UUID | None = None
    pract_ref = pract_name = location = None
    for index, participant in enumerate(body.get("participant") or []):
        field = f"Appointment.participant[{index}].actor"
        actor = participant.get("actor") or {}
        reference = str(actor.get("reference") or "")
        kind = actor.get("type") or reference.partition("/")[0]
        if kind == "Patient":
            try:
                patient_id = uuid.UUID(reference.removeprefix("Patient/"))
            except ValueError:
                raise Invalid(
                    "The patient must be referenced as Patient/<id>.", field=field
                ) from None
        elif kind in ("Practitioner", "PractitionerRole"):
            identifier = actor.get("identifier") or {}
            if identifier and identifier.get("system") != PS_IDNAT_SYSTEM:
                raise Invalid(
                    f"Identify the professional by PS_IdNat (system {PS_IDNAT_SYSTEM}).",
                    field=f"{field}.identifier",
                )
            pract_ref = _text(identifier.get("value"), f"{field}.identifier.value")
            pract_name = _text(actor.get("display"), f"{field}.display")
        elif kind == "Location":
            location = _text(actor.get("display"), f"{field}.display")
    return patient_id, pract_ref, pract_name, location


def parse_appointment(body: Any) -> AppointmentDraft:
    """Check an incoming Appointment; errors name the field (FHIRPath-like)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise Invalid("The body must be a FHIR Appointment.", field="resourceType")
    hidden = _hidden_from_representatives(body.get("meta"))
    body = {k: v for k, v in body.items() if k not in ("id", "meta", "text")}
    try:
        _model().model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith("__"))
        raise Invalid(
            f"Invalid Appointment: {first.get('msg')}",
            field=f"Appointment.{where}" if where else "Appointment",
        ) from None
    status = body.get("status")
    if status not in STATUSES:
        raise Invalid(
            "Appointment.status must be one of: " + ", ".join(sorted(STATUSES)) + ".",
            field="Appointment.status",
        )
    start = _instant(body.get("start"), "Appointment.start")
    end = _instant(body.get("end"), "Appointment.end")
    check_times(start, end, start_field="Appointment.start", end_field="Appointment.end")
    patient_id, pract_ref, pract_name, location = _participants(body)
    if patient_id is None:
        raise Invalid(
            "One participant must be the patient (actor.reference Patient/<id>).",
            field="Appointment.participant",
        )
    return AppointmentDraft(
        status=status,
        start=start,
        end=end,
        description=_text(body.get("description"), "Appointment.description"),
        location=location,
        practitioner_ref=pract_ref,
        practitioner_name=pract_name,
        patient_id=patient_id,
        hidden_from_representatives=hidden,
    )


def _hidden_from_representatives(meta: Any) -> bool:
    """The one TRE_A07 visibility label an appointment takes: hidden from a minor's legal
    representatives (a secret consultation, as for documents). Other TRE_A07 codes are refused;
    labels of other systems are left alone."""
    if meta is None:
        return False
    if not isinstance(meta, dict) or not isinstance(meta.get("security", []), list):
        raise Invalid(
            "Appointment.meta.security must be a list of codings.", field="Appointment.meta"
        )
    hidden = False
    for i, coding in enumerate(meta.get("security") or []):
        if not isinstance(coding, dict) or coding.get("system") != TRE_A07:
            continue
        if coding.get("code") != "INVISIBLE_REPRESENTANTS_LEGAUX":
            raise Invalid(
                "An appointment takes only INVISIBLE_REPRESENTANTS_LEGAUX from TRE_A07 "
                f"(not {coding.get('code')!r}).",
                field=f"Appointment.meta.security[{i}]",
            )
        hidden = True
    return hidden


def draft_from_form(form: dict[str, str], *, today: date) -> AppointmentDraft:
    """The portal's form (local date and time, duration in minutes, short texts). Errors name
    the form field and are English keys the portal translates."""
    raw_day = form.get("date", "").strip()
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise Invalid("Give the date of the appointment.", field="date") from None
    if not (today - timedelta(days=366) <= day <= today + timedelta(days=5 * 366)):
        raise Invalid("The date must be within the last year or the next five years.", field="date")
    try:
        at = time.fromisoformat(form.get("time", "").strip())
    except ValueError:
        raise Invalid(
            "Give the time of the appointment (hours and minutes).", field="time"
        ) from None
    duration = form.get("duration", "30").strip()
    if not duration.isdigit() or int(duration) not in DURATIONS:
        raise Invalid("Choose a duration from the list.", field="duration")
    start = datetime.combine(day, at.replace(second=0, microsecond=0), LOCAL_TZ).astimezone(UTC)
    texts = {}
    for name in ("description", "practitioner", "location"):
        value = " ".join(form.get(name, "").split())
        if len(value) > MAX_TEXT:
            raise Invalid("This text is too long (200 characters at most).", field=name)
        texts[name] = value or None
    return AppointmentDraft(
        status="booked",
        start=start,
        end=start + timedelta(minutes=int(duration)),
        description=texts["description"],
        location=texts["location"],
        practitioner_name=texts["practitioner"],
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_fhir(row: Appointment) -> dict[str, Any]:
    """The stored appointment as a FHIR R4 Appointment."""
    participants: list[dict[str, Any]] = [
        {
            "actor": {"reference": f"Patient/{row.patient_id}", "type": "Patient"},
            "required": "required",
            "status": "accepted",
        }
    ]
    if row.practitioner_ref or row.practitioner_name:
        actor: dict[str, Any] = {"type": "Practitioner"}
        if row.practitioner_ref:
            actor["identifier"] = {"system": PS_IDNAT_SYSTEM, "value": row.practitioner_ref}
        if row.practitioner_name:
            actor["display"] = row.practitioner_name
        participants.append({"actor": actor, "required": "required", "status": "accepted"})
    if row.location:
        participants.append(
            {
                "actor": {"type": "Location", "display": row.location},
                "required": "information-only",
                "status": "accepted",
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(row.id),
        "meta": {
            "versionId": str(row.version),
            "lastUpdated": _utc(row.updated_at),
            **(
                {"security": [{"system": TRE_A07, "code": "INVISIBLE_REPRESENTANTS_LEGAUX"}]}
                if row.hidden_from_representatives
                else {}
            ),
        },
        "extension": [
            {
                "url": SOURCE_URL,
                "extension": [
                    {"url": "kind", "valueCode": row.source_kind},
                    {"url": "reference", "valueString": row.source_ref},
                    *([{"url": "name", "valueString": row.source_name}] if row.source_name else []),
                ],
            }
        ],
        "status": row.status,
        "start": _utc(row.start),
        "end": _utc(row.end),
        "created": _utc(row.created_at),
        "participant": participants,
    }
    if row.description:
        resource["description"] = row.description
    return resource
