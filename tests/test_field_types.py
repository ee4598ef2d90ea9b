"""Unit tests of ``extensions.fields.FIELD_TYPES``: one complete entry per field type."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from typing import Any

import pytest

from extensions import fields
from extensions.features import Feature
from extensions.fields import (
    FIELD_TYPES,
    TYPES,
    FieldSpec,
    FieldType,
    column_imports,
    dto_imports,
    invalid_value_imports,
    parse_field,
    parse_fields,
    readme_row,
    sample_imports,
    type_imports,
)
from tests.answer_sets import ANSWER_SETS
from tests.test_field_outputs import features

# A field of every type, as small as the type allows. A new type needs one here.
FIELD_OF_TYPE = {
    "str": "label:str",
    "text": "notes:text",
    "int": "quantity:int",
    "float": "weight:float",
    "decimal": "price:decimal",
    "bool": "active:bool",
    "date": "due_on:date",
    "datetime": "logged_at:datetime",
    "uuid": "ref:uuid",
    "enum": "status:enum(draft|done)",
    "json": "details:json",
    "ref": "customer:ref(sales.customer)",
}
DOTTED = re.compile(r"^[a-z_]+(\.[A-Za-z_]+)+$")


def test_types_are_the_keys_of_the_table_in_the_documented_order() -> None:
    assert tuple(FIELD_TYPES) == TYPES
    assert TYPES == (
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
        "ref",
    )
    assert all(kind.name == name for name, kind in FIELD_TYPES.items())


def test_every_type_has_a_field_here() -> None:
    assert set(FIELD_OF_TYPE) == set(TYPES)


def specs_of(type_name: str) -> list[FieldSpec]:
    """The type's field: required, optional, and with a default where the type takes one."""
    text = FIELD_OF_TYPE[type_name]
    specs = [parse_field(text, "purchase_order"), parse_field(f"{text}?", "purchase_order")]
    if FIELD_TYPES[type_name].takes_default:
        example = specs[0].example_value()
        written = json.dumps(example) if isinstance(example, bool) else str(example)
        specs.append(parse_field(f"{text}={written}", "purchase_order"))
    return specs


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_has_a_complete_entry(type_name: str) -> None:
    kind = FIELD_TYPES[type_name]
    assert issubclass(kind, FieldType)
    assert isinstance(kind.filterable, bool)
    assert isinstance(kind.indexable, bool)
    assert isinstance(kind.takes_default, bool)
    assert kind.python_import is None or DOTTED.match(kind.python_import)
    imports = [*kind.column_imports, *kind.sample_imports, *kind.invalid_value_imports]
    assert all(DOTTED.match(entry) or entry.isidentifier() for entry in imports)


@pytest.mark.parametrize("type_name", TYPES)
def test_the_public_methods_give_a_value_for_every_type(type_name: str) -> None:
    for spec in specs_of(type_name):
        words = [spec.python_type, spec.dto_type, spec.column_type_source(), spec.default_source]
        assert all(isinstance(word, str) and word for word in words), words
        assert spec.annotation.startswith(spec.python_type)
        assert spec.dto_annotation.startswith(spec.dto_type)
        assert isinstance(spec.filterable, bool)
        assert spec.column_args()[1] == spec.column_type_source()
        for args in (spec.table_field_args(), spec.create_field_args(), spec.update_field_args()):
            assert all(isinstance(arg, str) and "=" in arg for arg in args), args
        # Generated tests place these as Python expressions.
        for expression in [
            spec.sample_source(),
            spec.changed_source(),
            spec.default_json_source(),
            *spec.invalid_sources(),
        ]:
            ast.parse(expression, mode="eval")
        assert spec.invalid_sources()
        assert ast.literal_eval(spec.default_json_source()) == spec.default_json_value()
        # The README sends these in JSON bodies.
        example, changed = spec.example_value(), spec.changed_example_value()
        assert example is not None
        assert changed not in (None, example)
        json.dumps([example, changed])
        assert readme_row(spec).startswith(f"| `{spec.name}` | `{type_name}")


@pytest.mark.parametrize("type_name", TYPES)
def test_the_type_of_a_field_is_its_entry(type_name: str) -> None:
    spec = parse_field(FIELD_OF_TYPE[type_name])
    assert type(spec.field_type) is FIELD_TYPES[type_name]
    assert spec.field_type.spec is spec
    assert spec.filterable is FIELD_TYPES[type_name].filterable


