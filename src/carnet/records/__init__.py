"""Records: the lifecycle of a person's shared record (domain.md §3) — creation through each
channel, opt-out window, activation codes, activation, the patient's emergency/regulator
choices, closure, retention, reactivation and purge."""
