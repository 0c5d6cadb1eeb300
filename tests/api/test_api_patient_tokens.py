"""Patient tokens: the SMART standalone launch (authorization code + PKCE) through the portal's
sign-in and consent page, then what such a token may do on the FHIR API — the patient's own
access history, nothing of anyone else's, nothing once the app is disconnected."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Action, Actor
from carnet.access.gate import authorize
from carnet.accounts import service as accounts
from carnet.accounts.models import Account
from carnet.apps import service as apps
from carnet.apps.models import App, AppGrant
from carnet.audit.models import AuditEntry
from carnet.errors import AccessDenied, Invalid, NotFound
from carnet.notifications.worker import dispatch_due
from carnet.settings import Settings
from carnet.web import tokens
from carnet.web.portal import CSRF_COOKIE
from tests.conftest import Cast, FakeSender

REDIRECT = "http://127.0.0.1:9999/cb"
APP_ID = "carnet-tests-app"
APP_NAME = "Appli de test"
SCOPES = "patient/*.rs launch/patient openid"
SYLVIE = "sylvie.martin@example.org"
DURAND = "paul.durand@example.org"


# --- helpers: a browser and an app, both driven by hand ------------------------------------


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Launch:
    """One authorization request of the test app, as the app would build it."""

    verifier: str
    challenge: str
    state: str
    params: dict[str, str]

    @property
    def path(self) -> str:
        return "/oauth/authorize?" + urlencode(self.params)


class Flow:
    def __init__(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        sender: FakeSender,
        settings: Settings,
        session: Session,
    ) -> None:
        self.client, self.factory, self.sender = client, factory, sender
        self.settings, self.session = settings, session

    def csrf(self) -> str:
        if self.client.cookies.get(CSRF_COOKIE) is None:
            self.client.get("/login")
        token = self.client.cookies.get(CSRF_COOKIE)
        assert token
        return token

    def post_form(self, url: str, data: dict[str, str]) -> Any:
        return self.client.post(
            url, data={"csrf_token": self.csrf(), **data}, follow_redirects=False
        )

    def sign_in(self, login: str = SYLVIE, next_url: str = "/") -> Any:
        first = self.post_form(
            "/login",
            {"login": login, "password": self.settings.demo_password, "next": next_url},
        )
        assert first.status_code == 303, first.text
        if self.client.cookies.get("carnet_factor") == "totp":
            account = accounts.find_account(self.session, login)
            assert account is not None
            secret = accounts.totp_secret(self.session, account)
            assert secret is not None
            code = pyotp.TOTP(secret).now()
        else:
            dispatch_due(self.factory, self.sender, self.settings)
            code = self.sender.last_code(login)
        done = self.post_form("/login/code", {"code": code, "next": next_url})
        assert done.status_code == 303, done.text
        return done

    def launch(
        self, scope: str = SCOPES, *, method: str | None = "S256", **overrides: str
    ) -> Launch:
        verifier, challenge = pkce()
        state = secrets.token_urlsafe(8)
        params = {
            "response_type": "code",
            "client_id": APP_ID,
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
        }
        if method is not None:
            params["code_challenge_method"] = method
        params.update(overrides)
        return Launch(verifier, challenge, state, {k: v for k, v in params.items() if v})

    def consent(self, launch: Launch, decision: str = "allow", patient: str = "") -> Any:
        return self.post_form(launch.path, {"decision": decision, "patient": patient})

    def exchange(self, code: str, verifier: str | None, **overrides: str) -> Any:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": APP_ID,
            **({"code_verifier": verifier} if verifier is not None else {}),
            **overrides,
        }
        return self.client.post("/oauth/token", data=data)

    def allow(self, launch: Launch, patient: str = "") -> str:
        """Consent and return the authorization code."""
        response = self.consent(launch, "allow", patient)
        assert response.status_code == 302, response.text
        return query_of(response.headers["location"])["code"]

    def token(self, scope: str = SCOPES, patient: str = "", sign_in: bool = True) -> dict[str, Any]:
        """The whole happy path: sign in, consent, exchange. Returns the token response."""
        if sign_in:
            self.sign_in()
        launch = self.launch(scope)
        response = self.exchange(self.allow(launch, patient), launch.verifier)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def fhir(self, path: str, token: str | None, **headers: str) -> Any:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.get(path, headers=headers)


@pytest.fixture
def test_app(session: Session, operator: Actor) -> App:
    app = apps.register_app(
        session,
        operator,
        name=APP_NAME,
        client_id=APP_ID,
        allowed_scopes=SCOPES,
        redirect_uris=[REDIRECT],
        description="Une application pour les tests.",
    )
    session.flush()  # the client's sessions share this connection: a flush is enough
    return app


@pytest.fixture
def flow(
    client: TestClient,
    factory: sessionmaker[Session],
    sender: FakeSender,
    settings: Settings,
    session: Session,
    test_app: App,
) -> Flow:
    return Flow(client, factory, sender, settings, session)


def grants_of(session: Session, patient_id: uuid.UUID) -> int:
    return session.execute(
        select(func.count())
        .select_from(AppGrant)
        .where(AppGrant.patient_id == patient_id, AppGrant.client_id == APP_ID)
    ).scalar_one()


def tamper(token: str, **claims: Any) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(claims)
    raw = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{header}.{raw}.{signature}"


def outcome_descs(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["outcomeDesc"] for e in bundle["entry"]]


# --- 3. authorization code + PKCE ----------------------------------------------------------


def test_a_signed_out_patient_is_sent_to_sign_in_and_then_back_to_the_consent_page(
    flow: Flow,
) -> None:
    launch = flow.launch()
    response = flow.client.get(launch.path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    next_url = unquote(location.removeprefix("/login?next="))
    assert next_url == launch.path

    done = flow.sign_in(next_url=next_url)
    assert done.headers["location"] == launch.path

    page = flow.client.get(launch.path, follow_redirects=False)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f"{APP_NAME} demande à accéder à votre dossier" in text
    assert "lire tout votre dossier" in text  # each scope in plain words (tests/apps)
    assert 'value="allow"' in text
    assert 'value="deny"' in text


def test_allowing_redirects_to_the_app_with_a_code_and_the_state(
    flow: Flow, session: Session, cast: Cast
) -> None:
    flow.sign_in()
    launch = flow.launch()
    response = flow.consent(launch, "allow")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert params["state"] == launch.state
    assert len(params["code"]) >= 20
    assert grants_of(session, cast.patients["sylvie"]) == 1


def test_the_code_and_its_verifier_buy_a_patient_access_token(
    flow: Flow, cast: Cast, settings: Settings
) -> None:
    flow.sign_in()
    launch = flow.launch()
    response = flow.exchange(flow.allow(launch), launch.verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["patient"] == str(cast.patients["sylvie"])
    assert body["expires_in"] == settings.patient_token_ttl_seconds
    assert set(body["scope"].split()) == set(SCOPES.split())

    claims = tokens.decode(settings, body["access_token"])  # a JWT signed by Carnet
    assert claims["client_id"] == APP_ID
    assert claims["patient"] == str(cast.patients["sylvie"])
    assert claims["act"]["kind"] == "app"


def test_a_wrong_code_verifier_is_refused(flow: Flow) -> None:
    flow.sign_in()
    launch = flow.launch()
    code = flow.allow(launch)
    other_verifier, _ = pkce()
    response = flow.exchange(code, other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()


def test_a_token_request_without_the_code_verifier_is_refused(flow: Flow) -> None:
    flow.sign_in()
    launch = flow.launch()
    response = flow.exchange(flow.allow(launch), None)
    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_an_authorization_code_works_only_once(flow: Flow) -> None:
    flow.sign_in()
    launch = flow.launch()
    code = flow.allow(launch)
    assert flow.exchange(code, launch.verifier).status_code == 200
    again = flow.exchange(code, launch.verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_consuming_a_code_succeeds_once_even_when_two_exchanges_race(
    flow: Flow, session: Session
) -> None:
    flow.sign_in()
    code = flow.allow(flow.launch())
    row = apps.find_code(session, code, APP_ID)
    assert row is not None
    # two token requests both found the code unused; only the first may consume it
    assert apps.consume_code(session, row) is True
    assert apps.consume_code(session, row) is False
    assert apps.find_code(session, code, APP_ID) is None


def test_an_authorization_code_expires_quickly(
    flow: Flow, frozen: Callable[[datetime], None]
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    frozen(start)
    flow.sign_in()
    launch = flow.launch()
    code = flow.allow(launch)
    frozen(start + timedelta(seconds=apps.CODE_TTL_SECONDS + 1))
    response = flow.exchange(code, launch.verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_an_authorization_code_is_bound_to_its_app(
    flow: Flow, session: Session, operator: Actor
) -> None:
    apps.register_app(
        session,
        operator,
        name="Autre appli",
        client_id="other-app",
        allowed_scopes=SCOPES,
        redirect_uris=[REDIRECT],
    )
    session.flush()
    flow.sign_in()
    launch = flow.launch()
    response = flow.exchange(flow.allow(launch), launch.verifier, client_id="other-app")
    assert response.status_code == 400
    assert "access_token" not in response.json()


def assert_sent_back_as_invalid_request(response: Any, launch: Launch) -> None:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert params["error"] == "invalid_request"
    assert params["state"] == launch.state
    assert "code" not in params


def test_an_authorization_request_without_pkce_is_refused(
    flow: Flow, session: Session, cast: Cast
) -> None:
    flow.sign_in()
    launch = flow.launch(method=None, code_challenge="")
    page = flow.client.get(launch.path, follow_redirects=False)
    assert_sent_back_as_invalid_request(page, launch)
    assert "code_challenge" in query_of(page.headers["location"])["error_description"]
    # posting a consent anyway gets no code, and connects nothing
    assert_sent_back_as_invalid_request(flow.consent(launch, "allow"), launch)
    assert grants_of(session, cast.patients["sylvie"]) == 0


def test_the_plain_pkce_method_is_refused(flow: Flow, session: Session, cast: Cast) -> None:
    # SMART App Launch 2: S256 only; "plain" protects nothing once the request has leaked.
    flow.sign_in()
    launch = flow.launch(method="plain", code_challenge=secrets.token_urlsafe(48))
    assert_sent_back_as_invalid_request(
        flow.client.get(launch.path, follow_redirects=False), launch
    )
    assert_sent_back_as_invalid_request(flow.consent(launch, "allow"), launch)
    assert grants_of(session, cast.patients["sylvie"]) == 0


def test_an_unregistered_redirect_uri_is_refused_without_redirecting(flow: Flow) -> None:
    flow.sign_in()
    launch = flow.launch(redirect_uri="https://evil.example/cb")
    page = flow.client.get(launch.path, follow_redirects=False)
    assert page.status_code == 400
    assert "https://evil.example/cb" in page.text
    assert 'value="allow"' not in page.text
    # a consent posted to an altered query is refused too, not a server error
    response = flow.consent(launch, "allow")
    assert response.status_code == 400
    assert "location" not in response.headers


def test_denying_sends_the_app_an_access_denied_error(
    flow: Flow, session: Session, cast: Cast
) -> None:
    flow.sign_in()
    launch = flow.launch()
    response = flow.consent(launch, "deny")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert params["error"] == "access_denied"
    assert params["state"] == launch.state
    assert "code" not in params
    assert grants_of(session, cast.patients["sylvie"]) == 0


def test_scopes_the_app_may_not_ask_for_are_dropped(flow: Flow) -> None:
    body = flow.token(scope="patient/*.rs patient/Observation.c user/*.cruds launch/patient")
    assert body["scope"].split() == ["patient/*.rs", "launch/patient"]


def test_a_consent_form_post_without_the_csrf_token_gives_no_code(
    flow: Flow, session: Session, cast: Cast
) -> None:
    flow.sign_in()
    launch = flow.launch()
    response = flow.client.post(launch.path, data={"decision": "allow"}, follow_redirects=False)
    assert response.status_code == 403
    assert grants_of(session, cast.patients["sylvie"]) == 0


def test_sylvie_is_offered_leas_record_and_can_connect_the_app_to_it(
    flow: Flow, session: Session, cast: Cast
) -> None:
    lea = str(cast.patients["lea"])
    flow.sign_in()
    launch = flow.launch()
    page = flow.client.get(launch.path, follow_redirects=False)
    text = html.unescape(page.text)
    assert "Quel dossier ?" in text
    assert f'name="patient" value="{lea}"' in text
    assert "léa martin" in text.lower()

    response = flow.exchange(flow.allow(launch, patient=lea), launch.verifier)
    assert response.status_code == 200
    body = response.json()
    assert body["patient"] == lea
    assert grants_of(session, cast.patients["lea"]) == 1
    assert grants_of(session, cast.patients["sylvie"]) == 0

    token = body["access_token"]
    assert flow.fhir(f"/fhir/AuditEvent?patient={lea}", token).status_code == 200
    own = flow.fhir(f"/fhir/AuditEvent?patient={cast.patients['sylvie']}", token)
    assert own.status_code == 404  # a token for Léa's record sees no other record


def test_a_patient_cannot_connect_an_app_to_a_record_she_does_not_represent(
    flow: Flow, session: Session, cast: Cast
) -> None:
    flow.sign_in()
    launch = flow.launch()
    response = flow.consent(launch, "allow", patient=str(cast.patients["henri"]))
    assert response.status_code == 403
    assert "code=" not in response.headers.get("location", "")
    assert grants_of(session, cast.patients["henri"]) == 0


def test_a_professional_cannot_connect_apps(flow: Flow) -> None:
    flow.sign_in(DURAND)
    page = flow.client.get(flow.launch().path, follow_redirects=False)
    assert page.status_code == 403
    assert "Seuls les patients peuvent connecter" in page.text


# --- 4. what a patient token may do --------------------------------------------------------


def test_the_patient_token_reads_her_access_history_in_plain_french(flow: Flow, cast: Cast) -> None:
    token = flow.token()["access_token"]
    url = f"/fhir/AuditEvent?patient={cast.patients['sylvie']}&_count=200"
    assert flow.fhir(url, token).status_code == 200  # a first read, on the trail from then on
    response = flow.fhir(url, token)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(bundle["entry"]) > 0
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {"AuditEvent"}
    texts = outcome_descs(bundle)
    # newest first: the previous read, by the app, then the consent that connected it
    read = f"Une application connectée « {APP_NAME} » a consulté l'historique des accès."
    assert texts[0] == read
    assert "Vous avez connecté une application." in texts
    assert "Vous avez créé votre dossier." in texts  # from the record's beginnings
    assert all(t.endswith(".") and "_" not in t for t in texts)  # words, not codes


def test_the_access_history_pages_with_a_sealed_cursor(flow: Flow, cast: Cast) -> None:
    """The next link carries no place in the chain (the gaps where rows are kept from the
    reader would show); it leads to older events; a forged or another record's cursor is
    refused, naming it."""
    token = flow.token()["access_token"]
    first = flow.fhir(f"/fhir/AuditEvent?patient={cast.patients['sylvie']}&_count=5", token)
    link = next(li["url"] for li in first.json()["link"] if li["relation"] == "next")
    assert "_cursor=" in link
    assert "seq" not in link

    second = flow.fhir("/fhir" + link.split("/fhir", 1)[1], token)
    forged = flow.fhir(f"/fhir/AuditEvent?patient={cast.patients['sylvie']}&_cursor=12", token)

    assert second.status_code == 200
    ids = [e["resource"]["id"] for e in first.json()["entry"]]
    assert ids
    assert not set(ids) & {e["resource"]["id"] for e in second.json()["entry"]}
    assert forged.status_code == 400
    assert forged.json()["issue"][0]["expression"] == ["_cursor"]


def test_the_access_history_is_in_english_on_request(flow: Flow, cast: Cast) -> None:
    token = flow.token()["access_token"]
    url = f"/fhir/AuditEvent?patient={cast.patients['sylvie']}&_count=200"
    assert flow.fhir(url, token).status_code == 200  # a first read, on the trail from then on
    response = flow.fhir(url, token, **{"Accept-Language": "en"})
    assert response.status_code == 200
    texts = outcome_descs(response.json())
    assert texts[0] == f"A connected app « {APP_NAME} » read the access history."
    assert any("created your record" in t for t in texts)
    assert not any("votre dossier" in t for t in texts)


def test_an_earlier_professional_access_appears_with_the_professionals_name(
    flow: Flow, session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    authorize(session, pro("durand"), sylvie, Action.READ, resource_type="Patient")
    session.commit()
    token = flow.token()["access_token"]

    french = flow.fhir(f"/fhir/AuditEvent?patient={sylvie}", token).json()
    reads = [
        e["resource"]
        for e in french["entry"]
        if e["resource"]["agent"][0].get("who", {}).get("identifier", {}).get("value")
        == "810000000017"
    ]
    assert reads, "Dr Durand's read is missing from the trail"
    event = reads[0]
    assert event["agent"][0]["name"] == "Dr Paul Durand"
    assert event["outcomeDesc"].startswith("Dr Paul Durand (")
    assert event["outcomeDesc"].endswith("a consulté votre dossier.")
    assert event["action"] == "R"
    assert event["outcome"] == "0"

    english = flow.fhir(
        f"/fhir/AuditEvent?patient={sylvie}", token, **{"Accept-Language": "en"}
    ).json()
    assert any(
        t.startswith("Dr Paul Durand") and t.endswith("read your record.")
        for t in outcome_descs(english)
    )


def test_the_token_cannot_read_another_patients_history(
    flow: Flow, session: Session, cast: Cast
) -> None:
    token = flow.token()["access_token"]
    response = flow.fhir(f"/fhir/AuditEvent?patient={cast.patients['henri']}", token)
    assert response.status_code == 404
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"
    denied = session.execute(
        select(AuditEntry).where(
            AuditEntry.patient_id == cast.patients["henri"],
            AuditEntry.client_id == APP_ID,
            AuditEntry.outcome == "denied",
        )
    ).scalar_one()  # the refusal itself is traced on Henri's trail
    assert denied.action == "read_trail"


def test_an_unknown_or_malformed_patient_id_answers_not_found(flow: Flow) -> None:
    token = flow.token()["access_token"]
    for patient in (str(uuid.uuid4()), "not-a-uuid"):
        response = flow.fhir(f"/fhir/AuditEvent?patient={patient}", token)
        assert response.status_code == 404
        assert response.json()["resourceType"] == "OperationOutcome"


def test_a_token_whose_scopes_do_not_cover_audit_events_is_refused(flow: Flow, cast: Cast) -> None:
    body = flow.token(scope="patient/Observation.rs launch/patient")
    assert body["scope"] == "patient/Observation.rs launch/patient"
    response = flow.fhir(
        f"/fhir/AuditEvent?patient={cast.patients['sylvie']}", body["access_token"]
    )
    assert response.status_code == 403
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "scope" in outcome["issue"][0]["diagnostics"]


def test_disconnecting_the_app_stops_its_token_at_once(
    flow: Flow, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    token = flow.token()["access_token"]
    path = f"/fhir/AuditEvent?patient={sylvie}"
    assert flow.fhir(path, token).status_code == 200

    apps.disconnect(session, holder("sylvie"), patient_id=sylvie, client_id=APP_ID)
    session.flush()
    response = flow.fhir(path, token)
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_representative_can_disconnect_the_app_from_her_childs_record(
    flow: Flow, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    lea = cast.patients["lea"]
    token = flow.token(patient=str(lea))["access_token"]
    path = f"/fhir/AuditEvent?patient={lea}"
    assert flow.fhir(path, token).status_code == 200

    apps.disconnect(session, holder("sylvie"), patient_id=lea, client_id=APP_ID)
    session.flush()
    assert flow.fhir(path, token).status_code == 401


def test_a_request_without_a_token_is_refused_with_an_operation_outcome(
    flow: Flow, cast: Cast
) -> None:
    response = flow.fhir(f"/fhir/AuditEvent?patient={cast.patients['sylvie']}", None)
    assert response.status_code == 401
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert "access token is required" in body["issue"][0]["diagnostics"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_tampered_token_is_refused(flow: Flow, cast: Cast) -> None:
    token = flow.token()["access_token"]
    henri = str(cast.patients["henri"])
    forged = [
        tamper(token, patient=henri),
        tamper(token, exp=int(datetime.now(UTC).timestamp()) + 10 * 365 * 86400),
        token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "not.a.jwt",
    ]
    for bad in forged:
        response = flow.fhir(f"/fhir/AuditEvent?patient={henri}", bad)
        assert response.status_code == 401, bad
        assert response.json()["resourceType"] == "OperationOutcome"


def test_an_unsigned_token_is_refused(flow: Flow, cast: Cast) -> None:
    claims = tokens.decode(flow.settings, flow.token()["access_token"])
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = flow.fhir(
        f"/fhir/AuditEvent?patient={cast.patients['sylvie']}", f"{header}.{payload}."
    )
    assert response.status_code == 401


def test_a_patient_token_expires_after_its_lifetime(
    flow: Flow, cast: Cast, settings: Settings, frozen: Callable[[datetime], None]
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    frozen(start)
    token = flow.token()["access_token"]
    path = f"/fhir/AuditEvent?patient={cast.patients['sylvie']}"
    frozen(start + timedelta(seconds=settings.patient_token_ttl_seconds - 60))
    assert flow.fhir(path, token).status_code == 200
    frozen(start + timedelta(seconds=settings.patient_token_ttl_seconds + 1))
    assert flow.fhir(path, token).status_code == 401


def test_a_patient_token_stops_working_when_the_app_is_deactivated(
    flow: Flow, session: Session, cast: Cast, test_app: App
) -> None:
    token = flow.token()["access_token"]
    path = f"/fhir/AuditEvent?patient={cast.patients['sylvie']}"
    test_app.active = False
    session.flush()
    new_launch = flow.launch()
    assert flow.client.get(new_launch.path, follow_redirects=False).status_code == 400
    # an app withdrawn from the service loses its tokens like a disconnected one
    assert flow.fhir(path, token).status_code == 401


def test_the_patients_own_actions_read_as_correct_french(flow: Flow, cast: Cast) -> None:
    token = flow.token()["access_token"]
    bundle = flow.fhir(
        f"/fhir/AuditEvent?patient={cast.patients['sylvie']}&_count=200", token
    ).json()
    own = [t for t in outcome_descs(bundle) if t.startswith("Vous ")]
    assert own, "Sylvie's own actions (authorizations, consent to the app) should be listed"
    assert all(t.startswith("Vous avez ") for t in own), own


def test_the_account_the_token_was_issued_for_is_the_signed_in_one(
    flow: Flow, session: Session, settings: Settings
) -> None:
    claims = tokens.decode(settings, flow.token()["access_token"])
    account = session.execute(select(Account).where(Account.login == SYLVIE)).scalar_one()
    assert claims["sub"] == f"account:{account.id}"
    assert claims["act"]["account"] == str(account.id)


# --- 5. who may connect an app, and to which record -----------------------------------------


def test_a_child_who_has_come_of_age_is_no_longer_offered_to_the_former_representative(
    flow: Flow, session: Session, cast: Cast, frozen: Callable[[datetime], None]
) -> None:
    lea = str(cast.patients["lea"])  # born in 2011; the link to her mother was never ended
    frozen(datetime(2030, 1, 15, 9, 0, tzinfo=UTC))
    flow.sign_in()
    launch = flow.launch()

    page = flow.client.get(launch.path, follow_redirects=False)
    assert page.status_code == 200
    assert lea not in page.text
    assert "léa" not in html.unescape(page.text).lower()

    response = flow.consent(launch, "allow", patient=lea)
    assert response.status_code == 403
    assert grants_of(session, cast.patients["lea"]) == 0


def test_connecting_an_app_to_a_childs_record_is_decided_and_traced_by_access(
    flow: Flow, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    flow.token(patient=str(lea))

    [row] = session.execute(
        select(AuditEntry).where(AuditEntry.chain == str(lea), AuditEntry.action == "app.connect")
    ).scalars()
    assert (row.outcome, row.actor_kind, row.resource_type, row.resource_id) == (
        "allowed",
        "representative",  # the gate knows who acts for whom
        "Consent",
        APP_ID,
    )
    assert row.detail is not None
    assert "patient/*.rs" in row.detail


def test_an_app_cannot_be_connected_to_a_record_the_actor_does_not_manage(
    session: Session, cast: Cast, holder: Callable[[str], Actor], test_app: App
) -> None:
    with pytest.raises(AccessDenied) as denied:
        apps.record_grant(
            session,
            holder("sylvie"),
            patient_id=cast.patients["henri"],
            client_id=APP_ID,
            scope=SCOPES,
        )

    assert isinstance(denied.value.public, NotFound)
    assert denied.value.entry["action"] == "app.connect"
    assert grants_of(session, cast.patients["henri"]) == 0


# --- 6. registering apps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.org/callback",
        "http://localhost/cb",
        "http://localhost:8080/cb",
        "http://127.0.0.1:9999/cb",
        "http://[::1]:8000/cb",
    ],
)
def test_https_and_loopback_redirect_uris_are_accepted(
    session: Session, operator: Actor, uri: str
) -> None:
    app = apps.register_app(
        session, operator, name="Appli", redirect_uris=[uri], allowed_scopes=SCOPES
    )
    assert app.redirect_uris == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost.evil.com/cb",
        "http://127.0.0.1.evil.com/cb",
        "http://localhost@evil.com/cb",
        "http://[::1].evil.com/cb",
        "http://app.example.org/cb",
        "https:///no-host",
        "https://app.example.org/cb#fragment",
        "javascript:alert(1)",
        "ftp://localhost/cb",
        "http://localhost:99999/cb",
    ],
)
def test_redirect_uris_that_only_look_local_or_secure_are_refused(
    session: Session, operator: Actor, uri: str
) -> None:
    with pytest.raises(Invalid) as refused:
        apps.register_app(
            session, operator, name="Appli", redirect_uris=[uri], allowed_scopes=SCOPES
        )
    assert refused.value.field == "redirect_uris"
