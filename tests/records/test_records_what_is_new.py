"""The patient's home lists what others did on the record since the last visit: chosen in the
query, so that however many rows the patient's own visits add to the trail, a professional's
access is not pushed out of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor
from carnet.audit import service as audit
from carnet.audit.models import AuditEntry
from carnet.documents import service as documents
from carnet.documents.models import DocumentEntry
from carnet.errors import Invalid
from carnet.records import practice
from carnet.records import service as records
from tests.conftest import Cast, audit_rows, current_documents


def test_a_professionals_access_stays_in_whats_new_after_many_visits_of_the_patient(
    session: Session,
    cast: Cast,
    pro: Callable[..., Actor],
    holder: Callable[[str], Actor],
) -> None:
    sylvie, patient_id = holder("sylvie"), cast.patients["sylvie"]
    since = clock.now() - timedelta(seconds=1)
    practice.open_patient(session, pro("durand"), patient_id)
    for _ in range(210):  # more rows of her own than the home used to read back
        records.read_trail(session, sylvie, patient_id, limit=1)
    audit.write_queued(session)  # each of these was its own request, committed

    news = records.what_is_new(session, sylvie, patient_id, since=since)

    assert news.accesses, "Dr Durand's access was pushed out by the patient's own rows"
    assert {e.actor_ref for e in news.accesses} == {pro("durand").ref}
    assert all(e.recorded_at > since for e in news.accesses)


def test_only_what_happened_after_the_last_visit_is_new(
    session: Session,
    cast: Cast,
    pro: Callable[..., Actor],
    holder: Callable[[str], Actor],
    frozen: Callable[[datetime], None],
) -> None:
    sylvie, patient_id = holder("sylvie"), cast.patients["sylvie"]
    start = clock.now()
    frozen(start)
    practice.open_patient(session, pro("durand"), patient_id)  # before her last visit
    audit.write_queued(session)  # a request of its own, committed
    last_visit = start + timedelta(minutes=1)

    assert records.what_is_new(session, sylvie, patient_id, since=last_visit).accesses == []

    frozen(start + timedelta(minutes=2))
    practice.open_patient(session, pro("roux"), patient_id)  # after it
    audit.write_queued(session)
    news = records.what_is_new(session, sylvie, patient_id, since=last_visit)

    assert news.accesses, "Dr Roux's access, after the last visit, is missing"
    assert {e.actor_ref for e in news.accesses} == {pro("roux").ref}
    assert all(e.recorded_at == start + timedelta(minutes=2) for e in news.accesses)


def rows_about(document: DocumentEntry) -> Callable[[AuditEntry], bool]:
    """Is a trail row about ``document`` (its submission, its writing, an access to it)?"""
    marks = (f"document={document.logical_id}", f"submission={document.submission_id}")

    def about_it(row: AuditEntry) -> bool:
        return row.resource_id == str(document.id) or any(m in (row.detail or "") for m in marks)

    return about_it


def test_a_minors_history_keeps_her_secret_consultation_from_her_parents(
    session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    """Léa's secret consultation is hidden from her legal representatives: in the history her
    mother reads, nothing of it either (its submission naming the midwife, its writing, the
    accesses to it), while the rest of the history stays."""
    lea, sylvie = cast.patients["lea"], holder("sylvie")
    [secret] = current_documents(session, lea, DocumentEntry.invisible_representatives.is_(True))
    about_it = rows_about(secret)

    audit.write_queued(session)
    tied = [row for row in audit_rows(session, AuditEntry.patient_id == lea) if about_it(row)]
    assert {row.action for row in tied} >= {"document.submit", "write"}  # the trail holds them

    shown = records.read_trail(session, sylvie, lea, limit=1000)
    news = records.what_is_new(session, sylvie, lea, since=None)

    assert shown, "the rest of Léa's history is shown to her mother"
    assert not [row for row in shown if about_it(row)]
    assert not [row for row in news.accesses if about_it(row)]


def test_what_concerns_a_document_waiting_for_her_doctor_waits_with_it(
    session: Session,
    cast: Cast,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
) -> None:
    """Sylvie's scan is kept invisible to her until her doctor tells her (INVISIBLE_PATIENT):
    the rows about it (Dr Benali's deposit naming her service) are not in her history yet, so
    that it does not announce the result; once the scan is made visible, they are."""
    patient_id, sylvie = cast.patients["sylvie"], holder("sylvie")
    [scan] = current_documents(session, patient_id, DocumentEntry.invisible_patient.is_(True))
    about_it = rows_about(scan)
    audit.write_queued(session)
    tied = [
        row for row in audit_rows(session, AuditEntry.patient_id == patient_id) if about_it(row)
    ]
    assert {row.action for row in tied} >= {"document.submit", "write"}

    before = records.read_trail(session, sylvie, patient_id, limit=1000)
    news = records.what_is_new(session, sylvie, patient_id, since=None)
    documents.set_patient_visibility(session, pro("durand"), scan.id, True)  # treating doctor
    after = records.read_trail(session, sylvie, patient_id, limit=1000)

    assert before, "the rest of her history is shown"
    assert not [row for row in before if about_it(row)]
    assert not [row for row in news.accesses if about_it(row)]
    assert {row.id for row in tied} <= {row.id for row in after}


def test_once_the_waiting_document_is_deleted_what_concerned_it_shows(
    session: Session,
    cast: Cast,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
) -> None:
    """Deleted by its author before it was made visible, the scan no longer waits for anything:
    the rows about it (its deposit, its deletion) are in her history, as every action is."""
    patient_id, sylvie = cast.patients["sylvie"], holder("sylvie")
    [scan] = current_documents(session, patient_id, DocumentEntry.invisible_patient.is_(True))
    about_it = rows_about(scan)

    documents.delete_document(session, pro("benali"), scan.id)  # its author
    audit.write_queued(session)
    tied = [
        row for row in audit_rows(session, AuditEntry.patient_id == patient_id) if about_it(row)
    ]
    shown = records.read_trail(session, sylvie, patient_id, limit=1000)

    assert {row.action for row in tied} >= {"document.submit", "write"}
    assert {row.id for row in tied} <= {row.id for row in shown}


def test_a_history_cursor_opens_only_the_history_it_was_made_for(
    session: Session, cast: Cast, holder: Callable[[str], Actor]
) -> None:
    """Sealed with the record's id: a cursor of Léa's history does not page Sylvie's."""
    sylvie, lea = cast.patients["sylvie"], cast.patients["lea"]
    mother = holder("sylvie")
    last = records.read_trail(session, mother, lea, limit=3)[-1]
    cursor = records.trail_cursor(session, lea, last)

    older = records.read_trail(session, mother, lea, limit=3, before=cursor)

    assert all(row.seq < last.seq for row in older)
    with pytest.raises(Invalid) as refused:
        records.read_trail(session, mother, sylvie, before=cursor)
    assert refused.value.field == "_cursor"
