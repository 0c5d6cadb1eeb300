"""Threads between a patient and professionals: who starts, who replies, who reads, what is
counted unread, what the trail records, and who is told (without the content)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor, Mode
from carnet.authorizations import service as authorizations
from carnet.errors import AccessDenied, Conflict, Forbidden, Invalid, NotFound
from carnet.messaging import service
from carnet.messaging.models import Message, Thread
from carnet.notifications.templates import render
from tests.conftest import Cast
from tests.messaging.conftest import SECRET, Start, count, outbox, rows_about

Make = Callable[..., Actor]


def refused(call: Callable[[], object]) -> AccessDenied:
    with pytest.raises(AccessDenied) as raised:
        call()
    return raised.value


def test_a_doctor_starts_a_thread_and_the_patient_sees_it_unread(
    session: Session, cast: Cast, start: Start, patient: Callable[[str], Actor]
) -> None:
    sylvie = patient("sylvie")
    before = {t.id for t in service.list_threads(session, sylvie, cast.patients["sylvie"])}

    sent = start(subject="Résultats de la prise de sang")

    threads = service.list_threads(session, sylvie, cast.patients["sylvie"])
    new = [t for t in threads if t.id not in before]
    assert [(t.subject, t.unread, t.started_by_name) for t in new] == [
        ("Résultats de la prise de sang", 1, "Dr Paul Durand")
    ]
    assert threads[0].id == sent.thread_id  # the most recent first
    assert sent.id == sent.thread_id  # the first message names the thread


def test_reading_a_thread_marks_it_read_for_that_reader_only(
    session: Session, cast: Cast, start: Start, patient: Callable[[str], Actor], pro: Make
) -> None:
    sent = start()
    sylvie = patient("sylvie")

    view = service.read_thread(session, sylvie, sent.thread_id)

    assert [m.unread for m in view.messages] == [True]  # shown as new this once
    again = service.read_thread(session, sylvie, sent.thread_id)
    assert [m.unread for m in again.messages] == [False]
    assert not again.messages[0].mine
    durand_view = service.read_thread(session, pro("durand"), sent.thread_id)
    assert durand_view.messages[0].mine
    assert not durand_view.messages[0].unread


def test_the_patient_replies_and_the_doctor_sees_one_unread(
    session: Session, start: Start, patient: Callable[[str], Actor], pro: Make
) -> None:
    sent = start()
    answer = service.reply(
        session, patient("sylvie"), thread_id=sent.thread_id, body="Merci docteur."
    )

    assert answer.sender_kind == "patient"
    assert answer.in_response_to_id == sent.id
    mine = {t.id: t for t in service.list_my_threads(session, pro("durand"))[0]}
    assert mine[sent.thread_id].unread == 1
    assert mine[sent.thread_id].patient_name == "Sylvie Martin"


def test_a_participant_doctor_replies_in_his_thread(
    session: Session, start: Start, pro: Make
) -> None:
    sent = start()
    again = service.reply(session, pro("durand"), thread_id=sent.thread_id, body="Complément.")
    assert again.sender_kind == "professional"
    assert count(session, Message, thread_id=sent.thread_id) == 2


def test_a_patient_cannot_start_a_thread(
    session: Session, cast: Cast, patient: Callable[[str], Actor]
) -> None:
    denied = refused(
        lambda: service.start_thread(
            session,
            patient("sylvie"),
            patient_id=cast.patients["sylvie"],
            subject="Question",
            body="Bonjour docteur",
        )
    )
    assert isinstance(denied.public, Forbidden)
    assert denied.entry["detail"] == "patient_cannot_start"
    assert denied.entry["resource_type"] == "Communication"


def test_another_authorized_professional_does_not_see_the_thread(
    session: Session, cast: Cast, start: Start, pro: Make
) -> None:
    sent = start()
    petit = pro("petit")  # authorized by Sylvie, but not in this conversation

    denied = refused(lambda: service.read_thread(session, petit, sent.thread_id))
    assert isinstance(denied.public, NotFound)
    denied = refused(
        lambda: service.reply(session, petit, thread_id=sent.thread_id, body="Bonjour")
    )
    assert isinstance(denied.public, NotFound)
    listed = service.list_threads(session, petit, cast.patients["sylvie"])
    assert sent.thread_id not in {t.id for t in listed}


@pytest.mark.parametrize(
    ("name", "overrides", "error", "reason"),
    [
        ("noir", {}, Forbidden, "blocked_by_patient"),
        ("blanc", {}, NotFound, "excluded_actor"),
        ("benali", {}, Forbidden, "no_authorization"),
        (
            "benali",
            {"mode": Mode.EMERGENCY, "reason": "patiente inconsciente"},
            Forbidden,
            "messaging_in_normal_care_only",
        ),
    ],
)
def test_professionals_without_a_standing_authorization_cannot_write(
    session: Session,
    cast: Cast,
    pro: Make,
    name: str,
    overrides: dict[str, object],
    error: type[Exception],
    reason: str,
) -> None:
    denied = refused(
        lambda: service.start_thread(
            session,
            pro(name, **overrides),
            patient_id=cast.patients["sylvie"],
            subject="Bonjour",
            body="Bonjour",
        )
    )
    assert isinstance(denied.public, error)
    assert denied.entry["detail"] == reason
    assert count(session, Thread, started_by_ref=pro(name).ref) == 0


def test_a_revoked_doctor_can_no_longer_read_or_write_his_threads(
    session: Session, cast: Cast, start: Start, pro: Make, holder: Callable[[str], Actor]
) -> None:
    sent = start()
    durand = pro("durand")
    authorizations.revoke(
        session, holder("sylvie"), cast.patients["sylvie"], durand.professional_id
    )

    for call in (
        lambda: service.read_thread(session, durand, sent.thread_id),
        lambda: service.reply(session, durand, thread_id=sent.thread_id, body="Encore moi"),
    ):
        denied = refused(call)
        assert isinstance(denied.public, Forbidden)
        assert denied.entry["detail"] == "no_authorization"
    assert sent.thread_id not in {t.id for t in service.list_my_threads(session, durand)[0]}


def test_a_blocked_doctor_can_no_longer_read_his_threads(
    session: Session, cast: Cast, start: Start, pro: Make, holder: Callable[[str], Actor]
) -> None:
    sent = start(by="petit")
    petit = pro("petit")
    authorizations.block(session, holder("sylvie"), cast.patients["sylvie"], petit.professional_id)

    denied = refused(lambda: service.read_thread(session, petit, sent.thread_id))
    assert denied.entry["detail"] == "blocked_by_patient"
    assert service.list_my_threads(session, petit) == ([], None)


def test_a_closed_record_takes_no_new_message(session: Session, cast: Cast, pro: Make) -> None:
    denied = refused(
        lambda: service.start_thread(
            session, pro("durand"), patient_id=cast.patients["henri"], subject="S", body="B"
        )
    )
    assert isinstance(denied.public, Conflict)


def test_a_thread_of_another_patient_answers_not_found(
    session: Session, start: Start, patient: Callable[[str], Actor], holder: Callable[[str], Actor]
) -> None:
    sent = start()
    for stranger in (holder("jean"), holder("lea")):
        denied = refused(lambda: service.read_thread(session, stranger, sent.thread_id))  # noqa: B023
        assert isinstance(denied.public, NotFound)
    with pytest.raises(NotFound):  # no such thread at all
        service.read_thread(session, patient("sylvie"), uuid.uuid4())


def test_a_representative_reads_and_answers_a_minors_thread_but_not_a_confidential_one(
    session: Session, cast: Cast, start: Start, patient: Callable[[str], Actor]
) -> None:
    sylvie = patient("sylvie")
    shared = start(who="lea", subject="Vaccination")
    secret = start(who="lea", subject="Consultation", hidden_from_representatives=True)

    listed = {t.id for t in service.list_threads(session, sylvie, cast.patients["lea"])}
    assert shared.thread_id in listed
    assert secret.thread_id not in listed
    denied = refused(lambda: service.read_thread(session, sylvie, secret.thread_id))
    assert isinstance(denied.public, NotFound)
    answer = service.reply(session, sylvie, thread_id=shared.thread_id, body="Merci.")
    assert answer.sender_kind == "representative"


def test_every_access_is_audited_as_a_communication(
    session: Session, cast: Cast, start: Start, patient: Callable[[str], Actor]
) -> None:
    sylvie_id = cast.patients["sylvie"]
    sent = start()
    service.read_thread(session, patient("sylvie"), sent.thread_id)
    service.reply(session, patient("sylvie"), thread_id=sent.thread_id, body="Merci")

    started = rows_about(session, sylvie_id, "communication.start")[-1]
    assert (started.outcome, started.resource_type, started.actor_kind) == (
        "allowed",
        "Communication",
        "professional",
    )
    read = rows_about(session, sylvie_id, "communication.read")[-1]
    assert read.resource_id == str(sent.thread_id)
    assert rows_about(session, sylvie_id, "communication.reply")[-1].actor_kind == "patient"
    for row in (started, read):
        assert SECRET not in (row.detail or "")


def test_the_patient_is_told_who_wrote_but_not_what(
    session: Session, cast: Cast, start: Start
) -> None:
    before = len(outbox(session))
    start()
    notices = outbox(session)[before:]
    assert [n.patient_id for n in notices] == [cast.patients["sylvie"]]
    for channel in ("email", "sms"):
        subject, body = render("new_message", notices[0].payload, channel)
        assert "Dr Paul Durand" in body
        assert SECRET not in body
        assert "résultats" not in (subject + body).lower()
    assert SECRET not in str(notices[0].payload)


def test_a_minors_thread_notifies_the_representative_unless_it_is_confidential(
    session: Session, cast: Cast, start: Start
) -> None:
    before = len(outbox(session))
    start(who="lea")
    assert cast.patients["sylvie"] in [n.patient_id for n in outbox(session)[before:]]
    before = len(outbox(session))
    start(who="lea", hidden_from_representatives=True)
    assert cast.patients["sylvie"] not in [n.patient_id for n in outbox(session)[before:]]


def test_no_notice_for_a_patient_who_turned_notifications_off(
    session: Session, cast: Cast, start: Start, patient: Callable[[str], Actor]
) -> None:
    from carnet.accounts.models import Account

    account = session.get(Account, patient("sylvie").account_id)
    assert account is not None
    account.notify_email = account.notify_sms = False
    before = len(outbox(session))
    start()
    assert outbox(session)[before:] == []


def test_the_doctor_is_told_of_a_reply_without_the_patients_name(
    session: Session, start: Start, patient: Callable[[str], Actor], pro: Make
) -> None:
    sent = start()
    before = len(outbox(session))
    service.reply(session, patient("sylvie"), thread_id=sent.thread_id, body=SECRET)
    notices = outbox(session)[before:]
    assert len(notices) == 1
    assert notices[0].account_id is not None
    _, body = render("new_message", notices[0].payload, "email")
    assert "Martin" not in body
    assert SECRET not in body


def test_the_home_page_gets_the_unread_count_and_the_news(
    session: Session, cast: Cast, start: Start, patient: Callable[[str], Actor]
) -> None:
    sylvie = patient("sylvie")
    first = service.unread_for_home(session, sylvie, cast.patients["sylvie"])
    sent = start()
    after = service.unread_for_home(
        session, sylvie, cast.patients["sylvie"], since=clock.now() - timedelta(minutes=1)
    )
    assert after.unread == first.unread + 1
    assert sent.thread_id in {t.id for t in after.threads}
    service.read_thread(session, sylvie, sent.thread_id)
    assert service.unread_for_home(session, sylvie, cast.patients["sylvie"]).unread == first.unread


def test_the_home_lists_the_latest_news_only_and_counts_every_unread_message(
    session: Session,
    cast: Cast,
    start: Start,
    patient: Callable[[str], Actor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "HOME_NEWS", 1)
    sylvie = patient("sylvie")
    before = service.unread_for_home(session, sylvie, cast.patients["sylvie"]).unread
    start()
    latest = start()

    home = service.unread_for_home(session, sylvie, cast.patients["sylvie"])

    assert [t.id for t in home.threads] == [latest.thread_id]  # the newest news only
    assert home.unread == before + 2  # while every unread message counts


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [("", "Bonjour", "subject"), ("Sujet", "   ", "body"), ("x" * 201, "B", "subject")],
)
def test_a_bad_message_names_its_field_and_writes_nothing(
    session: Session, start: Start, subject: str, body: str, field: str
) -> None:
    threads = count(session, Thread)
    with pytest.raises(Invalid) as raised:
        start(subject=subject, body=body)
    assert raised.value.field == field
    assert count(session, Thread) == threads


def test_the_patient_reads_the_messaging_accesses_in_plain_words(
    session: Session, cast: Cast, start: Start
) -> None:
    from carnet.audit.words import describe

    start()
    row = rows_about(session, cast.patients["sylvie"], "communication.start")[-1]
    assert describe(row, "fr").startswith("Dr Paul Durand")
    assert describe(row, "fr").endswith("a écrit un nouveau message.")
    assert describe(row, "en").endswith("wrote a new message.")
