"""The patient pages in a real browser: Debian's Chromium (installed by ``make browsers``)
driven by Playwright against a real server with a fresh demo. Sylvie signs in with her password
and the one-time code, reads her documents, hides one, finds Dr Benali's emergency access in
her history, then blocks and unblocks Dr Noir. Screenshots go to docs/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carnet.access import Action, Mode
from carnet.access.gate import authorize
from carnet.accounts.service import professional_actor
from carnet.patients.models import Patient
from carnet.professionals.models import Professional, Structure
from carnet.settings import Settings
from tests.browser.conftest import SYLVIE, served_demo, shot
from tests.browser.conftest import Live as BaseLive
from tests.conftest import NIRS

pytestmark = pytest.mark.browser

REASON = "Patiente inconsciente aux urgences"


@dataclass
class Live(BaseLive):
    def emergency_access_by_benali(self) -> None:
        with self.demo.factory() as session:
            benali = session.execute(
                select(Professional).where(Professional.rpps == "10000000025")
            ).scalar_one()
            structure = session.get(Structure, benali.structure_id)
            sylvie = session.execute(
                select(Patient.id).where(Patient.nir == NIRS["sylvie"])
            ).scalar_one()
            actor = professional_actor(benali, structure)
            emergency = type(actor)(**{**actor.__dict__, "mode": Mode.EMERGENCY, "reason": REASON})
            authorize(session, emergency, sylvie, Action.READ)
            session.commit()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    with served_demo(tmp_path_factory, settings, "browser") as (demo, url, sender):
        yield Live(demo, url, sender)


def sign_in(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("Identifiant").fill(SYLVIE)
    page.get_by_label("Mot de passe").fill(live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Code à usage unique")
    page.get_by_label("Code à usage unique").fill(live.code_for(SYLVIE))
    page.get_by_role("button", name="Se connecter").click()


def test_sylvie_goes_through_her_record_in_a_browser(page: Page, live: Live) -> None:
    live.emergency_access_by_benali()
    sign_in(page, live)

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dossier médical")
    expect(page.locator("#waiting")).to_contain_text("en attente chez votre médecin")
    shot(page, "home")

    page.get_by_role("navigation", name="Votre dossier").get_by_role(
        "link", name="Documents"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents")
    expect(page.get_by_text("Ajouté par vous").first).to_be_visible()
    shot(page, "documents")

    first = page.locator("ul.docs a").first
    title = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("link", name="Télécharger")).to_be_visible()
    shot(page, "document")
    page.get_by_role("button", name="Masquer aux professionnels").click()
    expect(page).to_have_url(f"{live.url}/documents")
    hidden_row = page.locator("ul.docs li", has_text=title).first
    expect(hidden_row).to_contain_text("Masqué aux professionnels")

    page.get_by_role("link", name="Historique des accès").first.click()
    emergency = page.locator("ol.trail li.emergency").first
    expect(emergency).to_contain_text("Accès en urgence")
    expect(emergency).to_contain_text("Benali")
    expect(emergency).to_contain_text(REASON)
    shot(page, "history")

    page.get_by_role("link", name="Autorisations").first.click()
    noir = page.get_by_role("row", name="Éric Noir")
    expect(noir).to_contain_text("Bloqué")
    noir.get_by_role("button", name="Débloquer").click()
    noir = page.get_by_role("row", name="Éric Noir")
    expect(noir).to_contain_text("Non autorisé")
    noir.get_by_role("button", name="Bloquer").click()
    expect(page.get_by_role("row", name="Éric Noir")).to_contain_text("Bloqué")
    page.get_by_label("Nom ou RPPS").fill("Benali")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("ul.found")).to_contain_text("Amina Benali")
    shot(page, "authorizations")


def test_the_pages_read_in_english_too(page: Page, live: Live) -> None:
    sign_in(page, live)
    page.goto(f"{live.url}/historique?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Access history")
    page.keyboard.press("Tab")  # the skip link comes first and shows when focused
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
