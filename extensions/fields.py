"""The field-spec grammar: parse ``"name:str(120), price:decimal(10,2)"`` into field specs.

Grammar (see the README)::

    fields   := field ("," field)*
    field    := NAME ":" TYPE ["?"] (":" MODIFIER)* ["=" DEFAULT]
    TYPE     := str["(" maxlen ")"] | text["(" maxlen ")"] | int | float
              | decimal["(" precision "," scale ")"] | bool | date | datetime | uuid
              | enum "(" value ("|" value)* ")" | json
    MODIFIER := unique | index

Everything a template needs to know about a field (its Python annotation, its column, its
DTO constraints, sample values for the generated tests) is derived here, so templates only
place strings.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .naming import identifier_problem, pascal, upper_snake, with_article

TYPES = (
    "str",
    "text",
    "int",
    "float",
    "decimal",
    "bool",
    "date",
    "datetime",
    "uuid",
    "enum",
    "json",
)
MODIFIERS = ("unique", "index")

# Columns every feature table already has (see BaseDBModelMixin in the generated service).
RESERVED_COLUMNS = frozenset({"id", "version", "created_at", "updated_at", "deleted_at"})
# Names the generated code uses next to the fields (list-query parameters, DTO helpers).
RESERVED_NAMES = RESERVED_COLUMNS | {"limit", "offset", "include_deleted", "model_config"}

DEFAULT_STR_LENGTH = 255
MAX_STR_LENGTH = 10_000
# Text is unbounded in the database but not in the API: every change is kept three times in
# its audit row (snapshot, old and new value), so a default bound keeps rows and trails sane.
DEFAULT_TEXT_LENGTH = 65_535
MAX_TEXT_LENGTH = 1_000_000
# Types with a length argument: its default, its maximum, and advice beyond the maximum.
LENGTHS = {
    "str": (DEFAULT_STR_LENGTH, MAX_STR_LENGTH, "; use text"),
    "text": (DEFAULT_TEXT_LENGTH, MAX_TEXT_LENGTH, ""),
}
DEFAULT_DECIMAL = (12, 2)
MAX_DECIMAL_PRECISION = 38
# PostgreSQL truncates identifiers at 63 bytes; "ix_<feature>_audit_<field>" must fit.
MAX_FIELD_NAME_LENGTH = 30

# Types a list endpoint can filter on by equality.
FILTERABLE_TYPES = frozenset({"str", "int", "bool", "date", "uuid", "enum"})

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


class FieldSpecError(ValueError):
    """A field spec that does not follow the grammar; the message names the offending field."""


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


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

    # -- Python side ---------------------------------------------------------------------

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
        return {
            "str": "str",
            "text": "str",
            "int": "int",
            "float": "float",
            "decimal": "Decimal",
            "bool": "bool",
            "date": "date",
            "datetime": "datetime",
            "uuid": "UUID",
            "enum": self.enum_class,
            "json": "dict[str, Any]",
        }[self.type]

    @property
    def dto_type(self) -> str:
        """The type on request DTOs: bounded to what every supported database stores."""
        return {
            "str": "DbStr",
            "text": "DbStr",
            "int": "DbInt",
            "float": "DbFloat",
            "datetime": "DbDateTime",
            "json": "JsonDocument",
        }.get(self.type, self.python_type)

    @property
    def dto_annotation(self) -> str:
        """The annotation on the create DTO."""
        return f"{self.dto_type} | None" if self.optional else self.dto_type

    @property
    def annotation(self) -> str:
        """The annotation on the table and on the create/read DTOs."""
        return f"{self.python_type} | None" if self.optional else self.python_type

    @property
    def filterable(self) -> bool:
        """Whether the list endpoint offers an equality filter on this field."""
        return self.type in FILTERABLE_TYPES

    @property
    def default_source(self) -> str:
        """The default as Python source (``None`` for an optional field without one)."""
        if self.default is NO_DEFAULT:
            return "None"
        return self.python_source(self.default)

    def python_source(self, value: Any) -> str:
        """Render a parsed value of this field as Python source."""
        if value is None:
            return "None"
        if self.type == "enum":
            return f"{self.enum_class}.{upper_snake(value)}"
        if self.type == "decimal":
            return f'Decimal("{value}")'
        if self.type == "date":
            return f"date({value.year}, {value.month}, {value.day})"
        if self.type == "datetime":
            return f'datetime.fromisoformat("{value.isoformat()}")'
        if self.type == "uuid":
            return f'UUID("{value}")'
        return source(value)

    @property
    def enum_type_constant(self) -> str:
        """Name of the migration's constant holding this enum field's column type."""
        return f"{upper_snake(self.owner)}_{upper_snake(self.name)}"

    def column_type_source(self) -> str:
        """The column type as a migration writes it (``sa.String(length=120)``)."""
        if self.type == "str":
            return f"sa.String(length={self.max_length})"
        if self.type == "decimal":
            precision, scale = self.decimal_shape
            return f"sa.Numeric(precision={precision}, scale={scale})"
        if self.type == "enum":
            return self.enum_type_constant
        return {
            "text": "sa.Text()",
            "int": "sa.Integer()",
            "float": "sa.Float()",
            "bool": "sa.Boolean()",
            "date": "sa.Date()",
            "datetime": "sa.DateTime(timezone=True)",
            "uuid": "sa.Uuid()",
            "json": "JSON_DOCUMENT",
        }[self.type]

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

    def _constraints(self) -> list[str]:
        args = []
        if self.type in ("str", "text"):
            args.append(f"max_length={self.max_length}")
        if self.type == "decimal":
            args += [f"max_digits={self.precision}", f"decimal_places={self.scale}"]
        return args

    def table_field_args(self) -> list[str]:
        """Arguments of ``sqlmodel.Field(...)`` on the table model."""
        args = []
        if self.has_default:
            args.append(f"default={self.default_source}")
        # The TEXT column itself is unbounded: the request DTOs enforce a text field's maximum.
        args += [] if self.type == "text" else self._constraints()
        if self.unique:
            args.append("unique=True")
        if self.index:
            args.append("index=True")
        sa_type = {
            "text": "Text",
            "json": "JSON_DOCUMENT",
            "datetime": "UTCDateTime",
            "enum": f"enum_column({self.enum_class}, {quoted(self.name)})",
        }.get(self.type)
        if sa_type:
            args.append(f"sa_type={sa_type}")
        return args

    def create_field_args(self) -> list[str]:
        """Arguments of ``pydantic.Field(...)`` on the create DTO."""
        args = [f"default={self.default_source}"] if self.has_default else []
        return args + self._constraints()

    def update_field_args(self) -> list[str]:
        """Arguments of ``pydantic.Field(...)`` on the update DTO (every field optional)."""
        return ["default=None", *self._constraints()]

    # -- Sample values for the generated tests (as Python source of JSON values) --------

    def sample_source(self, n: str = "n") -> str:
        """A valid JSON value that varies with the integer expression ``n`` (0 <= n < 10).

        Varying values let tests create many rows even when the field is unique; each value
        reads back unchanged, so tests can compare a response with what they sent.
        """
        if self.type == "str":
            max_length = self.max_length or DEFAULT_STR_LENGTH
            if max_length >= len(self.name) + 3:
                return f'f"{self.name} {{{n}}}"'
            return f"str({n})"
        if self.type == "text":
            return f'f"{self.name.replace("_", " ")} {{{n}}}"'
        if self.type == "int":
            return f"{n} + 1"
        if self.type == "float":
            return f"{n} + 0.5"
        if self.type == "decimal":
            if self.scale == 0:
                return f"str({n})"
            return f'f"0.{{{n}:0{self.scale}d}}"'
        if self.type == "date":
            return f'f"2024-01-{{{n} + 1:02d}}"'
        if self.type == "datetime":
            return f'f"2024-01-{{{n} + 1:02d}}T12:00:00Z"'
        if self.type == "uuid":
            return f"str(UUID(int={n} + 1))"
        if self.type == "bool":
            return f"{n} % 2 == 0"
        if self.type == "enum":
            choices = ", ".join(f'"{choice}"' for choice in self.choices)
            return f"[{choices}][{n} % {len(self.choices)}]"
        return f'{{"key": f"value {{{n}}}"}}'

    def changed_source(self) -> str:
        """A valid JSON value that differs from :meth:`sample_source` with ``n == 0``."""
        if self.type == "str":
            max_length = self.max_length or DEFAULT_STR_LENGTH
            return quoted("changed"[:max_length] if max_length >= 3 else "x")
        if self.type == "text":
            return quoted("changed text")
        if self.type == "int":
            return "1000"
        if self.type == "float":
            return "99.25"
        if self.type == "decimal":
            precision, scale = self.decimal_shape
            whole = "1" if precision > scale else "0"
            return quoted(whole + ("." + "9" * scale if scale else ""))
        if self.type == "date":
            return quoted("2030-06-15")
        if self.type == "datetime":
            return quoted("2030-06-15T08:30:00Z")
        if self.type == "uuid":
            return quoted(str(uuid.UUID(int=2**128 - 1)))
        if self.type == "bool":
            return "False"
        if self.type == "enum":
            return quoted(self.choices[-1])
        return '{"key": "changed"}'

    def invalid_sources(self) -> list[str]:
        """JSON values the API must refuse with 422: a wrong type, a string that is too long."""
        if self.type in ("str", "text"):
            invalid = ["12345"]
            if self.max_length is not None:
                invalid.append(f'"x" * {self.max_length + 1}')
            return invalid
        if self.type == "json":
            # Not an object; and an object nested deeper than the service stores (33 levels).
            return [quoted("not an object"), """json.loads('{"a": ' * 33 + "1" + "}" * 33)"""]
        if self.type == "datetime":
            # A naive time, and one that leaves the calendar once converted to UTC.
            naive, beyond_utc = "2024-01-31T12:00:00", "9999-12-31T23:59:59-05:00"
            return [quoted(f"not {with_article(self.type)}"), quoted(naive), quoted(beyond_utc)]
        return [quoted(f"not {with_article(self.type)}")]

    def default_json_source(self) -> str:
        """The default as the API returns it (Python source of a JSON value)."""
        return source(self.default_json_value())

    def default_json_value(self) -> Any:
        """The default as the API returns it: a JSON value (``None`` when there is none)."""
        value = None if self.default is NO_DEFAULT else self.default
        if value is None or self.type in ("str", "text", "int", "float", "bool", "enum"):
            return value
        if self.type == "datetime":
            return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return value.isoformat() if self.type == "date" else str(value)

    # -- Example values for the README (JSON values a reader can copy) ---------------------

    def example_value(self) -> Any:
        """A value a create request in the README sends: the default, or a plausible one."""
        if self.default_json_value() is not None:
            return self.default_json_value()
        return self._example("Example", variant=0)

    def changed_example_value(self) -> Any:
        """A value the README's PATCH sends: valid, and different from :meth:`example_value`."""
        if self.type == "bool":
            return not self.example_value()
        if self.type == "enum":
            # The choice after the example's, so a defaulted enum changes too.
            following = self.choices.index(self.example_value()) + 1
            return self.choices[following % len(self.choices)]
        changed = self._example("Changed", variant=1)
        if changed == self.example_value():  # a default that happens to be the changed value
            return self._example("Example", variant=0)
        return changed

    def _example(self, label: str, variant: int) -> Any:
        """A readable value of the field's type; ``variant`` 0 and 1 differ for every type."""
        words = self.name.replace("_", " ")
        if self.type in ("str", "text"):
            text = f"{label} {words}"
            return text[: self.max_length] if self.max_length is not None else text
        if self.type == "decimal":
            precision, scale = self.decimal_shape
            whole = ("19", "24")[variant][-(precision - scale) :] if precision > scale else "0"
            return whole + ("." + (("99", "50")[variant] + "0" * scale)[:scale] if scale else "")
        return {
            "int": (42, 43),
            "float": (2.5, 3.75),
            "bool": (True, False),
            "date": ("2025-01-31", "2025-02-28"),
            "datetime": ("2025-01-31T09:30:00Z", "2025-02-28T17:00:00Z"),
            "uuid": (
                "8c6a1c2e-3f4b-4d5e-9a6b-7c8d9e0f1a2b",
                "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
            ),
            "enum": self.choices[:2],
            "json": ({"key": "value"}, {"key": "changed"}),
        }[self.type][variant]


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
    """Parse one ``NAME:TYPE[?][:MODIFIER...][=DEFAULT]`` item."""
    name, colon, rest = text.partition(":")
    name = name.strip()
    if not colon:
        raise FieldSpecError(f"field {name!r}: expected NAME:TYPE, got {text!r}")
    if problem := identifier_problem(name, "field name"):
        raise FieldSpecError(problem)
    if name in RESERVED_NAMES:
        raise FieldSpecError(
            f"field {name!r}: the name is reserved (every feature already has "
            f"{', '.join(sorted(RESERVED_COLUMNS))}; list queries use limit, offset, "
            "include_deleted)"
        )
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
    if type_ not in TYPES:
        raise FieldSpecError(
            f"field {name!r}: unknown type {type_!r} (known types: {', '.join(TYPES)})"
        )
    modifiers = [m.strip() for m in match["modifiers"].split(":")[1:]]
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            raise FieldSpecError(
                f"field {name!r}: unknown modifier {modifier!r} (known: {', '.join(MODIFIERS)})"
            )
    if type_ == "json" and modifiers:
        raise FieldSpecError(f"field {name!r}: json fields can't be unique or indexed")
    spec = FieldSpec(
        name=name,
        type=type_,
        owner=owner,
        optional=bool(match["optional"]),
        unique="unique" in modifiers,
        index="index" in modifiers and "unique" not in modifiers,
        **_type_arguments(name, type_, match["args"]),
    )
    if match["default"] is None:
        return spec
    default = parse_default(spec, match["default"].strip())
    return FieldSpec(**{**spec.__dict__, "default": default})


