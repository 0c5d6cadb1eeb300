"""Checked tokens are remembered (no second parse and signature check), but never beyond what
the first check allowed: a remembered token still expires, and a different string is checked
afresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from carnet.errors import Unauthenticated
from carnet.settings import Settings
from carnet.web import tokens


def test_a_remembered_token_still_expires(
    settings: Settings, frozen: Callable[[datetime], None]
) -> None:
    start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    frozen(start)
    token, _ = tokens.issue(settings, {"sub": "8100000000001"}, ttl=300)
    assert tokens.decode(settings, token)["sub"] == "8100000000001"
    assert (settings.secret_key, token) in tokens._checked  # remembered

    frozen(start + timedelta(seconds=299))
    assert tokens.decode(settings, token)["sub"] == "8100000000001"
    frozen(start + timedelta(seconds=300))
    with pytest.raises(Unauthenticated):
        tokens.decode(settings, token)
    assert (settings.secret_key, token) not in tokens._checked


def test_a_token_is_not_accepted_before_it_was_issued(
    settings: Settings, frozen: Callable[[datetime], None]
) -> None:
    start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    frozen(start)
    token, _ = tokens.issue(settings, {"sub": "8100000000001"}, ttl=300)
    tokens.decode(settings, token)
    frozen(start - timedelta(seconds=5))  # a clock set back: the remembered token waits too
    with pytest.raises(Unauthenticated):
        tokens.decode(settings, token)


def test_a_tampered_copy_of_a_remembered_token_is_refused(
    settings: Settings, frozen: Callable[[datetime], None]
) -> None:
    frozen(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    token, _ = tokens.issue(settings, {"sub": "8100000000001"}, ttl=300)
    tokens.decode(settings, token)
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(Unauthenticated):
        tokens.decode(settings, forged)


def test_the_memory_is_bounded(
    settings: Settings, frozen: Callable[[datetime], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    monkeypatch.setattr(tokens, "CHECKED_MAX", 3)
    monkeypatch.setattr(tokens, "_checked", {})
    for n in range(7):
        token, _ = tokens.issue(settings, {"sub": f"81000000000{n:02d}"}, ttl=300)
        tokens.decode(settings, token)
        assert len(tokens._checked) <= 3
