"""Registered systems: registration (operator), and turning a verified RFC 7523 assertion into
the claims of an access token — the professional named by PS_IdNat, their profession and role,
the patient by INS, and the purpose of use."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, import_key
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor, ActorKind, Mode
from carnet.access.gate import actor_fields
from carnet.audit import service as audit
from carnet.crypto import random_token
from carnet.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.identity import parse_ins_identifier
from carnet.professionals.models import Professional, Structure
from carnet.professionals.service import find_professional, find_structure
from carnet.systems.models import System, UsedAssertion

PURPOSES = {
    "normal": Mode.NORMAL,
    "TREAT": Mode.NORMAL,
    "bris_de_glace": Mode.EMERGENCY,
    "emergency": Mode.EMERGENCY,
    "BTG": Mode.EMERGENCY,
    "ETREAT": Mode.EMERGENCY,
    "regulation": Mode.REGULATOR,
    "regulator": Mode.REGULATOR,
}
# The VIHF's confidentiality-code attribute asks for a secret connection (domain.md §1.5),
# given alone or as the HL7 v2 "code^OID" the DMP's VIHF carries.
SECRET_CONNECTION = "INVISIBLE_REPRESENTANTS_LEGAUX"  # noqa: S105 - a TRE_A07 code
TRE_A07 = "1.2.250.1.213.1.1.4.13"


def register_system(
    session: Session,
    actor: Actor,
    *,
    name: str,
    public_key_pem: str,
    structure_idnat: str | None = None,
    software_version: str | None = None,
) -> System:
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can register systems.")
    if not name.strip():
        raise Invalid("A system needs a name.", field="name")
    if "PRIVATE KEY" in public_key_pem or '"d"' in public_key_pem:
        raise Invalid(
            "Give the public key only; keep the private key in the software.", field="public_key"
        )
    try:
        key = _import_public_key(public_key_pem)
    except (JoseError, ValueError, TypeError) as error:
        raise Invalid(
            "The public key is not a valid PEM or JWK key.", field="public_key"
        ) from error
    if key.is_private:
        raise Invalid(
            "Give the public key only; keep the private key in the software.", field="public_key"
        )
    if key.key_type not in ("RSA", "EC", "OKP"):
        raise Invalid("The key must be RSA, EC or OKP.", field="public_key")
    if not structure_idnat:
        raise Invalid("A system belongs to a structure (its Struct_IdNat).", field="structure")
    structure = find_structure(session, structure_idnat)
    if structure is None:
        raise Invalid("Unknown structure.", field="structure")
    structure_id = structure.id
    system = System(
        client_id="sys-" + random_token(12),
        name=name.strip(),
        structure_id=structure_id,
        jwks=KeySet([key]).as_dict(private=False),
        software_version=software_version,
    )
    session.add(system)
    session.flush()
    audit.append(
        session,
        patient_id=None,
        action="system.register",
        resource_type="Device",
        resource_id=system.client_id,
        **actor_fields(actor),
    )
    return system


def _import_public_key(text: str) -> Any:
    """A PEM public key or a JWK (JSON); the key type is read from the key itself."""
    text = text.strip()
    if text.startswith("{"):
        data = json.loads(text)
        return import_key(data, data.get("kty"))
    loaded = serialization.load_pem_public_key(text.encode())
    kind = (
        "RSA"
        if isinstance(loaded, rsa.RSAPublicKey)
        else "EC"
        if isinstance(loaded, ec.EllipticCurvePublicKey)
        else "OKP"
    )
    return import_key(text, cast(Any, kind))


def find_system(session: Session, client_id: str) -> System | None:
    system = session.execute(
        select(System).where(System.client_id == client_id)
    ).scalar_one_or_none()
    return system if system is not None and system.active else None


def client_keys(system: System) -> KeySet:
    return KeySet.import_key_set(system.jwks)  # type: ignore[arg-type]


def remember_assertion(
    session: Session, client_id: str, jti: str | None, expires: datetime
) -> None:
    """Refuse a replayed assertion (same ``jti``); forget ids once they expire."""
    if not jti:
        raise Invalid("The assertion needs a 'jti' claim.", field="jti")
    now = clock.now()
    session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))
    key = f"{client_id}:{jti}"[:200]
    if session.get(UsedAssertion, key) is not None:
        raise Conflict("This assertion was already used.", field="jti")
    session.add(UsedAssertion(jti=key, client_id=client_id, expires_at=expires))
    session.flush()


def token_claims_for_assertion(
    session: Session, system: System, claims: dict[str, Any]
) -> dict[str, Any]:
    """Validate what the assertion says about the professional, patient and purpose, and build
    the access token claims. Record-level access is decided later, on each request."""
    ps_idnat = str(claims.get("sub") or "")
    professional = find_professional(session, ps_idnat)
    if professional is None or not professional.active:
        raise Invalid("The professional (sub, PS_IdNat) is not in the directory.", field="sub")
    if system.structure_id is None or professional.structure_id != system.structure_id:
        # The software speaks for its own structure's staff only: otherwise an excluded
        # structure's software could borrow a professional's identity.
        raise Invalid("The professional does not work for this system's structure.", field="sub")
    profession = claims.get("profession")
    if profession is not None and str(profession) != professional.profession_code:
        raise Invalid("The profession does not match the directory.", field="profession")
    purpose = str(claims.get("purpose_of_use") or "normal")
    mode = PURPOSES.get(purpose)
    if mode is None:
        raise Invalid(
            "Unknown purpose_of_use; expected normal, bris_de_glace or regulation.",
            field="purpose_of_use",
        )
    reason = (str(claims.get("reason") or "")).strip() or None
    if mode is Mode.EMERGENCY and not reason:
        raise Invalid("Emergency access (bris de glace) needs a reason.", field="reason")
    if mode is Mode.REGULATOR and "samu_regulator" not in professional.role_set:
        raise Invalid("Regulator mode is reserved to SAMU regulating physicians.", field="role")
    secret = _secret_connection(claims.get("confidentiality_code"))
    patient_ins: str | None = None
    if claims.get("patient"):
        # Bound by INS, resolved on each request: the token says nothing of who exists.
        ins = parse_ins_identifier(str(claims["patient"]), field="patient")
        patient_ins = f"{ins.oid}|{ins.matricule}"
    elif mode is not Mode.NORMAL:
        raise Invalid(
            "Emergency and regulator tokens are for one patient: give 'patient'.", field="patient"
        )
    elif secret:
        raise Invalid("A secret connection is for one patient: give 'patient'.", field="patient")
    structure = (
        session.get(Structure, professional.structure_id) if professional.structure_id else None
    )
    return {
        "sub": professional.ps_idnat,
        "client_id": system.client_id,
        "act": professional_act(professional, structure),
        "pins": patient_ins,
        "purpose": mode.value,
        "reason": reason if mode is not Mode.NORMAL else None,
        **({"secret": True} if secret else {}),
    }


def _secret_connection(code: Any) -> bool:
    """Does the assertion ask for a secret connection ("connexion secrète": a minor's
    confidential care, kept from the legal representatives)?"""
    if code is None or code == "":
        return False
    if str(code) in (SECRET_CONNECTION, f"{SECRET_CONNECTION}^{TRE_A07}"):
        return True
    raise Invalid(
        f"Unknown confidentiality_code; the one accepted is {SECRET_CONNECTION} "
        "(a secret connection to a minor's record).",
        field="confidentiality_code",
    )


def professional_act(professional: Professional, structure: Structure | None) -> dict[str, Any]:
    return {
        "kind": ActorKind.PROFESSIONAL.value,
        "pid": str(professional.id),
        "name": professional.display_name,
        "prof": professional.profession_code,
        "spec": professional.specialty_code,
        "roles": sorted(professional.role_set),
        "sname": structure.name if structure else None,
        "skind": structure.kind if structure else None,
        "sfac": structure.facility_type_code if structure else None,
    }


def get_system(session: Session, client_id: str) -> System:
    system = find_system(session, client_id)
    if system is None:
        raise NotFound("No such system.")
    return system
