"""The patient's own side of the documents API, with real patient tokens (portal sign-in, then
authorization code + PKCE for Carnet's own patient app): she adds her own documents (class 90),
hides one from professionals and shows it again; an app with read scopes cannot add; as Léa's
mother she does not see Léa's secret consultation."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor
from carnet.apps import service as apps
from carnet.audit.models import AuditEntry
from carnet.documents.bundles import TRE_A05, TRE_A07, Author, Doc, provide_bundle
from carnet.documents.models import DocumentEntry
from carnet.documents.service import waiting_for_patient
from carnet.notifications.worker import dispatch_due
from carnet.settings import Settings
from carnet.terminology.documents import TRE_A00
from carnet.web.portal import CSRF_COOKIE
from tests.conftest import INS, NIRS, Cast, FakeSender, current_documents
from tests.documents.conftest import bundle, sample_pdf

Api = Callable[..., Any]
OWN_APP = "carnet-patient"  # first party: acts as the patient herself
OWN_SCOPES = "launch/patient openid fhirUser patient/*.cruds"
REDIRECT = "http://127.0.0.1:8765/callback"
READER_APP = "lecteur-de-dossier"
READER_SCOPES = "launch/patient openid patient/*.rs"
SYLVIE = "sylvie.martin@example.org"
MASKED = "MASQUE_PS"


class PatientTokens:
    """Sylvie's browser and her apps: sign in at the portal, consent, exchange the code."""

    def __init__(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        sender: FakeSender,
        settings: Settings,
    ) -> None:
        self.client, self.factory, self.sender, self.settings = client, factory, sender, settings
        self.signed_in = False

    def _form(self, url: str, data: dict[str, str]) -> Any:
        if self.client.cookies.get(CSRF_COOKIE) is None:
            self.client.get("/login")
        csrf = self.client.cookies.get(CSRF_COOKIE)
        return self.client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)

    def _sign_in(self) -> None:
        first = self._form(
            "/login", {"login": SYLVIE, "password": self.settings.demo_password, "next": "/"}
        )
        assert first.status_code == 303, first.text
        dispatch_due(self.factory, self.sender, self.settings)  # the code goes by e-mail
        done = self._form("/login/code", {"code": self.sender.last_code(SYLVIE), "next": "/"})
        assert done.status_code == 303, done.text
        self.signed_in = True

    def get(self, client_id: str = OWN_APP, scope: str = OWN_SCOPES, patient: str = "") -> str:
        if not self.signed_in:
            self._sign_in()
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": REDIRECT,
                "scope": scope,
                "state": secrets.token_urlsafe(8),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        consent = self._form(f"/oauth/authorize?{query}", {"decision": "allow", "patient": patient})
        assert consent.status_code == 302, consent.text
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        response = self.client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@pytest.fixture
def sylvie(
    client: TestClient, factory: sessionmaker[Session], sender: FakeSender, settings: Settings
) -> PatientTokens:
    return PatientTokens(client, factory, sender, settings)


def call(client: TestClient, token: str, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def search_ids(client: TestClient, token: str, patient: uuid.UUID) -> dict[str, dict[str, Any]]:
    response = call(client, token, "get", "/fhir/DocumentReference", params={"patient": patient})
    assert response.status_code == 200, response.text
    return {e["resource"]["id"]: e["resource"] for e in response.json().get("entry", [])}


def pro_ids(api: Api, name: str, who: str = "sylvie") -> dict[str, dict[str, Any]]:
    params = {"patient.identifier": INS.format(NIRS[who])}
    response = api(name, "get", "/fhir/DocumentReference", who=who, params=params)
    assert response.status_code == 200, response.text
    return {e["resource"]["id"]: e["resource"] for e in response.json().get("entry", [])}


def documents_of(session: Session, cast: Cast, who: str = "sylvie") -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(DocumentEntry)
            .where(DocumentEntry.patient_id == cast.patients[who])
        ).scalar_one()
    )


def own_document(code: str, title: str) -> dict[str, Any]:
    """A submission authored by Sylvie herself (the author is a contained Patient)."""
    return provide_bundle(
        NIRS["sylvie"],
        Author(ps_idnat=None),
        [Doc(code, sample_pdf(title), type_system=TRE_A05, title=title)],
    )


def provided_id(response: Any) -> str:
    assert response.status_code == 200, response.text
    [location] = [
        e["response"]["location"]
        for e in response.json()["entry"]
        if "/DocumentReference/" in e["response"]["location"]
    ]
    return str(location.rsplit("/", 1)[-1])


def labels(resource: dict[str, Any]) -> set[str]:
    return {c["code"] for label in resource["securityLabel"] for c in label["coding"]}


