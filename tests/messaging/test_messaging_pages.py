"""The messaging pages, through the real HTTP routes: Dr Durand writes to Sylvie with an
attachment (multipart form, no JavaScript), Sylvie reads and replies, acts for Léa without
seeing Léa's confidential thread; errors come back in the form, next to their field."""

from __future__ import annotations

import html
import re
import uuid

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.accounts import service as accounts
from carnet.messaging import service
from carnet.messaging.models import Message, Thread
from tests.accounts.conftest import DURAND, Portal
from tests.conftest import NIRS, Cast, refused_for_csrf
from tests.messaging.conftest import PDF, count, rows_about


def sign_in_durand(portal: Portal, session: Session) -> None:
    assert portal.password_step(DURAND).status_code == 303
    secret = accounts.totp_secret(session, portal.account(DURAND))
    assert secret is not None
    assert portal.code_step(pyotp.TOTP(secret).at(clock.now())).status_code == 303


def send(
    portal: Portal,
    url: str,
    data: dict[str, str],
    files: dict[str, tuple[str, bytes, str]] | None = None,
):
    return portal.client.post(
        url,
        data={"csrf_token": portal.csrf(), **data},
        files=files or {"attachment": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )


def thread_id(session: Session, subject: str) -> uuid.UUID:
    return session.execute(select(Thread.id).where(Thread.subject == subject)).scalar_one()


def text(response) -> str:
    return html.unescape(response.text)


def test_the_doctors_inbox_pages_through_his_conversations(
    portal: Portal, session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "THREADS_PAGE", 1)
    sign_in_durand(portal, session)
    for subject in ("Premier", "Second"):
        sent = send(
            portal,
            "/messages",
            {"patient": str(cast.patients["sylvie"]), "subject": subject, "body": "Bonjour"},
        )
        assert sent.status_code == 303, sent.text

    newest = portal.client.get("/messages")
    assert "Second" in text(newest)
    assert "Premier" not in text(newest)
    older = re.search(r'href="(/messages\?avant=[^"]+)"', newest.text)
    assert older, "a link to the older conversations"
    assert "Conversations plus anciennes" in text(newest)

    next_page = portal.client.get(html.unescape(older.group(1)))
    assert next_page.status_code == 200
    assert "Premier" in text(next_page)
    assert "Second" not in text(next_page)
    assert 'href="/messages">Les plus récents' in next_page.text  # back to the newest


def test_a_doctor_writes_to_his_patient_with_an_attachment(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sign_in_durand(portal, session)
    inbox = portal.client.get("/messages")
    assert inbox.status_code == 200
    assert "Résultats de votre bilan thyroïdien" in text(inbox)
    assert f'value="{cast.patients["sylvie"]}"' in inbox.text  # his patients to choose from

    sent = send(
        portal,
        "/messages",
        {
            "patient": str(cast.patients["sylvie"]),
            "subject": "Votre ordonnance",
            "body": "Ci-joint.",
        },
        {"attachment": ("ordonnance.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 303, sent.text
    page = portal.client.get(sent.headers["location"])
    assert "Votre ordonnance" in text(page)
    link = re.search(r'href="(/messages/[^"]+/attachment/[^"]+)"', page.text)
    assert link, "the attachment is linked"
    download = portal.client.get(link.group(1))
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"


def test_a_doctor_finds_the_patient_by_ins(portal: Portal, session: Session) -> None:
    sign_in_durand(portal, session)
    sent = send(
        portal, "/messages", {"ins": NIRS["sylvie"], "subject": "Rendez-vous", "body": "Bonjour"}
    )
    assert sent.status_code == 303, sent.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"ins": "275033155500426", "subject": "S", "body": "B"}, "ins", None),
        (
            {"ins": NIRS["sylvie"], "subject": "", "body": "B"},
            "subject",
            "L'objet est obligatoire.",
        ),
        ({"subject": "S", "body": "B"}, "patient", "Choisissez un patient, ou saisissez son INS."),
        ({"ins": NIRS["sylvie"], "subject": "S", "body": " "}, "body", "Le message est vide."),
    ],
)
def test_bad_input_comes_back_in_the_form_next_to_its_field(
    portal: Portal, session: Session, data: dict[str, str], field: str, message: str | None
) -> None:
    sign_in_durand(portal, session)
    threads = count(session, Thread)
    page = send(portal, "/messages", data)
    assert page.status_code == 400
    assert f'aria-describedby="{field}-error"' in page.text
    assert f'id="{field}-error"' in page.text
    if message:
        assert message in text(page)
    assert 'class="error-summary"' in page.text
    assert count(session, Thread) == threads


def test_a_file_of_another_kind_is_refused_in_the_form(portal: Portal, session: Session) -> None:
    sign_in_durand(portal, session)
    page = send(
        portal,
        "/messages",
        {"ins": NIRS["sylvie"], "subject": "S", "body": "B", "hidden": "on"},
        {"attachment": ("virus.pdf", b"MZ\x90\x00\x03", "application/pdf")},
    )
    assert page.status_code == 400
    assert 'id="attachment-error"' in page.text
    assert "Les pièces jointes doivent être des fichiers PDF" in text(page)
    assert 'name="hidden" checked' in page.text  # what was typed is kept


def test_sylvie_reads_her_messages_and_replies(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    inbox = signed_in.client.get("/messages")
    assert inbox.status_code == 200
    assert "Résultats de votre bilan thyroïdien" in text(inbox)
    assert "non lu(s)" in text(inbox)  # Dr Durand's last answer waits

    thread = thread_id(session, "Résultats de votre bilan thyroïdien")
    page = signed_in.client.get(f"/messages/{thread}")
    assert "votre TSH est normale" in text(page)
    assert 'enctype="multipart/form-data"' in page.text
    messages = count(session, Message, thread_id=thread)
    replied = send(
        signed_in,
        f"/messages/{thread}",
        {"body": "Merci, je prends rendez-vous."},
        {"attachment": ("questions.txt", b"Mes questions", "text/plain")},
    )
    assert replied.status_code == 303
    assert count(session, Message, thread_id=thread) == messages + 1
    after = signed_in.client.get(f"/messages/{thread}")
    assert "Merci, je prends rendez-vous." in text(after)
    assert "questions.txt" in after.text
    assert "non lu" not in row_of(signed_in.client.get("/messages").text, thread)
    assert "non lu" in row_of(inbox.text, thread)  # it was unread before


def row_of(page: str, thread: uuid.UUID) -> str:
    found = re.search(rf'<li[^>]*>\s*<a href="/messages/{thread}".*?</li>', page, re.DOTALL)
    assert found, "the thread is listed"
    return html.unescape(found.group(0))


def test_an_empty_reply_is_refused_next_to_the_field(signed_in: Portal, session: Session) -> None:
    thread = thread_id(session, "Résultats de votre bilan thyroïdien")
    page = send(signed_in, f"/messages/{thread}", {"body": ""})
    assert page.status_code == 400
    assert 'aria-describedby="body-error"' in page.text
    assert "Le message est vide." in text(page)


def test_sylvie_acts_for_lea_but_does_not_see_her_confidential_thread(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    inbox = signed_in.client.get(f"/messages?record={lea}")
    assert "Vaccination de Léa : deuxième dose" in text(inbox)
    assert "Suite de ta consultation" not in text(inbox)
    vaccine = thread_id(session, "Vaccination de Léa : deuxième dose")
    assert f"/messages/{vaccine}?record={lea}" in inbox.text

    confidential = thread_id(session, "Suite de ta consultation")
    before = len(rows_about(session, lea, "communication.read"))
    hidden = signed_in.client.get(f"/messages/{confidential}?record={lea}")
    assert hidden.status_code == 404
    denied = rows_about(session, lea, "communication.read")[before:]
    assert [(d.outcome, d.detail) for d in denied] == [("denied", "no_thread")]


def test_a_patient_has_no_form_to_start_a_thread(signed_in: Portal, cast: Cast) -> None:
    inbox = signed_in.client.get("/messages")
    assert 'method="post" action="/messages"' not in inbox.text
    refused = send(
        signed_in,
        "/messages",
        {"patient": str(cast.patients["sylvie"]), "subject": "S", "body": "B"},
    )
    assert refused.status_code == 403


def test_forms_without_the_csrf_token_are_refused(signed_in: Portal, session: Session) -> None:
    thread = thread_id(session, "Résultats de votre bilan thyroïdien")
    before = count(session, Message, thread_id=thread)
    response = signed_in.client.post(
        f"/messages/{thread}", data={"body": "Bonjour"}, follow_redirects=False
    )
    assert refused_for_csrf(response)
    assert count(session, Message, thread_id=thread) == before


def test_the_pages_are_in_english_on_request(signed_in: Portal, session: Session) -> None:
    thread = thread_id(session, "Résultats de votre bilan thyroïdien")
    page = signed_in.client.get(f"/messages/{thread}?lang=en")
    assert "Your message" in page.text
    assert '<html lang="en">' in page.text
    french = signed_in.client.get(f"/messages/{thread}?lang=fr")
    assert "Votre message" in text(french)
