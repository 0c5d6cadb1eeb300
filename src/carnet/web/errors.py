"""One handler per surface: domain errors become a FHIR OperationOutcome under /fhir and /oauth
(OAuth errors are JSON), a readable page in the portal."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from carnet.errors import (
    CarnetError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from carnet.fhir.responses import FhirResponse, operation_outcome
from carnet.web.portal import render

log = logging.getLogger("carnet.web")

STATUS = {
    Invalid: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooManyAttempts: 429,
}


def status_for(error: CarnetError) -> int:
    for cls, status in STATUS.items():
        if isinstance(error, cls):
            return status
    return 400


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/fhir", "/oauth/token", "/api"))


async def carnet_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, CarnetError)
    status = status_for(error)
    if _is_api(request):
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return FhirResponse(
            operation_outcome(error.code, error.message, field=error.field),
            status_code=status,
            headers=headers,
        )
    if status == 401:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    return render(request, "error.html", {"message": error.message, "status": status}, status)


async def validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    if _is_api(request):
        return FhirResponse(
            operation_outcome("invalid", message, field=where or None), status_code=400
        )
    return render(request, "error.html", {"message": message, "status": 400}, 400)


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    message = str(error.detail)
    if _is_api(request):
        code = "not-found" if error.status_code == 404 else "processing"
        return FhirResponse(operation_outcome(code, message), status_code=error.status_code)
    return render(
        request, "error.html", {"message": message, "status": error.status_code}, error.status_code
    )


async def unexpected_error(request: Request, error: Exception) -> Response:
    # Never log request data: it may hold health data or identifiers.
    log.error(
        "unhandled error on %s %s: %s", request.method, request.url.path, type(error).__name__
    )
    message = "Internal error; nothing was saved."
    if _is_api(request):
        return FhirResponse(operation_outcome("exception", message), status_code=500)
    return render(request, "error.html", {"message": message, "status": 500}, 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(CarnetError, carnet_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
