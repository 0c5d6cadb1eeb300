"""Document metadata vocabularies (domain.md §1.5, §2): typeCode, classCode, portal category,
formatCode, practiceSettingCode, healthcareFacilityTypeCode and confidentialityCode.

Everything is read once per process from the shipped ANS value sets (``data/ans-jdv``) into
dictionaries; every lookup is a dictionary access. Labels are the French ones as shipped.

Code systems are accepted in any of the forms found in XDS, CDA and FHIR — the FHIR URL, the
``urn:oid:`` form or the bare OID of the SVS files — and are normalised to one canonical FHIR
system URI per code system (:func:`canonical_system`). Lookups return that canonical URI.

classCode is derived from typeCode. The official association table (NOS ASS_X04
"CorrespondanceType-Classe") is not available to us, so :data:`TYPE_CLASS` is our own table,
one row per JDV_J07 / TRE_A05 code; ``docs/habilitations.md`` explains the choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from carnet.terminology.registry import FACILITY_SYSTEM, terminology
from carnet.terminology.svs import Concept, ValueSet

# --- code systems ---------------------------------------------------------------------------

_NOS = "https://mos.esante.gouv.fr/NOS"

LOINC = "http://loinc.org"
TRE_A05 = f"{_NOS}/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
TRE_A12 = f"{_NOS}/TRE_A12-NomenclatureASTM/FHIR/TRE-A12-NomenclatureASTM"
TRE_A03 = f"{_NOS}/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
TRE_A10 = f"{_NOS}/TRE_A10-NomenclatureURN/FHIR/TRE-A10-NomenclatureURN"
TRE_A07 = f"{_NOS}/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
HL7_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
TRE_A06 = f"{_NOS}/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire"
TRE_A11 = f"{_NOS}/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode"
TRE_A09 = f"{_NOS}/TRE_A09-DICOMuidRegistry/FHIR/TRE-A09-DICOMuidRegistry"
TRE_A00 = f"{_NOS}/TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS"
TRE_A01 = f"{_NOS}/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice"
TRE_R02 = FACILITY_SYSTEM


@dataclass(frozen=True)
class CodeSystem:
    uri: str  # the canonical FHIR system URI
    oid: str | None  # the identifier used by XDS/CDA/SVS (not always a numeric OID)
    name: str


CODE_SYSTEMS: tuple[CodeSystem, ...] = (
    CodeSystem(LOINC, "2.16.840.1.113883.6.1", "LOINC"),
    CodeSystem(TRE_A05, "1.2.250.1.213.1.1.4.12", "TRE_A05-TypeDocComplementaire"),
    # ANS publishes "ASTM" as the identifier of this nomenclature (urn:oid:ASTM); J07 uses it.
    CodeSystem(TRE_A12, "ASTM", "TRE_A12-NomenclatureASTM"),
    CodeSystem(TRE_A03, "1.2.250.1.213.1.1.4.1", "TRE_A03-ClasseDocument"),
    CodeSystem(TRE_A10, None, "TRE_A10-NomenclatureURN"),
    CodeSystem(TRE_A07, "1.2.250.1.213.1.1.4.13", "TRE_A07-StatutVisibiliteDocument"),
    CodeSystem(HL7_CONFIDENTIALITY, "2.16.840.1.113883.5.25", "HL7 v3 Confidentiality"),
    CodeSystem(TRE_A06, "1.2.250.1.213.1.1.4.2.282", "TRE_A06-FormatCodeComplementaire"),
    CodeSystem(TRE_A11, "1.3.6.1.4.1.19376.1.2.3", "TRE_A11-IheFormatCode"),
    CodeSystem(TRE_A09, "1.2.840.10008.2.6.1", "TRE_A09-DICOMuidRegistry"),
    CodeSystem(TRE_A00, "1.2.250.1.213.1.1.4.6", "TRE_A00-ProducteurDocNonPS"),
    CodeSystem(TRE_A01, "1.2.250.1.213.1.1.4.9", "TRE_A01-CadreExercice"),
    CodeSystem(TRE_R02, "1.2.250.1.71.4.2.4", "TRE_R02-SecteurActivite"),
)

TYPE_SYSTEMS: frozenset[str] = frozenset({LOINC, TRE_A05, TRE_A12})
"""The systems a typeCode may come from (JDV_J07)."""


def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for cs in CODE_SYSTEMS:
        out[cs.uri] = cs.uri
        if cs.oid:
            out[cs.oid] = cs.uri
            out[f"urn:oid:{cs.oid}"] = cs.uri
    return out


_SYSTEM_ALIASES: Mapping[str, str] = MappingProxyType(_aliases())


def canonical_system(system: str | None) -> str | None:
    """The canonical FHIR URI of a known code system given as URL, ``urn:oid:`` or bare OID."""
    if not system:
        return None
    key = system.strip()
    if key[:8].lower() == "urn:oid:":
        key = "urn:oid:" + key[8:]
    return _SYSTEM_ALIASES.get(key)


# --- classCode (J06) and the typeCode → classCode table --------------------------------------

CR, SYNTHESE, IMAGERIE, PRESCRIPTION, DISPENSATION = "10", "11", "31", "42", "43"
PLAN_SOINS, TRAITEMENT_ADMINISTRE, CERTIFICAT, REMBOURSEMENT = "44", "45", "52", "60"
PATIENT, GESTION, TECHNIQUE = "90", "95", "99"
SIGNATURE = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"

# One row per typeCode. LOINC codes first, then TRE_A05 (the two code spaces do not overlap),
# then TRE_A12. Rationale of the groups in docs/habilitations.md, "classCode".
_LOINC_CLASS: dict[str, str] = {
    # Comptes rendus: consultation, hospital stay, emergency, surgery, anaesthesia, letters.
    "11488-4": CR,  # CR ou fiche de consultation ou de visite
    "11490-0": CR,  # Lettre de liaison à la sortie d'un établissement de soins
    "34112-3": CR,  # CR hospitalier (séjour)
    "11505-5": CR,  # CR d'acte thérapeutique (autre)
    "11506-3": CR,  # CR ou fiche de suivi de soins par auxiliaire médical
    "15507-7": CR,  # CR de passage aux urgences
    "15508-5": CR,  # CR d'accouchement
    "18761-7": CR,  # Note de transfert
    "28617-9": CR,  # Bilan bucco-dentaire
    "28653-4": CR,  # Document du secteur social / médico-social
    "34120-6": CR,  # Bilan par professionnel de santé
    "34749-2": CR,  # CR de consultation pré-anesthésique
    "34794-8": CR,  # CR de réunion de concertation pluridisciplinaire
    "34842-5": CR,  # Grille d'évaluation médico-social
    "34874-8": CR,  # CR opératoire
    "34875-5": CR,  # Évaluation postopératoire et note de suivi
    "47420-5": CR,  # CR de bilan fonctionnel
    "56445-0": CR,  # Bilan médicamenteux (Officine)
    "59283-2": CR,  # CR d'examen de l'enfant
    "60280-5": CR,  # Fiche de retour du service des urgences
    "61357-0": CR,  # Intervention pharmaceutique
    "67851-6": CR,  # CR d'admission
    "68817-6": CR,  # Bilan de santé et de prévention de l'enfant
    "70004-7": CR,  # CR d'acte diagnostique (autre)
    "74465-6": CR,  # Questionnaire patient
    "75482-0": CR,  # CR d'acte thérapeutique à visée préventive
    "75492-9": CR,  # CR d'acte diagnostique à visée préventive ou de dépistage
    "77436-4": CR,  # CR d'anesthésie
    "78341-5": CR,  # Fiche de transfert vers le service des urgences
    "78513-9": CR,  # CR de consultation en ophtalmologie
    "78601-2": CR,  # CR d'entretien pharmaceutique
    "80820-4": CR,  # Formulaire de conciliation médicamenteuse (Hôpital)
    "83836-7": CR,  # Schéma dentaire
    "83901-9": CR,  # Bilan psychologique
    "83981-1": CR,  # Lettre de liaison à la sortie d'une structure sociale ou médico-sociale
    "85208-7": CR,  # CR de télémédecine
    "88348-8": CR,  # Lettre de liaison d'entrée en structure sociale ou médico-sociale
    "89233-1": CR,  # CR de grossesse
    "93024-8": CR,  # CR de consultation pharmaceutique
    "96349-6": CR,  # Lettre d'adressage
    # Results are reports too (class 10); the portal files them under "biologie".
    "11502-2": CR,  # CR d'examens biologiques
    "29274-8": CR,  # Mesures de signes vitaux
    "51969-4": CR,  # CR de génétique moléculaire
    "60568-3": CR,  # CR d'anatomie et de cytologie pathologiques
    "96173-0": CR,  # Test rapide d'orientation diagnostique
    # Synthèses: VSM, episode and specialty summaries, perinatal summaries, DLU.
    "11369-6": SYNTHESE,  # Historique des vaccinations
    "34133-9": SYNTHESE,  # Synthèse d'épisode de soins
    "57055-6": SYNTHESE,  # Synthèse antepartum
    "57057-2": SYNTHESE,  # Synthèse Salle de Naissance Mère
    "57075-4": SYNTHESE,  # Synthèse Salle de Naissance Enfant
    "60591-5": SYNTHESE,  # Synthèse médicale (VSM)
    "68599-0": SYNTHESE,  # Synthèse psychiatrique
    "74207-2": SYNTHESE,  # Document de liaison d'urgence
    "78489-2": SYNTHESE,  # Synthèse Enfant en Maternité
    "89235-6": SYNTHESE,  # Synthèse Suites de Couches Mère
    # Imagerie médicale: the imaging report is filed with the images (class 31, not 10).
    "18748-4": IMAGERIE,  # CR d'imagerie médicale
    "52040-3": IMAGERIE,  # Document encapsulant une image d'illustration non DICOM
    # Prescriptions and requests.
    "55115-0": PRESCRIPTION,  # Demande d'actes d'imagerie
    "57828-6": PRESCRIPTION,  # Prescription (autre)
    "57832-8": PRESCRIPTION,  # Prescription de soins
    "57833-6": PRESCRIPTION,  # Prescription de produits de santé
    "75468-9": PRESCRIPTION,  # Renouvellement ordonnance par pharmacien correspondant
    "75496-0": PRESCRIPTION,  # Demande d'acte de télémédecine
    "60593-1": DISPENSATION,  # Dispensation médicamenteuse
    # Plans and protocols of care.
    "18776-5": PLAN_SOINS,  # Plan personnalisé de soins
    "77604-7": PLAN_SOINS,  # Planification thérapeutique
    "80771-9": PLAN_SOINS,  # Projet d'accueil individualisé
    "80788-3": PLAN_SOINS,  # Projet personnalisé d'accompagnement
    "83869-8": PLAN_SOINS,  # Plan personnalisé de prévention
    # Treatments given.
    "80565-5": TRAITEMENT_ADMINISTRE,  # CR d'administration de médicaments
    "87273-9": TRAITEMENT_ADMINISTRE,  # Note de vaccination (one vaccine given)
    # Certificates, attestations, declarations.
    "59284-0": CERTIFICAT,  # Attestation de consentement
    "86531-1": CERTIFICAT,  # Attestation de sortie
    "89601-9": CERTIFICAT,  # Certificat médical
    "96874-3": CERTIFICAT,  # COVID-19 Attestation de vaccination
    "101881-1": CERTIFICAT,  # Carte d'implant
    # Management documents.
    "51851-4": GESTION,  # Document administratif
    "56446-8": GESTION,  # Notification de rendez-vous
    # Not yet in the shipped J07 (ANS version 2026-06-29): ready for the next data refresh.
    "34876-3": CR,  # Évaluation préopératoire et note de suivi
    "34895-3": CR,  # Fiche d'information au patient
    "55751-2": CERTIFICAT,  # Déclaration de problème de santé publique
    "68814-3": CR,  # Note d'évaluation pédiatrique
    "83963-9": SYNTHESE,  # Synthèse environnementale
    "84067-8": SYNTHESE,  # Synthèse transfusionnelle
    "96163-1": CR,  # Bilan de soins infirmiers
    "97694-4": CR,  # Note d'évaluation en médecine maternelle et fœtale
    "100967-9": CR,  # Rythme cardiaque fœtal
}

_TRE_A05_CLASS: dict[str, str] = {
    "BIL_AUTO": CR,  # CR de bilan d'évaluation de la perte d'autonomie
    "SYNTH": SYNTHESE,
    "EXPORT_DUI": SYNTHESE,  # Export du Dossier Usager Informatisé (medico-social summary)
    "IMG-KOS": IMAGERIE,  # DICOM KOS: the references to an imaging study
    "PRESC-AAT": PRESCRIPTION,
    "PRESC-BIO": PRESCRIPTION,
    "PRESC-KINE": PRESCRIPTION,
    "PRESC-INF": PRESCRIPTION,
    "PRESC-PEDI": PRESCRIPTION,
    "PRESC-ORTHOPHO": PRESCRIPTION,
    "PRESC-ORTHOPTIE": PRESCRIPTION,
    "DISP_AUT": DISPENSATION,
    "PROT_ALD": PLAN_SOINS,  # Protocole de soins ALD
    "CERT_DECL": CERTIFICAT,
    "AUTORIS-SOINS": CERTIFICAT,  # parental authorisation: a signed declaration
    "REMB": REMBOURSEMENT,
    "ATTEST-ASS-COMPL": GESTION,
    "ATTEST-RESID": GESTION,
    "ATTEST-HEBGT": GESTION,
    "ATTEST-DROITS-AM": GESTION,
    "PIECE-IDENTITE": GESTION,
    "FICHE-CONTACTS": GESTION,
    "INSCR_RCP": GESTION,  # Données d'inscription en RCP (TRE_A05 only, not in J07)
    "FEUILLE-DE-STYLE": TECHNIQUE,
    **{f"DOCPAT0{i}": PATIENT for i in range(1, 10)},
    **{f"EXPPAT_{i}": PATIENT for i in range(1, 4)},
}

TYPE_CLASS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        **{(LOINC, code): cls for code, cls in _LOINC_CLASS.items()},
        **{(TRE_A05, code): cls for code, cls in _TRE_A05_CLASS.items()},
        (TRE_A12, "E1762"): SIGNATURE,  # IHE DSG signature document ("Full Document")
    }
)
"""(canonical type system, typeCode) → classCode (TRE_A03 code, or the DSG signature URN)."""


# --- portal categories ----------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    key: str  # stable identifier, stored with each document (≤ 24 characters)
    label: str  # French, as shown in the portal
    label_en: str


CATEGORIES: tuple[Category, ...] = (
    Category("ordonnances", "Ordonnances et soins", "Prescriptions and care"),
    Category("biologie", "Résultats d'examens", "Test results"),
    Category("imagerie", "Imagerie médicale", "Medical imaging"),
    Category("comptes-rendus", "Comptes rendus", "Reports"),
    Category("prevention", "Prévention et vaccination", "Prevention and vaccination"),
    Category("certificats", "Certificats", "Certificates"),
    Category("administratif", "Dossier administratif", "Administrative documents"),
    Category("patient", "Mes documents", "My documents"),
    Category("autres", "Autres", "Other"),
)
_CATEGORY_BY_KEY: Mapping[str, Category] = MappingProxyType({c.key: c for c in CATEGORIES})

_CLASS_CATEGORY: Mapping[str, str] = MappingProxyType(
    {
        CR: "comptes-rendus",
        SYNTHESE: "comptes-rendus",
        IMAGERIE: "imagerie",
        PRESCRIPTION: "ordonnances",
        DISPENSATION: "ordonnances",
        PLAN_SOINS: "ordonnances",
        TRAITEMENT_ADMINISTRE: "ordonnances",
        CERTIFICAT: "certificats",
        REMBOURSEMENT: "administratif",
        GESTION: "administratif",
        PATIENT: "patient",
    }
)
"""classCode → category; anything else (99 technique, signatures) goes to "autres"."""

# Types whose category is not the one of their class: results, prevention and vaccination.
_TYPE_CATEGORY: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        **{
            (LOINC, code): "biologie"
            for code in ("11502-2", "29274-8", "51969-4", "60568-3", "96173-0")
        },
        **{
            (LOINC, code): "prevention"
            for code in (
                "11369-6",  # Historique des vaccinations
                "87273-9",  # Note de vaccination
                "96874-3",  # COVID-19 Attestation de vaccination
                "83869-8",  # Plan personnalisé de prévention
                "68817-6",  # Bilan de santé et de prévention de l'enfant
                "59283-2",  # CR d'examen de l'enfant (the compulsory child check-ups)
                "75482-0",  # CR d'acte thérapeutique à visée préventive
                "75492-9",  # CR d'acte diagnostique à visée préventive ou de dépistage
            )
        },
    }
)


def categories() -> list[Category]:
    """The portal categories, in display order."""
    return list(CATEGORIES)


def category(key: str) -> Category | None:
    return _CATEGORY_BY_KEY.get(key)


# --- document types (J07 + TRE_A05) ---------------------------------------------------------


@dataclass(frozen=True)
class DocType:
    system: str  # canonical URI
    code: str
    display: str  # French label (J07, else TRE_A05)
    class_code: str  # TRE_A03 code (or the DSG signature URN), derived from the type
    category: str  # Category.key

    @property
    def patient_authored(self) -> bool:
        return self.class_code == PATIENT


PATIENT_TYPES: frozenset[tuple[str, str]] = frozenset(
    {(TRE_A05, f"DOCPAT0{i}") for i in range(1, 10)}
    | {(TRE_A05, f"EXPPAT_{i}") for i in range(1, 4)}
)
"""Types of the documents a patient deposits (class 90): DOCPAT01–09 and EXPPAT_1–3."""

ADVANCE_DIRECTIVES: tuple[str, str] = (TRE_A05, "EXPPAT_3")
"""Directives anticipées (domain.md §2.6)."""

CHILDBIRTH_REPORT: tuple[str, str] = (LOINC, "15508-5")
"""CR d'accouchement."""


