"""The patient's side of the medical profile (the portal's profile pages): the whole profile in
one audited read, and the changes a patient (or a minor's legal representative) makes to it,
within ``carnet.access.profile`` (professionals' entries stay read-only for them). Flushes,
never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session

from carnet.access import Action, Actor
from carnet.access.gate import authorize, load_facts
from carnet.access.profile import check_may_change_entry, may_change_entry
from carnet.errors import NotFound
from carnet.profile import forms, service
from carnet.profile.fhir import BLOOD_GROUP_LOINC, ORGAN_DONATION, ProfileInput
from carnet.profile.models import ProfileEntry


@dataclass(frozen=True)
class Line:
    """One entry as the patient sees it."""

    entry: ProfileEntry
    section: str
    changeable: bool  # the patient side may change or remove it

    @property
    def resource(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.entry.resource)
        return parsed


@dataclass
class ProfileSheet:
    """The medical profile by section (slug → lines), with the advance directives."""

    sections: dict[str, list[Line]] = field(default_factory=dict)
    advance_directives: list[Any] = field(default_factory=list)  # DocumentEntry rows
    closed: bool = False  # the record is closed: read-only (from the facts the gate decided on)

    @property
    def measure_groups(self) -> list[list[Line]]:
        """The measurements by kind, newest first in each, in order of their latest value."""
        groups: dict[str, list[Line]] = {}
        for line in self.sections.get("mesures", []):
            groups.setdefault(line.entry.code or line.entry.display, []).append(line)
        return list(groups.values())

    @property
    def blood_group(self) -> Line | None:
        return next(
            (x for x in self.sections.get("mesures", []) if x.entry.code == BLOOD_GROUP_LOINC),
            None,
        )

    @property
    def organ_donation(self) -> Line | None:
        return next(
            (x for x in self.sections.get("volontes", []) if x.entry.code == ORGAN_DONATION), None
        )


LATEST = 300  # entries of each kind on the page, newest first


def _newest_first(entry: ProfileEntry) -> tuple[bool, float, float]:
    effective = entry.effective.timestamp() if entry.effective else 0.0
    return (entry.effective is None, -effective, -entry.recorded_at.timestamp())


def read_profile(session: Session, actor: Actor, patient_id: uuid.UUID) -> ProfileSheet:
    """Every current entry of the profile, one audit row for the page; the advance directives
    are the documents of type EXPPAT_3 this actor may see (a minor's secret ones stay hidden
    from the legal representative by the documents' own rules)."""
    from carnet.documents import service as documents
    from carnet.terminology.documents import ADVANCE_DIRECTIVES

    facts = load_facts(session, actor, patient_id)
    authorize(
        session,
        actor,
        patient_id,
        Action.READ,
        resource_type="Patient",
        audit_action="read",  # « a consulté votre dossier » in the history
        detail="profile",
        facts=facts,
    )
    sheet = ProfileSheet(sections={s.slug: [] for s in forms.SECTIONS}, closed=facts.closed)
    found: dict[uuid.UUID, ProfileEntry] = {}
    for resource_type in dict.fromkeys(s.resource_type for s in forms.SECTIONS):
        rows = service.entries_of(
            session, patient_id, resource_type, service.ProfileQuery(count=LATEST)
        )
        if resource_type == "Observation":
            # an app's daily values must not push the blood group and the wishes off the page
            rows += service.entries_of(
                session,
                patient_id,
                resource_type,
                service.ProfileQuery(codes=[BLOOD_GROUP_LOINC, ORGAN_DONATION]),
            )
        found.update((row.id, row) for row in rows)
    for entry in sorted(found.values(), key=_newest_first):
        slug = forms.section_of(entry.resource_type, entry.code).slug
        changeable = may_change_entry(actor, entry.source_kind, entry.source_ref)
        sheet.sections[slug].append(Line(entry, slug, changeable))
    sheet.advance_directives = documents.list_documents(
        session, actor, patient_id, documents.DocumentQuery(types=[ADVANCE_DIRECTIVES], count=20)
    )
    return sheet


def entry_to_edit(
    session: Session, actor: Actor, patient_id: uuid.UUID, entry_id: uuid.UUID, slug: str
) -> Line:
    """An entry of this record the patient side may change, for its edit form."""
    spec = forms.section(slug)
    entry = service.read(session, actor, entry_id, spec.resource_type)
    if (
        entry.patient_id != patient_id
        or forms.section_of(entry.resource_type, entry.code).slug != slug
    ):
        raise NotFound(service.NOT_FOUND)
    check_may_change_entry(actor, entry.source_kind, entry.source_ref)
    return Line(entry, slug, True)


def add_entry(
    session: Session, actor: Actor, patient_id: uuid.UUID, parsed: ProfileInput
) -> ProfileEntry:
    return service.create(session, actor, patient_id, parsed)


def change_entry(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    slug: str,
    parsed: ProfileInput,
) -> ProfileEntry:
    line = entry_to_edit(session, actor, patient_id, entry_id, slug)
    if forms.section_of(parsed.resource_type, parsed.code).slug != slug:
        raise NotFound(service.NOT_FOUND)
    return service.update(session, actor, line.entry.id, parsed)


def remove_entry(
    session: Session, actor: Actor, patient_id: uuid.UUID, entry_id: uuid.UUID, slug: str
) -> ProfileEntry:
    line = entry_to_edit(session, actor, patient_id, entry_id, slug)
    return service.remove(session, actor, line.entry.id, line.entry.resource_type)
