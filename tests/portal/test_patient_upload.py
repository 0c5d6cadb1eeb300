"""The patient adds her own documents from the documents page (multipart form): class 90 with a
patient type, advance directives included; readable errors next to the field (bad type, too
big, empty, unknown document type) and nothing written; CSRF; a legal representative adds to the
minor's record; the professionals see them within the habilitation matrix."""

from __future__ import annotations

import html
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.app import create_app
from carnet.audit.models import AuditEntry
from carnet.documents import service
from carnet.documents.models import DocumentEntry
from carnet.settings import Settings
from tests.conftest import Cast, FakeSender, refused_for_csrf
from tests.documents.fresh_demo import settings_like
from tests.portal.conftest import Portal
from tests.portal.pro_driver import PNG_BYTES, TINY_PDF, sign_in_professional


def upload(
    portal: Portal,
    type_code: str,
    content: bytes,
    name: str = "doc.pdf",
    mime: str = "application/pdf",
    title: str = "",
    record: str = "",
    csrf: bool = True,
) -> object:
    data = {"type": type_code, "title": title}
    if csrf:
        data["csrf_token"] = portal.csrf()
    url = "/documents/ajouter" + (f"?record={record}" if record else "")
    return portal.client.post(
        url, data=data, files={"file": (name, content, mime)}, follow_redirects=False
    )


def documents_of(session: Session, patient: uuid.UUID) -> int:
    session.expire_all()
    return session.execute(
        select(func.count()).select_from(DocumentEntry).where(DocumentEntry.patient_id == patient)
    ).scalar_one()


def test_the_documents_page_has_the_upload_form(signed_in: Portal) -> None:
    page = html.unescape(signed_in.client.get("/documents").text)
    assert 'enctype="multipart/form-data"' in page
    assert 'action="/documents/ajouter"' in page
    assert '<label for="file">Fichier</label>' in page
    assert "Directives anticipées" in page  # EXPPAT_3 is offered
    assert 'value="11488-4"' not in page  # professionals' types are not


def test_sylvie_adds_her_advance_directives(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    response = upload(signed_in, "EXPPAT_3", TINY_PDF, title="Mes directives 2026")
    assert response.status_code == 303  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    entry = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.patient_id == sylvie, DocumentEntry.title == "Mes directives 2026"
        )
    ).scalar_one()
    assert location == f"/documents/{entry.id}"
    assert entry.class_code == "90"
    assert entry.type_code == "EXPPAT_3"
    assert entry.patient_authored
    assert entry.author_kind == "patient"
    assert not entry.invisible_patient
    assert not entry.masked_ps
    page = html.unescape(signed_in.client.get(location).text)
    assert "Mes directives 2026" in page
    assert "Ajouté par vous" in page
    content = signed_in.client.get(f"{location}/content")
    assert content.content == TINY_PDF
    written = session.execute(
        select(AuditEntry).where(
            AuditEntry.patient_id == sylvie,
            AuditEntry.action == "write",
            AuditEntry.resource_id == str(entry.id),
        )
    ).scalar_one()
    assert written.actor_kind == "patient"


