"""Notifications: an outbox of messages to patients (e-mail, SMS) written in the same
transaction as what caused them, and a worker that sends them through a pluggable sender
(console, file, SMTP) with retries, so that nothing is lost while the sender is down."""
