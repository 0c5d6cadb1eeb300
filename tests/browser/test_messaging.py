"""Secure messaging in a real browser (Debian's Chromium driven by Playwright against a real
server with a fresh demo): Dr Durand signs in with his authenticator code, writes to Sylvie
with a PDF attached, Sylvie finds the message unread, reads it and replies, and Dr Durand sees
her answer. No JavaScript is needed (plain multipart forms); the pages have no axe-core
violations (WCAG 2.1 AA rules) and fit a phone. Screenshots: docs/screenshots/messaging-*.png
when CARNET_SCREENSHOTS is set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carnet.accounts import service as accounts
from carnet.accounts.models import Account
from carnet.patients.models import Patient
from carnet.settings import Settings
from tests.browser.conftest import SHOTS, SYLVIE, served_demo
from tests.browser.conftest import Live as BaseLive
from tests.conftest import NIRS
from tests.messaging.conftest import PDF

pytestmark = pytest.mark.browser

DURAND = "paul.durand@example.org"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SUBJECT = "Votre ordonnance de bilan"


@dataclass
class Live(BaseLive):
    def totp_for(self, login: str) -> str:
        with self.demo.factory() as session:
            account = session.execute(select(Account).where(Account.login == login)).scalar_one()
            secret = accounts.totp_secret(session, account)
        assert secret is not None
        return pyotp.TOTP(secret).now()

    def patient_id(self, name: str) -> str:
        with self.demo.factory() as session:
            found = session.execute(select(Patient.id).where(Patient.nir == NIRS[name]))
            return str(found.scalar_one())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    with served_demo(tmp_path_factory, settings, "messaging") as (demo, url, sender):
        yield Live(demo, url, sender)


def new_page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    # no JavaScript: every essential must work with plain HTML forms
    context = browser.new_context(
        locale="fr-FR", viewport={"width": width, "height": height}, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from new_page(browser, 1100, 900)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from new_page(browser, 375, 740)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"messaging-{name}.png"), full_page=True)


def no_violations(page: Page) -> None:
    # axe needs scripts: checked in a scripted twin of the page (same URL, same cookies)
    context = page.context.browser.new_context(locale="fr-FR")  # type: ignore[union-attr]
    context.add_cookies(page.context.cookies())
    twin = context.new_page()
    twin.goto(page.url)
    results = Axe().run(twin, options={"runOnly": {"type": "tag", "values": WCAG}})
    context.close()
    found = [(v["id"], len(v["nodes"])) for v in results.response["violations"]]
    assert found == [], found


def sign_in_patient(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("Identifiant").fill(SYLVIE)
    page.get_by_label("Mot de passe").fill(live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Code à usage unique").fill(live.code_for(SYLVIE))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre dossier médical")


def sign_in_durand(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/login?next=/messages")
    page.get_by_label("Identifiant").fill(DURAND)
    page.get_by_label("Mot de passe").fill(live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Code à usage unique").fill(live.totp_for(DURAND))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages")


def test_dr_durand_writes_and_sylvie_replies_in_a_browser(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    attachment = tmp_path / "ordonnance-bilan.pdf"
    attachment.write_bytes(PDF)
    pro = next(new_page(browser, 1100, 900))
    sign_in_durand(pro, live)
    conversations = pro.get_by_role("region", name="Vos conversations")
    expect(conversations).to_contain_text("Résultats de votre bilan thyroïdien")

    form = pro.get_by_role("region", name="Écrire à un patient")
    form.get_by_role("button", name="Envoyer").click()  # empty: the browser's own check
    expect(pro.get_by_role("heading", level=1)).to_have_text("Messages")
    form.get_by_label("Parmi vos patients").select_option(live.patient_id("sylvie"))
    form.get_by_label("Objet").fill(SUBJECT)
    form.get_by_label("Message", exact=True).fill(
        "Bonjour Madame Martin,\nVoici l'ordonnance pour votre prochain bilan."
    )
    form.get_by_label("Pièce jointe (facultative)").set_input_files(str(attachment))
    shot(pro, "pro-new")
    no_violations(pro)
    form.get_by_role("button", name="Envoyer").click()
    expect(pro.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(pro.get_by_role("link", name="ordonnance-bilan.pdf")).to_be_visible()

    patient = next(new_page(browser, 1100, 900))
    sign_in_patient(patient, live)
    patient.get_by_role("navigation", name="Votre dossier").get_by_role(
        "link", name="Messages"
    ).click()
    expect(patient.get_by_role("heading", level=1)).to_have_text("Messages")
    row = patient.locator("ul.threads li", has_text=SUBJECT)
    expect(row).to_contain_text("1 non lu(s)")
    expect(patient.locator("ul.threads")).not_to_contain_text("Suite de ta consultation")
    shot(patient, "inbox")
    no_violations(patient)

    row.get_by_role("link", name=SUBJECT).click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(patient.get_by_role("heading", level=2, name="Dr Paul Durand")).to_be_visible()
    with patient.expect_download() as download:
        patient.get_by_role("link", name="ordonnance-bilan.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
    patient.get_by_label("Votre message").fill("Merci docteur, je passe au laboratoire lundi.")
    patient.get_by_role("button", name="Envoyer").click()
    expect(patient.locator("ol.thread li.mine")).to_contain_text("je passe au laboratoire lundi")
    shot(patient, "thread")
    no_violations(patient)

    pro.goto(f"{live.url}/messages")
    mine = pro.locator("ul.threads li", has_text=SUBJECT)
    expect(mine).to_contain_text("1 non lu(s)")
    expect(mine).to_contain_text("Sylvie Martin")
    shot(pro, "pro-inbox")
    pro.context.close()
    patient.context.close()


def test_the_thread_fits_a_phone_and_reads_in_english(phone: Page, live: Live) -> None:
    sign_in_patient(phone, live)
    phone.goto(f"{live.url}/messages")
    phone.locator("ul.threads a", has_text="Résultats de votre bilan thyroïdien").click()
    expect(phone.locator("ol.thread li.mine")).to_contain_text("Dois-je refaire une prise de sang")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    shot(phone, "phone")
    phone.goto(f"{live.url}/messages?lang=en")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Messages")
    expect(phone.locator("main")).to_contain_text("a conversation is started by a professional")


def test_a_representative_answers_for_lea(page: Page, live: Live) -> None:
    sign_in_patient(page, live)
    lea = live.patient_id("lea")
    page.goto(f"{live.url}/messages?record={lea}")
    expect(page.get_by_role("status")).to_contain_text("Léa Martin")
    expect(page.locator("ul.threads")).to_contain_text("Vaccination de Léa")
    expect(page.locator("ul.threads")).not_to_contain_text("Suite de ta consultation")
    page.get_by_role("link", name="Vaccination de Léa : deuxième dose").click()
    expect(page.locator("ol.thread")).to_contain_text("représentant légal")