def test_a_text_document_shows_in_the_viewer_and_an_image_as_an_image(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    note = b"Je refuse toute transfusion.\nSylvie"
    added = upload(signed_in, "EXPPAT_1", note, "volontes.txt", "text/plain")
    assert added.status_code == 303  # type: ignore[attr-defined]
    page = signed_in.client.get(added.headers["location"]).text  # type: ignore[attr-defined]
    assert '<pre class="doc-text"' in page
    assert "Je refuse toute transfusion." in html.unescape(page)
    image = upload(signed_in, "DOCPAT04", PNG_BYTES, "radio.png", "image/png")
    assert image.status_code == 303  # type: ignore[attr-defined]
    shown = signed_in.client.get(image.headers["location"]).text  # type: ignore[attr-defined]
    assert '<img class="doc-image"' in shown
    inline = signed_in.client.get(image.headers["location"] + "/content?voir=1")  # type: ignore[attr-defined]
    assert inline.headers["content-disposition"].startswith("inline;")
    assert inline.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("type_code", "content", "name", "mime", "field", "words"),
    [
        ("EXPPAT_3", b"", "vide.pdf", "application/pdf", "file", "Le fichier est vide"),
        ("EXPPAT_3", b"GIF89a....", "x.pdf", "application/pdf", "file", "pas un fichier PDF"),
        ("EXPPAT_3", b"MZ\x90\x00", "setup.exe", "application/x-msdownload", "file", "pas accepté"),
        ("EXPPAT_3", b"\xff\xfe\x00t", "x.txt", "text/plain", "file", "UTF-8"),
        ("11488-4", TINY_PDF, "x.pdf", "application/pdf", "type", "Choisissez le type"),
        ("", TINY_PDF, "x.pdf", "application/pdf", "type", "Choisissez le type"),
    ],
)
def test_bad_uploads_are_refused_next_to_their_field_and_nothing_is_written(
    signed_in: Portal,
    session: Session,
    cast: Cast,
    type_code: str,
    content: bytes,
    name: str,
    mime: str,
    field: str,
    words: str,
) -> None:
    sylvie = cast.patients["sylvie"]
    before = documents_of(session, sylvie)
    response = upload(signed_in, type_code, content, name, mime, title="Essai")
    assert response.status_code == 400  # type: ignore[attr-defined]
    page = html.unescape(response.text)  # type: ignore[attr-defined]
    assert f'id="{field}-error"' in page
    assert words in page
    assert 'aria-invalid="true"' in page
    assert 'value="Essai"' in page  # what she typed is kept
    assert documents_of(session, sylvie) == before


def test_the_upload_needs_the_csrf_token(signed_in: Portal, session: Session, cast: Cast) -> None:
    before = documents_of(session, cast.patients["sylvie"])
    response = upload(signed_in, "EXPPAT_3", TINY_PDF, csrf=False)
    assert refused_for_csrf(response)
    assert documents_of(session, cast.patients["sylvie"]) == before


@pytest.fixture
def small_factory(factory: sessionmaker[Session], settings: Settings) -> sessionmaker[Session]:
    """The test's transaction, with a 1 kB document limit."""
    small = settings_like(settings, document_max_bytes=1000)
    return sessionmaker(
        bind=factory.kw["bind"],
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
        info={**factory.kw["info"], "settings": small},
    )


def test_a_file_over_the_limit_is_refused(
    small_factory: sessionmaker[Session],
    sender: FakeSender,
    settings: Settings,
    session: Session,
    cast: Cast,
) -> None:
    small = small_factory.kw["info"]["settings"]
    app = create_app(
        small, engine=small_factory.kw["bind"].engine, session_factory=small_factory, sender=sender
    )
    with TestClient(app, base_url=settings.base_url) as client:
        portal = Portal(client, small_factory, sender, small, session, settings.demo_password)
        portal.sign_in_patient()
        sylvie = cast.patients["sylvie"]
        before = documents_of(session, sylvie)
        just_over = TINY_PDF + b"%" * (1001 - len(TINY_PDF))
        response = upload(portal, "EXPPAT_3", just_over)
        assert response.status_code == 400  # type: ignore[attr-defined]
        assert 'id="file-error"' in response.text  # type: ignore[attr-defined]
        assert "dépasse la taille" in html.unescape(response.text)  # type: ignore[attr-defined]
        far_over = upload(portal, "EXPPAT_3", TINY_PDF + b"%" * 200_000)
        assert far_over.status_code == 400  # type: ignore[attr-defined]  # refused unread
        assert 'id="file-error"' in far_over.text  # type: ignore[attr-defined]
        assert documents_of(session, sylvie) == before


