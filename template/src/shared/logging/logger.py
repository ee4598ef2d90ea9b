"""Structured logging utilities, on structlog.

Modules only ask for a logger (``get_logger(__name__)``) and log events with context; they
never configure anything. The application configures output once, at start-up, with
:func:`configure_logging` (JSON lines, or readable lines on a terminal). Every event logged
during a request also carries the request's fields (:mod:`shared.logging.context`).

structlog turns each call into an event dictionary and hands it to a standard library logger;
the handler that :func:`configure_logging` installs renders it with structlog's
``ProcessorFormatter``, which renders other libraries' records (uvicorn, Alembic, SQLAlchemy)
the same way. Because every event is an ordinary log record, a host application's handlers
and pytest's ``caplog`` see it too. structlog's own global configuration is never touched:
the processors are given to each logger, so a host that configures structlog keeps its set-up.
"""

import logging
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from shared.logging.context import current_request

LogFormat = Literal["auto", "json", "console"]

# Marks the handlers configure_logging installs, so a second call replaces them.
_HANDLER_MARK = "_structured_handler"


def _add_request_fields(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Add the fields of the request in progress; the event's own keys win over them."""
    request = current_request()
    return {**request.fields(), **event} if request is not None else event


def _capture_exception(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Resolve ``exc_info=True`` to the exception while it is still being handled.

    Rendering happens later, in a handler; a handler that queues records, or one that runs
    after the ``except`` block, would otherwise find no exception to render.
    """
    if event.get("exc_info") is True:
        event["exc_info"] = sys.exc_info()
    return event


# Run at the call, for our events only: drop what the logger's level excludes before any
# work, stamp the request, then hand the dictionary to the standard library logger.
_EVENT_PROCESSORS: list[Processor] = [
    structlog.stdlib.filter_by_level,
    _add_request_fields,
    _capture_exception,
    structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
]


class StructuredLogger:
    """Logger with structured context support."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)
        self._events = structlog.stdlib.BoundLogger(self.logger, _EVENT_PROCESSORS, {})

    def debug(self, message: str, **kwargs: Any) -> None:
        """Log a debug event with context."""
        self._events.debug(message, **kwargs)

    def info(self, message: str, **kwargs: Any) -> None:
        """Log an informational event with context."""
        self._events.info(message, **kwargs)

    def warning(self, message: str, **kwargs: Any) -> None:
        """Log a warning event with context."""
        self._events.warning(message, **kwargs)

    def error(self, message: str, **kwargs: Any) -> None:
        """Log an error event with context."""
        self._events.error(message, **kwargs)

    def exception(self, message: str, **kwargs: Any) -> None:
        """Log an error event with context and the exception being handled."""
        self._events.exception(message, **kwargs)


def get_logger(name: str) -> StructuredLogger:
    """Get a structured logger instance."""
    return StructuredLogger(name)


def _record_header(clock: Callable[[datetime], str]) -> Processor:
    """Lead every line with its time (UTC), level, logger and event, for ours and foreign ones.

    They are read from the log record, so a foreign record and one of ours say the same thing
    the same way, and the time is when the event was logged, not when it was rendered.
    """

    def add_header(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        record: logging.LogRecord = event["_record"]
        moment = datetime.fromtimestamp(record.created, UTC)
        header = {"timestamp": clock(moment), "level": record.levelname.lower()}
        return {**header, "logger": record.name, "event": event.pop("event", None), **event}

    return add_header


def _formatter(clock: Callable[[datetime], str], *rendering: Processor) -> logging.Formatter:
    """Render ours and foreign records alike: header, context, then ``rendering``'s output."""
    return structlog.stdlib.ProcessorFormatter(
        # Foreign records get the request's fields too: SQLAlchemy's or uvicorn's lines
        # logged while serving a request belong to it.
        foreign_pre_chain=[_add_request_fields],
        processors=[
            _record_header(clock),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *rendering,
        ],
    )


def _json_formatter() -> logging.Formatter:
    """One JSON object per line: timestamp, level, logger, event, then the context."""
    return _formatter(
        datetime.isoformat,
        # The traceback becomes a string field, "exception", of the same object.
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(default=str),
    )


def _console_formatter(*, colors: bool) -> logging.Formatter:
    """A readable line: time, level, event, logger, then ``key=value`` context."""
    # Rich's tracebacks read best on a terminal, but never with their local variables:
    # those can hold tokens and secrets.
    tracebacks = (
        structlog.dev.RichTracebackFormatter(show_locals=False)
        if colors
        else structlog.dev.plain_traceback
    )
    renderer = structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=tracebacks)
    return _formatter(lambda moment: moment.strftime("%H:%M:%S"), renderer)


def configure_logging(
    namespaces: Iterable[str],
    *,
    level: str = "INFO",
    log_format: LogFormat = "auto",
    stream: TextIO | None = None,
) -> None:
    """Send the ``namespaces``' logs to ``stream`` (stderr) as JSON or console lines.

    Called once by the application or the CLI, never at import. Only the named loggers are
    touched, not the root logger, so a host application's own logging set-up is left alone.
    Calling it again replaces the handlers it installed before.
    """
    stream = stream or sys.stderr
    on_terminal = stream.isatty()
    use_json = log_format == "json" or (log_format == "auto" and not on_terminal)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_json_formatter() if use_json else _console_formatter(colors=on_terminal))
    setattr(handler, _HANDLER_MARK, True)
    for namespace in namespaces:
        logger = logging.getLogger(namespace)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False
