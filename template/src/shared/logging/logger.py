"""Structured logging utilities.

Modules only ask for a logger (``get_logger(__name__)``) and log events with context; they
never configure anything. The application configures output once, at start-up, with
:func:`configure_logging` (JSON lines, or readable lines on a terminal). Every event logged
during a request also carries the request's id and user id (:mod:`shared.logging.context`).
"""

import json
import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from shared.logging.context import current_request

LogFormat = Literal["auto", "json", "console"]

# The attribute of a LogRecord that carries the event's context.
CONTEXT_ATTRIBUTE = "context"
# Marks the handlers configure_logging installs, so a second call replaces them.
_HANDLER_MARK = "_structured_handler"


class StructuredLogger:
    """Logger with structured context support."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def _log(self, level: int, message: str, context: Mapping[str, Any], **options: Any) -> None:
        if self.logger.isEnabledFor(level):
            request = current_request()
            fields = {**(request.fields() if request else {}), **context}
            self.logger.log(
                level, message, extra={CONTEXT_ATTRIBUTE: fields}, stacklevel=3, **options
            )

    def debug(self, message: str, **kwargs: Any) -> None:
        """Log a debug event with context."""
        self._log(logging.DEBUG, message, kwargs)

    def info(self, message: str, **kwargs: Any) -> None:
        """Log an informational event with context."""
        self._log(logging.INFO, message, kwargs)

    def warning(self, message: str, **kwargs: Any) -> None:
        """Log a warning event with context."""
        self._log(logging.WARNING, message, kwargs)

    def error(self, message: str, **kwargs: Any) -> None:
        """Log an error event with context."""
        self._log(logging.ERROR, message, kwargs)

    def exception(self, message: str, **kwargs: Any) -> None:
        """Log an error event with context and the exception being handled."""
        self._log(logging.ERROR, message, kwargs, exc_info=True)


def get_logger(name: str) -> StructuredLogger:
    """Get a structured logger instance."""
    return StructuredLogger(name)


def _context(record: logging.LogRecord) -> dict[str, Any]:
    context = getattr(record, CONTEXT_ATTRIBUTE, None)
    return context if isinstance(context, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, event and the event's context."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a JSON line."""
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """A readable line: time, level, logger, event, then ``key=value`` context."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` for a person at a terminal."""
        time = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        context = " ".join(f"{key}={value!r}" for key, value in _context(record).items())
        line = f"{time} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if context:
            line = f"{line} | {context}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


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
    use_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    setattr(handler, _HANDLER_MARK, True)
    for namespace in namespaces:
        logger = logging.getLogger(namespace)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False
