"""Messaging fhir (being written)."""

from __future__ import annotations
