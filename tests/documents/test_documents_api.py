"""IHE MHD through the API, as professionals' software uses it: provide (ITI-65), find (ITI-67),
retrieve (ITI-68), with every refusal named and nothing half-written."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.audit.models import AuditEntry
from carnet.documents.bundles import TRE_A05, Doc
from carnet.documents.models import DocumentEntry
from carnet.documents.storage import LocalBlobStore
from tests.conftest import Cast, audit_rows, current_documents
from tests.documents.conftest import bundle, sample_pdf

Api = Callable[..., Any]


def count(session: Session, cast: Cast, who: str = "sylvie") -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(DocumentEntry)
            .where(DocumentEntry.patient_id == cast.patients[who])
        ).scalar_one()
    )


def provided_ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [
        e["response"]["location"].rsplit("/", 1)[-1]
        for e in response.json()["entry"]
        if "/DocumentReference/" in e["response"].get("location", "")
    ]


def search(api: Api, name: str, who: str = "sylvie", **params: Any) -> list[dict[str, Any]]:
    cast_params = {"patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{NIR[who]}", **params}
    response = api(name, "get", "/fhir/DocumentReference", who=who, params=cast_params)
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", [])]


NIR = {
    "sylvie": "275033155500425",
    "lea": "211083155504497",
    "jean": "168073155512372",
    "henri": "155011305501013",
    "rose": "290069205003110",
}


def test_a_document_is_provided_found_and_retrieved_byte_for_byte(
    api: Api, session: Session, cast: Cast
) -> None:
    pdf = sample_pdf("Consultation du 20 novembre")
    # The search sends the stored JSON as its bytes: escapes and characters beyond Latin-1 too.
    title = 'CR « test » — \\ "cité" 🩺'
    response = api(
        "durand",
        "post",
        "/fhir",
        json=bundle("durand", "sylvie", Doc("11488-4", pdf, title=title)),
    )
    [doc_id] = provided_ids(response)
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201 Created"] * 3  # List, DocumentReference, Binary
    params = {"patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{NIR['sylvie']}"}
    searchset = api("durand", "get", "/fhir/DocumentReference", params=params).json()
    urls = {e["resource"]["id"]: e["fullUrl"] for e in searchset["entry"]}
    assert urls[doc_id] == f"http://127.0.0.1:8000/fhir/DocumentReference/{doc_id}"
    found = {d["id"]: d for d in search(api, "durand")}
    resource = found[doc_id]
    assert resource["content"][0]["attachment"]["title"] == title
    assert resource["type"]["coding"][0]["code"] == "11488-4"
    assert resource["category"][0]["coding"][0]["code"] == "10"
    assert resource["author"][0]["identifier"]["value"] == "810000000017"
    attachment = resource["content"][0]["attachment"]
    assert (
        attachment["hash"]
        == base64.b64encode(hashlib.sha1(pdf, usedforsecurity=False).digest()).decode()
    )
    assert attachment["url"].startswith("http://127.0.0.1:8000/fhir/Binary/")
    content = api("durand", "get", attachment["url"].removeprefix("http://127.0.0.1:8000"))
    assert content.status_code == 200
    assert content.content == pdf
    assert content.headers["content-type"] == "application/pdf"
    read = api("durand", "get", f"/fhir/DocumentReference/{doc_id}")
    assert read.json()["id"] == doc_id


def test_contents_are_encrypted_at_rest(api: Api, session: Session, settings: Any) -> None:
    pdf = sample_pdf()
    [doc_id] = provided_ids(
        api("durand", "post", "/fhir", json=bundle("durand", "sylvie", Doc("11488-4", pdf)))
    )
    entry = session.get(DocumentEntry, __import__("uuid").UUID(doc_id))
    assert entry is not None
    stored = LocalBlobStore(settings.data_dir / "blobs").get(entry.blob_key)
    assert not stored.startswith(b"%PDF")
    assert pdf[:200] not in stored
    assert entry.sha256 == hashlib.sha256(pdf).hexdigest()
    # sealed under a key of its own, kept wrapped by her data key; stored outside her folder
    assert entry.content_key is not None
    assert entry.content_key not in stored
    assert not entry.blob_key.startswith(str(entry.patient_id))
    assert entry.blob_key.endswith(entry.blob_id)


def test_every_provide_and_read_is_audited(api: Api, session: Session, cast: Cast) -> None:
    def actions() -> list[str]:
        return list(
            session.execute(
                select(AuditEntry.action)
                .where(AuditEntry.patient_id == cast.patients["sylvie"])
                .order_by(AuditEntry.seq)
            ).scalars()
        )

    before = len(actions())
    provided_ids(api("durand", "post", "/fhir", json=bundle("durand", "sylvie")))
    search(api, "durand")
    new = actions()[before:]
    assert "document.submit" in new
    assert "write" in new
    assert "search" in new


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda b: b["entry"][1]["resource"]["type"]["coding"][0].update(code="99999-9"),
            "Bundle.entry[1].resource.type",
        ),
        (
            lambda b: b["entry"][1]["resource"]["content"][0]["attachment"].update(hash="AAAA"),
            "Bundle.entry[1].resource.content[0].attachment.hash",
        ),
        (
            lambda b: b["entry"][1]["resource"]["content"][0]["attachment"].update(size=12),
            "Bundle.entry[1].resource.content[0].attachment.size",
        ),
        (lambda b: b["entry"][1]["resource"].pop("author"), "Bundle.entry[1].resource.author"),
        (
            lambda b: b["entry"][1]["resource"]["content"][0]["attachment"].update(
                contentType="application/x-msdownload"
            ),
            "Bundle.entry[1].resource.content[0].attachment.contentType",
        ),
        (
            lambda b: b["entry"][1]["resource"]["securityLabel"].append(
                {"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.13", "code": "SECRET"}]}
            ),
            "Bundle.entry[1].resource.securityLabel[0]",
        ),
        (
            lambda b: b["entry"][2]["resource"].update(data="JVBERi0x\nLjQK"),
            "Bundle.entry[2].resource.data",
        ),
        (lambda b: b["entry"][1]["resource"].pop("date"), "Bundle.entry[1].resource.date"),
        (lambda b: b.update(type="batch"), "Bundle.type"),
    ],
    ids=[
        "unknown type",
        "wrong hash",
        "wrong size",
        "no author",
        "refused MIME type",
        "unknown confidentiality",
        "broken base64",
        "no date",
        "not a transaction",
    ],
)
def test_bad_metadata_is_refused_naming_the_field_and_nothing_is_stored(
    api: Api, session: Session, cast: Cast, mutate: Callable[[dict[str, Any]], Any], field: str
) -> None:
    body = bundle("durand", "sylvie")
    body["entry"][1]["resource"]["date"] = "2026-11-20T10:00:00+01:00"
    mutate(body)
    before = count(session, cast)
    response = api("durand", "post", "/fhir", json=body)
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["expression"] == [field]
    assert count(session, cast) == before


def test_a_submission_is_all_or_nothing(
    api: Api, session: Session, cast: Cast, settings: Any
) -> None:
    good = Doc("11488-4", sample_pdf("first"))
    bad = Doc("11488-4", sample_pdf("second"))
    body = bundle("durand", "sylvie", good, bad)
    body["entry"][3]["resource"]["content"][0]["attachment"]["size"] = 1
    blobs_before = sum(1 for _ in LocalBlobStore(settings.data_dir / "blobs").iter_keys())
    before = count(session, cast)
    assert api("durand", "post", "/fhir", json=body).status_code == 400
    assert count(session, cast) == before
    assert sum(1 for _ in LocalBlobStore(settings.data_dir / "blobs").iter_keys()) == blobs_before


def test_a_content_that_is_not_what_its_type_says_is_refused(api: Api) -> None:
    body = bundle("durand", "sylvie", Doc("11488-4", b"MZ\x90\x00 not a pdf"))
    response = api("durand", "post", "/fhir", json=body)
    assert response.status_code == 400
    assert "not a PDF" in response.json()["issue"][0]["diagnostics"]


def test_a_content_over_the_size_limit_is_refused(
    client: Any, settings: Any, factory: Any, token: Callable[..., str], sender: Any
) -> None:
    from fastapi.testclient import TestClient

    from carnet.app import create_app

    small = settings.model_copy(update={"document_max_bytes": 1000})
    app = create_app(
        small, engine=factory.kw["bind"].engine, session_factory=factory, sender=sender
    )
    with TestClient(app, base_url=settings.base_url) as limited:
        response = limited.post(
            "/fhir",
            json=bundle("durand", "sylvie"),
            headers={"Authorization": f"Bearer {token('durand')}"},
        )
    assert response.status_code == 400
    assert "larger than the limit" in response.json()["issue"][0]["diagnostics"]


def test_an_unknown_patient_is_not_found(api: Api) -> None:
    body = bundle("durand", "sylvie")
    for entry in body["entry"]:
        if "subject" in entry["resource"]:
            entry["resource"]["subject"]["reference"] = (
                "Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|185057800608491"
            )
    assert api("durand", "post", "/fhir", json=body, who=None).status_code == 404


def test_a_pharmacist_feeds_a_record_without_a_consultation_authorization(
    api: Api, session: Session, cast: Cast
) -> None:
    body = bundle("moreau", "sylvie", Doc("60593-1", sample_pdf("Dispensation")))
    assert provided_ids(api("moreau", "post", "/fhir", json=body))
    refused = api(
        "moreau", "get", "/fhir/DocumentReference", params={"patient": str(cast.patients["sylvie"])}
    )
    assert refused.status_code == 403


def test_nobody_feeds_a_closed_record_and_excluded_actors_feed_nothing(
    api: Api, settings: Any
) -> None:
    store = LocalBlobStore(settings.data_dir / "blobs")
    before = set(store.iter_keys())
    assert (
        api("durand", "post", "/fhir", who="henri", json=bundle("durand", "henri")).status_code
        == 409
    )
    assert api("blanc", "post", "/fhir", json=bundle("blanc", "sylvie")).status_code == 404
    assert api("noir", "post", "/fhir", json=bundle("noir", "sylvie")).status_code == 403
    # the contents are stored before the decision, and removed when it refuses
    assert set(store.iter_keys()) == before


def test_a_patient_cannot_be_made_the_author_by_a_professional(api: Api) -> None:
    from carnet.documents.bundles import Author, provide_bundle

    body = provide_bundle(
        NIR["sylvie"], Author(ps_idnat=None), [Doc("DOCPAT01", sample_pdf(), type_system=TRE_A05)]
    )
    response = api("durand", "post", "/fhir", json=body)
    assert response.status_code == 400
    assert "patient's name" in response.json()["issue"][0]["diagnostics"]


def test_a_duplicate_unique_id_is_refused(api: Api) -> None:
    doc = Doc("11488-4", sample_pdf(), unique_id="urn:oid:1.2.250.1.999.42")
    assert provided_ids(api("durand", "post", "/fhir", json=bundle("durand", "sylvie", doc)))
    again = api("durand", "post", "/fhir", json=bundle("durand", "sylvie", doc))
    assert again.status_code == 409
    assert again.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.masterIdentifier"]


# --- lifecycle ----------------------------------------------------------------------


def test_a_replacement_supersedes_the_old_version_and_both_are_kept(api: Api) -> None:
    [old] = provided_ids(api("durand", "post", "/fhir", json=bundle("durand", "sylvie")))
    [new] = provided_ids(
        api(
            "durand",
            "post",
            "/fhir",
            json=bundle("durand", "sylvie", Doc("11488-4", sample_pdf("corrigé"), replaces=old)),
        )
    )
    current = {d["id"] for d in search(api, "durand")}
    assert new in current
    assert old not in current
    superseded = search(api, "durand", status="superseded")
    assert len(superseded) == 1
    assert (
        superseded[0]["identifier"]
        == api("durand", "get", f"/fhir/DocumentReference/{old}").json()["identifier"]
    )
    assert superseded[0]["meta"]["versionId"] == "2"
    replacement = api("durand", "get", f"/fhir/DocumentReference/{new}").json()
    assert replacement["relatesTo"][0]["target"]["reference"] == f"DocumentReference/{old}"


@pytest.mark.parametrize(
    "title",
    [
        "Consultation de psychiatrie",  # hidden from professionals by Sylvie (MASQUE_PS)
        "Compte rendu d'accouchement",  # podiatrists may not see it (the matrix)
    ],
)
def test_a_document_kept_from_a_writer_cannot_be_replaced_and_answers_as_unknown(
    api: Api, session: Session, cast: Cast, title: str
) -> None:
    """Naming a document it may not see as the one its submission replaces tells the writer
    nothing: the same answer as for an id that does not exist, and the document stays."""
    [hidden] = current_documents(session, cast.patients["sylvie"], DocumentEntry.title == title)
    answers = [
        api(
            "petit",
            "post",
            "/fhir",
            json=bundle("petit", "sylvie", Doc("11488-4", sample_pdf("x"), replaces=str(target))),
        )
        for target in (hidden.id, uuid.uuid4())
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json()["issue"] == answers[1].json()["issue"]
    session.refresh(hidden)
    assert (hidden.current, hidden.status) == (True, "current")


def test_only_the_author_deletes_and_deletion_is_logical(api: Api, session: Session) -> None:
    [doc] = provided_ids(api("durand", "post", "/fhir", json=bundle("durand", "sylvie")))
    provided = session.get(DocumentEntry, uuid.UUID(doc))
    assert provided is not None
    refused = api("petit", "post", f"/fhir/DocumentReference/{doc}/$delete")
    assert refused.status_code == 403
    [tried] = audit_rows(session, AuditEntry.action == "document.delete")  # what was tried stays
    assert (tried.outcome, tried.detail) == (
        "failed",
        f"failed=forbidden document={provided.logical_id}",
    )
    deleted = api("durand", "post", f"/fhir/DocumentReference/{doc}/$delete")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "entered-in-error"
    assert doc not in {d["id"] for d in search(api, "durand")}
    # seen by no one, by any of its ids: the version read before the deletion included
    for who in ("durand", "petit"):
        assert api(who, "get", f"/fhir/DocumentReference/{doc}").status_code == 404
        assert api(who, "get", f"/fhir/DocumentReference/{deleted.json()['id']}").status_code == 404
    versions = session.execute(
        select(DocumentEntry.status)
        .where(DocumentEntry.logical_id == provided.logical_id)
        .order_by(DocumentEntry.version)
    ).scalars()
    assert list(versions) == ["current", "entered-in-error"]


def test_archiving_is_a_new_version_marked_archived(api: Api) -> None:
    [doc] = provided_ids(api("durand", "post", "/fhir", json=bundle("durand", "sylvie")))
    archived = api("durand", "post", f"/fhir/DocumentReference/{doc}/$archive").json()
    flag = next(e for e in archived["extension"] if e["url"].endswith("isArchived"))
    assert flag["valueBoolean"] is True
    assert archived["id"] != doc
    restored = api("durand", "post", f"/fhir/DocumentReference/{archived['id']}/$unarchive").json()
    assert (
        next(e for e in restored["extension"] if e["url"].endswith("isArchived"))["valueBoolean"]
        is False
    )


def test_only_a_current_version_can_be_changed(api: Api) -> None:
    [doc] = provided_ids(api("durand", "post", "/fhir", json=bundle("durand", "sylvie")))
    api("durand", "post", f"/fhir/DocumentReference/{doc}/$archive")
    stale = api("durand", "post", f"/fhir/DocumentReference/{doc}/$unarchive")
    assert stale.status_code == 409


def test_whats_new_since_a_date(api: Api) -> None:
    before = search(api, "durand")
    latest = max(d["meta"]["lastUpdated"] for d in before)
    [doc] = provided_ids(api("durand", "post", "/fhir", json=bundle("durand", "sylvie")))
    new = search(api, "durand", _lastUpdated=f"gt{latest}")
    assert [d["id"] for d in new] == [doc]


def test_search_filters_by_type_category_date_and_pages(api: Api) -> None:
    biology = search(api, "durand", type="http://loinc.org|11502-2")
    assert biology
    assert all(d["type"]["coding"][0]["code"] == "11502-2" for d in biology)
    reports = search(api, "durand", category="10")
    assert all(d["category"][0]["coding"][0]["code"] == "10" for d in reports)
    old = search(api, "durand", date="lt2025-01-01")
    assert all(d["date"] < "2025-01-01" for d in old)
    page = api(
        "durand",
        "get",
        "/fhir/DocumentReference",
        params={
            "patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{NIR['sylvie']}",
            "_count": "2",
        },
    ).json()
    assert len(page["entry"]) == 2
    assert any(link["relation"] == "next" for link in page["link"])
    bad = api(
        "durand",
        "get",
        "/fhir/DocumentReference",
        params={
            "patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{NIR['sylvie']}",
            "date": "yesterday",
        },
    )
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["date"]


def test_a_writer_who_may_not_read_is_not_told_of_another_authors_exam(api: Api) -> None:
    from datetime import UTC, datetime

    def biology(day: int) -> Doc:
        return Doc(
            "11502-2", sample_pdf(f"Bilan {day}"), created=datetime(2026, 11, day, 8, tzinfo=UTC)
        )

    # Dr Durand (authorized) fed one; the lab (feeding without consent) must not learn of it.
    assert api("durand", "post", "/fhir", json=bundle("durand", "sylvie", biology(18))).is_success
    lab = api("haddad", "post", "/fhir", json=bundle("haddad", "sylvie", biology(20)))
    assert lab.is_success
    assert "outcome" not in lab.json()["entry"][1]["response"]


def test_the_same_exam_within_the_window_is_reported_in_the_response(api: Api) -> None:
    from datetime import UTC, datetime

    def biology(day: int) -> Doc:
        return Doc(
            "11502-2", sample_pdf(f"Bilan {day}"), created=datetime(2026, 11, day, 8, tzinfo=UTC)
        )

    first = api("haddad", "post", "/fhir", json=bundle("haddad", "sylvie", biology(18)))
    assert "outcome" not in first.json()["entry"][1]["response"]
    second = api("haddad", "post", "/fhir", json=bundle("haddad", "sylvie", biology(20)))
    outcome = second.json()["entry"][1]["response"]["outcome"]
    assert outcome["issue"][0]["severity"] == "warning"
    assert "18/11/2026" in outcome["issue"][0]["diagnostics"]
    assert "Haddad" in outcome["issue"][0]["diagnostics"]


def test_only_the_same_exam_within_the_window_is_reported_and_the_search_audited_once(
    api: Api, session: Session, cast: Cast
) -> None:
    from datetime import UTC, datetime

    def biology(month: int, day: int, title: str) -> Doc:
        return Doc(
            "11502-2",
            sample_pdf(title),
            title=title,
            created=datetime(2026, month, day, 8, tzinfo=UTC),
        )

    old = api("durand", "post", "/fhir", json=bundle("durand", "sylvie", biology(10, 1, "Oct")))
    assert old.is_success  # 50 days before: outside the 30-day window
    nov = api("durand", "post", "/fhir", json=bundle("durand", "sylvie", biology(11, 2, "Nov")))
    assert nov.is_success
    before = _searches_by(session, cast, "durand")
    both = api(
        "durand",
        "post",
        "/fhir",
        json=bundle("durand", "sylvie", biology(11, 20, "A"), biology(11, 20, "B")),
    )
    assert both.is_success
    notes = [
        item["response"]["outcome"]["issue"]
        for item in both.json()["entry"]
        if "outcome" in item["response"]
    ]
    assert len(notes) == 2  # each document of the submission is compared with the others too
    for issues in notes:
        told = " ".join(issue["diagnostics"] for issue in issues)
        assert "02/11/2026" in told
        assert "01/10/2026" not in told
    assert _searches_by(session, cast, "durand") == before + 1


def _searches_by(session: Session, cast: Cast, name: str) -> int:
    from tests.documents.conftest import RPPS

    session.expire_all()
    return session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.patient_id == cast.patients["sylvie"],
            AuditEntry.action == "search",
            AuditEntry.actor_ref == "8" + RPPS[name],  # the PS_IdNat
        )
    ).scalar_one()


DURAND = "810000000017"  # Dr Paul Durand's PS_IdNat


def durands_document(session: Session, cast: Cast) -> DocumentEntry:
    """One of Sylvie's documents by her médecin traitant, not masked: one the writers without
    her consent may not read."""
    theirs, *_ = current_documents(
        session,
        cast.patients["sylvie"],
        DocumentEntry.author_ref == DURAND,
        DocumentEntry.masked_ps.is_(False),
        DocumentEntry.status == "current",
    )
    return theirs


def test_a_writer_who_may_not_read_the_record_replaces_only_its_own_documents(
    api: Api, session: Session, cast: Cast
) -> None:
    """Dr Benali (no consent from Sylvie) may feed her record, and correct what she wrote; a
    document of someone else's, which she may not read, stays unknown to her."""
    [mine] = provided_ids(api("benali", "post", "/fhir", json=bundle("benali", "sylvie")))
    corrected = bundle("benali", "sylvie", Doc("11488-4", sample_pdf("corrigé"), replaces=mine))
    assert api("benali", "post", "/fhir", json=corrected).status_code == 200
    theirs = durands_document(session, cast)
    replacing = bundle("benali", "sylvie", Doc("11488-4", sample_pdf("x"), replaces=str(theirs.id)))
    refused = api("benali", "post", "/fhir", json=replacing)
    assert refused.status_code == 400
    assert "does not exist" in refused.json()["issue"][0]["diagnostics"]
    session.refresh(theirs)
    assert (theirs.current, theirs.status) == (True, "current")


