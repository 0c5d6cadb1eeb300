"""Appointments (FHIR Appointment) and their reminders."""

from __future__ import annotations
