"""Apps: registration by the operator, authorization codes, and the patient's grants (connect,
list, disconnect)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import actor_fields, authorize, represents
from carnet.access.scopes import narrow
from carnet.apps.models import App, AppGrant, AuthorizationCode
from carnet.audit import service as audit
from carnet.crypto import random_token, sha256_hex
from carnet.errors import Forbidden, Invalid, NotFound

CODE_TTL_SECONDS = 120
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})  # RFC 8252 §7.3 native apps
REDIRECT_URI_RULE = "Redirect URIs must use https (or http on a loopback address)."


def check_redirect_uri(uri: str) -> str:
    """An absolute https URI, or http on exactly a loopback host (``http://localhost.evil.com``
    is not local), without a fragment (RFC 6749 §3.1.2)."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port  # the port raises when malformed
    except ValueError:
        raise Invalid(REDIRECT_URI_RULE, field="redirect_uris") from None
    # The authority must be exactly host[:port]: no user info, nothing the parser forgave
    # (``http://[::1].evil.com`` parses as host ``::1``).
    shown = f"[{host}]" if host and ":" in host else host
    exact = bool(host) and parts.netloc.lower() == f"{shown}{'' if port is None else f':{port}'}"
    secure = parts.scheme == "https"
    loopback = parts.scheme == "http" and host in LOOPBACK_HOSTS
    if not exact or not (secure or loopback) or "#" in uri:
        raise Invalid(REDIRECT_URI_RULE, field="redirect_uris")
    return uri


def register_app(
    session: Session,
    actor: Actor,
    *,
    name: str,
    redirect_uris: list[str],
    allowed_scopes: str,
    description: str | None = None,
    publisher: str | None = None,
    listed: bool = False,
    client_id: str | None = None,
    first_party: bool = False,
) -> App:
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can register apps.")
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise Invalid("An app needs at least one redirect URI.", field="redirect_uris")
    for uri in uris:
        check_redirect_uri(uri)
    app = App(
        client_id=client_id or "app-" + random_token(12),
        name=name.strip(),
        redirect_uris="\n".join(uris),
        allowed_scopes=" ".join(allowed_scopes.split()),
        description=description,
        publisher=publisher,
        listed=listed,
        first_party=first_party,
    )
    session.add(app)
    session.flush()
    audit.append(
        session,
        patient_id=None,
        action="app.register",
        resource_type="Device",
        resource_id=app.client_id,
        **actor_fields(actor),
    )
    return app


def find_app(session: Session, client_id: str) -> App | None:
    app = session.execute(select(App).where(App.client_id == client_id)).scalar_one_or_none()
    return app if app is not None and app.active else None


def allowed_scope(app: App, requested: str) -> str:
    return narrow(requested, app.allowed_scopes)


def save_code(
    session: Session,
    *,
    code: str,
    client_id: str,
    account_id: uuid.UUID,
    patient_id: uuid.UUID,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
    nonce: str | None,
) -> None:
    session.add(
        AuthorizationCode(
            code_hash=sha256_hex(code),
            client_id=client_id,
            account_id=account_id,
            patient_id=patient_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            nonce=nonce,
            expires_at=clock.now() + timedelta(seconds=CODE_TTL_SECONDS),
        )
    )


def find_code(session: Session, code: str, client_id: str) -> AuthorizationCode | None:
    row = session.execute(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == sha256_hex(code))
    ).scalar_one_or_none()
    if row is None or row.client_id != client_id or row.used_at is not None:
        return None
    if row.expires_at <= clock.now():
        return None
    return row


def consume_code(session: Session, row: AuthorizationCode) -> bool:
    """Mark a code used, atomically: False when another exchange used it first (two token
    requests racing with one code must not both succeed — RFC 6749 §4.1.2)."""
    result = session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=clock.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_grant(
    session: Session, actor: Actor, *, patient_id: uuid.UUID, client_id: str, scope: str
) -> AppGrant:
    """The patient (or a minor's legal representative) connects an app: ``access`` decides
    whether this actor manages this record, and traces the consent on the patient's trail."""
    authorize(
        session,
        actor,
        patient_id,
        Action.MANAGE,
        resource_type="Consent",
        resource_id=client_id,
        audit_action="app.connect",
        detail=scope[:500],
    )
    grant = AppGrant(patient_id=patient_id, client_id=client_id, scope=scope)
    session.add(grant)
    return grant


def active_grant(session: Session, patient_id: uuid.UUID, client_id: str) -> AppGrant | None:
    """The patient's live consent to an app — none once the operator has withdrawn the app, so
    that its tokens stop at once, as after a disconnection."""
    return session.execute(
        select(AppGrant)
        .join(App, App.client_id == AppGrant.client_id)
        .where(
            AppGrant.patient_id == patient_id,
            AppGrant.client_id == client_id,
            AppGrant.revoked_at.is_(None),
            App.active.is_(True),
        )
        .order_by(AppGrant.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def disconnect(session: Session, actor: Actor, *, patient_id: uuid.UUID, client_id: str) -> None:
    if actor.kind is not ActorKind.PATIENT or actor.patient_id is None:
        raise NotFound("No such connected app.")
    # The holder, or a legal representative of a minor (who may have connected it for them).
    if actor.patient_id != patient_id and not represents(session, actor.patient_id, patient_id):
        raise NotFound("No such connected app.")
    result = session.execute(
        update(AppGrant)
        .where(
            AppGrant.patient_id == patient_id,
            AppGrant.client_id == client_id,
            AppGrant.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("No such connected app.")
    audit.append(
        session,
        patient_id=patient_id,
        action="app.disconnect",
        resource_type="Consent",
        resource_id=client_id,
        **actor_fields(actor),
    )
