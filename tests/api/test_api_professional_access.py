"""End-to-end: professionals' software obtains real tokens with RFC 7523 assertions and looks
up records by INS (TD0.2), within the access policy, every refusal included."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.audit.models import AuditEntry
from carnet.authorizations.models import Authorization
from carnet.professionals import service as directory
from tests.conftest import INS, JWT_BEARER, NIRS, OPERATOR, Cast

CARMES, CHU, SAMU, PHARMACY, LAB, PODO, DENTAL, SST, INSURER, NOIR = (
    "310000013",
    "310781406",
    "310000021",
    "310000039",
    "310000047",
    "310000054",
    "310000062",
    "310000070",
    "750000010",
    "310000088",
)
RPPS = {
    "durand": "10000000017",
    "benali": "10000000025",
    "lefevre": "10000000033",
    "moreau": "10000000041",
    "petit": "10000000058",
    "roux": "10000000066",
    "blanc": "10000000074",
    "noir": "10000000082",
}
HOME = {
    "durand": CARMES,
    "benali": CHU,
    "lefevre": SAMU,
    "moreau": PHARMACY,
    "petit": PODO,
    "roux": DENTAL,
    "blanc": SST,
    "noir": NOIR,
}
REASON = "patiente inconsciente, détresse respiratoire"


def lookup(client: TestClient, token: str, who: str = "sylvie") -> Any:
    return client.get(
        "/fhir/Patient",
        params={"identifier": INS.format(NIRS[who])},
        headers={"Authorization": f"Bearer {token}"},
    )


def ext(resource: dict[str, Any], name: str) -> Any:
    for item in resource.get("extension", []):
        if item["url"].endswith("/" + name):
            return item
    return None


def token_for(
    system_token: Callable[..., str], name: str, who: str | None = "sylvie", **claims: Any
) -> str:
    return system_token(HOME[name], RPPS[name], who, **claims)


def test_the_server_advertises_its_endpoints(client: TestClient) -> None:
    metadata = client.get("/fhir/metadata")
    assert metadata.status_code == 200
    assert metadata.headers["content-type"].startswith("application/fhir+json")
    body = metadata.json()
    assert body["resourceType"] == "CapabilityStatement"
    assert {r["type"] for r in body["rest"][0]["resource"]} >= {"Patient", "Consent", "AuditEvent"}
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    CapabilityStatement.model_validate(body)  # a valid FHIR resource, not just JSON
    smart = client.get("/fhir/.well-known/smart-configuration").json()
    assert smart["token_endpoint"] == "http://127.0.0.1:8000/oauth/token"
    assert "urn:ietf:params:oauth:grant-type:jwt-bearer" in smart["grant_types_supported"]
    assert "S256" in smart["code_challenge_methods_supported"]


@pytest.mark.parametrize(
    ("name", "authorization", "treating"),
    [
        ("durand", "VALIDE", True),
        ("petit", "VALIDE", False),
        ("roux", "VALIDE", False),
        ("benali", "NON_EXISTE", False),
        ("moreau", "NON_EXISTE", False),
        ("noir", "INTERDIT", False),
    ],
)
def test_each_professional_learns_the_record_status_and_their_standing(
    client: TestClient,
    system_token: Callable[..., str],
    name: str,
    authorization: str,
    treating: bool,
) -> None:
    response = lookup(client, token_for(system_token, name))
    assert response.status_code == 200, response.text
    patient = response.json()["entry"][0]["resource"]
    assert patient["active"] is True
    assert ext(patient, "dmp-autorisation")["valueCode"] == authorization
    assert ext(patient, "dmp-medecin-traitant")["valueBoolean"] is treating
    assert "name" not in patient  # identity traits are not returned to professionals (RG_0320)


def test_an_occupational_physician_is_told_nothing(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    response = lookup(client, token_for(system_token, "blanc"))
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_an_insurers_staff_is_told_nothing(
    client: TestClient, session: Session, system_token: Callable[..., str]
) -> None:
    directory.upsert_professional(
        session,
        OPERATOR,
        {
            "rpps": "10000000090",
            "given_name": "Luc",
            "family_name": "Conseil",
            "profession_code": "10",
            "structure": "1" + INSURER,
        },
    )
    session.flush()
    response = client.get(
        "/fhir/Patient",
        params={"identifier": INS.format(NIRS["sylvie"])},
        headers={"Authorization": "Bearer " + system_token(INSURER, "10000000090", "sylvie")},
    )
    assert response.status_code == 404


def test_a_closed_record_shows_its_closure(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    patient = lookup(client, token_for(system_token, "durand", "henri"), "henri").json()
    resource = patient["entry"][0]["resource"]
    assert resource["active"] is False
    closure = ext(resource, "dmp-fermeture")
    values = {e["url"]: e for e in closure["extension"]}
    assert values["motif"]["valueCode"] == "FERMETURE_DEMANDE_PATIENT"
    assert values["date"]["valueDateTime"].startswith("2024-05-02")


def test_a_record_created_by_opt_out_and_never_activated_is_open_but_not_attached(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    resource = lookup(client, token_for(system_token, "durand", "jean"), "jean").json()
    resource = resource["entry"][0]["resource"]
    assert resource["active"] is True
    assert ext(resource, "dmp-rattachement-mes")["valueBoolean"] is False


@pytest.mark.parametrize("who", ["rose"])
def test_an_opposed_creation_leaves_no_record(
    client: TestClient, system_token: Callable[..., str], who: str
) -> None:
    assert lookup(client, token_for(system_token, "durand", who), who).status_code == 404


def test_an_unknown_ins_is_not_found_and_a_malformed_one_is_explained(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "durand", None)
    unknown = client.get(
        "/fhir/Patient",
        params={"identifier": INS.format("185057800608491")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert unknown.status_code == 404
    bad = client.get(
        "/fhir/Patient",
        params={"identifier": INS.format("275033155500426")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 400
    assert "expected 25" in bad.json()["issue"][0]["diagnostics"]
    missing = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 400
    assert "identifier" in missing.json()["issue"][0]["diagnostics"]


def test_a_token_bound_to_one_patient_sees_no_other(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "durand", "sylvie")
    assert lookup(client, token, "jean").status_code == 404


def test_emergency_access_is_flagged_on_the_response_and_traced_with_its_reason(
    client: TestClient, session: Session, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "benali", purpose_of_use="bris_de_glace", reason=REASON)
    response = lookup(client, token)
    assert response.status_code == 200
    assert response.headers["x-carnet-access-mode"] == "emergency"
    entry = session.execute(
        select(AuditEntry)
        .where(AuditEntry.patient_id == cast.patients["sylvie"])
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).scalar_one()
    assert (entry.mode, entry.reason, entry.actor_ref) == (
        "emergency",
        REASON,
        "8" + RPPS["benali"],
    )


def test_regulator_mode_works_for_the_samu_regulator(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "lefevre", purpose_of_use="regulation")
    response = lookup(client, token)
    assert response.status_code == 200
    assert response.headers["x-carnet-access-mode"] == "regulator"


def test_every_refused_lookup_is_traced_on_the_patients_trail(
    client: TestClient, session: Session, cast: Cast, system_token: Callable[..., str]
) -> None:
    lookup(client, token_for(system_token, "blanc"))
    entry = session.execute(
        select(AuditEntry)
        .where(AuditEntry.patient_id == cast.patients["sylvie"])
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).scalar_one()
    assert (entry.outcome, entry.detail, entry.actor_ref) == (
        "denied",
        "excluded_actor",
        "8" + RPPS["blanc"],
    )


# --- the token endpoint refuses what it must ------------------------------------------


def post_assertion(client: TestClient, signed: str) -> Any:
    return client.post("/oauth/token", data={"grant_type": JWT_BEARER, "assertion": signed})


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"purpose_of_use": "bris_de_glace"}, "reason"),
        ({"purpose_of_use": "regulation"}, "Regulator mode"),
        ({"purpose_of_use": "curiosity"}, "purpose_of_use"),
        ({"profession": "21"}, "profession"),
    ],
)
def test_the_token_endpoint_explains_bad_claims(
    client: TestClient, assertion: Callable[..., str], claims: dict[str, str], expected: str
) -> None:
    response = post_assertion(client, assertion(CHU, "8" + RPPS["benali"], **claims))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert expected in response.json()["error_description"]


def test_an_unknown_professional_or_one_from_another_structure_gets_no_token(
    client: TestClient, assertion: Callable[..., str]
) -> None:
    unknown = post_assertion(client, assertion(CHU, "899999999999"))
    assert unknown.status_code == 400
    assert "sub" in unknown.json()["error_description"]
    elsewhere = post_assertion(client, assertion(CHU, "8" + RPPS["durand"]))
    assert elsewhere.status_code == 400
    assert "structure" in elsewhere.json()["error_description"]


def test_a_replayed_assertion_is_refused(client: TestClient, assertion: Callable[..., str]) -> None:
    signed = assertion(CARMES, "8" + RPPS["durand"])
    assert post_assertion(client, signed).status_code == 200
    replay = post_assertion(client, signed)
    assert replay.status_code == 400
    assert "already used" in replay.json()["error_description"]


def _sign(cast: Cast, settings: Any, finess: str, key_of: str, **overrides: Any) -> str:
    client_id, _ = cast.systems[finess]
    key = ECKey.import_key(cast.systems[key_of][1].read_text())
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": "8" + RPPS["durand"],
        "aud": settings.token_endpoint,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        **overrides,
    }
    return jwt.encode({"alg": "ES256"}, body, key)


def test_an_assertion_signed_with_another_key_or_for_another_audience_is_refused(
    client: TestClient, cast: Cast, settings: Any
) -> None:
    forged = post_assertion(client, _sign(cast, settings, CARMES, LAB))
    assert forged.status_code == 400
    assert forged.json()["error"] == "invalid_grant"
    wrong_aud = post_assertion(
        client, _sign(cast, settings, CARMES, CARMES, aud="https://elsewhere.example/token")
    )
    assert wrong_aud.status_code == 400
    expired = post_assertion(
        client,
        _sign(
            cast, settings, CARMES, CARMES, iat=int(time.time()) - 600, exp=int(time.time()) - 300
        ),
    )
    assert expired.status_code == 400
    too_long = post_assertion(
        client, _sign(cast, settings, CARMES, CARMES, exp=int(time.time()) + 3600)
    )
    assert too_long.status_code == 400
    assert "at most" in too_long.json()["error_description"]
    unknown_client = post_assertion(
        client, _sign(cast, settings, CARMES, CARMES, iss="sys-unknown")
    )
    assert unknown_client.status_code == 400


def test_requests_without_a_valid_token_are_refused(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    params = {"identifier": INS.format(NIRS["sylvie"])}
    assert client.get("/fhir/Patient", params=params).status_code == 401
    token = token_for(system_token, "durand")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = client.get(
        "/fhir/Patient", params=params, headers={"Authorization": f"Bearer {tampered}"}
    )
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"


# --- consent: TD0.3 declarations and the holder's decisions --------------------------


def consent_body(
    cast: Cast,
    who: str,
    rpps: str,
    *,
    verified: bool = True,
    provision: str = "permit",
    status: str = "active",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Consent",
        "status": status,
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{cast.patients[who]}"},
        "provision": {
            "type": provision,
            "actor": [
                {
                    "role": {"coding": [{"code": "PRCP"}]},
                    "reference": {
                        "identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "8" + rpps}
                    },
                }
            ],
        },
    }
    if verified:
        body["verification"] = [{"verified": True}]
    return body


def test_a_professional_declares_the_patients_consent_and_then_has_access(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "benali")
    headers = {"Authorization": f"Bearer {token}"}
    before = lookup(client, token).json()["entry"][0]["resource"]
    assert ext(before, "dmp-autorisation")["valueCode"] == "NON_EXISTE"
    created = client.post(
        "/fhir/Consent", json=consent_body(cast, "sylvie", RPPS["benali"]), headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["provision"]["type"] == "permit"
    assert created.headers["location"].endswith(created.json()["id"])
    after = lookup(client, token).json()["entry"][0]["resource"]
    assert ext(after, "dmp-autorisation")["valueCode"] == "VALIDE"


def test_consent_is_never_declared_without_an_explicit_confirmation(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "benali")
    response = client.post(
        "/fhir/Consent",
        json=consent_body(cast, "sylvie", RPPS["benali"], verified=False),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["patient_consented"]


def test_a_blocked_professional_cannot_declare_consent(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "noir")
    response = client.post(
        "/fhir/Consent",
        json=consent_body(cast, "sylvie", RPPS["noir"]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert "blocked" in response.json()["issue"][0]["diagnostics"]


def test_a_professional_cannot_declare_consent_for_someone_else(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "benali")
    response = client.post(
        "/fhir/Consent",
        json=consent_body(cast, "sylvie", RPPS["moreau"]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400


def test_a_bad_consent_resource_is_rejected_with_the_field_named(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "benali")
    body = consent_body(cast, "sylvie", RPPS["benali"])
    body["status"] = "maybe"
    response = client.post("/fhir/Consent", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"][0].startswith("Consent.")
    not_consent = client.post(
        "/fhir/Consent",
        json={"resourceType": "Patient"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert not_consent.status_code == 400


def test_a_professional_reads_only_their_own_consent(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    token = token_for(system_token, "durand")
    bundle = client.get(
        "/fhir/Consent",
        params={"patient": str(cast.patients["sylvie"])},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert bundle["total"] == 1
    consent = bundle["entry"][0]["resource"]
    assert (
        consent["provision"]["actor"][0]["reference"]["identifier"]["value"] == "8" + RPPS["durand"]
    )


# --- record creation at a counter, reactivation ---------------------------------------


def parameters(**values: Any) -> dict[str, Any]:
    out = []
    for name, value in values.items():
        kind = "valueBoolean" if isinstance(value, bool) else "valueString"
        out.append({"name": name.replace("_", "-"), kind: value})
    return {"resourceType": "Parameters", "parameter": out}


def register_newcomer(session: Session) -> str:
    from datetime import date

    from carnet.patients import service as patients

    nir = "185057800608491"
    patients.register_patient(
        session,
        OPERATOR,
        nir=nir,
        birth_name="NOUVEAU",
        birth_given_names=["PAUL"],
        birth_date=date(1985, 5, 3),
        sex="M",
        birth_place_code="78006",
    )
    session.flush()
    return INS.format(nir)


def test_a_pharmacist_creates_a_record_at_the_counter_with_the_patients_consent(
    client: TestClient, session: Session, system_token: Callable[..., str]
) -> None:
    identifier = register_newcomer(session)
    token = system_token(PHARMACY, RPPS["moreau"], None)
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.post(
        "/fhir/Patient/$create-record",
        headers=headers,
        json=parameters(identifier=identifier, channel="pharmacy"),
    )
    assert refused.status_code == 400
    assert refused.json()["issue"][0]["expression"] == ["patient_consented"]
    created = client.post(
        "/fhir/Patient/$create-record",
        headers=headers,
        json=parameters(
            identifier=identifier,
            channel="pharmacy",
            patient_consented=True,
            regulator_access_opposed=True,
        ),
    )
    assert created.status_code == 201, created.text
    assert created.json()["active"] is True
    again = client.post(
        "/fhir/Patient/$create-record",
        headers=headers,
        json=parameters(identifier=identifier, channel="pharmacy", patient_consented=True),
    )
    assert again.status_code == 409


def test_only_a_pharmacist_uses_the_pharmacy_channel(
    client: TestClient, session: Session, system_token: Callable[..., str]
) -> None:
    identifier = register_newcomer(session)
    token = system_token(PODO, RPPS["petit"], None)
    response = client.post(
        "/fhir/Patient/$create-record",
        headers={"Authorization": f"Bearer {token}"},
        json=parameters(identifier=identifier, channel="pharmacy", patient_consented=True),
    )
    assert response.status_code == 403


def test_a_doctor_reopens_a_closed_record_only_with_the_patients_consent(
    client: TestClient, system_token: Callable[..., str]
) -> None:
    token = system_token(CARMES, RPPS["durand"], None)
    headers = {"Authorization": f"Bearer {token}"}
    body = parameters(identifier=INS.format(NIRS["henri"]))
    assert (
        client.post("/fhir/Patient/$reactivate-record", headers=headers, json=body).status_code
        == 400
    )
    reopened = client.post(
        "/fhir/Patient/$reactivate-record",
        headers=headers,
        json=parameters(identifier=INS.format(NIRS["henri"]), patient_consented=True),
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["active"] is True


# --- review fixes: identities cannot be borrowed, tokens reveal nothing --------------------


def test_a_system_cannot_speak_for_a_professional_outside_its_structure(
    client: TestClient, session: Session, assertion: Callable[..., str]
) -> None:
    directory.upsert_professional(
        session,
        OPERATOR,
        {
            "rpps": "10000000165",
            "given_name": "Sans",
            "family_name": "Structure",
            "profession_code": "10",
        },
    )
    session.flush()
    response = post_assertion(client, assertion(INSURER, "810000000165"))
    assert response.status_code == 400
    assert "structure" in response.json()["error_description"]


def test_the_token_says_nothing_about_who_has_a_record(
    client: TestClient, assertion: Callable[..., str]
) -> None:
    import base64
    import json as jsonlib

    for nir in (NIRS["rose"], "185057800608491", NIRS["sylvie"]):
        response = post_assertion(
            client, assertion(CARMES, "8" + RPPS["durand"], patient=INS.format(nir))
        )
        assert response.status_code == 200
        assert "patient" not in response.json()
        payload = response.json()["access_token"].split(".")[1]
        claims = jsonlib.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert "patient" not in claims
        assert claims["pins"] == f"1.2.250.1.213.1.4.8|{nir}"


def test_an_emergency_token_is_for_one_patient(
    client: TestClient, assertion: Callable[..., str]
) -> None:
    response = post_assertion(
        client, assertion(CHU, "8" + RPPS["benali"], purpose_of_use="bris_de_glace", reason=REASON)
    )
    assert response.status_code == 400
    assert "patient" in response.json()["error_description"]


def test_a_professional_reads_his_own_consent_by_id_and_no_one_elses(
    client: TestClient, session: Session, cast: Cast, system_token: Callable[..., str]
) -> None:
    sylvie = cast.patients["sylvie"]
    headers = {"Authorization": f"Bearer {token_for(system_token, 'durand')}"}
    own = client.get("/fhir/Consent", params={"patient": str(sylvie)}, headers=headers).json()
    [mine] = [e["resource"]["id"] for e in own["entry"]]
    others = session.execute(
        select(Authorization.id).where(
            Authorization.patient_id == sylvie, Authorization.id != uuid.UUID(mine)
        )
    ).scalars()
    other = str(next(iter(others)))  # another professional's consent on her record

    assert client.get(f"/fhir/Consent/{mine}", headers=headers).status_code == 200
    refused = client.get(f"/fhir/Consent/{other}", headers=headers)
    assert refused.status_code == 404
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_a_consent_update_cannot_change_which_professional_it_is_about(
    client: TestClient, cast: Cast, system_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {token_for(system_token, 'durand')}"}
    own = client.get(
        "/fhir/Consent", params={"patient": str(cast.patients["sylvie"])}, headers=headers
    ).json()["entry"][0]["resource"]
    body = consent_body(cast, "sylvie", RPPS["noir"], provision="deny", status="inactive")
    response = client.put(f"/fhir/Consent/{own['id']}", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Consent.provision.actor"]


def test_a_consent_status_other_than_active_or_inactive_is_refused(
    session: Session, cast: Cast
) -> None:
    from carnet.access import Actor, ActorKind
    from carnet.authorizations import service as authorizations
    from carnet.errors import Invalid

    sylvie = Actor(kind=ActorKind.PATIENT, ref="sylvie", patient_id=cast.patients["sylvie"])
    with pytest.raises(Invalid) as refused:
        authorizations.apply_consent(
            session,
            sylvie,
            cast.patients["sylvie"],
            ps_idnat="8" + RPPS["noir"],
            status="draft",
            provision="deny",
            treating_doctor=False,
            verified=False,
        )
    assert refused.value.field == "Consent.status"
