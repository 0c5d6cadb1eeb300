"""FHIR JSON responses (``application/fhir+json``) and OperationOutcome."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

FHIR_JSON = "application/fhir+json"

ISSUE_CODES = {
    "invalid": "invalid",
    "not-found": "not-found",
    "conflict": "conflict",
    "forbidden": "forbidden",
    "login": "login",
    "throttled": "throttled",
    "processing": "processing",
}


class FhirResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def operation_outcome(
    code: str, message: str, *, field: str | None = None, severity: str = "error"
) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": severity,
        "code": ISSUE_CODES.get(code, "processing"),
        "diagnostics": message,
    }
    if field:
        issue["expression"] = [field]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def searchset(
    base: str,
    resource_type: str,
    resources: list[dict[str, Any]],
    *,
    total: int | None = None,
    self_link: str | None = None,
    next_link: str | None = None,
    security: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources) if total is None else total,
        "link": [{"relation": "self", "url": self_link or f"{base}/{resource_type}"}],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
    if next_link:
        bundle["link"].append({"relation": "next", "url": next_link})
    if security:
        bundle["meta"] = {"security": security}
    return bundle
