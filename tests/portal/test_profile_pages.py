"""The medical profile pages, driven through the real routes: the profile by section with the
source of each entry, the patient's own entries added, changed and removed, professionals'
entries read-only, the coded search without JavaScript, in-form errors, the emergency summary
(HTML and PDF), and a legal representative acting for a minor."""

from __future__ import annotations

import html
import re
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.audit.models import AuditEntry
from carnet.profile.models import ProfileEntry
from tests.conftest import Cast, refused_for_csrf
from tests.portal.conftest import Portal, form_token


def entries(session: Session, patient_id: uuid.UUID, resource_type: str) -> list[ProfileEntry]:
    session.expire_all()
    return list(
        session.execute(
            select(ProfileEntry).where(
                ProfileEntry.patient_id == patient_id,
                ProfileEntry.resource_type == resource_type,
                ProfileEntry.status != "entered-in-error",
            )
        ).scalars()
    )


def count_entries(session: Session, patient_id: uuid.UUID) -> int:
    session.expire_all()
    return session.execute(
        select(func.count()).select_from(ProfileEntry).where(ProfileEntry.patient_id == patient_id)
    ).scalar_one()


def entry_id_of(session: Session, patient_id: uuid.UUID, display: str) -> uuid.UUID:
    return next(e.id for e in entries_all(session, patient_id) if e.display == display)


def entries_all(session: Session, patient_id: uuid.UUID) -> list[ProfileEntry]:
    session.expire_all()
    return list(
        session.execute(select(ProfileEntry).where(ProfileEntry.patient_id == patient_id)).scalars()
    )


