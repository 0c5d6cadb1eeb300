"""Document metadata vocabularies: typeCode → classCode → portal category, system
normalisation, and the J06/J08/J10/J04/J02 lookups, all against the shipped ANS files."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from carnet.terminology import Concept, terminology
from carnet.terminology.documents import (
    ADVANCE_DIRECTIVES,
    CATEGORIES,
    HL7_CONFIDENTIALITY,
    LOINC,
    PATIENT_TYPES,
    TRE_A03,
    TRE_A05,
    TRE_A07,
    TRE_A12,
    TYPE_CLASS,
    canonical_system,
    categories,
    category_of,
    class_code,
    confidentiality,
    document_type,
    document_types,
    facility_type,
    format_code,
    is_patient_type,
    practice_setting,
)

J07 = terminology().value_set("JDV_J07_XdsTypeCode_CISIS")
TRE_A11 = "https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode"
SIGNATURE_CLASS = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"


def test_the_shipped_j07_holds_114_types_from_loinc_tre_a05_and_astm() -> None:
    systems = {canonical_system(c.system) for c in J07.concepts.values()}
    assert len(J07.concepts) == 114
    assert systems == {LOINC, TRE_A05, TRE_A12}


@pytest.mark.parametrize("code", sorted(J07.concepts))
def test_every_j07_type_resolves_with_an_explicit_class_and_a_category(code: str) -> None:
    concept = J07.concepts[code]
    doc_type = document_type(concept.system, code)
    assert doc_type is not None
    assert doc_type.display == concept.display
    assert (doc_type.system, code) in TYPE_CLASS, "class must come from the table, not a guess"
    assert class_code(doc_type.class_code) is not None, "class must be a J06 code"
    assert category_of(doc_type) in categories()


def test_every_mapped_class_is_a_j06_class_code() -> None:
    unknown = {cls for cls in TYPE_CLASS.values() if class_code(cls) is None}
    assert unknown == set()


@pytest.mark.parametrize(
    ("system", "canonical"),
    [
        ("http://loinc.org", LOINC),
        ("urn:oid:2.16.840.1.113883.6.1", LOINC),
        ("2.16.840.1.113883.6.1", LOINC),
        ("URN:OID:2.16.840.1.113883.6.1", LOINC),
        (" http://loinc.org ", LOINC),
        (TRE_A05, TRE_A05),
        ("urn:oid:1.2.250.1.213.1.1.4.12", TRE_A05),
        ("1.2.250.1.213.1.1.4.12", TRE_A05),
        ("urn:oid:1.2.250.1.213.1.1.4.1", TRE_A03),
        ("1.2.250.1.213.1.1.4.13", TRE_A07),
        ("urn:oid:2.16.840.1.113883.5.25", HL7_CONFIDENTIALITY),
        ("ASTM", TRE_A12),
    ],
)
def test_a_system_given_as_url_urn_oid_or_oid_has_one_canonical_uri(
    system: str, canonical: str
) -> None:
    assert canonical_system(system) == canonical


@pytest.mark.parametrize(
    "system", ["", None, "http://snomed.info/sct", "urn:oid:1.2.3", "loinc", "http://loinc.org/x"]
)
def test_an_unknown_system_has_no_canonical_uri(system: str | None) -> None:
    assert canonical_system(system) is None


def test_the_class_code_system_constant_matches_the_j06_file() -> None:
    assert terminology().value_set("JDV_J06_XdsClassCode_CISIS").concepts["10"].system == TRE_A03


@pytest.mark.parametrize(
    "system", ["http://loinc.org", "urn:oid:2.16.840.1.113883.6.1", "2.16.840.1.113883.6.1"]
)
def test_a_loinc_type_is_found_whichever_way_its_system_is_written(system: str) -> None:
    doc_type = document_type(system, "15508-5")
    assert doc_type is not None
    assert (doc_type.system, doc_type.display) == (LOINC, "CR d'accouchement")


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (LOINC, "99999-9"),
        (LOINC, "EXPPAT_3"),  # right code, wrong system
        (TRE_A05, "15508-5"),
        ("http://snomed.info/sct", "15508-5"),
        (LOINC, ""),
        (None, "15508-5"),
        (LOINC, None),
        (LOINC, "2345-7"),  # in TRE_A04 (a lab test), not a document type
    ],
)
def test_an_unknown_type_is_none(system: str | None, code: str | None) -> None:
    assert document_type(system, code) is None


@pytest.mark.parametrize(
    ("system", "code", "cls", "category"),
    [
        (LOINC, "11488-4", "10", "comptes-rendus"),  # CR de consultation
        (LOINC, "34874-8", "10", "comptes-rendus"),  # CR opératoire
        (LOINC, "60591-5", "11", "comptes-rendus"),  # VSM
        (LOINC, "18748-4", "31", "imagerie"),  # CR d'imagerie
        (TRE_A05, "IMG-KOS", "31", "imagerie"),
        (LOINC, "11502-2", "10", "biologie"),  # CR de biologie
        (LOINC, "57833-6", "42", "ordonnances"),
        (TRE_A05, "PRESC-KINE", "42", "ordonnances"),
        (LOINC, "60593-1", "43", "ordonnances"),
        (LOINC, "18776-5", "44", "ordonnances"),
        (LOINC, "87273-9", "45", "prevention"),  # Note de vaccination
        (LOINC, "89601-9", "52", "certificats"),
        (TRE_A05, "REMB", "60", "administratif"),
        (LOINC, "51851-4", "95", "administratif"),
        (TRE_A05, "DOCPAT04", "90", "patient"),
        (TRE_A05, "FEUILLE-DE-STYLE", "99", "autres"),
        (TRE_A12, "E1762", SIGNATURE_CLASS, "autres"),
    ],
)
def test_a_type_gets_its_documented_class_and_category(
    system: str, code: str, cls: str, category: str
) -> None:
    doc_type = document_type(system, code)
    assert doc_type is not None
    assert (doc_type.class_code, doc_type.category) == (cls, category)


def test_a_tre_a05_code_outside_j07_still_resolves_with_its_tre_a05_label() -> None:
    doc_type = document_type("1.2.250.1.213.1.1.4.12", "INSCR_RCP")
    assert doc_type is not None
    assert doc_type.display == "Données d'inscription en RCP"
    assert "INSCR_RCP" not in J07


def test_a_label_present_in_both_files_is_the_j07_one() -> None:
    doc_type = document_type(TRE_A05, "DOCPAT09")
    assert doc_type is not None
    assert doc_type.display == "Document administratif déposé par le patient"


def test_lookups_return_the_same_loaded_object_each_time() -> None:
    assert document_type(LOINC, "60591-5") is document_type("2.16.840.1.113883.6.1", "60591-5")


def test_patient_types_are_docpat01_to_09_and_exppat_1_to_3() -> None:
    codes = {code for _, code in PATIENT_TYPES}
    assert codes == {f"DOCPAT0{i}" for i in range(1, 10)} | {"EXPPAT_1", "EXPPAT_2", "EXPPAT_3"}


def test_the_patient_types_are_exactly_the_class_90_types() -> None:
    class_90 = {(t.system, t.code) for t in document_types() if t.class_code == "90"}
    assert class_90 == PATIENT_TYPES
    assert all(
        t.patient_authored == ((t.system, t.code) in PATIENT_TYPES) for t in document_types()
    )


def test_exppat_3_is_the_advance_directives_and_a_patient_type() -> None:
    doc_type = document_type(*ADVANCE_DIRECTIVES)
    assert doc_type is not None
    assert doc_type.display == "Directives anticipées"
    assert is_patient_type("urn:oid:1.2.250.1.213.1.1.4.12", "EXPPAT_3")


@pytest.mark.parametrize(
    ("system", "code"),
    [(LOINC, "60591-5"), (TRE_A05, "SYNTH"), (LOINC, "EXPPAT_3"), (None, "DOCPAT01")],
)
def test_professional_types_and_wrong_systems_are_not_patient_types(
    system: str | None, code: str
) -> None:
    assert not is_patient_type(system, code)


def test_category_keys_are_unique_short_and_labelled_in_french_and_english() -> None:
    keys = [c.key for c in CATEGORIES]
    assert len(set(keys)) == len(keys)
    assert all(len(k) <= 24 for k in keys), "stored in a 24-character column"
    assert all(c.label and c.label_en for c in CATEGORIES)
    assert categories()[0].key == "ordonnances"
    assert categories()[-1].key == "autres"


def test_every_category_holds_at_least_one_document_type() -> None:
    used = {t.category for t in document_types()}
    assert used == {c.key for c in categories()}


def test_the_patient_category_is_mes_documents() -> None:
    doc_type = document_type(TRE_A05, "EXPPAT_2")
    assert doc_type is not None
    assert category_of(doc_type).label == "Mes documents"


@pytest.mark.parametrize(
    ("code", "display"),
    [
        ("10", "Compte rendu"),
        ("31", "Imagerie médicale"),
        ("90", "Autres documents déposés par le patient"),
        (SIGNATURE_CLASS, "Digital Signature"),
    ],
)
def test_class_codes_come_from_j06(code: str, display: str) -> None:
    concept = class_code(code)
    assert concept is not None
    assert concept.display == display


def test_a_tre_a03_class_code_carries_the_canonical_system() -> None:
    concept = class_code("42")
    assert concept is not None
    assert concept.system == TRE_A03


@pytest.mark.parametrize("code", ["urn:ihe:iti:xds-sd:pdf:2008", "urn:ihe:iti:xds-sd:text:2008"])
def test_the_ihe_unstructured_pdf_and_text_format_codes_are_known(code: str) -> None:
    concept = format_code(code)
    assert concept is not None
    assert concept.system == TRE_A11


def test_a_ci_sis_format_code_is_known_with_its_french_label() -> None:
    concept = format_code("urn:asip:ci-sis:vsm:2012")
    assert concept is not None
    assert concept.display == "Synthèse médicale"


def test_practice_setting_and_facility_type_carry_their_canonical_systems() -> None:
    patient = practice_setting("EXP_PATIENT")
    home = practice_setting("SAD")
    hospital = facility_type("SA01")
    assert patient is not None
    assert home is not None
    assert hospital is not None
    assert patient.system.endswith("TRE-A00-ProducteurDocNonPS")
    assert home.system.endswith("TRE-A01-CadreExercice")
    assert hospital.system.endswith("TRE-R02-SecteurActivite")
    assert hospital.display == "Etablissement public de santé"


@pytest.mark.parametrize(
    "lookup", [class_code, format_code, practice_setting, facility_type], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("code", ["nope", "", None])
def test_unknown_metadata_codes_are_none(
    lookup: Callable[[str | None], Concept | None], code: str | None
) -> None:
    assert lookup(code) is None


@pytest.mark.parametrize(
    "system",
    [TRE_A07, "urn:oid:1.2.250.1.213.1.1.4.13", "1.2.250.1.213.1.1.4.13"],
)
def test_masque_ps_is_a_confidentiality_code_in_any_system_form(system: str) -> None:
    concept = confidentiality(system, "MASQUE_PS")
    assert concept is not None
    assert (concept.system, concept.display) == (TRE_A07, "Masqué aux professionnels de santé")


@pytest.mark.parametrize(
    ("system", "code"),
    [
        ("2.16.840.1.113883.5.25", "N"),
        (HL7_CONFIDENTIALITY, "R"),
        (TRE_A07, "INVISIBLE_PATIENT"),
        (TRE_A07, "INVISIBLE_REPRESENTANTS_LEGAUX"),
        (TRE_A07, "MASQUE_PSOCIAL"),
        (TRE_A07, "MASQUE_PT"),
    ],
)
def test_j08_codes_and_the_other_tre_a07_codes_are_known(system: str, code: str) -> None:
    assert confidentiality(system, code) is not None


@pytest.mark.parametrize(
    ("system", "code"),
    [(HL7_CONFIDENTIALITY, "MASQUE_PS"), (TRE_A07, "N"), (None, "N"), (TRE_A07, "SECRET")],
)
def test_a_confidentiality_code_in_the_wrong_system_is_none(system: str | None, code: str) -> None:
    assert confidentiality(system, code) is None
