"""Sample documents: PDF reports (fpdf2, read back with pypdf) and CDA R2 documents."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pypdf import PdfReader

from carnet.documents.samples import (
    CARNET_SAMPLE_ID_ROOT,
    INS_NIR_OID,
    LOINC_OID,
    PS_IDNAT_OID,
    SAMPLE_REPORTS,
    SAMPLE_TYPE_DISPLAYS,
    TRE_A05_OID,
    cda_document,
    filler_pages_for,
    pdf_report,
    sample_type_code,
)

NS = {"h": "urn:hl7-org:v3"}
H = "{urn:hl7-org:v3}"

SYLVIE_NIR = "275033155500425"


def _pdf_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "title": "Compte rendu de consultation – suivi d’hypothyroïdie",
        "patient": "Sylvie MARTIN",
        "born": "15/03/1975",
        "author": "Dr Paul Durand, médecin généraliste",
        "structure": "Cabinet médical des Carmes – Toulouse",
        "date": "12/03/2025",
        "sections": [
            ("Motif", ["Suivi d’une hypothyroïdie, cœur et poumons normaux."]),
            ("Conclusion", ["TSH à 2,1 mUI/L : équilibre satisfaisant."]),
        ],
    }
    args.update(overrides)
    return args


def _cda_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "document_id": "1.2.250.1.999.1.42",
        "type_code": "11488-4",
        "type_display": SAMPLE_TYPE_DISPLAYS["11488-4"],
        "title": "Compte rendu de consultation",
        "effective": datetime(2025, 3, 12, 10, 30, tzinfo=timezone(timedelta(hours=1))),
        "patient_nir": SYLVIE_NIR,
        "patient_given": ["Sylvie", "Anne"],
        "patient_family": "MARTIN",
        "patient_sex": "F",
        "patient_birth": date(1975, 3, 15),
        "author_ps_idnat": "810000000017",
        "author_given": "Paul",
        "author_family": "Durand",
        "author_profession_code": "10",
        "custodian": "Carnet – hébergeur de démonstration",
        "sections": [("Motif", ["Suivi d’une hypothyroïdie."])],
    }
    args.update(overrides)
    return args


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - our own output, not untrusted input


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_opens_and_shows_title_and_patient_with_accents() -> None:
    pdf = pdf_report(**_pdf_args(patient="Léa MARTIN-ÉLOÏSE"))

    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = _text(pdf)
    assert "Compte rendu de consultation – suivi d’hypothyroïdie" in text
    assert "Léa MARTIN-ÉLOÏSE" in text
    assert "cœur" in text
    assert "Dr Paul Durand, médecin généraliste" in text
    assert "Cabinet médical des Carmes – Toulouse" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Compte rendu de consultation – suivi d’hypothyroïdie"


def test_pdf_is_deterministic_for_the_same_inputs() -> None:
    assert pdf_report(**_pdf_args()) == pdf_report(**_pdf_args())
    assert pdf_report(**_pdf_args(filler_pages=2)) == pdf_report(**_pdf_args(filler_pages=2))
    assert pdf_report(**_pdf_args()) != pdf_report(**_pdf_args(date="13/03/2025"))


def test_pdf_creation_date_is_the_document_date_or_the_given_one() -> None:
    default = PdfReader(io.BytesIO(pdf_report(**_pdf_args()))).metadata
    assert default is not None
    assert default.creation_date == datetime(2025, 3, 12, 12, 0, tzinfo=UTC)

    created = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    given = PdfReader(io.BytesIO(pdf_report(**_pdf_args(created=created)))).metadata
    assert given is not None
    assert given.creation_date == created

    # a date that does not parse still gives a fixed creation date (and so fixed bytes)
    assert pdf_report(**_pdf_args(date="mars 2025")) == pdf_report(**_pdf_args(date="mars 2025"))


def test_pdf_transliterates_characters_outside_windows_1252() -> None:
    pdf = pdf_report(
        **_pdf_args(sections=[("Résultats", ["DFG ≥ 90 mL/min → normal ; 1ʳᵉ dose ✓ 😀"])])
    )

    text = _text(pdf)
    assert "DFG >= 90 mL/min -> normal" in text
    assert "1re dose v ?" in text


def test_pdf_long_report_breaks_pages_with_page_numbers() -> None:
    paragraphs = [
        f"Paragraphe {i} : évolution favorable, pas d’événement notable." for i in range(80)
    ]
    pdf = pdf_report(**_pdf_args(sections=[("Évolution", paragraphs)]))

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    assert f"Page 2/{len(reader.pages)}" in reader.pages[1].extract_text()


def test_pdf_filler_pages_reach_about_100_kb() -> None:
    pages = filler_pages_for(100_000)
    pdf = pdf_report(**_pdf_args(filler_pages=pages))

    assert 90_000 <= len(pdf) <= 115_000
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1 + pages
    assert "Annexe 1 – historique des résultats antérieurs" in reader.pages[1].extract_text()
    assert "TSH" in _text(pdf)


def test_pdf_rejects_a_negative_filler() -> None:
    with pytest.raises(ValueError, match="filler_pages"):
        pdf_report(**_pdf_args(filler_pages=-1))


# --- CDA ---------------------------------------------------------------------------------------


def test_cda_is_well_formed_with_the_cda_header() -> None:
    xml = cda_document(**_cda_args())

    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = _parse(xml)
    assert root.tag == f"{H}ClinicalDocument"
    assert root.find("h:realmCode", NS).get("code") == "FR"  # type: ignore[union-attr]
    type_id = root.find("h:typeId", NS)
    assert type_id is not None
    assert (type_id.get("root"), type_id.get("extension")) == (
        "2.16.840.1.113883.1.3",
        "POCD_HD000040",
    )
    assert root.find("h:id", NS).attrib == {"root": "1.2.250.1.999.1.42"}  # type: ignore[union-attr]
    code = root.find("h:code", NS)
    assert code is not None
    assert code.get("code") == "11488-4"
    assert code.get("codeSystem") == LOINC_OID
    assert code.get("displayName") == "CR ou fiche de consultation ou de visite"
    assert root.findtext("h:title", namespaces=NS) == "Compte rendu de consultation"
    effective = root.find("h:effectiveTime", NS)
    assert effective is not None
    assert effective.get("value") == "20250312103000+0100"
    assert root.find("h:confidentialityCode", NS).get("code") == "N"  # type: ignore[union-attr]
    assert root.find("h:languageCode", NS).get("code") == "fr-FR"  # type: ignore[union-attr]


def test_cda_record_target_carries_the_ins() -> None:
    root = _parse(cda_document(**_cda_args()))

    patient_role = root.find("h:recordTarget/h:patientRole", NS)
    assert patient_role is not None
    ins = patient_role.find("h:id", NS)
    assert ins is not None
    assert ins.attrib == {"root": INS_NIR_OID, "extension": SYLVIE_NIR}
    assert INS_NIR_OID == "1.2.250.1.213.1.4.8"
    name = patient_role.find("h:patient/h:name", NS)
    assert name is not None
    givens = [(g.text, g.get("qualifier")) for g in name.findall("h:given", NS)]
    assert givens == [("Sylvie Anne", None), ("Sylvie", "BR")]
    family = name.find("h:family", NS)
    assert family is not None
    assert (family.text, family.get("qualifier")) == ("MARTIN", "BR")
    sex = patient_role.find("h:patient/h:administrativeGenderCode", NS)
    assert sex is not None
    assert sex.get("code") == "F"
    birth = patient_role.find("h:patient/h:birthTime", NS)
    assert birth is not None
    assert birth.get("value") == "19750315"


def test_cda_test_ins_oid_can_be_chosen() -> None:
    root = _parse(cda_document(**_cda_args(patient_oid="1.2.250.1.213.1.4.10")))

    ins = root.find("h:recordTarget/h:patientRole/h:id", NS)
    assert ins is not None
    assert ins.get("root") == "1.2.250.1.213.1.4.10"


def test_cda_author_and_custodian() -> None:
    root = _parse(cda_document(**_cda_args(custodian_id="1310000000")))

    author_id = root.find("h:author/h:assignedAuthor/h:id", NS)
    assert author_id is not None
    assert author_id.attrib == {"root": PS_IDNAT_OID, "extension": "810000000017"}
    assert PS_IDNAT_OID == "1.2.250.1.71.4.2.1"
    profession = root.find("h:author/h:assignedAuthor/h:code", NS)
    assert profession is not None
    assert profession.get("code") == "10"
    person = root.find("h:author/h:assignedAuthor/h:assignedPerson/h:name", NS)
    assert person is not None
    assert person.findtext("h:given", namespaces=NS) == "Paul"
    assert person.findtext("h:family", namespaces=NS) == "Durand"
    organisation = root.find(
        "h:custodian/h:assignedCustodian/h:representedCustodianOrganization", NS
    )
    assert organisation is not None
    assert organisation.findtext("h:name", namespaces=NS) == "Carnet – hébergeur de démonstration"
    assert organisation.find("h:id", NS).get("extension") == "1310000000"  # type: ignore[union-attr]


def test_cda_structured_body_has_sections_and_paragraphs() -> None:
    sections = [("Motif", ["Premier paragraphe.", "Second paragraphe."]), ("Conclusion", ["Rien."])]
    root = _parse(cda_document(**_cda_args(sections=sections)))

    found = root.findall("h:component/h:structuredBody/h:component/h:section", NS)
    assert [s.findtext("h:title", namespaces=NS) for s in found] == ["Motif", "Conclusion"]
    assert [p.text for p in found[0].findall("h:text/h:paragraph", NS)] == [
        "Premier paragraphe.",
        "Second paragraphe.",
    ]
    assert root.find("h:component/h:nonXMLBody", NS) is None


def test_cda_escapes_markup_in_text() -> None:
    nasty = 'TSH < 0,1 & T4 > 25 "élevée" <script>alert(1)</script>\x00\x07'
    xml = cda_document(
        **_cda_args(
            title=nasty,
            patient_family="O'Brien & <Fils>",
            custodian="A&B <Santé>",
            sections=[(nasty, [nasty])],
        )
    )

    assert b"<script>" not in xml
    assert b"&lt;script&gt;" in xml
    root = _parse(xml)
    clean = nasty.replace("\x00", "").replace("\x07", "")
    assert root.findtext("h:title", namespaces=NS) == clean
    assert (
        root.findtext(
            "h:component/h:structuredBody/h:component/h:section/h:text/h:paragraph", namespaces=NS
        )
        == clean
    )
    family = root.find("h:recordTarget/h:patientRole/h:patient/h:name/h:family", NS)
    assert family is not None
    assert family.text == "O'Brien & <Fils>"


def test_cda_with_pdf_body_embeds_the_pdf_in_base64() -> None:
    pdf = pdf_report(**_pdf_args())
    root = _parse(cda_document(**_cda_args(pdf_body=pdf)))

    assert root.find("h:component/h:structuredBody", NS) is None
    text = root.find("h:component/h:nonXMLBody/h:text", NS)
    assert text is not None
    assert text.get("mediaType") == "application/pdf"
    assert text.get("representation") == "B64"
    assert base64.b64decode(text.text or "", validate=True) == pdf


def test_cda_document_ids_and_type_code_systems() -> None:
    uuid_doc = _parse(cda_document(**_cda_args(document_id="6ba7b810-9dad-11d1-80b4-00c04fd430c8")))
    assert uuid_doc.find("h:id", NS).attrib == {  # type: ignore[union-attr]
        "root": "2.25.143098242404177361603877621312831893704"
    }
    other = _parse(cda_document(**_cda_args(document_id="doc-0001")))
    assert other.find("h:id", NS).attrib == {  # type: ignore[union-attr]
        "root": CARNET_SAMPLE_ID_ROOT,
        "extension": "doc-0001",
    }
    assert other.find("h:setId", NS).attrib == other.find("h:id", NS).attrib  # type: ignore[union-attr]

    directives = _parse(
        cda_document(**_cda_args(type_code="EXPPAT_3", type_display="Directives anticipées"))
    )
    code = directives.find("h:code", NS)
    assert code is not None
    assert (code.get("code"), code.get("codeSystem")) == ("EXPPAT_3", TRE_A05_OID)


def test_cda_naive_effective_time_has_no_offset() -> None:
    root = _parse(cda_document(**_cda_args(effective=datetime(2025, 3, 12, 10, 30))))

    assert root.find("h:effectiveTime", NS).get("value") == "20250312103000"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"patient_sex": "X"}, "patient_sex"),
        ({"patient_given": []}, "patient_given"),
        ({"sections": None}, "sections or pdf_body"),
        ({"sections": []}, "sections or pdf_body"),
        ({"document_id": " "}, "document_id"),
    ],
)
def test_cda_rejects_bad_input(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cda_document(**_cda_args(**overrides))


# --- Catalogue ---------------------------------------------------------------------------------


def test_catalogue_covers_the_expected_types() -> None:
    assert len(SAMPLE_REPORTS) >= 12
    codes = {sample_type_code(key) for key in SAMPLE_REPORTS}
    assert codes >= {
        "11488-4",
        "34112-3",
        "11502-2",
        "18748-4",
        "57833-6",
        "60591-5",
        "15508-5",
        "87273-9",
        "EXPPAT_3",
        "11490-0",
        "60593-1",
    }
    assert codes <= set(SAMPLE_TYPE_DISPLAYS)
    assert sample_type_code("11488-4:psychiatrie") == "11488-4"
    assert "Psychiatrie" in SAMPLE_REPORTS["11488-4:psychiatrie"][0]
    assert SAMPLE_REPORTS["EXPPAT_3"][1] == "patient"
    biology = " ".join(p for _, paragraphs in SAMPLE_REPORTS["11502-2"][2] for p in paragraphs)
    assert "TSH" in biology


@pytest.mark.parametrize("key", sorted(SAMPLE_REPORTS))
def test_every_sample_renders_to_pdf_and_cda(key: str) -> None:
    title, role, sections = SAMPLE_REPORTS[key]
    assert title
    assert role
    assert sections
    assert all(heading and paragraphs for heading, paragraphs in sections)

    pdf = pdf_report(**_pdf_args(title=title, sections=sections))
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2
    text = _text(pdf)
    assert title in text
    assert "Sylvie MARTIN" in text
    first_heading, first_paragraphs = sections[0]
    assert first_heading in text
    assert first_paragraphs[0].split()[0] in text

    type_code = sample_type_code(key)
    for body in ({"sections": sections}, {"pdf_body": pdf}):
        root = _parse(
            cda_document(
                **_cda_args(
                    document_id=f"sample-{key}",
                    type_code=type_code,
                    type_display=SAMPLE_TYPE_DISPLAYS[type_code],
                    title=title,
                    effective=datetime(2025, 3, 12, 9, 0, tzinfo=UTC),
                    **body,
                )
            )
        )
        assert root.findtext("h:title", namespaces=NS) == title
        assert root.find("h:code", NS).get("code") == type_code  # type: ignore[union-attr]
