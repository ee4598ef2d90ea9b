"""The field-spec grammar: parse ``"name:str(120), price:decimal(10,2)"`` into field specs.

Grammar (see the README)::

    fields   := field ("," field)*
    field    := NAME ":" TYPE ["?"] (":" MODIFIER)* ["=" DEFAULT]
    TYPE     := str["(" maxlen ")"] | text["(" maxlen ")"] | int | float
              | decimal["(" precision "," scale ")"] | bool | date | datetime | uuid
              | enum "(" value ("|" value)* ")" | json
              | ref "(" DOMAIN "." FEATURE ["," "on_delete=" (restrict|cascade)] ")"
    MODIFIER := unique | index

Everything a template needs to know about a field (its Python annotation, its column, its
DTO constraints, sample values for the generated tests) is derived here, so templates only
place strings. Everything that depends on a field's type lives in one table, ``FIELD_TYPES``:
one class per type, from its arguments and defaults to its README examples. ``FieldSpec``
reads that table and never branches on a type's name, so a new type is one new entry there
(and its tests).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from .naming import identifier_problem, pascal, upper_snake, with_article

MODIFIERS = ("unique", "index")
# ``title<-name:str(120)`` renames ``name`` to ``title`` (only in a changed field list).
RENAME_ARROW = "<-"

# Columns every feature table already has (see EntityBase in the generated service).
RESERVED_COLUMNS = frozenset({"id", "version", "created_at", "updated_at", "deleted_at"})
# The list endpoint's own query parameters (PageQuery and ListQuery in the generated service):
# a field's filter is a query parameter named after the field.
LIST_PARAMETERS = ("limit", "offset", "after", "include_total", "include_deleted", "sort")
# Members of pydantic's BaseModel that a field would hide: a field is an attribute of its table
# class and of its DTOs, which are all pydantic models. Pydantic refuses some, warns of the
# others, and the generated tests make warnings errors.
PYDANTIC_MEMBERS = (
    "construct",
    "copy",
    "dict",
    "from_orm",
    "json",
    "model_computed_fields",
    "model_config",
    "model_construct",
    "model_copy",
    "model_extra",
    "model_fields",
    "model_fields_set",
    "model_json_schema",
    "model_parametrized_name",
    "model_post_init",
    "model_rebuild",
    "parse_file",
    "parse_obj",
    "parse_raw",
    "schema",
    "schema_json",
    "update_forward_refs",
    "validate",
)
# Every name pydantic protects from fields: these and any longer one (``model_dump_csv``).
PYDANTIC_PROTECTED_PREFIXES = ("model_dump", "model_validate")
# Why a name can't be a field's: what the field would collide with (shown after "it is").
RESERVED_NAMES: dict[str, str] = {
    **dict.fromkeys(PYDANTIC_MEMBERS, "a member pydantic gives every model (tables and DTOs)"),
    **dict.fromkeys(("metadata", "registry"), "an attribute SQLAlchemy keeps on every table class"),
    "sqlmodel_update": "a method SQLModel gives every table class",
    # EntityBase and BaseDBModelMixin: what every table class of the service has.
    **dict.fromkeys(
        ("touch", "dump_to_dto_dict", "renamed_fields", "retyped_fields", "on_target_delete"),
        "a member of every table class of the service",
    ),
    # UpdateDTO: what a PATCH body has besides its fields.
    "changes": "a method of every PATCH body model of the service",
    # PageQuery and ListQuery: what a list query has besides its filters.
    **dict.fromkeys(
        (
            "cursor_key",
            "cursor_parameters",
            "cursor_scope",
            "expansions",
            "filters",
            "page",
            "page_of",
            "sort_columns",
            "sort_descending",
        ),
        "a method of every list query model of the service",
    ),
    **dict.fromkeys(LIST_PARAMETERS, "a query parameter of every list endpoint"),
    # A feature with references: its reads' ``?expand=`` and what it embeds.
    "expand": "the query parameter that names the references a read embeds",
    "expanded": "the member of a read that holds the rows its references point at",
    **dict.fromkeys(RESERVED_COLUMNS, "a column every feature's table has"),
}

# PostgreSQL refuses to index a row longer than a third of its 8 kB page, 2704 bytes, and a
# character takes up to 4 bytes in UTF-8: a text field in an index is bounded so that its
# longest value fits in any script. Every str field heads the index its list sorts and filters
# by, (field, created_at, id), whose row also holds its header, the field's length word, the
# timestamp, the 36-character id with its length byte, and at most 7 bytes of padding. A unique
# or indexed text field takes the same bound (its own index holds less beside it). A hash or a
# prefix index would lift the bound, but could not serve the list's sort by the field.
BTREE_ROW_LIMIT = 2704
SORT_INDEX_ROW_OVERHEAD = 8 + 4 + 8 + (1 + 36) + 7
MAX_INDEXED_LENGTH = (BTREE_ROW_LIMIT - SORT_INDEX_ROW_OVERHEAD) // 4

DEFAULT_STR_LENGTH = 255
MAX_STR_LENGTH = MAX_INDEXED_LENGTH
# Text is unbounded in the database but not in the API: every change is kept three times in
# its audit row (snapshot, old and new value), so a default bound keeps rows and trails sane.
DEFAULT_TEXT_LENGTH = 65_535
MAX_TEXT_LENGTH = 1_000_000
DEFAULT_DECIMAL = (12, 2)
MAX_DECIMAL_PRECISION = 38
# PostgreSQL truncates identifiers at 63 bytes; "ix_<feature>_audit_<field>" must fit.
MAX_FIELD_NAME_LENGTH = 30

# What deleting a referenced row does to the live rows that refer to it (soft deletes both):
# ``restrict`` refuses the delete while they exist, ``cascade`` deletes them with it.
ON_DELETE = ("restrict", "cascade")
# The canonical text of the ids every entity has (``new_id`` in the generated service).
ID_LENGTH = 36
ENUM_VALUE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
DIGITS = re.compile(r"^[0-9]+$")
_FIELD = re.compile(
    r"""^(?P<type>[a-z]+)
        (?:\((?P<args>[^()]*)\))?
        (?P<optional>\?)?
        (?P<modifiers>(?::[^:=]*)*)
        (?:=(?P<default>.*))?$""",
    re.VERBOSE | re.DOTALL,
)


def quoted(value: str) -> str:
    """A double-quoted Python literal of ``value`` (values are checked to need no escapes)."""
    return f'"{value}"'


def source(value: Any) -> str:
    """Python source of a plain value, with strings double-quoted as ruff formats them."""
    return quoted(value) if isinstance(value, str) else repr(value)


def python_literal(value: Any) -> str:
    """``value`` (strings, numbers, tuples, lists, dicts of them) as Python source.

    Written on one line; the render's formatting (``formatting.python_formatted``) quotes and
    lays it out as the service's ruff does.
    """
    return repr(value)


def python_tuple(values: Iterable[Any]) -> str:
    """``values`` as the source of a Python tuple: ``("a",)``, ``("a", "b")`` or ``()``."""
    return python_literal(tuple(values))


def field_assignment(arguments: Iterable[str], otherwise: str = "") -> str:
    """`` = Field(arguments)`` after a declaration, or ``otherwise`` when there are none."""
    arguments = list(arguments)
    return f" = Field({', '.join(arguments)})" if arguments else otherwise


def import_statements(entries: Iterable[str]) -> list[str]:
    """``"module.name"`` entries as ``from module import name`` lines, each once.

    An entry without a dot is a module (``"json"``): ``import json``. The lines' order and
    grouping are left to the render's formatting (ruff's isort rules).
    """
    split = (entry.rpartition(".") for entry in dict.fromkeys(entries))
    return [
        f"from {module} import {name}" if module else f"import {name}" for module, _, name in split
    ]


class FieldSpecError(ValueError):
    """A field spec that does not follow the grammar; the message names the offending field."""


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


# -- The field types ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    """A field type, bound to one field: everything the templates derive from the type.

    Each subclass is an entry of ``FIELD_TYPES``. Class attributes hold what is the same for
    every field of the type; methods derive from ``spec`` what depends on the field's
    arguments, name or default. The base class holds what most types share.
    """

    spec: FieldSpec

    # The type's name in the grammar.
    name: ClassVar[str]
    # The Python type of a value (``python_type`` derives it where it depends on the field).
    python_name: ClassVar[str]
    # ``"module.name"`` the Python type needs, when it is not a builtin.
    python_import: ClassVar[str | None] = None
    # The bounded type of shared/models/input_types.py that request DTOs use instead of the
    # Python type, for values some supported database can't store whole or that it parses
    # strictly (no "5" for an int, no epoch number for a date).
    dto_bound: ClassVar[str | None] = None
    # The type of input_types.py a list filter on the field uses: query strings hold text, so
    # it accepts exactly the text forms of a value (``"5"``, ``"true"``); None: the DTO type.
    query_bound: ClassVar[str | None] = None
    # The column type as a migration writes it (``column_type`` derives it where it varies).
    column: ClassVar[str]
    # The table's ``sa_type``, where SQLModel's choice for the Python type is not the column.
    table_sa_type: ClassVar[str | None] = None
    # ``"module.name"`` entries the table model needs for the column type.
    column_imports: ClassVar[tuple[str, ...]] = ()
    # Whether the list endpoint offers an equality filter on fields of this type.
    filterable: ClassVar[bool] = False
    # Whether fields of this type may be unique or indexed.
    indexable: ClassVar[bool] = True
    # Whether fields of this type may have a default other than null.
    takes_default: ClassVar[bool] = True
    # A generated test's valid value as Python source: a ``str.format`` template (literal
    # braces doubled) with ``{n}`` where the test's integer varies it. ``sample_source``
    # derives it where it depends on the field.
    sample: ClassVar[str]
    # ``"module.name"`` entries the sample values need.
    sample_imports: ClassVar[tuple[str, ...]] = ()
    # A valid value as Python source that differs from the sample with ``n == 0``.
    changed: ClassVar[str]
    # Modules the invalid values need.
    invalid_value_imports: ClassVar[tuple[str, ...]] = ()
    # Two different readable values for the README (create, then update), as JSON values.
    examples: ClassVar[tuple[Any, Any]]

    # -- Arguments and defaults, as written in a field spec --------------------------------

    @classmethod
    def parse_arguments(cls, name: str, args: str | None) -> dict[str, Any]:
        """The ``FieldSpec`` attributes read from the type's parenthesised arguments."""
        if args is not None:
            raise FieldSpecError(
                f"field {name!r}: type {cls.name!r} takes no arguments, got ({args})"
            )
        return {}

    def parse_default(self, text: str) -> Any:
        """Parse the text after ``=`` (neither null nor None) as a value of the type."""
        raise NotImplementedError

    def wrong(self, text: str, expected: str) -> FieldSpecError:
        """The error for a default ``text`` that is not ``expected``."""
        return FieldSpecError(f"field {self.spec.name!r}: default {text!r} is not {expected}")

    # -- Python side --------------------------------------------------------------------------

    @property
    def python_type(self) -> str:
        """The Python type of a value of the field, without ``| None``."""
        return self.python_name

    @property
    def dto_type(self) -> str:
        """The type on request DTOs: bounded to what every supported database stores."""
        return self.dto_bound or self.python_type

    @property
    def query_type(self) -> str:
        """The type of a list filter on the field: strict about how the text spells a value."""
        return self.query_bound or self.dto_type

    def python_source(self, value: Any) -> str:
        """A parsed value (not None) of the field as Python source."""
        return source(value)

    def json_value(self, value: Any) -> Any:
        """A parsed value (not None) of the field as the API returns it: a JSON value."""
        return value

    def column_type(self) -> str:
        """The column type as a migration writes it (``sa.String(length=120)``)."""
        return self.column

    def sa_type(self) -> str | None:
        """The table's ``sa_type`` argument, if the field needs one."""
        return self.table_sa_type

    def bounds(self) -> list[str]:
        """``Field(...)`` arguments that bound a value on the request DTOs."""
        return []

    def table_bounds(self) -> list[str]:
        """``Field(...)`` arguments that bound a value on the table model."""
        return self.bounds()

    # -- Values for the generated tests (Python source of JSON values) ------------------------

    def sample_source(self, n: str) -> str:
        """A valid value that varies with the integer expression ``n`` (0 <= n < 10)."""
        return self.sample.format(n=n)

    def changed_source(self) -> str:
        """A valid value that differs from :meth:`sample_source` with ``n == 0``."""
        return self.changed

    def invalid_sources(self) -> list[str]:
        """Values the API must refuse with 422."""
        return [quoted(f"not {with_article(self.name)}")]

    # -- README ---------------------------------------------------------------------------

    def example(self, variant: int) -> Any:
        """A readable value; ``variant`` 0 (the create example) and 1 differ."""
        return self.examples[variant]

    def changed_example(self) -> Any:
        """A value for the README's PATCH: valid, and different from the field's example."""
        changed = self.example(1)
        if changed == self.spec.example_value():  # a default that happens to be the variant
            return self.example(0)
        return changed

    @property
    def readme_type(self) -> str:
        """The type as the README's table of fields writes it."""
        return self.name