def test_as_leas_representative_she_adds_to_leas_record(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    lea, sylvie = cast.patients["lea"], cast.patients["sylvie"]
    before = documents_of(session, sylvie)
    response = upload(signed_in, "DOCPAT07", TINY_PDF, title="Certificat sport", record=str(lea))
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"].endswith(f"?record={lea}")  # type: ignore[attr-defined]
    entry = session.execute(
        select(DocumentEntry).where(DocumentEntry.title == "Certificat sport")
    ).scalar_one()
    assert entry.patient_id == lea
    assert documents_of(session, sylvie) == before


def test_professionals_see_her_directives_within_the_matrix(
    portal: Portal, session: Session, cast: Cast
) -> None:
    portal.sign_in_patient()
    assert upload(portal, "EXPPAT_3", TINY_PDF, title="Directives signées").status_code == 303  # type: ignore[attr-defined]
    portal.client.post("/logout", data={"csrf_token": portal.csrf()})
    sylvie = cast.patients["sylvie"]
    sign_in_professional(portal, session, "durand")
    assert "Directives signées" in html.unescape(portal.client.get(f"/pro/patients/{sylvie}").text)
    portal.client.post("/logout", data={"csrf_token": portal.csrf()})
    sign_in_professional(portal, session, "roux")
    dentist = html.unescape(portal.client.get(f"/pro/patients/{sylvie}").text)
    assert "Résumé d'urgence" in dentist
    assert "Directives signées" not in dentist


# --- the file is sealed before the transaction, and never left without its document ----------


def contents(portal: Portal) -> set[str]:
    return set(portal.factory.kw["info"]["blobs"].iter_keys())


def test_the_file_is_stored_before_the_transaction_and_kept_with_its_document(
    signed_in: Portal, session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sealed and stored before the request's first statement (on SQLite the single writer is
    not held during the encryption and the fsyncs), and kept once the document is committed."""
    steps: list[str] = []
    real_seal = service.seal

    def seal(*args: Any, **kwargs: Any) -> Any:
        steps.append("sealed")
        return real_seal(*args, **kwargs)

    def before_statement(*_args: Any) -> None:
        if not steps or steps[-1] != "statement":
            steps.append("statement")

    monkeypatch.setattr(service, "seal", seal)
    before = contents(signed_in)
    engine = signed_in.factory.kw["bind"].engine
    event.listen(engine, "before_cursor_execute", before_statement)
    try:
        response = upload(signed_in, "EXPPAT_3", TINY_PDF, title="Scellé avant")
    finally:
        event.remove(engine, "before_cursor_execute", before_statement)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert steps[:2] == ["sealed", "statement"]
    entry = session.execute(
        select(DocumentEntry).where(DocumentEntry.title == "Scellé avant")
    ).scalar_one()
    assert contents(signed_in) - before == {entry.blob_key}
    assert signed_in.client.get(f"/documents/{entry.id}/content").content == TINY_PDF


def test_a_refused_file_leaves_no_content_behind(signed_in: Portal) -> None:
    """Sealed first, then refused (a professionals' type): its content goes with the refusal."""
    before = contents(signed_in)
    response = upload(signed_in, "11488-4", TINY_PDF, title="Refusé")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert contents(signed_in) == before


def test_a_failed_commit_leaves_no_content_behind(
    signed_in: Portal, session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The document was added, but its transaction fails to commit: no document, no content."""
    from carnet.web import deps

    def commit_fails(db: Session, error: BaseException | None) -> None:
        if error is not None:
            return finish_request(db, error)
        db.rollback()
        db.close()
        raise RuntimeError("the disk is full")

    finish_request = deps.finish_request
    sylvie = cast.patients["sylvie"]
    before, documents = contents(signed_in), documents_of(session, sylvie)
    csrf = signed_in.csrf()
    monkeypatch.setattr(deps, "finish_request", commit_fails)
    with pytest.raises(RuntimeError, match="disk is full"):
        signed_in.client.post(
            "/documents/ajouter",
            data={"type": "EXPPAT_3", "title": "Perdu", "csrf_token": csrf},
            files={"file": ("doc.pdf", TINY_PDF, "application/pdf")},
        )
    assert contents(signed_in) == before
    assert documents_of(session, sylvie) == documents
