"""Attachments: PDF, JPEG, PNG or plain text by their magic bytes, within the size limit,
encrypted with the patient's key under the patient's prefix (so the purge shreds them), and
downloadable only by whoever may read the thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.documents import envelope
from carnet.documents.service import blobs_of, patient_data_key
from carnet.errors import AccessDenied, Invalid, NotFound
from carnet.messaging import service
from carnet.messaging.fhir import NewAttachment
from carnet.messaging.models import Attachment, Message, Thread
from carnet.records.service import purge_patient
from carnet.settings import Settings
from tests.conftest import Cast
from tests.documents.fresh_demo import settings_like
from tests.messaging.conftest import PDF, PNG, Start, count, pdf

Make = Callable[..., Actor]
MARKER = b"Hypothyroidie-marker-in-clear"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (PDF + MARKER, "application/pdf"),
        (b"\xff\xd8\xff\xe0" + MARKER, "image/jpeg"),
        (PNG + MARKER, "image/png"),
        ("Résultats : TSH normale.\n".encode() + MARKER, "text/plain"),
    ],
)
def test_allowed_files_are_typed_by_their_bytes_and_stored_encrypted(
    session: Session,
    start: Start,
    patient: Callable[[str], Actor],
    content: bytes,
    content_type: str,
) -> None:
    sent = start(attachments=[NewAttachment(filename="fichier.bin", content=content)])
    (facts,) = sent.attachments
    assert facts.content_type == content_type  # what it is, not what its name says
    row = session.get(Attachment, facts.id)
    assert row is not None
    sealed = blobs_of(session).get(row.blob_key)
    assert MARKER not in sealed  # encrypted at rest
    assert row.blob_key.startswith(f"{sent.patient_id}/")

    found, plain = service.attachment_content(session, patient("sylvie"), sent.id, facts.id)
    assert plain == content
    assert found.filename == "fichier.bin"


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00 an executable",
        b"PK\x03\x04 a zip or an office file",
        b"\x00\x01\x02 binary",
        b"",
    ],
)
def test_other_files_are_refused_and_nothing_is_written(
    session: Session, start: Start, content: bytes
) -> None:
    threads, messages, keys = count(session, Thread), count(session, Message), _keys(session)
    with pytest.raises(Invalid) as raised:
        start(attachments=[NewAttachment(filename="ordonnance.pdf", content=content)])
    assert raised.value.field == "attachment"
    assert (count(session, Thread), count(session, Message)) == (threads, messages)
    assert _keys(session) == keys


@pytest.fixture
def small_limit(session: Session, settings: Settings) -> Iterator[None]:
    session.info["settings"] = settings_like(settings, document_max_bytes=len(PDF) + 10)
    yield
    session.info["settings"] = settings


@pytest.mark.usefixtures("small_limit")
def test_a_file_over_the_size_limit_is_refused(session: Session, start: Start) -> None:
    start(attachments=[pdf(content=PDF)])  # at the limit: fine
    with pytest.raises(Invalid) as raised:
        start(attachments=[pdf(content=PDF + b"x" * 11)])
    assert raised.value.field == "attachment"


def test_at_most_five_attachments(start: Start) -> None:
    with pytest.raises(Invalid):
        start(attachments=[pdf(f"{i}.pdf") for i in range(6)])


def test_file_names_are_cleaned(start: Start) -> None:
    sent = start(attachments=[pdf('../../etc/"passwd"\x07.pdf'), pdf("")])
    assert [a.filename for a in sent.attachments] == ["'passwd'.pdf", "piece-jointe.pdf"]


def test_only_readers_of_the_thread_download_its_attachments(
    session: Session, start: Start, pro: Make, holder: Callable[[str], Actor]
) -> None:
    sent = start(attachments=[pdf()])
    attachment = sent.attachments[0]
    for stranger in (pro("petit"), holder("jean")):
        with pytest.raises(AccessDenied) as raised:
            service.attachment_content(session, stranger, sent.id, attachment.id)
        assert isinstance(raised.value.public, NotFound)
    other = start(body="autre")
    with pytest.raises(NotFound):  # an attachment asked through another message
        service.attachment_content(session, pro("durand"), other.id, attachment.id)


def test_the_purge_shreds_the_attachments_with_the_documents(
    session: Session, start: Start, cast: Cast
) -> None:
    sent = start(attachments=[pdf()])
    row = session.get(Attachment, sent.attachments[0].id)
    assert row is not None
    sylvie = cast.patients["sylvie"]
    # under the prefix the purge deletes once committed (not committed here: the store is
    # shared by the run)
    assert row.blob_key in set(blobs_of(session).iter_keys(f"{sylvie}/"))

    purge_patient(session, sylvie)

    assert count(session, Attachment, patient_id=sylvie) == 0
    assert count(session, Thread, patient_id=sylvie) == 0
    with pytest.raises(envelope.KeyUnavailable):  # the key that sealed it is gone
        patient_data_key(session, sylvie, create=False)


def _keys(session: Session) -> int:
    return len(list(session.execute(select(Attachment.blob_key)).scalars()))
