"""IHE MHD round trips as a professional's software makes them: a real FHIR client library
(fhirpy, synchronous) over HTTP against a real server (uvicorn in a background thread) on a
database of its own, with a token obtained through the JWT-bearer grant. Also the ANS example
submission of the PDSm for DMP guide, adapted where Carnet asks for the DMP's value sets."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, OperationOutcome
from fhirpy.base.searchset import Raw
from sqlalchemy import func, select

from carnet.app import create_app
from carnet.documents.bundles import LOINC, Doc
from carnet.documents.models import DocumentEntry
from carnet.documents.service import content_hash_b64
from carnet.patients.models import Patient
from carnet.settings import Settings
from carnet.terminology.documents import TRE_A01, TRE_R02
from carnet.web import tokens
from tests.conftest import INS, NIRS
from tests.documents.conftest import CARMES, RPPS, bundle, sample_pdf
from tests.documents.fresh_demo import (
    FreshDemo,
    free_socket,
    fresh_demo,
    professional_token,
    serving,
)

ANS_EXAMPLE = (
    Path(__file__).resolve().parents[1] / "data" / "Bundle-example-td2-iti65-lot-soumission.json"
)
ARCHIVED = "pdsm-isArchived"


@dataclass
class Live:
    demo: FreshDemo
    url: str

    def client(self, token: str) -> SyncFHIRClient:
        # No redirects followed: a transaction answered by a redirect would be sent twice.
        return SyncFHIRClient(
            f"{self.url}/fhir",
            authorization=f"Bearer {token}",
            requests_config={"allow_redirects": False, "timeout": 30},
        )

    def documents(self, who: str = "sylvie") -> int:
        with self.demo.factory() as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(DocumentEntry)
                    .join(Patient, Patient.id == DocumentEntry.patient_id)
                    .where(Patient.nir == NIRS[who])
                ).scalar_one()
            )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Live]:
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with fresh_demo(tmp_path_factory.mktemp("mhd"), settings, base_url=url) as demo:
        app = create_app(demo.settings, engine=demo.engine, session_factory=demo.factory)
        with serving(app, sock):
            yield Live(demo, url)


@pytest.fixture(scope="module")
def durand(live: Live) -> str:
    return professional_token(live.demo, CARMES, "8" + RPPS["durand"], live.url)


def locations(response: Any) -> dict[str, str]:
    """resource type → the location the transaction-response gives for it."""
    out = {}
    for entry in response["entry"]:
        location = entry["response"]["location"]
        out[location.rsplit("/", 2)[-2]] = location
    return out


def extension(resource: Any, suffix: str) -> Any:
    return next(e for e in resource["extension"] if e["url"].endswith(suffix))


def test_a_fhir_client_provides_a_document_then_finds_retrieves_reads_and_archives_it(
    live: Live, durand: str
) -> None:
    client = live.client(durand)
    pdf = sample_pdf("Consultation vue par fhirpy")
    submission = bundle("durand", "sylvie", Doc("11488-4", pdf, title="CR fhirpy"))

    response = client.resource("Bundle", **submission).save()  # fhirpy POSTs a Bundle to [base]

    assert response["type"] == "transaction-response"
    assert [e["response"]["status"] for e in response["entry"]] == ["201 Created"] * 3
    where = locations(response)
    assert set(where) == {"List", "DocumentReference", "Binary"}
    assert all(location.startswith(f"{live.url}/fhir/") for location in where.values())
    doc_id = where["DocumentReference"].rsplit("/", 1)[-1]

    found = (
        client.resources("DocumentReference")
        .search(Raw(**{"patient.identifier": INS.format(NIRS["sylvie"])}))
        .search(type=f"{LOINC}|11488-4")
        .fetch()
    )
    assert {d["type"]["coding"][0]["code"] for d in found} == {"11488-4"}
    mine = next(d for d in found if d["id"] == doc_id)
    attachment = mine["content"][0]["attachment"]
    assert attachment["url"] == where["Binary"]
    assert attachment["size"] == len(pdf)

    binary = client.execute(attachment["url"], method="get")  # ITI-68 as a FHIR Binary
    assert binary["resourceType"] == "Binary"
    assert binary["contentType"] == "application/pdf"
    assert base64.b64decode(binary["data"]) == pdf
    raw = requests.get(
        attachment["url"], headers={"Authorization": f"Bearer {durand}"}, timeout=30
    )  # ITI-68 as the bytes themselves
    assert raw.status_code == 200
    assert raw.content == pdf
    assert content_hash_b64(raw.content) == attachment["hash"]

    read = client.get("DocumentReference", doc_id)
    assert read["id"] == doc_id
    assert read["masterIdentifier"] == submission["entry"][1]["resource"]["masterIdentifier"]
    assert extension(read, ARCHIVED)["valueBoolean"] is False

    archived = client.reference("DocumentReference", doc_id).execute("$archive")
    assert extension(archived, ARCHIVED)["valueBoolean"] is True
    assert archived["id"] != doc_id  # a new metadata version…
    assert archived["identifier"] == read["identifier"]  # …of the same document
    assert archived["meta"]["versionId"] == "2"
    current = {
        d["id"]: d
        for d in client.resources("DocumentReference")
        .search(Raw(**{"patient.identifier": INS.format(NIRS["sylvie"])}))
        .fetch_all()
    }
    assert doc_id not in current
    assert extension(current[archived["id"]], ARCHIVED)["valueBoolean"] is True


def test_a_token_issued_for_another_address_is_refused_by_the_server(
    live: Live, settings: Settings
) -> None:
    other, _ = tokens.issue(
        settings,  # same secret, but issued for http://127.0.0.1:8000
        {"sub": "8" + RPPS["durand"], "act": {"kind": "professional"}},
        60,
    )
    with pytest.raises(AuthorizationError):
        live.client(other).resources("DocumentReference").search(
            Raw(**{"patient.identifier": INS.format(NIRS["sylvie"])})
        ).fetch()


def ans_example() -> dict[str, Any]:
    """The ANS example as published, with only the identities changed: its patient INS becomes
    Sylvie's NIR and its author's PS_IdNat becomes Dr Durand's (the published ones are not in
    our directory)."""
    text = ANS_EXAMPLE.read_text(encoding="utf-8")
    published_ins, published_author = "123456789012345", "899700218896"
    assert published_ins in text
    assert published_author in text
    adapted: dict[str, Any] = json.loads(
        text.replace(published_ins, NIRS["sylvie"]).replace(published_author, "8" + RPPS["durand"])
    )
    return adapted


def post_transaction(client: SyncFHIRClient, body: dict[str, Any]) -> Any:
    # The example has a Bundle.id, with which fhirpy's save() would PUT it to Bundle/<id>: post
    # it as the transaction it is, to [base].
    return client.execute("/", method="post", data=copy.deepcopy(body))


def refusal(live: Live, token: str, body: dict[str, Any]) -> dict[str, Any]:
    before = live.documents()
    with pytest.raises(OperationOutcome) as raised:
        post_transaction(live.client(token), body)
    assert live.documents() == before  # nothing half-written
    issue: dict[str, Any] = raised.value.resource["issue"][0]
    return issue


def test_the_ans_example_submission_is_accepted_once_given_the_dmp_value_sets(
    live: Live, durand: str
) -> None:
    body = ans_example()
    reference = body["entry"][1]["resource"]
    binary = body["entry"][2]["resource"]
    content = base64.b64decode(binary["data"])
    attachment = reference["content"][0]["attachment"]
    # Its size and SHA-1 are right as published: nothing to fix there.
    assert attachment["size"] == len(content)
    assert attachment["hash"] == content_hash_b64(content)

    # What else had to change, each refused first with the field named:
    # 1. formatCode is IHE's generic urn:ihe:iti:xds:2017:mimeTypeSufficient, which is not in
    # JDV_J10 as shipped. No J10 code describes a bare ClinicalDocument, and Carnet takes the
    # format as optional, so it goes.
    issue = refusal(live, durand, body)
    assert issue["expression"] == ["Bundle.entry[1].resource.content[0].format"]
    assert "JDV_J10" in issue["diagnostics"]
    del reference["content"][0]["format"]

    # 2. facilityType is SNOMED CT (22232009 "Hospital"); the DMP wants JDV_J02 (TRE_R02).
    issue = refusal(live, durand, body)
    assert issue["expression"] == ["Bundle.entry[1].resource.context.facilityType"]
    assert "JDV_J02" in issue["diagnostics"]
    reference["context"]["facilityType"] = {"coding": [{"system": TRE_R02, "code": "SA07"}]}

    # 3. practiceSetting is SNOMED CT (394802001 "General medicine"); the DMP wants JDV_J04.
    issue = refusal(live, durand, body)
    assert issue["expression"] == ["Bundle.entry[1].resource.context.practiceSetting"]
    assert "JDV_J04" in issue["diagnostics"]
    reference["context"]["practiceSetting"] = {
        "coding": [{"system": TRE_A01, "code": "AMBULATOIRE"}]
    }

    before = live.documents()
    response = post_transaction(live.client(durand), body)

    assert [e["response"]["status"] for e in response["entry"]] == ["201 Created"] * 3
    assert live.documents() == before + 1
    doc_id = locations(response)["DocumentReference"].rsplit("/", 1)[-1]
    stored = live.client(durand).get("DocumentReference", doc_id)
    assert stored["masterIdentifier"]["value"] == "urn:oid:1.2.250.1.213.1.4.8.99999.2"
    assert stored["author"][0]["identifier"]["value"] == "8" + RPPS["durand"]
    assert stored["context"]["facilityType"]["coding"][0]["code"] == "SA07"
    assert stored["context"]["practiceSetting"]["coding"][0]["code"] == "AMBULATOIRE"
    assert stored["content"][0]["attachment"]["contentType"] == "application/xml"
    fetched = live.client(durand).execute(stored["content"][0]["attachment"]["url"], method="get")
    assert base64.b64decode(fetched["data"]) == content
