"""The structured logger: configured once by the app, never at import."""

import io
import json
import logging

from shared.logging.logger import configure_logging, get_logger


def test_getting_a_logger_configures_nothing() -> None:
    name = "shared.tests.untouched"
    get_logger(name).info("nothing.configured", key="value")
    logger = logging.getLogger(name)
    assert logger.handlers == []
    assert logger.level == logging.NOTSET


def test_json_lines_carry_the_event_and_its_context() -> None:
    stream = io.StringIO()
    configure_logging(["tests.json"], level="INFO", log_format="json", stream=stream)
    get_logger("tests.json.module").info("thing.happened", thing_id="t-1", count=2)
    entry = json.loads(stream.getvalue())
    assert entry["event"] == "thing.happened"
    assert (entry["thing_id"], entry["count"]) == ("t-1", 2)
    assert (entry["level"], entry["logger"]) == ("info", "tests.json.module")


def test_console_lines_are_readable() -> None:
    stream = io.StringIO()
    configure_logging(["tests.console"], level="INFO", log_format="console", stream=stream)
    get_logger("tests.console").warning("disk.low", free_mb=12)
    line = stream.getvalue()
    assert "WARNING" in line
    assert "disk.low | free_mb=12" in line


def test_levels_below_the_configured_one_are_dropped() -> None:
    stream = io.StringIO()
    configure_logging(["tests.level"], level="WARNING", log_format="json", stream=stream)
    get_logger("tests.level").info("too.chatty")
    assert stream.getvalue() == ""


def test_configuring_twice_does_not_duplicate_lines() -> None:
    stream = io.StringIO()
    configure_logging(["tests.twice"], log_format="json", stream=stream)
    configure_logging(["tests.twice"], log_format="json", stream=stream)
    get_logger("tests.twice").info("once")
    assert len(stream.getvalue().splitlines()) == 1
