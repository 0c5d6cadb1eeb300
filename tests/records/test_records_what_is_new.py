"""The patient's home lists what others did on the record since the last visit: chosen in the
query, so that however many rows the patient's own visits add to the trail, a professional's
access is not pushed out of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor
from carnet.audit import service as audit
from carnet.records import practice
from carnet.records import service as records
from tests.conftest import Cast


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
