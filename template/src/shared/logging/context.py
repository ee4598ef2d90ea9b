"""The request in progress (its ids and its user), carried by every log line and audit row.

The app's middleware starts a context per request; authentication adds the user. A context
is a mutable object in a context variable, so what the authentication dependency adds is seen
by the middleware's own log line at the end of the request.

A request has two ids: ``request_id``, always made by the server (so logs and audit rows hold
values no caller chose), and ``caller_request_id``, the caller's own X-Request-ID when it sent an
acceptable one, kept next to it so the caller's traces can be followed into the service.
"""

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class RequestContext:
    """Who asked for what: the request's ids, and the user once authenticated."""

    request_id: str
    caller_request_id: str | None = None
    user_id: str | None = None

    def fields(self) -> dict[str, str]:
        """The context as log fields, without the unknown ones."""
        fields = {"request_id": self.request_id}
        if self.caller_request_id is not None:
            fields["caller_request_id"] = self.caller_request_id
        if self.user_id is not None:
            fields["user_id"] = self.user_id
        return fields


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def start_request(
    request_id: str, caller_request_id: str | None = None
) -> Token[RequestContext | None]:
    """Start the current request's context; pass the token to :func:`end_request`."""
    return _current.set(RequestContext(request_id, caller_request_id))


def end_request(token: Token[RequestContext | None]) -> None:
    """Forget the request started with ``token``."""
    _current.reset(token)


def current_request() -> RequestContext | None:
    """The request in progress, if any (None in the CLI and in plain service calls)."""
    return _current.get()


def bind_user(user_id: str) -> None:
    """Record the authenticated user on the request in progress."""
    context = _current.get()
    if context is not None:
        context.user_id = user_id
