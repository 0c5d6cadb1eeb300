"""Signing a persona professional in to the portal (password, then the authenticator code) with
the accounts tests' driver; a small PDF to upload."""

from __future__ import annotations

import pyotp
from sqlalchemy.orm import Session

from carnet import clock
from carnet.accounts import service
from carnet.web.portal import SESSION_COOKIE
from tests.accounts.conftest import Portal

LOGINS = {
    "durand": "paul.durand@example.org",
    "benali": "amina.benali@example.org",
    "lefevre": "marc.lefevre@example.org",
    "moreau": "julie.moreau@example.org",
    "petit": "thomas.petit@example.org",
    "roux": "claire.roux@example.org",
    "blanc": "henri.blanc@example.org",
    "noir": "eric.noir@example.org",
}
SYLVIE_NIR_TYPED = "2 75 03 31 555 004 25"  # as printed on the carte Vitale
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def sign_in_professional(portal: Portal, session: Session, who: str) -> Portal:
    login = LOGINS[who]
    first = portal.password_step(login)
    assert first.status_code == 303, first.text
    secret = service.totp_secret(session, portal.account(login))
    assert secret is not None
    done = portal.code_step(pyotp.TOTP(secret).at(clock.now()))
    assert done.status_code == 303, done.text
    assert portal.client.cookies.get(SESSION_COOKIE)
    return portal
