"""The professional's portal through the real routes, signed in with password + TOTP: find a
patient by INS, the standing TD0.2 gives, declaring the patient's consent, emergency access with
its banner, reading within the habilitation matrix, adding a document, the prescription check;
and the refusals (blocked, excluded, dentist and advance directives, closed record)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.audit.models import AuditEntry
from carnet.authorizations.models import Authorization
from carnet.documents import service as documents_service
from carnet.documents.models import DocumentEntry
from carnet.profile import fhir as profile_fhir
from carnet.profile import service as profile_service
from carnet.profile.models import ProfileEntry
from carnet.records import service as records_service
from carnet.records.models import Record
from tests.conftest import INS, NIRS, Cast, refused_for_csrf
from tests.portal.conftest import Portal, form_token
from tests.portal.pro_driver import SYLVIE_NIR_TYPED, TINY_PDF, sign_in_professional

REASON = "Patiente inconsciente aux urgences"


def text(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


def trail(session: Session, patient_id: uuid.UUID, **where: object) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry).where(AuditEntry.patient_id == patient_id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(session.execute(query.order_by(AuditEntry.seq)).scalars())


def test_the_patients_documents_come_a_page_at_a_time_to_the_first_one(
    portal: Portal, session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    sylvie = cast.patients["sylvie"]
    sign_in_professional(portal, session, "durand")

    def ids(page: str) -> list[str]:
        return re.findall(rf'href="/pro/patients/{sylvie}/documents/([0-9a-f-]{{36}})"', page)

    monkeypatch.setattr(documents_service, "PAGE", 1000)
    everything = ids(portal.client.get(f"/pro/patients/{sylvie}").text)
    monkeypatch.setattr(documents_service, "PAGE", 3)
    seen: list[str] = []
    url: str | None = f"/pro/patients/{sylvie}"
    while url is not None:
        page = portal.client.get(url).text
        assert 0 < len(ids(page)) <= 3
        seen += ids(page)
        older = re.search(r'href="([^"]+\?page=\d+)#docs-title">Documents plus anciens', page)
        url = html.unescape(older.group(1)) if older else None

    assert len(seen) > 3
    assert len(seen) == len(set(seen))  # no document on two pages
    assert set(seen) == set(everything)  # (each page is grouped by category on its own)
    beyond = portal.client.get(f"/pro/patients/{sylvie}?page={10**18}")
    assert beyond.status_code == 200
    assert "Aucun document plus ancien." in text(beyond)


def test_a_gp_finds_sylvie_by_her_nir_and_reads_her_summary_and_documents(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "durand")
    home = portal.client.get("/")
    assert home.status_code == 200
    assert "Espace professionnel" in home.text
    assert 'for="ins"' in home.text
    found = portal.post("/pro/recherche", {"ins": SYLVIE_NIR_TYPED})
    assert found.status_code == 303
    sylvie = cast.patients["sylvie"]
    assert found.headers["location"] == f"/pro/patients/{sylvie}"
    assert NIRS["sylvie"] not in found.headers["location"]  # no identifier in URLs
    page = portal.client.get(found.headers["location"])
    assert page.status_code == 200
    body = text(page)
    assert "<h1>Sylvie Martin</h1>" in page.text
    assert "Résumé d'urgence" in body
    assert re.search(r"(?i)p[ée]nicilline", body)  # her allergy
    assert "Consultation de psychiatrie" in body  # hidden from others, not from her GP
    assert "Mes directives anticipées" in body
    assert "Pas d'autorisation" not in body
    # the reads are on her trail, in normal mode, under Dr Durand's name
    reads = trail(session, sylvie, actor_name="Dr Paul Durand", outcome="allowed")
    assert {e.action for e in reads} >= {"lookup", "read", "search"}
    assert all(e.mode == "normal" and e.reason is None for e in reads)
    # and she is now among his recent patients
    again = text(portal.client.get("/pro"))
    assert f'href="/pro/patients/{sylvie}"' in again


def test_the_full_ins_form_works_too(portal: Portal, session: Session, cast: Cast) -> None:
    sign_in_professional(portal, session, "durand")
    found = portal.post("/pro/recherche", {"ins": INS.format(NIRS["sylvie"])})
    assert found.headers["location"] == f"/pro/patients/{cast.patients['sylvie']}"


def test_a_malformed_nir_is_shown_next_to_the_field_and_nothing_is_traced(
    portal: Portal, session: Session
) -> None:
    sign_in_professional(portal, session, "durand")
    # the page shown again names his recent patients, traced as such: not the typed number
    searches = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action != "patient_list.recent")
    )
    before = session.execute(searches).scalar_one()
    response = portal.post("/pro/recherche", {"ins": "2 75 03 31 555 004 26"})  # wrong key
    assert response.status_code == 400
    assert 'id="ins-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="2 75 03 31 555 004 26"' in response.text  # kept for correction
    assert "La clé (les 2 derniers chiffres) ne correspond pas" in text(response)
    empty = portal.post("/pro/recherche", {"ins": "  "})
    assert empty.status_code == 400
    assert "Saisissez l'INS ou le NIR du patient." in text(empty)
    session.expire_all()
    after = session.execute(searches).scalar_one()
    assert after == before


def test_an_unknown_person_is_not_found(portal: Portal, session: Session) -> None:
    sign_in_professional(portal, session, "durand")
    response = portal.post("/pro/recherche", {"ins": "1 80 01 75 123 456 60"})
    assert response.status_code == 404
    assert "Aucun dossier" in text(response)


def test_the_search_and_every_form_need_the_csrf_token(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    # Dr Benali (not authorized) for the forms she may use; Dr Durand, her authorized GP, for
    # the prescription and the document forms — so that only the missing token can refuse them.
    for who, forms in (
        (
            "benali",
            (
                ("/pro/recherche", {"ins": SYLVIE_NIR_TYPED}),
                (f"/pro/patients/{sylvie}/urgence", {"reason": REASON}),
                (f"/pro/patients/{sylvie}/consentement", {"patient_consented": "on"}),
                ("/pro/urgence/fin", {}),
            ),
        ),
        (
            "durand",
            (
                (f"/pro/patients/{sylvie}/prescription", {"drug": "amoxicilline"}),
                (f"/pro/patients/{sylvie}/ajouter", {"title": "Compte rendu"}),
            ),
        ),
    ):
        sign_in_professional(portal, session, who)
        for url, data in forms:
            refused = portal.client.post(url, data=data, follow_redirects=False)
            assert refused_for_csrf(refused), url
    assert not trail(session, sylvie, actor_name="Dr Amina Benali", mode="emergency")


def test_the_pages_need_a_signed_in_professional(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    for url in ("/pro", f"/pro/patients/{sylvie}"):
        assert portal.client.get(url, follow_redirects=False).status_code == 303
    portal.sign_in_patient()
    assert portal.client.get("/pro").status_code == 403  # a patient is not a professional
    assert portal.client.get(f"/pro/patients/{sylvie}").status_code == 403


def test_an_unauthorized_doctor_is_offered_consent_or_emergency_access(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    page = portal.client.get(f"/pro/patients/{sylvie}")
    assert page.status_code == 200
    body = text(page)
    assert "ne vous a pas encore autorisé" in body
    assert 'name="patient_consented"' in body
    assert 'name="reason"' in body
    assert "Résumé d'urgence" not in body
    assert "Consultation" not in body  # no document title leaks
    # looking is a lookup, not a refused read
    assert not trail(session, sylvie, actor_name="Dr Amina Benali", outcome="denied")


def test_declaring_consent_needs_the_explicit_tick_then_opens_the_record(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    unticked = portal.post(f"/pro/patients/{sylvie}/consentement", {})
    assert unticked.status_code == 400
    assert 'id="patient_consented-error"' in unticked.text
    assert "doit être confirmé explicitement" in text(unticked)
    session.expire_all()
    row = session.execute(
        select(Authorization).where(
            Authorization.patient_id == sylvie,
            Authorization.professional_id == cast.professionals["benali"],
        )
    ).scalar_one_or_none()
    assert row is None or row.status != "active"  # nothing half-written

    ticked = portal.post(f"/pro/patients/{sylvie}/consentement", {"patient_consented": "on"})
    assert ticked.status_code == 303
    page = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "Résumé d'urgence" in page
    declared = trail(session, sylvie, action="authorization.declare_consent")
    assert declared
    assert declared[-1].actor_name == "Dr Amina Benali"


def test_emergency_access_needs_a_reason(portal: Portal, session: Session, cast: Cast) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    response = portal.post(f"/pro/patients/{sylvie}/urgence", {"reason": "   "})
    assert response.status_code == 400
    assert 'id="reason-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Accès en urgence —" not in response.text  # no banner
    denied = trail(session, sylvie, actor_name="Dr Amina Benali", outcome="denied")
    assert [e.detail for e in denied] == ["emergency_reason_required"]
    # the session did not switch to emergency mode
    assert 'id="emergency-banner"' not in portal.client.get("/pro").text


def test_emergency_access_banner_stays_on_every_page_and_every_read_is_traced(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    started = portal.post(f"/pro/patients/{sylvie}/urgence", {"reason": REASON})
    assert started.status_code == 303
    page = portal.client.get(f"/pro/patients/{sylvie}")
    assert page.status_code == 200
    assert page.headers.get("x-carnet-access-mode") == "emergency"
    body = text(page)
    assert 'id="emergency-banner"' in body
    assert REASON in body
    assert "Résumé d'urgence" in body
    assert "Consultation de psychiatrie" not in body  # hidden by her: not even in emergency
    doc = re.search(rf'href="/pro/patients/{sylvie}/documents/([0-9a-f-]{{36}})"', body)
    assert doc
    for url in ("/pro", "/", f"/pro/patients/{sylvie}/documents/{doc.group(1)}"):
        other = portal.client.get(url)
        assert other.status_code == 200, url
        assert 'id="emergency-banner"' in other.text, url
        assert REASON in text(other), url
    rows = trail(session, sylvie, actor_name="Dr Amina Benali", outcome="allowed")
    emergency = [e for e in rows if e.mode == "emergency"]
    assert {e.action for e in emergency} >= {"read", "search"}
    assert all(e.reason == REASON for e in emergency)
    assert any(e.detail == "emergency access started" for e in emergency)

    ended = portal.post("/pro/urgence/fin", {})
    assert ended.status_code == 303
    after = portal.client.get(f"/pro/patients/{sylvie}")
    assert 'id="emergency-banner"' not in after.text
    assert "Résumé d'urgence" not in text(after)  # back to normal mode: not authorized


def ask_regulation(portal: Portal, patient_id: uuid.UUID, regulation_file: str = "") -> Any:
    """Dr Lefèvre's (or another's) request to open the record in regulator mode."""
    return portal.post(
        f"/pro/patients/{patient_id}/regulation", {"regulation_file": regulation_file}
    )


def oppose_regulator(session: Session, holder: Actor, patient_id: uuid.UUID) -> None:
    """The patient opposes the SAMU regulator's access (their other choice kept)."""
    record = session.get(Record, patient_id)
    assert record is not None
    records_service.set_access_choices(
        session,
        holder,
        patient_id,
        emergency_access_opposed=record.emergency_access_opposed,
        regulator_access_opposed=True,
    )
    session.commit()


