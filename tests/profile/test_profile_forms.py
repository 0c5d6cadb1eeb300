"""The portal's profile forms: fields become valid FHIR resources of the right section, coded
from the reference data when the patient chose from the list, and read back into the same
fields for editing; bad input names the form field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carnet.errors import Invalid
from carnet.profile import fhir, forms

TODAY = date(2026, 11, 22)

EXAMPLES = [
    (
        "allergies",
        {
            "name": "Arachide",
            "category": "food",
            "criticality": "high",
            "reaction": "Œdème",
            "since": "2001-04-02",
        },
    ),
    ("allergies", {"code": "amoxicilline", "name": "amoxi"}),
    ("traitements", {"name": "Doliprane 1 g", "dosage": "si douleur", "since": "15/01/2026"}),
    ("antecedents", {"name": "Appendicectomie", "since": "1990-06-01"}),
    ("vaccinations", {"vaccine": "J07BC01", "date": "2020-05-04"}),
    ("vaccinations", {"vaccine": "", "name": "Boostrixtetra", "date": "2020-05-04"}),
    ("mesures", {"kind": "29463-7", "value": "62.5", "date": "2026-03-01"}),
    ("mesures", {"kind": "882-1", "blood_group": "278149003", "date": "2026-03-01"}),
    (
        "contacts",
        {
            "given": "Marc",
            "family": "Martin",
            "role": "C",
            "relation": "époux",
            "phone": "+33 6 00 00 00 02",
        },
    ),
    (
        "contacts",
        {
            "given": "Claire",
            "family": "Roux",
            "role": "PERSONNE_CONFIANCE",
            "relation": "",
            "phone": "",
        },
    ),
    ("volontes", {"organ_donation": "yes"}),
]


@pytest.mark.parametrize(("slug", "fields"), EXAMPLES)
def test_fields_make_a_valid_resource_and_read_back(slug: str, fields: dict[str, str]) -> None:
    spec = forms.section(slug)
    resource = forms.build(slug, fields, today=TODAY)
    parsed = fhir.parse_resource(resource, spec.resource_type)  # valid FHIR R4B
    assert forms.section_of(parsed.resource_type, parsed.code).slug == slug
    again = forms.initial(slug, resource)
    assert forms.build(slug, again, today=TODAY) == resource  # editing keeps what was said


def test_a_chosen_substance_is_coded_with_its_ansm_name() -> None:
    parsed = fhir.parse_resource(
        forms.build("allergies", {"code": "amoxicilline"}, today=TODAY), "AllergyIntolerance"
    )
    assert parsed.code == "amoxicilline"
    assert "amoxicilline" in parsed.substances


@pytest.mark.parametrize(
    ("slug", "fields", "field"),
    [
        ("allergies", {"name": " "}, "name"),
        ("allergies", {"code": "pas-une-substance"}, "code"),
        ("allergies", {"name": "x", "criticality": "extreme"}, "criticality"),
        ("traitements", {"code": "00000000"}, "code"),
        ("vaccinations", {"vaccine": "J07XX99", "date": "2020-01-01"}, "vaccine"),
        ("vaccinations", {"vaccine": "J07BC01", "date": "04/13/2020"}, "date"),
        ("mesures", {"kind": "nope", "value": "1"}, "kind"),
        ("mesures", {"kind": "8302-2", "value": "1e9"}, "value"),
        ("mesures", {"kind": "8302-2", "value": "nan"}, "value"),
        ("mesures", {"kind": "882-1", "blood_group": "Z+"}, "blood_group"),
        ("contacts", {"given": "A", "family": "B", "phone": "call me"}, "phone"),
        ("contacts", {"given": "A", "family": "B", "role": "boss"}, "role"),
        ("volontes", {}, "organ_donation"),
        ("antecedents", {"name": "x" * 201}, "name"),
    ],
)
def test_bad_fields_are_named(slug: str, fields: dict[str, str], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        forms.build(slug, fields, today=TODAY)
    assert raised.value.field == field


def test_an_unknown_section_is_refused() -> None:
    with pytest.raises(Invalid):
        forms.section("nimporte")


TYPED_DATES = st.dates(min_value=date(1850, 1, 1), max_value=date(2100, 12, 31))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_typed_text_is_a_date_or_a_refusal_naming_the_field(text: str) -> None:
    refused: str | None = None
    try:
        parsed = forms.parse_date(text, "since", TODAY)
    except Invalid as error:
        refused = error.field
    else:
        assert parsed is None or date(1900, 1, 1) <= parsed <= TODAY
    assert refused in (None, "since")


@settings(max_examples=200, deadline=None)
@given(TYPED_DATES, st.booleans())
def test_a_well_formed_date_reads_back_as_itself_unless_future_or_before_1900(
    day: date, typed: bool
) -> None:
    text = day.strftime("%d/%m/%Y") if typed else day.isoformat()  # typed, or the date picker
    if date(1900, 1, 1) <= day <= TODAY:
        assert forms.parse_date(f" {text} ", "since", TODAY) == day
    else:
        with pytest.raises(Invalid) as refused:
            forms.parse_date(text, "since", TODAY)
        assert refused.value.field == "since"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_typed_text_is_a_plausible_weight_or_a_refusal_naming_the_value(value: str) -> None:
    refused: str | None = None
    try:
        resource = forms.build("mesures", {"kind": "29463-7", "value": value}, today=TODAY)
    except Invalid as error:
        refused = error.field
    else:
        assert 0.2 <= resource["valueQuantity"]["value"] <= 500
    assert refused in (None, "value")


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=-100, max_value=1000, places=1, allow_nan=False), st.booleans())
def test_a_typed_weight_is_kept_when_plausible_and_refused_otherwise(
    weight: Decimal, comma: bool
) -> None:
    text = str(weight).replace(".", ",") if comma else str(weight)  # « 72,5 » as typed in France
    fields = {"kind": "29463-7", "value": text}
    if Decimal("0.2") <= weight <= 500:
        resource = forms.build("mesures", fields, today=TODAY)
        assert resource["valueQuantity"]["value"] == pytest.approx(float(weight))
        assert resource["valueQuantity"]["code"] == "kg"
    else:
        with pytest.raises(Invalid) as refused:
            forms.build("mesures", fields, today=TODAY)
        assert refused.value.field == "value"
