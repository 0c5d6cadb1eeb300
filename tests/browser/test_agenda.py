"""The agenda in a real browser (Debian's Chromium driven by Playwright, a real server on a
fresh demo): Sylvie reads her agenda, gets a readable error tied to the field she got wrong,
adds an appointment and cancels it; the page has no axe-core violations (WCAG 2.1 AA rules)
and fits a phone's screen. Screenshots go to docs/screenshots/agenda-*.png on request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carnet import clock
from carnet.agenda.models import LOCAL_TZ, Appointment
from carnet.settings import Settings
from tests.browser.conftest import SHOTS, SYLVIE, Live, served_demo

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    with served_demo(tmp_path_factory, settings, "agenda") as (demo, url, sender):
        yield Live(demo, url, sender)


def new_page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": height})
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
    page.screenshot(path=str(SHOTS / f"agenda-{name}.png"), full_page=True)


def sign_in(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/login?next=/agenda")
    page.get_by_label("Identifiant").fill(SYLVIE)
    page.get_by_label("Mot de passe").fill(live.demo.settings.demo_password)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Code à usage unique")
    page.get_by_label("Code à usage unique").fill(live.code_for(SYLVIE))
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live.url}/agenda")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agenda")


def no_violations(page: Page) -> None:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    found = [(v["id"], len(v["nodes"])) for v in results.response["violations"]]
    assert found == [], found


def test_sylvie_adds_and_cancels_an_appointment_in_a_browser(page: Page, live: Live) -> None:
    sign_in(page, live)
    upcoming = page.get_by_role("region", name="Rendez-vous à venir")
    expect(upcoming).to_contain_text("Dr Sophie Vidal, ophtalmologue")
    expect(upcoming).to_contain_text("Pris par Dr Paul Durand")
    no_violations(page)
    shot(page, "page")

    form = page.get_by_role("region", name="Ajouter un rendez-vous")
    day = (clock.now().astimezone(LOCAL_TZ).date() + timedelta(days=15)).isoformat()
    form.get_by_label("Date").fill(day)
    form.get_by_label("Avec (professionnel)").fill("Dr Lucie Garnier, dermatologue")
    form.get_by_label("Lieu").fill("Cabinet Saint-Cyprien")
    form.get_by_role("button", name="Ajouter le rendez-vous").click()  # the time is missing
    time_field = page.get_by_label("Heure")
    expect(page.get_by_role("alert")).to_contain_text("Indiquez l'heure du rendez-vous")
    expect(time_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#time-error")).to_have_text(
        "Indiquez l'heure du rendez-vous (heures et minutes)."
    )
    expect(page.get_by_label("Avec (professionnel)")).to_have_value(
        "Dr Lucie Garnier, dermatologue"
    )
    no_violations(page)
    shot(page, "error")

    summary = page.get_by_role("alert").get_by_role("link")
    expect(summary).to_have_attribute("href", "#time")  # the summary leads to the field
    time_field.fill("11:15")
    page.get_by_label("Durée").select_option("60")
    page.get_by_role("button", name="Ajouter le rendez-vous").click()
    expect(page.get_by_role("status")).to_have_text("Le rendez-vous a été ajouté.")
    added = page.locator("li.appointment", has_text="Dr Lucie Garnier")
    expect(added).to_contain_text("11:15–12:15")
    expect(added).to_contain_text("Ajouté par vous")

    added.get_by_role("button", name="Annuler ce rendez-vous").click()
    expect(page.get_by_role("status")).to_have_text("Le rendez-vous a été annulé.")
    cancelled = page.locator("li.appointment", has_text="Dr Lucie Garnier")
    expect(cancelled).to_contain_text("Annulé")
    expect(cancelled.get_by_role("button")).to_have_count(0)
    with live.demo.factory() as session:
        row = session.execute(
            select(Appointment).where(Appointment.practitioner_name.like("Dr Lucie Garnier%"))
        ).scalar_one()
        assert row.status == "cancelled"


def test_the_agenda_fits_a_phone_and_reads_in_english(phone: Page, live: Live) -> None:
    sign_in(phone, live)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width  # no sideways scrolling
    shot(phone, "phone")
    phone.goto(f"{live.url}/agenda?lang=en")
    expect(phone.get_by_role("heading", level=2, name="Upcoming appointments")).to_be_visible()
    expect(phone.get_by_role("button", name="Add the appointment")).to_be_visible()
