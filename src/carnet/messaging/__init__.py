"""Messaging: see docs/messaging.md."""
