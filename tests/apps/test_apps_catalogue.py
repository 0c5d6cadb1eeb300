"""The operator's catalogue of labelled apps: who curates it, what it shows, and the scopes in
plain words — on the services and through the portal's /applications page."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.access import Actor
from carnet.apps import service as apps
from carnet.apps.models import App
from carnet.audit.models import AuditEntry
from carnet.errors import AccessDenied, Forbidden, Invalid, NotFound
from tests.apps.conftest import PODO_ID, REDIRECT, Portal
from tests.conftest import audit_rows


def names(session: Session) -> list[str]:
    return [a.name for a in apps.catalogue(session)]


def register(session: Session, operator: Actor, name: str, **kwargs: object) -> App:
    return apps.register_app(
        session,
        operator,
        name=name,
        redirect_uris=[REDIRECT],
        allowed_scopes="launch/patient patient/Observation.rs",
        **kwargs,  # type: ignore[arg-type]
    )


# --- curation by the operator -------------------------------------------------------------


def test_the_demo_catalogue_holds_the_labelled_apps_only(session: Session) -> None:
    # PasFit and TensioCarnet are labelled; Carnet's own client is not a catalogue app
    assert names(session) == ["PasFit", "TensioCarnet"]
    pasfit = apps.catalogue(session)[0]
    assert pasfit.label == "referenced"
    assert pasfit.labelled_at is not None
    assert pasfit.category == "physical_activity"
    assert pasfit.publisher == "PasFit SAS"


def test_an_app_enters_the_catalogue_only_once_labelled(session: Session, operator: Actor) -> None:
    register(session, operator, "Sommeil+", listed=True, client_id="sommeil")
    assert "Sommeil+" not in names(session)  # listed but not reviewed: not shown

    labelled = apps.label_app(session, operator, client_id="sommeil", category="prevention")
    assert labelled.listed
    assert labelled.category == "prevention"
    assert "Sommeil+" in names(session)
    [trail] = audit_rows(
        session, AuditEntry.action == "app.label", AuditEntry.resource_id == "sommeil"
    )
    assert trail.detail == "referenced"
    assert trail.patient_id is None  # the registry is no one's record


def test_unlisting_takes_an_app_out_of_the_catalogue_but_keeps_it_connected(
    session: Session, operator: Actor, cast
) -> None:
    apps.unlist_app(session, operator, client_id="pasfit")
    assert "PasFit" not in names(session)
    # Sylvie connected it: it stays connected until she disconnects it
    assert apps.active_grant(session, cast.patients["sylvie"], "pasfit") is not None
    assert audit_rows(session, AuditEntry.action == "app.unlist")


def test_a_withdrawn_app_leaves_the_catalogue(session: Session) -> None:
    app = apps.find_app(session, "tensiocarnet")
    assert app is not None
    app.active = False
    session.flush()
    assert "TensioCarnet" not in names(session)


def test_only_an_operator_curates_the_catalogue(
    session: Session, holder: Callable[[str], Actor], pro: Callable[..., Actor]
) -> None:
    for actor in (holder("sylvie"), pro("durand")):
        with pytest.raises(Forbidden):
            apps.label_app(session, actor, client_id="tensiocarnet")
        with pytest.raises(Forbidden):
            apps.unlist_app(session, actor, client_id="pasfit")
        with pytest.raises(Forbidden):
            apps.list_apps(session, actor)


def test_curation_mistakes_say_which_field_is_wrong(session: Session, operator: Actor) -> None:
    with pytest.raises(Invalid) as label:
        apps.label_app(session, operator, client_id="pasfit", label="certified")
    assert label.value.field == "label"
    with pytest.raises(Invalid) as category:
        apps.label_app(session, operator, client_id="pasfit", category="astrology")
    assert category.value.field == "category"
    with pytest.raises(NotFound):
        apps.label_app(session, operator, client_id="no-such-app")
    with pytest.raises(NotFound):  # Carnet's own client is not curated
        apps.label_app(session, operator, client_id="carnet-patient")
    with pytest.raises(Invalid) as name:  # what an app pushed is found by its (unique) name
        register(session, operator, "pasfit")
    assert name.value.field == "name"
    with pytest.raises(Invalid) as client_id:
        register(session, operator, "Autre", client_id="pas fit!")
    assert client_id.value.field == "client_id"
    with pytest.raises(Invalid) as taken:
        register(session, operator, "Autre", client_id="pasfit")
    assert taken.value.field == "client_id"
    with pytest.raises(Invalid) as launch:
        register(session, operator, "Autre", launch_url="http://evil.example.org/start")
    assert launch.value.field == "launch_url"
    # nothing was half-written
    assert apps.find_any_app(session, "pasfit") is not None
    assert session.execute(select(App).where(App.name == "Autre")).first() is None


def test_a_withdrawn_app_cannot_be_labelled(session: Session, operator: Actor) -> None:
    app = register(session, operator, "Retirée", client_id="retiree")
    app.active = False
    with pytest.raises(Invalid):
        apps.label_app(session, operator, client_id="retiree")


# --- scopes in plain words (pure) ---------------------------------------------------------


def test_scopes_are_described_one_by_one() -> None:
    words = apps.describe_scopes(
        "launch/patient openid fhirUser patient/Observation.cruds patient/AllergyIntolerance.rs "
        "patient/Binary.c patient/Weird.rs bogus"
    )
    data = [(w.about, w.reads, w.writes) for w in words if w.data]
    assert data == [
        ("your measurements (steps, weight, blood pressure, results)", True, True),
        ("your allergies", True, False),
        ("the contents of your documents", False, True),
        ("Weird", True, False),
    ]
    context = [w.about for w in words if not w.data]  # openid and fhirUser say the same thing
    assert context == [
        "know which record it is connected to",
        "know who you are (your Carnet account)",
    ]


SCOPES = st.lists(
    st.sampled_from(
        [
            "launch/patient",
            "openid",
            "patient/Observation.cruds",
            "patient/Observation.rs",
            "patient/AllergyIntolerance.rs",
            "patient/DocumentReference.r",
            "patient/*.rs",
        ]
    ),
    unique=True,
)


@given(requested=SCOPES, ticked=SCOPES)
def test_the_patient_never_grants_more_than_asked_and_keeps_the_launch_context(
    requested: list[str], ticked: list[str]
) -> None:
    asked = " ".join(requested)
    data = [s for s in requested if "/" in s and "." in s]
    if data and not set(data) & set(ticked):  # no kind of data left: refused, naming the field
        with pytest.raises(Invalid) as refused:
            apps.choose_scopes(asked, set(ticked))
        assert refused.value.field == "scopes"
        return
    granted = apps.choose_scopes(asked, set(ticked)).split()
    assert set(granted) <= set(requested)
    assert {"launch/patient", "openid"} & set(requested) <= set(granted)
    assert all(s in ticked for s in granted if s not in ("launch/patient", "openid"))
    assert set(data) & set(ticked) <= set(granted)


def test_without_the_choice_offered_everything_asked_is_granted() -> None:
    assert (
        apps.choose_scopes("openid patient/Observation.rs", None) == "openid patient/Observation.rs"
    )


# --- the /applications page ---------------------------------------------------------------


def test_sylvie_sees_pasfit_connected_with_what_it_pushed(signed_in: Portal) -> None:
    page = signed_in.client.get("/applications")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "<h1>Applications connectées</h1>" in text
    connected = text.split('id="connected-pasfit"')[1].split("</article>")[0]
    assert "Connectée le" in connected
    assert "lire et ajouter vos mesures (pas, poids, tension, résultats)" in connected
    assert "savoir à quel dossier elle est connectée" in connected
    assert "Ce qu'elle a ajouté au dossier <small>(21)</small>" in connected  # 14 days, 7 weighings
    assert connected.count("Nombre de pas sur 24 heures") >= 5
    assert connected.count("<tr>") == 10 + 1  # the latest ten, under the header row
    assert "Seuls les plus récents sont affichés" in connected
    assert "Poids corporel" in connected
    assert "kg" in connected
    assert 'name="client_id" value="pasfit"' in connected


def test_the_catalogue_says_what_each_app_may_ask_and_how_to_connect_it(signed_in: Portal) -> None:
    text = html.unescape(signed_in.client.get("/applications").text)
    catalogue = text.split('id="catalogue-title"')[1]
    tensio = catalogue.split('id="app-tensiocarnet"')[1].split("</li>\n  \n")[0]
    assert "Référencée le <time" in tensio
    assert "Maladies chroniques" in tensio
    assert "Éditeur : TensioCarnet SAS" in tensio
    assert "lire vos traitements" in tensio
    assert 'href="https://tensio.example.org/connect"' in tensio
    pasfit = catalogue.split('id="app-pasfit"')[1].split('id="app-tensiocarnet"')[0]
    assert "Activité physique" in pasfit
    assert '<span aria-hidden="true">✔</span> Connectée</span>' in pasfit  # no connect button
    assert "Connecter PasFit" not in pasfit
    assert "Connecter TensioCarnet" in tensio
    assert "Carnet (application patient)" not in catalogue


def test_the_apps_page_reads_in_english(signed_in: Portal) -> None:
    text = html.unescape(signed_in.client.get("/applications?lang=en").text)
    assert "<h1>Connected apps</h1>" in text
    assert "read and add your measurements (steps, weight, blood pressure, results)" in text
    assert "Referenced on" in text
    assert "Physical activity" in text
    assert "Activité physique" not in text


def test_opening_the_apps_page_is_traced(signed_in: Portal, session: Session, cast) -> None:
    signed_in.client.get("/applications")
    rows = (
        session.execute(
            select(AuditEntry).where(
                AuditEntry.patient_id == cast.patients["sylvie"],
                AuditEntry.detail == "connected apps",
            )
        )
        .scalars()
        .all()
    )
    assert rows
    assert rows[-1].action == "read"


def test_a_representative_sees_her_childs_connected_apps(signed_in: Portal, cast) -> None:
    lea = cast.patients["lea"]
    text = html.unescape(signed_in.client.get(f"/applications?record={lea}").text)
    assert "Vous agissez pour" in text
    assert "Aucune application n'est connectée à ce dossier." in text
    assert f'action="/applications/deconnecter?record={lea}"' not in text  # nothing to disconnect


def test_a_record_the_patient_does_not_manage_is_never_shown(
    signed_in: Portal, session: Session, cast, holder: Callable[[str], Actor]
) -> None:
    # the page falls back to her own record …
    text = html.unescape(
        signed_in.client.get(f"/applications?record={cast.patients['henri']}").text
    )
    assert "Vous agissez pour" not in text
    assert 'id="connected-pasfit"' in text
    # … and the service itself refuses someone else's record, as if it did not exist
    with pytest.raises(AccessDenied) as denied:
        apps.connected_apps(session, holder("sylvie"), cast.patients["jean"])
    assert isinstance(denied.value.public, NotFound)


def test_the_page_needs_a_signed_in_patient(portal: Portal) -> None:
    response = portal.client.get("/applications", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_podo_is_offered_once_labelled(signed_in: Portal, podo: App) -> None:
    text = html.unescape(signed_in.client.get("/applications").text)
    assert f'id="app-{PODO_ID}"' in text
    assert "Podo SAS" in text