def _guess_class(display: str) -> str:
    """classCode of a typeCode missing from :data:`TYPE_CLASS` (a refreshed J07), by label."""
    label = display.casefold()
    for prefix, cls in (
        ("prescription", PRESCRIPTION),
        ("demande", PRESCRIPTION),
        ("dispensation", DISPENSATION),
        ("synthèse", SYNTHESE),
        ("certificat", CERTIFICAT),
        ("attestation", CERTIFICAT),
        ("plan", PLAN_SOINS),
    ):
        if label.startswith(prefix):
            return cls
    return CR


def _category_for(key: tuple[str, str], class_code: str) -> str:
    return _TYPE_CATEGORY.get(key) or _CLASS_CATEGORY.get(class_code, "autres")


def _value_set(name: str) -> ValueSet:
    return terminology().value_set(name)


@cache
def _doc_types() -> Mapping[tuple[str, str], DocType]:
    labels: dict[tuple[str, str], str] = {}
    tre_a05 = _value_set("TRE_A05-TypeDocComplementaire")
    j07 = _value_set("JDV_J07_XdsTypeCode_CISIS")
    # TRE_A05 first so that J07 (the newer file) wins where both label a code.
    for concept in (*tre_a05.concepts.values(), *j07.concepts.values()):
        system = canonical_system(concept.system)
        if system is None or system not in TYPE_SYSTEMS:
            raise ValueError(f"typeCode {concept.code}: unknown code system {concept.system!r}")
        labels[(system, concept.code)] = concept.display
    out: dict[tuple[str, str], DocType] = {}
    for key, display in labels.items():
        cls = TYPE_CLASS.get(key) or _guess_class(display)
        out[key] = DocType(key[0], key[1], display, cls, _category_for(key, cls))
    return MappingProxyType(out)


