"""Input types that every supported database can store as sent: what it can't is a 422.

Request DTOs declare their fields with these (``name: DbStr``) instead of the plain types.
They also parse strictly, as the API description documents each type, so that a value means
one thing only: an int is a JSON integer (not ``"5"``), a bool is ``true`` or ``false`` (not
``"yes"`` or ``1``), a date or datetime is an ISO 8601 string (never an epoch number), and a
decimal is a string (a JSON number would lose digits in many clients before it arrives).
Query strings hold only text: ``QueryInt`` and ``QueryBool`` accept exactly the text forms of
their values.
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    TypeAdapter,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema
from typing_extensions import TypeAliasType

# Integer columns are 32-bit on PostgreSQL: refuse what they can't hold with a 422, not a 500.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
MAX_JSON_DEPTH = 32
# The text forms the API documents, matched whole (fullmatch: "$" would let a final newline
# through): RFC 3339 full-date, and date-time with seconds, an optional fraction and an offset.
# ASCII digits only: \d would take any script's digits.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# Long enough for any 64-bit number, so that the range check names what is wrong.
INTEGER_TEXT = re.compile(r"-?[0-9]{1,20}")
# A UUID as the API writes it: 36 characters, hyphenated (either case is read).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Text without NUL, as the API describes it. _storable_text also refuses lone surrogates,
# which JSON can carry only as \ud800-style escapes: a range of them in the pattern would make
# tools that generate requests from it (schemathesis) drop the whole pattern.
STORABLE_TEXT = r"^[^\x00]*$"


@dataclass(frozen=True)
class Described:
    """Adds to a type's JSON schema what its validators enforce: a ``pattern``, a ``maxLength``."""

    pattern: str | None = None
    max_length: int | None = None
    format: str | None = None

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The type's own JSON schema, with what is given here."""
        stated = {"pattern": self.pattern, "maxLength": self.max_length, "format": self.format}
        return {**handler(schema), **{key: value for key, value in stated.items() if value}}


# Storable text as the key of a json field's objects, and any JSON value made of storable text:
# only how a json field is described (DescribedDocument); _storable_document validates it.
# (propertyNames: a pattern on the keys themselves; pydantic's patternProperties would let
# other keys through.)
_StorableObject = Annotated[
    dict[str, "JsonValue"],
    Field(json_schema_extra={"propertyNames": {"pattern": STORABLE_TEXT}}),
]


def _as_any_storable_value(schema: dict[str, Any]) -> None:
    # The union, as one schema without a type: each keyword constrains only the values of its
    # type (strings, objects, arrays), numbers, booleans and null pass as they are. Client
    # generators read it as "any JSON value"; a union that holds itself, some can't read.
    alternatives = schema.pop("anyOf")
    by_type = {alternative.get("type"): alternative for alternative in alternatives}
    schema.update(
        {
            "description": "Any JSON value; its strings and object keys hold no NUL character",
            "pattern": STORABLE_TEXT,
            "propertyNames": {"pattern": STORABLE_TEXT},
            "additionalProperties": by_type["object"]["additionalProperties"],
            "items": by_type["array"]["items"],
        }
    )


JsonValue = TypeAliasType(
    "JsonValue",
    "Annotated[Annotated[str, Field(pattern=STORABLE_TEXT)] | float | bool | list[JsonValue]"
    " | _StorableObject | None, Field(json_schema_extra=_as_any_storable_value)]",
)


