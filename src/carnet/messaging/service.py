"""Messaging service (being written)."""

from __future__ import annotations
