"""Authorization use cases: grant, revoke, block, unblock, declare consent (TD0.3), designate
the médecin traitant DMP. Each change is audited on the patient's trail."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind, RecordFacts
from carnet.access.gate import authorize, load_facts
from carnet.access.representation import (
    holder_side_clause,
    holder_side_sees,
    in_secret_connection,
)
from carnet.authorizations.models import Authorization, AuthorizationStatus, GrantSource
from carnet.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.professionals.models import Professional


def _professional(session: Session, professional_id: uuid.UUID) -> Professional:
    professional = session.get(Professional, professional_id)
    if professional is None or not professional.active:
        raise NotFound("No such professional in the directory.", field="professional")
    return professional


def _row(session: Session, patient_id: uuid.UUID, professional_id: uuid.UUID) -> Authorization:
    row = session.execute(
        select(Authorization)
        .where(
            Authorization.patient_id == patient_id,
            Authorization.professional_id == professional_id,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = Authorization(
            patient_id=patient_id,
            professional_id=professional_id,
            status=AuthorizationStatus.REVOKED.value,
            source=GrantSource.PATIENT.value,
            updated_at=clock.now(),
            version=0,
        )
        session.add(row)
    return row


def _touch(row: Authorization) -> Authorization:
    row.updated_at = clock.now()
    row.version += 1
    return row


def _holder_change(
    session: Session, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID, verb: str
) -> Authorization:
    facts = load_facts(session, actor, patient_id)
    authorize(
        session,
        actor,
        patient_id,
        Action.MANAGE,
        resource_type="Consent",
        resource_id=str(professional_id),
        audit_action=f"authorization.{verb}",
        facts=facts,
    )
    _professional(session, professional_id)
    row = _row(session, patient_id, professional_id)
    if facts.is_representative:
        # A representative's grant or block of a professional the minor authorized in secret
        # is theirs from then on: listed to them (and nothing of what came before)
        row.hidden_from_representatives = False
    return row


def _source(session: Session, actor: Actor, patient_id: uuid.UUID) -> str:
    return (
        GrantSource.PATIENT.value
        if actor.patient_id == patient_id
        else GrantSource.REPRESENTATIVE.value
    )


def grant(
    session: Session, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID
) -> Authorization:
    row = _holder_change(session, actor, patient_id, professional_id, "grant")
    if row.status == AuthorizationStatus.BLOCKED.value:
        raise Conflict("This professional is blocked: unblock them first.")
    row.status = AuthorizationStatus.ACTIVE.value
    row.source = _source(session, actor, patient_id)
    row.granted_at = clock.now()
    return _touch(row)


def revoke(
    session: Session, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID
) -> Authorization:
    row = _holder_change(session, actor, patient_id, professional_id, "revoke")
    if row.status == AuthorizationStatus.ACTIVE.value:
        row.status = AuthorizationStatus.REVOKED.value
    row.treating_doctor = False
    return _touch(row)


def block(
    session: Session, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID
) -> Authorization:
    row = _holder_change(session, actor, patient_id, professional_id, "block")
    row.status = AuthorizationStatus.BLOCKED.value
    row.treating_doctor = False
    return _touch(row)


def unblock(
    session: Session, actor: Actor, patient_id: uuid.UUID, professional_id: uuid.UUID
) -> Authorization:
    """Unblocking does not grant access: the professional needs consent again."""
    row = _holder_change(session, actor, patient_id, professional_id, "unblock")
    if row.status == AuthorizationStatus.BLOCKED.value:
        row.status = AuthorizationStatus.REVOKED.value
    return _touch(row)


def set_treating_doctor(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    professional_id: uuid.UUID,
    *,
    treating: bool,
) -> Authorization:
    """Designate (or stop designating) a médecin traitant DMP; several are allowed. A treating
    doctor is always authorized."""
    row = _holder_change(
        session,
        actor,
        patient_id,
        professional_id,
        "designate_treating_doctor" if treating else "remove_treating_doctor",
    )
    professional = _professional(session, professional_id)
    if treating:
        if professional.profession_code != "10":
            raise Invalid("Only a physician can be médecin traitant.", field="professional")
        if row.status == AuthorizationStatus.BLOCKED.value:
            raise Conflict("This professional is blocked: unblock them first.")
        row.status = AuthorizationStatus.ACTIVE.value
        row.source = _source(session, actor, patient_id)
        row.granted_at = row.granted_at or clock.now()
    row.treating_doctor = treating
    return _touch(row)


def declare_consent(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    patient_consented: bool,
    treating_doctor: bool = False,
) -> Authorization:
    """A professional records, by an explicit action, that the patient consented (TD0.3 AJOUT).
    Never automatic: ``patient_consented`` must be set by the user's own tick."""
    if actor.kind is not ActorKind.PROFESSIONAL or actor.professional_id is None:
        raise Forbidden("Only a professional can declare the patient's consent.")
    if not patient_consented:
        raise Invalid(
            "The patient's consent must be confirmed explicitly.", field="patient_consented"
        )
    authorize(
        session,
        actor,
        patient_id,
        Action.DECLARE_CONSENT,
        resource_type="Consent",
        resource_id=str(actor.professional_id),
        audit_action="authorization.declare_consent",
    )
    secret = in_secret_connection(session, actor, patient_id)
    row = _row(session, patient_id, actor.professional_id)
    if row.status == AuthorizationStatus.BLOCKED.value:
        # Re-checked under the row lock: a block made meanwhile wins over the declaration.
        raise Forbidden("The patient has blocked this professional.")
    if secret and row.status == AuthorizationStatus.ACTIVE.value:
        return row  # authorized already: a secret declaration changes nothing they see
    # A minor seen in a secret connection consents for herself: her representatives are not
    # shown it; declared openly, it is listed to them as any other.
    row.hidden_from_representatives = secret
    row.status = AuthorizationStatus.ACTIVE.value
    row.source = GrantSource.PROFESSIONAL_DECLARATION.value
    row.granted_at = clock.now()
    if treating_doctor:
        if actor.profession != "10":
            raise Invalid("Only a physician can be médecin traitant.", field="treating_doctor")
        row.treating_doctor = True
    return _touch(row)