class _Text(FieldType):
    """What str and text share: a bounded length, and the defaults and examples it allows."""

    python_name = "str"
    dto_bound = "DbStr"
    default_length: ClassVar[int]
    length_limit: ClassVar[int]
    # Why the limit, and what to do instead, for a length over it (``{length}``: the length).
    over_limit: ClassVar[str] = ""

    @classmethod
    def parse_arguments(cls, name: str, args: str | None) -> dict[str, Any]:
        if args is None:
            return {"max_length": cls.default_length}
        max_length = _positive_int(name, f"{cls.name} length", args)
        if max_length > cls.length_limit:
            raise FieldSpecError(
                f"field {name!r}: {cls.name} length {max_length} is over "
                f"{cls.length_limit}{cls.over_limit.format(length=max_length)}"
            )
        return {"max_length": max_length}

    def parse_default(self, text: str) -> Any:
        spec = self.spec
        value = _unquote(text)
        if any(char in value for char in "\"'\\") or not value.isprintable():
            raise FieldSpecError(
                f"field {spec.name!r}: default {text!r} may not contain quotes, backslashes or "
                "control characters"
            )
        if spec.max_length is not None and len(value) > spec.max_length:
            raise FieldSpecError(
                f"field {spec.name!r}: default {value!r} is longer than {spec.max_length} "
                "characters"
            )
        return value

    def bounds(self) -> list[str]:
        return [f"max_length={self.spec.max_length}"]

    def invalid_sources(self) -> list[str]:
        # A number, and a string one character too long.
        invalid = ["12345"]
        if self.spec.max_length is not None:
            invalid.append(f'"x" * {self.spec.max_length + 1}')
        return invalid

    def example(self, variant: int) -> Any:
        text = f"{('Example', 'Changed')[variant]} {self.spec.name.replace('_', ' ')}"
        return text[: self.spec.max_length] if self.spec.max_length is not None else text