def test_the_samu_regulator_opens_a_record_in_regulator_mode_without_a_reason(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "lefevre")
    sylvie = cast.patients["sylvie"]
    before = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "Régulation SAMU" in before
    assert f'action="/pro/patients/{sylvie}/regulation"' in before
    assert "Résumé d'urgence" not in before  # not authorized: nothing shown yet

    started = ask_regulation(portal, sylvie)
    assert started.status_code == 303
    page = portal.client.get(f"/pro/patients/{sylvie}")
    assert page.headers.get("x-carnet-access-mode") == "regulator"
    body = text(page)
    assert "Accès en régulation (SAMU)" in body
    assert "Chaque accès est tracé en mode régulation." in body
    assert "Motif :" not in body  # none was given
    assert "Résumé d'urgence" in body
    rows = trail(session, sylvie, actor_name="Dr Marc Lefèvre", outcome="allowed")
    started_at = [e.detail for e in rows].index("regulator access started")
    since = rows[started_at:]
    assert {e.mode for e in since} == {"regulator"}
    assert {e.action for e in since} >= {"read", "search"}
    assert all(e.reason is None for e in since)

    assert portal.post("/pro/urgence/fin", {}).status_code == 303
    after = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "Accès en régulation (SAMU)" not in after
    assert "Résumé d'urgence" not in after


