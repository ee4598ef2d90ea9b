"""The structured logger: the seed's call shape on structlog, configured once by the app."""

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.logging.context import RequestContext, bind_user, end_request, start_request
from shared.logging.logger import StructuredLogger, configure_logging, get_logger

ANSI_ESCAPE = "\x1b["


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in a developer's shell."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> Iterator[str]:
    """A logger namespace of this test's own, put back as it was afterwards."""
    name = f"tests.logger.{request.node.name}"
    yield name
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_seed_call_shape_logs_at_each_level(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], level="DEBUG", log_format="json", stream=stream)
    log = get_logger(f"{namespace}.module")
    assert isinstance(log, StructuredLogger)
    assert log.logger is logging.getLogger(f"{namespace}.module")
    log.debug("step.debug", step=1)
    log.info("step.info", step=2)
    log.warning("step.warning", step=3)
    log.error("step.error", step=4)
    try:
        raise RuntimeError("step five")
    except RuntimeError:
        log.exception("step.exception", step=5)
    entries = json_lines(stream)
    assert [(entry["level"], entry["event"], entry["step"]) for entry in entries] == [
        ("debug", "step.debug", 1),
        ("info", "step.info", 2),
        ("warning", "step.warning", 3),
        ("error", "step.error", 4),
        ("error", "step.exception", 5),
    ]


def test_getting_a_logger_configures_nothing() -> None:
    name = "shared.tests.untouched"
    get_logger(name).info("nothing.configured", key="value")
    logger = logging.getLogger(name)
    assert logger.handlers == []
    assert logger.level == logging.NOTSET


# Run in a fresh interpreter: in this one the module is long imported, and pytest has put its
# own handlers on the root logger.
IMPORT_PROBE = """
import json
import logging

def state():
    loggers = {
        name: [len(logger.handlers), logger.level, logger.propagate]
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root = [len(logging.root.handlers), logging.root.level]
    return {"root": root, "class": logging.getLoggerClass().__name__, "loggers": loggers}

before = state()
import shared.logging.logger
import structlog
after = state()
print(json.dumps({"before": before, "after": after, "structlog": structlog.is_configured()}))
"""


def test_importing_the_module_configures_nothing() -> None:
    # The arguments are this interpreter and a fixed script, never a shell string.
    probe = subprocess.run(  # noqa: S603
        [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True
    )
    result = json.loads(probe.stdout)
    before, after = result["before"], result["after"]
    assert after["root"] == before["root"]
    assert after["class"] == before["class"]
    untouched = [0, logging.NOTSET, True]
    changed = {
        name: state
        for name, state in after["loggers"].items()
        if state != before["loggers"].get(name, untouched)
    }
    assert changed == {}
    assert result["structlog"] is False, "structlog's global configuration is the host's"


def test_json_lines_carry_the_event_and_its_context(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], level="INFO", log_format="json", stream=stream)
    get_logger(f"{namespace}.module").info("thing.happened", thing_id="t-1", count=2)
    [entry] = json_lines(stream)
    assert list(entry)[:4] == ["timestamp", "level", "logger", "event"]
    assert entry["event"] == "thing.happened"
    assert (entry["thing_id"], entry["count"]) == ("t-1", 2)
    assert (entry["level"], entry["logger"]) == ("info", f"{namespace}.module")
    timestamp = datetime.fromisoformat(entry["timestamp"])
    assert timestamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - timestamp) < timedelta(minutes=1)