class StrType(_Text):
    """``str(max_length)``: a bounded string, the one type to filter text on."""

    name = "str"
    default_length = DEFAULT_STR_LENGTH
    length_limit = MAX_STR_LENGTH
    over_limit = (
        ", the most a database index holds at 4 bytes a character (every str field is "
        "indexed for the list's sort and filter); use text({length}), which is not indexed"
    )
    filterable = True

    def column_type(self) -> str:
        return f"sa.String(length={self.spec.max_length})"

    def sample_source(self, n: str) -> str:
        # The field's name and the number, if that fits; the number alone otherwise.
        max_length = self.spec.max_length or DEFAULT_STR_LENGTH
        if max_length >= len(self.spec.name) + 3:
            return f'f"{self.spec.name} {{{n}}}"'
        return f"str({n})"

    def changed_source(self) -> str:
        max_length = self.spec.max_length or DEFAULT_STR_LENGTH
        return quoted("changed"[:max_length] if max_length >= 3 else "x")

    @property
    def readme_type(self) -> str:
        return f"str({self.spec.max_length})"


class TextType(_Text):
    """``text[(max_length)]``: long text, unbounded in the database."""

    name = "text"
    default_length = DEFAULT_TEXT_LENGTH
    length_limit = MAX_TEXT_LENGTH
    column = "sa.Text()"
    table_sa_type = "Text"
    column_imports = ("sqlalchemy.Text",)
    changed = quoted("changed text")

    def table_bounds(self) -> list[str]:
        # The TEXT column itself is unbounded: the request DTOs enforce a text field's maximum.
        return []

    def sample_source(self, n: str) -> str:
        return f'f"{self.spec.name.replace("_", " ")} {{{n}}}"'


class IntType(FieldType):
    """``int``: a whole number."""

    name = "int"
    python_name = "int"
    dto_bound = "DbInt"
    query_bound = "QueryInt"
    column = "sa.Integer()"
    filterable = True
    sample = "{n} + 1"
    changed = "1000"
    examples = (42, 43)

    def invalid_sources(self) -> list[str]:
        # Strict: a number in a string, a fraction, a bool.
        return [*super().invalid_sources(), quoted("5"), "5.5", "True"]

    def parse_default(self, text: str) -> Any:
        try:
            return int(text)
        except ValueError:
            raise self.wrong(text, "an int") from None


class FloatType(FieldType):
    """``float``: a finite floating-point number."""

    name = "float"
    python_name = "float"
    dto_bound = "DbFloat"
    column = "sa.Float()"
    sample = "{n} + 0.5"
    changed = "99.25"
    examples = (2.5, 3.75)

    def parse_default(self, text: str) -> Any:
        try:
            number = float(text)
        except ValueError:
            raise self.wrong(text, "a float") from None
        if not math.isfinite(number):
            raise self.wrong(text, "a finite float")
        return number

    def invalid_sources(self) -> list[str]:
        # Strict: a number in a string, a bool, and numbers JSON does not have.
        return [*super().invalid_sources(), quoted("5.5"), "True", 'float("inf")']