def test_a_regulation_file_number_is_kept_as_the_reason(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "lefevre")
    lea = cast.patients["lea"]
    posted = ask_regulation(portal, lea, "  DR-2026-1142 ")
    assert posted.status_code == 303
    assert "« DR-2026-1142 »" in text(portal.client.get(f"/pro/patients/{lea}"))
    rows = trail(session, lea, actor_name="Dr Marc Lefèvre", mode="regulator")
    assert rows
    assert {e.reason for e in rows} == {"DR-2026-1142"}


def test_regulator_mode_is_refused_when_the_patient_opposed_it_and_to_other_doctors(
    portal: Portal, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    oppose_regulator(session, holder("sylvie"), sylvie)
    sign_in_professional(portal, session, "lefevre")
    page = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert f'action="/pro/patients/{sylvie}/regulation"' not in page
    assert "Le patient s'est opposé à l'accès du médecin régulateur du SAMU." in page
    refused = ask_regulation(portal, sylvie)
    assert refused.status_code == 403
    assert "Le patient s'est opposé à l'accès du médecin régulateur du SAMU." in text(refused)
    assert 'id="emergency-banner"' not in portal.client.get("/pro").text
    denied = trail(session, sylvie, actor_name="Dr Marc Lefèvre", outcome="denied")
    assert [e.detail for e in denied] == ["regulator_opposed"]


def test_only_a_samu_regulator_is_offered_or_granted_regulator_mode(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    page = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "/regulation" not in page
    refused = ask_regulation(portal, sylvie)
    assert refused.status_code == 403
    assert "Le mode régulation est réservé aux médecins régulateurs du SAMU." in text(refused)
    assert 'id="emergency-banner"' not in portal.client.get("/pro").text
    denied = trail(session, sylvie, actor_name="Dr Amina Benali", outcome="denied")
    assert [e.detail for e in denied] == ["not_a_regulator"]


def test_a_regulation_file_number_too_long_is_said_under_its_own_field(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "lefevre")
    sylvie = cast.patients["sylvie"]
    page = ask_regulation(portal, sylvie, "x" * 301)
    assert page.status_code == 400
    assert 'id="regulation_file-error"' in page.text
    assert 'id="reason-error"' not in page.text  # not under the bris de glace's reason
    assert 'value="' + "x" * 301 + '"' in page.text  # what was typed is kept
    assert 'id="emergency-banner"' not in portal.client.get("/pro").text


def test_a_regulator_access_stops_when_the_patient_opposes_it_meanwhile(
    portal: Portal, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    sign_in_professional(portal, session, "lefevre")
    sylvie = cast.patients["sylvie"]
    assert ask_regulation(portal, sylvie).status_code == 303
    assert "Résumé d'urgence" in text(portal.client.get(f"/pro/patients/{sylvie}"))
    oppose_regulator(session, holder("sylvie"), sylvie)
    page = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "Résumé d'urgence" not in page  # each page decides again
    assert "Le patient s'est opposé à l'accès du médecin régulateur du SAMU." in page


def test_emergency_access_expires(portal: Portal, session: Session, cast: Cast, frozen) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    frozen(start)
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    assert portal.post(f"/pro/patients/{sylvie}/urgence", {"reason": REASON}).status_code == 303
    ttl = portal.settings.emergency_access_ttl_seconds
    step = portal.settings.session_ttl_seconds - 60  # the session itself stays alive
    moment = start
    while moment + timedelta(seconds=step) < start + timedelta(seconds=ttl):
        moment += timedelta(seconds=step)
        frozen(moment)
        assert 'id="emergency-banner"' in portal.client.get("/pro").text
    frozen(start + timedelta(seconds=ttl + 1))
    page = portal.client.get(f"/pro/patients/{sylvie}")
    assert page.status_code == 200  # still signed in: the emergency alone has ended
    assert 'id="emergency-banner"' not in page.text
    assert "Résumé d'urgence" not in text(page)


def test_emergency_access_is_for_that_record_only(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie, lea = cast.patients["sylvie"], cast.patients["lea"]
    assert portal.post(f"/pro/patients/{sylvie}/urgence", {"reason": REASON}).status_code == 303
    other = portal.client.get(f"/pro/patients/{lea}")
    assert 'id="emergency-banner"' in other.text  # the banner says the session is in emergency
    assert "Résumé d'urgence" not in text(other)  # but Léa's record is not opened by it
    lea_doc = (
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == lea, DocumentEntry.current.is_(True)
            )
        )
        .scalars()
        .first()
    )
    assert lea_doc is not None
    for url in (
        f"/pro/patients/{sylvie}/documents/{lea_doc.id}",  # under the record in emergency
        f"/pro/patients/{sylvie}/documents/{lea_doc.id}/content",
    ):
        assert portal.client.get(url).status_code == 404, url
    own = portal.client.get(f"/pro/patients/{lea}/documents/{lea_doc.id}")
    assert own.status_code == 404  # under her own address: not authorized, no emergency (a
    # document reached by its id does not tell that it exists; the refusal is traced)
    assert not trail(session, lea, mode="emergency")


def test_a_blocked_professional_is_refused_without_seeing_anything(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "noir")
    sylvie = cast.patients["sylvie"]
    page = portal.client.get(f"/pro/patients/{sylvie}")
    assert page.status_code == 403
    body = text(page)
    assert "Accès refusé" in body
    assert "Résumé d'urgence" not in body
    assert "Consultation" not in body
    assert 'name="reason"' not in body
    assert 'name="patient_consented"' not in body
    glass = portal.post(f"/pro/patients/{sylvie}/urgence", {"reason": REASON})
    assert glass.status_code == 403
    consent = portal.post(f"/pro/patients/{sylvie}/consentement", {"patient_consented": "on"})
    assert consent.status_code == 403
    entry = (
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == sylvie, DocumentEntry.current.is_(True)
            )
        )
        .scalars()
        .first()
    )
    assert entry is not None
    refused = portal.client.get(f"/pro/patients/{sylvie}/documents/{entry.id}")
    assert refused.status_code == 404  # as for an id that does not exist; traced as refused
    assert entry.title not in text(refused)
    unknown = portal.client.get(f"/pro/patients/{sylvie}/documents/{uuid.uuid4()}")
    assert unknown.status_code == 404
    denied = trail(session, sylvie, actor_name="Dr Éric Noir", outcome="denied")
    assert {e.detail for e in denied} >= {"blocked_by_patient"}
    assert not trail(
        session, sylvie, actor_name="Dr Éric Noir", mode="emergency", outcome="allowed"
    )