def list_authorizations(
    session: Session, actor: Actor, patient_id: uuid.UUID
) -> list[tuple[Authorization, Professional]]:
    """The holder sees every decision (a minor's representative, all but those she made in a
    secret connection); a professional sees only their own."""
    facts = _authorize_consents(session, actor, patient_id)
    query = (
        select(Authorization, Professional)
        .join(Professional, Professional.id == Authorization.professional_id)
        .where(
            Authorization.patient_id == patient_id,
            Authorization.version > 0,
            holder_side_clause(facts, Authorization.hidden_from_representatives),
        )
        .order_by(Professional.family_name)
    )
    if actor.kind is ActorKind.PROFESSIONAL:
        query = query.where(Authorization.professional_id == actor.professional_id)
    return [(a, p) for a, p in session.execute(query).all()]


def get_authorization(
    session: Session, actor: Actor, authorization_id: uuid.UUID
) -> tuple[Authorization, Professional]:
    """One consent, by id, to whoever ``list_authorizations`` would show it (and audited the
    same way); "not found" otherwise."""
    row = session.get(Authorization, authorization_id)
    if row is None:
        raise NotFound("No such consent.")
    facts = _authorize_consents(session, actor, row.patient_id)
    theirs = (
        actor.kind is not ActorKind.PROFESSIONAL or row.professional_id == actor.professional_id
    ) and holder_side_sees(facts, row.hidden_from_representatives)
    professional = session.get(Professional, row.professional_id)
    if row.version <= 0 or not theirs or professional is None:
        raise NotFound("No such consent.")
    return row, professional


def _authorize_consents(session: Session, actor: Actor, patient_id: uuid.UUID) -> RecordFacts:
    """Reading a record's consents: the holder's side reads the record; a professional only
    looks it up (and then sees their own consent only). Returns the record's facts."""
    facts = load_facts(session, actor, patient_id)
    authorize(
        session,
        actor,
        patient_id,
        Action.LOOKUP if actor.kind is ActorKind.PROFESSIONAL else Action.READ,
        resource_type="Consent",
        audit_action="authorization.search",
        facts=facts,
    )
    return facts


def apply_consent(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    ps_idnat: str,
    status: str,
    provision: str,
    treating_doctor: bool,
    verified: bool,
) -> Authorization:
    """One entry point for Consent writes: a professional's declaration (TD0.3) or the holder's
    grant / revoke / block / unblock / designation."""
    from carnet.professionals.service import find_professional

    if status not in ("active", "inactive"):
        raise Invalid("Consent.status must be active or inactive.", field="Consent.status")
    if actor.kind is ActorKind.PROFESSIONAL:
        if ps_idnat != actor.ref:
            raise Invalid(
                "A professional can only declare consent for themself.",
                field="Consent.provision.actor",
            )
        if status != "active" or provision != "permit":
            raise Invalid(
                "A professional can only declare an active permit consent.", field="Consent.status"
            )
        return declare_consent(
            session, actor, patient_id, patient_consented=verified, treating_doctor=treating_doctor
        )
    professional = find_professional(session, ps_idnat)
    if professional is None:
        raise Invalid(
            "No professional with this PS_IdNat in the directory.", field="Consent.provision.actor"
        )
    if provision == "deny":
        if status == "active":
            return block(session, actor, patient_id, professional.id)
        return unblock(session, actor, patient_id, professional.id)
    if status != "active":
        return revoke(session, actor, patient_id, professional.id)
    row = grant(session, actor, patient_id, professional.id)
    if treating_doctor != row.treating_doctor:
        row = set_treating_doctor(
            session, actor, patient_id, professional.id, treating=treating_doctor
        )
    return row
