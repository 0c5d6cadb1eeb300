"""Patient pages test helpers: the accounts tests' portal driver, signed in as a persona."""

from __future__ import annotations

import re

from tests.accounts.conftest import Portal, portal, signed_in, start  # noqa: F401 - shared fixtures

__all__ = ["Portal", "form_token", "signed_in"]


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "every form carries the CSRF token"
    return found.group(1)
