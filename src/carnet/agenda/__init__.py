"""Agenda: see docs/agenda.md."""
