"""Closing a record at any time, keeping it read-only for the retention period, asking for
definitive deletion, and reopening it with the patient's explicit consent (domain.md §3.2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from carnet.access import Action, Actor, ActorKind
from carnet.access.gate import authorize
from carnet.audit.models import AuditEntry
from carnet.errors import AccessDenied, CarnetError, Conflict, Forbidden, Invalid, NotFound
from carnet.patients.models import Patient
from carnet.records import service as records
from carnet.records.models import Channel, ClosureReason, Record, RecordStatus
from tests.conftest import Cast
from tests.records.conftest import refused

Trail = Callable[..., list[AuditEntry]]
HENRI_CLOSED_AT = datetime(2024, 5, 2, 15, 30, tzinfo=UTC)


def record_of(session: Session, patient_id: object) -> Record:
    record = session.get(Record, patient_id)
    assert record is not None
    return record


def refusal(call: Callable[[], object]) -> Exception:
    """The public error of a refused call (what the surfaces show)."""
    with pytest.raises(CarnetError) as refused:
        call()
    error = refused.value
    return error.public if isinstance(error, AccessDenied) else error


def test_the_holder_closes_their_record_with_a_reason_and_it_is_kept_ten_years(
    session: Session, holder: Callable[[str], Actor], cast: Cast, trail: Trail, now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]

    records.close_record(
        session,
        holder("sylvie"),
        sylvie,
        reason=ClosureReason.PATIENT_REQUEST,
        comment="  Je déménage à l'étranger.  ",
    )

    record = record_of(session, sylvie)
    assert record.status == "closed"
    assert record.effective_status(now) is RecordStatus.CLOSED
    assert (record.closed_at, record.closure_reason, record.closure_comment) == (
        now,
        "FERMETURE_DEMANDE_PATIENT",
        "Je déménage à l'étranger.",
    )
    assert record.retention_until == datetime(2036, 3, 2, 9, 30, tzinfo=UTC)
    assert record.deletion_requested is False
    [row] = trail(sylvie, "record.close")
    assert (row.outcome, row.detail, row.actor_ref) == (
        "allowed",
        "reason=FERMETURE_DEMANDE_PATIENT",
        "patient:sylvie",
    )


@pytest.mark.parametrize("reason", [ClosureReason.DEATH, ClosureReason.OTHER])
def test_the_closure_reason_is_recorded(
    session: Session,
    holder: Callable[[str], Actor],
    cast: Cast,
    trail: Trail,
    now: datetime,
    reason: ClosureReason,
) -> None:
    sylvie = cast.patients["sylvie"]

    records.close_record(session, holder("sylvie"), sylvie, reason=reason)

    assert record_of(session, sylvie).closure_reason == reason.value
    assert record_of(session, sylvie).closure_comment is None
    assert trail(sylvie, "record.close")[-1].detail == f"reason={reason.value}"


def test_a_record_closed_on_29_february_is_kept_until_28_february_ten_years_later(
    session: Session,
    holder: Callable[[str], Actor],
    cast: Cast,
    frozen: Callable[[datetime], None],
    now: datetime,
) -> None:
    frozen(datetime(2028, 2, 29, 12, 0, tzinfo=UTC))

    records.close_record(session, holder("sylvie"), cast.patients["sylvie"])

    assert record_of(session, cast.patients["sylvie"]).retention_until == datetime(
        2038, 2, 28, 12, 0, tzinfo=UTC
    )


def test_an_automatic_record_never_activated_can_be_closed_once_open(
    session: Session, holder: Callable[[str], Actor], cast: Cast, now: datetime
) -> None:
    jean = cast.patients["jean"]
    assert record_of(session, jean).channel == Channel.OPT_OUT.value

    records.close_record(session, holder("jean"), jean)

    assert record_of(session, jean).status == "closed"


def test_a_closed_record_is_read_only_for_everyone(
    session: Session,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
    operator: Actor,
    cast: Cast,
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]
    records.close_record(session, holder("sylvie"), sylvie)

    durand = pro("durand")
    assert isinstance(refusal(lambda: authorize(session, durand, sylvie, Action.WRITE)), Conflict)
    assert isinstance(refusal(lambda: authorize(session, durand, sylvie, Action.READ)), Conflict)
    assert isinstance(
        refusal(lambda: authorize(session, holder("sylvie"), sylvie, Action.WRITE)), Conflict
    )
    assert isinstance(
        refusal(
            lambda: records.set_access_choices(
                session,
                holder("sylvie"),
                sylvie,
                emergency_access_opposed=True,
                regulator_access_opposed=True,
            )
        ),
        Conflict,
    )
    assert isinstance(
        refusal(lambda: records.create_record(session, operator, sylvie, channel=Channel.OPT_OUT)),
        Conflict,
    )
    record = record_of(session, sylvie)
    assert (record.status, record.emergency_access_opposed) == ("closed", False)


def test_a_closed_record_cannot_be_closed_again(
    session: Session, holder: Callable[[str], Actor], cast: Cast, now: datetime
) -> None:
    henri = cast.patients["henri"]

    with pytest.raises(Conflict):
        records.close_record(session, holder("henri"), henri, delete_now=True)

    record = record_of(session, henri)
    assert (record.closed_at, record.deletion_requested) == (HENRI_CLOSED_AT, False)


@pytest.mark.parametrize("name", ["durand", "benali"])
def test_a_professional_cannot_close_the_patients_record(
    session: Session, pro: Callable[..., Actor], cast: Cast, now: datetime, name: str
) -> None:
    sylvie = cast.patients["sylvie"]

    with pytest.raises(AccessDenied) as denied:
        records.close_record(session, pro(name), sylvie)

    assert isinstance(denied.value.public, Forbidden)
    assert denied.value.entry["action"] == "record.close"
    assert record_of(session, sylvie).status == "open"


def test_a_connected_app_or_the_operator_cannot_close_a_record(
    session: Session, operator: Actor, cast: Cast, now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]
    pasfit = Actor(kind=ActorKind.APP, ref="pasfit", client_id="pasfit", patient_id=sylvie)

    for actor in (pasfit, operator):
        with pytest.raises(AccessDenied):
            records.close_record(session, actor, sylvie)

    assert record_of(session, sylvie).status == "open"


def test_a_professional_sees_the_closure_date_and_reason_when_looking_up_the_record(
    session: Session, pro: Callable[..., Actor], cast: Cast, trail: Trail, now: datetime
) -> None:
    henri = session.get(Patient, cast.patients["henri"])
    assert henri is not None

    view = records.lookup_record(session, pro("durand"), henri)

    assert view.status is RecordStatus.CLOSED
    assert (view.record.closed_at, view.record.closure_reason, view.record.closure_comment) == (
        HENRI_CLOSED_AT,
        "FERMETURE_DEMANDE_PATIENT",
        "Je ne souhaite plus utiliser le service.",
    )
    assert view.holder_view is False
    row = trail(henri.id)[-1]
    assert (row.action, row.outcome, row.actor_ref) == ("lookup", "allowed", pro("durand").ref)


def test_an_excluded_actor_does_not_even_learn_that_a_closed_record_exists(
    session: Session, pro: Callable[..., Actor], cast: Cast, now: datetime
) -> None:
    henri = session.get(Patient, cast.patients["henri"])
    assert henri is not None

    with pytest.raises(AccessDenied) as denied:
        records.lookup_record(session, pro("blanc"), henri)

    assert isinstance(denied.value.public, NotFound)


# --- definitive deletion -----------------------------------------------------------------------


def test_asking_for_definitive_deletion_ends_the_retention_now(
    session: Session, holder: Callable[[str], Actor], cast: Cast, now: datetime
) -> None:
    sylvie = cast.patients["sylvie"]

    records.close_record(session, holder("sylvie"), sylvie, delete_now=True)

    record = record_of(session, sylvie)
    assert (record.status, record.deletion_requested, record.retention_until) == (
        "closed",
        True,
        now,
    )


def test_a_record_whose_deletion_was_requested_cannot_be_reopened(
    session: Session,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
    cast: Cast,
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]
    records.close_record(session, holder("sylvie"), sylvie, delete_now=True)

    for actor in (holder("sylvie"), pro("durand")):
        with pytest.raises(Conflict, match="deletion"):
            records.reactivate_record(session, actor, sylvie, patient_consented=True)

    assert record_of(session, sylvie).status == "closed"


# --- reactivation ------------------------------------------------------------------------------


def test_the_holder_reopens_a_closed_record_with_explicit_consent(
    session: Session,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
    cast: Cast,
    trail: Trail,
    now: datetime,
) -> None:
    henri = cast.patients["henri"]

    records.reactivate_record(session, holder("henri"), henri, patient_consented=True)

    record = record_of(session, henri)
    assert record.status == "open"
    assert record.reactivated_at == now
    assert (
        record.closed_at,
        record.closure_reason,
        record.closure_comment,
        record.retention_until,
    ) == (None, None, None, None)
    [row] = trail(henri, "record.reactivate")
    assert (row.outcome, row.actor_ref) == ("allowed", "patient:henri")
    authorize(session, pro("durand"), henri, Action.WRITE)  # feeding works again


def test_a_professional_reopens_a_closed_record_in_the_patients_presence(
    session: Session, pro: Callable[..., Actor], cast: Cast, trail: Trail, now: datetime
) -> None:
    henri = cast.patients["henri"]
    moreau = pro("moreau")

    records.reactivate_record(session, moreau, henri, patient_consented=True)

    assert record_of(session, henri).status == "open"
    [row] = trail(henri, "record.reactivate")
    assert (row.actor_kind, row.actor_ref, row.actor_profession) == (
        "professional",
        moreau.ref,
        "21",
    )


@pytest.mark.parametrize("who", ["holder", "professional"])
def test_reopening_without_the_patients_explicit_consent_is_invalid(
    session: Session,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
    cast: Cast,
    trail: Trail,
    now: datetime,
    who: str,
) -> None:
    henri = cast.patients["henri"]
    actor = holder("henri") if who == "holder" else pro("durand")

    with pytest.raises(Invalid) as refused:
        records.reactivate_record(session, actor, henri, patient_consented=False)

    assert refused.value.field == "patient_consented"
    assert record_of(session, henri).status == "closed"
    assert trail(henri, "record.reactivate") == []


def test_an_open_record_cannot_be_reopened(
    session: Session,
    holder: Callable[[str], Actor],
    pro: Callable[..., Actor],
    cast: Cast,
    now: datetime,
) -> None:
    sylvie = cast.patients["sylvie"]

    for actor in (holder("sylvie"), pro("durand")):
        with pytest.raises(Conflict):
            records.reactivate_record(session, actor, sylvie, patient_consented=True)


def test_an_excluded_actor_cannot_reopen_a_record(
    session: Session, pro: Callable[..., Actor], cast: Cast, trail: Trail, now: datetime
) -> None:
    henri = cast.patients["henri"]

    with refused(NotFound):
        records.reactivate_record(session, pro("blanc"), henri, patient_consented=True)

    assert record_of(session, henri).status == "closed"
    assert trail(henri, "record.reactivate") == []


@pytest.mark.parametrize("state", ["pending", "opposed"])
def test_a_professional_trying_to_reopen_a_pending_or_opposed_record_finds_nothing(
    session: Session,
    operator: Actor,
    pro: Callable[..., Actor],
    newcomer: Callable[..., Patient],
    now: datetime,
    state: str,
) -> None:
    person = newcomer()
    records.create_record(session, operator, person.id, channel=Channel.OPT_OUT)
    if state == "opposed":
        code = records.issue_activation_code(session, operator, person.id)
        records.oppose_creation(session, nir=person.nir, code=code, birth_date=person.birth_date)

    with refused(NotFound):
        records.reactivate_record(session, pro("durand"), person.id, patient_consented=True)

    assert record_of(session, person.id).status == state


def test_another_patient_or_the_operator_cannot_reopen_a_record(
    session: Session, holder: Callable[[str], Actor], operator: Actor, cast: Cast, now: datetime
) -> None:
    henri = cast.patients["henri"]

    for actor in (holder("sylvie"), operator):
        with pytest.raises(AccessDenied) as denied:
            records.reactivate_record(session, actor, henri, patient_consented=True)
        assert isinstance(denied.value.public, NotFound)

    assert record_of(session, henri).status == "closed"


def test_online_activation_does_not_reopen_a_closed_record(
    session: Session, operator: Actor, cast: Cast, now: datetime
) -> None:
    henri = session.get(Patient, cast.patients["henri"])
    assert henri is not None
    code = records.issue_activation_code(session, operator, henri.id)

    with pytest.raises(Invalid):  # without the right code, the state is not revealed
        records.activate_record(
            session, nir=henri.nir, code="AAAA-BBBB-CCCC", birth_date=henri.birth_date
        )
    with pytest.raises(Conflict, match="closed"):
        records.activate_record(session, nir=henri.nir, code=code, birth_date=henri.birth_date)

    assert record_of(session, henri.id).status == "closed"


def test_software_reopens_a_record_only_within_its_tokens_patient_and_scopes(
    session: Session, pro: Callable[..., Actor], cast: Cast, trail: Trail, now: datetime
) -> None:
    henri = cast.patients["henri"]
    other_patient = pro("durand", client_id="sys-carmes", bound_patient_id=cast.patients["sylvie"])
    read_only = pro("durand", client_id="sys-carmes", scopes=frozenset({"user/*.rs"}))

    with refused(NotFound):
        records.reactivate_record(session, other_patient, henri, patient_consented=True)
    with refused(Forbidden):
        records.reactivate_record(session, read_only, henri, patient_consented=True)
    assert record_of(session, henri).status == "closed"
    assert trail(henri, "record.reactivate") == []

    allowed = pro(
        "durand", client_id="sys-carmes", bound_patient_id=henri, scopes=frozenset({"user/*.cruds"})
    )
    records.reactivate_record(session, allowed, henri, patient_consented=True)
    assert record_of(session, henri).status == "open"
