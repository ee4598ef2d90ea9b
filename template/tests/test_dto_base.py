"""The bounded input types: what no supported database can store is refused, with a reason.

And the page cursors lists make of their bounded parameters: how long they can be.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from uuid import UUID

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from shared.models.dto_base import ListQuery, SortKeys, UpdateDTO, cursor_max_length
from shared.models.input_types import (
    INT_MAX,
    INT_MIN,
    MAX_JSON_DEPTH,
    STORABLE_TEXT,
    DbBool,
    DbDate,
    DbDateTime,
    DbFloat,
    DbInt,
    DbStr,
    DbUuid,
    DecimalDigits,
    JsonDocument,
    QueryBool,
    QueryInt,
)

Price = Annotated[Decimal, DecimalDigits(10, 2)]


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
        (DbDateTime, "2024-01-31T12:00:00", "offset"),
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


@pytest.mark.parametrize(
    ("input_type", "value"),
    [
        (DbInt, "5"),
        (DbInt, True),
        (DbInt, 5.5),
        (DbFloat, "5.5"),
        (DbFloat, True),
        (DbBool, "yes"),
        (DbBool, "true"),
        (DbBool, 1),
        (DbDate, 0),
        (DbDate, "0"),
        (DbDate, "2024-01-31T00:00:00Z"),
        (DbDateTime, 0),
        (DbDateTime, "1700000000"),
        (JsonDocument, {"a": float("nan")}),
        (JsonDocument, {"a": [float("-inf")]}),
        (Price, 19.99),
        (Price, 19),
        (Price, "1e3"),
        (Price, " 19.99"),
        (Price, "19.999"),
        (Price, "123456789.99"),
        (QueryInt, "5.0"),
        (QueryInt, " 5"),
        (QueryInt, "0x5"),
        (QueryBool, "yes"),
        (QueryBool, "1"),
        # Digits of other scripts, which Python's own parsers read: ASCII only.
        (Price, "\u0661\u0662.\u0665"),
        (Price, "\uff11\uff12.\uff15"),
        (QueryInt, "\u0665"),
        (DbDate, "\u0662\u0660\u0662\u0664-01-31"),
        # A final newline, which a pattern's "$" alone would let through.
        (Price, "19.99\n"),
        (QueryInt, "5\n"),
        # RFC 3339 wants the seconds; a UUID is written one way.
        (DbDateTime, "2024-01-31T12:00Z"),
        (DbUuid, "urn:uuid:8c6a1c2e-3f4b-4d5e-9a6b-7c8d9e0f1a2b"),
        (DbUuid, "8c6a1c2e3f4b4d5e9a6b7c8d9e0f1a2b"),
        (DbUuid, "{8c6a1c2e-3f4b-4d5e-9a6b-7c8d9e0f1a2b}"),
    ],
)
def test_values_are_parsed_only_in_their_documented_form(input_type: Any, value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(input_type).validate_python(value)


@pytest.mark.parametrize(
    ("input_type", "value", "parsed"),
    [
        (DbInt, 5, 5),
        (DbInt, 5.0, 5),
        (DbDate, "2024-01-31", date(2024, 1, 31)),
        (Price, "-19.9", Decimal("-19.9")),
        (QueryInt, "-42", -42),
        (QueryBool, "false", False),
        (DbDateTime, "2024-01-31t12:00:00.5z", datetime(2024, 1, 31, 12, 0, 0, 500000, UTC)),
        (
            DbUuid,
            "8C6A1C2E-3F4B-4D5E-9A6B-7C8D9E0F1A2B",
            UUID("8c6a1c2e-3f4b-4d5e-9a6b-7c8d9e0f1a2b"),
        ),
    ],
)
def test_documented_forms_are_parsed(input_type: Any, value: object, parsed: object) -> None:
    assert TypeAdapter(input_type).validate_python(value) == parsed


def test_a_decimal_is_described_and_sent_as_a_string_of_its_digits() -> None:
    adapter = TypeAdapter(Price)
    schema = adapter.json_schema()
    assert (schema["type"], schema["x-precision"], schema["x-scale"]) == ("string", 10, 2)
    assert schema["pattern"] == r"^-?[0-9]{1,8}(\.[0-9]{1,2})?$"
    assert adapter.dump_json(Decimal("1.50")) == b'"1.50"'


class Change(UpdateDTO):
    NOT_NULLABLE: ClassVar[tuple[str, ...]] = ("name",)

    name: DbStr | None = None
    notes: DbStr | None = None


def test_a_json_document_is_described_as_storable_json_values() -> None:
    schema = TypeAdapter(JsonDocument).json_schema(ref_template="#/$defs/{model}")
    no_nul = {"pattern": STORABLE_TEXT}
    assert (schema["type"], schema["propertyNames"]) == ("object", no_nul)
    assert schema["additionalProperties"] == {"$ref": "#/$defs/JsonValue"}
    assert str(MAX_JSON_DEPTH) in schema["description"]
    # Typeless: each keyword constrains the values of its type, what generators read as "any".
    value = schema["$defs"]["JsonValue"]
    assert "type" not in value
    assert (value["pattern"], value["propertyNames"]) == (STORABLE_TEXT, no_nul)
    assert value["items"] == value["additionalProperties"] == {"$ref": "#/$defs/JsonValue"}


def test_an_update_describes_null_only_for_nullable_fields() -> None:
    properties = Change.model_json_schema()["properties"]
    assert "anyOf" not in properties["name"]
    assert properties["name"]["type"] == "string"
    assert {"type": "null"} in properties["notes"]["anyOf"]
    with pytest.raises(ValidationError, match="can't be null"):
        Change.model_validate({"name": None})


class NoteQuery(ListQuery):
    """A list filtered by text, an integer and a date; its longest sort is by the text."""

    sort: Annotated[str, SortKeys("description")] = "created_at"
    description: DbStr | None = Field(default=None, max_length=40)
    size: QueryInt | None = None
    due: DbDate | None = None


@dataclass
class Note:
    """A row of the list: its sort columns."""

    description: str
    created_at: datetime
    id: str


def cursor_of(query: NoteQuery, row: Note) -> str:
    """The ``next_cursor`` of a page of ``query`` that ends at ``row``."""
    cursor: str = query.page([row], more=True, total=None, read=lambda row: row)["next_cursor"]
    return cursor


# A character beyond the BMP takes 4 bytes in a cursor, the most; a control character 1 (6
# escaped, as JSON would); a quote and a backslash 2.
@pytest.mark.parametrize("character", ["\U0001f600", "\x01", '"', "\\"])
def test_a_cursor_of_the_longest_query_and_row_is_within_the_bound_and_read_back(
    character: str,
) -> None:
    text = character * 40
    query = NoteQuery(description=text, size=INT_MIN, due=date.max, sort="-description", limit=200)
    row = Note(text, datetime.max.replace(tzinfo=UTC), "0" * 36)
    cursor = cursor_of(query, row)
    bound = cursor_max_length(NoteQuery)
    assert len(cursor) <= bound
    if character == "\U0001f600":  # every parameter and the key at their widest: the bound
        assert len(cursor) == bound
    # Alone, the cursor is the next page of the same query, after the row.
    following = NoteQuery.model_validate({"after": cursor})
    assert following.cursor_key() == (text, row.created_at, row.id)
    assert (following.description, following.size, following.due) == (text, INT_MIN, date.max)


def test_a_text_filter_without_a_max_length_leaves_the_cursors_unbounded() -> None:
    class Unbounded(ListQuery):
        sort: Annotated[str, SortKeys("note")] = "created_at"
        note: DbStr | None = None

    with pytest.raises(TypeError, match=r"^query parameter 'note': .*\(give it a max_length\)"):
        cursor_max_length(Unbounded)