def test_an_excluded_occupational_physician_signs_in_but_never_finds_a_record(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "blanc")
    assert portal.client.get("/pro").status_code == 200
    sylvie = cast.patients["sylvie"]
    found = portal.post("/pro/recherche", {"ins": SYLVIE_NIR_TYPED})
    assert found.status_code == 404
    assert "Aucun dossier" in text(found)
    assert portal.client.get(f"/pro/patients/{sylvie}").status_code == 404
    glass = portal.post(f"/pro/patients/{sylvie}/urgence", {"reason": REASON})
    assert glass.status_code == 404
    denied = trail(session, sylvie, actor_name="Dr Henri Blanc")
    assert denied
    assert all(e.outcome == "denied" for e in denied)
    assert {e.detail for e in denied} == {"excluded_actor"}


def test_the_dentist_does_not_see_the_advance_directives(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "roux")
    sylvie = cast.patients["sylvie"]
    page = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "Résumé d'urgence" in page  # she authorized her dentist
    assert "Mes directives anticipées" not in page
    directives = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.patient_id == sylvie,
            DocumentEntry.type_code == "EXPPAT_3",
            DocumentEntry.current.is_(True),
        )
    ).scalar_one()
    url = f"/pro/patients/{sylvie}/documents/{directives.id}"
    assert portal.client.get(url).status_code == 404
    assert portal.client.get(url + "/content").status_code == 404