@pytest.mark.parametrize(
    ("code", "title"),
    [("DOCPAT01", "Mes antécédents"), ("EXPPAT_3", "Mes directives anticipées")],
    ids=["her own notes", "her advance directives"],
)
def test_the_patient_adds_her_own_document_and_it_is_marked_as_hers(
    client: TestClient,
    sylvie: PatientTokens,
    api: Api,
    session: Session,
    cast: Cast,
    code: str,
    title: str,
) -> None:
    token = sylvie.get()
    before = documents_of(session, cast)

    doc_id = provided_id(call(client, token, "post", "/fhir", json=own_document(code, title)))

    assert documents_of(session, cast) == before + 1
    mine = search_ids(client, token, cast.patients["sylvie"])
    assert doc_id in mine
    resource = mine[doc_id]
    assert resource["type"]["coding"][0]["code"] == code
    assert resource["category"][0]["coding"][0]["code"] == "90"
    kind = next(e for e in resource["extension"] if e["url"].endswith("author-kind"))
    assert kind["valueCode"] == "patient"
    assert resource["author"][0]["reference"] == f"Patient/{cast.patients['sylvie']}"
    entry = session.get(DocumentEntry, uuid.UUID(doc_id))
    assert entry is not None
    assert entry.patient_authored is True
    assert entry.author_ref == f"patient:{cast.patients['sylvie']}"
    # her treating doctor sees it, as hers
    seen = pro_ids(api, "durand")[doc_id]
    assert next(e for e in seen["extension"] if e["url"].endswith("author-kind")) == kind


def test_the_patient_cannot_add_a_professionals_document(
    client: TestClient, sylvie: PatientTokens, session: Session, cast: Cast
) -> None:
    token = sylvie.get()
    before = documents_of(session, cast)
    report = provide_bundle(
        NIRS["sylvie"], Author(ps_idnat=None), [Doc("11488-4", sample_pdf("Faux CR"))]
    )

    as_herself = call(client, token, "post", "/fhir", json=report)
    as_her_doctor = call(client, token, "post", "/fhir", json=bundle("durand", "sylvie"))

    assert as_herself.status_code == 400
    assert as_herself.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.type"]
    assert as_her_doctor.status_code == 400
    assert as_her_doctor.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.author"]
    assert documents_of(session, cast) == before


