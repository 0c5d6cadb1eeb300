"""The professional's portal asks, for each document added, who sees it (domain.md §1.5: hidden
from professionals? visible to the patient? and, for a minor, to the legal representatives), and
opens a minor's record in a secret connection: what is done in it stays out of what her parents
read, and what is added in it is hidden from them."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.audit.models import AuditEntry
from carnet.authorizations import service as authorizations
from carnet.documents.models import DocumentEntry
from carnet.profile.models import ProfileEntry
from carnet.records import service as records
from tests.conftest import Cast
from tests.portal.conftest import Portal
from tests.portal.pro_driver import TINY_PDF, sign_in_professional


def add(portal: Portal, patient: uuid.UUID, title: str, **answers: str) -> Any:
    return portal.client.post(
        f"/pro/patients/{patient}/ajouter",
        data={"csrf_token": portal.csrf(), "type": "11488-4", "title": title, **answers},
        files={"file": ("cr.pdf", TINY_PDF, "application/pdf")},
        follow_redirects=False,
    )


def added(session: Session, patient: uuid.UUID, title: str) -> list[DocumentEntry]:
    session.expire_all()
    return list(
        session.execute(
            select(DocumentEntry).where(
                DocumentEntry.patient_id == patient, DocumentEntry.title == title
            )
        ).scalars()
    )


def rows(session: Session, patient: uuid.UUID) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry).where(AuditEntry.patient_id == patient)
    return list(session.execute(query.order_by(AuditEntry.seq)).scalars())


def open_secretly(portal: Portal, patient: uuid.UUID) -> None:
    """The professional opens the record in a secret connection from its page's panel."""
    opened = portal.client.post(
        f"/pro/patients/{patient}/secret", data={"csrf_token": portal.csrf()}
    )
    assert opened.status_code == 200, opened.text[:300]  # followed to the record's page


def since(session: Session, patient: uuid.UUID, first: int, action: str) -> list[AuditEntry]:
    """The rows of ``action`` written on the patient's trail after the first ``first``."""
    return [row for row in rows(session, patient)[first:] if row.action == action]


def documents(session: Session, patient: uuid.UUID) -> int:
    session.expire_all()
    query = select(func.count()).select_from(DocumentEntry)
    return int(session.execute(query.where(DocumentEntry.patient_id == patient)).scalar_one())


# --- who sees a document added from the portal --------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "masked", "invisible"),
    [
        ({}, False, False),
        ({"masque_ps": "on"}, True, False),
        ({"invisible_patient": "on"}, False, True),
    ],
    ids=["everyone", "hidden from professionals", "not yet for the patient"],
)
def test_the_form_asks_who_sees_the_document_and_keeps_the_answer(
    portal: Portal,
    session: Session,
    cast: Cast,
    answers: dict[str, str],
    masked: bool,
    invisible: bool,
) -> None:
    sylvie = cast.patients["sylvie"]
    sign_in_professional(portal, session, "durand")
    form = html.unescape(portal.client.get(f"/pro/patients/{sylvie}/ajouter").text)
    assert "Qui le voit" in form
    assert 'name="representatives"' not in form  # an adult: no representatives to ask about

    response = add(portal, sylvie, "CR visibilité", **answers)

    assert response.status_code == 201, response.text[:500]
    (entry,) = added(session, sylvie, "CR visibilité")
    assert (entry.masked_ps, entry.invisible_patient) == (masked, invisible)
    assert not entry.invisible_representatives