def test_the_podiatrist_does_not_see_the_childbirth_report(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "petit")
    page = text(portal.client.get(f"/pro/patients/{cast.patients['sylvie']}"))
    assert "Résumé d'urgence" in page
    assert "Compte rendu d'accouchement" not in page


def test_a_closed_record_says_so_and_shows_nothing(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "durand")
    henri = cast.patients["henri"]
    page = portal.client.get(f"/pro/patients/{henri}")
    assert page.status_code == 200
    body = text(page)
    assert "Dossier fermé" in body
    assert "Lettre de liaison" not in body
    assert 'name="reason"' not in body


def test_a_document_opens_in_the_viewer_and_downloads(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "durand")
    sylvie = cast.patients["sylvie"]
    cda = (
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == sylvie,
                DocumentEntry.current.is_(True),
                DocumentEntry.content_type.in_(["text/xml", "application/xml"]),
            )
        )
        .scalars()
        .first()
    )
    assert cda is not None
    page = portal.client.get(f"/pro/patients/{sylvie}/documents/{cda.id}")
    assert page.status_code == 200
    assert "ClinicalDocument" in text(page)  # shown as text in the page
    content = portal.client.get(f"/pro/patients/{sylvie}/documents/{cda.id}/content")
    assert content.headers["content-disposition"].startswith("attachment;")
    shown = portal.client.get(f"/pro/patients/{sylvie}/documents/{cda.id}/content?voir=1")
    assert shown.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in shown.headers["content-security-policy"]
    # a document of another patient is not found under Sylvie's address
    lea_doc = (
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == cast.patients["lea"], DocumentEntry.current.is_(True)
            )
        )
        .scalars()
        .first()
    )
    assert lea_doc is not None
    assert portal.client.get(f"/pro/patients/{sylvie}/documents/{lea_doc.id}").status_code == 404


