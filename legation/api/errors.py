"""One table from exceptions to HTTP statuses, one JSON error shape: {"error": {type, message}}."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from legation import errors

STATUS = {
    errors.TooLargeError: 413,
    errors.InputError: 422,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.ForbiddenError: 403,
    errors.AuthError: 401,
    errors.SourceError: 502,
    errors.ConfigError: 500,
    errors.LegationError: 500,
}


def error_body(kind: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": kind, "message": message}}


async def legation_error(_request: Request, exc: Exception) -> JSONResponse:
    status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        error_body(type(exc).__name__, str(exc)), status_code=status, headers=headers
    )


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return JSONResponse(error_body("ValidationError", "; ".join(parts)), status_code=422)


HANDLERS = {errors.LegationError: legation_error, RequestValidationError: validation_error}
