"""Patient identity use cases: register a person (the insurer's referential, standing in for
the INSi teleservice), find them by INS, attach legal representatives."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import actor_fields, deny_unknown
from carnet.audit import service as audit
from carnet.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.identity import (
    OID_INS_NIR,
    InsTraits,
    consistent_with_nir,
    parse_ins_identifier,
    parse_nir,
    validate_traits,
)
from carnet.patients.models import LegalRepresentative, Patient

REPRESENTATIVE_RELATIONS = frozenset(
    {
        "FTH",
        "MTH",
        "STPFTH",
        "STPMTH",
        "GRFTH",
        "GRMTH",
        "GGRFTH",
        "GGRMTH",
        "AUNT",
        "UNCLE",
        "BRO",
        "SIS",
        "RESPRSN",
    }
)


def _require_operator(actor: Actor) -> None:
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can do this.")


def register_patient(
    session: Session,
    actor: Actor,
    *,
    nir: str,
    birth_name: str,
    birth_given_names: list[str],
    birth_date: date,
    sex: str,
    birth_place_code: str | None = None,
    used_name: str | None = None,
    used_given_name: str | None = None,
    ins_oid: str = OID_INS_NIR,
    email: str | None = None,
    phone: str | None = None,
    vitale_serial: str | None = None,
) -> Patient:
    """Add a person to the identity referential (no record is created here)."""
    _require_operator(actor)
    parsed = parse_nir(nir, field="nir")
    traits = InsTraits(
        birth_name=birth_name.strip().upper(),
        birth_given_names=tuple(n.strip().upper() for n in birth_given_names if n.strip()),
        birth_date=birth_date,
        sex=sex,  # type: ignore[arg-type]
        birth_place_code=birth_place_code,
        used_name=used_name,
        used_given_name=used_given_name,
    )
    validate_traits(traits, today=clock.today())
    mismatches = consistent_with_nir(traits, parsed)
    if mismatches:
        raise Invalid("Identity traits do not match the NIR: " + "; ".join(mismatches), field="nir")
    if find_by_nir(session, parsed.value) is not None:
        raise Conflict("A person with this NIR is already registered.", field="nir")
    patient = Patient(
        nir=parsed.value,
        ins_oid=ins_oid,
        birth_name=traits.birth_name,
        birth_given_names=" ".join(traits.birth_given_names),
        used_name=used_name,
        used_given_name=used_given_name,
        birth_date=birth_date,
        sex=sex,
        birth_place_code=birth_place_code,
        email=email,
        phone=phone,
        vitale_serial=vitale_serial,
    )
    session.add(patient)
    session.flush()
    audit.append(
        session,
        patient_id=patient.id,
        action="identity.register",
        resource_type="Patient",
        resource_id=str(patient.id),
        **actor_fields(actor),
    )
    return patient


BY_NIR = select(Patient).where(Patient.nir == bindparam("nir"))  # built once: a hot path


def find_by_nir(session: Session, nir: str) -> Patient | None:
    return session.execute(BY_NIR, {"nir": nir}).scalar_one_or_none()


def require_by_nir(session: Session, nir: str) -> Patient:
    """The person with this NIR (typed with or without spaces), for operator tools."""
    patient = find_by_nir(session, parse_nir(nir, field="nir").value)
    if patient is None:
        raise Invalid("No person with this NIR.", field="nir")
    return patient


def find_by_identifier(session: Session, token: str, *, field: str | None = None) -> Patient | None:
    """Resolve a FHIR identifier token ``urn:oid:<INS OID>|<matricule>`` (a malformed one is
    ``Invalid``, naming ``field``)."""
    ins = parse_ins_identifier(token, field=field)
    patient = find_by_nir(session, ins.matricule)
    if patient is None or patient.ins_oid != ins.oid:
        return None
    return patient


def get_patient(
    session: Session,
    patient_id: uuid.UUID | str,
    *,
    actor: Actor | None = None,
    action: Action = Action.READ,
) -> Patient:
    """The person with this id. When an ``actor`` asks, an unknown or malformed id is an
    audited denial on the system chain (probing ids is traced like probing INS); without one,
    a plain NotFound."""
    patient_id = patient_uuid(patient_id, actor=actor, action=action)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise _unknown(actor, action)
    return patient


def patient_uuid(
    value: uuid.UUID | str, *, actor: Actor | None = None, action: Action = Action.READ
) -> uuid.UUID:
    """A patient id as given by a caller; a malformed one matches nobody, like an unknown one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _unknown(actor, action) from None


def _unknown(actor: Actor | None, action: Action) -> Exception:
    if actor is not None:
        return deny_unknown(actor, action=action, resource_type="Patient")
    return NotFound("No record was found for this patient.")


def add_representative(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID,
    representative_id: uuid.UUID,
    relation_code: str,
) -> LegalRepresentative:
    """Attach a legal representative to a minor (the insurer knows who is attached to whom)."""
    _require_operator(actor)
    if relation_code not in REPRESENTATIVE_RELATIONS:
        raise Invalid(
            "Unknown relation code; expected one of "
            f"{', '.join(sorted(REPRESENTATIVE_RELATIONS))}.",
            field="relation",
        )
    if patient_id == representative_id:
        raise Invalid("A person cannot be their own legal representative.", field="relation")
    link = LegalRepresentative(
        patient_id=patient_id, representative_id=representative_id, relation_code=relation_code
    )
    session.add(link)
    session.flush()
    audit.append(
        session,
        patient_id=patient_id,
        action="representative.add",
        resource_type="RelatedPerson",
        resource_id=str(link.id),
        **actor_fields(actor),
    )
    return link
