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
from carnet.documents import service, uploads
from carnet.documents.models import DocumentEntry
from carnet.documents.pages import UploadForm, keep_once_committed
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


class Steps:
    """What a request did, in order: its sessions' transactions begun and ended, and the file
    sealed (with how many of its transactions were open then)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[str] = []
        self.open: set[int] = set()
        real_seal = service.seal

        def seal(*args: Any, **kwargs: Any) -> Any:
            self.seen.append(f"sealed with {len(self.open)} open")
            return real_seal(*args, **kwargs)

        monkeypatch.setattr(service, "seal", seal)

    def began(self, session: Session, *_args: Any) -> None:
        self.open.add(id(session))
        self.seen.append("began")

    def ended(self, session: Session, transaction: Any) -> None:
        if transaction.parent is None and id(session) in self.open:
            self.open.discard(id(session))
            self.seen.append("ended")

    def __enter__(self) -> Steps:
        event.listen(Session, "after_begin", self.began)
        event.listen(Session, "after_transaction_end", self.ended)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Session, "after_begin", self.began)
        event.remove(Session, "after_transaction_end", self.ended)


def test_the_file_is_stored_outside_any_transaction_and_kept_with_its_document(
    signed_in: Portal, session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sealed and stored while no transaction of the request is open (on SQLite the single
    writer is not held during the encryption and the fsyncs): after the short check of the
    session cookie, before the request's transaction; kept once the document is committed."""
    before = contents(signed_in)
    with Steps(monkeypatch) as steps:
        response = upload(signed_in, "EXPPAT_3", TINY_PDF, title="Scellé avant")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert steps.seen == ["began", "ended", "sealed with 0 open", "began", "ended"]
    entry = session.execute(
        select(DocumentEntry).where(DocumentEntry.title == "Scellé avant")
    ).scalar_one()
    assert contents(signed_in) - before == {entry.blob_key}
    assert signed_in.client.get(f"/documents/{entry.id}/content").content == TINY_PDF


def test_a_refused_file_leaves_no_content_behind(
    signed_in: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sealed first, then refused (a professionals' type): its content goes with the refusal."""
    before = contents(signed_in)
    with Steps(monkeypatch) as steps:
        response = upload(signed_in, "11488-4", TINY_PDF, title="Refusé")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "sealed with 0 open" in steps.seen
    assert contents(signed_in) == before


def test_an_upload_without_a_live_session_is_neither_read_nor_stored(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forged CSRF pair gets past the form's check, not the session's: no work is done for
    a request nobody signed in sent, and the portal asks to sign in."""
    before = contents(portal)
    with Steps(monkeypatch) as steps:
        response = upload(portal, "EXPPAT_3", TINY_PDF, title="Anonyme")
    assert response.status_code in (302, 303)  # type: ignore[attr-defined]
    assert "/login" in response.headers["location"]  # type: ignore[attr-defined]
    assert not [step for step in steps.seen if step.startswith("sealed")]
    assert contents(portal) == before


@pytest.mark.parametrize("committed", [False, True], ids=["commit-fails", "error-after-commit"])
def test_the_file_goes_with_a_failed_commit_and_stays_with_a_committed_document(
    signed_in: Portal,
    session: Session,
    cast: Cast,
    monkeypatch: pytest.MonkeyPatch,
    committed: bool,
) -> None:
    """The document was added, then its transaction fails to commit: no document, no content.
    Or it commits and an error comes after (a cancellation, say): the document keeps it."""
    from carnet.web import deps

    def finish(db: Session, error: BaseException | None) -> None:
        if error is not None:
            return finish_request(db, error)
        if committed:
            finish_request(db, None)
        else:
            db.rollback()
            db.close()
        raise RuntimeError("cut off")

    finish_request = deps.finish_request
    sylvie = cast.patients["sylvie"]
    before, documents = contents(signed_in), documents_of(session, sylvie)
    csrf = signed_in.csrf()
    monkeypatch.setattr(deps, "finish_request", finish)
    with pytest.raises(RuntimeError, match="cut off"):
        signed_in.client.post(
            "/documents/ajouter",
            data={"type": "EXPPAT_3", "title": "Coupé", "csrf_token": csrf},
            files={"file": ("doc.pdf", TINY_PDF, "application/pdf")},
        )
    if not committed:
        assert contents(signed_in) == before
        assert documents_of(session, sylvie) == documents
        return
    entry = session.execute(
        select(DocumentEntry).where(DocumentEntry.title == "Coupé")
    ).scalar_one()
    assert contents(signed_in) - before == {entry.blob_key}


def test_a_file_whose_transaction_was_rolled_back_is_not_kept_by_a_later_commit(
    factory: sessionmaker[Session],
) -> None:
    """A refusal after the route used the file rolls the document back, then commits its
    trail: that commit is not the document's, and the file goes."""
    undone, kept = (UploadForm({}, uploads.Upload("", "", b"")) for _ in range(2))
    with factory() as db:
        keep_once_committed(undone, db)
        db.execute(select(1))
        db.rollback()
        db.execute(select(1))  # the trail
        db.commit()
    with factory() as db:
        keep_once_committed(kept, db)
        db.execute(select(1))
        db.commit()
    assert (undone.kept, kept.kept) == (False, True)