class DecimalType(FieldType):
    """``decimal(precision,scale)``: an exact number, sent and returned as a string."""

    name = "decimal"
    python_name = "Decimal"
    python_import = "decimal.Decimal"
    # The marker that types the DTO field (see dto_type): a string of the field's digits.
    dto_bound = "DecimalDigits"

    @classmethod
    def parse_arguments(cls, name: str, args: str | None) -> dict[str, Any]:
        if args is None:
            precision, scale = DEFAULT_DECIMAL
            return {"precision": precision, "scale": scale}
        parts = [part.strip() for part in args.split(",")]
        if len(parts) != 2:
            raise FieldSpecError(f"field {name!r}: decimal takes (precision,scale), got ({args})")
        precision = _positive_int(name, "decimal precision", parts[0])
        if precision > MAX_DECIMAL_PRECISION:
            raise FieldSpecError(
                f"field {name!r}: decimal precision {precision} is over {MAX_DECIMAL_PRECISION}"
            )
        if not DIGITS.match(parts[1]):
            raise FieldSpecError(f"field {name!r}: decimal scale {parts[1]!r} is not a number")
        scale = int(parts[1])
        if scale > precision:
            raise FieldSpecError(
                f"field {name!r}: decimal scale {scale} is greater than precision {precision}"
            )
        return {"precision": precision, "scale": scale}

    def parse_default(self, text: str) -> Any:
        try:
            value = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise self.wrong(text, "a decimal") from None
        if not value.is_finite():
            raise self.wrong(text, "a finite decimal")
        precision, scale = self.spec.decimal_shape
        # Room for any digits the value has, so that quantizing never overflows the context.
        digits = len(value.as_tuple().digits) + scale + MAX_DECIMAL_PRECISION
        quantized = value.quantize(
            decimal.Decimal(1).scaleb(-scale), context=decimal.Context(prec=digits)
        )
        if quantized != value:
            raise self.wrong(text, f"a decimal with at most {scale} places")
        if len(quantized.as_tuple().digits) > precision:
            raise self.wrong(text, f"a decimal of at most {precision} digits")
        return quantized

    def python_source(self, value: Any) -> str:
        return f'Decimal("{value}")'

    def json_value(self, value: Any) -> Any:
        return str(value)

    def column_type(self) -> str:
        precision, scale = self.spec.decimal_shape
        return f"sa.Numeric(precision={precision}, scale={scale})"

    @property
    def dto_type(self) -> str:
        precision, scale = self.spec.decimal_shape
        return f"Annotated[Decimal, DecimalDigits({precision}, {scale})]"

    def table_bounds(self) -> list[str]:
        # The request DTOs bound the digits through DecimalDigits; the table model says them too.
        return [f"max_digits={self.spec.precision}", f"decimal_places={self.spec.scale}"]

    def invalid_sources(self) -> list[str]:
        # A JSON number (sent as a string only), too many places, an exponent, and digits of
        # other scripts (Arabic-Indic, fullwidth), which Python's Decimal would read.
        scale = self.spec.decimal_shape[1]
        return [
            *super().invalid_sources(),
            "1",
            quoted("0." + "1" * (scale + 1)),
            quoted("1e0"),
            '"\\u0661"',
            '"\\uff11"',
        ]

    def sample_source(self, n: str) -> str:
        if self.spec.scale == 0:
            return f"str({n})"
        return f'f"0.{{{n}:0{self.spec.scale}d}}"'

    def changed_source(self) -> str:
        precision, scale = self.spec.decimal_shape
        whole = "1" if precision > scale else "0"
        return quoted(whole + ("." + "9" * scale if scale else ""))

    def example(self, variant: int) -> Any:
        # As many of the usual digits as the precision and scale leave room for.
        precision, scale = self.spec.decimal_shape
        whole = ("19", "24")[variant][-(precision - scale) :] if precision > scale else "0"
        return whole + ("." + (("99", "50")[variant] + "0" * scale)[:scale] if scale else "")

    @property
    def readme_type(self) -> str:
        precision, scale = self.spec.decimal_shape
        return f"decimal({precision},{scale})"


class BoolType(FieldType):
    """``bool``: true or false."""

    name = "bool"
    python_name = "bool"
    dto_bound = "DbBool"
    query_bound = "QueryBool"
    column = "sa.Boolean()"
    filterable = True
    sample = "{n} % 2 == 0"
    changed = "False"
    examples = (True, False)

    def parse_default(self, text: str) -> Any:
        if text.lower() not in ("true", "false"):
            raise self.wrong(text, "a bool (true or false)")
        return text.lower() == "true"

    def changed_example(self) -> Any:
        return not self.spec.example_value()

    def invalid_sources(self) -> list[str]:
        # Strict: words and numbers that other parsers read as booleans.
        return [*super().invalid_sources(), quoted("yes"), quoted("true"), "1"]


class DateType(FieldType):
    """``date``: a calendar day, ``YYYY-MM-DD`` in the API."""

    name = "date"
    python_name = "date"
    python_import = "datetime.date"
    dto_bound = "DbDate"
    column = "sa.Date()"
    filterable = True
    sample = 'f"2024-01-{{{n} + 1:02d}}"'
    changed = quoted("2030-06-15")
    examples = ("2025-01-31", "2025-02-28")

    def parse_default(self, text: str) -> Any:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise self.wrong(text, "a date (YYYY-MM-DD)") from None

    def python_source(self, value: Any) -> str:
        return f"date({value.year}, {value.month}, {value.day})"

    def json_value(self, value: Any) -> Any:
        return value.isoformat()

    def invalid_sources(self) -> list[str]:
        # Strict: epoch numbers, and a datetime where a date belongs.
        return [*super().invalid_sources(), "0", quoted("0"), quoted("2024-01-31T00:00:00Z")]


class DateTimeType(FieldType):
    """``datetime``: a moment with a time zone, stored and returned in UTC."""

    name = "datetime"
    python_name = "datetime"
    python_import = "datetime.datetime"
    dto_bound = "DbDateTime"
    column = "sa.DateTime(timezone=True)"
    table_sa_type = "UTCDateTime"
    column_imports = ("shared.db.models.base_model.UTCDateTime",)
    sample = 'f"2024-01-{{{n} + 1:02d}}T12:00:00Z"'
    changed = quoted("2030-06-15T08:30:00Z")
    examples = ("2025-01-31T09:30:00Z", "2025-02-28T17:00:00Z")

    def parse_default(self, text: str) -> Any:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise self.wrong(text, "a datetime (YYYY-MM-DDTHH:MM:SS+00:00)") from None
        if moment.tzinfo is None:
            raise self.wrong(text, "a datetime with a time zone (add Z or +00:00)")
        return moment

    def python_source(self, value: Any) -> str:
        return f'datetime.fromisoformat("{value.isoformat()}")'

    def json_value(self, value: Any) -> Any:
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    def invalid_sources(self) -> list[str]:
        # A naive time, and one that leaves the calendar once converted to UTC.
        naive, beyond_utc = "2024-01-31T12:00:00", "9999-12-31T23:59:59-05:00"
        # Strict: epoch numbers, as a number and as text; RFC 3339 wants the seconds.
        epochs = ["0", quoted("0"), quoted("1700000000")]
        no_seconds = quoted("2024-01-31T12:00Z")
        return [
            *super().invalid_sources(),
            quoted(naive),
            quoted(beyond_utc),
            *epochs,
            no_seconds,
        ]