def test_a_document_reached_by_its_id_does_not_tell_a_refused_actor_that_it_exists(
    api: Api, session: Session, cast: Cast
) -> None:
    """Dr Noir, blocked by Sylvie, asks for one of her documents by its id: "not found", as for
    an id that does not exist (the refusal is traced all the same). Dr Benali, who may feed
    her record but not read it, asks to archive Dr Durand's document: "not found" too."""
    theirs = durands_document(session, cast)
    for asked in (theirs.id, uuid.uuid4()):
        answer = api("noir", "get", f"/fhir/DocumentReference/{asked}")
        assert answer.status_code == 404, answer.text
    assert api("noir", "get", f"/fhir/Binary/{theirs.blob_id}").status_code == 404
    [denied, *_] = audit_rows(
        session, AuditEntry.outcome == "denied", AuditEntry.detail == "blocked_by_patient"
    )
    assert denied.patient_id == cast.patients["sylvie"]
    for asked in (theirs.id, uuid.uuid4()):
        archive = api("benali", "post", f"/fhir/DocumentReference/{asked}/$archive")
        assert archive.status_code == 404, archive.text
    [mine] = provided_ids(api("benali", "post", "/fhir", json=bundle("benali", "sylvie")))
    assert api("benali", "post", f"/fhir/DocumentReference/{mine}/$archive").status_code == 200
