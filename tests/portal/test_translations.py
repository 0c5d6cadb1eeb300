"""The portal speaks French first: every phrase a template passes to ``t()`` has a French
translation, and the per-area catalogues never translate one phrase two ways."""

from __future__ import annotations

import re
from pathlib import Path

from carnet.web import i18n
from carnet.web.catalogs import agenda, apps, messaging, practice, profile

TEMPLATES = Path(i18n.__file__).parent.parent / "templates"
LITERAL = re.compile(r"""\bt\(\s*(?P<q>["'])(?P<text>(?:(?!(?P=q)).)+)(?P=q)\s*\)""")


def phrases() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for template in sorted(TEMPLATES.glob("*.html")):
        for match in LITERAL.finditer(template.read_text(encoding="utf-8")):
            found.setdefault(match["text"], set()).add(template.name)
    return found


def test_the_templates_use_phrases_at_all() -> None:
    assert len(phrases()) > 100  # the scan itself works


def test_every_template_phrase_has_a_french_translation() -> None:
    missing = {text: sorted(where) for text, where in phrases().items() if text not in i18n.FR}
    assert missing == {}


def test_no_phrase_is_translated_two_ways() -> None:
    catalogues = {
        "core": i18n.CORE,
        "agenda": agenda.FR,
        "apps": apps.FR,
        "messaging": messaging.FR,
        "practice": practice.FR,
        "profile": profile.FR,
    }
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for name, catalogue in catalogues.items():
        for key, french in catalogue.items():
            if key in seen and seen[key][1] != french:
                clashes.append((key, seen[key], (name, french)))
            seen.setdefault(key, (name, french))
    assert clashes == []