class UuidType(FieldType):
    """``uuid``: a UUID, as a string in the API."""

    name = "uuid"
    python_name = "UUID"
    python_import = "uuid.UUID"
    # Only the canonical hyphenated spelling: Python's UUID() also reads urn:uuid: and bare hex.
    dto_bound = "DbUuid"
    column = "sa.Uuid()"
    filterable = True
    sample = "str(UUID(int={n} + 1))"
    sample_imports = ("uuid.UUID",)
    changed = quoted(str(uuid.UUID(int=2**128 - 1)))
    examples = ("8c6a1c2e-3f4b-4d5e-9a6b-7c8d9e0f1a2b", "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b")

    def invalid_sources(self) -> list[str]:
        # Spellings Python's UUID() reads but the API does not: a URN, and bare hex digits.
        value = self.examples[0]
        return [
            *super().invalid_sources(),
            quoted(f"urn:uuid:{value}"),
            quoted(value.replace("-", "")),
        ]

    def parse_default(self, text: str) -> Any:
        try:
            return uuid.UUID(text)
        except ValueError:
            raise self.wrong(text, "a UUID") from None

    def python_source(self, value: Any) -> str:
        return f'UUID("{value}")'

    def json_value(self, value: Any) -> Any:
        return str(value)


class EnumType(FieldType):
    """``enum(a|b|...)``: one of fixed snake_case values, a generated ``StrEnum``."""

    name = "enum"
    column_imports = ("enum.StrEnum", "shared.db.models.base_model.enum_column")
    filterable = True

    @classmethod
    def parse_arguments(cls, name: str, args: str | None) -> dict[str, Any]:
        if args is None or not args.strip():
            raise FieldSpecError(f"field {name!r}: enum needs values, e.g. enum(draft|published)")
        choices = tuple(value.strip() for value in args.split("|"))
        for value in choices:
            if not ENUM_VALUE.match(value):
                raise FieldSpecError(
                    f"field {name!r}: enum value {value!r} must be snake_case "
                    "(lower-case letters, digits and underscores)"
                )
        if len(set(choices)) != len(choices):
            raise FieldSpecError(f"field {name!r}: enum values repeat: {args}")
        if len(choices) < 2:
            raise FieldSpecError(
                f"field {name!r}: enum needs at least two values (one value is a constant)"
            )
        return {"choices": choices}

    def parse_default(self, text: str) -> Any:
        if text not in self.spec.choices:
            raise self.wrong(text, f"one of {'|'.join(self.spec.choices)}")
        return text

    @property
    def python_type(self) -> str:
        return self.spec.enum_class

    def python_source(self, value: Any) -> str:
        return f"{self.spec.enum_class}.{upper_snake(value)}"

    def column_type(self) -> str:
        # The migration declares the enum's column type once, as a constant.
        return self.spec.enum_type_constant

    def sa_type(self) -> str | None:
        # The CHECK constraint is named after the column: ck_<table>_<column> fits PostgreSQL.
        return f"enum_column({self.spec.enum_class}, {quoted(self.spec.name)})"

    def sample_source(self, n: str) -> str:
        choices = ", ".join(quoted(choice) for choice in self.spec.choices)
        return f"[{choices}][{n} % {len(self.spec.choices)}]"

    def changed_source(self) -> str:
        return quoted(self.spec.choices[-1])

    def example(self, variant: int) -> Any:
        return self.spec.choices[variant]

    def changed_example(self) -> Any:
        # The choice after the example's, so a defaulted enum changes too.
        following = self.spec.choices.index(self.spec.example_value()) + 1
        return self.spec.choices[following % len(self.spec.choices)]

    @property
    def readme_type(self) -> str:
        # Pipes would end the README's table cell.
        return "enum(" + r"\|".join(self.spec.choices) + ")"


class JsonType(FieldType):
    """``json``: a JSON object, stored whole; no default, no index."""

    name = "json"
    python_name = "dict[str, Any]"
    python_import = "typing.Any"
    dto_bound = "JsonDocument"
    column = "JSON_DOCUMENT"
    table_sa_type = "JSON_DOCUMENT"
    column_imports = ("shared.db.models.base_model.JSON_DOCUMENT",)
    indexable = False
    takes_default = False
    sample = '{{"key": f"value {{{n}}}"}}'
    changed = '{"key": "changed"}'
    invalid_value_imports = ("json",)
    examples = ({"key": "value"}, {"key": "changed"})

    def invalid_sources(self) -> list[str]:
        # Not an object; an object nested deeper than the service stores (33 levels); and
        # numbers JSON does not have (Python's JSON encoder writes them as NaN and Infinity).
        return [
            quoted("not an object"),
            """json.loads('{"a": ' * 33 + "1" + "}" * 33)""",
            '{"a": float("nan")}',
            '{"a": [float("inf")]}',
        ]


