"""Carnet's access tokens: short-lived JWTs (RFC 9068 style) signed with a key derived from the
server secret. They carry the actor, the bound patient and the purpose of use, so that checking
a token needs no database round trip."""

from __future__ import annotations

import uuid
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from carnet import clock
from carnet.access import Actor, ActorKind, Mode
from carnet.crypto import derive_key, random_token
from carnet.errors import Unauthenticated
from carnet.settings import Settings

_keys: dict[str, OctKey] = {}


def _key(settings: Settings) -> OctKey:
    key = _keys.get(settings.secret_key)
    if key is None:
        key = OctKey.import_key(derive_key(settings.secret_key, "access-token"))
        _keys[settings.secret_key] = key
    return key


def issue(settings: Settings, claims: dict[str, Any], ttl: int) -> tuple[str, dict[str, Any]]:
    now = _now()
    body = {
        "iss": settings.base_url,
        "aud": settings.fhir_base,
        "iat": now,
        "exp": now + ttl,
        "jti": random_token(12),
        **claims,
    }
    token = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, body, _key(settings))
    return token, body


def _now() -> int:
    return int(clock.now().timestamp())


_registry = jwt.JWTClaimsRegistry(
    now=_now, exp={"essential": True}, iat={"essential": True}, sub={"essential": True}
)


# Tokens already checked, by (secret, token): a request with a known token skips the parsing
# and the signature check, not the expiry. Bounded: emptied when full (tokens live minutes).
_checked: dict[tuple[str, str], dict[str, Any]] = {}
CHECKED_MAX = 10_000


def decode(settings: Settings, token: str) -> dict[str, Any]:
    known = _checked.get((settings.secret_key, token))
    if known is not None:
        if known["iat"] <= _now() < known["exp"]:  # as the registry checks them
            return known
        _checked.pop((settings.secret_key, token), None)
    claims = _decode(settings, token)
    if len(_checked) >= CHECKED_MAX:
        _checked.clear()
    _checked[(settings.secret_key, token)] = claims
    return claims


def _decode(settings: Settings, token: str) -> dict[str, Any]:
    try:
        decoded = jwt.decode(token, _key(settings), algorithms=["HS256"])
        _registry.validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise Unauthenticated("The access token is invalid or expired.") from error
    claims: dict[str, Any] = decoded.claims
    if claims.get("aud") != settings.fhir_base or claims.get("iss") != settings.base_url:
        raise Unauthenticated("The access token was not issued for this server.")
    return claims


def actor_from_claims(claims: dict[str, Any]) -> Actor:
    act = claims.get("act") or {}
    kind = ActorKind(act.get("kind", "app"))
    patient = claims.get("patient")
    bound = uuid.UUID(patient) if patient else None
    holder = act.get("patient")
    return Actor(
        kind=kind,
        ref=str(claims["sub"]),
        display_name=act.get("name", ""),
        account_id=uuid.UUID(act["account"]) if act.get("account") else None,
        patient_id=uuid.UUID(holder) if holder else None,
        professional_id=uuid.UUID(act["pid"]) if act.get("pid") else None,
        profession=act.get("prof"),
        specialty=act.get("spec"),
        roles=frozenset(act.get("roles", ())),
        structure_name=act.get("sname"),
        structure_kind=act.get("skind"),
        facility_type=act.get("sfac"),
        client_id=claims.get("client_id"),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        mode=Mode(claims.get("purpose", "normal")),
        reason=claims.get("reason"),
        bound_patient_id=bound,
        bound_patient_ins=claims.get("pins"),
        session_id=claims.get("jti"),
        secret=claims.get("secret") is True,
    )