@dataclass(frozen=True)
class DescribedDocument:
    """Describes a json field as what :func:`_storable_document` lets through."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """An object of storable keys and JSON values (the nesting bound in words)."""
        described = handler(TypeAdapter(_StorableObject).core_schema)
        # JSON Schema can't bound the depth of a recursive value: the description says it.
        return {
            **described,
            "description": (
                f"A JSON object nested at most {MAX_JSON_DEPTH} levels deep, whose strings and "
                "keys hold no NUL character"
            ),
        }


def _storable_text(value: str) -> str:
    # PostgreSQL text can't hold NUL characters, and no database driver can encode a lone
    # surrogate (which JSON's \ud800 escapes can produce): refuse both on every database.
    if "\x00" in value:
        msg = "must not contain NUL characters"
        raise ValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = "must be valid Unicode text (no lone surrogates)"
        raise ValueError(msg) from None
    return value


def _storable_document(value: Any, depth: int = 0) -> Any:
    # Nesting is bounded so that the audit snapshot (and the response) can always be written.
    if depth > MAX_JSON_DEPTH:
        msg = f"must not nest deeper than {MAX_JSON_DEPTH} levels"
        raise ValueError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or Infinity: Python's parser lets them through, no database or client
        # reads them back.
        msg = "must not contain NaN or Infinity (JSON numbers are finite)"
        raise ValueError(msg)
    if isinstance(value, str):
        _storable_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable_text(key)
            _storable_document(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable_document(item, depth + 1)
    return value


def _digits(least: int, most: int) -> str:
    # A regex quantifier built without doubled braces: generated files hold no Jinja-like text.
    return "[0-9]{" + f"{least},{most}" + "}"


def _in_utc(value: datetime) -> datetime:
    # Times are stored in UTC; one whose UTC equivalent falls outside years 1-9999 can't be.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        msg = "must fall within the years 1 to 9999 once converted to UTC"
        raise ValueError(msg) from None


def _iso_date_text(value: Any) -> Any:
    # Without this, pydantic reads 0 or "0" as the Unix epoch's day.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    msg = "must be a date as YYYY-MM-DD"
    raise PydanticCustomError("date_format", msg)


def _iso_datetime_text(value: Any) -> Any:
    # Without this, pydantic reads 0, "0" or "1700000000" as seconds since the epoch.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and ISO_DATETIME.fullmatch(value):
        return value
    msg = "must be a date and time as YYYY-MM-DDTHH:MM:SS with an offset (Z or +01:00)"
    raise PydanticCustomError("datetime_format", msg)


def _uuid_text(value: Any) -> Any:
    # Python's UUID() also reads "urn:uuid:...", braces and 32 bare hex digits: one spelling only.
    if isinstance(value, UUID):
        return value
    if isinstance(value, str) and re.fullmatch(UUID_PATTERN, value):
        return value
    msg = "must be a UUID as 36 characters, hyphenated (8c6a1c2e-3f4b-4d5e-9a6b-7c8d9e0f1a2b)"
    raise PydanticCustomError("uuid_format", msg)


def _entity_id_text(value: Any) -> Any:
    # Ids are stored as new_id() writes them: a reference in capitals would match no row.
    return str(_uuid_text(value)).lower()


def _json_integer(value: Any) -> Any:
    # A body's int: a JSON number without a fraction (JSON Schema counts 5.0 as an integer),
    # never a string or a bool.
    if isinstance(value, str | bool):
        msg = "must be a JSON integer, not a string or a boolean"
        raise PydanticCustomError("int_type", msg)
    return value


def _integer_text(value: Any) -> Any:
    # A query string's int: digits with an optional minus (no "5.0", " 5", "1_000" or "0x5").
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and INTEGER_TEXT.fullmatch(value):
        return int(value)
    msg = "must be a whole number written in digits"
    raise PydanticCustomError("int_format", msg)


def _boolean_text(value: Any) -> Any:
    # A query string's bool: only the two words the API description shows.
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    msg = "must be true or false"
    raise PydanticCustomError("bool_format", msg)


@dataclass(frozen=True)
class DecimalDigits:
    """An exact number of at most ``precision`` digits, ``scale`` after the point, as a string.

    ``price: Annotated[Decimal, DecimalDigits(10, 2)]`` accepts ``"19.99"`` (and Decimal values
    from Python code), refuses JSON numbers and other spellings (``"1e3"``, ``" 5"``), and is
    described as a string with the pattern it must match, its precision and its scale.
    """

    precision: int
    scale: int

    @property
    def pattern(self) -> str:
        """The text forms accepted: an optional minus, whole digits, and up to scale decimals."""
        whole_digits = self.precision - self.scale
        whole = _digits(1, whole_digits) if whole_digits else "0"
        fraction = rf"(\.{_digits(1, self.scale)})?" if self.scale else ""
        return f"^-?{whole}{fraction}$"

    def _text(self, value: Any) -> Any:
        # fullmatch with the pattern's anchors: "$" alone would take a final newline.
        if isinstance(value, Decimal) or (
            isinstance(value, str) and re.fullmatch(self.pattern, value)
        ):
            return value
        msg = (
            "must be a string holding a decimal of at most {precision} digits, {scale} after "
            'the point (e.g. "{example}"); JSON numbers are refused, they can lose digits'
        )
        example = "1" if self.precision > self.scale else "0"
        if self.scale:
            example += "." + "5" * self.scale
        context = {"precision": self.precision, "scale": self.scale, "example": example}
        raise PydanticCustomError("decimal_format", msg, context)

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Validate the text form, then the digits; send the value back as a string."""
        digits = core_schema.decimal_schema(
            max_digits=self.precision, decimal_places=self.scale, allow_inf_nan=False
        )
        return core_schema.no_info_before_validator_function(
            self._text, digits, serialization=core_schema.to_string_ser_schema()
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Describe the field as the string it is sent as, with its pattern and digits."""
        return {
            "type": "string",
            "format": "decimal",
            "pattern": self.pattern,
            "x-precision": self.precision,
            "x-scale": self.scale,
        }


# Input types that every supported database can store as sent.
DbStr = Annotated[str, AfterValidator(_storable_text), Described(pattern=STORABLE_TEXT)]
# A point in time: with its offset (a naive time is ambiguous), converted to UTC.
DbDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime_text), AfterValidator(_in_utc)]
DbDate = Annotated[date, BeforeValidator(_iso_date_text)]
# Bodies, filters and path ids alike: the one spelling the pattern shows.
DbUuid = Annotated[UUID, BeforeValidator(_uuid_text), Described(pattern=UUID_PATTERN)]
# Another row's id (a reference): its one spelling, in the lower case ids are stored in; a
# UUID to clients, as every id is.
EntityId = Annotated[
    str, BeforeValidator(_entity_id_text), Described(pattern=UUID_PATTERN, format="uuid")
]
# The bounds come before the parsers that wrap them, so that the description shows them.
DbInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX), BeforeValidator(_json_integer)]
# Strict: a JSON integer is a float too, a string is not.
DbFloat = Annotated[float, Strict(), Field(allow_inf_nan=False)]
DbBool = Annotated[bool, Strict()]
JsonDocument = Annotated[dict[str, Any], AfterValidator(_storable_document), DescribedDocument()]
# Query-string filters: text that spells a value exactly one way.
# Bounds on a query int go before IntegerText (Annotated[int, Field(ge=1), IntegerText]): a
# Field after a parser that wraps the int would be described, not enforced.
IntegerText = BeforeValidator(_integer_text)
QueryInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX), IntegerText]
QueryBool = Annotated[bool, BeforeValidator(_boolean_text)]
