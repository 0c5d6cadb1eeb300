"""Every form of the portal is CSRF-checked: a walk over the application's routes, so that a new
POST route without the check fails here (the pages' own tests post forged tokens to each form)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from carnet.documents.pages import upload_form
from carnet.web.portal import check_csrf

BEARER_APIS = ("/fhir", "/oauth/token")  # software and apps send a bearer token, not cookies
# multipart forms: the dependency calls check_csrf itself (tests/portal/test_patient_upload.py
# and test_pro_pages.py post forged tokens to both upload forms)
CHECKED_INSIDE = {upload_form}


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        yield from _routes(included.routes) if included is not None else [route]


def _calls(dependant: Any) -> set[Any]:
    found: set[Any] = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def test_every_portal_post_route_checks_the_csrf_token(client: TestClient) -> None:
    posts = [
        route
        for route in _routes(client.app.routes)  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]
    portal = [r for r in posts if not r.path.startswith(BEARER_APIS)]
    unchecked = [
        r.path
        for r in portal
        if check_csrf not in _calls(r.dependant) and not _calls(r.dependant) & CHECKED_INSIDE
    ]

    assert len(portal) >= 25, "the walk found the portal's forms"
    assert unchecked == []