def _add(
    portal: Portal,
    patient: uuid.UUID,
    type_code: str,
    content: bytes,
    name: str,
    mime: str,
    title: str = "",
) -> object:
    return portal.client.post(
        f"/pro/patients/{patient}/ajouter",
        data={"csrf_token": portal.csrf(), "type": type_code, "title": title},
        files={"file": (name, content, mime)},
        follow_redirects=False,
    )


def count_documents(session: Session, patient: uuid.UUID) -> int:
    session.expire_all()
    return session.execute(
        select(func.count()).select_from(DocumentEntry).where(DocumentEntry.patient_id == patient)
    ).scalar_one()


def test_a_gp_adds_a_document_authored_by_himself(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "durand")
    sylvie = cast.patients["sylvie"]
    form = portal.client.get(f"/pro/patients/{sylvie}/ajouter")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert form_token(form.text)
    assert "EXPPAT_3" not in form.text  # patient types are the patient's
    added = _add(portal, sylvie, "11488-4", TINY_PDF, "cr.pdf", "application/pdf", "CR du jour")
    assert added.status_code == 201  # type: ignore[attr-defined]
    entry = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.patient_id == sylvie, DocumentEntry.title == "CR du jour"
        )
    ).scalar_one()
    assert entry.author_ref == "810000000017"
    assert entry.author_name == "Dr Paul Durand"
    assert entry.class_code != "90"
    assert not entry.patient_authored
    assert entry.content_type == "application/pdf"
    assert entry.submission_id is not None
    page = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "CR du jour" in page
    writes = trail(session, sylvie, action="write", resource_id=str(entry.id))
    assert writes
    assert writes[0].actor_ref == "810000000017"


