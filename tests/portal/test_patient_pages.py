"""The first patient pages, driven through the real routes: home, documents, history,
authorizations, and the record switcher of a legal representative."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.access import Action, Mode
from carnet.access.gate import authorize
from carnet.authorizations.models import Authorization
from carnet.documents import service as documents_service
from carnet.documents.models import DocumentEntry
from carnet.records.models import Record
from tests.conftest import Cast
from tests.portal.conftest import Portal, form_token

REASON = "Patiente inconsciente aux urgences"


def doc_ids(html: str) -> list[str]:
    return re.findall(r'href="/documents/([0-9a-f-]{36})(?:\?[^"]*)?"', html)


def test_the_pages_need_a_signed_in_patient(portal: Portal) -> None:
    for url in ("/documents", "/historique", "/autorisations"):
        response = portal.client.get(url, follow_redirects=False)
        assert response.status_code in (302, 303, 401), url


def test_home_says_what_is_new_and_links_to_the_other_pages(signed_in: Portal) -> None:
    page = signed_in.client.get("/")
    assert page.status_code == 200
    assert "Votre dossier médical" in page.text
    assert "Nouveaux documents" in page.text
    assert "document(s) en attente chez votre médecin" in page.text  # the scan for Dr Durand
    for link in ('href="/documents"', 'href="/historique"', 'href="/autorisations"'):
        assert link in page.text
    # the agenda and the messages have their part (demo_agenda, demo_messages)
    assert "Prochains rendez-vous" in page.text
    assert "Dr Sophie Vidal" in page.text
    assert "Résultats de votre bilan thyroïdien" in page.text  # Dr Durand's answer, unread
    assert "non lu(s)" in page.text
    assert '<nav aria-label="Votre dossier"' in page.text
    assert "Your health record" in signed_in.client.get("/?lang=en").text


def test_home_counts_only_what_came_after_the_previous_visit(
    signed_in: Portal, session: Session, cast: Cast, pro
) -> None:
    signed_in.client.post("/logout", data={"csrf_token": signed_in.csrf()})
    signed_in.sign_in_patient()  # now previous_sign_in_at is the first visit
    authorize(
        session,
        pro("benali", mode=Mode.EMERGENCY, reason=REASON),
        cast.patients["sylvie"],
        Action.READ,
    )
    session.commit()
    page = signed_in.client.get("/").text
    assert "Nouveautés depuis votre dernière visite" in page
    assert "Nouveaux documents (0)" in page
    assert "Nouveaux accès à votre dossier (1)" in page
    assert "Accès en urgence" in page
    assert "Benali" in page


def test_documents_are_grouped_by_category_with_the_patients_own_marked(
    signed_in: Portal,
) -> None:
    page = html.unescape(signed_in.client.get("/documents").text)
    assert "<h1>Documents</h1>" in page
    assert "Résultats d'examens" in page  # a category label, in French
    assert "Ajouté par vous" in page
    assert "Masqué aux professionnels" in page  # the psychiatry report she hid
    assert len(doc_ids(page)) >= 3


def test_the_documents_page_by_page_reaches_every_document(
    signed_in: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Grouped by category a page at a time (3 here), the newest first: a record of years
    # of documents is read to its first one, not cut silently.
    monkeypatch.setattr(documents_service, "PAGE", 1000)
    everything = set(doc_ids(signed_in.client.get("/documents").text))
    monkeypatch.setattr(documents_service, "PAGE", 3)
    seen: list[str] = []
    url: str | None = "/documents"
    pages = 0
    while url is not None:
        page = signed_in.client.get(url).text
        ids = doc_ids(page)
        assert 0 < len(ids) <= 3
        seen += ids
        older = re.search(r'href="(/documents\?page=\d+)[^"]*">Documents plus anciens', page)
        url = html.unescape(older.group(1)) if older else None
        pages += 1

    assert pages > 1
    assert "Documents plus récents" in page  # the last page links back
    assert len(seen) == len(set(seen))  # no document on two pages
    assert set(seen) == everything


def test_a_page_past_the_last_says_so(signed_in: Portal) -> None:
    for page in ("99999", str(10**18)):  # beyond any record, and beyond the database's integers
        answer = signed_in.client.get(f"/documents?page={page}")
        assert answer.status_code == 200
        assert "Aucun document plus ancien." in html.unescape(answer.text)
        assert doc_ids(answer.text) == []


def test_a_document_shows_its_metadata_and_downloads_decrypted(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    entry = (
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == cast.patients["sylvie"],
                DocumentEntry.current.is_(True),
                DocumentEntry.content_type == "application/pdf",
                DocumentEntry.invisible_patient.is_(False),
            )
        )
        .scalars()
        .first()
    )
    assert entry is not None
    page = signed_in.client.get(f"/documents/{entry.id}")
    assert page.status_code == 200
    assert entry.title in html.unescape(page.text)
    assert "Télécharger" in page.text
    content = signed_in.client.get(f"/documents/{entry.id}/content")
    assert content.status_code == 200
    assert content.headers["content-disposition"].startswith("attachment;")
    assert content.content.startswith(b"%PDF")
    assert len(content.content) == entry.size


def test_a_document_the_patient_may_not_see_is_not_found(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    waiting = (
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == cast.patients["sylvie"],
                DocumentEntry.invisible_patient.is_(True),
                DocumentEntry.current.is_(True),
            )
        )
        .scalars()
        .first()
    )
    assert waiting is not None
    assert signed_in.client.get(f"/documents/{waiting.id}").status_code == 404
    assert signed_in.client.get(f"/documents/{waiting.id}/content").status_code == 404


def test_hiding_and_unhiding_a_document_needs_the_csrf_token(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    page = signed_in.client.get("/documents").text
    first = doc_ids(page)[0]
    viewer = signed_in.client.get(f"/documents/{first}").text
    assert form_token(viewer)
    refused = signed_in.client.post(
        f"/documents/{first}/visibility", data={"hidden": "true"}, follow_redirects=False
    )
    assert refused.status_code == 403
    hidden = signed_in.post(f"/documents/{first}/visibility", {"hidden": "true"})
    assert hidden.status_code == 303
    assert hidden.headers["location"] == "/documents"
    logical = session.get(DocumentEntry, uuid.UUID(first))
    assert logical is not None
    current = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.logical_id == logical.logical_id, DocumentEntry.current.is_(True)
        )
    ).scalar_one()
    assert current.masked_ps
    shown = signed_in.post(f"/documents/{current.id}/visibility", {"hidden": "false"})
    assert shown.status_code == 303
    session.expire_all()
    again = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.logical_id == logical.logical_id, DocumentEntry.current.is_(True)
        )
    ).scalar_one()
    assert not again.masked_ps


def test_history_is_in_plain_words_with_emergency_accesses_flagged(
    signed_in: Portal, session: Session, cast: Cast, pro
) -> None:
    authorize(
        session,
        pro("benali", mode=Mode.EMERGENCY, reason=REASON),
        cast.patients["sylvie"],
        Action.READ,
    )
    session.commit()
    page = signed_in.client.get("/historique").text
    assert "<h1>Historique des accès</h1>" in page
    flagged = re.search(r'<li class="emergency[^"]*">(.*?)</li>', page, re.S)
    assert flagged, "the emergency access carries its own class"
    assert "Accès en urgence" in flagged.group(1)  # in words, not colour alone
    assert "Benali" in flagged.group(1)
    assert REASON in flagged.group(1)
    assert "?lang=en" in page
    assert "Emergency access" in signed_in.client.get("/historique?lang=en").text


def test_history_flags_a_samu_regulators_access_too(
    signed_in: Portal, session: Session, cast: Cast, pro
) -> None:
    authorize(session, pro("lefevre", mode=Mode.REGULATOR), cast.patients["sylvie"], Action.READ)
    session.commit()
    for url in ("/historique", "/"):
        page = html.unescape(signed_in.client.get(url).text)
        flagged = re.search(r'<li class="emergency[^"]*">(.*?)</li>', page, re.S)
        assert flagged, url
        assert "Accès en régulation (SAMU)" in flagged.group(1), url
        assert "Lefèvre" in flagged.group(1), url
        assert "en mode régulation SAMU" in flagged.group(1), url
    english = signed_in.client.get("/historique?lang=en").text
    assert "Regulator access (SAMU)" in english


def test_history_shows_everything_and_can_hide_the_patients_own_consultations(
    signed_in: Portal, session: Session, cast: Cast, pro
) -> None:
    for _ in range(3):  # each visit of hers writes rows of her own
        assert signed_in.client.get("/").status_code == 200
    authorize(session, pro("durand"), cast.patients["sylvie"], Action.READ)
    session.commit()

    def own_reads(page: str) -> int:
        return page.count("Vous avez consulté")

    durand = "Dr Paul Durand (Cabinet médical des Carmes) a consulté votre dossier."
    everything = html.unescape(signed_in.client.get("/historique").text)
    assert own_reads(everything) >= 3  # by default: every row, hers included
    assert durand in everything
    assert 'href="/historique?moi=0"' in everything
    hidden = html.unescape(signed_in.client.get("/historique?moi=0").text)
    assert own_reads(hidden) == 0
    assert durand in hidden
    assert "Vos propres consultations sont masquées." in hidden
    assert 'href="/historique">Tout afficher' in hidden
    older = re.search(r"href=\"/historique\?moi=0&avant=([^\"]+)\"", hidden)
    assert older, "the next page keeps them hidden"


def test_history_pages_from_newest_to_oldest(signed_in: Portal) -> None:
    first = signed_in.client.get("/historique").text
    older = re.search(r'href="/historique\?avant=([^"]+)"', first)
    assert older, "the demo trail is longer than one page"
    assert not older.group(1).isdigit()  # sealed: no place in the chain, no gap to count
    second = signed_in.client.get(f"/historique?avant={older.group(1)}").text
    times = re.findall(r'<time datetime="[^"]+">', second)
    assert times
    assert "Les plus récents" in second
    assert set(re.findall(r'<time datetime="([^"]+)">', first)).isdisjoint(times[1:])
    forged = signed_in.client.get("/historique?avant=120")
    assert forged.status_code == 400


def test_authorizations_list_search_block_and_unblock(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    page = signed_in.client.get("/autorisations").text
    assert "Médecin traitant" in page
    assert "Bloqué" in page
    assert "Autorisé" in page
    found = signed_in.client.get("/autorisations?nom=noir").text
    assert "Éric Noir" in found
    noir = str(cast.professionals["noir"])

    def status() -> str:
        session.expire_all()
        return session.execute(
            select(Authorization.status).where(
                Authorization.patient_id == cast.patients["sylvie"],
                Authorization.professional_id == cast.professionals["noir"],
            )
        ).scalar_one()

    assert status() == "blocked"
    assert (
        signed_in.post("/autorisations", {"professional": noir, "action": "unblock"}).status_code
        == 303
    )
    assert status() == "revoked"
    assert (
        signed_in.post("/autorisations", {"professional": noir, "action": "grant"}).status_code
        == 303
    )
    assert status() == "active"
    assert (
        signed_in.post("/autorisations", {"professional": noir, "action": "block"}).status_code
        == 303
    )
    assert status() == "blocked"
    refused = signed_in.post("/autorisations", {"professional": noir, "action": "grant"})
    assert refused.status_code == 409
    assert "débloquez-le d'abord" in html.unescape(refused.text)


def test_designating_a_treating_doctor_and_the_two_choices(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    benali = str(cast.professionals["benali"])
    assert (
        signed_in.post(
            "/autorisations", {"professional": benali, "action": "designate"}
        ).status_code
        == 303
    )
    row = session.execute(
        select(Authorization).where(
            Authorization.patient_id == cast.patients["sylvie"],
            Authorization.professional_id == cast.professionals["benali"],
        )
    ).scalar_one()
    assert row.treating_doctor
    assert row.status == "active"
    assert signed_in.post("/autorisations/choix", {"emergency_opposed": "on"}).status_code == 303
    session.expire_all()
    record = session.get(Record, cast.patients["sylvie"])
    assert record is not None
    assert record.emergency_access_opposed
    assert not record.regulator_access_opposed
    assert "checked" in signed_in.client.get("/autorisations").text
    assert (
        signed_in.post("/autorisations", {"professional": "x", "action": "grant"}).status_code
        == 400
    )
    assert (
        signed_in.post("/autorisations", {"professional": benali, "action": "x"}).status_code == 400
    )


def test_a_representative_switches_to_the_minors_record_only(signed_in: Portal, cast: Cast) -> None:
    lea = cast.patients["lea"]
    home = signed_in.client.get("/").text
    assert 'name="record"' in home
    assert str(lea) in home
    page = signed_in.client.get(f"/documents?record={lea}").text
    assert "Vous agissez pour" in page
    assert "Léa Martin" in page
    assert f'href="/historique?record={lea}"' in page
    assert f'href="?record={lea}&amp;lang=en"' in page  # switching language keeps the record
    # the secret consultation stays invisible to her legal representative
    assert "secret" not in page.lower()
    # anyone else's id falls back to her own record
    jean = cast.patients["jean"]
    other = signed_in.client.get(f"/documents?record={jean}").text
    assert "Vous agissez pour" not in other
    assert signed_in.client.get(f"/autorisations?record={lea}").status_code == 200


def test_a_parent_reads_the_minors_history_as_the_minors_not_as_their_own(
    signed_in: Portal, session: Session, cast: Cast, pro
) -> None:
    lea = cast.patients["lea"]
    authorize(session, pro("durand"), lea, Action.READ)
    session.commit()
    signed_in.client.get(f"/documents?record={lea}")  # a row of her own for this parent

    page = signed_in.client.get(f"/historique?record={lea}").text
    english = signed_in.client.get(f"/historique?record={lea}&lang=en").text

    assert "a consulté le dossier de Léa" in page
    assert "Vous avez consulté la liste des documents de Léa" in page
    assert "votre dossier" not in page
    assert "read Léa's record" in html.unescape(english)


def test_a_professional_keeps_their_own_home_and_not_the_patient_pages(
    portal: Portal, session: Session
) -> None:
    from tests.accounts.conftest import DURAND
    from tests.accounts.test_professional_sign_in import current_totp

    assert portal.password_step(DURAND).status_code == 303
    assert portal.code_step(current_totp(session, portal.account(DURAND))).status_code == 303
    assert "Espace professionnel" in portal.client.get("/").text
    assert portal.client.get("/documents").status_code == 403