def test_an_app_with_read_scopes_only_cannot_add_a_document(
    client: TestClient, sylvie: PatientTokens, session: Session, cast: Cast, operator: Actor
) -> None:
    apps.register_app(
        session,
        operator,
        name="Lecteur de dossier",
        client_id=READER_APP,
        allowed_scopes=READER_SCOPES,
        redirect_uris=[REDIRECT],
    )
    session.flush()  # the client's sessions share this connection
    token = sylvie.get(client_id=READER_APP, scope=READER_SCOPES)
    before = documents_of(session, cast)

    refused = call(client, token, "post", "/fhir", json=own_document("DOCPAT01", "Note"))

    assert refused.status_code == 403
    assert documents_of(session, cast) == before
    assert search_ids(client, token, cast.patients["sylvie"])  # it reads, as allowed
    denial = session.execute(
        select(AuditEntry)
        .where(
            AuditEntry.patient_id == cast.patients["sylvie"],
            AuditEntry.client_id == READER_APP,
            AuditEntry.outcome == "denied",
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).scalar_one()
    assert denial.detail == "insufficient_scope"


def test_the_patient_hides_a_document_from_professionals_then_shows_it_again(
    client: TestClient, sylvie: PatientTokens, api: Api, cast: Cast
) -> None:
    token = sylvie.get()
    hers = search_ids(client, token, cast.patients["sylvie"])
    shared = sorted(set(hers) & set(pro_ids(api, "petit")))
    assert shared  # a document both she and her podiatrist see
    doc_id = shared[0]

    hidden = call(client, token, "post", f"/fhir/DocumentReference/{doc_id}/$hide")

    assert hidden.status_code == 200, hidden.text
    hidden_id = hidden.json()["id"]
    assert MASKED in labels(hidden.json())
    assert not {doc_id, hidden_id} & set(pro_ids(api, "petit"))
    assert api("petit", "get", f"/fhir/DocumentReference/{hidden_id}").status_code == 404
    # the version he read before is the same document: hidden too, not found either
    assert api("petit", "get", f"/fhir/DocumentReference/{doc_id}").status_code == 404
    assert api("durand", "get", f"/fhir/DocumentReference/{doc_id}").status_code == 200
    assert api("petit", "post", f"/fhir/DocumentReference/{doc_id}/$hide").status_code == 404
    assert hidden_id in pro_ids(api, "durand")  # her treating doctor still sees it
    # only she can show it again; to him it does not even exist any more
    assert api("petit", "post", f"/fhir/DocumentReference/{hidden_id}/$unhide").status_code == 404

    shown = call(client, token, "post", f"/fhir/DocumentReference/{hidden_id}/$unhide")

    assert shown.status_code == 200, shown.text
    assert MASKED not in labels(shown.json())
    assert shown.json()["id"] in pro_ids(api, "petit")


def test_the_count_of_documents_waiting_for_her_doctor_has_no_api_yet(
    client: TestClient, sylvie: PatientTokens, session: Session, cast: Cast, holder: Any
) -> None:
    # service.waiting_for_patient exists ("a document is waiting for your doctor"), but no
    # route serves it: the portal or a FHIR operation should. Here: the service, and that the
    # API search indeed keeps that document from her.
    waiting = session.execute(
        select(DocumentEntry.id).where(
            DocumentEntry.patient_id == cast.patients["sylvie"],
            DocumentEntry.current.is_(True),
            DocumentEntry.invisible_patient.is_(True),
        )
    ).scalar_one()

    assert waiting_for_patient(session, holder("sylvie"), cast.patients["sylvie"]) == 1
    assert str(waiting) not in search_ids(client, sylvie.get(), cast.patients["sylvie"])


def test_the_count_waiting_for_the_doctor_keeps_a_minors_secret_from_her_parents(
    session: Session, cast: Cast, holder: Any
) -> None:
    """Léa's secret consultation is hidden from her legal representatives: kept from her too
    for now, it is not counted for her mother either ("a document is waiting")."""
    lea = cast.patients["lea"]
    secret, *_ = current_documents(session, lea, DocumentEntry.invisible_representatives.is_(True))
    before = waiting_for_patient(session, holder("sylvie"), lea)
    secret.invisible_patient = True
    session.flush()
    assert waiting_for_patient(session, holder("sylvie"), lea) == before
    shared, *_ = current_documents(
        session,
        lea,
        DocumentEntry.invisible_representatives.is_(False),
        DocumentEntry.invisible_patient.is_(False),
    )
    shared.invisible_patient = True  # one she may know of: counted
    session.flush()
    assert waiting_for_patient(session, holder("sylvie"), lea) == before + 1


def test_as_leas_representative_sylvie_does_not_see_leas_secret_consultation(
    client: TestClient, sylvie: PatientTokens, api: Api, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    secret = session.execute(
        select(DocumentEntry).where(
            DocumentEntry.patient_id == lea,
            DocumentEntry.current.is_(True),
            DocumentEntry.invisible_representatives.is_(True),
        )
    ).scalar_one()
    token = sylvie.get(patient=str(lea))

    seen = search_ids(client, token, lea)

    assert seen  # she does see Léa's other documents (the vaccination)
    assert str(secret.id) not in seen
    assert call(client, token, "get", f"/fhir/DocumentReference/{secret.id}").status_code == 404
    blob = secret.blob_key.rsplit("/", 1)[-1]
    assert call(client, token, "get", f"/fhir/Binary/{blob}").status_code == 404
    assert str(secret.id) in pro_ids(api, "durand", who="lea")  # her doctor sees it


def test_the_patient_cannot_make_her_own_document_invisible_to_herself(
    client: TestClient, sylvie: PatientTokens, session: Session, cast: Cast
) -> None:
    token = sylvie.get()
    body = own_document("DOCPAT01", "Note cachée")
    body["entry"][1]["resource"]["securityLabel"] = [
        {"coding": [{"system": TRE_A07, "code": "INVISIBLE_PATIENT"}]}
    ]
    before = documents_of(session, cast)

    response = call(client, token, "post", "/fhir", json=body)

    assert response.status_code == 400, response.text
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.securityLabel"]
    assert documents_of(session, cast) == before


def test_her_document_is_coded_as_the_patients_own_expression_in_its_own_code_system(
    client: TestClient, sylvie: PatientTokens
) -> None:
    # The DMP codes a patient's document with EXP_PATIENT for both the facility type (J02) and
    # the practice setting (J04): a TRE_A00 code, not a TRE_R02 sector nor a TRE_A01 setting.
    token = sylvie.get()
    own = Doc(
        "DOCPAT02",
        sample_pdf("Mes vaccins"),
        type_system=TRE_A05,
        facility_type="EXP_PATIENT",
        practice_setting="EXP_PATIENT",
    )
    body = provide_bundle(NIRS["sylvie"], Author(ps_idnat=None), [own])

    doc_id = provided_id(call(client, token, "post", "/fhir", json=body))

    context = call(client, token, "get", f"/fhir/DocumentReference/{doc_id}").json()["context"]
    expression = {"system": TRE_A00, "code": "EXP_PATIENT"}
    assert context["facilityType"]["coding"] == [expression]
    assert context["practiceSetting"]["coding"] == [expression]
