"""Every lifecycle transition leaves one row on the patient's own hash chain, in order, with
who did it; the chain verifies afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from carnet.access import Actor, ActorKind
from carnet.audit.models import AuditEntry
from carnet.audit.service import chain_of, verify
from carnet.audit.transaction import audited_transaction
from carnet.patients.models import Patient
from carnet.records import service as records
from carnet.records.models import Channel, ClosureReason, Record

Trail = Callable[..., list[AuditEntry]]
LIFECYCLE = (
    "record.create",
    "record.activate",
    "record.oppose_creation",
    "record.access_choices",
    "record.close",
    "record.reactivate",
)


def test_each_transition_of_a_record_is_audited_on_the_patients_chain(
    session: Session,
    operator: Actor,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    frozen: Callable[[datetime], None],
    trail: Trail,
    now: datetime,
) -> None:
    person = newcomer()
    me = Actor(kind=ActorKind.PATIENT, ref=f"account:{person.id}", patient_id=person.id)
    durand = pro("durand")

    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)
    code = records.issue_activation_code(session, operator, person.id)
    frozen(now + timedelta(days=3))
    records.oppose_creation(session, nir=person.nir, code=code, birth_date=person.birth_date)
    frozen(now + timedelta(days=400))
    code = records.issue_activation_code(session, operator, person.id)
    records.activate_record(session, nir=person.nir, code=code, birth_date=person.birth_date)
    records.set_access_choices(
        session, me, person.id, emergency_access_opposed=True, regulator_access_opposed=False
    )
    frozen(now + timedelta(days=800))
    records.close_record(session, me, person.id, reason=ClosureReason.OTHER)
    frozen(now + timedelta(days=900))
    records.reactivate_record(session, durand, person.id, patient_consented=True)
    records.close_record(session, me, person.id, delete_now=True)

    rows = trail(person.id, *LIFECYCLE)
    assert [(row.action, row.actor_kind, row.detail) for row in rows] == [
        ("record.create", "operator", "channel=opt_out"),
        ("record.oppose_creation", "patient", None),
        ("record.create", "patient", "channel=online"),
        ("record.activate", "patient", None),
        ("record.access_choices", "patient", "emergency_opposed=True regulator_opposed=False"),
        ("record.close", "patient", "reason=FERMETURE_AUTRE"),
        ("record.reactivate", "professional", "patient_consented=true"),
        ("record.close", "patient", "reason=FERMETURE_DEMANDE_PATIENT"),
    ]
    assert all(row.chain == chain_of(person.id) for row in rows)
    assert all(row.patient_id == person.id and row.outcome == "allowed" for row in rows)
    assert [row.recorded_at for row in rows] == sorted(row.recorded_at for row in rows)
    assert rows[0].recorded_at == now
    assert rows[-1].recorded_at == now + timedelta(days=900)
    assert list(verify(session, chain_of(person.id))) == []


def test_the_transitions_survive_their_transaction_with_their_trail(
    factory: sessionmaker[Session],
    operator: Actor,
    newcomer: Callable[..., Patient],
    now: datetime,
) -> None:
    """Through the real transaction boundary: what a transition changed and its audit row are
    committed together."""
    person = newcomer()
    with audited_transaction(factory) as db:
        code = records.issue_activation_code(db, operator, person.id)
    with audited_transaction(factory) as db:
        records.activate_record(db, nir=person.nir, code=code, birth_date=person.birth_date)

    with factory() as db:
        record = db.get(Record, person.id)
        assert record is not None
        assert (record.status, record.channel) == ("open", "online")
        actions = [row.action for row in records.read_trail(db, _holder(person), person.id)]
        assert actions[:3] == [  # the trail as committed: this read shows from the next one
            "record.activate",
            "record.create",
            "activation_code.issue",
        ]


def _holder(person: Patient) -> Actor:
    return Actor(kind=ActorKind.PATIENT, ref=f"account:{person.id}", patient_id=person.id)
