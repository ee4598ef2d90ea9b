"""The bounded input types: what no supported database can store is refused, with a reason."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.models.input_types import (
    INT_MAX,
    INT_MIN,
    MAX_JSON_DEPTH,
    DbDateTime,
    DbFloat,
    DbInt,
    DbStr,
    JsonDocument,
)


def nested(levels: int) -> dict[str, Any]:
    """A JSON object ``levels`` objects deep."""
    document: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        document = {"a": document}
    return document


@pytest.mark.parametrize(
    ("input_type", "value", "reason"),
    [
        (DbStr, "a\x00b", "NUL"),
        (DbStr, "lone \ud800 surrogate", "surrogate"),
        (DbInt, INT_MAX + 1, "less than or equal"),
        (DbInt, INT_MIN - 1, "greater than or equal"),
        (DbFloat, float("inf"), "finite"),
        (DbFloat, float("nan"), "finite"),
        (DbDateTime, "2024-01-31T12:00:00", "timezone"),
        (DbDateTime, "9999-12-31T23:59:59-05:00", "years 1 to 9999"),
        (JsonDocument, {"key": "a\x00b"}, "NUL"),
        (JsonDocument, {"a\ud800": 1}, "surrogate"),
        (JsonDocument, {"list": ["ok", "\ud800"]}, "surrogate"),
        (JsonDocument, nested(MAX_JSON_DEPTH + 1), "deeper"),
    ],
)
def test_unstorable_values_are_refused(input_type: Any, value: object, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        TypeAdapter(input_type).validate_python(value)


@pytest.mark.parametrize(
    ("input_type", "value"),
    [
        (DbStr, "plain text, accents: é, and emoji: 🎉"),
        (DbInt, INT_MAX),
        (DbInt, INT_MIN),
        (DbFloat, -0.5),
        (JsonDocument, nested(MAX_JSON_DEPTH)),
    ],
)
def test_storable_values_pass_unchanged(input_type: Any, value: object) -> None:
    assert TypeAdapter(input_type).validate_python(value) == value


def test_times_are_converted_to_utc() -> None:
    moment = TypeAdapter(DbDateTime).validate_python("2024-01-31T12:00:00+02:00")
    assert moment == datetime(2024, 1, 31, 10, 0, tzinfo=UTC)
    assert moment.tzinfo is UTC