def test_hidden_from_professionals_and_not_yet_for_the_patient_is_refused_by_the_fieldset(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    sign_in_professional(portal, session, "durand")
    before = documents(session, sylvie)

    response = add(portal, sylvie, "CR les deux", masque_ps="on", invisible_patient="on")

    assert response.status_code == 400
    body = html.unescape(response.text)
    assert 'id="visibility-error"' in body
    assert "à la fois masqué aux professionnels et invisible pour le patient" in body
    assert documents(session, sylvie) == before


def test_for_a_minor_the_representatives_answer_must_be_given(
    portal: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    form = portal.client.get(f"/pro/patients/{lea}/ajouter").text
    assert 'id="representatives-shown"' in form
    assert 'id="representatives-hidden"' in form
    before = documents(session, lea)

    unanswered = add(portal, lea, "CR sans réponse")
    hidden = add(portal, lea, "CR confidentiel", representatives="hidden")
    shown = add(portal, lea, "CR pour tous", representatives="shown")

    assert unanswered.status_code == 400
    assert "Indiquez si les représentants légaux" in html.unescape(unanswered.text)
    assert documents(session, lea) == before + 2
    assert [e.invisible_representatives for e in added(session, lea, "CR confidentiel")] == [True]
    assert [e.invisible_representatives for e in added(session, lea, "CR pour tous")] == [False]
    assert hidden.status_code == shown.status_code == 201


# --- a secret connection ----------------------------------------------------------------------


def test_a_secret_connection_keeps_what_the_doctor_does_from_the_parents(
    portal: Portal, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    """Dr Durand sees Léa alone: he opens a secret connection, reads her record and adds a
    consultation; her mother's view of the history holds none of it. Once he ends it, his
    next view of the record is an ordinary one again."""
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    page = html.unescape(portal.client.get(f"/pro/patients/{lea}").text)
    assert "Ouvrir une connexion secrète" in page
    first = len(rows(session, lea))

    opened = portal.client.post(
        f"/pro/patients/{lea}/secret", data={"csrf_token": portal.csrf()}, follow_redirects=False
    )
    assert opened.status_code == 303
    inside = html.unescape(portal.client.get(f"/pro/patients/{lea}").text)
    assert 'id="secret-banner"' in inside
    assert "Ouvrir une connexion secrète" not in inside
    form = portal.client.get(f"/pro/patients/{lea}/ajouter").text
    assert 'id="representatives-shown"' not in form  # only "hidden" is offered
    forged = add(portal, lea, "CR visible forcé", representatives="shown")
    assert forged.status_code == 400
    assert 'id="visibility-error"' in forged.text
    assert not added(session, lea, "CR visible forcé")
    assert add(portal, lea, "CR secret", representatives="hidden").status_code == 201

    during = rows(session, lea)[first:]
    assert during
    assert all(row.secret for row in during), [(r.action, r.secret) for r in during]
    assert any(row.detail == "secret connection started" for row in during)
    mother_reads = records.read_trail(session, holder("sylvie"), lea, limit=1000)
    assert not {row.id for row in during} & {row.id for row in mother_reads}

    ended = portal.client.post(
        "/pro/secret/fin", data={"csrf_token": portal.csrf()}, follow_redirects=False
    )
    assert ended.status_code == 303
    assert ended.headers["location"] == "/pro"  # not back to the record: a normal lookup
    after = html.unescape(portal.client.get(f"/pro/patients/{lea}").text)
    assert 'id="secret-banner"' not in after
    again = rows(session, lea)[first + len(during) :]
    assert again
    assert not any(row.secret for row in again)


def test_the_name_in_the_doctors_recent_patients_is_kept_secret_too(
    portal: Portal, session: Session, cast: Cast
) -> None:
    """Showing Léa's name in his list is traced on her record: reached in a secret
    connection, that row is secret as well, or her parents would learn of the visit."""
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    open_secretly(portal, lea)
    portal.client.post("/pro/secret/fin", data={"csrf_token": portal.csrf()})
    before = len(rows(session, lea))

    home = html.unescape(portal.client.get("/pro").text)

    assert "LÉA" in home.upper()
    listed = since(session, lea, before, "patient_list.recent")
    assert listed
    assert all(row.secret for row in listed)


def test_a_secret_connection_is_for_a_minors_record(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    sign_in_professional(portal, session, "durand")
    assert "Ouvrir une connexion secrète" not in html.unescape(
        portal.client.get(f"/pro/patients/{sylvie}").text
    )

    refused = portal.client.post(
        f"/pro/patients/{sylvie}/secret",
        data={"csrf_token": portal.csrf()},
        follow_redirects=False,
    )

    assert refused.status_code == 400
    body = html.unescape(refused.text)
    assert "ne s'ouvre que sur le dossier d'un mineur" in body
    assert 'id="secret-banner"' not in body
    (attempt,) = [
        r for r in rows(session, sylvie) if "secret connection started" in (r.detail or "")
    ]
    assert attempt.outcome == "failed"  # kept on her trail as an attempt that came to nothing
    before = len(rows(session, sylvie))
    portal.client.get(f"/pro/patients/{sylvie}")
    later = rows(session, sylvie)[before:]
    assert later
    assert not any(row.secret for row in later)  # the session holds no secret connection


def test_a_prescription_is_not_saved_in_a_secret_connection(
    portal: Portal, session: Session, cast: Cast
) -> None:
    """A prescription goes to the medical profile, which the representatives see."""
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    open_secretly(portal, lea)

    saved = portal.post(
        f"/pro/patients/{lea}/prescription",
        {"drug": "paracétamol", "dosage": "1 g", "step": "save"},
    )

    assert saved.status_code == 400
    assert "seuls des documents, rendez-vous et messages masqués" in html.unescape(saved.text)
    session.expire_all()
    assert not session.execute(
        select(ProfileEntry).where(
            ProfileEntry.patient_id == lea, ProfileEntry.resource_type == "MedicationRequest"
        )
    ).all()


def test_a_secret_connection_asked_for_at_the_search_is_secret_from_the_first_lookup(
    portal: Portal, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    """Ticked on the search form, the secret connection starts with the lookup itself: her
    mother reads nothing of the visit, not even that Dr Durand opened the record."""
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    first = len(rows(session, lea))

    found = portal.client.post(
        "/pro/recherche",
        data={"csrf_token": portal.csrf(), "ins": "2 11 08 31 555 044 97", "secret": "on"},
        follow_redirects=False,
    )
    page = html.unescape(portal.client.get(found.headers["location"]).text)

    assert found.status_code == 303
    assert 'id="secret-banner"' in page
    visit = rows(session, lea)[first:]
    assert {r.action for r in visit} >= {"lookup", "read", "search"}
    assert all(r.secret for r in visit), [(r.action, r.secret) for r in visit]
    mother_reads = records.read_trail(session, holder("sylvie"), lea, limit=1000)
    assert not {r.id for r in visit} & {r.id for r in mother_reads}


def test_a_secret_connection_asked_for_at_the_search_of_an_adult_is_refused(
    portal: Portal, session: Session
) -> None:
    sign_in_professional(portal, session, "durand")

    refused = portal.client.post(
        "/pro/recherche",
        data={"csrf_token": portal.csrf(), "ins": "2 75 03 31 555 004 25", "secret": "on"},
        follow_redirects=False,
    )

    assert refused.status_code == 400
    body = html.unescape(refused.text)
    assert "ne s'ouvre que sur le dossier d'un mineur" in body
    assert 'id="secret-banner"' not in body


def test_the_conversations_with_the_minor_act_in_the_secret_connection(
    portal: Portal, session: Session, cast: Cast
) -> None:
    """From the messages page too: a conversation her parents would see is refused while the
    session holds a secret connection to her record, a hidden one is started, secretly."""
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    open_secretly(portal, lea)
    assert 'id="secret-banner"' in portal.client.get("/messages").text
    message = {"csrf_token": portal.csrf(), "patient": str(lea), "subject": "RDV", "body": "B"}
    first = len(rows(session, lea))

    seen = portal.client.post("/messages", data=message, follow_redirects=False)
    hidden = portal.client.post(
        "/messages", data={**message, "hidden": "on"}, follow_redirects=False
    )

    assert seen.status_code == 400
    assert "masqué aux représentants légaux" in html.unescape(seen.text)
    assert hidden.status_code == 303
    started = since(session, lea, first, "communication.start")
    assert started
    assert all(r.secret for r in started)
    thread = portal.client.get(hidden.headers["location"])
    assert thread.status_code == 200
    read = since(session, lea, first, "communication.read")
    assert read
    assert all(r.secret for r in read)


def test_inside_a_secret_connection_searching_the_minor_again_stays_secret(
    portal: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    open_secretly(portal, lea)
    first = len(rows(session, lea))

    portal.client.post(
        "/pro/recherche", data={"csrf_token": portal.csrf(), "ins": "2 11 08 31 555 044 97"}
    )
    consent = portal.client.post(
        f"/pro/patients/{lea}/consentement",
        data={"csrf_token": portal.csrf(), "patient_consented": "on"},
        follow_redirects=False,
    )

    lookups = since(session, lea, first, "lookup")
    assert lookups
    assert all(r.secret for r in lookups)
    assert consent.status_code == 303
    declared = [r for r in rows(session, lea)[first:] if r.action.endswith("declare_consent")]
    assert declared
    assert all(r.secret for r in declared)  # the consent form acts in the secret connection


def test_a_minor_seen_in_secret_is_offered_again_in_a_secret_connection_from_the_list(
    portal: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    sign_in_professional(portal, session, "durand")
    open_secretly(portal, lea)
    portal.client.post("/pro/secret/fin", data={"csrf_token": portal.csrf()})

    home = portal.client.get("/pro").text

    assert f'action="/pro/patients/{lea}/secret"' in home
    assert f'action="/pro/patients/{cast.patients["sylvie"]}/secret"' not in home


def test_a_blocked_professional_is_not_told_that_the_patient_is_a_minor(
    portal: Portal, session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    """The representatives' question is asked only of whom may write to the record: a
    professional her mother blocked is refused, not asked it."""
    lea = cast.patients["lea"]
    authorizations.block(session, holder("sylvie"), lea, cast.professionals["noir"])
    session.flush()
    sign_in_professional(portal, session, "noir")
    before = documents(session, lea)

    response = add(portal, lea, "CR")

    assert response.status_code in (403, 404)
    assert "représentants légaux" not in html.unescape(response.text)
    assert documents(session, lea) == before
