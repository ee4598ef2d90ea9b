"""One table from errors to HTTP responses, all as RFC 9457 ``application/problem+json``.

A problem's ``type`` names its kind, for clients to branch on: ``/problems/<kind>``, a URI
reference relative to the service (``/problems/unique-value-taken``), one per kind of
problem (a domain error's ``kind``, a 422's ``validation-failed``, malformed JSON's
``malformed-json``). They are names to compare, not pages: nothing is served at them.
``about:blank`` is a problem the status says everything about (an unknown route, a method
not allowed, a body too large, an unexpected error), as RFC 9457 defines it.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from shared.db.availability import database_fault
from shared.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    PreconditionRequiredError,
    UnavailableError,
    UnknownReferenceError,
)
from shared.logging.logger import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
# The methods a 405's Allow may name (HEAD is answered wherever GET is).
ROUTABLE_METHODS = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
# How long a client should wait before retrying when the database was unavailable or busy.
RETRY_AFTER_SECONDS = "1"
# Problem types: see the module's docstring.
PROBLEM_TYPE_PREFIX = "/problems/"
BLANK_PROBLEM_TYPE = "about:blank"
# The kinds of problem the request's parsing finds, as domain errors have theirs.
VALIDATION_FAILED = ("validation-failed", "Request not valid")
MALFORMED_JSON = ("malformed-json", "Body not JSON")

# The one place where domain errors become HTTP statuses.
STATUS_BY_ERROR: dict[type[DomainError], HTTPStatus] = {
    AuthenticationError: HTTPStatus.UNAUTHORIZED,
    PermissionDeniedError: HTTPStatus.FORBIDDEN,
    NotFoundError: HTTPStatus.NOT_FOUND,
    GoneError: HTTPStatus.GONE,
    ConflictError: HTTPStatus.CONFLICT,
    PreconditionFailedError: HTTPStatus.PRECONDITION_FAILED,
    PreconditionRequiredError: HTTPStatus.PRECONDITION_REQUIRED,
    UnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
    UnknownReferenceError: HTTPStatus.UNPROCESSABLE_ENTITY,
}

logger = get_logger(__name__)


class Problem(BaseModel):
    """An RFC 9457 problem-details body: the one schema of every error response.

    Some problems carry extension members (a 412's ``current_version``): they are allowed.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        default=BLANK_PROBLEM_TYPE,
        json_schema_extra={"format": "uri-reference"},
        description="The kind of problem, for clients to branch on (see the API description)",
    )
    title: str
    status: int
    detail: str


class ValidationIssue(BaseModel):
    """One reason a request is not valid: where (``["body", "price"]``), what, and its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """The 422 problem: a :class:`Problem` that lists every invalid part of the request."""

    errors: list[ValidationIssue]


# The response headers the error responses carry, as domain_error_response sets them.
HEADERS_BY_STATUS: dict[HTTPStatus, tuple[str, ...]] = {
    HTTPStatus.UNAUTHORIZED: ("WWW-Authenticate",),
    HTTPStatus.FORBIDDEN: ("WWW-Authenticate",),
    HTTPStatus.PRECONDITION_FAILED: ("ETag",),
    HTTPStatus.SERVICE_UNAVAILABLE: ("Retry-After",),
}


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """A reference to ``model``'s schema in the document's components."""
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def header_refs(*names: str) -> dict[str, dict[str, str]]:
    """References to response headers described once in the document's components."""
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def problem_responses(*statuses: HTTPStatus) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses a route can answer with.

    Each refers to the one :class:`Problem` schema (:class:`ValidationProblem` for 422), so
    that a generated client gets one typed error model rather than a copy per response.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = ValidationProblem if status == HTTPStatus.UNPROCESSABLE_ENTITY else Problem
        response: dict[str, Any] = {
            "description": status.phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema_ref(model)}},
        }
        if headers := HEADERS_BY_STATUS.get(status):
            response["headers"] = header_refs(*headers)
        responses[status.value] = response
    return responses


def problem_type(kind: str) -> str:
    """The ``type`` of a kind of problem: ``/problems/not-found``."""
    return PROBLEM_TYPE_PREFIX + kind


def problem_kinds() -> dict[str, str]:
    """Every kind of problem the service answers with, and its title, sorted by kind."""
    kinds = dict([VALIDATION_FAILED, MALFORMED_JSON])
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        error_class = pending.pop()
        kinds.setdefault(error_class.kind, error_class.title)
        pending.extend(error_class.__subclasses__())
    return dict(sorted(kinds.items()))


