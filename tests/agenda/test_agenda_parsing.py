"""The two readers of an appointment (the FHIR resource and the portal form) on any input:
either a draft that holds together, or ``Invalid`` naming a field — never anything else."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from carnet.agenda.fhir import (
    DURATIONS,
    MAX_TEXT,
    AppointmentDraft,
    draft_from_form,
    parse_appointment,
)
from carnet.errors import Invalid

TODAY = date(2026, 11, 22)
FORM_FIELDS = {"date", "time", "duration", "description", "practitioner", "location"}


def outcome(read: Callable[[], AppointmentDraft]) -> tuple[AppointmentDraft | None, Invalid | None]:
    """The draft, or the ``Invalid`` it raised (any other exception fails the test)."""
    try:
        return read(), None
    except Invalid as error:
        return None, error


texts = st.one_of(st.text(max_size=250), st.sampled_from(["", " ", "x" * 201]))
form_values = {
    "date": st.one_of(
        texts, st.dates().map(date.isoformat), st.sampled_from(["2026-12-01", "2026-02-30"])
    ),
    "time": st.one_of(texts, st.sampled_from(["09:30", "23:59", "24:00", "9h30"])),
    "duration": st.one_of(texts, st.sampled_from([str(d) for d in DURATIONS] + ["0", "-5"])),
    "description": texts,
    "practitioner": texts,
    "location": texts,
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=form_values))
def test_the_form_reader_gives_a_sound_draft_or_names_a_field(form: dict[str, str]) -> None:
    draft, error = outcome(lambda: draft_from_form(form, today=TODAY))
    if error is not None:
        assert error.field in FORM_FIELDS
        assert error.message
        return
    assert draft is not None
    assert draft.start.tzinfo is not None
    assert draft.end - draft.start in {timedelta(minutes=d) for d in DURATIONS}
    for text in (draft.description, draft.location, draft.practitioner_name):
        assert text is None or 0 < len(text) <= MAX_TEXT


PATIENT = {"actor": {"reference": f"Patient/{uuid.uuid4()}"}, "status": "accepted"}
instants = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # no time zone
    texts,
    st.none(),
    st.integers(),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Appointment", "Appointment", "Patient"])},
    optional={
        "status": st.one_of(st.sampled_from(["booked", "cancelled", "maybe"]), json_values),
        "start": instants,
        "end": instants,
        "description": st.one_of(texts, json_values),
        "participant": st.one_of(st.just([PATIENT]), st.lists(json_values, max_size=2)),
        "minutesDuration": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_the_fhir_reader_gives_a_sound_draft_or_names_a_field(body: dict[str, Any]) -> None:
    draft, error = outcome(lambda: parse_appointment(body))
    if error is not None:
        assert error.field
        assert error.field == "resourceType" or error.field.startswith("Appointment")
        return
    assert draft is not None
    assert draft.patient_id is not None
    assert draft.start < draft.end <= draft.start + timedelta(hours=24)
    assert draft.start.tzinfo is not None


# The readers above mostly meet broken input; these always give a well-formed one, so the
# "sound draft" branch is exercised too (and a refusal of valid input fails the test).
valid_forms = st.fixed_dictionaries(
    {
        "date": st.dates(
            min_value=TODAY - timedelta(days=365), max_value=TODAY + timedelta(days=5 * 365)
        ).map(date.isoformat),
        "time": st.times().map(lambda t: t.strftime("%H:%M")),
        "duration": st.sampled_from([str(d) for d in DURATIONS]),
    },
    optional={
        "description": st.text(min_size=1, max_size=MAX_TEXT).filter(str.strip),
        "location": st.text(min_size=1, max_size=MAX_TEXT).filter(str.strip),
    },
)


@settings(max_examples=100, deadline=None)
@given(valid_forms)
def test_the_form_reader_accepts_every_well_formed_form(form: dict[str, str]) -> None:
    draft = draft_from_form(form, today=TODAY)
    assert draft.start.tzinfo is not None
    assert draft.end - draft.start == timedelta(minutes=int(form["duration"]))


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=24)),
)
def test_the_fhir_reader_accepts_every_well_formed_appointment(
    start: datetime, length: timedelta
) -> None:
    start = start.replace(microsecond=0)
    end = start + timedelta(seconds=max(60, int(length.total_seconds())))
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "participant": [PATIENT],
    }
    draft = parse_appointment(body)
    assert (draft.start, draft.end) == (start, end)
    assert draft.patient_id is not None
