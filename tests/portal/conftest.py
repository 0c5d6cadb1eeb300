"""Patient pages test helpers: the accounts tests' portal driver, signed in as a persona."""

from __future__ import annotations

import re

import pytest

from tests.accounts.conftest import Portal, portal, start  # noqa: F401 - shared fixtures

__all__ = ["Portal", "form_token", "signed_in"]


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "every form carries the CSRF token"
    return found.group(1)


@pytest.fixture
def signed_in(portal: Portal) -> Portal:  # noqa: F811 - the fixture above, by name
    portal.sign_in_patient()
    return portal