def problem(
    status: HTTPStatus,
    detail: str,
    headers: Mapping[str, str] | None = None,
    kind: tuple[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem-details response: type, title, status, detail and any extension members.

    ``kind`` is the problem's kind and title; without one the problem is ``about:blank``, its
    title the status's phrase.
    """
    type_, title = (problem_type(kind[0]), kind[1]) if kind else (BLANK_PROBLEM_TYPE, None)
    body = {
        "type": type_,
        "title": title or status.phrase,
        "status": status.value,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def status_for(error: DomainError) -> HTTPStatus:
    """The HTTP status of a domain error (its closest listed class; 400 if none is)."""
    for error_class in type(error).__mro__:
        if error_class in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_class]
    return HTTPStatus.BAD_REQUEST


def domain_error_response(error: DomainError) -> JSONResponse:
    """The response to a domain error: its status, and the headers and members it calls for."""
    status = status_for(error)
    headers: dict[str, str] = {}
    extensions: dict[str, Any] = {}
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = error.challenge
    elif isinstance(error, PermissionDeniedError):
        headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    elif isinstance(error, PreconditionFailedError) and error.current_version is not None:
        headers["ETag"] = f'"{error.current_version}"'
        extensions["current_version"] = error.current_version
    elif isinstance(error, UnavailableError):
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    elif isinstance(error, UnknownReferenceError):
        # Where the value is, as a request's validation errors say it: one shape for clients.
        problem_at = {"loc": ["body", error.field], "msg": str(error), "type": error.kind}
        extensions["errors"] = [problem_at]
    kind = (error.kind, error.title)
    return problem(status, str(error), headers=headers, kind=kind, **extensions)


async def handle_domain_error(_request: Request, error: Exception) -> JSONResponse:
    """Answer a domain error with its status from the table."""
    assert isinstance(error, DomainError)  # noqa: S101 (registered for DomainError only)
    return domain_error_response(error)


async def handle_validation_error(_request: Request, error: Exception) -> JSONResponse:
    """Answer an invalid request with 422 and where each problem is; malformed JSON with 400."""
    assert isinstance(error, RequestValidationError)  # noqa: S101 (registered for it only)
    malformed = [item for item in error.errors() if item["type"] == "json_invalid"]
    if malformed:
        # Not a value the schema refuses: the body is not JSON at all.
        reason = malformed[0].get("ctx", {}).get("error", "JSON decode error")
        position = malformed[0]["loc"][-1]
        return problem(
            HTTPStatus.BAD_REQUEST,
            f"the body is not valid JSON: {reason} at character {position}",
            kind=MALFORMED_JSON,
        )
    errors = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    return problem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "the request is not valid",
        kind=VALIDATION_FAILED,
        errors=errors,
    )


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """The methods some route of ``routes`` takes at the scope's path, HEAD with GET, sorted."""
    # Routes are asked rather than inspected: included routers are routes that hold routes.
    methods = {
        method
        for method in ROUTABLE_METHODS
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def handle_http_exception(request: Request, error: Exception) -> JSONResponse:
    """Answer the framework's own HTTP errors (404 route, 405 method) as problems too."""
    assert isinstance(error, HTTPException)  # noqa: S101 (registered for it only)
    headers = dict(error.headers or {})
    if error.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        # The framework's Allow names the methods of the first route on the path only.
        headers["Allow"] = ", ".join(allowed_methods(request.app.router.routes, request.scope))
    return problem(HTTPStatus(error.status_code), str(error.detail), headers=headers)


async def handle_database_error(request: Request, error: Exception) -> JSONResponse:
    """A database that can't serve right now is a 503; any other database error a 500.

    Can't serve: down, not answering, busy past a timeout, read-only or full. One that turned
    a change away for being read-only or full also makes readiness fail for a while
    (``RefusedChanges``). Any other database error is raised on, to the
    request-context middleware, which logs it with the request's ids and answers the one 500
    (:func:`unexpected_error_response`).
    """
    fault = database_fault(error)
    if fault is None:
        raise error
    if fault.refuses_changes:
        request.app.state.refused_changes.record()
    logger.warning(
        "database.unavailable",
        method=request.method,
        path=request.url.path,
        fault=fault.value,
        error=type(error).__name__,
    )
    unavailable = UnavailableError("the database is unavailable right now; retry later")
    return domain_error_response(unavailable)


def unexpected_error_response(headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The service's one answer to a failure nobody expected: a bare 500 problem.

    The details go to the log, never to the caller. The request-context middleware answers
    with it; :func:`handle_unexpected_error` only for a failure outside that middleware.
    """
    return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "an unexpected error occurred", headers)


async def handle_unexpected_error(request: Request, _error: Exception) -> JSONResponse:
    """Answer a failure that escaped the request-context middleware, logged, with the one 500."""
    logger.exception("request.failed", method=request.method, path=request.url.path)
    return unexpected_error_response()


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``."""
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
    app.add_exception_handler(SQLAlchemyError, handle_database_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