def plain(page: str) -> str:
    """The page's text without tags, entities or runs of spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_profile_needs_a_signed_in_patient(portal: Portal) -> None:
    for url in ("/profil", "/profil/urgence", "/profil/urgence.pdf"):
        response = portal.client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=")


def test_the_profile_shows_each_section_with_the_source_of_each_entry(signed_in: Portal) -> None:
    page = signed_in.client.get("/profil")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "<h1>Profil médical</h1>" in text
    for title in (
        "Allergies et intolérances",
        "Traitements en cours",
        "Vaccinations",
        "Mesures",
        "Contacts d'urgence",
        "Volontés",
        "Directives anticipées",
    ):
        assert title in text, title
    assert "Pénicillines" in text
    assert "Sévère" in text
    assert "Lévothyroxine sodique 75 µg (Levothyrox)" in text
    assert "Saisi par Dr Paul Durand" in text  # a professional's entry names its author
    assert "Marc Martin" in text
    assert "+33 6 00 00 00 02" in text
    assert "groupe sanguin A positif" in text or "A Rh+" in text
    assert "Don d'organes : oui" in plain(page.text)
    assert "Medical profile" in signed_in.client.get("/profil?lang=en").text


def test_professionals_entries_are_read_only_for_the_patient(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    treatment = entries(session, sylvie, "MedicationStatement")[0]
    assert treatment.source_kind == "professional"
    page = signed_in.client.get("/profil").text
    block = page.split(f'id="entry-{treatment.id}"')[1].split("</li>")[0]
    assert "Modifier" not in block
    assert "Lecture seule" in block
    assert signed_in.client.get(f"/profil/traitements/{treatment.id}").status_code == 403
    refused = signed_in.post(f"/profil/traitements/{treatment.id}/retirer", {})
    assert refused.status_code == 403
    changed = signed_in.post(f"/profil/traitements/{treatment.id}", {"name": "Autre chose"})
    assert changed.status_code == 403
    session.expire_all()
    assert session.get(ProfileEntry, treatment.id).version == 1  # type: ignore[union-attr]


def test_sylvie_adds_changes_and_removes_an_allergy(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    added = signed_in.post(
        "/profil/allergies",
        {"name": "Arachide", "category": "food", "criticality": "high", "reaction": "Œdème"},
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/profil#allergies"
    row = next(e for e in entries(session, sylvie, "AllergyIntolerance") if e.display == "Arachide")
    assert row.source_kind == "patient"
    assert row.value == "high"
    assert row.category == "food"
    page = signed_in.client.get("/profil").text
    assert f'href="/profil/allergies/{row.id}"' in page

    form = signed_in.client.get(f"/profil/allergies/{row.id}")
    assert form.status_code == 200
    assert 'value="Arachide"' in form.text
    changed = signed_in.post(
        f"/profil/allergies/{row.id}", {"name": "Arachide (cacahuète)", "criticality": "low"}
    )
    assert changed.status_code == 303
    session.expire_all()
    again = session.get(ProfileEntry, row.id)
    assert again is not None
    assert again.version == 2
    assert again.display == "Arachide (cacahuète)"

    removed = signed_in.post(f"/profil/allergies/{row.id}/retirer", {})
    assert removed.status_code == 303
    session.expire_all()
    gone = session.get(ProfileEntry, row.id)
    assert gone is not None
    assert gone.status == "entered-in-error"
    assert "Arachide (cacahuète)" not in signed_in.client.get("/profil").text


def test_the_substance_search_works_without_javascript_and_codes_the_allergy(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    page = html.unescape(signed_in.client.get("/profil?chercher=allergies&q=amoxicil").text)
    assert '<details id="allergies-add" open>' in page
    assert 'name="code" value="amoxicilline"' in page
    added = signed_in.post("/profil/allergies", {"code": "amoxicilline", "name": "amoxicil"})
    assert added.status_code == 303
    row = next(e for e in entries(session, cast.patients["sylvie"], "AllergyIntolerance") if e.code)
    assert row.code == "amoxicilline"
    assert "amoxicilline" in (row.substances or "")


def test_a_treatment_is_coded_from_the_drug_database(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    page = signed_in.client.get("/profil?chercher=traitements&q=levothyrox").text
    cis = re.findall(r'name="code" value="(\d{8})"', page)
    assert cis, "the drug list offers BDPM products"
    added = signed_in.post(
        "/profil/traitements", {"code": cis[0], "name": "levothyrox", "dosage": "1 le matin"}
    )
    assert added.status_code == 303
    coded = [e for e in entries(session, cast.patients["sylvie"], "MedicationStatement") if e.code]
    assert coded[0].code == cis[0]
    assert coded[0].substances == "levothyroxine"
    assert coded[0].display.startswith("LEVOTHYROX")


def test_bad_input_gets_a_message_tied_to_the_field_and_nothing_is_written(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    before = count_entries(session, sylvie)
    cases = [
        ("/profil/allergies", {"name": ""}, "allergies-name", "Indiquez la substance"),
        ("/profil/vaccinations", {"vaccine": "J07BC01"}, "vaccinations-date", "Indiquez la date"),
        (
            "/profil/vaccinations",
            {"vaccine": "J07BC01", "date": "2999-01-01"},
            "vaccinations-date",
            "La date ne peut pas être dans le futur",
        ),
        (
            "/profil/mesures",
            {"kind": "29463-7", "value": "soixante"},
            "mesures-value",
            "Indiquez un nombre",
        ),
        (
            "/profil/mesures",
            {"kind": "29463-7", "value": "900"},
            "mesures-value",
            "Cette valeur n'est pas plausible",
        ),
        ("/profil/contacts", {"given": "Marc", "family": ""}, "contacts-family", "nom de famille"),
        ("/profil/volontes", {"organ_donation": "maybe"}, "volontes-organ_donation", "don"),
    ]
    for url, data, field_id, message in cases:
        response = signed_in.post(url, data)
        assert response.status_code == 400, (url, data)
        text = html.unescape(response.text)
        assert f'id="{field_id}-error"' in text, field_id
        assert message in text, (field_id, message)
        assert 'role="alert"' in text
        assert re.search(f'aria-describedby="{field_id}-error[ "]', text), field_id
        assert f'href="#{field_id}"' in text  # the summary leads to the field
    assert count_entries(session, sylvie) == before


def test_forms_need_their_csrf_token(signed_in: Portal, session: Session, cast: Cast) -> None:
    before = count_entries(session, cast.patients["sylvie"])
    refused = signed_in.client.post(
        "/profil/allergies", data={"name": "Latex", "csrf_token": "forged"}
    )
    assert refused_for_csrf(refused)
    missing = signed_in.client.post("/profil/allergies", data={"name": "Latex"})
    assert missing.status_code == 403
    assert count_entries(session, cast.patients["sylvie"]) == before


def test_measurements_blood_group_contacts_vaccinations_and_wishes(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    sylvie = cast.patients["sylvie"]
    assert (
        signed_in.post(
            "/profil/mesures", {"kind": "29463-7", "value": "62,5", "date": "01/03/2026"}
        ).status_code
        == 303
    )
    weight = next(e for e in entries(session, sylvie, "Observation") if e.code == "29463-7")
    assert weight.value == "62.5 kg"
    assert (
        signed_in.post(
            "/profil/vaccinations", {"vaccine": "J07BC01", "date": "2020-05-04"}
        ).status_code
        == 303
    )
    assert (
        signed_in.post(
            "/profil/contacts",
            {
                "given": "Claire",
                "family": "Martin",
                "role": "PERSONNE_CONFIANCE",
                "phone": "0611223344",
            },
        ).status_code
        == 303
    )
    page = html.unescape(signed_in.client.get("/profil").text)
    assert "62.5 kg" in page
    assert "hépatite B" in page
    assert "Claire Martin — Personne de confiance — 0611223344" in plain(page)
    # her organ-donation wish exists: she changes it rather than adding a second one
    assert "Indiquer votre choix sur le don d'organes" not in page
    wish = next(e for e in entries(session, sylvie, "Observation") if e.code == "organ-donation")
    assert (
        signed_in.post(f"/profil/volontes/{wish.id}", {"organ_donation": "no"}).status_code == 303
    )
    assert "Don d'organes : non" in plain(signed_in.client.get("/profil").text)


def test_another_patients_entry_is_not_found(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    # Henri's record has no profile entry of Sylvie's: an unknown id is simply not found
    assert signed_in.client.get(f"/profil/allergies/{uuid.uuid4()}").status_code == 404
    allergy = entries(session, cast.patients["sylvie"], "AllergyIntolerance")[0]
    # an entry under the wrong section is not found either
    assert signed_in.client.get(f"/profil/traitements/{allergy.id}").status_code == 404
    assert signed_in.client.get(f"/profil/nimporte/{allergy.id}").status_code == 400


def test_the_emergency_summary_prints_and_downloads_and_is_audited(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    page = signed_in.client.get("/profil/urgence")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Résumé d'urgence" in text
    assert "Pénicillines" in text
    assert "Marc Martin" in text
    assert 'class="emergency-sheet"' in text
    assert "no-print" in text
    english = plain(signed_in.client.get("/profil/urgence?lang=en").text)
    assert "Emergency summary" in english
    assert "born on 14/03/1975 — female" in english
    pdf = signed_in.client.get("/profil/urgence.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    session.expire_all()
    details = (
        session.execute(
            select(AuditEntry.detail).where(AuditEntry.patient_id == cast.patients["sylvie"])
        )
        .scalars()
        .all()
    )
    assert details.count("emergency summary") >= 2


def test_a_representative_edits_the_minors_profile_and_sees_no_secret(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    lea = cast.patients["lea"]
    page = signed_in.client.get(f"/profil?record={lea}")
    assert page.status_code == 200
    assert "Vous agissez pour" in page.text
    assert f'action="/profil/allergies?record={lea}"' in page.text
    token = form_token(page.text)
    added = signed_in.client.post(
        f"/profil/allergies?record={lea}",
        data={"csrf_token": token, "name": "Pollen de bouleau", "category": "environment"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"/profil?record={lea}#allergies"
    assert [e.display for e in entries(session, lea, "AllergyIntolerance")] == ["Pollen de bouleau"]
    assert entries(session, cast.patients["sylvie"], "AllergyIntolerance")[0].display != (
        "Pollen de bouleau"
    )
    summary = signed_in.client.get(f"/profil/urgence?record={lea}").text
    assert "Pollen de bouleau" in summary
    assert "Léa" in summary or "LEA" in summary.upper()


def test_someone_elses_record_falls_back_to_ones_own(signed_in: Portal, cast: Cast) -> None:
    page = signed_in.client.get(f"/profil?record={cast.patients['henri']}")
    assert page.status_code == 200
    assert "Vous agissez pour" not in page.text  # Henri is not hers: she sees her own
    assert "Pénicillines" in html.unescape(page.text)


def test_a_minors_secret_advance_directives_stay_hidden_from_the_representative(
    signed_in: Portal, session: Session, cast: Cast, pro
) -> None:
    from carnet.db import settings_of
    from carnet.documents import fhir as documents_fhir
    from carnet.documents import service as documents
    from carnet.documents.bundles import TRE_A05, Author, Doc, provide_bundle
    from carnet.patients.models import Patient

    lea = session.get(Patient, cast.patients["lea"])
    assert lea is not None
    durand = pro("durand")
    author = Author(ps_idnat=durand.ref, given="Paul", family="Durand", profession="10")
    docs = [
        Doc(
            "EXPPAT_3",
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            type_system=TRE_A05,
            title=title,
            confidentiality=confidentiality,
        )
        for title, confidentiality in (
            ("Directives partagées", []),
            ("Directives secrètes", ["INVISIBLE_REPRESENTANTS_LEGAUX"]),
        )
    ]
    bundle = provide_bundle(lea.nir, author, docs)
    request = documents_fhir.parse_provide_bundle(
        bundle, max_bytes=settings_of(session).document_max_bytes
    )
    documents.provide(session, durand, request)
    session.commit()

    page = html.unescape(signed_in.client.get(f"/profil?record={lea.id}").text)
    assert "Directives partagées" in page
    assert "Directives secrètes" not in page
    summary = html.unescape(signed_in.client.get(f"/profil/urgence?record={lea.id}").text)
    assert "Directives partagées" in summary
    assert "Directives secrètes" not in summary


def test_uncoded_entries_from_software_are_shown_too(
    signed_in: Portal, session: Session, cast: Cast, pro
) -> None:
    from carnet.profile import fhir as profile_fhir
    from carnet.profile import service as profile

    for text in ("Tour de cou", "Périmètre du mollet"):
        resource = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": text},
            "valueString": "38 cm",
        }
        profile.create(
            session,
            pro("durand"),
            cast.patients["sylvie"],
            profile_fhir.parse_resource(resource, "Observation"),
        )
    session.commit()
    page = signed_in.client.get("/profil")
    assert page.status_code == 200
    text = plain(page.text)
    assert "Tour de cou — 38 cm" in text
    assert "Périmètre du mollet — 38 cm" in text


def test_many_daily_values_do_not_push_the_blood_group_off_the_page(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    from datetime import UTC, datetime, timedelta

    from carnet.access import Actor, ActorKind
    from carnet.profile import fhir as profile_fhir
    from carnet.profile import service as profile

    herself = Actor(
        kind=ActorKind.PATIENT, ref="patient:sylvie", patient_id=cast.patients["sylvie"]
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for day in range(320):  # more than the page keeps of one kind
        resource = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "55423-8"}], "text": "Pas"},
            "valueQuantity": {"value": 5000 + day, "unit": "pas"},
            "effectiveDateTime": (start + timedelta(days=day)).isoformat(),
        }
        profile.create(
            session,
            herself,
            cast.patients["sylvie"],
            profile_fhir.parse_resource(resource, "Observation"),
        )
    session.commit()
    text = plain(signed_in.client.get("/profil").text)
    assert "Groupe sanguin ABO et Rhésus — A Rh+" in text
    assert "Don d'organes : oui" in text


def test_every_kind_of_own_entry_opens_in_its_edit_form_and_saves_unchanged(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    import orjson

    from carnet.profile import forms

    sylvie = cast.patients["sylvie"]
    for url, data in (
        ("/profil/traitements", {"name": "Doliprane 1 g", "dosage": "si douleur"}),
        ("/profil/antecedents", {"name": "Appendicectomie", "since": "1990-06-01"}),
        ("/profil/vaccinations", {"vaccine": "J07BC01", "date": "2020-05-04"}),
        ("/profil/mesures", {"kind": "8302-2", "value": "168", "date": "2026-01-02"}),
    ):
        assert signed_in.post(url, data).status_code == 303, url
    own = [e for e in entries_all(session, sylvie) if e.source_kind == "patient"]
    assert len(own) >= 7
    for entry in own:
        version, display = entry.version, entry.display
        slug = forms.section_of(entry.resource_type, entry.code).slug
        page = signed_in.client.get(f"/profil/{slug}/{entry.id}")
        assert page.status_code == 200, slug
        assert "<h1>Modifier une information</h1>" in page.text
        fields = forms.initial(slug, orjson.loads(entry.resource))
        saved = signed_in.post(f"/profil/{slug}/{entry.id}", fields)
        assert saved.status_code == 303, (slug, plain(saved.text)[-300:])
        session.expire_all()
        again = session.get(ProfileEntry, entry.id)
        assert again is not None
        assert again.display == display
        assert again.version == version + 1


def test_each_view_of_the_profile_writes_one_audit_row(
    signed_in: Portal, session: Session, cast: Cast
) -> None:
    def profile_reads() -> int:
        session.expire_all()
        return session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.patient_id == cast.patients["sylvie"], AuditEntry.detail == "profile")
        ).scalar_one()

    before = profile_reads()
    assert signed_in.client.get("/profil").status_code == 200
    assert signed_in.client.get(f"/profil?record={cast.patients['lea']}").status_code == 200
    assert profile_reads() == before + 1  # Léa's view is on Léa's trail, not on her mother's


def test_every_phrase_of_these_pages_has_its_french_translation() -> None:
    import ast
    import importlib
    from pathlib import Path

    import carnet
    from carnet.web.i18n import FR

    root = Path(carnet.__file__).parent
    phrases: set[str] = set()
    for name in (
        "profile.html",
        "profile_edit.html",
        "profile_emergency.html",
        "profile_macros.html",
        "settings.html",
        "settings_fields.html",
        "activation.html",
        "opposition.html",
        "closure.html",
        "login.html",
    ):
        text = (root / "templates" / name).read_text()
        phrases |= set(re.findall(r'\bt\("([^"]+)"\)', text))
        # labels, hints and summaries handed to the form macros, which translate them
        phrases |= set(re.findall(r'(?:label|hint|blank)="([^"]+)"', text))
        phrases |= set(re.findall(r'\((?:slug|s\.slug), "[a-z_]+", "([^"]+)"', text))
        phrases |= set(re.findall(r'add_form\(s\.slug, "([^"]+)"', text))
    # the messages the forms and services behind these pages show in the forms
    for module in ("profile.forms", "accounts.self_service", "access.profile"):
        loaded = importlib.import_module(f"carnet.{module}")
        tree = ast.parse(Path(loaded.__file__ or "").read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ("Invalid", "Conflict", "Forbidden") or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                phrases.add(first.value)
            elif isinstance(first, ast.Name) and isinstance(getattr(loaded, first.id, None), str):
                phrases.add(getattr(loaded, first.id))
    assert len(phrases) > 150
    missing = sorted(p for p in phrases if p not in FR and not p.startswith("{{"))
    assert not missing, missing