def test_adding_a_document_refuses_bad_files_and_writes_nothing(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "durand")
    sylvie = cast.patients["sylvie"]
    before = count_documents(session, sylvie)
    cases = [
        ("11488-4", b"", "vide.pdf", "application/pdf", "file", "vide"),
        ("11488-4", b"MZ\x90\x00 not a pdf", "x.pdf", "application/pdf", "file", "PDF"),
        ("11488-4", b"#!/bin/sh", "x.sh", "application/x-sh", "file", "pas accepté"),
        ("NOPE", TINY_PDF, "x.pdf", "application/pdf", "type", "Choisissez le type"),
        ("EXPPAT_3", TINY_PDF, "x.pdf", "application/pdf", "type", "Choisissez le type"),
    ]
    for type_code, content, name, mime, field, words in cases:
        response = _add(portal, sylvie, type_code, content, name, mime)
        assert response.status_code == 400, (name, response.text[:300])  # type: ignore[attr-defined]
        body = text(response)
        assert f'id="{field}-error"' in body, name
        assert words in body, (name, words)
    assert count_documents(session, sylvie) == before


def test_a_recent_same_exam_comes_back_as_a_warning(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "durand")
    sylvie = cast.patients["sylvie"]
    first = _add(portal, sylvie, "11502-2", TINY_PDF, "bio.pdf", "application/pdf", "TSH 1")
    assert first.status_code == 201  # type: ignore[attr-defined]
    second = _add(portal, sylvie, "11502-2", TINY_PDF, "bio.pdf", "application/pdf", "TSH 2")
    assert second.status_code == 201  # type: ignore[attr-defined]
    body = text(second)
    assert "doublon" in body.lower()
    assert "Le même examen a été fait le" in body
    portal.client.cookies.set("carnet_lang", "en")  # the note follows the page's language
    third = text(_add(portal, sylvie, "11502-2", TINY_PDF, "bio.pdf", "application/pdf", "TSH 3"))
    assert "The same exam was done on" in third
    assert "Le même examen" not in third


def test_a_prescription_is_checked_against_her_allergy_before_it_is_saved(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "durand")
    sylvie = cast.patients["sylvie"]

    def prescriptions() -> int:
        session.expire_all()
        return session.execute(
            select(func.count())
            .select_from(ProfileEntry)
            .where(
                ProfileEntry.patient_id == sylvie,
                ProfileEntry.resource_type == "MedicationRequest",
            )
        ).scalar_one()

    before = prescriptions()
    checked = portal.post(f"/pro/patients/{sylvie}/prescription", {"drug": "amoxicilline"})
    assert checked.status_code == 200
    body = text(checked)
    assert "Alertes de sécurité" in body
    assert re.search(r"(?i)p[ée]nicilline", body)
    assert 'name="step" value="save"' in body
    assert prescriptions() == before  # checking saves nothing
    rows_before = {r.id for r in trail(session, sylvie, actor_name="Dr Paul Durand")}
    saved = portal.post(
        f"/pro/patients/{sylvie}/prescription",
        {"drug": "amoxicilline", "dosage": "1 g matin et soir", "step": "save"},
    )
    assert saved.status_code == 201
    assert "enregistrée" in text(saved)
    assert re.search(r"(?i)p[ée]nicilline", text(saved))  # the warnings saved with it
    assert prescriptions() == before + 1
    # one read for the check the warnings rest on, the write, and the page's patient header
    rows = [
        r for r in trail(session, sylvie, actor_name="Dr Paul Durand") if r.id not in rows_before
    ]
    assert sorted((r.action, r.detail or "") for r in rows) == [
        ("lookup", ""),
        ("read", "prescription check"),
        ("write", "MedicationRequest"),
    ]
    empty = portal.post(f"/pro/patients/{sylvie}/prescription", {"drug": " "})
    assert empty.status_code == 400
    assert 'id="drug-error"' in empty.text


def test_the_english_version_is_available(portal: Portal, session: Session, cast: Cast) -> None:
    sign_in_professional(portal, session, "durand")
    page = portal.client.get(f"/pro/patients/{cast.patients['sylvie']}?lang=en")
    assert "Emergency summary" in page.text
    home = portal.client.get("/pro?lang=en").text
    assert "Find a patient" in home
    assert 'href="/messages"' in home  # the professional's messages are one click away


