"""The professional's portal in a real browser: Debian's Chromium driven by Playwright against a
real server with a fresh demo. Dr Durand finds Sylvie by her NIR, reads a document, adds one and
sees the safety warning before prescribing amoxicillin to a patient allergic to penicillin;
Dr Benali breaks the glass and the red banner stays across pages until she ends it; Dr Lefèvre,
the SAMU regulator, opens Sylvie's record in regulator mode; Dr Durand sees Léa alone in a
secret connection; the dentist
does not see the advance directives, the podiatrist the childbirth report; Dr Noir, blocked, is
refused; Dr Blanc, an excluded actor, finds no record at all. Screenshots go to
docs/screenshots/pro-*.png when CARNET_SCREENSHOTS is set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carnet import clock
from carnet.accounts import service as accounts
from carnet.accounts.models import Account
from carnet.settings import Settings
from tests.browser.conftest import SHOTS, served_demo, shot
from tests.browser.conftest import Live as BaseLive
from tests.portal.pro_driver import LOGINS, SYLVIE_NIR_TYPED, TINY_PDF

pytestmark = pytest.mark.browser

REASON = "Patiente inconsciente aux urgences"
PHONE = {"width": 390, "height": 844}


@dataclass
class Live(BaseLive):
    def totp(self, login: str) -> str:
        """A code the server will take: an accepted code's time step is never accepted again
        (RFC 6238 §5.2), so a second sign-in within 30 s uses the next step's code, which the
        server allows for clock drift."""
        with self.demo.factory() as session:
            account = session.execute(select(Account).where(Account.login == login)).scalar_one()
            secret = accounts.totp_secret(session, account)
            last = account.totp_last_step
        assert secret is not None
        totp = pyotp.TOTP(secret)
        while True:
            current = int(clock.now().timestamp()) // totp.interval
            step = current if last is None or current > last else last + 1
            if step <= current + 1:
                return totp.generate_otp(step)
            time.sleep(1)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    with served_demo(tmp_path_factory, settings, "browser-pro") as (demo, url, sender):
        yield Live(demo, url, sender)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True)
    yield context.new_page()
    context.close()


AXE = Axe()
BLOCKING = ("serious", "critical")


def accessible(page: Page, name: str) -> None:
    """axe-core finds no serious or critical violation in the page as it is now."""
    results = AXE.run(page).response
    assert len(results["passes"]) > 10, "axe-core checked the page's content"
    found = {
        v["id"]: ", ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in BLOCKING
    }
    assert not found, f"{name}: {found}"


def sign_in(page: Page, live: Live, who: str) -> None:
    login = LOGINS[who]
    page.goto(f"{live.url}/login")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Code de l'application d'authentification"
    )
    page.get_by_label("Code à usage unique").fill(live.totp(login))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace professionnel")


def find_sylvie(page: Page) -> None:
    page.get_by_label("INS ou NIR du patient").fill(SYLVIE_NIR_TYPED)
    page.get_by_role("button", name="Trouver le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sylvie")


def test_a_gp_finds_sylvie_reads_adds_and_is_warned_before_prescribing(
    page: Page, live: Live, tmp_path: Path
) -> None:
    sign_in(page, live, "durand")
    accessible(page, "pro home")
    shot(page, "pro-home")
    find_sylvie(page)
    expect(page.get_by_role("heading", name="Résumé d'urgence")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Pénicillines")
    accessible(page, "patient page")
    shot(page, "pro-patient")

    page.get_by_role("link", name="Bilan thyroïdien (TSH, T4L)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan thyroïdien (TSH, T4L)")
    expect(page.locator("pre.doc-text")).to_contain_text("ClinicalDocument")
    expect(page.get_by_role("link", name="Télécharger")).to_be_visible()
    page.get_by_role("link", name="Retour au dossier").click()

    report = tmp_path / "compte-rendu.pdf"
    report.write_bytes(TINY_PDF)
    page.get_by_role("link", name="Ajouter un document").click()
    page.get_by_label("Type de document").select_option("11502-2")
    page.get_by_label("Titre (facultatif)").fill("Bilan thyroïdien de contrôle")
    page.get_by_label("Fichier").set_input_files(str(report))
    page.get_by_role("button", name="Ajouter au dossier").click()
    expect(page.get_by_role("status")).to_contain_text("Le document a été ajouté au dossier.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan thyroïdien de contrôle")
    page.get_by_role("link", name="Retour au dossier").click()
    page.get_by_role("link", name="Ajouter un document").click()
    page.get_by_label("Type de document").select_option("11502-2")
    page.get_by_label("Titre (facultatif)").fill("Bilan thyroïdien répété")
    page.get_by_label("Fichier").set_input_files(str(report))
    page.get_by_role("button", name="Ajouter au dossier").click()
    expect(page.locator(".warnings")).to_contain_text("Le même examen a été fait le")
    accessible(page, "document added with a warning")
    shot(page, "pro-duplicate")
    page.get_by_role("link", name="Retour au dossier").click()
    expect(page.locator("main")).to_contain_text("Bilan thyroïdien répété")

    page.get_by_role("link", name="Prescrire (avec contrôle de sécurité)").click()
    page.get_by_label("Médicament (nom commercial ou substance)").fill("amoxicilline")
    page.get_by_label("Posologie (facultatif)").fill("1 g matin et soir")
    page.get_by_role("button", name="Contrôler").click()
    warnings = page.locator(".warnings")
    expect(warnings).to_contain_text("Alertes de sécurité")
    expect(warnings).to_contain_text("nicilline")
    accessible(page, "prescription warnings")
    shot(page, "pro-prescription")
    page.get_by_role("button", name="Prescrire quand même").click()
    expect(page.get_by_role("status")).to_contain_text("enregistrée dans le profil")


def test_a_doctor_breaks_the_glass_and_the_banner_stays_until_she_ends_it(
    page: Page, live: Live
) -> None:
    sign_in(page, live, "benali")
    find_sylvie(page)
    expect(page.locator("main")).to_contain_text("ne vous a pas encore autorisé")
    page.get_by_role("button", name="Ouvrir le dossier en mode urgence").click()
    expect(page.locator("#reason:invalid")).to_have_count(1)  # required, checked by the browser
    page.get_by_label("Motif de l'accès en urgence").fill(REASON)
    page.get_by_role("button", name="Ouvrir le dossier en mode urgence").click()
    banner = page.locator("#emergency-banner")
    expect(banner).to_contain_text("Accès en urgence")
    expect(banner).to_contain_text(REASON)
    expect(page.get_by_role("heading", name="Résumé d'urgence")).to_be_visible()
    accessible(page, "emergency banner")
    shot(page, "pro-emergency")

    page.locator("ul.docs a").first.click()
    expect(page.locator("#emergency-banner")).to_contain_text(REASON)
    page.get_by_role("link", name="Rechercher un patient").click()
    expect(page.locator("#emergency-banner")).to_contain_text(REASON)
    page.locator("#emergency-banner").get_by_role("link", name="Retour au dossier").click()
    expect(page.get_by_role("heading", name="Résumé d'urgence")).to_be_visible()
    page.get_by_role("button", name="Terminer l'accès en urgence").click()
    expect(page.locator("#emergency-banner")).to_have_count(0)
    expect(page.get_by_role("heading", name="Résumé d'urgence")).to_have_count(0)


def test_a_gp_sees_lea_alone_in_a_secret_connection(page: Page, live: Live, tmp_path: Path) -> None:
    """Léa, a minor, comes without her mother: Dr Durand asks for a secret connection as he
    looks her up; the banner stays on every page, the form offers only a document hidden from
    her representatives; ending it goes home, where her name offers a secret connection
    again."""
    sign_in(page, live, "durand")
    page.get_by_label("INS ou NIR du patient").fill("2 11 08 31 555 044 97")
    page.get_by_label("Connexion secrète : mineur reçu sans ses représentants légaux").check()
    page.get_by_role("button", name="Trouver le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Léa")
    banner = page.locator("#secret-banner")
    expect(banner).to_contain_text("n'est pas montré aux représentants légaux")
    expect(page.get_by_role("button", name="Ouvrir une connexion secrète")).to_have_count(0)
    accessible(page, "secret connection")
    shot(page, "pro-secret")

    report = tmp_path / "consultation.pdf"
    report.write_bytes(TINY_PDF)
    page.get_by_role("link", name="Ajouter un document").click()
    expect(page.locator("#secret-banner")).to_be_visible()
    page.get_by_label("Type de document").select_option("11488-4")
    page.get_by_label("Titre (facultatif)").fill("Consultation de contraception")
    expect(
        page.get_by_label("Non : masqué aux représentants légaux (connexion secrète)")
    ).to_be_checked()
    expect(page.get_by_label("Oui", exact=True)).to_have_count(0)
    page.get_by_label("Fichier").set_input_files(str(report))
    accessible(page, "add a document in a secret connection")
    shot(page, "pro-secret-add")
    page.get_by_role("button", name="Ajouter au dossier").click()
    expect(page.get_by_role("status")).to_contain_text("Le document a été ajouté au dossier.")
    page.locator("#secret-banner").get_by_role(
        "button", name="Terminer la connexion secrète"
    ).click()
    expect(page.locator("#secret-banner")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace professionnel")
    recent = page.get_by_role("region", name="Vos patients récents")
    recent.get_by_role("button", name="Ouvrir en connexion secrète : Léa Martin").click()
    expect(page.locator("#secret-banner")).to_be_visible()  # back to her, secretly again
    expect(page.get_by_role("heading", level=1)).to_contain_text("Léa")


def test_the_samu_regulator_opens_sylvies_record_in_regulator_mode(page: Page, live: Live) -> None:
    sign_in(page, live, "lefevre")
    find_sylvie(page)
    panel = page.get_by_role("region", name="Régulation SAMU")
    expect(panel).to_contain_text("médecin régulateur du SAMU")
    accessible(page, "regulation panel")
    panel.get_by_label("Numéro du dossier de régulation (facultatif)").fill("DR-2026-1142")
    panel.get_by_role("button", name="Ouvrir le dossier en mode régulation").click()
    banner = page.locator("#emergency-banner")
    expect(banner).to_contain_text("Accès en régulation (SAMU)")
    expect(banner).to_contain_text("DR-2026-1142")
    expect(page.get_by_role("heading", name="Résumé d'urgence")).to_be_visible()
    accessible(page, "regulator banner")
    shot(page, "pro-regulation")
    page.get_by_role("button", name="Terminer l'accès en régulation").click()
    expect(page.locator("#emergency-banner")).to_have_count(0)
    expect(page.get_by_role("heading", name="Résumé d'urgence")).to_have_count(0)


def test_the_dentist_reads_sylvies_record_without_her_advance_directives(
    phone: Page, live: Live
) -> None:
    sign_in(phone, live, "roux")
    find_sylvie(phone)
    expect(phone.get_by_role("heading", name="Résumé d'urgence")).to_be_visible()
    expect(phone.locator("main")).not_to_contain_text("Mes directives anticipées")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no horizontal scrolling on a phone"
    accessible(phone, "patient page on a phone")
    shot(phone, "pro-phone")


def test_a_blocked_doctor_is_refused(page: Page, live: Live) -> None:
    sign_in(page, live, "noir")
    find_sylvie(page)
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Résumé d'urgence")
    expect(page.get_by_role("button", name="Ouvrir le dossier en mode urgence")).to_have_count(0)
    accessible(page, "refusal")
    shot(page, "pro-blocked")


def test_an_excluded_actor_finds_no_record_whatever_he_tries(page: Page, live: Live) -> None:
    # Dr Blanc (occupational medicine) signs in, but no record exists for him: not even Sylvie's.
    sign_in(page, live, "blanc")
    page.get_by_label("INS ou NIR du patient").fill(SYLVIE_NIR_TYPED)
    page.get_by_role("button", name="Trouver le dossier").click()
    expect(page.locator("main")).to_contain_text("Aucun dossier")
    expect(page.locator("main")).not_to_contain_text("Sylvie")
    expect(page.get_by_role("button", name="Ouvrir le dossier en mode urgence")).to_have_count(0)
    accessible(page, "excluded actor")


def test_the_podiatrist_reads_sylvies_record_without_her_childbirth_report(
    page: Page, live: Live
) -> None:
    sign_in(page, live, "petit")
    find_sylvie(page)
    expect(page.get_by_role("heading", name="Résumé d'urgence")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Bilan thyroïdien")
    expect(page.locator("main")).not_to_contain_text("Compte rendu d'accouchement")


def test_sylvie_adds_her_advance_directives_and_a_wrong_file_is_explained(
    page: Page, live: Live, tmp_path: Path
) -> None:
    login = "sylvie.martin@example.org"
    page.goto(f"{live.url}/login")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Code à usage unique").fill(live.code_for(login))
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live.url}/documents")
    fake = tmp_path / "directives.pdf"
    fake.write_bytes(b"GIF89a not a pdf")
    page.get_by_label("Type de document").select_option("EXPPAT_3")
    page.get_by_label("Titre (facultatif)").fill("Mes directives anticipées 2026")
    page.get_by_label("Fichier").set_input_files(str(fake))
    page.get_by_role("button", name="Ajouter à mon dossier").click()
    expect(page.locator("#file-error")).to_contain_text("pas un fichier PDF")
    expect(page.get_by_label("Fichier")).to_have_attribute("aria-invalid", "true")
    accessible(page, "upload error")
    page.locator("#ajouter").screenshot(path=str(SHOTS / "pro-patient-upload-error.png"))
    real = tmp_path / "directives-ok.pdf"
    real.write_bytes(TINY_PDF)
    page.get_by_label("Type de document").select_option("EXPPAT_3")
    page.get_by_label("Fichier").set_input_files(str(real))
    page.get_by_role("button", name="Ajouter à mon dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes directives anticipées 2026")
    expect(page.get_by_text("Ajouté par vous")).to_be_visible()
    shot(page, "pro-patient-upload")
