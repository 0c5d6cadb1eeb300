"""Audit: the append-only, hash-chained trail of every access to patient data (read, search,
write, denial, emergency access), written in the same transaction as the access, verifiable
with ``carnet audit verify`` and shown to the patient in plain words."""
