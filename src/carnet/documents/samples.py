"""Synthetic French sample documents for the demo data and the benchmarks.

Everything here is fictitious: no real person, no real structure. The texts are bland,
plausible French clinical prose (a hypothyroidism follow-up, a thyroid ultrasound, ...).

- :func:`pdf_report` lays out a one- or two-page A4 report with fpdf2. It uses the PDF core
  font Helvetica with the WinAnsi (Windows-1252) encoding that fpdf2 declares for core fonts,
  so French accents, "œ", "’", "€" and "–" render without shipping or finding a TTF font;
  the few characters outside Windows-1252 are transliterated. The output is byte-for-byte
  deterministic for the same inputs (the creation date is set explicitly).
  ``filler_pages`` appends annex pages of results so that a benchmark can build larger files
  (see :data:`FILLER_PAGE_BYTES`).
- :func:`cda_document` builds a CDA R2 document (HL7 France / CI-SIS header core, INS in
  ``recordTarget`` per domain.md §4.2) with either a structured body or a PDF in a
  ``nonXMLBody``. It is well-formed and namespaced; it is not validated against the CI-SIS
  schematrons (no ``componentOf``, no coded sections).
- :data:`SAMPLE_REPORTS` is a catalogue of report texts keyed by document type code; use
  :func:`sample_type_code` on a key to get the type code and :data:`SAMPLE_TYPE_DISPLAYS`
  for its label.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos

__all__ = [
    "CARNET_SAMPLE_ID_ROOT",
    "FILLER_PAGE_BYTES",
    "INS_NIR_OID",
    "LOINC_OID",
    "PS_IDNAT_OID",
    "SAMPLE_REPORTS",
    "SAMPLE_TYPE_DISPLAYS",
    "STRUCT_IDNAT_OID",
    "TRE_A05_OID",
    "TRE_G15_OID",
    "Section",
    "cda_document",
    "filler_pages_for",
    "pdf_report",
    "sample_type_code",
]

Section = tuple[str, list[str]]
"""A report section: its heading and its paragraphs."""

# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------

FILLER_PAGE_BYTES: Final = 2_400
"""Rough size, in bytes, that one filler page adds to a PDF (a compressed table of results);
see :func:`filler_pages_for`."""

_PDF_ENCODING: Final = "windows-1252"
_FALLBACK_CREATED: Final = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
_DATE_FORMATS: Final = ("%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y")

# Characters outside Windows-1252 that French medical text commonly contains.
_TRANSLITERATIONS: Final[dict[str, str]] = {
    "\u202f": " ",  # narrow no-break space (before ; : ! ? in French typography)
    "\u2009": " ",  # thin space
    "\u2007": " ",  # figure space
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2212": "-",  # minus sign
    "\u2015": "—",  # horizontal bar
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u2192": "->",
    "\u2190": "<-",
    "\u21d2": "=>",
    "\u2022": "•",  # already in cp1252, listed for clarity
    "\u2713": "v",
    "\u2714": "v",
    "\u00a0": " ",
    "\u2074": "4",
    "\u2076": "6",
    "\u2079": "9",
    "\u2070": "0",
    "\u2153": "1/3",
}


def _pdf_text(text: str) -> str:
    """Return ``text`` restricted to Windows-1252 (what fpdf2's core fonts can show).

    Characters that the encoding has (é è à ç ô œ Œ ’ “ ” € – — … µ °) are kept; a few common
    others are transliterated; anything else is decomposed (NFKD) and reduced to its
    encodable parts, or replaced by "?".
    """
    text = unicodedata.normalize("NFC", text).replace("\t", " ").replace("\r", "")
    out: list[str] = []
    for char in text:
        try:
            char.encode(_PDF_ENCODING)
        except UnicodeEncodeError:
            pass
        else:
            if char == "\n" or unicodedata.category(char) != "Cc":
                out.append(char)
            continue
        if char in _TRANSLITERATIONS:
            out.append(_TRANSLITERATIONS[char])
            continue
        decomposed = "".join(
            part
            for part in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(part) and _encodable(part)
        )
        out.append(decomposed or "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode(_PDF_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _parse_day(value: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()  # noqa: DTZ007 - a day, no time
        except ValueError:
            continue
    return None


class _Report(FPDF):
    """A4 portrait page with a running header (structure) and footer (page x/y)."""

    def __init__(self, structure: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = _PDF_ENCODING
        self._structure = _pdf_text(structure)
        self.set_margins(left=18, top=16, right=18)
        self.set_auto_page_break(auto=True, margin=18)

    def header(self) -> None:
        self.set_font("Helvetica", style="B", size=9)
        self.set_text_color(40, 70, 120)
        self.cell(0, 5, self._structure, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(40, 70, 120)
        self.set_line_width(0.4)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", size=7.5)
        self.set_text_color(110, 110, 110)
        self.cell(
            0,
            5,
            _pdf_text("Document fictif généré pour la démonstration de Carnet – données de test"),
            align="L",
        )
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()}/{{nb}}", align="R")


def filler_pages_for(target_bytes: int) -> int:
    """How many ``filler_pages`` make a :func:`pdf_report` of about ``target_bytes``.

    ``pdf_report(..., filler_pages=filler_pages_for(100_000))`` is about 100 KB (±10 %).
    """
    return max(0, round((target_bytes - 3_000) / FILLER_PAGE_BYTES))


def pdf_report(
    *,
    title: str,
    patient: str,
    born: str,
    author: str,
    structure: str,
    date: str,
    sections: list[Section],
    filler_pages: int = 0,
    created: datetime | None = None,
) -> bytes:
    """Lay out a French clinical report as an A4 PDF (one or two pages for typical texts).

    ``patient`` is the display name (e.g. "Sylvie MARTIN"), ``born`` and ``date`` are shown as
    given (e.g. "15/03/1975"). ``filler_pages`` appends that many annex pages (a table of
    past results, pseudo-random but derived from the inputs), about :data:`FILLER_PAGE_BYTES`
    each. ``created`` is the PDF creation date; by default it is ``date`` at noon UTC when
    ``date`` parses as dd/mm/yyyy or yyyy-mm-dd, else a fixed date, so that the same inputs
    always give the same bytes. A naive ``created`` is taken as UTC.
    """
    if filler_pages < 0:
        raise ValueError("filler_pages must be >= 0")
    day = _parse_day(date)
    if created is None:
        created = (
            datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC) if day else _FALLBACK_CREATED
        )
    elif created.tzinfo is None:
        created = created.replace(tzinfo=UTC)

    pdf = _Report(structure)
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_subject(f"{title} – {patient}")
    pdf.set_creator("Carnet (données de démonstration)")
    pdf.set_lang("fr-FR")
    pdf.add_page()

    pdf.set_font("Helvetica", style="B", size=16)
    pdf.multi_cell(0, 8, _pdf_text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    pdf.set_fill_color(238, 242, 248)
    rows = (
        ("Patient(e)", patient),
        ("Né(e) le", born),
        ("Auteur", author),
        ("Date", date),
    )
    for label, value in rows:
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(32, 6, _pdf_text(f"{label} :"), fill=True)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 6, _pdf_text(value), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    for heading, paragraphs in sections:
        if pdf.get_y() > pdf.page_break_trigger - 20:  # keep a heading with its first lines
            pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.set_text_color(40, 70, 120)
        pdf.multi_cell(0, 7, _pdf_text(heading), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("Helvetica", size=10.5)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5.5, _pdf_text(paragraph), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
        pdf.ln(2)

    if filler_pages:
        _filler(pdf, pages=filler_pages, seed_text=f"{title}|{patient}|{date}", day=day)
    return bytes(pdf.output())


_FILLER_ANALYTES: Final = (
    ("TSH", "mUI/L", 0.4, 4.0, 2),
    ("T4 libre", "pmol/L", 9.0, 19.0, 1),
    ("Hémoglobine", "g/dL", 12.0, 16.0, 1),
    ("Leucocytes", "G/L", 4.0, 10.0, 1),
    ("Plaquettes", "G/L", 150.0, 400.0, 0),
    ("Créatinine", "µmol/L", 45.0, 90.0, 0),
    ("Glycémie à jeun", "mmol/L", 3.9, 5.5, 2),
    ("Cholestérol LDL", "g/L", 0.7, 1.6, 2),
    ("Sodium", "mmol/L", 136.0, 145.0, 0),
    ("Potassium", "mmol/L", 3.5, 5.0, 1),
    ("Ferritine", "µg/L", 15.0, 150.0, 0),
    ("CRP", "mg/L", 0.0, 5.0, 1),
)


def _filler(pdf: FPDF, *, pages: int, seed_text: str, day: date | None) -> None:
    """Append ``pages`` annex pages: a table of dated results (deterministic pseudo-random)."""
    seed = int.from_bytes(hashlib.sha256(seed_text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    when = day or _FALLBACK_CREATED.date()
    widths = (26, 52, 28, 26, 42)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.set_text_color(40, 70, 120)
        pdf.cell(
            0,
            7,
            _pdf_text(f"Annexe {number} – historique des résultats antérieurs"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("Helvetica", style="B", size=8.5)
        for width, label in zip(
            widths, ("Date", "Analyse", "Résultat", "Unité", "Valeurs de référence"), strict=True
        ):
            pdf.cell(width, 5.5, _pdf_text(label), border="B")
        pdf.ln(5.5)
        pdf.set_font("Helvetica", size=8.5)
        while pdf.get_y() < pdf.h - 26:
            when -= timedelta(days=rng.randint(1, 9))
            name, unit, low, high, digits = rng.choice(_FILLER_ANALYTES)
            span = high - low
            # Mostly normal values, with an occasional slightly abnormal one.
            value = rng.uniform(low, high) if rng.random() < 0.9 else high + span * 0.1
            flag = " H" if value > high else (" L" if value < low else "")
            cells = (
                when.strftime("%d/%m/%Y"),
                name,
                f"{value:.{digits}f}".replace(".", ",") + flag,
                unit,
                f"{low:.{digits}f} – {high:.{digits}f}".replace(".", ","),
            )
            for width, text in zip(widths, cells, strict=True):
                pdf.cell(width, 4.6, _pdf_text(text))
            pdf.ln(4.6)


# ---------------------------------------------------------------------------------------------
# CDA R2
# ---------------------------------------------------------------------------------------------

HL7_NS: Final = "urn:hl7-org:v3"
LOINC_OID: Final = "2.16.840.1.113883.6.1"
TRE_A05_OID: Final = "1.2.250.1.213.1.1.4.12"
"""TRE_A05 TypeDocComplementaire: non-LOINC type codes such as EXPPAT_3."""
INS_NIR_OID: Final = "1.2.250.1.213.1.4.8"
PS_IDNAT_OID: Final = "1.2.250.1.71.4.2.1"
STRUCT_IDNAT_OID: Final = "1.2.250.1.71.4.2.2"
TRE_G15_OID: Final = "1.2.250.1.71.1.2.7"
_CONFIDENTIALITY_OID: Final = "2.16.840.1.113883.5.25"
_GENDER_OID: Final = "2.16.840.1.113883.5.1"
_TEMPLATE_IDS: Final = (
    "2.16.840.1.113883.2.8.2.1",  # HL7 France header conformance
    "1.2.250.1.213.1.1.1.1",  # CI-SIS conformance
)
CARNET_SAMPLE_ID_ROOT: Final = "2.25." + str(
    uuid.uuid5(uuid.NAMESPACE_URL, "urn:carnet:sample-documents").int
)
"""OID root (UUID-derived, ITU-T X.667) for document ids that are neither OIDs nor UUIDs."""

_GENDER_DISPLAY: Final = {"F": "Féminin", "M": "Masculin", "U": "Inconnu"}
_PROFESSION_DISPLAY: Final = {
    "10": "Médecin",
    "21": "Pharmacien",
    "40": "Chirurgien-dentiste",
    "50": "Sage-femme",
    "60": "Infirmier",
    "70": "Masseur-kinésithérapeute",
    "80": "Pédicure-podologue",
}
_OID_RE: Final = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_LOINC_RE: Final = re.compile(r"^[0-9]{1,7}-[0-9]$")
_XML_ILLEGAL: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(value: str) -> str:
    """Drop the characters XML 1.0 cannot carry (ElementTree escapes <, & and > itself)."""
    return _XML_ILLEGAL.sub("", value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _ts(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S%z" if value.tzinfo else "%Y%m%d%H%M%S")
    return value.strftime("%Y%m%d")


def _document_ii(document_id: str) -> dict[str, str]:
    document_id = document_id.strip()
    if not document_id:
        raise ValueError("document_id must not be empty")
    if _OID_RE.match(document_id):
        return {"root": document_id}
    try:
        return {"root": f"2.25.{uuid.UUID(document_id).int}"}
    except ValueError:
        return {"root": CARNET_SAMPLE_ID_ROOT, "extension": document_id}


def _type_code_attrs(type_code: str, type_display: str) -> dict[str, str]:
    if _LOINC_RE.match(type_code):
        system, name = LOINC_OID, "LOINC"
    else:
        system, name = TRE_A05_OID, "TRE_A05-TypeDocComplementaire"
    return {
        "code": type_code,
        "codeSystem": system,
        "codeSystemName": name,
        "displayName": type_display,
    }


def cda_document(
    *,
    document_id: str,
    type_code: str,
    type_display: str,
    title: str,
    effective: datetime,
    patient_nir: str,
    patient_oid: str = INS_NIR_OID,
    patient_given: list[str],
    patient_family: str,
    patient_sex: str,
    patient_birth: date,
    author_ps_idnat: str,
    author_given: str,
    author_family: str,
    author_profession_code: str,
    custodian: str,
    sections: list[Section] | None = None,
    pdf_body: bytes | None = None,
    custodian_id: str | None = None,
) -> bytes:
    """Build a CDA R2 ``ClinicalDocument`` (UTF-8, with an XML declaration).

    Header: realmCode FR, typeId POCD_HD000040, HL7 France and CI-SIS templateIds, ``id`` and
    ``setId`` from ``document_id`` (an OID is used as root, a UUID as ``2.25.<int>``, anything
    else as the extension of :data:`CARNET_SAMPLE_ID_ROOT`), the type code (LOINC, or TRE_A05
    for codes such as ``EXPPAT_3``), title, effectiveTime (with its UTC offset when
    ``effective`` is aware), confidentialityCode N, languageCode fr-FR, versionNumber 1.

    recordTarget carries the INS as ``<id root=patient_oid extension=patient_nir/>`` and the
    INS name traits (domain.md §4.2): one ``given`` with all birth first names, one
    ``given qualifier="BR"`` with the first of them, ``family qualifier="BR"`` with the
    birth name; sex F/M/U and birth date. author, legalAuthenticator (the same PS, identified
    by PS_IdNat under 1.2.250.1.71.4.2.1, profession from TRE_G15) and custodian (with its
    Struct_IdNat under 1.2.250.1.71.4.2.2 when ``custodian_id`` is given).

    Body: a ``nonXMLBody`` with the base64 PDF when ``pdf_body`` is given (it wins over
    ``sections``), else a ``structuredBody`` with one section per item (title + paragraphs).
    """
    if patient_sex not in _GENDER_DISPLAY:
        raise ValueError("patient_sex must be 'F', 'M' or 'U'")
    if not patient_given:
        raise ValueError("patient_given must list at least one first name")
    if pdf_body is None and not sections:
        raise ValueError("give sections or pdf_body")

    root = ET.Element("ClinicalDocument", {"xmlns": HL7_NS})
    _sub(root, "realmCode", code="FR")
    _sub(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    for template in _TEMPLATE_IDS:
        _sub(root, "templateId", root=template)
    identifier = _document_ii(document_id)
    _sub(root, "id", **identifier)
    _sub(root, "code", **_type_code_attrs(type_code, type_display))
    _sub(root, "title", title)
    _sub(root, "effectiveTime", value=_ts(effective))
    _sub(
        root,
        "confidentialityCode",
        code="N",
        codeSystem=_CONFIDENTIALITY_OID,
        displayName="Normal",
    )
    _sub(root, "languageCode", code="fr-FR")
    _sub(root, "setId", **identifier)
    _sub(root, "versionNumber", value="1")

    patient_role = _sub(_sub(root, "recordTarget"), "patientRole")
    _sub(patient_role, "id", root=patient_oid, extension=patient_nir)
    patient = _sub(patient_role, "patient")
    name = _sub(patient, "name")
    _sub(name, "given", " ".join(patient_given))
    _sub(name, "given", patient_given[0], qualifier="BR")
    _sub(name, "family", patient_family, qualifier="BR")
    _sub(
        patient,
        "administrativeGenderCode",
        code=patient_sex,
        codeSystem=_GENDER_OID,
        displayName=_GENDER_DISPLAY[patient_sex],
    )
    _sub(patient, "birthTime", value=_ts(patient_birth))

    profession = {"code": author_profession_code, "codeSystem": TRE_G15_OID}
    if author_profession_code in _PROFESSION_DISPLAY:
        profession["displayName"] = _PROFESSION_DISPLAY[author_profession_code]

    author = _sub(root, "author")
    _sub(author, "time", value=_ts(effective))
    assigned_author = _sub(author, "assignedAuthor")
    _sub(assigned_author, "id", root=PS_IDNAT_OID, extension=author_ps_idnat)
    _sub(assigned_author, "code", **profession)
    _person(assigned_author, "assignedPerson", author_given, author_family)

    organisation = _sub(
        _sub(_sub(root, "custodian"), "assignedCustodian"), "representedCustodianOrganization"
    )
    if custodian_id:
        _sub(organisation, "id", root=STRUCT_IDNAT_OID, extension=custodian_id)
    else:
        _sub(organisation, "id", nullFlavor="UNK")
    _sub(organisation, "name", custodian)

    legal = _sub(root, "legalAuthenticator")
    _sub(legal, "time", value=_ts(effective))
    _sub(legal, "signatureCode", code="S")
    assigned_entity = _sub(legal, "assignedEntity")
    _sub(assigned_entity, "id", root=PS_IDNAT_OID, extension=author_ps_idnat)
    _person(assigned_entity, "assignedPerson", author_given, author_family)

    service_event = _sub(_sub(root, "documentationOf"), "serviceEvent")
    _sub(_sub(service_event, "effectiveTime"), "low", value=_ts(effective))

    component = _sub(root, "component")
    if pdf_body is not None:
        body = _sub(component, "nonXMLBody")
        _sub(
            body,
            "text",
            base64.b64encode(pdf_body).decode("ascii"),
            mediaType="application/pdf",
            representation="B64",
        )
    else:
        body = _sub(component, "structuredBody")
        for heading, paragraphs in sections or []:
            section = _sub(_sub(body, "component"), "section")
            _sub(section, "title", heading)
            text = _sub(section, "text")
            for paragraph in paragraphs:
                _sub(text, "paragraph", paragraph)

    ET.indent(root, space="  ")
    xml = ET.tostring(root, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml.encode("utf-8") + b"\n"


def _person(parent: ET.Element, tag: str, given: str, family: str) -> None:
    name = _sub(_sub(parent, tag), "name")
    _sub(name, "given", given)
    _sub(name, "family", family)


# ---------------------------------------------------------------------------------------------
# Catalogue of sample texts
# ---------------------------------------------------------------------------------------------

SAMPLE_TYPE_DISPLAYS: Final[dict[str, str]] = {
    "11488-4": "CR ou fiche de consultation ou de visite",
    "34112-3": "CR hospitalier (séjour)",
    "11490-0": "Lettre de liaison à la sortie d'un établissement de soins",
    "11502-2": "CR d'examens biologiques",
    "18748-4": "CR d'imagerie médicale",
    "57833-6": "Prescription de produits de santé",
    "60591-5": "Synthèse médicale",
    "60593-1": "Dispensation médicamenteuse",
    "15508-5": "CR d'accouchement",
    "87273-9": "Note de vaccination",
    "EXPPAT_3": "Directives anticipées",
}
"""Type code → CI-SIS label (domain.md §2.2) for the codes used by :data:`SAMPLE_REPORTS`."""


def sample_type_code(key: str) -> str:
    """The type code of a :data:`SAMPLE_REPORTS` key: "11488-4:psychiatrie" → "11488-4"."""
    return key.split(":", 1)[0]


SAMPLE_REPORTS: Final[dict[str, tuple[str, str, list[Section]]]] = {
    "11488-4": (
        "Compte rendu de consultation – suivi d’hypothyroïdie",
        "médecin généraliste",
        [
            (
                "Motif",
                [
                    "Consultation de suivi d’une hypothyroïdie traitée, "
                    "renouvellement du traitement."
                ],
            ),
            (
                "Antécédents",
                [
                    "Hypothyroïdie sur thyroïdite d’Hashimoto diagnostiquée en 2016.",
                    "Allergie à la pénicilline (urticaire généralisée).",
                ],
            ),
            (
                "Examen clinique",
                [
                    "Bon état général. Poids 64 kg, taille 1,66 m. TA 122/76 mmHg, "
                    "FC 68 bpm, régulière.",
                    "Thyroïde non palpable, pas d’adénopathie cervicale. Pas de signe "
                    "d’hypo- ni d’hyperthyroïdie.",
                ],
            ),
            (
                "Résultats récents",
                ["TSH du mois dernier à 2,1 mUI/L (0,4 – 4,0) : équilibre satisfaisant."],
            ),
            (
                "Conclusion",
                [
                    "Hypothyroïdie équilibrée sous lévothyroxine 75 µg/j.",
                    "Poursuite du traitement à l’identique. Contrôle de la TSH dans 6 mois, "
                    "ou plus tôt en cas de fatigue inhabituelle, de palpitations ou de "
                    "prise de poids.",
                ],
            ),
        ],
    ),
    "11488-4:psychiatrie": (
        "Psychiatrie – compte rendu de consultation",
        "psychiatre",
        [
            (
                "Motif",
                [
                    "Consultation adressée par le médecin traitant pour des troubles du sommeil "
                    "et une anxiété d’intensité modérée dans un contexte de surcharge "
                    "professionnelle."
                ],
            ),
            (
                "Entretien",
                [
                    "Patient(e) calme, coopérant(e), discours cohérent. Humeur légèrement "
                    "abaissée, sans idée suicidaire. Difficultés d’endormissement depuis "
                    "environ trois mois, ruminations le soir.",
                    "Pas d’antécédent psychiatrique, pas de consommation de toxiques. "
                    "Entourage familial soutenant.",
                ],
            ),
            (
                "Conclusion",
                [
                    "Trouble anxieux réactionnel avec insomnie d’endormissement.",
                    "Conseils d’hygiène du sommeil, thérapie cognitive et comportementale "
                    "proposée (6 à 8 séances). Pas de traitement médicamenteux à ce stade.",
                    "Nouveau rendez-vous dans 4 semaines.",
                ],
            ),
        ],
    ),
    "34112-3": (
        "Compte rendu d’hospitalisation – chirurgie digestive",
        "médecin hospitalier",
        [
            (
                "Motif d’hospitalisation",
                ["Cholécystite aiguë lithiasique, admission par les urgences."],
            ),
            (
                "Histoire de la maladie",
                [
                    "Douleurs de l’hypocondre droit depuis 24 heures, fièvre à 38,4 °C. "
                    "Échographie : vésicule à paroi épaissie, lithiases multiples, voie "
                    "biliaire principale non dilatée.",
                ],
            ),
            (
                "Évolution dans le service",
                [
                    "Cholécystectomie sous cœlioscopie à J1, sans incident. "
                    "Antibiothérapie adaptée à l’allergie à la pénicilline "
                    "(lévofloxacine et métronidazole) pendant 5 jours.",
                    "Suites simples : apyrexie à J2, reprise alimentaire à J2, "
                    "bilan hépatique normalisé.",
                ],
            ),
            (
                "Traitement de sortie",
                [
                    "Paracétamol 1 g jusqu’à 3 fois par jour si douleur.",
                    "Lévothyroxine 75 µg/j, inchangée.",
                ],
            ),
            (
                "Suivi",
                ["Consultation de chirurgie dans 1 mois. Ablation des fils non nécessaire."],
            ),
        ],
    ),
    "11490-0": (
        "Lettre de liaison à la sortie",
        "médecin hospitalier",
        [
            (
                "Séjour",
                [
                    "Hospitalisation de 4 jours en chirurgie digestive pour cholécystite "
                    "aiguë, cholécystectomie sous cœlioscopie.",
                ],
            ),
            (
                "Points d’attention pour le médecin traitant",
                [
                    "Allergie à la pénicilline confirmée à l’interrogatoire, "
                    "mentionnée au dossier.",
                    "Surveiller la cicatrisation des orifices de trocarts ; pas de soins "
                    "infirmiers nécessaires.",
                ],
            ),
            (
                "Traitements à la sortie",
                [
                    "Traitement habituel poursuivi : lévothyroxine 75 µg le matin à jeun.",
                    "Ajouté : paracétamol 1 g si besoin, 3 g par jour au maximum.",
                    "Arrêté : aucun.",
                ],
            ),
            (
                "Rendez-vous",
                ["Consultation de chirurgie digestive prévue dans 4 semaines."],
            ),
        ],
    ),
    "11502-2": (
        "Compte rendu d’examens biologiques",
        "biologiste",
        [
            (
                "Prélèvement",
                ["Sang veineux, prélevé à jeun à 8 h 10 au laboratoire. Dossier n° 25-018342."],
            ),
            (
                "Hormonologie",
                [
                    "TSH : 2,10 mUI/L (0,40 – 4,00)",
                    "T4 libre : 14,2 pmol/L (9,0 – 19,0)",
                ],
            ),
            (
                "Hématologie",
                [
                    "Hémoglobine : 13,4 g/dL (12,0 – 16,0)",
                    "Leucocytes : 6,2 G/L (4,0 – 10,0)",
                    "Plaquettes : 245 G/L (150 – 400)",
                ],
            ),
            (
                "Biochimie",
                [
                    "Créatinine : 68 µmol/L (45 – 90), DFG estimé (CKD-EPI) > 90 mL/min/1,73 m²",
                    "Glycémie à jeun : 4,9 mmol/L (3,9 – 5,5)",
                    "Cholestérol LDL : 1,12 g/L (cible < 1,60)",
                ],
            ),
            (
                "Commentaire du biologiste",
                ["Bilan sans anomalie. TSH dans les valeurs de référence sous traitement."],
            ),
        ],
    ),
    "18748-4": (
        "Compte rendu d’échographie thyroïdienne",
        "radiologue",
        [
            ("Indication", ["Surveillance d’une thyroïdite d’Hashimoto connue."]),
            (
                "Technique",
                ["Échographie cervicale, sonde linéaire haute fréquence, mode Doppler couleur."],
            ),
            (
                "Résultats",
                [
                    "Lobe droit : 42 × 14 × 13 mm. Lobe gauche : 40 × 13 × 12 mm. Isthme : 3 mm.",
                    "Échostructure hétérogène et hypoéchogène, d’aspect pseudo-nodulaire, "
                    "vascularisation discrètement augmentée, sans nodule individualisable.",
                    "Pas d’adénopathie cervicale suspecte.",
                ],
            ),
            (
                "Conclusion",
                [
                    "Aspect compatible avec une thyroïdite chronique, sans nodule. "
                    "Pas d’indication à un nouveau contrôle échographique systématique."
                ],
            ),
        ],
    ),
    "57833-6": (
        "Ordonnance",
        "médecin généraliste",
        [
            (
                "Prescription",
                [
                    "LÉVOTHYROXINE SODIQUE 75 µg, comprimé sécable : 1 comprimé le matin à jeun, "
                    "30 minutes avant le petit-déjeuner.",
                    "Durée : 3 mois (QSP 90 jours), à renouveler 1 fois.",
                ],
            ),
            (
                "Examens",
                ["Dosage de la TSH dans 6 mois, à jeun, dans le même laboratoire si possible."],
            ),
            (
                "Mentions",
                ["Allergie connue à la pénicilline. Substitution autorisée."],
            ),
        ],
    ),
    "60593-1": (
        "Dispensation médicamenteuse",
        "pharmacien",
        [
            (
                "Produits délivrés",
                [
                    "LÉVOTHYROXINE SODIQUE 75 µg, comprimé sécable, boîte de 30 : 3 boîtes "
                    "(délivrance pour 3 mois).",
                ],
            ),
            (
                "Ordonnance",
                ["Ordonnance du médecin traitant, 1ʳᵉ délivrance sur 2 autorisées."],
            ),
            (
                "Conseils",
                [
                    "Prise le matin à jeun, à distance du café, du calcium et du fer "
                    "(au moins 2 heures).",
                    "Pas d’interaction relevée avec les autres traitements déclarés.",
                ],
            ),
        ],
    ),
    "60591-5": (
        "Volet de synthèse médicale (VSM)",
        "médecin généraliste",
        [
            (
                "Pathologies en cours",
                ["Hypothyroïdie sur thyroïdite d’Hashimoto (2016), équilibrée."],
            ),
            (
                "Antécédents",
                [
                    "Chirurgicaux : cholécystectomie sous cœlioscopie.",
                    "Familiaux : mère traitée pour une hypothyroïdie ; père hypertendu.",
                ],
            ),
            (
                "Allergies et intolérances",
                ["Pénicilline : urticaire généralisée. Pas d’autre allergie connue."],
            ),
            (
                "Traitements au long cours",
                ["Lévothyroxine 75 µg, 1 comprimé le matin à jeun."],
            ),
            (
                "Facteurs de risque et informations utiles",
                [
                    "Non-fumeur(se), consommation d’alcool occasionnelle, activité physique "
                    "régulière (marche).",
                    "Groupe sanguin A Rh+. Vaccinations à jour (dTcaPolio, grippe saisonnière).",
                ],
            ),
            (
                "Points de vigilance",
                ["Toute antibiothérapie doit éviter les pénicillines."],
            ),
        ],
    ),
    "15508-5": (
        "Compte rendu d’accouchement",
        "sage-femme",
        [
            (
                "Grossesse",
                [
                    "Deuxième geste, primipare. Grossesse de déroulement normal, suivie en "
                    "maternité de niveau 2. Hypothyroïdie équilibrée sous lévothyroxine, "
                    "TSH contrôlée à chaque trimestre.",
                ],
            ),
            (
                "Travail et accouchement",
                [
                    "Entrée en travail spontané à 39 SA + 2 jours. Analgésie péridurale. "
                    "Durée du travail : 7 heures.",
                    "Accouchement par voie basse, présentation céphalique, variété OIGA. "
                    "Périnée intact. Délivrance dirigée, complète. Pertes sanguines "
                    "estimées à 300 mL.",
                ],
            ),
            (
                "Nouveau-né",
                [
                    "Naissance d’une fille, Apgar 10/10/10. Poids 3 250 g, taille 49 cm, "
                    "périmètre crânien 34 cm.",
                    "Mise au sein en salle de naissance. Examen pédiatrique normal.",
                ],
            ),
            (
                "Suites",
                [
                    "Suites de couches simples. Reprise de la lévothyroxine à la posologie "
                    "antérieure à la grossesse ; TSH à contrôler 6 semaines après "
                    "l’accouchement.",
                ],
            ),
        ],
    ),
    "87273-9": (
        "Note de vaccination",
        "pharmacien",
        [
            (
                "Vaccin administré",
                [
                    "Vaccin grippal quadrivalent inactivé, 0,5 mL, injection intramusculaire "
                    "dans le deltoïde gauche.",
                    "Numéro de lot : FLU-DEMO-0421 ; date de péremption : 30/06.",
                ],
            ),
            (
                "Contexte",
                [
                    "Campagne de vaccination antigrippale saisonnière. Absence de fièvre et "
                    "de contre-indication le jour de l’injection.",
                ],
            ),
            (
                "Surveillance",
                ["Surveillance de 15 minutes après l’injection, sans effet indésirable immédiat."],
            ),
        ],
    ),
    "EXPPAT_3": (
        "Mes directives anticipées",
        "patient",
        [
            (
                "Mes souhaits",
                [
                    "Je rédige ces directives anticipées en pleine possession de mes moyens. "
                    "Si un jour je ne suis plus en état d’exprimer ma volonté, je souhaite "
                    "qu’elles soient respectées.",
                    "Si je suis atteint(e) d’une maladie grave et incurable, en phase avancée, "
                    "je refuse tout acharnement thérapeutique : je ne souhaite pas être "
                    "maintenu(e) artificiellement en vie par une réanimation prolongée, "
                    "une ventilation mécanique ou une alimentation artificielle sans espoir "
                    "d’amélioration.",
                    "Je demande que l’on soulage mes douleurs et ma souffrance, même si cela "
                    "devait abréger ma vie, et je souhaite être accompagné(e) par mes proches.",
                ],
            ),
            (
                "Personne de confiance",
                [
                    "J’ai désigné mon conjoint comme personne de confiance ; il connaît ces "
                    "directives et en a une copie. Je lui fais confiance pour parler en mon nom.",
                ],
            ),
            (
                "Don d’organes",
                ["Je suis favorable au don de mes organes et de mes tissus."],
            ),
        ],
    ),
}
"""Sample report texts: key → (title, default author role, sections).

Keys are document type codes (LOINC, or TRE_A05 such as ``EXPPAT_3``), with a ``:suffix``
when one code has several samples (``11488-4:psychiatrie``); see :func:`sample_type_code`.
The author role is a lowercase French label ("médecin généraliste", "biologiste",
"pharmacien", "patient", ...). The texts name nobody, so they fit any synthetic patient.
"""
