"""Reference-data lookups for forms (portal and software): drug names, substances, lab
tests — search by name, accent-insensitive. Public reference data: no patient data here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from carnet.terminology import drugs, labs
from carnet.web.deps import SettingsDep

router = APIRouter(prefix="/api/terminology", tags=["terminology"])
SearchText = Query(..., min_length=2, max_length=80, description="Name, without or with accents")


def _cached(items: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(items, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/medications")
async def medications(
    settings: SettingsDep, q: str = SearchText, limit: int = Query(20, ge=1, le=50)
) -> JSONResponse:
    found = drugs.search_medications(q, limit, data_dir=settings.terminology_dir)
    return _cached(
        [
            {
                "cis": m.cis,
                "name": m.name,
                "form": m.form,
                "substances": list(m.substances),
                "marketed": m.marketed,
            }
            for m in found
        ]
    )


@router.get("/substances")
async def substances(
    settings: SettingsDep, q: str = SearchText, limit: int = Query(20, ge=1, le=50)
) -> JSONResponse:
    found = drugs.search_substances(q, limit, data_dir=settings.terminology_dir)
    return _cached(
        [{"name": s.name, "label": s.label, "classes": sorted(s.classes)} for s in found]
    )


@router.get("/lab-tests")
async def lab_tests(q: str = SearchText, limit: int = Query(20, ge=1, le=50)) -> JSONResponse:
    return _cached(
        [
            {"system": "http://loinc.org", "code": t.code, "display": t.display}
            for t in labs.search_lab_tests(q, limit)
        ]
    )
