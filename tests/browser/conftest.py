"""What every browser journey shares: one Debian Chromium for the whole run (installed by
``make browsers``; never ``playwright install``), and a real server on a fresh demo per test
module, with the hand-written fake of the e-mail/SMS boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, sync_playwright

from carnet.app import create_app
from carnet.settings import Settings
from tests.conftest import FakeSender
from tests.documents.fresh_demo import FreshDemo, free_socket, fresh_demo, serving

CHROMIUM = "/usr/bin/chromium"  # Debian's package
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
