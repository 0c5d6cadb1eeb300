"""Connecting an app through the real SMART flow with granular consent, what it pushes and
shows on the apps page, an app never seeing more than its scopes, and disconnecting it from
the portal (its tokens refused at once)."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.apps.models import App, AppGrant, AuthorizationCode
from carnet.audit.models import AuditEntry
from carnet.profile.models import ProfileEntry
from carnet.settings import Settings
from carnet.web import tokens
from tests.apps.conftest import PODO_ID, REDIRECT, Portal, SmartApp, form_token, steps
from tests.conftest import refused_for_csrf


def grants(session: Session, patient_id: object, client_id: str = PODO_ID) -> list[AppGrant]:
    return list(
        session.execute(
            select(AppGrant).where(
                AppGrant.patient_id == patient_id, AppGrant.client_id == client_id
            )
        ).scalars()
    )


# --- granular consent ---------------------------------------------------------------------


def test_the_consent_page_lists_each_scope_in_plain_words_with_a_checkbox(
    podo_app: SmartApp, signed_in: Portal
) -> None:
    path, _ = podo_app.launch("launch/patient openid patient/Observation.cruds patient/Patient.r")
    text = html.unescape(signed_in.client.get(path).text)
    assert "Podo (tests) demande à accéder à votre dossier" in text
    # only what the app may ask for is shown: Patient.r is not in its allowed scopes
    assert 'name="scope:patient/Observation.cruds" value="on" checked' in text
    assert "lire et ajouter vos mesures (pas, poids, tension, résultats)" in text
    assert "votre identité" not in text
    assert "savoir à quel dossier elle est connectée" in text
    assert "Référencée" in text
    english = html.unescape(signed_in.client.get(path + "&lang=en").text)
    assert "read and add your measurements (steps, weight, blood pressure, results)" in english
    assert "Untick what you do not want to share." in english


def test_an_unticked_scope_is_neither_granted_nor_in_the_token(
    signed_in: Portal, session: Session, operator, cast, settings: Settings
) -> None:
    from carnet.apps import service as apps

    apps.register_app(
        session,
        operator,
        name="Balance (tests)",
        client_id="balance-tests",
        redirect_uris=[REDIRECT],
        allowed_scopes="launch/patient patient/Observation.cruds patient/AllergyIntolerance.rs",
    )
    session.flush()
    app = SmartApp(
        signed_in,
        "balance-tests",
        "launch/patient patient/Observation.cruds patient/AllergyIntolerance.rs",
    )
    path, verifier = app.launch()
    # the patient unticks the allergies: only the observations' checkbox is sent
    response = app.consent(path, scopes_offered="1", **{"scope:patient/Observation.cruds": "on"})
    assert response.status_code == 302
    body = app.exchange(response.headers["location"], verifier)
    assert body["scope"] == "launch/patient patient/Observation.cruds"
    claims = tokens.decode(settings, body["access_token"])
    assert "patient/AllergyIntolerance.rs" not in claims["scope"]
    (grant,) = grants(session, cast.patients["sylvie"], "balance-tests")
    assert grant.scope == "launch/patient patient/Observation.cruds"

    sylvie = cast.patients["sylvie"]
    token = body["access_token"]
    assert app.api("GET", f"/fhir/AllergyIntolerance?patient={sylvie}", token).status_code == 403
    assert app.api("GET", f"/fhir/Observation?patient={sylvie}", token).status_code == 200


def test_unticking_every_kind_of_data_is_refused_with_a_message_and_writes_nothing(
    podo_app: SmartApp, signed_in: Portal, session: Session, cast
) -> None:
    path, _ = podo_app.launch()
    codes_before = session.execute(select(func.count()).select_from(AuthorizationCode)).scalar_one()
    response = podo_app.consent(path, scopes_offered="1")
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert 'role="alert" id="scopes-error"' in text
    assert "Cochez au moins un type de données, ou refusez la connexion." in text
    assert '<fieldset id="scopes" aria-describedby="scopes-error">' in text
    assert 'aria-describedby="scopes-error scopes-help" aria-invalid="true"' in text
    assert grants(session, cast.patients["sylvie"]) == []
    codes_after = session.execute(select(func.count()).select_from(AuthorizationCode)).scalar_one()
    assert codes_after == codes_before


# --- what the app pushes, and what it may not see ------------------------------------------


def test_the_app_pushes_steps_and_the_patient_sees_them_under_the_app(
    podo_app: SmartApp, signed_in: Portal, session: Session, cast
) -> None:
    sylvie = str(cast.patients["sylvie"])
    token = podo_app.connect()["access_token"]
    created = podo_app.api(
        "POST",
        "/fhir/Observation",
        token,
        json=steps(sylvie, 12345),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert created.status_code == 201, created.text
    entry = session.execute(
        select(ProfileEntry).where(ProfileEntry.value == "12345 pas")
    ).scalar_one()
    assert entry.source_kind == "app"
    assert entry.source_name == "Podo (tests)"

    text = html.unescape(signed_in.client.get("/applications").text)
    podo = text.split(f'id="connected-{PODO_ID}"')[1].split("</article>")[0]
    assert "12345 pas" in podo
    assert "Ce qu'elle a ajouté au dossier <small>(1)</small>" in podo
    pasfit = text.split('id="connected-pasfit"')[1].split("</article>")[0]
    assert "12345 pas" not in pasfit  # each app shows only what it pushed itself


def test_an_app_with_observation_scopes_sees_nothing_else(
    podo_app: SmartApp, cast, session: Session
) -> None:
    sylvie = cast.patients["sylvie"]
    token = podo_app.connect()["access_token"]
    assert podo_app.api("GET", f"/fhir/Observation?patient={sylvie}", token).status_code == 200
    for path in (
        f"/fhir/AllergyIntolerance?patient={sylvie}",
        f"/fhir/MedicationStatement?patient={sylvie}",
        f"/fhir/DocumentReference?patient={sylvie}",
        f"/fhir/AuditEvent?patient={sylvie}",
    ):
        response = podo_app.api("GET", path, token)
        assert response.status_code == 403, path
        assert response.json()["resourceType"] == "OperationOutcome"
    allergy = (
        session.execute(
            select(ProfileEntry).where(
                ProfileEntry.patient_id == sylvie,
                ProfileEntry.resource_type == "AllergyIntolerance",
            )
        )
        .scalars()
        .first()
    )
    assert allergy is not None
    assert podo_app.api("GET", f"/fhir/AllergyIntolerance/{allergy.id}", token).status_code == 403
    # nor another patient's record
    jean = cast.patients["jean"]
    assert podo_app.api("GET", f"/fhir/Observation?patient={jean}", token).status_code == 404


# --- disconnecting ------------------------------------------------------------------------


def test_disconnecting_from_the_portal_refuses_the_apps_tokens_at_once(
    podo_app: SmartApp, signed_in: Portal, session: Session, cast
) -> None:
    sylvie = cast.patients["sylvie"]
    token = podo_app.connect()["access_token"]
    search = f"/fhir/Observation?patient={sylvie}"
    assert podo_app.api("GET", search, token).status_code == 200

    page = signed_in.client.get("/applications")
    response = signed_in.client.post(
        "/applications/deconnecter",
        data={"csrf_token": form_token(page.text), "client_id": PODO_ID},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/applications?deconnectee=")
    after = html.unescape(signed_in.client.get(response.headers["location"]).text)
    assert "Podo (tests) est déconnectée" in after
    assert f'id="connected-{PODO_ID}"' not in after

    refused = podo_app.api("GET", search, token)
    assert refused.status_code == 401
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert (
        podo_app.api("POST", "/fhir/Observation", token, json=steps(str(sylvie), 1)).status_code
        == 401
    )
    (grant,) = grants(session, sylvie)
    assert grant.revoked_at is not None
    trail = (
        session.execute(
            select(AuditEntry).where(
                AuditEntry.patient_id == sylvie, AuditEntry.action == "app.disconnect"
            )
        )
        .scalars()
        .all()
    )
    assert [t.resource_id for t in trail] == [PODO_ID]


def test_disconnecting_an_app_that_is_not_connected_answers_not_found(signed_in: Portal) -> None:
    page = signed_in.client.get("/applications")
    response = signed_in.client.post(
        "/applications/deconnecter",
        data={"csrf_token": form_token(page.text), "client_id": "tensiocarnet"},
    )
    assert response.status_code == 404
    assert "Cette application n'est pas connectée." in html.unescape(response.text)
    empty = signed_in.client.post(
        "/applications/deconnecter", data={"csrf_token": form_token(page.text), "client_id": ""}
    )
    assert empty.status_code == 400
    assert "Choisissez une application." in html.unescape(empty.text)


def test_disconnecting_needs_the_forms_csrf_token(
    signed_in: Portal, session: Session, cast
) -> None:
    response = signed_in.client.post(
        "/applications/deconnecter", data={"client_id": "pasfit"}, follow_redirects=False
    )
    assert refused_for_csrf(response)
    (grant,) = grants(session, cast.patients["sylvie"], "pasfit")
    assert grant.revoked_at is None


def test_a_representative_connects_and_disconnects_an_app_for_her_child(
    podo_app: SmartApp, signed_in: Portal, session: Session, cast
) -> None:
    lea = cast.patients["lea"]
    body = podo_app.connect(patient=str(lea))
    assert body["patient"] == str(lea)
    token = body["access_token"]
    assert podo_app.api("GET", f"/fhir/Observation?patient={lea}", token).status_code == 200
    text = html.unescape(signed_in.client.get(f"/applications?record={lea}").text)
    assert f'id="connected-{PODO_ID}"' in text
    assert f'action="/applications/deconnecter?record={lea}"' in text
    response = signed_in.client.post(
        f"/applications/deconnecter?record={lea}",
        data={"csrf_token": form_token(text), "client_id": PODO_ID},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"record={lea}")
    assert podo_app.api("GET", f"/fhir/Observation?patient={lea}", token).status_code == 401
    # Sylvie's own PasFit connection is untouched
    assert grants(session, cast.patients["sylvie"], "pasfit")[0].revoked_at is None


def test_the_redirect_carries_the_code_only_to_the_registered_callback(
    podo_app: SmartApp, session: Session
) -> None:
    path, _ = podo_app.launch()
    response = podo_app.consent(path)
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    assert "code" in parse_qs(urlsplit(location).query)
    assert session.execute(select(App).where(App.client_id == PODO_ID)).scalar_one().listed


def test_carnets_own_client_is_listed_among_the_connected_apps_but_not_in_the_catalogue(
    signed_in: Portal, session: Session, cast, holder
) -> None:
    from carnet.apps import service as apps

    sylvie = cast.patients["sylvie"]
    apps.record_grant(
        session,
        holder("sylvie"),
        patient_id=sylvie,
        client_id="carnet-patient",
        scope="launch/patient openid patient/*.cruds",
    )
    session.flush()
    connections = apps.connected_apps(session, holder("sylvie"), sylvie)
    assert [c.app.client_id for c in connections] == ["carnet-patient", "pasfit"]
    text = html.unescape(signed_in.client.get("/applications").text)
    assert 'id="connected-carnet-patient"' in text
    assert "lire et ajouter tout votre dossier" in text
    assert 'id="app-carnet-patient"' not in text
    own = text.split('id="connected-carnet-patient"')[1].split("</article>")[0]
    assert "Ce qu'elle a ajouté" not in own  # it acts as the patient: nothing of its own
