"""Automated accessibility check of the main pages: axe-core (bundled by the pinned
``axe-playwright-python`` dev dependency, so no download at test time) runs in Debian's
Chromium on each page of ``PAGES``, on a desktop and on a phone-sized viewport, and no
"serious" or "critical" violation may be found.

To cover a new page, add one ``Screen`` to ``PAGES``. A violation known in a page still being
written goes in that page's ``known`` with the reason: the test then fails as soon as the
violation is gone (so the entry gets removed), and never hides a new one. Automated checks
find about a third of the problems an RGAA audit finds (docs/accessibility.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carnet.accounts import service as accounts
from carnet.documents.models import DocumentEntry
from carnet.patients.models import Patient
from carnet.settings import Settings
from tests.browser.conftest import SYLVIE, served_demo
from tests.browser.conftest import Live as BaseLive
from tests.conftest import NIRS

pytestmark = pytest.mark.browser

DURAND = "paul.durand@example.org"
BLOCKING = ("serious", "critical")
VIEWPORTS = {"desktop": {"width": 1100, "height": 900}, "phone": {"width": 375, "height": 740}}


@dataclass(frozen=True)
class Screen:
    """One page to check: its path (or a function of the live demo giving it), who must be
    signed in (None, "patient" or "professional"), and the violations known on it."""

    name: str
    path: str | Callable[[Live], str]
    who: str | None = "patient"
    known: dict[str, str] = field(default_factory=dict)  # axe rule id → why it is still there


@dataclass
class Live(BaseLive):
    def totp_for(self, login: str) -> str:
        with self.demo.factory() as session:
            account = accounts.find_account(session, login)
            assert account is not None
            secret = accounts.totp_secret(session, account)
        assert secret is not None
        return pyotp.TOTP(secret).now()

    def a_document_of_sylvie(self) -> str:
        with self.demo.factory() as session:
            sylvie = session.execute(
                select(Patient.id).where(Patient.nir == NIRS["sylvie"])
            ).scalar_one()
            entry = session.execute(
                select(DocumentEntry.id)
                .where(DocumentEntry.patient_id == sylvie, DocumentEntry.current.is_(True))
                .order_by(DocumentEntry.recorded_at)
                .limit(1)
            ).scalar_one()
        return f"/documents/{entry}"


def consent_page(live: Live) -> str:
    """The SMART consent page of a catalogue app (as the app's authorization request)."""
    return (
        "/oauth/authorize?response_type=code&client_id=tensiocarnet"
        "&redirect_uri=https%3A%2F%2Ftensio.example.org%2Fcarnet%2Fcallback"
        "&scope=launch%2Fpatient+openid+patient%2FObservation.cruds+patient%2FMedicationStatement.rs"
        "&state=a11y&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        "&code_challenge_method=S256"
    )


# The main pages. Extend this table as pages appear.
PAGES = [
    Screen("login", "/login", who=None),
    Screen("about", "/about", who=None),
    Screen("home", "/"),
    Screen("documents", "/documents"),
    Screen("document", Live.a_document_of_sylvie),
    Screen("history", "/historique"),
    Screen("authorizations", "/autorisations"),
    Screen("profile", "/profil"),
    Screen("agenda", "/agenda"),
    Screen("messages", "/messages"),
    Screen("apps", "/applications"),
    Screen("apps-consent", consent_page),
    Screen("settings", "/parametres"),
    Screen("pro", "/pro", who="professional"),
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    with served_demo(tmp_path_factory, settings, "a11y") as (demo, url, sender):
        yield Live(demo, url, sender)


def sign_in(page: Page, live: Live, who: str) -> None:
    login = SYLVIE if who == "patient" else DURAND
    page.goto(f"{live.url}/login")
    page.locator("#login").fill(login)
    page.locator("#password").fill(live.demo.settings.demo_password)
    page.locator("form.card button[type=submit]").click()
    code = live.code_for(login) if who == "patient" else live.totp_for(login)
    page.locator("input[name=code]").fill(code)
    page.locator("form button[type=submit]").first.click()
    expect(page).not_to_have_url(f"{live.url}/login/code")


@pytest.fixture(scope="module")
def pages(browser: Browser, live: Live) -> Iterator[Callable[[str | None, str], Page]]:
    """One signed-in browser context per persona (a TOTP code is accepted once: sign in once),
    reused across the pages and resized to each viewport."""
    contexts: dict[str | None, Page] = {}

    def get(who: str | None, viewport: str) -> Page:
        if who not in contexts:
            context = browser.new_context(locale="fr-FR", viewport=VIEWPORTS["desktop"])  # type: ignore[arg-type]
            page = context.new_page()
            if who is not None:
                sign_in(page, live, who)
            contexts[who] = page
        page = contexts[who]
        page.set_viewport_size(VIEWPORTS[viewport])  # type: ignore[arg-type]
        return page

    yield get
    for page in contexts.values():
        page.context.close()


def blocking(results: dict[str, Any]) -> dict[str, str]:
    """Serious and critical violations: rule id → what and where (for the failure message)."""
    out = {}
    for violation in results["violations"]:
        if violation["impact"] in BLOCKING:
            targets = ", ".join(" ".join(n["target"]) for n in violation["nodes"][:5])
            out[violation["id"]] = f"{violation['help']} ({violation['impact']}): {targets}"
    return out


AXE = Axe()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("screen", PAGES, ids=[s.name for s in PAGES])
def test_no_serious_accessibility_violation(
    screen: Screen, viewport: str, live: Live, pages: Callable[[str | None, str], Page]
) -> None:
    page = pages(screen.who, viewport)
    path = screen.path if isinstance(screen.path, str) else screen.path(live)
    response = page.goto(f"{live.url}{path}")
    assert response is not None
    assert response.status == 200, f"{screen.name}: {path} answered {response.status}"
    # the page itself, not the sign-in page a lost session would have redirected to
    assert urlsplit(page.url).path == urlsplit(path).path, f"{screen.name}: ended on {page.url}"
    results = AXE.run(page).response
    assert results["testEngine"]["version"].startswith("4.")  # axe-core really ran
    assert len(results["passes"]) > 10, "axe-core checked the page's content"
    found = blocking(results)
    for v in results["violations"]:  # moderate and minor ones: shown with -s, never blocking
        if v["impact"] not in BLOCKING:
            print(f"{screen.name} ({viewport}): {v['impact']} {v['id']} × {len(v['nodes'])}")
    new = {rule: where for rule, where in found.items() if rule not in screen.known}
    assert not new, f"{screen.name} ({viewport}): {new}"
    gone = set(screen.known) - set(found)
    assert not gone, f"{screen.name}: fixed, remove from PAGES' known: {gone}"


def test_the_check_does_find_a_serious_violation(
    pages: Callable[[str | None, str], Page],
) -> None:
    """The check itself can fail: an image without text and an unlabelled field are caught."""
    page = pages(None, "desktop")
    page.set_content(
        '<html lang="fr"><head><title>t</title></head><body><main><h1>t</h1>'
        '<img src="x.png"><input type="text"></main></body></html>'
    )
    found = blocking(AXE.run(page).response)
    assert {"image-alt", "label"} <= set(found)
