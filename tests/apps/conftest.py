"""Connected apps test helpers: the portal driver signed in as a persona, and an app that goes
through the real SMART flow (authorization code + PKCE) against the real routes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.apps import service as apps
from carnet.apps.models import App
from tests.accounts.conftest import Portal, portal, signed_in, start  # noqa: F401 - shared fixtures
from tests.portal.conftest import form_token  # noqa: F401 - used here and by the apps tests

REDIRECT = "http://127.0.0.1:9876/callback"
PODO_ID = "podo-tests"
PODO_SCOPES = "launch/patient openid patient/Observation.cruds"


@dataclass
class SmartApp:
    """An app driving the SMART standalone launch through a signed-in patient's browser."""

    portal: Portal
    client_id: str
    scope: str

    def launch(self, scope: str | None = None) -> tuple[str, str]:
        """(authorization path, PKCE verifier)."""
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "scope": scope or self.scope,
            "state": secrets.token_urlsafe(8),
            "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        return "/oauth/authorize?" + urlencode(params), verifier

    def consent(self, path: str, **fields: str) -> Any:
        return self.portal.post(path, {"decision": "allow", **fields})

    def exchange(self, location: str, verifier: str) -> dict[str, Any]:
        code = parse_qs(urlsplit(location).query)["code"][0]
        response = self.portal.client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": self.client_id,
                "code_verifier": verifier,
            },
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def connect(self, **fields: str) -> dict[str, Any]:
        """Consent with everything ticked (or the given form fields) and exchange the code."""
        path, verifier = self.launch()
        response = self.consent(path, **fields)
        assert response.status_code == 302, response.text
        return self.exchange(response.headers["location"], verifier)

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.portal.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def podo(session: Session, operator: Actor) -> App:
    """A step counter with observation-only scopes, registered and labelled by the operator."""
    app = apps.register_app(
        session,
        operator,
        name="Podo (tests)",
        client_id=PODO_ID,
        redirect_uris=[REDIRECT],
        allowed_scopes=PODO_SCOPES,
        description="Un podomètre pour les tests.",
        publisher="Podo SAS",
        category="physical_activity",
    )
    apps.label_app(session, operator, client_id=PODO_ID)
    session.flush()  # the client's sessions share this connection
    return app


@pytest.fixture
def podo_app(signed_in: Portal, podo: App) -> SmartApp:  # noqa: F811 - the fixture, by name
    return SmartApp(signed_in, PODO_ID, PODO_SCOPES)


def steps(patient_id: str, value: int, day: str = "2026-11-20") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {
            "coding": [
                {"system": "http://loinc.org", "code": "41950-7", "display": "Nombre de pas"}
            ]
        },
        "effectiveDateTime": f"{day}T21:00:00Z",
        "valueQuantity": {"value": value, "unit": "pas"},
    }