class RefType(FieldType):
    """``ref(domain.feature[, on_delete=restrict|cascade])``: the id of another feature's row.

    A foreign key to the target's table; its list index serves the filter, the target's child
    collection and the integrity checks of the target's soft delete. The service checks that
    the target is live on every write (a 422 otherwise) and applies ``on_delete``.
    """

    name = "ref"
    python_name = "str"
    dto_bound = "EntityId"
    column = f"sa.String(length={ID_LENGTH})"
    filterable = True
    # Always indexed (its list index), and two rows may name the same target.
    indexable = False
    takes_default = False
    examples = ("8c6a1c2e-3f4b-4d5e-9a6b-7c8d9e0f1a2b", "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b")

    @classmethod
    def parse_arguments(cls, name: str, args: str | None) -> dict[str, Any]:
        usage = "ref(DOMAIN.FEATURE) or ref(DOMAIN.FEATURE, on_delete=restrict|cascade)"
        if args is None or not args.strip():
            raise FieldSpecError(f"field {name!r}: ref needs its target, e.g. {usage}")
        target, *options = (part.strip() for part in args.split(","))
        domain, dot, feature = target.partition(".")
        if not dot or identifier_problem(domain, "domain") or identifier_problem(feature, "name"):
            raise FieldSpecError(
                f"field {name!r}: ref target {target!r} is not DOMAIN.FEATURE (snake_case "
                f"names), e.g. {usage}"
            )
        on_delete = "restrict"
        for option in options:
            key, equals, value = (part.strip() for part in option.partition("="))
            if key != "on_delete" or not equals or value not in ON_DELETE:
                raise FieldSpecError(
                    f"field {name!r}: ref option {option!r} is not on_delete=restrict or "
                    "on_delete=cascade"
                )
            on_delete = value
        if len(options) > 1:
            raise FieldSpecError(f"field {name!r}: ref takes on_delete once, got ({args})")
        return {"target_domain": domain, "target": feature, "on_delete": on_delete}

    def bounds(self) -> list[str]:
        # The pattern fixes the length too; a page's cursor, which carries the filter, needs
        # it said (see cursor_max_length in dto_base).
        return [f"max_length={ID_LENGTH}"]

    def table_bounds(self) -> list[str]:
        return [*self.bounds(), f'foreign_key="{self.spec.target}.id"']

    def sample_source(self, n: str) -> str:
        # A required one names the first of its target's rows that the tests make (see
        # tests/factories.py), whatever ``n``; an optional one is left empty: the reference
        # tests set it.
        del n
        if self.spec.optional:
            return "None"
        return f"TARGET_IDS[{quoted(self.spec.target or '')}][0]"

    def changed_source(self) -> str:
        return f"TARGET_IDS[{quoted(self.spec.target or '')}][1]"

    def invalid_sources(self) -> list[str]:
        # Not an id; an id in another spelling; an id no row has (the service's own check).
        return [
            quoted("not an id"),
            "12345",
            quoted(self.examples[0].replace("-", "")),
            quoted("00000000-0000-4000-8000-000000000000"),
        ]

    def example(self, variant: int) -> Any:
        # The id of a row of the target, as a shell variable the README sets before it; the
        # second variant, another row's.
        return f"${('', 'OTHER_')[variant]}{self.spec.target_variable}"

    def changed_example(self) -> Any:
        return self.example(1)

    @property
    def readme_type(self) -> str:
        option = "" if self.spec.on_delete == "restrict" else ", on_delete=cascade"
        return f"ref({self.spec.target_domain}.{self.spec.target}{option})"


# The table: every type of the grammar, in the order the README and messages list them.
FIELD_TYPES: dict[str, type[FieldType]] = {
    kind.name: kind
    for kind in (
        StrType,
        TextType,
        IntType,
        FloatType,
        DecimalType,
        BoolType,
        DateType,
        DateTimeType,
        UuidType,
        EnumType,
        JsonType,
        RefType,
    )
}
TYPES = tuple(FIELD_TYPES)