def _type_arguments(name: str, type_: str, args: str | None) -> dict[str, Any]:
    """Read the parenthesised arguments of a type."""
    if type_ in LENGTHS:
        default, maximum, advice = LENGTHS[type_]
        if args is None:
            return {"max_length": default}
        max_length = _positive_int(name, f"{type_} length", args)
        if max_length > maximum:
            raise FieldSpecError(
                f"field {name!r}: {type_} length {max_length} is over {maximum}{advice}"
            )
        return {"max_length": max_length}
    if type_ == "decimal":
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
    if type_ == "enum":
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
    if args is not None:
        raise FieldSpecError(f"field {name!r}: type {type_!r} takes no arguments, got ({args})")
    return {}


def _positive_int(name: str, what: str, text: str) -> int:
    text = text.strip()
    if not DIGITS.match(text) or int(text) < 1:
        raise FieldSpecError(
            f"field {name!r}: {what} must be a positive whole number, got {text!r}"
        )
    return int(text)


def parse_default(spec: FieldSpec, text: str) -> Any:
    """Parse the text after ``=`` as a value of the field's type."""
    name, type_ = spec.name, spec.type

    def wrong(expected: str) -> FieldSpecError:
        return FieldSpecError(f"field {name!r}: default {text!r} is not {expected}")

    if text in ("null", "None"):
        if not spec.optional:
            raise FieldSpecError(
                f"field {name!r}: default {text} needs an optional field (add '?' after the type)"
            )
        return None
    if type_ in ("str", "text"):
        value = _unquote(text)
        if any(char in value for char in "\"'\\") or not value.isprintable():
            raise FieldSpecError(
                f"field {name!r}: default {text!r} may not contain quotes, backslashes or "
                "control characters"
            )
        if spec.max_length is not None and len(value) > spec.max_length:
            raise FieldSpecError(
                f"field {name!r}: default {value!r} is longer than {spec.max_length} characters"
            )
        return value
    if type_ == "int":
        try:
            return int(text)
        except ValueError:
            raise wrong("an int") from None
    if type_ == "float":
        try:
            number = float(text)
        except ValueError:
            raise wrong("a float") from None
        if not math.isfinite(number):
            raise wrong("a finite float")
        return number
    if type_ == "decimal":
        return _parse_decimal(spec, text, wrong)
    if type_ == "bool":
        if text.lower() not in ("true", "false"):
            raise wrong("a bool (true or false)")
        return text.lower() == "true"
    if type_ == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise wrong("a date (YYYY-MM-DD)") from None
    if type_ == "datetime":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise wrong("a datetime (YYYY-MM-DDTHH:MM:SS+00:00)") from None
        if moment.tzinfo is None:
            raise wrong("a datetime with a time zone (add Z or +00:00)")
        return moment
    if type_ == "uuid":
        try:
            return uuid.UUID(text)
        except ValueError:
            raise wrong("a UUID") from None
    if type_ == "enum":
        if text not in spec.choices:
            raise wrong(f"one of {'|'.join(spec.choices)}")
        return text
    raise FieldSpecError(f"field {name!r}: json fields can't have a default")


