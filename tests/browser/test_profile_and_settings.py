"""The profile and account pages in a real browser (Debian's Chromium driven by Playwright,
a real server, a fresh demo). Sylvie adds an allergy found in the substance list and prints her
emergency summary; Jean activates his record with the code of his insurer's letter; Henri
reopens his closed record and closes it again. Screenshots go to docs/screenshots/ on request
(CARNET_SCREENSHOTS=docs/screenshots): profile-*.png and settings-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carnet.patients.models import Patient
from carnet.records import service as records
from carnet.records.models import Record
from carnet.settings import Settings
from tests.browser.conftest import SYLVIE, served_demo, shot
from tests.browser.conftest import Live as BaseLive
from tests.conftest import NIRS, OPERATOR

pytestmark = pytest.mark.browser

HENRI = "henri.lambert@example.org"
JEAN = "jean.dupont@example.org"
PHONE = {"width": 390, "height": 844}


@dataclass
class Live(BaseLive):
    def letter_for(self, key: str) -> tuple[str, str]:
        """A new code on the insurer's letter, and the person's birth date (YYYY-MM-DD)."""
        with self.demo.factory() as session:
            patient = session.execute(select(Patient).where(Patient.nir == NIRS[key])).scalar_one()
            code = records.issue_activation_code(session, OPERATOR, patient.id)
            session.commit()
            return code, patient.birth_date.isoformat()

    def record_status(self, key: str) -> str:
        with self.demo.factory() as session:
            patient_id = session.execute(
                select(Patient.id).where(Patient.nir == NIRS[key])
            ).scalar_one()
            record = session.get(Record, patient_id)
            assert record is not None
            return record.status


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    with served_demo(tmp_path_factory, settings, "browser-profile") as (demo, url, sender):
        yield Live(demo, url, sender)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    yield context.new_page()
    context.close()


def sign_in(page: Page, live: Live, login: str, password: str | None = None) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password or live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Code à usage unique")
    page.get_by_label("Code à usage unique").fill(live.code_for(login))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dossier médical")


def test_sylvie_edits_her_allergies_and_prints_her_emergency_summary(
    page: Page, live: Live
) -> None:
    sign_in(page, live, SYLVIE)
    page.get_by_role("navigation", name="Votre dossier").get_by_role(
        "link", name="Profil médical"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Profil médical")
    allergies = page.locator("section#allergies")
    expect(allergies).to_contain_text("Pénicillines")
    treatments = page.locator("section#traitements")
    expect(treatments).to_contain_text("Saisi par Dr Paul Durand")
    expect(treatments.get_by_role("link", name="Modifier")).to_have_count(0)

    # a substance found by name in the reference list, without JavaScript
    allergies.get_by_text("Ajouter une allergie ou une intolérance").click()
    allergies.get_by_label("Rechercher par nom dans la liste de référence").fill("amoxicil")
    allergies.get_by_role("button", name="Rechercher").click()
    allergies = page.locator("section#allergies")
    expect(allergies.get_by_label("amoxicilline")).to_be_checked()
    allergies.get_by_label("Gravité").select_option("high")
    allergies.get_by_label("Réaction").fill("Urticaire")
    shot(page, "profile-add-allergy")
    allergies.get_by_role("button", name="Ajouter").click()
    allergies = page.locator("section#allergies")
    expect(allergies).to_contain_text("amoxicilline")

    # a mistake is named in the form, nothing is saved
    page.locator("section#vaccinations").get_by_text("Ajouter une vaccination").click()
    vaccinations = page.locator("section#vaccinations")
    vaccinations.get_by_label("Vaccin", exact=True).select_option("J07BC01")
    vaccinations.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez la date.")
    date_field = page.locator("#vaccinations-date")
    expect(date_field).to_have_attribute("aria-invalid", "true")
    expect(date_field).to_have_attribute("aria-describedby", "vaccinations-date-error")
    date_field.fill("2021-05-04")
    page.locator("section#vaccinations").get_by_role("button", name="Ajouter").click()
    expect(page.locator("section#vaccinations")).to_contain_text("hépatite B")
    page.goto(f"{live.url}/profil")
    shot(page, "profile")

    page.get_by_role("link", name="Imprimer le résumé d'urgence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Résumé d'urgence")
    sheet = page.locator("article.emergency-sheet")
    expect(sheet).to_contain_text("amoxicilline")
    expect(sheet).to_contain_text("Pénicillines")
    expect(sheet).to_contain_text("Marc Martin")
    shot(page, "profile-emergency")
    page.emulate_media(media="print")
    expect(page.locator("nav.sections")).to_be_hidden()
    expect(page.get_by_role("link", name="Le télécharger en PDF")).to_be_hidden()
    page.emulate_media(media="screen")
    pdf = page.request.get(f"{live.url}/profil/urgence.pdf")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")


def test_the_profile_fits_a_phone(phone: Page, live: Live) -> None:
    sign_in(phone, live, SYLVIE)
    phone.goto(f"{live.url}/profil")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Profil médical")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no horizontal scrolling on a phone"
    shot(phone, "profile-phone")
    phone.goto(f"{live.url}/parametres")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "settings-phone")


def test_jean_activates_his_record_with_the_letters_code(page: Page, live: Live) -> None:
    code, born = live.letter_for("jean")
    page.goto(f"{live.url}/login")
    page.get_by_role("link", name="Activer votre dossier avec le code du courrier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer votre dossier")
    page.get_by_label("Numéro de sécurité sociale").fill("1 68 07 31 555 123 72")
    page.get_by_label("Date de naissance").fill(born)
    page.get_by_label("Code d'activation").fill(code)
    page.get_by_label("Adresse e-mail (votre identifiant)").fill(JEAN)
    page.locator("#password").fill("jean-dupont-2026")
    page.get_by_label("Confirmez le mot de passe").fill("jean-dupont-2026!")
    page.get_by_role("button", name="Activer mon dossier").click()
    expect(page.get_by_role("alert")).to_contain_text("Les deux mots de passe sont différents.")
    expect(page.locator("#password_again")).to_have_attribute("aria-invalid", "true")
    shot(page, "settings-activation-error")
    assert live.record_status("jean") == "pending"  # nothing was written

    page.get_by_label("Code d'activation").fill(code)  # never shown back
    page.locator("#password").fill("jean-dupont-2026")
    page.get_by_label("Confirmez le mot de passe").fill("jean-dupont-2026")
    page.get_by_role("button", name="Activer mon dossier").click()
    expect(page.get_by_role("status")).to_contain_text("Votre dossier est activé")
    assert live.record_status("jean") == "open"
    page.get_by_role("link", name="Se connecter").last.click()
    sign_in(page, live, JEAN, "jean-dupont-2026")


def test_henri_reopens_his_record_then_closes_it_again(page: Page, live: Live) -> None:
    sign_in(page, live, HENRI)
    page.get_by_role("navigation", name="Votre dossier").get_by_role(
        "link", name="Paramètres"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paramètres")
    record = page.locator("section#record")
    expect(record).to_contain_text("Ce dossier est fermé depuis le 02/05/2024")
    expect(record).to_contain_text("jusqu'au 02/05/2034")
    shot(page, "settings-closed")
    record.get_by_role("button", name="Rouvrir le dossier").click()
    expect(page.get_by_role("alert")).to_contain_text("cochez la case")
    page.get_by_label("Je veux rouvrir ce dossier").check()
    page.get_by_role("button", name="Rouvrir le dossier").click()
    expect(page.locator("section#record")).to_contain_text("Le dossier est ouvert.")
    assert live.record_status("henri") == "open"

    page.get_by_role("link", name="Fermer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fermer le dossier")
    expect(page.get_by_role("main")).to_contain_text("conserver 10 ans")
    shot(page, "settings-closure")
    page.get_by_label("Pourquoi le fermez-vous ? (facultatif)").fill("Je n'en ai plus besoin.")
    page.get_by_label("J'ai lu ce que signifie la fermeture").check()
    page.get_by_role("button", name="Fermer le dossier").click()
    expect(page.locator("section#record")).to_contain_text("Ce dossier est fermé depuis le")
    assert live.record_status("henri") == "closed"


def test_sylvie_chooses_sms_codes_and_english(page: Page, live: Live) -> None:
    sign_in(page, live, SYLVIE)
    page.goto(f"{live.url}/parametres")
    shot(page, "settings")
    page.get_by_label("Par SMS (•••• 01)").check()
    page.get_by_label("Langue du portail").select_option("en")
    page.get_by_role("button", name="Enregistrer mes paramètres").click()
    expect(page.get_by_role("status")).to_have_text("Your settings are saved.")
    expect(page.get_by_label("By SMS (•••• 01)")).to_be_checked()
    # back to French and e-mail for the other tests of this module
    page.get_by_label("By e-mail (s•••@example.org)").check()
    page.get_by_label("Language of the portal").select_option("fr")
    page.get_by_role("button", name="Save my settings").click()
    expect(page.get_by_role("status")).to_have_text("Vos paramètres sont enregistrés.")