# -- The imports the field types need ---------------------------------------------------------

EVERY_TYPE = ", ".join(FIELD_OF_TYPE.values())


def all_features() -> list[Feature]:
    """Every feature of the answer sets, and one with every type."""
    items = [item for answers in ANSWER_SETS.values() for item in features(answers)]
    items.append({"domain": "misc", "name": "everything", "fields": EVERY_TYPE})
    return [Feature(item["domain"], item["name"], item["fields"]) for item in items]


@pytest.mark.parametrize("feature", all_features(), ids=lambda feature: feature.name)
def test_import_lists_agree_with_the_features(feature: Feature) -> None:
    # Feature derives the same lists; these read them from the table of types.
    assert type_imports(feature.fields) == feature.type_imports
    assert column_imports(feature.fields) == feature.column_imports
    assert sample_imports(feature.fields) == feature.sample_imports
    assert invalid_value_imports(feature.fields) == feature.invalid_value_imports
    assert dto_imports(feature.fields) == feature.dto_imports


def test_import_lists_of_every_type() -> None:
    every = parse_fields(EVERY_TYPE)
    assert column_imports(every) == [
        "shared.db.models.base_model.UTCDateTime",
        "enum.StrEnum",
        "shared.db.models.base_model.enum_column",
        "shared.db.models.base_model.JSON_DOCUMENT",
        "sqlalchemy.Text",
    ]
    assert sample_imports(every) == ["uuid.UUID"]
    assert invalid_value_imports(every) == ["json"]
    assert dto_imports(every) == [
        f"shared.models.input_types.{name}"
        for name in (
            "DbBool",
            "DbDate",
            "DbDateTime",
            "DbFloat",
            "DbInt",
            "DbStr",
            "DbUuid",
            "DecimalDigits",
            "EntityId",
            "JsonDocument",
            "QueryBool",
            "QueryInt",
        )
    ]
    plain = parse_fields("a:int, b:bool")
    assert column_imports(plain) == sample_imports(plain) == invalid_value_imports(plain) == []


# -- A new type is one new entry ----------------------------------------------------------


class TimeType(FieldType):
    """A time of day, as a type the grammar might add: only this class and its tests."""

    name = "time"
    python_name = "time"
    python_import = "datetime.time"
    column = "sa.Time()"
    filterable = True
    sample = 'f"08:{{{n}:02d}}:00"'
    changed = '"23:59:00"'
    examples = ("09:30:00", "17:00:00")

    def parse_default(self, text: str) -> Any:
        try:
            return dt.time.fromisoformat(text)
        except ValueError:
            raise self.wrong(text, "a time (HH:MM:SS)") from None

    def python_source(self, value: Any) -> str:
        return f"time({value.hour}, {value.minute})"

    def json_value(self, value: Any) -> Any:
        return value.isoformat()


def test_a_new_type_needs_only_its_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fields.FIELD_TYPES, "time", TimeType)
    spec = parse_field("opens_at:time?:index=09:00:00", "shop")
    assert type_imports([spec]) == ["datetime.time"]
    assert (spec.python_type, spec.annotation, spec.dto_annotation) == (
        "time",
        "time | None",
        "time | None",
    )
    assert spec.filterable
    assert spec.column_args() == ['"opens_at"', "sa.Time()", "nullable=True"]
    assert spec.table_field_args() == ["default=time(9, 0)", "index=True"]
    assert spec.create_field_args() == ["default=time(9, 0)"]
    assert spec.update_field_args() == ["default=None"]
    assert spec.sample_source("i") == 'f"08:{i:02d}:00"'
    assert spec.changed_source() == '"23:59:00"'
    assert spec.invalid_sources() == ['"not a time"']
    assert spec.default_json_source() == '"09:00:00"'
    assert (spec.example_value(), spec.changed_example_value()) == ("09:00:00", "17:00:00")
    assert readme_row(spec) == "| `opens_at` | `time` | yes | no | index | `09:00:00` |"
    assert fields.fields_problem("opens_at:time=noon") == (
        "field 'opens_at': default 'noon' is not a time (HH:MM:SS)"
    )
    assert fields.fields_problem("opens_at:time(3)") == (
        "field 'opens_at': type 'time' takes no arguments, got (3)"
    )