# -- Fields ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One parsed field of a feature, with everything the templates derive from it."""

    name: str
    type: str
    owner: str = "entity"
    optional: bool = False
    unique: bool = False
    index: bool = False
    default: Any = NO_DEFAULT
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    choices: tuple[str, ...] = field(default_factory=tuple)
    # A ref's target feature, its domain, and what deleting a target does (see ON_DELETE).
    target: str | None = None
    target_domain: str | None = None
    on_delete: str | None = None
    # ``title<-name:str(120)``: the field was named ``name`` before the change that wrote this
    # list (see extensions/changes.py); the models and DTOs only ever use ``name``.
    renamed_from: str | None = field(default=None, compare=False)
    # The target's name as the spec writes it, when the target was renamed since: migrations
    # keep it (the table had that name then), the code uses ``target``, its name now.
    written_target: str | None = field(default=None, compare=False)

    @property
    def target_as_written(self) -> str | None:
        """The target's name as the spec writes it: what its migrations name the table."""
        return self.written_target or self.target

    def with_target_renamed(self, names_now: Mapping[str, str]) -> FieldSpec:
        """The spec naming its target by its name now (``names_now``: earlier name -> now)."""
        now = names_now.get(self.target or "")
        if now is None or now == self.target:
            return self
        return replace(self, target=now, written_target=self.target_as_written)

    @property
    def field_type(self) -> FieldType:
        """The field's entry of ``FIELD_TYPES``, bound to the field."""
        return FIELD_TYPES[self.type](self)

    # -- Python side ---------------------------------------------------------------------

    @property
    def is_reference(self) -> bool:
        """Whether the field holds the id of a row of another feature (or of its own)."""
        return self.target is not None

    @property
    def target_read_model(self) -> str:
        """The class its target's reads return, which ``?expand=`` embeds: ``CustomerRead``."""
        return f"{pascal(self.target or '')}Read"

    @property
    def target_dto_module(self) -> str:
        """The module of its target's DTOs: ``shared.models.sales_models.customer_dtos``."""
        return f"shared.models.{self.target_domain}_models.{self.target}_dtos"

    @property
    def target_variable(self) -> str:
        """The shell variable the README's examples keep a target's id in: ``CUSTOMER_ID``."""
        return f"{upper_snake(self.target or '')}_ID"

    @property
    def refers_to_own_feature(self) -> bool:
        """Whether the field is a reference to a row of its own feature (a parent)."""
        return self.target == self.owner

    @property
    def has_default(self) -> bool:
        """Whether the field may be omitted on create (it has a default or is optional)."""
        return self.default is not NO_DEFAULT or self.optional

    @property
    def decimal_shape(self) -> tuple[int, int]:
        """``(precision, scale)`` of a decimal field."""
        if self.precision is None or self.scale is None:
            msg = f"field {self.name!r} of type {self.type} has no precision and scale"
            raise FieldSpecError(msg)
        return self.precision, self.scale

    @property
    def enum_class(self) -> str:
        """Class name of the field's enum: ``PurchaseOrderStatus`` for ``status``."""
        return pascal(self.owner) + pascal(self.name)

    @property
    def python_type(self) -> str:
        """The Python type of a value of this field, without ``| None``."""
        return self.field_type.python_type

    @property
    def dto_type(self) -> str:
        """The type on request DTOs: bounded to what every supported database stores."""
        return self.field_type.dto_type

    @property
    def query_type(self) -> str:
        """The type of the list endpoint's filter on this field."""
        return self.field_type.query_type

    @property
    def dto_annotation(self) -> str:
        """The annotation on the create DTO."""
        return f"{self.dto_type} | None" if self.optional else self.dto_type

    @property
    def annotation(self) -> str:
        """The annotation on the table and on the create/read DTOs."""
        return f"{self.python_type} | None" if self.optional else self.python_type

    @property
    def read_annotation(self) -> str:
        """The annotation on the read DTO: a reference is an id, typed as ids are (a UUID)."""
        if not self.is_reference:
            return self.annotation
        return "UUID | None" if self.optional else "UUID"

    @property
    def filterable(self) -> bool:
        """Whether the list endpoint offers an equality filter on this field."""
        return FIELD_TYPES[self.type].filterable

    @property
    def indexed(self) -> bool:
        """Whether an index holds the field's values: its own, or its list's sort index."""
        return self.unique or self.index or self.filterable

    @property
    def default_source(self) -> str:
        """The default as Python source (``None`` for an optional field without one)."""
        if self.default is NO_DEFAULT:
            return "None"
        return self.python_source(self.default)

    def python_source(self, value: Any) -> str:
        """Render a parsed value of this field as Python source."""
        return "None" if value is None else self.field_type.python_source(value)

    @property
    def enum_type_constant(self) -> str:
        """Name of the migration's constant holding this enum field's column type."""
        return f"{upper_snake(self.owner)}_{upper_snake(self.name)}"

    def column_type_source(self) -> str:
        """The column type as a migration writes it (``sa.String(length=120)``)."""
        return self.field_type.column_type()

    def enum_type_args(self) -> list[str]:
        """Arguments of the migration's ``sa.Enum(...)`` for an enum field."""
        return [
            *(quoted(choice) for choice in self.choices),
            f"name={quoted(self.name)}",
            "native_enum=False",
            "create_constraint=True",
            f"length={max(len(choice) for choice in self.choices)}",
        ]

    def column_args(self) -> list[str]:
        """Arguments of ``sa.Column(...)`` in the feature's initial migration."""
        return [quoted(self.name), self.column_type_source(), f"nullable={self.optional}"]

    def table_field_args(self) -> list[str]:
        """Arguments of ``sqlmodel.Field(...)`` on the table model."""
        args = []
        if self.has_default:
            args.append(f"default={self.default_source}")
        args += self.field_type.table_bounds()
        if self.unique:
            args.append("unique=True")
        if self.index:
            args.append("index=True")
        if sa_type := self.field_type.sa_type():
            args.append(f"sa_type={sa_type}")
        return args

    def create_field_args(self) -> list[str]:
        """Arguments of ``pydantic.Field(...)`` on the create DTO."""
        args = [f"default={self.default_source}"] if self.has_default else []
        return args + self.field_type.bounds()

    def update_field_args(self) -> list[str]:
        """Arguments of ``pydantic.Field(...)`` on the update DTO (every field optional)."""
        return ["default=None", *self.field_type.bounds()]

    def query_field_args(self) -> list[str]:
        """Arguments of ``pydantic.Field(...)`` on the list filter, if it is bounded.

        A text filter is as long as the column at most: a longer value matches no row, and a
        page's cursor carries the filters, so their bounds bound it (``cursor_max_length``).
        """
        bounds = self.field_type.bounds()
        return ["default=None", *bounds] if bounds else []

    # -- Sample values for the generated tests (as Python source of JSON values) --------

    def sample_source(self, n: str = "n") -> str:
        """A valid JSON value that varies with the integer expression ``n`` (0 <= n < 10).

        Varying values let tests create many rows even when the field is unique; each value
        reads back unchanged, so tests can compare a response with what they sent.
        """
        return self.field_type.sample_source(n)

    def changed_source(self) -> str:
        """A valid JSON value that differs from :meth:`sample_source` with ``n == 0``."""
        return self.field_type.changed_source()

    def invalid_sources(self) -> list[str]:
        """JSON values the API must refuse with 422: a wrong type, a string that is too long."""
        return self.field_type.invalid_sources()

    def default_json_source(self) -> str:
        """The default as the API returns it (Python source of a JSON value)."""
        return source(self.default_json_value())

    def default_json_value(self) -> Any:
        """The default as the API returns it: a JSON value (``None`` when there is none)."""
        if self.default is NO_DEFAULT or self.default is None:
            return None
        return self.field_type.json_value(self.default)

    # -- Example values for the README (JSON values a reader can copy) ---------------------

    def example_value(self) -> Any:
        """A value a create request in the README sends: the default, or a plausible one."""
        if self.default_json_value() is not None:
            return self.default_json_value()
        return self.field_type.example(0)

    def changed_example_value(self) -> Any:
        """A value the README's PATCH sends: valid, and different from :meth:`example_value`."""
        return self.field_type.changed_example()


# -- Parsing ------------------------------------------------------------------------------


def split_top_level(spec: str) -> list[str]:
    """Split ``spec`` on commas that are not inside parentheses or quotes."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for char in spec:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def parse_fields(spec: object, owner: str = "entity") -> list[FieldSpec]:
    """Parse a whole field spec; ``owner`` is the feature name (it names enum classes).

    Raises:
        FieldSpecError: the spec breaks the grammar; the message names the field.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise FieldSpecError("the field spec is empty: give at least one NAME:TYPE")
    fields: list[FieldSpec] = []
    seen: set[str] = set()
    for position, text in enumerate(split_top_level(spec), start=1):
        if not text:
            raise FieldSpecError(f"field #{position} is empty (stray comma?)")
        parsed = parse_field(text, owner)
        if parsed.name in seen:
            raise FieldSpecError(f"field {parsed.name!r} is declared twice")
        seen.add(parsed.name)
        fields.append(parsed)
    return fields