def document_types() -> list[DocType]:
    """Every known document type: JDV_J07 plus the TRE_A05 codes that J07 leaves out."""
    return list(_doc_types().values())


def document_type(system: str | None, code: str | None) -> DocType | None:
    canonical = canonical_system(system)
    if canonical is None or not code:
        return None
    return _doc_types().get((canonical, code))


def is_patient_type(system: str | None, code: str | None) -> bool:
    canonical = canonical_system(system)
    return canonical is not None and (canonical, code or "") in PATIENT_TYPES


def category_of(doc_type: DocType) -> Category:
    return _CATEGORY_BY_KEY.get(doc_type.category) or _CATEGORY_BY_KEY["autres"]


# --- the other metadata value sets -----------------------------------------------------------


def _canonical_concepts(concepts: Iterable[Concept]) -> Mapping[str, Concept]:
    out: dict[str, Concept] = {}
    for c in concepts:
        system = canonical_system(c.system)
        if system is None:
            raise ValueError(f"code {c.code}: unknown code system {c.system!r}")
        out[c.code] = Concept(c.code, system, c.display)
    return MappingProxyType(out)


@cache
def _class_codes() -> Mapping[str, Concept]:
    return _canonical_concepts(_value_set("JDV_J06_XdsClassCode_CISIS").concepts.values())


