"""Demo data for the apps (being written)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load(session: Session, people: dict[str, Any], pros: dict[str, Any]) -> None:
    """Adds the personas' apps."""
