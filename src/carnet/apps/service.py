"""Apps: registration by the operator, authorization codes, and the patient's grants (connect,
list, disconnect)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import actor_fields, authorize
from carnet.access.scopes import narrow, parse_scope
from carnet.apps.models import App, AppGrant, AuthorizationCode
from carnet.audit import service as audit
from carnet.crypto import random_token, sha256_hex
from carnet.errors import Forbidden, Invalid, NotFound
from carnet.profile.models import ProfileEntry

CODE_TTL_SECONDS = 120
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})  # RFC 8252 §7.3 native apps
REDIRECT_URI_RULE = "Redirect URIs must use https (or http on a loopback address)."
# The operator's labels (the catalogue shows labelled apps only) and categories.
LABELS = {"referenced": "Referenced"}  # « référencée » by the operator after review
CATEGORIES = {  # code → English words (translated by the portal's catalogue)
    "physical_activity": "Physical activity",
    "chronic_conditions": "Chronic conditions",
    "nutrition": "Nutrition",
    "medication": "Medication",
    "mental_health": "Mental health",
    "prevention": "Prevention",
    "other": "Other",
}
MAX_CLIENT_ID = 60


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
    category: str | None = None,
    launch_url: str | None = None,
) -> App:
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can register apps.")
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise Invalid("An app needs at least one redirect URI.", field="redirect_uris")
    for uri in uris:
        check_redirect_uri(uri)
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("An app needs a name of at most 200 characters.", field="name")
    # What an app pushed is found by its name (the source of the entries): names are unique.
    if session.execute(select(App.id).where(func.lower(App.name) == name.lower())).first():
        raise Invalid("An app with this name is already registered.", field="name")
    if client_id is not None and not (
        0 < len(client_id) <= MAX_CLIENT_ID and client_id.replace("-", "").isalnum()
    ):
        raise Invalid(
            f"A client id has 1 to {MAX_CLIENT_ID} letters, digits or hyphens.", field="client_id"
        )
    if client_id is not None and find_any_app(session, client_id) is not None:
        raise Invalid("This client id is already registered.", field="client_id")
    _check_category(category)
    if launch_url:
        check_launch_url(launch_url)
    app = App(
        client_id=client_id or "app-" + random_token(12),
        name=name,
        redirect_uris="\n".join(uris),
        allowed_scopes=" ".join(allowed_scopes.split()),
        description=description,
        publisher=publisher,
        listed=listed,
        first_party=first_party,
        category=category,
        launch_url=launch_url or None,
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


def check_launch_url(uri: str) -> str:
    """The page where a patient starts connecting the app: same rule as redirect URIs."""
    try:
        check_redirect_uri(uri)
    except Invalid:
        raise Invalid(
            "The launch URL must use https (or http on a loopback address).", field="launch_url"
        ) from None
    return uri


def _check_category(category: str | None) -> None:
    if category is not None and category not in CATEGORIES:
        raise Invalid(
            f"Unknown category; choose one of: {', '.join(CATEGORIES)}.", field="category"
        )


def _operator_only(actor: Actor) -> None:
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can curate the catalogue of apps.")


def find_any_app(session: Session, client_id: str) -> App | None:
    """An app by its client id, active or not (the operator's view)."""
    return session.execute(select(App).where(App.client_id == client_id)).scalar_one_or_none()


def _curated(session: Session, client_id: str) -> App:
    app = find_any_app(session, client_id)
    if app is None or app.first_party:
        raise NotFound("No such app.")
    return app


def label_app(
    session: Session,
    actor: Actor,
    *,
    client_id: str,
    label: str = "referenced",
    category: str | None = None,
) -> App:
    """The operator labels an app after review: it appears in the patients' catalogue with
    the label, its date and its category."""
    _operator_only(actor)
    if label not in LABELS:
        raise Invalid(f"Unknown label; choose one of: {', '.join(LABELS)}.", field="label")
    _check_category(category)
    app = _curated(session, client_id)
    if not app.active:
        raise Invalid("A withdrawn app cannot be labelled.", field="client_id")
    app.label = label
    app.labelled_at = clock.now()
    app.category = category or app.category
    app.listed = True
    session.flush()
    audit.append(
        session,
        patient_id=None,
        action="app.label",
        resource_type="Device",
        resource_id=app.client_id,
        detail=label,
        **actor_fields(actor),
    )
    return app


def unlist_app(session: Session, actor: Actor, *, client_id: str) -> App:
    """The operator takes an app out of the catalogue: patients no longer find it there; those
    who connected it keep it until they disconnect it (withdrawing the app altogether —
    ``active`` — is what stops its tokens)."""
    _operator_only(actor)
    app = _curated(session, client_id)
    app.listed = False
    app.label = None
    app.labelled_at = None
    session.flush()
    audit.append(
        session,
        patient_id=None,
        action="app.unlist",
        resource_type="Device",
        resource_id=app.client_id,
        **actor_fields(actor),
    )
    return app


def list_apps(session: Session, actor: Actor) -> list[App]:
    """Every registered app, for the operator."""
    _operator_only(actor)
    return list(session.execute(select(App).order_by(App.name)).scalars())


def catalogue(session: Session) -> list[App]:
    """The patients' catalogue: active third-party apps the operator listed and labelled."""
    return list(
        session.execute(
            select(App)
            .where(
                App.listed.is_(True),
                App.active.is_(True),
                App.first_party.is_(False),
                App.label.is_not(None),
            )
            .order_by(App.name)
        ).scalars()
    )


# --- scopes in plain words -------------------------------------------------------------------

# What a resource scope is about, as an English key of the portal's catalogue.
RESOURCE_WORDS = {
    "*": "all of your record",
    "Patient": "your identity (name, date of birth)",
    "Observation": "your measurements (steps, weight, blood pressure, results)",
    "AllergyIntolerance": "your allergies",
    "MedicationStatement": "your treatments",
    "MedicationRequest": "your prescriptions",
    "Condition": "your health problems",
    "Immunization": "your vaccinations",
    "RelatedPerson": "your contacts",
    "DocumentReference": "your documents",
    "Binary": "the contents of your documents",
    "AuditEvent": "your access history",
    "Consent": "your authorizations",
    "Appointment": "your appointments",
    "Communication": "your messages",
}
CONTEXT_WORDS = {
    "openid": "know who you are (your Carnet account)",
    "fhirUser": "know who you are (your Carnet account)",
    "launch/patient": "know which record it is connected to",
    "offline_access": "stay connected when you are not using it",
    "online_access": "stay connected while you use it",
}


@dataclass(frozen=True)
class ScopeWords:
    """One scope for the patient: what it is about and what the app may do with it."""

    scope: str
    about: str  # an English key (RESOURCE_WORDS / CONTEXT_WORDS) or the resource type
    reads: bool = False
    writes: bool = False
    data: bool = True  # False for the launch context (openid, launch/patient…): not optional


def describe_scopes(scope: str) -> list[ScopeWords]:
    """The scopes of a request or a grant in plain words (pure)."""
    out: list[ScopeWords] = []
    seen: set[str] = set()
    for item in scope.split():
        parsed = parse_scope(item)
        if parsed is None:
            about = CONTEXT_WORDS.get(item)
            if about is not None and about not in seen:
                seen.add(about)
                out.append(ScopeWords(item, about, data=False))
            continue
        _, resource, perms = parsed
        out.append(
            ScopeWords(
                item,
                RESOURCE_WORDS.get(resource, resource),
                reads=bool(perms & {"r", "s"}),
                writes=bool(perms & {"c", "u", "d"}),
            )
        )
    return out


def choose_scopes(requested: str, ticked: set[str] | None) -> str:
    """The scopes the patient grants: the launch context, and the data scopes left ticked on
    the consent page (all of them when the form did not offer the choice). At least one
    data scope must remain when the app asked for some."""
    if ticked is None:
        return requested
    kept = [s for s in requested.split() if parse_scope(s) is None or s in ticked]
    asked_data = any(parse_scope(s) is not None for s in requested.split())
    if asked_data and not any(parse_scope(s) is not None for s in kept):
        raise Invalid("Tick at least one kind of data, or deny the connection.", field="scopes")
    return " ".join(kept)


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
    """The holder, or a minor's legal representative, withdraws an app's consent: ``access``
    decides and traces it. LIFECYCLE rather than MANAGE: like closing the record, withdrawing
    a consent stays possible on a closed record (which apps may still read)."""
    authorize(
        session,
        actor,
        patient_id,
        Action.LIFECYCLE,
        resource_type="Consent",
        resource_id=client_id,
        audit_action="app.disconnect",
    )
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
        raise NotFound("No such connected app.")  # rolls back the access row with the rest


# --- the patient's connected apps ------------------------------------------------------------


@dataclass
class Connection:
    """One app connected to a record: the live grant and what the app pushed to the record."""

    app: App
    grant: AppGrant
    pushed: list[ProfileEntry]
    pushed_total: int


def connected_apps(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, pushed_limit: int = 10
) -> list[Connection]:
    """The apps connected to a record (live grants of active apps, Carnet's own patient client
    included), each with the latest entries it added. Reading them is decided by ``access``
    and traced."""
    authorize(
        session,
        actor,
        patient_id,
        Action.READ,
        resource_type="Consent",
        audit_action="read",
        detail="connected apps",
    )
    rows = session.execute(
        select(AppGrant, App)
        .join(App, App.client_id == AppGrant.client_id)
        .where(
            AppGrant.patient_id == patient_id,
            AppGrant.revoked_at.is_(None),
            App.active.is_(True),
        )
        .order_by(App.name, AppGrant.created_at.desc())
    ).all()
    out: list[Connection] = []
    seen: set[str] = set()
    for grant, app in rows:
        if app.client_id in seen:  # connected twice: the latest grant is the one in force
            continue
        seen.add(app.client_id)
        total = session.execute(
            select(func.count()).select_from(ProfileEntry).where(*_pushed_filter(patient_id, app))
        ).scalar_one()
        out.append(Connection(app, grant, _pushed(session, patient_id, app, pushed_limit), total))
    return out


def _pushed_filter(patient_id: uuid.UUID, app: App) -> list[ColumnElement[bool]]:
    # An app's entries carry its name as their source (its tokens name the app; names are
    # unique in the registry).
    return [
        ProfileEntry.patient_id == patient_id,
        ProfileEntry.source_kind == "app",
        ProfileEntry.source_name == app.name,
        ProfileEntry.status != "entered-in-error",
    ]


def _pushed(session: Session, patient_id: uuid.UUID, app: App, limit: int) -> list[ProfileEntry]:
    statement = (
        select(ProfileEntry)
        .where(*_pushed_filter(patient_id, app))
        .order_by(ProfileEntry.effective.desc().nulls_last(), ProfileEntry.recorded_at.desc())
        .limit(limit)
    )
    return list(session.execute(statement).scalars())