def parse_field(text: str, owner: str = "entity") -> FieldSpec:
    """Parse one ``NAME[<-OLD_NAME]:TYPE[?][:MODIFIER...][=DEFAULT]`` item."""
    name, colon, rest = text.partition(":")
    name, arrow, renamed_from = (part.strip() for part in name.partition(RENAME_ARROW))
    if not colon:
        raise FieldSpecError(f"field {name!r}: expected NAME:TYPE, got {text!r}")
    if problem := identifier_problem(name, "field name"):
        raise FieldSpecError(problem)
    if arrow and (problem := identifier_problem(renamed_from, f"field {name!r}'s old name")):
        raise FieldSpecError(problem)
    if problem := reserved_name_problem(name):
        raise FieldSpecError(problem)
    if len(name) > MAX_FIELD_NAME_LENGTH:
        raise FieldSpecError(
            f"field {name!r}: names are limited to {MAX_FIELD_NAME_LENGTH} characters "
            "(database identifiers built from them must fit in 63)"
        )
    match = _FIELD.match(rest.strip())
    if not match:
        raise FieldSpecError(
            f"field {name!r}: can't read {rest.strip()!r}; "
            "expected TYPE[(ARGS)][?][:unique|:index][=DEFAULT]"
        )
    type_ = match["type"]
    if type_ not in FIELD_TYPES:
        raise FieldSpecError(
            f"field {name!r}: unknown type {type_!r} (known types: {', '.join(TYPES)})"
        )
    field_type = FIELD_TYPES[type_]
    modifiers = [m.strip() for m in match["modifiers"].split(":")[1:]]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise FieldSpecError(
                f"field {name!r}: unknown modifier {modifier!r} (known: {', '.join(MODIFIERS)})"
            )
    if modifiers and not field_type.indexable:
        raise FieldSpecError(f"field {name!r}: {type_} fields can't be unique or indexed")
    spec = FieldSpec(
        name=name,
        type=type_,
        owner=owner,
        renamed_from=renamed_from or None,
        optional=bool(match["optional"]),
        unique="unique" in modifiers,
        index="index" in modifiers and "unique" not in modifiers,
        **field_type.parse_arguments(name, match["args"]),
    )
    # A str over the bound is refused with its length already; this is a unique or indexed text.
    if spec.indexed and (spec.max_length or 0) > MAX_INDEXED_LENGTH:
        leave_out = f", or leave out :{modifiers[0]}" if modifiers else ""
        raise FieldSpecError(
            f"field {name!r}: a unique or indexed {type_} is limited to {MAX_INDEXED_LENGTH} "
            "characters, the most a database index holds at 4 bytes a character; write "
            f"{type_}({MAX_INDEXED_LENGTH}) or shorter{leave_out}"
        )
    if match["default"] is None:
        return spec
    return replace(spec, default=parse_default(spec, match["default"].strip()))


def reserved_name_problem(name: str) -> str:
    """Explain why the service can't have a field called ``name``, or return ``""``.

    A field is a column of its feature's table, an attribute of its table class and of its
    DTOs (SQLModel and pydantic models), and a query parameter of its list: its name must not
    be one those already have.
    """
    if name in RESERVED_NAMES:
        return f"field {name!r}: the name is reserved: it is {RESERVED_NAMES[name]}"
    for prefix in PYDANTIC_PROTECTED_PREFIXES:
        if name.startswith(prefix):
            return (
                f"field {name!r}: the name is reserved: pydantic keeps names that start with "
                f"{prefix} for its models' methods"
            )
    return ""


def _positive_int(name: str, what: str, text: str) -> int:
    text = text.strip()
    if not DIGITS.match(text) or int(text) < 1:
        raise FieldSpecError(
            f"field {name!r}: {what} must be a positive whole number, got {text!r}"
        )
    return int(text)


def parse_default(spec: FieldSpec, text: str) -> Any:
    """Parse the text after ``=`` as a value of the field's type."""
    if text in ("null", "None"):
        if not spec.optional:
            raise FieldSpecError(
                f"field {spec.name!r}: default {text} needs an optional field "
                "(add '?' after the type)"
            )
        return None
    if not FIELD_TYPES[spec.type].takes_default:
        raise FieldSpecError(f"field {spec.name!r}: {spec.type} fields can't have a default")
    return spec.field_type.parse_default(text)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def fields_problem(spec: object, owner: str = "entity") -> str:
    """Explain what is wrong with a field spec, or return ``""`` (for Copier validators)."""
    try:
        parse_fields(spec, owner)
    except FieldSpecError as error:
        return str(error)
    return ""


# -- Python names the field types need -------------------------------------------------------


def _imports(
    fields: Iterable[FieldSpec], entries: Callable[[type[FieldType]], Iterable[str]]
) -> list[str]:
    """The entries the types of ``fields`` need, each once, sorted."""
    return sorted({entry for spec in fields for entry in entries(FIELD_TYPES[spec.type])})


def type_imports(fields: Iterable[FieldSpec]) -> list[str]:
    """The ``"module.name"`` entries the fields' Python types need (``"decimal.Decimal"``)."""
    return _imports(fields, lambda kind: [kind.python_import] if kind.python_import else [])


def dto_imports(fields: Iterable[FieldSpec]) -> list[str]:
    """The ``"module.name"`` entries of the bounded request and filter types the DTOs use."""
    return _imports(
        fields,
        lambda kind: [
            f"shared.models.input_types.{bound}"
            for bound in (kind.dto_bound, kind.query_bound if kind.filterable else None)
            if bound
        ],
    )


def column_imports(fields: Iterable[FieldSpec]) -> list[str]:
    """The ``"module.name"`` entries the table model needs for the fields' column types."""
    types = sorted({spec.type for spec in fields})
    return [entry for type_ in types for entry in FIELD_TYPES[type_].column_imports]


def sample_imports(fields: Iterable[FieldSpec]) -> list[str]:
    """The ``"module.name"`` entries the generated tests' sample values need."""
    return _imports(fields, lambda kind: kind.sample_imports)


def invalid_value_imports(fields: Iterable[FieldSpec]) -> list[str]:
    """The modules the generated tests' invalid values need (``json`` builds deep documents)."""
    return _imports(fields, lambda kind: kind.invalid_value_imports)


def readme_row(spec: FieldSpec) -> str:
    """The field as a row of the generated README's table of fields (Markdown).

    Columns: name, type as written in the spec, nullable, required on create, index
    modifiers, default. Pipes inside an enum's choices are escaped: they would end the cell.
    """
    modifiers = ", ".join(
        name for name, on in (("unique", spec.unique), ("index", spec.index)) if on
    )
    if spec.default is NO_DEFAULT:
        default = ""
    elif spec.default is None or isinstance(spec.default, bool):
        default = f"`{json.dumps(spec.default)}`"
    else:
        default = f"`{spec.default}`"
    cells = [
        f"`{spec.name}`",
        f"`{spec.field_type.readme_type}`",
        "yes" if spec.optional else "no",
        "no" if spec.has_default else "yes",
        modifiers,
        default,
    ]
    return "| " + " | ".join(cells) + " |"
