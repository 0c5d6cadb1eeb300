"""Secure messaging threads (FHIR Communication) and their attachments."""

from __future__ import annotations
