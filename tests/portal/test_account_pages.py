"""The account pages, driven through the real routes: activation with the code of the insurer's
letter (Jean), opposition during the opt-out window, the settings (notices, sign-in code,
language), closing and reopening a record (Henri, Sylvie), with the errors named in the form,
nothing half-written, CSRF, and a legal representative acting for a minor."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor, ActorKind
from carnet.accounts.models import Account
from carnet.audit.models import AuditEntry
from carnet.errors import AccessDenied, NotFound
from carnet.patients.models import LegalRepresentative
from carnet.records import service as records
from carnet.records.models import ActivationCode, Record, RecordStatus
from tests.conftest import NIRS, OPERATOR, Cast, refused_for_csrf
from tests.portal.conftest import Portal

JEAN = "jean.dupont@example.org"
STRONG = "un-mot-de-passe-2026"


def plain(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def letter_code(session: Session, patient_id: uuid.UUID) -> str:
    code = records.issue_activation_code(session, OPERATOR, patient_id)
    session.commit()
    return code


def record_of(session: Session, patient_id: uuid.UUID) -> Record:
    session.expire_all()
    record = session.get(Record, patient_id)
    assert record is not None
    return record


def accounts_of(session: Session, patient_id: uuid.UUID) -> int:
    session.expire_all()
    return session.execute(
        select(func.count()).select_from(Account).where(Account.patient_id == patient_id)
    ).scalar_one()


def activation(code: str, **overrides: str) -> dict[str, str]:
    return {
        "nir": "1 68 07 31 555 123 72",
        "birth_date": "1968-07-15",
        "code": code,
        "login": JEAN,
        "password": STRONG,
        "password_again": STRONG,
        **overrides,
    }


def jean_birth(session: Session, cast: Cast) -> str:
    from carnet.patients.models import Patient

    patient = session.get(Patient, cast.patients["jean"])
    assert patient is not None
    return patient.birth_date.isoformat()


def test_the_sign_in_page_links_to_activation_and_opposition(portal: Portal) -> None:
    page = portal.client.get("/login").text
    assert 'href="/activation"' in page
    assert 'href="/opposition"' in page
    assert "Activer votre dossier" in page


def test_jean_activates_his_record_with_the_letters_code_and_signs_in(
    portal: Portal, session: Session, cast: Cast
) -> None:
    jean = cast.patients["jean"]
    form = portal.client.get("/activation")
    assert form.status_code == 200
    assert '<label for="nir">Numéro de sécurité sociale' in form.text
    code = letter_code(session, jean)
    done = portal.post("/activation", activation(code, birth_date=jean_birth(session, cast)))
    assert done.status_code == 200, plain(done.text)
    assert "Votre dossier est activé et votre compte est créé." in done.text
    record = record_of(session, jean)
    assert record.status == "open"
    assert record.activated_at is not None
    assert accounts_of(session, jean) == 1
    assert portal.password_step(JEAN, password=STRONG).status_code == 303
    assert portal.code_step(portal.code_sent_to(JEAN)).status_code == 303
    home = portal.client.get("/")
    assert home.status_code == 200
    assert "Votre dossier médical" in home.text


def test_activation_errors_name_the_field_and_write_nothing(
    portal: Portal, session: Session, cast: Cast
) -> None:
    jean = cast.patients["jean"]
    code = letter_code(session, jean)
    born = jean_birth(session, cast)
    cases = [
        ({"nir": "1 68 07 31 555 123 00"}, "nir", "n'est pas valide"),
        ({"nir": ""}, "nir", "Indiquez votre numéro de sécurité sociale"),
        ({"birth_date": "31/02/1968"}, "birth_date", "JJ/MM/AAAA"),
        ({"code": ""}, "code", "Indiquez le code de votre courrier"),
        ({"login": "jean"}, "login", "adresse e-mail"),
        ({"password": "court1", "password_again": "court1"}, "password", "12 caractères"),
        ({"password_again": "autre-chose-2026"}, "password_again", "sont différents"),
        ({"login": "sylvie.martin@example.org"}, "login", "déjà utilisé"),
    ]
    for overrides, field, message in cases:
        response = portal.post("/activation", {**activation(code, birth_date=born), **overrides})
        assert response.status_code in (400, 409), (field, response.status_code)
        text = html.unescape(response.text)
        assert f'id="{field}-error"' in text, field
        assert re.search(f'aria-describedby="{field}-error[ "]', text), field
        assert f'href="#{field}"' in text, field  # the summary leads to the field
        assert message in text, (field, message)
        assert 'role="alert"' in text
        assert code not in text  # the code is never shown back
    assert record_of(session, jean).status == "pending"
    assert accounts_of(session, jean) == 0
    # the code is still good: none of those spent it
    ok = portal.post("/activation", activation(code, birth_date=born))
    assert ok.status_code == 200
    assert "Votre dossier est activé" in ok.text


def test_a_wrong_code_counts_and_locks_without_activating(
    portal: Portal, session: Session, cast: Cast
) -> None:
    jean = cast.patients["jean"]
    code = letter_code(session, jean)
    born = jean_birth(session, cast)
    wrong = portal.post("/activation", activation("ZZZZ-ZZZZ", birth_date=born))
    assert wrong.status_code == 400
    assert "Le code d'activation n'est pas valable pour cette personne." in html.unescape(
        wrong.text
    )
    session.expire_all()
    stored = (
        session.execute(
            select(ActivationCode)
            .where(ActivationCode.patient_id == jean, ActivationCode.used_at.is_(None))
            .order_by(ActivationCode.created_at.desc())
        )
        .scalars()
        .first()
    )
    assert stored is not None
    assert stored.failed_attempts == 1
    for _ in range(10):
        last = portal.post("/activation", activation("ZZZZ-ZZZZ", birth_date=born))
        if last.status_code == 429:
            break
    assert last.status_code == 429
    locked = portal.post("/activation", activation(code, birth_date=born))
    assert locked.status_code == 429  # even the right code: ask for a new one
    assert record_of(session, jean).status == "pending"
    assert accounts_of(session, jean) == 0


def test_the_activation_form_needs_its_csrf_token(
    portal: Portal, session: Session, cast: Cast
) -> None:
    code = letter_code(session, cast.patients["jean"])
    portal.csrf()
    refused = portal.client.post(
        "/activation",
        data={**activation(code, birth_date=jean_birth(session, cast)), "csrf_token": "forged"},
    )
    assert refused.status_code == 403
    assert record_of(session, cast.patients["jean"]).status == "pending"


def test_opposition_during_the_window_and_refused_after_it(
    portal: Portal, session: Session, cast: Cast, frozen
) -> None:
    jean = cast.patients["jean"]
    born = jean_birth(session, cast)
    # Jean's window ended long ago (2022): a fresh automatic creation gives a new window
    record = record_of(session, jean)
    record.opens_at = clock.now() + timedelta(days=42)
    session.commit()
    code = letter_code(session, jean)
    page = portal.client.get("/opposition")
    assert "6 semaines" in page.text
    bad = portal.post("/opposition", {"nir": NIRS["jean"], "birth_date": "", "code": code})
    assert bad.status_code == 400
    assert 'id="birth_date-error"' in bad.text
    done = portal.post("/opposition", {"nir": NIRS["jean"], "birth_date": born, "code": code})
    assert done.status_code == 200, plain(done.text)
    assert "Votre opposition est enregistrée" in html.unescape(done.text)
    assert record_of(session, jean).status == "opposed"


def test_opposition_after_the_window_is_refused_in_the_form(
    portal: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    code = letter_code(session, sylvie)
    refused = portal.post(
        "/opposition", {"nir": NIRS["sylvie"], "birth_date": "1975-03-12", "code": code}
    )
    assert refused.status_code in (400, 409)
    assert record_of(session, sylvie).status == "open"


def test_sylvie_changes_her_notices_code_channel_and_language(
    signed_in: Portal, session: Session
) -> None:
    page = signed_in.client.get("/parametres")
    assert page.status_code == 200
    assert "<h1>Paramètres</h1>" in page.text
    assert "•••• 01" in page.text  # her mobile, masked
    saved = signed_in.post(
        "/parametres",
        {"notify_email": "on", "notify_sms": "on", "otp_channel": "sms", "locale": "en"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/parametres?enregistre=1"
    account = signed_in.account()
    assert (account.notify_email, account.notify_sms, account.otp_channel, account.locale) == (
        True,
        True,
        "sms",
        "en",
    )
    after = signed_in.client.get("/parametres?enregistre=1")
    assert "Your settings are saved." in after.text  # the language follows her choice
    signed_in.client.post("/logout", data={"csrf_token": signed_in.csrf()})
    signed_in.client.cookies.delete("carnet_lang")
    assert signed_in.password_step().status_code == 303
    code = signed_in.code_sent_to("+33600000001")  # the code now comes by SMS
    assert signed_in.code_step(code).status_code == 303
    assert "Your health record" in signed_in.client.get("/").text  # her choice at sign-in
    session.expire_all()
    assert (
        session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "account.preferences")
        ).scalar_one()
        >= 1
    )


def test_a_channel_without_contact_is_refused_in_the_form(portal: Portal, session: Session) -> None:
    portal.sign_in_patient("henri.lambert@example.org")  # Henri has no mobile number
    refused = portal.post(
        "/parametres", {"notify_email": "on", "otp_channel": "sms", "locale": "fr"}
    )
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert 'id="otp_channel-error"' in text
    assert "Aucun numéro de mobile" in text
    assert portal.account("henri.lambert@example.org").otp_channel == "email"
    bad = portal.post("/parametres", {"otp_channel": "pigeon", "locale": "fr"})
    assert bad.status_code == 400
    assert "Choisissez l'e-mail ou le SMS." in html.unescape(bad.text)


def test_settings_need_the_csrf_token(signed_in: Portal) -> None:
    refused = signed_in.client.post(
        "/parametres", data={"otp_channel": "sms", "locale": "en", "csrf_token": "x"}
    )
    assert refused_for_csrf(refused)
    assert signed_in.account().otp_channel == "email"


def test_closing_needs_the_confirmation_and_explains_the_retention(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    page = html.unescape(signed_in.client.get("/parametres/fermeture").text)
    assert "10 ans" in page
    assert "lecture seule" in page
    refused = signed_in.post("/parametres/fermeture", {"comment": "test"})
    assert refused.status_code == 400
    assert 'id="confirm-error"' in refused.text
    half = signed_in.post("/parametres/fermeture", {"confirm": "on", "delete_now": "on"})
    assert half.status_code == 400
    assert 'id="delete_confirm-error"' in half.text
    assert record_of(session, sylvie).status == "open"

    closed = signed_in.post("/parametres/fermeture", {"confirm": "on", "comment": "Je déménage"})
    assert closed.status_code == 303
    record = record_of(session, sylvie)
    assert record.status == "closed"
    assert record.closure_comment == "Je déménage"
    assert record.retention_until is not None
    assert record.closed_at is not None
    assert record.retention_until.year == record.closed_at.year + 10
    settings = plain(signed_in.client.get("/parametres").text)
    assert "Ce dossier est fermé depuis le" in settings
    assert "Rouvrir le dossier" in settings
    profile = signed_in.client.get("/profil")
    assert "Ce dossier est fermé" in html.unescape(profile.text)
    assert "Ajouter une allergie" not in html.unescape(profile.text)  # read-only
    refused_write = signed_in.post("/profil/allergies", {"name": "Latex"})
    assert refused_write.status_code == 409

    no_consent = signed_in.post("/parametres/reactivation", {})
    assert no_consent.status_code == 400
    assert 'id="patient_consented-error"' in no_consent.text
    assert record_of(session, sylvie).status == "closed"
    reopened = signed_in.post("/parametres/reactivation", {"patient_consented": "on"})
    assert reopened.status_code == 303
    assert record_of(session, sylvie).status == "open"


def test_henri_reopens_his_closed_record(portal: Portal, session: Session, cast: Cast) -> None:
    portal.sign_in_patient("henri.lambert@example.org")
    page = plain(portal.client.get("/parametres").text)
    assert "Ce dossier est fermé depuis le 02/05/2024" in page
    assert "jusqu'au 02/05/2034" in page
    assert portal.post("/parametres/reactivation", {"patient_consented": "on"}).status_code == 303
    assert record_of(session, cast.patients["henri"]).status == "open"
    assert "Le dossier est ouvert." in plain(portal.client.get("/parametres").text)


def test_a_representative_closes_the_minors_record_not_her_own(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    page = signed_in.client.get(f"/parametres?record={lea}")
    assert "Vous agissez pour" in page.text
    assert f'href="/parametres/fermeture?record={lea}"' in page.text
    done = signed_in.post(f"/parametres/fermeture?record={lea}", {"confirm": "on"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/parametres?record={lea}"
    assert record_of(session, lea).status == "closed"
    assert record_of(session, cast.patients["sylvie"]).status == "open"


def test_settings_pages_need_a_signed_in_patient(portal: Portal) -> None:
    for url in ("/parametres", "/parametres/fermeture"):
        response = portal.client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def record_reads(session: Session, patient_id: uuid.UUID) -> list[AuditEntry]:
    session.expire_all()
    return list(
        session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.patient_id == patient_id,
                AuditEntry.action == "read",
                AuditEntry.resource_type == "Record",
            )
            .order_by(AuditEntry.seq)
        ).scalars()
    )


def test_the_settings_read_the_record_state_through_the_gate_and_on_the_trail(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie, lea = cast.patients["sylvie"], cast.patients["lea"]
    assert "Le dossier est ouvert." in plain(signed_in.client.get("/parametres").text)
    assert [(r.actor_kind, r.outcome) for r in record_reads(session, sylvie)] == [
        ("patient", "allowed")
    ]

    page = signed_in.client.get(f"/parametres?record={lea}")
    assert "Le dossier est ouvert." in plain(page.text)
    assert [(r.actor_kind, r.outcome) for r in record_reads(session, lea)] == [
        ("representative", "allowed")
    ]


def end_representation(session: Session, cast: Cast) -> None:
    link = session.execute(
        select(LegalRepresentative).where(
            LegalRepresentative.patient_id == cast.patients["lea"],
            LegalRepresentative.representative_id == cast.patients["sylvie"],
        )
    ).scalar_one()
    link.ended_at = clock.now()
    session.commit()


def test_a_representative_who_no_longer_represents_gets_nothing_of_the_record(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie, lea = cast.patients["sylvie"], cast.patients["lea"]
    end_representation(session, cast)

    page = plain(signed_in.client.get(f"/parametres?record={lea}").text)

    assert "Vous agissez pour" not in page  # her own settings and record, not Léa's
    assert "Léa" not in page
    assert record_reads(session, lea) == []
    actor = Actor(kind=ActorKind.PATIENT, ref="account:sylvie", patient_id=sylvie)
    with pytest.raises(AccessDenied) as refused:
        records.record_state(session, actor, lea)
    assert isinstance(refused.value.public, NotFound)
    assert refused.value.entry["detail"] == "not_holder"


def test_a_child_without_a_record_is_not_offered_to_switch_to(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    offered = signed_in.client.get("/").text
    assert str(lea) in offered  # her record exists: her mother may switch to it
    record = session.get(Record, lea)
    assert record is not None
    record.status = RecordStatus.OPPOSED.value  # as if she had no record
    session.commit()

    home = signed_in.client.get("/").text
    settings = signed_in.client.get(f"/parametres?record={lea}")

    assert str(lea) not in home
    assert settings.status_code == 200  # her mother's own settings, not a "not found"
    assert "Vous agissez pour" not in plain(settings.text)


def test_the_record_state_is_refused_to_whoever_has_no_right_on_it(
    session: Session, cast: Cast, pro: Callable[..., Actor], frozen: Callable[[datetime], None]
) -> None:
    henri = Actor(kind=ActorKind.PATIENT, ref="account:henri", patient_id=cast.patients["henri"])
    sylvie = Actor(kind=ActorKind.PATIENT, ref="account:sylvie", patient_id=cast.patients["sylvie"])
    frozen(datetime(2029, 8, 21, 9, 0, tzinfo=UTC))  # Léa is 18: her mother no longer acts for her
    cases = ((henri, "sylvie"), (sylvie, "lea"), (pro("benali"), "sylvie"), (pro("blanc"), "lea"))
    for actor, whose in cases:
        with pytest.raises(AccessDenied) as refused:
            records.record_state(session, actor, cast.patients[whose])
        assert refused.value.entry["outcome"] == "denied"
