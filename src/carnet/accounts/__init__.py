"""Accounts: sign-in credentials of patients, professionals and operators — argon2 password
hashes, one-time codes by e-mail/SMS for patients, TOTP for professionals (standing in for
e-CPS / Pro Santé Connect behind a pluggable identity-provider boundary), portal sessions."""
