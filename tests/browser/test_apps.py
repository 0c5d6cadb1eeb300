"""Connected apps in a real browser: Sylvie opens the catalogue and sees what PasFit pushed,
connects TensioCarnet through the real SMART flow (the app's start page sends her to the
consent page, she unticks one kind of data, the browser is sent back to the app's callback,
and the app exchanges the code for a token), the app pushes a measurement that appears on her
page, then she disconnects it and the app's token is refused. Screenshots go to
docs/screenshots/apps-*.png when CARNET_SCREENSHOTS is set."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import select

from carnet.patients.models import Patient
from carnet.settings import Settings
from tests.browser.conftest import SYLVIE, served_demo, shot
from tests.browser.conftest import Live as BaseLive
from tests.conftest import NIRS

pytestmark = pytest.mark.browser

TENSIO = "tensiocarnet"  # labelled in the demo catalogue, not connected yet
START = "https://tensio.example.org/connect"  # the app's "connect to Carnet" page
CALLBACK = "https://tensio.example.org/carnet/callback"
SCOPES = "launch/patient openid patient/Observation.cruds patient/MedicationStatement.rs"


@dataclass
class Live(BaseLive):
    def sylvie(self) -> str:
        with self.demo.factory() as session:
            return str(
                session.execute(
                    select(Patient.id).where(Patient.nir == NIRS["sylvie"])
                ).scalar_one()
            )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    with served_demo(tmp_path_factory, settings, "apps") as (demo, url, sender):
        yield Live(demo, url, sender)


def sign_in(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("Identifiant").fill(SYLVIE)
    page.get_by_label("Mot de passe").fill(live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Code à usage unique").fill(live.code_for(SYLVIE))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dossier médical")


class TensioApp:
    """The app's side, played by the test: its start page builds the authorization request
    (PKCE S256), its callback receives the code, its back end exchanges it for a token."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(8)
        self.callback_url: str | None = None

    def authorization_url(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        params = {
            "response_type": "code",
            "client_id": TENSIO,
            "redirect_uri": CALLBACK,
            "scope": SCOPES,
            "state": self.state,
            "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        return f"{self.live.url}/oauth/authorize?{urlencode(params)}"

    def serve(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(START):
            route.fulfill(status=302, headers={"Location": self.authorization_url()})
            return
        self.callback_url = url
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            body='<!doctype html><html lang="fr"><title>TensioCarnet</title>'
            "<main><h1>TensioCarnet est connectée</h1></main></html>",
        )

    def exchange(self) -> dict[str, str]:
        assert self.callback_url is not None
        query = parse_qs(urlsplit(self.callback_url).query)
        assert query["state"] == [self.state]
        response = requests.post(
            f"{self.live.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": CALLBACK,
                "client_id": TENSIO,
                "code_verifier": self.verifier,
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body

    def fhir(self, method: str, path: str, token: str, **kwargs: object) -> requests.Response:
        return requests.request(
            method,
            f"{self.live.url}/fhir/{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            **kwargs,  # type: ignore[arg-type]
        )


def blood_pressure(patient: str) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {
            "coding": [
                {"system": "http://loinc.org", "code": "8480-6", "display": "Pression systolique"}
            ]
        },
        "effectiveDateTime": "2026-11-21T08:00:00Z",
        "valueQuantity": {"value": 128, "unit": "mmHg"},
    }


def test_sylvie_connects_an_app_sees_what_it_pushed_and_disconnects_it(
    page: Page, live: Live
) -> None:
    sign_in(page, live)
    page.get_by_role("navigation", name="Votre dossier").get_by_role(
        "link", name="Applications connectées"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Applications connectées")
    pasfit = page.locator("#connected-pasfit")
    expect(pasfit.get_by_role("heading", level=3)).to_have_text("PasFit")
    expect(pasfit).to_contain_text("lire et ajouter vos mesures")
    expect(pasfit.get_by_role("row", name="Nombre de pas sur 24 heures").first).to_be_visible()
    expect(pasfit.get_by_role("row", name="Poids corporel").first).to_contain_text("kg")
    shot(page, "apps-catalogue")

    # Connecting TensioCarnet from the catalogue: its start page sends her to the consent page
    tensio = TensioApp(live)
    page.route("https://tensio.example.org/**", tensio.serve)
    page.locator("#app-tensiocarnet").get_by_role("link", name="Connecter TensioCarnet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "TensioCarnet demande à accéder à votre dossier"
    )
    measures = page.get_by_label("lire et ajouter vos mesures (pas, poids, tension, résultats)")
    treatments = page.get_by_label("lire vos traitements")
    expect(measures).to_be_checked()
    expect(treatments).to_be_checked()
    shot(page, "apps-consent")
    # unticking everything is refused with a message tied to the choices
    measures.uncheck()
    treatments.uncheck()
    page.get_by_role("button", name="Autoriser").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Cochez au moins un type de données, ou refusez la connexion."
    )
    found = Axe().run(page).response["violations"]
    assert not [v["id"] for v in found if v["impact"] in ("serious", "critical")]
    shot(page, "apps-consent-error")
    expect(measures).to_be_checked()  # the form comes back as it was offered
    treatments.uncheck()  # granular consent: she keeps her treatments to herself
    page.get_by_role("button", name="Autoriser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("TensioCarnet est connectée")
    token = tensio.exchange()
    assert token["scope"] == "launch/patient openid patient/Observation.cruds"

    # The app pushes a measurement; it may not read her treatments
    sylvie = live.sylvie()
    pushed = tensio.fhir("POST", "Observation", token["access_token"], json=blood_pressure(sylvie))
    assert pushed.status_code == 201, pushed.text
    refused = tensio.fhir("GET", f"MedicationStatement?patient={sylvie}", token["access_token"])
    assert refused.status_code == 403

    page.goto(f"{live.url}/applications")
    connected = page.locator("#connected-tensiocarnet")
    expect(connected).to_contain_text("lire et ajouter vos mesures")
    expect(connected).not_to_contain_text("vos traitements")
    expect(connected.get_by_role("row", name="Pression systolique")).to_contain_text("128 mmHg")
    shot(page, "apps-connected")

    connected.get_by_role("button", name="Déconnecter TensioCarnet").click()
    expect(page.get_by_role("status")).to_contain_text("TensioCarnet est déconnectée")
    expect(page.locator("#connected-tensiocarnet")).to_have_count(0)
    after = tensio.fhir("GET", f"Observation?patient={sylvie}", token["access_token"])
    assert after.status_code == 401


def test_the_apps_page_on_a_phone_in_english(browser: Browser, live: Live) -> None:
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        sign_in(page, live)
        page.goto(f"{live.url}/applications?lang=en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Connected apps")
        expect(page.locator("#connected-pasfit")).to_contain_text("read and add your measurements")
        expect(page.locator("#app-pasfit")).to_contain_text("Physical activity")
        # nothing wider than the screen: no horizontal scrolling on a phone
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
        shot(page, "apps-phone")
        page.goto(f"{live.url}/applications?lang=fr")
    finally:
        context.close()