@cache
def _format_codes() -> Mapping[str, Concept]:
    return _canonical_concepts(_value_set("JDV_J10_XdsFormatCode_CISIS").concepts.values())


@cache
def _practice_settings() -> Mapping[str, Concept]:
    return _canonical_concepts(_value_set("JDV_J04_XdsPracticeSettingCode_CISIS").concepts.values())


@cache
def _facility_types() -> Mapping[str, Concept]:
    vs = _value_set("JDV_J02_XdsHealthcareFacilityTypeCode_CISIS")
    return _canonical_concepts(vs.concepts.values())


# TRE_A07 codes that JDV_J08 (CI-SIS) leaves out; TRE_A07 flags them as not used by the DMP.
# Labels from the ANS CodeSystem TRE_A07_StatutVisibiliteDocument (version 20231215).
_TRE_A07_OUTSIDE_J08 = (
    Concept("MASQUE_PSOCIAL", TRE_A07, "Masqué aux professionnels du domaine social"),
    Concept("MASQUE_PT", TRE_A07, "Masqué aux personnes tierces"),
)


@cache
def _confidentiality() -> Mapping[tuple[str, str], Concept]:
    j08 = _canonical_concepts(_value_set("JDV_J08_XdsConfidentialityCode_CISIS").concepts.values())
    out = {(c.system, c.code): c for c in (*j08.values(), *_TRE_A07_OUTSIDE_J08)}
    return MappingProxyType(out)


