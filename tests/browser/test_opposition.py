"""Opposing the creation of one's record in a real browser, during the opt-out window: a person
whose record the insurer just created automatically (Jean's route, with a fresh window) finds the
link on the sign-in page, gets a readable error for a missing birth date, then opposes; after
the window, the same form refuses (the record opens). Screenshots: settings-opposition*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from carnet import clock
from carnet.patients.models import Patient
from carnet.records.models import Record
from tests.browser import test_profile_and_settings as journeys
from tests.browser.test_profile_and_settings import Live, shot
from tests.conftest import NIRS

pytestmark = pytest.mark.browser
# The same fresh demo as the other patient journeys (one of this module's own).
live = journeys.live


def window(live: Live, key: str, *, days_left: int) -> None:
    """The record was created automatically; its 6-week window closes in ``days_left`` days."""
    with live.demo.factory() as session:
        patient_id = session.execute(
            select(Patient.id).where(Patient.nir == NIRS[key])
        ).scalar_one()
        record = session.get(Record, patient_id)
        assert record is not None
        record.opens_at = clock.now() + timedelta(days=days_left)
        session.commit()


def oppose(page: Page, live: Live, key: str, *, born: str, code: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_role("link", name="Vous opposer à la création de votre dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Vous opposer à la création de votre dossier"
    )
    page.get_by_label("Numéro de sécurité sociale").fill(NIRS[key])
    page.get_by_label("Date de naissance").fill(born)
    page.get_by_label("Code du courrier").fill(code)
    page.get_by_role("button", name="Je m'oppose à la création de mon dossier").click()


def test_jean_opposes_the_creation_of_his_record_within_the_window(page: Page, live: Live) -> None:
    window(live, "jean", days_left=30)
    code, born = live.letter_for("jean")
    oppose(page, live, "jean", born="", code=code)
    expect(page.get_by_role("alert")).to_be_visible()  # the missing birth date, named
    expect(page.locator("#birth_date")).to_have_attribute("aria-invalid", "true")
    assert live.record_status("jean") == "pending"  # nothing was written
    shot(page, "settings-opposition-error")

    oppose(page, live, "jean", born=born, code=code)
    expect(page.get_by_role("status")).to_contain_text("Votre opposition est enregistrée")
    assert live.record_status("jean") == "opposed"
    shot(page, "settings-opposition")


def test_after_the_window_the_form_refuses(page: Page, live: Live) -> None:
    window(live, "henri", days_left=-1)  # any record past its window: it is open (or closed)
    code, born = live.letter_for("henri")
    oppose(page, live, "henri", born=born, code=code)
    expect(page.get_by_role("alert")).to_be_visible()
    assert live.record_status("henri") != "opposed"
