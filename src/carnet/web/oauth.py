"""The OAuth 2.0 authorization server, built on Authlib's protocol code:
- RFC 7523 JWT-bearer grant for registered systems (professionals' software);
- authorization code + PKCE (RFC 7636) for apps acting for a signed-in patient (SMART).
Authlib validates the protocol; Carnet's services validate identities and consents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc7523 import JWTBearerGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, RedirectResponse, Response

from carnet import clock
from carnet.access import ActorKind
from carnet.accounts.models import Account
from carnet.apps import service as apps
from carnet.apps.models import App, AuthorizationCode
from carnet.errors import CarnetError
from carnet.settings import Settings
from carnet.systems import service as systems
from carnet.systems.models import System
from carnet.web import tokens


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        out: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._data.items():
            out[key].append(value)
        return out


class CarnetOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """An Authlib request built from already-read query and form data (Starlette reads bodies
    asynchronously; Authlib is synchronous)."""

    def __init__(
        self,
        method: str,
        uri: str,
        query: dict[str, str],
        form: dict[str, str],
        headers: dict[str, str],
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._query, self._form = query, form
        self.payload = _Payload({**query, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class SystemClient(ClientMixin):  # type: ignore[misc]
    system: System

    def get_client_id(self) -> str:
        return self.system.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return scope or "user/*.cruds"

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return False

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return bool(grant_type == JWTBearerGrant.GRANT_TYPE)


@dataclass
class AppClient(ClientMixin):  # type: ignore[misc]
    app: App

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.app.redirect_uris.splitlines()[0]

    def get_allowed_scope(self, scope: str) -> str:
        return apps.allowed_scope(self.app, scope or "")

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return bool(redirect_uri in self.app.redirect_uris.splitlines())

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"  # public clients, protected by PKCE

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class CodeAdapter:
    row: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int | None:
        return None

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method


@dataclass
class GrantUser:
    """The signed-in account that approved, and the patient chosen (self or a minor)."""

    account: Account
    patient_id: Any


class SystemAssertionGrant(JWTBearerGrant):  # type: ignore[misc]
    server: CarnetAuthorizationServer

    def resolve_issuer_client(self, issuer: str) -> SystemClient | None:
        system = systems.find_system(self.server.db, issuer)
        return SystemClient(system) if system else None

    def resolve_client_public_key(self, client: SystemClient) -> KeySet:
        return systems.client_keys(client.system)

    def get_audiences(self) -> list[str]:
        settings = self.server.settings
        return [settings.token_endpoint, settings.base_url]

    def authenticate_user(self, subject: str) -> str:
        return subject  # the professional is checked with the other claims below

    def has_granted_permission(self, client: SystemClient, user: str) -> bool:
        return True

    def verify_claims(self, claims: Any) -> None:
        settings = self.server.settings
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            leeway=self.LEEWAY,
            iss={"essential": True},
            exp={"essential": True},
            aud={"essential": True, "values": self.get_audiences()},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise InvalidGrantError(description=error.description) from error
        lifetime = int(claims.get("exp", 0)) - int(claims.get("iat", clock.now().timestamp()))
        if lifetime > settings.assertion_max_lifetime_seconds:
            raise InvalidGrantError(
                description=f"The assertion must live at most "
                f"{settings.assertion_max_lifetime_seconds} seconds (exp - iat)."
            )

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        server = self.server
        assertion = self.request.form.get("assertion", "")
        _, claims = self.extract_assertion(assertion)
        client: SystemClient = self.request.client
        from datetime import UTC, datetime

        try:
            systems.remember_assertion(
                server.db,
                client.system.client_id,
                claims.get("jti"),
                datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
            token_claims = systems.token_claims_for_assertion(server.db, client.system, claims)
        except CarnetError as error:
            field = f" ({error.field})" if error.field else ""
            raise InvalidGrantError(description=error.message + field) from None
        scope = client.get_allowed_scope(self.request.payload.scope or "")
        token_claims["scope"] = scope
        ttl = server.settings.access_token_ttl_seconds
        access_token, _ = tokens.issue(server.settings, token_claims, ttl)
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scope,
            "purpose_of_use": token_claims["purpose"],
        }
        if token_claims.get("secret"):
            body["confidentiality_code"] = systems.SECRET_CONNECTION
        return 200, body, self.TOKEN_RESPONSE_HEADER


class AppCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["none"]
    server: CarnetAuthorizationServer

    def save_authorization_code(self, code: str, request: CarnetOAuth2Request) -> None:
        user: GrantUser = request.user
        payload = request.payload
        apps.save_code(
            self.server.db,
            code=code,
            client_id=request.client.get_client_id(),
            account_id=user.account.id,
            patient_id=user.patient_id,
            redirect_uri=payload.redirect_uri or request.client.get_default_redirect_uri(),
            scope=request.client.get_allowed_scope(payload.scope or ""),
            code_challenge=payload.data.get("code_challenge", ""),
            code_challenge_method=payload.data.get("code_challenge_method", "plain"),
            nonce=payload.data.get("nonce"),
        )

    def query_authorization_code(self, code: str, client: AppClient) -> CodeAdapter | None:
        row = apps.find_code(self.server.db, code, client.get_client_id())
        return CodeAdapter(row) if row else None

    def delete_authorization_code(self, authorization_code: CodeAdapter) -> None:
        if not apps.consume_code(self.server.db, authorization_code.row):
            raise InvalidGrantError(description="The authorization code was already used.")

    def authenticate_user(self, authorization_code: CodeAdapter) -> AuthorizationCode:
        return authorization_code.row

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        code: CodeAdapter = self.request.authorization_code
        row = code.row
        settings = self.server.settings
        account = self.server.db.get(Account, row.account_id)
        if account is None or account.patient_id is None:
            raise InvalidGrantError(description="The account no longer exists.")
        claims = {
            "sub": f"account:{account.id}",
            "client_id": row.client_id,
            "scope": row.scope,
            "patient": str(row.patient_id),
            "act": {
                "kind": (
                    ActorKind.PATIENT if self.request.client.app.first_party else ActorKind.APP
                ).value,
                "account": str(account.id),
                "patient": str(account.patient_id),
                "name": self.request.client.app.name,
            },
        }
        ttl = settings.patient_token_ttl_seconds
        self.delete_authorization_code(code)  # first: a code raced by another request fails
        access_token, _ = tokens.issue(settings, claims, ttl)
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": row.scope,
            "patient": str(row.patient_id),
        }
        return 200, body, self.TOKEN_RESPONSE_HEADER


class SmartCodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE as SMART App Launch 2 wants it: mandatory on the authorization request (Authlib only
    demands a verifier at the token endpoint), and S256 only."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class CarnetAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """One instance per request: it holds that request's database session."""

    def __init__(self, db: Session, settings: Settings) -> None:
        super().__init__()
        self.db = db
        self.settings = settings
        self.register_grant(SystemAssertionGrant)
        self.register_grant(AppCodeGrant, [SmartCodeChallenge(required=True)])

    def query_client(self, client_id: str) -> AppClient | SystemClient | None:
        app = apps.find_app(self.db, client_id)
        if app is not None:
            return AppClient(app)
        system = systems.find_system(self.db, client_id)
        return SystemClient(system) if system else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs: nothing to store."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        raise InvalidRequestError("unsupported request")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        header_map = dict(headers)
        if status in (301, 302, 303) and "Location" in header_map:
            return RedirectResponse(
                header_map["Location"], status_code=303 if status == 303 else 302
            )
        response = JSONResponse(body, status_code=status)
        for key, value in header_map.items():
            if key.lower() != "content-type":
                response.headers[key] = value
        response.headers["Cache-Control"] = "no-store"
        return response
