"""Prescription safety: interactions taken from the ANSM thesaurus itself (substance- and
class-level entries, multi-level entries), allergies by substance, by class and by documented
cross-reactivity, the personas, unknown drugs, and the properties that keep the check honest
(symmetric, never silent, no allergy alarm from an interaction class)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.safety import families
from carnet.safety.engine import (
    Allergy,
    SafetyWarning,
    Treatment,
    WarningSeverity,
    check,
    check_prescription,
)
from carnet.terminology.drugs import (
    Severity,
    interactions,
    interactions_between,
    load_bdpm,
    load_thesaurus,
    resolve,
)

CI = WarningSeverity.CONTRE_INDICATION
AD = WarningSeverity.ASSOCIATION_DECONSEILLEE
PE = WarningSeverity.PRECAUTION_EMPLOI
APEC = WarningSeverity.A_PRENDRE_EN_COMPTE
ALLERGY = WarningSeverity.ALLERGIE
CROSS = WarningSeverity.REACTION_CROISEE

PENICILLIN_ALLERGY = Allergy(class_name="pénicillines", text="Allergie à la pénicilline")
SYLVIE_ALLERGIES = [
    Allergy(substance=None, class_name="pénicillines", text="Pénicilline", criticality="high")
]
SYLVIE_TREATMENTS = [Treatment(substance="lévothyroxine", name="LEVOTHYROX 75 microgrammes")]
CLAMOXYL_1G = "64539416"


def rules(warnings: list[SafetyWarning], kind: str = "interaction") -> dict[str, WarningSeverity]:
    return {w.rule: w.severity for w in warnings if w.kind == kind}


def allergy_severities(prescribed: str, *allergies: Allergy) -> list[WarningSeverity]:
    return [
        w.severity
        for w in check_prescription([prescribed], list(allergies), [])
        if w.kind == "allergy"
    ]


# --- interactions: a table of real thesaurus entries ----------------------------------------

THESAURUS_CASES = [
    # (prescribed, current treatment, thesaurus entry as printed, expected severity)
    # substance + substance
    ("lithium", "chlorure de sodium", "LITHIUM + SODIUM (CHLORURE DE)", PE),
    ("amiodarone", "simvastatine", "AMIODARONE + SIMVASTATINE", PE),
    ("trimethoprime", "méthotrexate", "METHOTREXATE + TRIMETHOPRIME", CI),
    ("tramadol", "fluoxétine", "FLUOXETINE + TRAMADOL", AD),
    ("digoxine", "carbonate de calcium", "CALCIUM + DIGOXINE", CI),
    # substance + class
    ("méthotrexate", "amoxicilline", "METHOTREXATE + PÉNICILLINES", AD),
    ("acide acétylsalicylique", "warfarine", "ACIDE ACETYLSALICYLIQUE + ANTICOAGULANTS ORAUX", CI),
    ("clarithromycine", "simvastatine", "INHIBITEURS PUISSANTS DU CYP3A4 + SIMVASTATINE", CI),
    ("tramadol", "sélégiline", "IMAO-B + TRAMADOL", APEC),
    (
        "chlorure de potassium",
        "spironolactone",
        "DIURÉTIQUES ÉPARGNEURS DE POTASSIUM (SEULS OU ASSOCIÉS) + POTASSIUM",
        AD,
    ),
    ("colchicine", "clarithromycine", "COLCHICINE + MACROLIDES (SAUF SPIRAMYCINE)", CI),
    ("fluconazole", "warfarine", "ANTIVITAMINES K + FLUCONAZOLE", PE),
    ("paracétamol", "warfarine", "ANTIVITAMINES K + PARACETAMOL", PE),
    ("carbonate de calcium", "lévothyroxine", "CALCIUM + HORMONES THYROÏDIENNES", PE),
    ("ibuprofène", "lithium", "ANTI-INFLAMMATOIRES NON STÉROÏDIENS + LITHIUM", AD),
    ("iohexol", "metformine", "METFORMINE + PRODUITS DE CONTRASTE IODÉS", CI),
    # class + class, including "X + autres X"
    ("allopurinol", "azathioprine", "ANTIPURINES + INHIBITEURS DE LA XANTHINE OXYDASE", CI),
    ("doxycycline", "isotrétinoïne", "CYCLINES + RÉTINOÏDES", CI),
    (
        "fluoxétine",
        "iproniazide",
        "IMAO IRRÉVERSIBLES + INHIBITEURS SÉLECTIFS DE LA RECAPTURE DE LA SÉROTONINE",
        CI,
    ),
    (
        "moclobémide",
        "sélégiline",
        "IMAO-A RÉVERSIBLES, Y COMPRIS OXAZOLIDINONES ET BLEU DE MÉTHYLÈNE + IMAO-B",
        CI,
    ),
    (
        "kétoprofène",
        "ibuprofène",
        "ANTI-INFLAMMATOIRES NON STÉROÏDIENS + AUTRES ANTI-INFLAMMATOIRES NON STÉROÏDIENS",
        AD,
    ),
    # multi-level entries: the level whose conditions name the drug, else the others
    (
        "citalopram",
        "hydroxychloroquine",
        "HYDROXYCHLOROQUINE + SUBSTANCES SUSCEPTIBLES DE DONNER DES TORSADES DE POINTES",
        CI,
    ),
    (
        "sotalol",
        "hydroxychloroquine",
        "HYDROXYCHLOROQUINE + SUBSTANCES SUSCEPTIBLES DE DONNER DES TORSADES DE POINTES",
        AD,
    ),
    (
        "doxazosine",
        "sildénafil",
        "ALPHABLOQUANTS À VISÉE UROLOGIQUE + INHIBITEURS DE LA PHOSPHODIESTERASE DE TYPE 5",
        AD,
    ),
    (
        "tamsulosine",
        "sildénafil",
        "ALPHABLOQUANTS À VISÉE UROLOGIQUE + INHIBITEURS DE LA PHOSPHODIESTERASE DE TYPE 5",
        PE,
    ),
    ("tacrolimus", "voriconazole", "IMMUNOSUPPRESSEURS + VORICONAZOLE", PE),
    ("zolpidem", "diazépam", "MÉDICAMENTS SÉDATIFS + AUTRES MÉDICAMENTS SÉDATIFS", APEC),
    ("morphine", "oxybate de sodium", "MÉDICAMENTS SÉDATIFS + AUTRES MÉDICAMENTS SÉDATIFS", CI),
]


@pytest.mark.parametrize(("prescribed", "current", "rule", "severity"), THESAURUS_CASES)
def test_a_thesaurus_entry_warns_at_its_level(
    prescribed: str, current: str, rule: str, severity: WarningSeverity
) -> None:
    warnings = check_prescription([prescribed], [], [Treatment(current)])
    assert rules(warnings).get(rule) is severity


@pytest.mark.parametrize("rule", sorted({case[2] for case in THESAURUS_CASES}))
def test_every_rule_of_the_table_is_printed_as_such_in_the_thesaurus(rule: str) -> None:
    assert rule in {e.rule for e in interactions()}


def test_an_interaction_warning_names_substances_rule_severity_source_and_edition() -> None:
    (warning,) = check_prescription(["méthotrexate"], [], [Treatment("amoxicilline", "Clamoxyl")])
    assert warning.kind == "interaction"
    assert warning.substances == ("methotrexate", "amoxicilline")
    assert warning.rule == "METHOTREXATE + PÉNICILLINES"
    assert warning.severity is AD
    assert warning.source == "ANSM, Thésaurus des interactions médicamenteuses, octobre 2020"
    assert warning.source_date == "2020-10-20"
    assert "amoxicilline : classe PÉNICILLINES" in warning.message_fr
    assert "Association déconseillée" in warning.message_fr
    assert warning.message_en.startswith("Not recommended: méthotrexate + amoxicilline (Clamoxyl)")


def test_a_multi_level_warning_lists_every_level_and_its_conditions() -> None:
    warnings = check_prescription(["Kardegic 75 mg"], [], [Treatment("Coumadine")])
    top = next(w for w in warnings if w.rule == "ACIDE ACETYLSALICYLIQUE + ANTICOAGULANTS ORAUX")
    assert top.severity is CI
    assert [level for level, _ in top.conditions] == [
        Severity.CONTRE_INDICATION,
        Severity.ASSOCIATION_DECONSEILLEE,
        Severity.A_PRENDRE_EN_COMPTE,
    ]
    assert "Autres niveaux selon le contexte" in top.message_fr


def test_drugs_prescribed_together_are_checked_against_each_other() -> None:
    warnings = check_prescription(["méthotrexate", CLAMOXYL_1G], [], [])
    assert rules(warnings) == {"METHOTREXATE + PÉNICILLINES": AD}


def test_product_names_and_cis_codes_are_checked_like_their_substances() -> None:
    by_name = check_prescription(["CLAMOXYL 1 g, comprimé"], [], [Treatment("Méthotrexate")])
    by_cis = check_prescription([CLAMOXYL_1G], [], [Treatment("methotrexate")])
    assert rules(by_name) == rules(by_cis) == {"METHOTREXATE + PÉNICILLINES": AD}


def test_warnings_come_most_serious_first() -> None:
    warnings = check_prescription(
        ["clarithromycine"],
        [Allergy(substance="érythromycine")],
        [Treatment("simvastatine"), Treatment("warfarine"), Treatment("colchicine")],
    )
    ranks = [w.severity.rank for w in warnings]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] == 4


# --- no false alarm -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prescribed", "current"),
    [
        ("paracétamol", "lévothyroxine"),
        ("Doliprane 1000 mg", "Levothyrox"),
        ("amoxicilline", "lévothyroxine"),
        ("azithromycine", "paracétamol"),
        ("céfalexine", "lévothyroxine"),
        ("oméprazole", "paracétamol"),
    ],
)
def test_unrelated_drugs_give_no_warning(prescribed: str, current: str) -> None:
    assert check_prescription([prescribed], [], [Treatment(current)]) == []


def test_renewing_a_current_treatment_is_not_an_interaction() -> None:
    assert check_prescription(["Levothyrox"], [], SYLVIE_TREATMENTS) == []


# --- allergies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prescribed", "expected"),
    [
        ("amoxicilline", [ALLERGY]),
        (CLAMOXYL_1G, [ALLERGY]),
        ("Augmentin", [ALLERGY]),
        ("pipéracilline", [ALLERGY]),
        ("céfalexine", [CROSS]),
        ("ceftriaxone", [CROSS]),
        ("imipénem", [CROSS]),
        ("azithromycine", []),
        ("clarithromycine", []),
        ("aztréonam", []),
        ("paracétamol", []),
        ("lévothyroxine", []),
    ],
)
def test_a_penicillin_allergy_flags_penicillins_and_cross_reactive_beta_lactams_only(
    prescribed: str, expected: list[WarningSeverity]
) -> None:
    assert allergy_severities(prescribed, PENICILLIN_ALLERGY) == expected


def test_a_class_allergy_warning_says_why_the_drug_belongs_to_the_class() -> None:
    (warning,) = check_prescription(["amoxicilline"], [PENICILLIN_ALLERGY], [])
    assert warning.rule == "allergie aux pénicillines (classe) — amoxicilline est une pénicilline"
    assert warning.severity is ALLERGY
    assert warning.severity.level is Severity.CONTRE_INDICATION
    assert warning.source_date == families.REVIEWED


def test_cross_reactivity_is_a_precaution_not_a_contraindication() -> None:
    (warning,) = check_prescription(["ceftriaxone"], [PENICILLIN_ALLERGY], [])
    assert warning.severity is CROSS
    assert warning.severity.level is Severity.PRECAUTION_EMPLOI
    assert "réaction croisée possible" in warning.severity.label.lower()


@pytest.mark.parametrize(
    ("allergen", "prescribed", "expected"),
    [
        ("amoxicilline", "amoxicilline", [ALLERGY]),
        ("amoxicilline", "ampicilline", [ALLERGY]),
        ("amoxicilline", "céfalexine", [CROSS]),
        ("amoxicilline", "céfixime", [CROSS]),
        ("amoxicilline", "aztréonam", []),
        ("ceftazidime", "aztréonam", [CROSS]),
        ("ceftazidime", "ceftriaxone", [CROSS]),
        ("imipénem", "méropénem", [ALLERGY]),
        ("ibuprofène", "kétoprofène", [CROSS]),
        ("ibuprofène", "acide acétylsalicylique", [CROSS]),
        ("ibuprofène", "paracétamol", []),
        ("iohexol", "iopamidol", [CROSS]),
        ("iohexol", "povidone iodée", []),
        ("sulfaméthoxazole", "sulfadiazine", [ALLERGY]),
        ("sulfaméthoxazole", "furosémide", []),
        ("sulfaméthoxazole", "glibenclamide", []),
        ("Augmentin", "amoxicilline", [ALLERGY]),
        (CLAMOXYL_1G, "ampicilline", [ALLERGY]),
    ],
)
def test_a_substance_allergy_flags_the_family_and_documented_cross_reactions(
    allergen: str, prescribed: str, expected: list[WarningSeverity]
) -> None:
    assert allergy_severities(prescribed, Allergy(substance=allergen)) == expected


def test_a_shared_side_chain_is_named_in_the_warning() -> None:
    (warning,) = check_prescription(["céfalexine"], [Allergy(substance="amoxicilline")], [])
    assert "chaîne latérale R1" in warning.rule
    assert warning.substances == ("cefalexine", "amoxicilline")


@pytest.mark.parametrize(
    ("allergy", "prescribed", "expected"),
    [
        (Allergy(class_name="bêta-lactamines"), "ceftriaxone", [ALLERGY]),
        (Allergy(class_name="bêta-lactamines"), "aztréonam", [ALLERGY]),
        (Allergy(class_name="AINS"), "diclofénac", [ALLERGY]),
        (Allergy(class_name="AINS"), "paracétamol", []),
        (Allergy(class_name="fluoroquinolones"), "ciprofloxacine", [ALLERGY]),
        (Allergy(class_name="fluoroquinolones"), "amoxicilline", []),
        (Allergy(class_name="sulfamides"), "BACTRIM", [ALLERGY]),
        (Allergy(text="Urticaire sous pénicilline"), "amoxicilline", [ALLERGY]),
        (Allergy(text="allergie aux sulfamides hypoglycémiants"), "glibenclamide", [ALLERGY]),
        (Allergy(text="allergie aux sulfamides hypoglycémiants"), "sulfaméthoxazole", []),
        (Allergy(text="Allergie à l'arachide"), "paracétamol", []),
        (Allergy(substance="latex"), "amoxicilline", []),
    ],
)
def test_class_and_free_text_allergies_are_understood(
    allergy: Allergy, prescribed: str, expected: list[WarningSeverity]
) -> None:
    assert allergy_severities(prescribed, allergy) == expected


def test_cotrimoxazole_flags_its_sulfonamide_not_its_trimethoprim() -> None:
    warnings = check_prescription(["BACTRIM"], [Allergy(class_name="sulfamides")], [])
    assert [w.substances for w in warnings] == [("sulfamethoxazole",)]


def test_a_high_criticality_is_said_in_the_message() -> None:
    (warning,) = check_prescription(["amoxicilline"], SYLVIE_ALLERGIES, [])
    assert "Criticité élevée" in warning.message_fr
    assert "High criticality" in warning.message_en


# --- personas -----------------------------------------------------------------------------------


def test_sylvie_can_be_prescribed_paracetamol_without_any_warning() -> None:
    assert check_prescription(["paracétamol"], SYLVIE_ALLERGIES, SYLVIE_TREATMENTS) == []
    assert (
        check_prescription(["DOLIPRANE 1000 mg, comprimé"], SYLVIE_ALLERGIES, SYLVIE_TREATMENTS)
        == []
    )


def test_sylvie_prescribed_amoxicillin_gets_exactly_one_allergy_warning() -> None:
    warnings = check_prescription(["amoxicilline"], SYLVIE_ALLERGIES, SYLVIE_TREATMENTS)
    assert [(w.kind, w.severity) for w in warnings] == [("allergy", ALLERGY)]


def test_sylvie_prescribed_calcium_is_told_to_space_it_from_her_levothyroxine() -> None:
    warnings = check_prescription(["carbonate de calcium"], SYLVIE_ALLERGIES, SYLVIE_TREATMENTS)
    assert rules(warnings) == {"CALCIUM + HORMONES THYROÏDIENNES": PE}
    assert "lévothyroxine (LEVOTHYROX 75 microgrammes)" in warnings[0].message_fr


# --- never silent ---------------------------------------------------------------------------------


def test_an_unknown_drug_is_reported_as_not_checked() -> None:
    (warning,) = check_prescription(["Xyzzylol 20 mg"], SYLVIE_ALLERGIES, SYLVIE_TREATMENTS)
    assert (warning.kind, warning.severity, warning.drug) == (
        "unknown",
        WarningSeverity.INCONNU,
        "Xyzzylol 20 mg",
    )
    assert "non vérifié" in warning.message_fr
    assert warning.source_date


def test_an_ambiguous_product_name_is_reported_as_not_checked() -> None:
    (warning,) = check_prescription(["ARKOGELULES"], [], [])
    assert warning.kind == "unknown"
    assert "compositions différentes" in warning.message_fr


def test_an_unreadable_current_treatment_is_reported_too() -> None:
    (warning,) = check_prescription(["paracétamol"], [], [Treatment("truc", "Potion maison")])
    assert warning.kind == "unknown"
    assert warning.message_fr.startswith("Traitement en cours « Potion maison » non vérifié")


def test_the_check_says_what_each_prescribed_item_was_understood_as() -> None:
    report = check(["CLAMOXYL 1 g, comprimé", "xyzzy"], [], [])
    assert [(p.via, p.substances, p.checked) for p in report.prescribed] == [
        ("product", ("amoxicilline",), True),
        ("unknown", (), False),
    ]
    assert [w.kind for w in report.warnings] == ["unknown"]


def test_warnings_are_json_ready() -> None:
    warnings = check_prescription(["Kardegic"], [PENICILLIN_ALLERGY], [Treatment("warfarine")])
    payload = json.loads(json.dumps([w.as_dict() for w in warnings], ensure_ascii=False))
    assert payload[0]["severity"] == "contre-indication"
    assert payload[0]["source_date"] == "2020-10-20"
    assert payload[0]["conditions"][0]["severity"] == "contre-indication"


# --- properties ---------------------------------------------------------------------------------

THESAURUS_SUBSTANCES = sorted(load_thesaurus().substances)
OUTSIDE_THESAURUS = sorted(k for k, s in load_bdpm().substances.items() if not s.in_thesaurus)
FAMILY_FREE = sorted(
    k for k, s in load_thesaurus().substances.items() if not families.families_of(k, s.classes)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(THESAURUS_SUBSTANCES), st.sampled_from(THESAURUS_SUBSTANCES))
def test_interactions_between_is_symmetric(a: str, b: str) -> None:
    assert interactions_between(a, b) == interactions_between(b, a)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(OUTSIDE_THESAURUS), st.sampled_from(THESAURUS_SUBSTANCES))
def test_a_substance_outside_the_thesaurus_never_interacts(outside: str, other: str) -> None:
    assert interactions_between(outside, other) == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FAMILY_FREE), st.sampled_from(THESAURUS_SUBSTANCES))
def test_sharing_an_interaction_class_never_raises_an_allergy_alarm(
    allergen: str, prescribed: str
) -> None:
    warnings = check_prescription([prescribed], [Allergy(substance=allergen)], [])
    allergy = [w for w in warnings if w.kind == "allergy"]
    if allergen == prescribed:
        assert [w.severity for w in allergy] == [ALLERGY]
    else:
        assert allergy == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz éè-0123456789", min_size=1, max_size=20))
def test_a_prescription_is_never_silently_unchecked(text: str) -> None:
    warnings = check_prescription([text], [], [])
    if text.strip() and not resolve(text).resolved:
        assert [w.kind for w in warnings] == ["unknown"]