def test_when_the_patient_opposed_emergency_access_only_consent_is_offered(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    record = session.get(Record, sylvie)
    assert record is not None
    record.emergency_access_opposed = True
    session.commit()
    sign_in_professional(portal, session, "benali")
    body = text(portal.client.get(f"/pro/patients/{sylvie}"))
    assert "s'est opposé à l'accès à son dossier en urgence" in body
    assert 'name="reason"' not in body
    assert 'name="patient_consented"' in body
    refused = portal.post(f"/pro/patients/{sylvie}/urgence", {"reason": REASON})
    assert refused.status_code == 403
    assert 'id="emergency-banner"' not in portal.client.get("/pro").text
    denied = trail(session, sylvie, actor_name="Dr Amina Benali", outcome="denied")
    assert [e.detail for e in denied] == ["emergency_opposed"]


def test_a_physician_may_be_declared_medecin_traitant_with_the_consent(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    declared = portal.post(
        f"/pro/patients/{sylvie}/consentement",
        {"patient_consented": "on", "treating_doctor": "on"},
    )
    assert declared.status_code == 303
    session.expire_all()
    row = session.execute(
        select(Authorization).where(
            Authorization.patient_id == sylvie,
            Authorization.professional_id == cast.professionals["benali"],
        )
    ).scalar_one()
    assert row.status == "active"
    assert row.treating_doctor
    assert row.source == "professional_declaration"


def test_an_interaction_with_her_current_treatment_is_shown_and_a_safe_drug_is_not(
    portal: Portal, session: Session, cast: Cast, pro: Callable[..., Actor]
) -> None:
    sylvie = cast.patients["sylvie"]
    # Her treatment as her GP's software records it (the demo's free text names no substance)
    treatment = profile_fhir.parse_resource(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": {"text": "Levothyrox"},
            "subject": {"reference": f"Patient/{sylvie}"},
        },
        "MedicationStatement",
    )
    profile_service.create(session, pro("durand"), sylvie, treatment)
    session.commit()
    sign_in_professional(portal, session, "durand")
    iron = text(portal.post(f"/pro/patients/{sylvie}/prescription", {"drug": "sulfate ferreux"}))
    assert "Alertes de sécurité (1)" in iron
    assert re.search(r"(?i)l[ée]vothyroxine", iron)  # what it interacts with
    assert 'class="warning-interaction"' in iron
    safe = text(portal.post(f"/pro/patients/{sylvie}/prescription", {"drug": "paracétamol"}))
    assert "Aucune alerte" in safe
    assert "Enregistrer la prescription" in safe


def test_an_unauthorized_doctor_cannot_run_the_check_to_learn_her_allergies(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "benali")
    sylvie = cast.patients["sylvie"]
    for step in ("check", "save"):
        refused = portal.post(
            f"/pro/patients/{sylvie}/prescription", {"drug": "amoxicilline", "step": step}
        )
        assert refused.status_code == 403, step
        assert not re.search(r"(?i)p[ée]nicilline", text(refused))
    session.expire_all()
    saved = session.execute(
        select(func.count())
        .select_from(ProfileEntry)
        .where(ProfileEntry.patient_id == sylvie, ProfileEntry.source_ref == "810000000025")
    ).scalar_one()
    assert saved == 0


def test_a_pharmacist_cannot_be_declared_medecin_traitant_and_nothing_is_recorded(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_professional(portal, session, "moreau")
    sylvie = cast.patients["sylvie"]
    page = portal.client.get(f"/pro/patients/{sylvie}").text
    assert 'name="treating_doctor"' not in page  # only offered to physicians
    response = portal.post(
        f"/pro/patients/{sylvie}/consentement",
        {"patient_consented": "on", "treating_doctor": "on"},
    )
    assert response.status_code == 400
    assert "Seul un médecin peut être médecin traitant." in text(response)
    session.expire_all()
    row = session.execute(
        select(Authorization).where(
            Authorization.patient_id == sylvie,
            Authorization.professional_id == cast.professionals["moreau"],
        )
    ).scalar_one_or_none()
    assert row is None or row.status != "active"  # the consent was not half-recorded
