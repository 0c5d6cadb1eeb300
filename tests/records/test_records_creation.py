"""Creating a record through each channel (domain.md §3.1): who may use which channel, the
patient's explicit consent at a counter, the opt-out route and its opposition window."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import authorize
from carnet.audit.models import AuditEntry
from carnet.errors import AccessDenied, Conflict, Forbidden, Invalid, NotFound
from carnet.patients.models import Patient
from carnet.records import service as records
from carnet.records.models import Channel, Record, RecordStatus
from tests.conftest import Cast
from tests.records.conftest import refused

Trail = Callable[..., list[AuditEntry]]


def test_the_operator_creates_an_open_record_at_the_insurer_counter(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    trail: Trail,
    now: datetime,
) -> None:
    person = newcomer()

    record = records.create_record(session, operator, person.id, channel=Channel.INSURER_COUNTER)

    assert (record.status, record.channel) == ("open", "insurer_counter")
    assert record.created_by == operator.ref
    assert record.opens_at == now
    assert record.effective_status(now) is RecordStatus.OPEN
    [row] = trail(person.id, "record.create")
    assert (row.detail, row.actor_kind, row.actor_ref) == (
        "channel=insurer_counter",
        "operator",
        operator.ref,
    )


@pytest.mark.parametrize(
    ("name", "channel"),
    [
        ("durand", Channel.PROFESSIONAL),
        ("moreau", Channel.PHARMACY),
        ("benali", Channel.ESTABLISHMENT),
    ],
)
def test_a_professional_creates_an_open_record_with_the_patients_consent(
    session: Session,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    trail: Trail,
    now: datetime,
    name: str,
    channel: Channel,
) -> None:
    person = newcomer()
    actor = pro(name)

    record = records.create_record(
        session, actor, person.id, channel=channel, patient_consented=True
    )

    stored = session.get(Record, person.id)
    assert stored is record
    assert (record.status, record.channel, record.created_by) == ("open", channel.value, actor.ref)
    [row] = trail(person.id, "record.create")
    assert row.detail == f"channel={channel.value} patient_consented=true"
    assert (row.actor_kind, row.actor_ref, row.actor_profession) == (
        "professional",
        actor.ref,
        actor.profession,
    )


def test_the_creator_records_the_patients_choices_on_emergency_and_regulator_access(
    session: Session, pro: Callable[..., Actor], newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()

    record = records.create_record(
        session,
        pro("durand"),
        person.id,
        channel=Channel.PROFESSIONAL,
        patient_consented=True,
        emergency_access_opposed=True,
    )

    assert record.emergency_access_opposed is True
    assert record.regulator_access_opposed is False


@pytest.mark.parametrize("channel", [Channel.PROFESSIONAL, Channel.PHARMACY, Channel.ESTABLISHMENT])
def test_a_counter_creation_without_the_patients_explicit_consent_is_invalid(
    session: Session,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    trail: Trail,
    now: datetime,
    channel: Channel,
) -> None:
    person = newcomer()

    with pytest.raises(Invalid) as refused:
        records.create_record(session, pro("moreau"), person.id, channel=channel)

    assert refused.value.field == "patient_consented"
    assert session.get(Record, person.id) is None
    assert trail(person.id, "record.create") == []


def test_only_a_pharmacist_can_create_a_record_at_the_pharmacy_counter(
    session: Session, pro: Callable[..., Actor], newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()

    for name in ("durand", "petit", "roux"):  # médecin, pédicure-podologue, dentiste
        with refused(Forbidden):
            records.create_record(
                session, pro(name), person.id, channel=Channel.PHARMACY, patient_consented=True
            )

    assert session.get(Record, person.id) is None


@pytest.mark.parametrize("channel", [Channel.INSURER_COUNTER, Channel.OPT_OUT])
def test_a_professional_cannot_use_the_insurers_channels(
    session: Session,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    now: datetime,
    channel: Channel,
) -> None:
    person = newcomer()

    with refused(Forbidden):
        records.create_record(
            session, pro("durand"), person.id, channel=channel, patient_consented=True
        )

    assert session.get(Record, person.id) is None


@pytest.mark.parametrize(
    "kind", [ActorKind.OPERATOR, ActorKind.PATIENT, ActorKind.APP, ActorKind.ANONYMOUS]
)
def test_only_professionals_can_use_the_professional_channels(
    session: Session, newcomer: Callable[..., Patient], now: datetime, kind: ActorKind
) -> None:
    person = newcomer()
    actor = Actor(kind=kind, ref="someone", patient_id=person.id)

    for channel in (Channel.PROFESSIONAL, Channel.PHARMACY, Channel.ESTABLISHMENT):
        with refused(Forbidden):
            records.create_record(
                session, actor, person.id, channel=channel, patient_consented=True
            )

    assert session.get(Record, person.id) is None


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("blanc", {}),  # occupational physician
        ("durand", {"structure_kind": "insurer", "facility_type": "SA23"}),  # e.g. a mutuelle
        ("durand", {"structure_kind": "employer", "facility_type": "SA48"}),
    ],
)
def test_an_excluded_actor_cannot_create_a_record_even_with_the_patients_consent(
    session: Session,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    trail: Trail,
    now: datetime,
    name: str,
    overrides: dict[str, str],
) -> None:
    person = newcomer()

    with refused(NotFound):
        records.create_record(
            session,
            pro(name, **overrides),
            person.id,
            channel=Channel.PROFESSIONAL,
            patient_consented=True,
        )

    assert session.get(Record, person.id) is None
    assert trail(person.id, "record.create") == []


def test_online_creation_is_not_a_counter_channel(
    session: Session, operator: Actor, newcomer: Callable[..., Patient], now: datetime
) -> None:
    person = newcomer()

    with pytest.raises(Invalid) as refused:
        records.create_record(session, operator, person.id, channel=Channel.ONLINE)

    assert refused.value.field == "channel"
    assert session.get(Record, person.id) is None


def test_a_person_creates_their_record_online_by_activating_it_with_a_code(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    trail: Trail,
    now: datetime,
) -> None:
    person = newcomer()
    code = records.issue_activation_code(session, operator, person.id)

    activated = records.activate_record(
        session, nir=person.nir, code=code, birth_date=person.birth_date
    )

    assert activated.id == person.id
    record = session.get(Record, person.id)
    assert record is not None
    assert (record.status, record.channel) == ("open", "online")
    assert record.created_by == f"patient:{person.id}"
    assert record.activated_at == now
    create, activate = trail(person.id, "record.create", "record.activate")
    assert (create.action, create.detail, create.actor_kind) == (
        "record.create",
        "channel=online",
        "patient",
    )
    assert activate.action == "record.activate"


def test_a_second_creation_is_refused_while_a_record_exists(
    session: Session,
    operator: Actor,
    pro: Callable[..., Actor],
    cast: Cast,
    trail: Trail,
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]
    before = len(trail(sylvie))

    with pytest.raises(Conflict):
        records.create_record(session, operator, sylvie, channel=Channel.INSURER_COUNTER)
    with pytest.raises(Conflict):
        records.create_record(
            session, pro("durand"), sylvie, channel=Channel.PROFESSIONAL, patient_consented=True
        )

    record = session.get(Record, sylvie)
    assert record is not None
    assert (record.status, record.channel) == ("open", "online")
    assert len(trail(sylvie)) == before


def test_an_unknown_person_gets_no_record(session: Session, operator: Actor, now: datetime) -> None:
    with refused(NotFound):
        records.create_record(session, operator, uuid.uuid4(), channel=Channel.INSURER_COUNTER)


# --- the opt-out route -------------------------------------------------------------------------


def test_an_opt_out_creation_is_pending_for_the_42_day_opposition_window(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    trail: Trail,
    now: datetime,
) -> None:
    person = newcomer()

    record = records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)

    assert (record.status, record.channel) == ("pending", "opt_out")
    assert record.opens_at == now + timedelta(days=42)
    [row] = trail(person.id, "record.create")
    assert row.detail == "channel=opt_out"


def test_an_opt_out_record_opens_by_itself_when_the_window_ends(
    session: Session,
    operator: Actor,
    newcomer: Callable[..., Patient],
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    person = newcomer()
    record = records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)
    window_end = now + timedelta(days=42)

    assert record.effective_status(window_end - timedelta(seconds=1)) is RecordStatus.PENDING
    assert record.effective_status(window_end) is RecordStatus.OPEN

    frozen(window_end + timedelta(days=1))
    session.flush()  # pending changes first: expiring discards them
    session.expire_all()
    reloaded = session.get(Record, person.id)
    assert reloaded is not None
    assert reloaded.status == "pending"  # nothing rewrote the row: the state is derived
    assert reloaded.effective_status(window_end + timedelta(days=1)) is RecordStatus.OPEN


@pytest.mark.parametrize("action", [Action.LOOKUP, Action.READ, Action.WRITE])
def test_a_pending_record_is_not_found_by_professionals(
    session: Session,
    operator: Actor,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    now: datetime,
    action: Action,
) -> None:
    person = newcomer()
    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)

    with pytest.raises(AccessDenied) as denied:
        authorize(session, pro("durand"), person.id, action)

    assert isinstance(denied.value.public, NotFound)
    assert denied.value.entry["detail"] == "no_record"


def test_a_pending_record_is_looked_up_by_professionals_once_the_window_has_passed(
    session: Session,
    operator: Actor,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    person = newcomer()
    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)

    with pytest.raises(AccessDenied) as denied:
        records.lookup_record(session, pro("durand"), person)
    assert isinstance(denied.value.public, NotFound)

    frozen(now + timedelta(days=42))
    view = records.lookup_record(session, pro("durand"), person)

    assert view.status is RecordStatus.OPEN
    assert view.authorization is None


# --- professionals' software: the token's patient and scopes -----------------------------------


def test_software_bound_to_one_patient_cannot_create_another_persons_record(
    session: Session,
    pro: Callable[..., Actor],
    cast: Cast,
    newcomer: Callable[..., Patient],
    now: datetime,
) -> None:
    person = newcomer()
    bound = pro("moreau", client_id="sys-pharmacie", bound_patient_id=cast.patients["sylvie"])

    with refused(NotFound):
        records.create_record(
            session, bound, person.id, channel=Channel.PHARMACY, patient_consented=True
        )

    assert session.get(Record, person.id) is None
    mine = pro(
        "moreau",
        client_id="sys-pharmacie",
        bound_patient_id=person.id,
        scopes=frozenset({"user/*.cruds"}),
    )
    records.create_record(
        session, mine, person.id, channel=Channel.PHARMACY, patient_consented=True
    )
    assert session.get(Record, person.id) is not None


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        ({"user/*.cruds"}, True),
        ({"user/Patient.c"}, True),
        ({"user/Patient.rs", "user/DocumentReference.cruds"}, False),
        (set(), False),
    ],
)
def test_software_creates_a_record_only_if_its_token_scopes_allow_creating_patients(
    session: Session,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    now: datetime,
    scopes: set[str],
    allowed: bool,
) -> None:
    person = newcomer()
    software = pro("durand", client_id="sys-carmes", scopes=frozenset(scopes))

    if allowed:
        records.create_record(
            session, software, person.id, channel=Channel.PROFESSIONAL, patient_consented=True
        )
    else:
        with refused(Forbidden):
            records.create_record(
                session, software, person.id, channel=Channel.PROFESSIONAL, patient_consented=True
            )

    assert (session.get(Record, person.id) is not None) is allowed
