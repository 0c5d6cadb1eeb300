"""Document test helpers: sample contents, ITI-65 bundles, tokens for the personas' software."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carnet.documents.bundles import Author, Doc, provide_bundle
from carnet.documents.samples import SAMPLE_REPORTS, pdf_report
from tests.conftest import NIRS

CARMES, CHU, PHARMACY, LAB, PODO, DENTAL, SST = (
    "310000013",
    "310781406",
    "310000039",
    "310000047",
    "310000054",
    "310000062",
    "310000070",
)
RPPS = {
    "durand": "10000000017",
    "benali": "10000000025",
    "moreau": "10000000041",
    "petit": "10000000058",
    "roux": "10000000066",
    "blanc": "10000000074",
    "noir": "10000000082",
    "leroy": "10000000140",
    "haddad": "10000000157",
    "lefevre": "10000000033",
}
HOME = {
    "durand": CARMES,
    "benali": CHU,
    "moreau": PHARMACY,
    "petit": PODO,
    "roux": DENTAL,
    "blanc": SST,
    "noir": "310000088",
    "leroy": CHU,
    "haddad": LAB,
    "lefevre": "310000021",
}
NAMES = {
    "durand": ("Paul", "Durand", "10"),
    "benali": ("Amina", "Benali", "10"),
    "moreau": ("Julie", "Moreau", "21"),
    "haddad": ("Nadia", "Haddad", "21"),
    "noir": ("Éric", "Noir", "10"),
    "blanc": ("Henri", "Blanc", "10"),
    "petit": ("Thomas", "Petit", "80"),
    "roux": ("Claire", "Roux", "40"),
    "leroy": ("Jeanne", "Leroy", "10"),
    "lefevre": ("Marc", "Lefèvre", "10"),
}


def sample_pdf(title: str = "Compte rendu de consultation") -> bytes:
    _, _, sections = SAMPLE_REPORTS["11488-4"]
    return pdf_report(
        title=title,
        patient="Sylvie Martin",
        born="14/03/1975",
        author="Dr Paul Durand",
        structure="Cabinet médical des Carmes",
        date="20/11/2026",
        sections=sections,
    )


def author(name: str) -> Author:
    given, family, profession = NAMES[name]
    return Author(ps_idnat="8" + RPPS[name], given=given, family=family, profession=profession)


def bundle(name: str, who: str, *docs: Doc) -> dict[str, Any]:
    return provide_bundle(NIRS[who], author(name), list(docs) or [Doc("11488-4", sample_pdf())])


@pytest.fixture
def token(system_token: Callable[..., str]) -> Callable[..., str]:
    def get(name: str, who: str | None = "sylvie", **claims: Any) -> str:
        return system_token(HOME[name], RPPS[name], who, **claims)

    return get


@pytest.fixture
def api(client: TestClient, token: Callable[..., str]) -> Callable[..., Any]:
    """Call the API as a persona's software: api("durand", "get", "/fhir/…", who="sylvie")."""

    def call(
        name: str,
        method: str,
        path: str,
        who: str | None = "sylvie",
        claims: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        headers = {
            "Authorization": f"Bearer {token(name, who, **(claims or {}))}",
            **kwargs.pop("headers", {}),
        }
        return client.request(method.upper(), path, headers=headers, **kwargs)

    return call


def new_master() -> str:
    """A fresh master key, as an operator makes one (base64 of 32 random bytes)."""
    return base64.b64encode(os.urandom(32)).decode()