def test_json_lines_carry_the_request_fields_inside_a_request(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    log = get_logger(namespace)
    token = start_request("req-7")
    try:
        log.info("before.login")
        bind_user("user-3")
        log.info("after.login", item_id="i-1")
        log.info("on.behalf", user_id="user-9")
    finally:
        end_request(token)
    log.info("between.requests")
    before_login, after_login, on_behalf, between = json_lines(stream)
    assert before_login["request_id"] == "req-7"
    assert "user_id" not in before_login
    assert (after_login["request_id"], after_login["user_id"]) == ("req-7", "user-3")
    assert after_login["item_id"] == "i-1"
    assert on_behalf["user_id"] == "user-9", "the event's own fields win over the request's"
    assert "request_id" not in between
    assert "user_id" not in between
    assert "caller_request_id" not in before_login, "a request without the caller's id"


def test_the_callers_request_id_is_carried_next_to_the_servers(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    token = start_request("req-11", caller_request_id="caller-11")
    try:
        get_logger(namespace).info("traced")
    finally:
        end_request(token)
    [entry] = json_lines(stream)
    assert (entry["request_id"], entry["caller_request_id"]) == ("req-11", "caller-11")


def test_every_field_of_the_request_is_carried(
    namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fields(context: RequestContext) -> dict[str, str]:
        return {"request_id": context.request_id, "tenant_id": "tenant-4"}

    monkeypatch.setattr(RequestContext, "fields", fields)
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    token = start_request("req-8")
    try:
        get_logger(namespace).info("tenant.scoped")
    finally:
        end_request(token)
    [entry] = json_lines(stream)
    assert (entry["request_id"], entry["tenant_id"]) == ("req-8", "tenant-4")


def test_other_libraries_records_come_out_in_the_same_format(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    token = start_request("req-9")
    try:
        logging.getLogger(f"{namespace}.library").warning("disk %s is %d%% full", "sda", 93)
    finally:
        end_request(token)
    [entry] = json_lines(stream)
    assert list(entry)[:4] == ["timestamp", "level", "logger", "event"]
    assert entry["event"] == "disk sda is 93% full"
    assert (entry["level"], entry["logger"]) == ("warning", f"{namespace}.library")
    assert entry["request_id"] == "req-9"


def test_console_lines_are_readable(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], level="INFO", log_format="console", stream=stream)
    get_logger(namespace).warning("disk.low", free_mb=12, mount="/var")
    line = stream.getvalue()
    assert ANSI_ESCAPE not in line, "colors only on a terminal"
    assert re.match(r"\d\d:\d\d:\d\d \[warning\s*\] disk\.low\s", line)
    assert f"[{namespace}]" in line
    assert "free_mb=12 mount=/var" in line


def test_the_automatic_format_is_console_on_a_terminal_and_json_elsewhere(
    namespace: str,
) -> None:
    terminal = Terminal()
    configure_logging([namespace], stream=terminal)
    get_logger(namespace).info("on.terminal", port=8000)
    assert ANSI_ESCAPE in terminal.getvalue()
    assert "on.terminal" in terminal.getvalue()
    pipe = io.StringIO()
    configure_logging([namespace], stream=pipe)
    get_logger(namespace).info("in.pipe", port=8000)
    [entry] = json_lines(pipe)
    assert (entry["event"], entry["port"]) == ("in.pipe", 8000)


def test_levels_below_the_configured_one_are_dropped(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], level="WARNING", log_format="json", stream=stream)
    get_logger(namespace).info("too.chatty")
    assert stream.getvalue() == ""


def test_debug_is_dropped_at_info(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], level="info", log_format="json", stream=stream)
    log = get_logger(namespace)
    log.debug("too.detailed")
    log.info("worth.saying")
    assert [entry["event"] for entry in json_lines(stream)] == ["worth.saying"]


def test_configuring_twice_does_not_duplicate_lines(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    configure_logging([namespace], log_format="json", stream=stream)
    get_logger(namespace).info("once")
    assert len(stream.getvalue().splitlines()) == 1


def test_configuring_again_replaces_stream_format_and_level(namespace: str) -> None:
    logger = logging.getLogger(namespace)
    own = logging.NullHandler()
    logger.addHandler(own)
    first = io.StringIO()
    configure_logging([namespace], level="INFO", log_format="json", stream=first)
    second = io.StringIO()
    configure_logging([namespace], level="DEBUG", log_format="console", stream=second)
    get_logger(namespace).debug("now.visible", step=2)
    assert first.getvalue() == ""
    assert "now.visible" in second.getvalue()
    assert not second.getvalue().startswith("{")
    assert len(logger.handlers) == 2, "only the handler it installed is replaced"
    assert own in logger.handlers


def test_configuring_leaves_the_root_logger_alone(namespace: str) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging([namespace], level="DEBUG", log_format="json", stream=io.StringIO())
    assert (root.handlers, root.level) == (handlers, level)


def test_configured_events_are_not_repeated_by_the_root_logger(
    namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    get_logger(namespace).warning("said.once")
    assert len(json_lines(stream)) == 1
    assert caplog.records == [], "a host's root handlers would print it a second time"


def fail_with_a_secret() -> None:
    # Built at run time, so it is in the frame's locals but nowhere in the source.
    secret = "-".join(["local", "only", "value"])
    if secret:
        raise ValueError("broken thing")


def test_an_exception_is_logged_with_its_traceback(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    try:
        fail_with_a_secret()
    except ValueError:
        get_logger(namespace).exception("job.failed", job="nightly")
    [entry] = json_lines(stream)
    assert (entry["level"], entry["event"], entry["job"]) == ("error", "job.failed", "nightly")
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert "in fail_with_a_secret" in entry["exception"]
    assert entry["exception"].endswith("ValueError: broken thing")


class Keep(logging.Handler):
    """Keeps records to format later, as a queueing handler does."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_traceback_survives_formatting_after_the_except_block(namespace: str) -> None:
    stream = io.StringIO()
    configure_logging([namespace], log_format="json", stream=stream)
    logger = logging.getLogger(namespace)
    [installed] = logger.handlers
    kept = Keep()
    logger.addHandler(kept)
    try:
        fail_with_a_secret()
    except ValueError:
        get_logger(namespace).exception("job.failed")
    assert installed.formatter is not None
    entry = json.loads(installed.formatter.format(kept.records[0]))
    assert entry["exception"].endswith("ValueError: broken thing")


@pytest.mark.parametrize("stream_type", [io.StringIO, Terminal], ids=["plain", "terminal"])
def test_console_tracebacks_show_no_local_values(
    namespace: str, stream_type: type[io.StringIO]
) -> None:
    stream = stream_type()
    configure_logging([namespace], log_format="console", stream=stream)
    try:
        fail_with_a_secret()
    except ValueError:
        get_logger(namespace).exception("job.failed")
    output = stream.getvalue()
    assert "job.failed" in output
    assert "fail_with_a_secret" in output
    assert "broken thing" in output
    assert "local-only-value" not in output


def test_caplog_sees_the_events_of_an_unconfigured_logger(
    namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=namespace)
    token = start_request("req-10")
    try:
        get_logger(namespace).info("seen.by.caplog", item_id="i-2")
    finally:
        end_request(token)
    [record] = caplog.records
    assert (record.name, record.levelno) == (namespace, logging.INFO)
    assert isinstance(record.msg, dict), "structlog's event dictionary, for any handler"
    assert record.msg["event"] == "seen.by.caplog"
    assert (record.msg["item_id"], record.msg["request_id"]) == ("i-2", "req-10")
