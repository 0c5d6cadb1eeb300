"""The printable emergency summary (HTML and PDF), within what the reader may see."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from carnet import clock
from carnet.profile.models import ProfileEntry
from tests.conftest import Cast
from tests.documents.conftest import HOME, RPPS

REASON = "patiente inconsciente aux urgences"


@pytest.fixture
def get(client: TestClient, system_token: Callable[..., str], cast: Cast) -> Callable[..., Any]:
    def call(name: str, accept: str = "text/html", **claims: Any) -> Any:
        token = system_token(HOME[name], RPPS[name], "sylvie", **claims)
        return client.get(
            f"/fhir/Patient/{cast.patients['sylvie']}/$emergency-summary",
            headers={"Authorization": f"Bearer {token}", "Accept": accept},
        )

    return call


def test_the_treating_doctor_gets_what_an_emergency_doctor_needs_first(get: Any) -> None:
    page = get("durand")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for expected in (
        "Pénicillines",
        "Lévothyroxine",
        "Hypothyroïdie",
        "A Rh+",
        "Marc Martin",
        "organes : oui",
        "Mes directives anticipées",
    ):
        assert expected in page.text, expected


def test_the_summary_prints_as_a_pdf(get: Any) -> None:
    from pypdf import PdfReader

    pdf = get("durand", accept="application/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Pénicillines" in text
    assert "A Rh+" in text


def test_a_dentist_does_not_see_the_advance_directives_in_it(get: Any) -> None:
    page = get("roux")
    assert page.status_code == 200
    assert "Pénicillines" in page.text
    assert "Mes directives anticipées" not in page.text


def test_in_emergency_the_summary_says_the_access_is_traced(get: Any) -> None:
    page = get("benali", purpose_of_use="bris_de_glace", reason=REASON)
    assert page.status_code == 200
    assert "bris de glace" in page.text
    assert page.headers["x-carnet-access-mode"] == "emergency"


def test_who_may_not_read_the_record_gets_no_summary(get: Any) -> None:
    assert get("noir").status_code == 403
    assert get("blanc").status_code == 404
    assert get("benali").status_code == 403  # no consent, not in emergency mode


def test_many_measurements_from_an_app_never_push_the_blood_group_out(
    get: Any, session: Session, cast: Cast
) -> None:
    # A year of daily step counts, newer than the blood group and the organ-donation wish.
    now = clock.now()
    for day in range(150):
        at = now - timedelta(days=day)
        session.add(
            ProfileEntry(
                id=uuid.uuid4(),
                patient_id=cast.patients["sylvie"],
                resource_type="Observation",
                version=1,
                status="final",
                code_system="http://loinc.org",
                code="41950-7",
                display="Nombre de pas sur 24 heures",
                value="8000 pas",
                effective=at,
                source_kind="app",
                source_ref="app:pasfit",
                source_name="PasFit",
                recorded_at=at,
                updated_at=at,
                resource="{}",
            )
        )
    session.flush()
    page = get("durand")
    assert page.status_code == 200
    assert "A Rh+" in page.text
    assert "organes : oui" in page.text
