"""The emergency summary as a one-page A4 PDF (fpdf2, core fonts). Pure."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF


def _text(value: str) -> str:
    return value.encode("cp1252", "replace").decode("cp1252")


def emergency_pdf(view: Any) -> bytes:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text("Résumé d'urgence"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(
        0,
        7,
        _text(f"{view.name} — né(e) le {view.born} — {view.sex}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if view.emergency_mode:
        pdf.set_text_color(179, 64, 0)
        pdf.cell(
            0,
            7,
            _text("Accès en urgence (bris de glace) : tracé et notifié au patient."),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_text_color(0, 0, 0)

    def section(title: str, lines: list[str]) -> None:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _text(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        for line in lines or ["Aucune information."]:
            pdf.multi_cell(0, 6, _text(f"• {line}"), new_x="LMARGIN", new_y="NEXT")

    section("Allergies", [f"{a}" + (f" (criticité : {c})" if c else "") for a, c in view.allergies])
    section("Traitements en cours", [t for t, _ in view.treatments])
    section("Problèmes de santé", view.conditions)
    section("Groupe sanguin", [view.blood_group] if view.blood_group else [])
    section("Contacts", [f"{n} — {r}" + (f" — {t}" if t else "") for n, r, t in view.contacts])
    section(
        "Volontés",
        ([f"Don d'organes : {view.organ_donation}"] if view.organ_donation else [])
        + [f"Directives anticipées : {d}" for d in view.advance_directives],
    )
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(
        0,
        5,
        _text(
            f"Imprimé depuis Carnet le {view.printed_at}. Ne montre que ce "
            "que le lecteur est autorisé à voir."
        ),
    )
    return bytes(pdf.output())
