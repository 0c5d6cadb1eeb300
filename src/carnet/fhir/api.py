"""Server-level FHIR routes: metadata and SMART configuration."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from carnet.fhir.capability import capability_statement, smart_configuration
from carnet.fhir.responses import FhirResponse
from carnet.web.deps import SettingsDep

router = APIRouter(prefix="/fhir", tags=["server"])


@router.get("/metadata")
def metadata(request: Request, settings: SettingsDep) -> FhirResponse:
    extra = getattr(request.app.state, "fhir_resources", None)
    return FhirResponse(capability_statement(settings.fhir_base, settings.base_url, extra))


@router.get("/.well-known/smart-configuration")
def smart_config(settings: SettingsDep) -> JSONResponse:
    return JSONResponse(smart_configuration(settings.base_url))
