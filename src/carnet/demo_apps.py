"""Demo data for the apps: the operator's catalogue (PasFit labelled, plus a second labelled
app nobody connected yet), Sylvie's connection to PasFit, and two weeks of daily steps and
weight that PasFit pushed through the same service path as the FHIR API, with PasFit as
their source."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Actor, ActorKind
from carnet.accounts import service as accounts
from carnet.apps import service as apps
from carnet.profile import service as profile
from carnet.profile.fhir import parse_resource

OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="demo", display_name="Opérateur (démo)")
SYLVIE_LOGIN = "sylvie.martin@example.org"
PASFIT_SCOPES = "launch/patient openid fhirUser patient/Observation.cruds"
DAYS = 14
STEPS = (6840, 8120, 10450, 7310, 9020, 11830, 4980, 7650, 8890, 12210, 6430, 9780, 10120, 7560)
WEIGHTS = (68.4, 68.3, 68.3, 68.1, 68.2, 68.0, 67.9, 68.0, 67.8, 67.9, 67.7, 67.6, 67.7, 67.5)


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    """Events at their real date (the trail shows them in order), like ``carnet.demo.at``."""
    previous = clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(previous)


def _observation(
    patient_id: str, loinc: str, display: str, day: datetime, quantity: dict[str, Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": f"Patient/{patient_id}"},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "activity" if loinc == "41950-7" else "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": display}]},
        "effectiveDateTime": day.isoformat().replace("+00:00", "Z"),
        "valueQuantity": quantity,
        "device": {"display": "PasFit"},
    }


def load(session: Session, people: dict[str, Any], pros: dict[str, Any]) -> None:
    """Curates the catalogue, connects PasFit to Sylvie's record and feeds two weeks of data."""
    today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS + 1)
    with _at(start - timedelta(days=30)):
        apps.label_app(session, OPERATOR, client_id="pasfit", category="physical_activity")
        tensio = apps.register_app(
            session,
            OPERATOR,
            name="TensioCarnet",
            client_id="tensiocarnet",
            redirect_uris=["https://tensio.example.org/carnet/callback"],
            allowed_scopes=(
                "launch/patient openid fhirUser patient/Observation.cruds "
                "patient/MedicationStatement.rs"
            ),
            description="Carnet de tension : vos mesures de tension artérielle à la maison.",
            publisher="TensioCarnet SAS",
            category="chronic_conditions",
            launch_url="https://tensio.example.org/connect",
        )
        apps.label_app(session, OPERATOR, client_id=tensio.client_id)

    account = accounts.find_account(session, SYLVIE_LOGIN)
    assert account is not None
    sylvie = people["sylvie"]
    with _at(start):
        # Sylvie connected PasFit from the app (the SMART flow ends with this grant)
        apps.record_grant(
            session,
            accounts.actor_for_account(session, account),
            patient_id=sylvie.id,
            client_id="pasfit",
            scope=PASFIT_SCOPES,
        )
        session.flush()
    pasfit = Actor(  # what PasFit's access token says (carnet.web.tokens.actor_from_claims)
        kind=ActorKind.APP,
        ref=f"account:{account.id}",
        display_name="PasFit",
        account_id=account.id,
        patient_id=sylvie.id,
        client_id="pasfit",
        scopes=frozenset(PASFIT_SCOPES.split()),
        bound_patient_id=sylvie.id,
    )
    for day in range(DAYS):
        moment = start + timedelta(days=day + 1, hours=21)
        with _at(moment + timedelta(minutes=5)):
            steps = _observation(
                str(sylvie.id),
                "41950-7",
                "Nombre de pas sur 24 heures",
                moment,
                {
                    "value": STEPS[day],
                    "unit": "pas",
                    "system": "http://unitsofmeasure.org",
                    "code": "{steps}/(24.h)",
                },
            )
            profile.create(session, pasfit, sylvie.id, parse_resource(steps, "Observation"))
            if day % 2 == 0:  # PasFit's scale syncs every other day
                weight = _observation(
                    str(sylvie.id),
                    "29463-7",
                    "Poids corporel",
                    moment.replace(hour=7, tzinfo=UTC),
                    {
                        "value": WEIGHTS[day],
                        "unit": "kg",
                        "system": "http://unitsofmeasure.org",
                        "code": "kg",
                    },
                )
                profile.create(session, pasfit, sylvie.id, parse_resource(weight, "Observation"))
