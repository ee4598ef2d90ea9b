"""HTTP semantics every route shares, beyond what the framework does by itself.

- HEAD is answered wherever GET is: the GET's status and headers, without the body.
- A request body is JSON or nothing: another Content-Type is a 415, not a confusing 422.
- A query parameter the operation does not take is a 422 on every route, as it is on lists
  (whose query models forbid extra keys): a misspelt filter must not pass unnoticed.
"""

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_MEDIA_TYPE = "application/json"
# Longer Content-Type values are cut in messages: the header is the caller's text.
SHOWN_HEADER_LENGTH = 60


class HeadAsGetMiddleware:
    """Serve HEAD as the GET of the same URL, sending its status and headers but no body.

    Content-Length stays the GET's, as RFC 9110 allows; where GET is not allowed, neither is
    HEAD (405, with the path's methods in Allow: see ``errors.allowed_methods``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass other requests through; run a HEAD as GET and drop what it sends as body."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def is_json(content_type: str) -> bool:
    """Whether a Content-Type value names JSON (``application/json``, ``application/*+json``)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def require_json_body(request: Request) -> None:
    """Refuse a request body that is not declared as JSON (415), before it is validated.

    A request without a body passes: its missing fields are the 422 it gets. Async so that
    it runs on the event loop, not in a worker thread: it reads headers only.

    Raises:
        HTTPException: 415, the body is sent with another Content-Type, or with none.
    """
    headers = request.headers
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    content_type = headers.get("content-type")
    if has_body and (content_type is None or not is_json(content_type)):
        shown = (content_type or "")[:SHOWN_HEADER_LENGTH]
        sent = f"Content-Type {shown!r}" if content_type else "no Content-Type"
        raise HTTPException(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"the body must be JSON, sent as Content-Type: {JSON_MEDIA_TYPE} (got {sent})",
        )


async def documented_query_parameters_only(request: Request) -> None:
    """A dependency refusing (422) query parameters the API document does not list for the
    request's operation.

    For routes a team adds: whatever declares their parameters (arguments, dependencies, a
    query model), the document lists each, so it is the one list to hold a request to.
    """
    if not request.query_params:
        return
    route = request.scope.get("route")
    paths = request.app.openapi().get("paths", {})
    operation = paths.get(getattr(route, "path_format", ""), {}).get(request.method.lower(), {})
    listed = (
        parameter for parameter in operation.get("parameters", ()) if parameter["in"] == "query"
    )
    await known_query_parameters(*(parameter["name"] for parameter in listed))(request)


def known_query_parameters(*names: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing (422) query parameters other than ``names``.

    For routes whose parameters are not one query model: such a model refuses extra keys
    itself, with the same error (``extra_forbidden`` at ``["query", name]``).
    """
    known = frozenset(names)

    async def refuse_unknown_query_parameters(request: Request) -> None:
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", name),
                        "msg": "Extra inputs are not permitted",
                        "type": "extra_forbidden",
                        "input": request.query_params[name],
                    }
                    for name in unknown
                ]
            )

    return refuse_unknown_query_parameters
