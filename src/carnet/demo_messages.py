"""Demo data for the messages (personas.md): Dr Durand sends Sylvie her thyroid results, she
replies and his answer waits unread; Dr Roux reminds her of her yearly check-up; Dr
Durand writes about Léa's vaccination (Sylvie, her legal representative, replied) and once to
Léa alone, confidentially, which Sylvie does not see.

Dr Durand's first message carries the results as a PDF attachment, encrypted with Sylvie's key
like her documents."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor, ActorKind
from carnet.accounts.models import Account
from carnet.accounts.service import professional_actor
from carnet.documents.samples import pdf_report
from carnet.messaging import service
from carnet.messaging.fhir import NewAttachment
from carnet.notifications.models import OutboxMessage
from carnet.professionals.models import Structure


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    previous = clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(previous)


def _professional(session: Session, professional: Any) -> Actor:
    structure = session.get(Structure, professional.structure_id)
    return professional_actor(professional, structure)


def _patient(session: Session, patient: Any) -> Actor:
    account = session.execute(select(Account).where(Account.patient_id == patient.id)).scalar_one()
    return Actor(
        kind=ActorKind.PATIENT,
        ref=f"account:{account.id}",
        display_name=patient.display_name,
        account_id=account.id,
        patient_id=patient.id,
    )


def load(session: Session, people: dict[str, Any], pros: dict[str, Any]) -> None:
    """Adds the personas' messages."""
    now = clock.now().replace(second=0, microsecond=0)
    queued_before = set(session.execute(select(OutboxMessage.id)).scalars())
    durand = _professional(session, pros["paul.durand"])
    roux = _professional(session, pros["claire.roux"])
    sylvie = _patient(session, people["sylvie"])
    lea_id = people["lea"].id

    day = now - timedelta(days=12, hours=2)
    with _at(day):
        results = service.start_thread(
            session,
            durand,
            patient_id=people["sylvie"].id,
            subject="Résultats de votre bilan thyroïdien",
            body=(
                "Bonjour Madame Martin,\n\n"
                "Vos résultats sont arrivés : votre TSH est normale, nous gardons donc la même "
                "dose de Levothyrox. Le compte rendu est dans vos documents.\n\n"
                "Bien cordialement,\nDr Paul Durand"
            ),
            attachments=[
                NewAttachment("bilan-thyroidien.pdf", _results_pdf(people["sylvie"], day))
            ],
        )
    with _at(now - timedelta(days=11, hours=5)):
        service.read_thread(session, sylvie, results.thread_id)
        service.reply(
            session,
            sylvie,
            thread_id=results.thread_id,
            body=(
                "Merci docteur. Dois-je refaire une prise de sang avant notre prochain "
                "rendez-vous ?"
            ),
        )
    with _at(now - timedelta(days=2, hours=3)):
        # Dr Durand answers without opening the thread in the portal: his software posted it
        service.reply(
            session,
            durand,
            thread_id=results.thread_id,
            body=(
                "Oui : une TSH seule, dans six mois, au laboratoire de votre choix. "
                "L'ordonnance vous attend au cabinet."
            ),
        )

    with _at(now - timedelta(days=5, hours=1)):
        service.start_thread(
            session,
            roux,
            patient_id=people["sylvie"].id,
            subject="Rappel : votre contrôle dentaire annuel",
            body=(
                "Bonjour,\n\nVotre dernier contrôle date d'un an. Vous pouvez prendre "
                "rendez-vous au cabinet ou en ligne.\n\nDr Claire Roux"
            ),
        )

    with _at(now - timedelta(days=20, hours=4)):
        vaccine = service.start_thread(
            session,
            durand,
            patient_id=lea_id,
            subject="Vaccination de Léa : deuxième dose",
            body=(
                "Bonjour,\n\nLa deuxième dose du vaccin contre les papillomavirus de Léa est à "
                "prévoir ce mois-ci. Pensez à apporter son carnet de santé.\n\nDr Paul Durand"
            ),
        )
    with _at(now - timedelta(days=19, hours=6)):
        service.read_thread(session, sylvie, vaccine.thread_id)
        service.reply(
            session,
            sylvie,
            thread_id=vaccine.thread_id,
            body="Merci, nous prendrons rendez-vous au cabinet la semaine prochaine.",
        )

    with _at(now - timedelta(days=30, hours=3)):
        service.start_thread(
            session,
            durand,
            patient_id=lea_id,
            subject="Suite de ta consultation",
            body=(
                "Bonjour Léa,\n\nComme convenu, voici les coordonnées de la Maison des "
                "adolescents de Toulouse. Ce message n'est pas visible par tes parents.\n\n"
                "Dr Paul Durand"
            ),
            hidden_from_representatives=True,
        )
    _sent_long_ago(session, queued_before)


def _sent_long_ago(session: Session, queued_before: set[Any]) -> None:
    """These messages are history: their notices went out long ago (the outbox starts empty
    of them, so that a demo server does not send a burst of stale notices)."""
    session.flush()
    ours = [
        i for i in session.execute(select(OutboxMessage.id)).scalars() if i not in queued_before
    ]
    if ours:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ours)))
    session.flush()


def _results_pdf(patient: Any, day: datetime) -> bytes:
    return pdf_report(
        title="Bilan thyroïdien",
        patient=patient.display_name.title(),
        born=patient.birth_date.strftime("%d/%m/%Y"),
        author="Dr Paul Durand",
        structure="Cabinet médical des Carmes",
        date=day.strftime("%d/%m/%Y"),
        sections=[("Résultats", ["TSH : 1,8 mUI/L (0,4 – 4,0)", "T4 libre : 14 pmol/L (9 – 19)"])],
    )