def _parse_decimal(spec: FieldSpec, text: str, wrong: Any) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise wrong("a decimal") from None
    if not value.is_finite():
        raise wrong("a finite decimal")
    precision, scale = spec.decimal_shape
    # Room for any digits the value has, so that quantizing never overflows the context.
    context = decimal.Context(prec=len(value.as_tuple().digits) + scale + MAX_DECIMAL_PRECISION)
    quantized = value.quantize(decimal.Decimal(1).scaleb(-scale), context=context)
    if quantized != value:
        raise wrong(f"a decimal with at most {scale} places")
    if len(quantized.as_tuple().digits) > precision:
        raise wrong(f"a decimal of at most {precision} digits")
    return quantized


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

_TYPE_IMPORTS = {
    "decimal": "decimal.Decimal",
    "date": "datetime.date",
    "datetime": "datetime.datetime",
    "uuid": "uuid.UUID",
    "json": "typing.Any",
}


def type_imports(fields: Iterable[FieldSpec]) -> list[str]:
    """The ``"module.name"`` entries the fields' Python types need (``"decimal.Decimal"``)."""
    return sorted({_TYPE_IMPORTS[spec.type] for spec in fields if spec.type in _TYPE_IMPORTS})


def readme_row(spec: FieldSpec) -> str:
    """The field as a row of the generated README's table of fields (Markdown).

    Columns: name, type as written in the spec, nullable, required on create, index
    modifiers, default. Pipes inside an enum's choices are escaped: they would end the cell.
    """
    if spec.type == "str":
        written = f"str({spec.max_length})"
    elif spec.type == "decimal":
        precision, scale = spec.decimal_shape
        written = f"decimal({precision},{scale})"
    elif spec.type == "enum":
        written = "enum(" + r"\|".join(spec.choices) + ")"
    else:
        written = spec.type
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
        f"`{written}`",
        "yes" if spec.optional else "no",
        "no" if spec.has_default else "yes",
        modifiers,
        default,
    ]
    return "| " + " | ".join(cells) + " |"