def class_code(code: str | None) -> Concept | None:
    """A JDV_J06 classCode (TRE_A03, plus the IHE DSG "Digital Signature" URN)."""
    return _class_codes().get(code or "")


def format_code(code: str | None) -> Concept | None:
    """A JDV_J10 formatCode: CI-SIS models (TRE_A06), IHE codes (TRE_A11, including the
    unstructured-body ``urn:ihe:iti:xds-sd:pdf:2008`` and ``…:text:2008``), DICOM KOS."""
    return _format_codes().get(code or "")


def practice_setting(code: str | None) -> Concept | None:
    """A JDV_J04 practiceSettingCode (TRE_A01 cadre d'exercice, or TRE_A00 for EXP_PATIENT/SNR)."""
    return _practice_settings().get(code or "")


def facility_type(code: str | None) -> Concept | None:
    """A JDV_J02 healthcareFacilityTypeCode (TRE_R02 secteur d'activité, or TRE_A00)."""
    return _facility_types().get(code or "")


def confidentiality(system: str | None, code: str | None) -> Concept | None:
    """A confidentialityCode: JDV_J08 (HL7 N/R/V and TRE_A07 MASQUE_PS, INVISIBLE_PATIENT,
    INVISIBLE_REPRESENTANTS_LEGAUX) plus TRE_A07 MASQUE_PSOCIAL and MASQUE_PT."""
    canonical = canonical_system(system)
    if canonical is None or not code:
        return None
    return _confidentiality().get((canonical, code))


__all__ = [
    "ADVANCE_DIRECTIVES",
    "CATEGORIES",
    "CHILDBIRTH_REPORT",
    "CODE_SYSTEMS",
    "HL7_CONFIDENTIALITY",
    "LOINC",
    "PATIENT_TYPES",
    "TRE_A03",
    "TRE_A05",
    "TRE_A07",
    "TRE_A12",
    "TYPE_CLASS",
    "TYPE_SYSTEMS",
    "Category",
    "CodeSystem",
    "DocType",
    "canonical_system",
    "categories",
    "category",
    "category_of",
    "class_code",
    "confidentiality",
    "document_type",
    "document_types",
    "facility_type",
    "format_code",
    "is_patient_type",
    "practice_setting",
]
