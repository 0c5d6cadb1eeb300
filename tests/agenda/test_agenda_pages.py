"""The patient's agenda page through the real routes: the demo's appointments in French (and
English), adding one, readable in-form errors tied to their field with nothing written, CSRF,
cancelling one she added (not one her doctor booked), and acting for Léa."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor
from carnet.agenda import service
from carnet.agenda.models import LOCAL_TZ, Appointment
from carnet.notifications.models import OutboxMessage
from tests.agenda.conftest import draft
from tests.conftest import Cast, refused_for_csrf
from tests.portal.conftest import Portal, form_token

ADD = {"time": "14:30", "duration": "45", "practitioner": "Dr Vidal", "location": "Clinique"}


def count(session: Session, patient_id: uuid.UUID) -> int:
    return session.execute(
        select(func.count()).select_from(Appointment).where(Appointment.patient_id == patient_id)
    ).scalar_one()


def in_days(days: int) -> str:
    return (clock.now().astimezone(LOCAL_TZ).date() + timedelta(days)).isoformat()


def test_the_agenda_needs_a_signed_in_patient(portal: Portal) -> None:
    response = portal.client.get("/agenda", follow_redirects=False)
    assert response.status_code in (302, 303)


def test_the_agenda_shows_upcoming_and_past_appointments_in_french_and_english(
    signed_in: Portal,
) -> None:
    page = html.unescape(signed_in.client.get("/agenda").text)
    assert "<h1>Agenda</h1>" in page
    assert "Rendez-vous à venir" in page
    assert "Rendez-vous passés" in page
    assert "Dr Sophie Vidal, ophtalmologue" in page  # added by her
    assert "Pris par Dr Paul Durand" in page  # booked by his software
    assert "Annulé" in page  # the dentist she cancelled
    assert "Ajouté par vous" in page
    assert 'aria-current="page"' in page
    assert 'href="/agenda"' in page
    english = html.unescape(signed_in.client.get("/agenda?lang=en").text)
    assert "Upcoming appointments" in english
    assert "Booked by Dr Paul Durand" in english


def test_sylvie_adds_an_appointment_with_its_reminder(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    before = count(session, sylvie)
    done = signed_in.post("/agenda", {**ADD, "date": in_days(10), "description": "Fond d'œil"})
    assert done.status_code == 303
    assert done.headers["location"] == "/agenda?done=added"
    assert count(session, sylvie) == before + 1
    row = session.execute(
        select(Appointment).where(Appointment.description == "Fond d'œil")
    ).scalar_one()
    assert row.source_kind == "patient"
    assert row.practitioner_name == "Dr Vidal"
    assert row.start.astimezone(LOCAL_TZ).strftime("%H:%M") == "14:30"
    assert (row.end - row.start).total_seconds() == 45 * 60
    assert session.get(OutboxMessage, row.reminder_id) is not None
    page = html.unescape(signed_in.client.get(done.headers["location"]).text)
    assert "Le rendez-vous a été ajouté." in page
    assert "Fond d'œil" in page


def test_a_bad_field_is_named_in_the_form_and_nothing_is_written(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    before = count(session, sylvie)
    for data, field, message in (
        ({**ADD, "date": "31/02/2026"}, "date", "Indiquez la date du rendez-vous."),
        ({**ADD, "date": in_days(3), "time": "25:99"}, "time", "Indiquez l'heure du rendez-vous"),
        ({**ADD, "date": in_days(3), "duration": "7"}, "duration", "Choisissez une durée"),
        ({**ADD, "date": in_days(3), "location": "x" * 201}, "location", "Ce texte est trop long"),
        ({**ADD, "date": in_days(4000)}, "date", "La date doit se situer"),
    ):
        answer = signed_in.post("/agenda", data)
        assert answer.status_code == 400, field
        page = html.unescape(answer.text)
        assert message in page
        assert f'id="{field}-error"' in page
        assert re.search(
            rf'id="{field}"[^>]*aria-invalid="true" aria-describedby="{field}-error"', page
        )
        assert 'role="alert"' in page
        assert f'href="#{field}"' in page
        assert f'value="{data.get("practitioner")}"' in page  # what she typed is kept
    assert count(session, sylvie) == before


def test_a_form_without_its_csrf_token_is_refused(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    before = count(session, cast.patients["sylvie"])
    answer = signed_in.client.post(
        "/agenda", data={**ADD, "date": in_days(3), "csrf_token": "forged"}, follow_redirects=False
    )
    assert refused_for_csrf(answer)
    assert count(session, cast.patients["sylvie"]) == before


def test_sylvie_cancels_what_she_added_but_not_what_her_doctor_booked(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    mine = session.execute(
        select(Appointment).where(Appointment.practitioner_name == "Dr Sophie Vidal, ophtalmologue")
    ).scalar_one()
    booked = session.execute(
        select(Appointment).where(
            Appointment.patient_id == cast.patients["sylvie"],
            Appointment.source_kind == "software",
            Appointment.status == "booked",
        )
    ).scalar_one()
    page = signed_in.client.get("/agenda").text
    assert f"/agenda/{mine.id}/annuler" in page
    assert f"/agenda/{booked.id}/annuler" not in page
    done = signed_in.post(f"/agenda/{mine.id}/annuler", {})
    assert done.status_code == 303
    session.refresh(mine)
    assert mine.status == "cancelled"
    refused = signed_in.post(f"/agenda/{booked.id}/annuler", {})
    assert refused.status_code == 403
    assert "demandez-lui de le modifier" in html.unescape(refused.text)
    session.refresh(booked)
    assert booked.status == "booked"


def test_sylvie_manages_leas_agenda_as_her_representative(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    page = html.unescape(signed_in.client.get(f"/agenda?record={lea}").text)
    assert "Vous agissez pour" in page
    assert "Rappel de vaccin" in page
    assert "Dr Sophie Vidal" not in page  # her own agenda is not Léa's
    token = form_token(page)
    assert f'action="/agenda?record={lea}"' in page
    done = signed_in.client.post(
        f"/agenda?record={lea}",
        data={**ADD, "date": in_days(6), "description": "Orthodontiste", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"record={lea}")
    row = session.execute(
        select(Appointment).where(Appointment.description == "Orthodontiste")
    ).scalar_one()
    assert (row.patient_id, row.source_kind) == (lea, "representative")


def test_another_patients_appointment_cannot_be_cancelled_from_the_portal(
    signed_in: Portal, session: Session, cast: Cast, software: Callable[..., Actor]
) -> None:
    jeans = service.create_appointment(
        session,
        software("durand"),
        patient_id=cast.patients["jean"],
        draft=draft(clock.now() + timedelta(days=2)),
    )
    session.commit()
    answer = signed_in.post(f"/agenda/{jeans.id}/annuler", {})
    assert answer.status_code == 404
    session.refresh(jeans)
    assert jeans.status == "booked"


def test_a_closed_record_shows_its_agenda_read_only(
    portal: Portal, session: Session, cast: Cast
) -> None:
    portal.sign_in_patient("henri.lambert@example.org")
    page = html.unescape(portal.client.get("/agenda").text)
    assert "Ce dossier est en lecture seule" in page
    assert 'action="/agenda"' not in page
    henri = cast.patients["henri"]
    before = count(session, henri)
    refused = portal.post("/agenda", {**ADD, "date": in_days(3)})
    assert refused.status_code == 409
    assert count(session, henri) == before
