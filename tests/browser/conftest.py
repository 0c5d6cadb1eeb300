"""What every browser journey shares: one Debian Chromium for the whole run (installed by
``make browsers``; never ``playwright install``), and a real server on a fresh demo per test
module, with the hand-written fake of the e-mail/SMS boundary."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from carnet.app import create_app
from carnet.notifications.worker import dispatch_due
from carnet.settings import Settings
from tests.conftest import FakeSender
from tests.documents.fresh_demo import FreshDemo, free_socket, fresh_demo, serving

CHROMIUM = "/usr/bin/chromium"  # Debian's package
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]
# The docs' screenshots are refreshed on request (CARNET_SCREENSHOTS=docs/screenshots); an
# ordinary run writes them to a temporary folder, leaving the checkout clean.
SHOTS = Path(os.environ.get("CARNET_SCREENSHOTS") or tempfile.mkdtemp(prefix="carnet-shots-"))
SYLVIE = "sylvie.martin@example.org"


@dataclass
class Live:
    """A served fresh demo; modules add the helpers their journeys need."""

    demo: FreshDemo
    url: str
    sender: FakeSender

    def code_for(self, address: str) -> str:
        """The one-time code last sent to ``address`` (the outbox dispatched first)."""
        dispatch_due(self.demo.factory, self.sender, self.demo.settings)
        return self.sender.last_code(address)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop page in French (modules needing another one define their own)."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


@contextmanager
def served_demo(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, name: str
) -> Iterator[tuple[FreshDemo, str, FakeSender]]:
    """A fresh demo served on a free local port: (demo, base URL, the fake sender)."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sender = FakeSender()
    with fresh_demo(tmp_path_factory.mktemp(name), settings, base_url=url) as demo:
        app = create_app(
            demo.settings, engine=demo.engine, session_factory=demo.factory, sender=sender
        )
        with serving(app, sock):
            yield demo, url, sender
