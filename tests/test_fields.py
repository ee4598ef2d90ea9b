"""Unit tests of ``extensions.fields``: the field-spec grammar and what is derived from a field."""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import json
import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

from extensions.fields import (
    DEFAULT_STR_LENGTH,
    DEFAULT_TEXT_LENGTH,
    MAX_INDEXED_LENGTH,
    MAX_TEXT_LENGTH,
    NO_DEFAULT,
    FieldSpec,
    FieldSpecError,
    fields_problem,
    parse_field,
    parse_fields,
    readme_row,
    reserved_name_problem,
    split_top_level,
    type_imports,
)

# -- Parsing types, modifiers and optional ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title:str", FieldSpec("title", "str", max_length=DEFAULT_STR_LENGTH)),
        ("title:str(120)", FieldSpec("title", "str", max_length=120)),
        ("title:str(1)", FieldSpec("title", "str", max_length=1)),
        ("title:str(660)", FieldSpec("title", "str", max_length=MAX_INDEXED_LENGTH)),
        ("body:text", FieldSpec("body", "text", max_length=DEFAULT_TEXT_LENGTH)),
        ("body:text(2000)", FieldSpec("body", "text", max_length=2000)),
        ("body:text(1000000)", FieldSpec("body", "text", max_length=MAX_TEXT_LENGTH)),
        ("quantity:int", FieldSpec("quantity", "int")),
        ("weight:float", FieldSpec("weight", "float")),
        ("price:decimal", FieldSpec("price", "decimal", precision=12, scale=2)),
        ("price:decimal(10,2)", FieldSpec("price", "decimal", precision=10, scale=2)),
        ("price:decimal( 10 , 2 )", FieldSpec("price", "decimal", precision=10, scale=2)),
        ("count:decimal(5,0)", FieldSpec("count", "decimal", precision=5, scale=0)),
        ("share:decimal(38,38)", FieldSpec("share", "decimal", precision=38, scale=38)),
        ("active:bool", FieldSpec("active", "bool")),
        ("due_on:date", FieldSpec("due_on", "date")),
        ("shipped_at:datetime", FieldSpec("shipped_at", "datetime")),
        ("external_id:uuid", FieldSpec("external_id", "uuid")),
        (
            "status:enum(draft|published|archived)",
            FieldSpec("status", "enum", choices=("draft", "published", "archived")),
        ),
        ("status:enum( draft | done )", FieldSpec("status", "enum", choices=("draft", "done"))),
        ("kind:enum(a1|b_2)", FieldSpec("kind", "enum", choices=("a1", "b_2"))),
        ("payload:json", FieldSpec("payload", "json")),
        ("  padded  :  int  ", FieldSpec("padded", "int")),
    ],
)
def test_every_type_parses(text: str, expected: FieldSpec) -> None:
    assert parse_field(text) == expected


@pytest.mark.parametrize(
    ("text", "unique", "index"),
    [
        ("sku:str", False, False),
        ("sku:str:unique", True, False),
        ("sku:str:index", False, True),
        ("sku:str: index ", False, True),
        # A unique constraint already indexes the column.
        ("sku:str:unique:index", True, False),
        ("sku:str:index:unique", True, False),
        ("sku:str(40)?:unique", True, False),
        ("due_on:date:index", False, True),
        ("status:enum(a|b):index", False, True),
        ("ref:uuid:unique", True, False),
    ],
)
def test_modifiers(text: str, unique: bool, index: bool) -> None:
    spec = parse_field(text)
    assert (spec.unique, spec.index) == (unique, index)


@pytest.mark.parametrize(
    "text", ["note:text?", "note:str(40)?", "price:decimal(10,2)?", "status:enum(a|b)?:index"]
)
def test_optional_fields_have_a_none_default(text: str) -> None:
    spec = parse_field(text)
    assert spec.optional
    assert spec.default is NO_DEFAULT
    assert spec.has_default
    assert spec.default_source == "None"
    assert spec.annotation.endswith(" | None")
    assert spec.create_field_args()[0] == "default=None"
    assert spec.table_field_args()[0] == "default=None"


def test_a_required_field_has_no_default() -> None:
    spec = parse_field("sku:str(40)")
    assert not spec.optional
    assert not spec.has_default
    assert spec.annotation == "str"
    assert spec.create_field_args() == ["max_length=40"]


def test_the_owner_is_kept() -> None:
    assert parse_field("status:enum(a|b)", "purchase_order").owner == "purchase_order"
    assert all(spec.owner == "line_item" for spec in parse_fields("a:int, b:str", "line_item"))


def test_a_whole_spec_parses_in_order() -> None:
    fields = parse_fields(
        "name:str(120):unique, price:decimal(10,2)=9.99, status:enum(draft|live)=draft, "
        'note:text?, tags:json?, label:str="a, b"',
        "product",
    )
    assert [spec.name for spec in fields] == ["name", "price", "status", "note", "tags", "label"]
    assert [spec.type for spec in fields] == ["str", "decimal", "enum", "text", "json", "str"]
    assert fields[1].default == Decimal("9.99")
    assert fields[2].default == "draft"
    assert fields[5].default == "a, b"


# -- Defaults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "default", "source", "json_source"),
    [
        ("name:str=widget", "widget", '"widget"', '"widget"'),
        ('name:str="blue widget"', "blue widget", '"blue widget"', '"blue widget"'),
        ("name:str='single'", "single", '"single"', '"single"'),
        ('name:str="a, b"', "a, b", '"a, b"', '"a, b"'),
        ('name:str=""', "", '""', '""'),
        ('name:str="null"', "null", '"null"', '"null"'),
        ("name:str={x}", "{x}", '"{x}"', '"{x}"'),
        ("code:str(3)=abc", "abc", '"abc"', '"abc"'),
        ("body:text=Nothing yet", "Nothing yet", '"Nothing yet"', '"Nothing yet"'),
        ("quantity:int=5", 5, "5", "5"),
        ("quantity:int=-3", -3, "-3", "-3"),
        ("quantity:int=0", 0, "0", "0"),
        ("weight:float=1.5", 1.5, "1.5", "1.5"),
        ("weight:float=2", 2.0, "2.0", "2.0"),
        ("weight:float=-0.25", -0.25, "-0.25", "-0.25"),
        ("active:bool=true", True, "True", "True"),
        ("active:bool=False", False, "False", "False"),
        ("active:bool=TRUE", True, "True", "True"),
        ("due_on:date=2024-02-29", dt.date(2024, 2, 29), "date(2024, 2, 29)", '"2024-02-29"'),
        (
            "shipped_at:datetime=2024-01-01T12:00:00Z",
            dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC),
            'datetime.fromisoformat("2024-01-01T12:00:00+00:00")',
            '"2024-01-01T12:00:00Z"',
        ),
        (
            "shipped_at:datetime=2024-01-01T12:00:00+02:00",
            dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),
            'datetime.fromisoformat("2024-01-01T12:00:00+02:00")',
            # The API returns datetimes in UTC.
            '"2024-01-01T10:00:00Z"',
        ),
        (
            "ref:uuid=12345678-1234-5678-1234-567812345678",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            'UUID("12345678-1234-5678-1234-567812345678")',
            '"12345678-1234-5678-1234-567812345678"',
        ),
        (
            "ref:uuid=12345678123456781234567812345678",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            'UUID("12345678-1234-5678-1234-567812345678")',
            '"12345678-1234-5678-1234-567812345678"',
        ),
        (
            "status:enum(draft|published)=published",
            "published",
            "EntityStatus.PUBLISHED",
            '"published"',
        ),
        (
            "stage:enum(to_do|in_review)=in_review",
            "in_review",
            "EntityStage.IN_REVIEW",
            '"in_review"',
        ),
    ],
)
def test_defaults(text: str, default: object, source: str, json_source: str) -> None:
    spec = parse_field(text)
    assert spec.default == default
    assert type(spec.default) is type(default)
    assert spec.has_default
    assert spec.default_source == source
    assert spec.default_json_source() == json_source
    assert spec.create_field_args()[0] == f"default={source}"
    assert spec.table_field_args()[0] == f"default={source}"
    # Optional fields may have a real default too.
    optional_text = re.sub(r"^(\w+:[a-z]+(?:\([^)]*\))?)", r"\1?", text)
    assert parse_field(optional_text).default == default


def test_datetime_defaults_keep_their_time_zone() -> None:
    spec = parse_field("starts_at:datetime=2024-06-01T08:00:00-05:00")
    assert spec.default.utcoffset() == dt.timedelta(hours=-5)
    assert spec.default_json_source() == '"2024-06-01T13:00:00Z"'


@pytest.mark.parametrize(
    ("text", "value", "source", "json_source"),
    [
        ("price:decimal(10,2)=1.5", "1.50", 'Decimal("1.50")', '"1.50"'),
        ("price:decimal(10,2)=3", "3.00", 'Decimal("3.00")', '"3.00"'),
        ("price:decimal(10,2)=-0.1", "-0.10", 'Decimal("-0.10")', '"-0.10"'),
        ("price:decimal(10,2)=0", "0.00", 'Decimal("0.00")', '"0.00"'),
        ("price:decimal(10,2)=1.500", "1.50", 'Decimal("1.50")', '"1.50"'),
        ("price:decimal(10,2)=1e2", "100.00", 'Decimal("100.00")', '"100.00"'),
        ("price:decimal=12.3", "12.30", 'Decimal("12.30")', '"12.30"'),
        ("count:decimal(5,0)=42", "42", 'Decimal("42")', '"42"'),
        ("rate:decimal(4,4)=0.5", "0.5000", 'Decimal("0.5000")', '"0.5000"'),
        ("price:decimal(5,2)=999.99", "999.99", 'Decimal("999.99")', '"999.99"'),
    ],
)
def test_decimal_defaults_are_quantized_to_the_scale(
    text: str, value: str, source: str, json_source: str
) -> None:
    spec = parse_field(text)
    assert isinstance(spec.default, Decimal)
    assert str(spec.default) == value
    assert spec.default_source == source
    assert spec.default_json_source() == json_source


def test_decimal_defaults_may_use_every_digit_of_the_precision() -> None:
    # Precision goes up to 38, beyond the 28 digits of Python's default decimal context.
    spec = parse_field("amount:decimal(38,10)=12345678901234567890")
    assert spec.default == Decimal("12345678901234567890")
    assert str(spec.default) == "12345678901234567890.0000000000"
    assert parse_field(f"amount:decimal(38,0)={'9' * 38}").default == Decimal("9" * 38)


def test_decimal_defaults_over_a_high_precision_are_refused() -> None:
    with pytest.raises(FieldSpecError, match=r"field 'amount': .*at most 38 digits"):
        parse_field(f"amount:decimal(38,0)={'9' * 39}")


@pytest.mark.parametrize(
    "text",
    [
        "note:text?=null",
        "note:text?=None",
        "label:str(10)?=null",
        "quantity:int?=null",
        "weight:float?=null",
        "price:decimal(10,2)?=null",
        "active:bool?=null",
        "due_on:date?=null",
        "shipped_at:datetime?=null",
        "ref:uuid?=None",
        "status:enum(a|b)?=null",
        "payload:json?=null",
    ],
)
def test_null_defaults_on_optional_fields(text: str) -> None:
    spec = parse_field(text)
    assert spec.default is None
    assert spec.has_default
    assert spec.default_source == "None"
    assert spec.default_json_source() == "None"


@pytest.mark.parametrize(
    "text",
    [
        "note:text=null",
        "note:text=None",
        "quantity:int=null",
        "due_on:date=null",
        "status:enum(a|b)=null",
        "payload:json=null",
    ],
)
def test_null_defaults_need_an_optional_field(text: str) -> None:
    name = text.partition(":")[0]
    default = text.partition("=")[2]
    with pytest.raises(FieldSpecError) as caught:
        parse_field(text)
    assert str(caught.value) == (
        f"field {name!r}: default {default} needs an optional field (add '?' after the type)"
    )


# -- Errors: every message names the offending field ----------------------------------------

KNOWN_TYPES = "str, text, int, float, decimal, bool, date, datetime, uuid, enum, json, ref"
NOT_SNAKE_CASE = (
    " is not a snake_case identifier "
    "(lower-case letters, digits and single underscores, starting with a letter)"
)
EXPECTED_FORM = "; expected TYPE[(ARGS)][?][:unique|:index][=DEFAULT]"
ENUM_VALUE_FORM = " must be snake_case (lower-case letters, digits and underscores)"
NO_QUOTES = " may not contain quotes, backslashes or control characters"
NAME_LIMIT = (
    ": names are limited to 30 characters (database identifiers built from them must fit in 63)"
)
RESERVED = "the name is reserved: it is "
COLUMN = RESERVED + "a column every feature's table has"
LIST_PARAMETER = RESERVED + "a query parameter of every list endpoint"
PYDANTIC_MEMBER = RESERVED + "a member pydantic gives every model (tables and DTOs)"
SQLALCHEMY_ATTRIBUTE = RESERVED + "an attribute SQLAlchemy keeps on every table class"
TABLE_MEMBER = RESERVED + "a member of every table class of the service"
LIST_QUERY_METHOD = RESERVED + "a method of every list query model of the service"
INDEX_BOUND = "the most a database index holds at 4 bytes a character"
STR_OVER_BOUND = (
    f", {INDEX_BOUND} (every str field is indexed for the list's sort and filter); use text"
)
INDEXED_TEXT_OVER_BOUND = f"is limited to 660 characters, {INDEX_BOUND}; write"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        # Structure
        ("name", "field 'name': expected NAME:TYPE, got 'name'"),
        (
            "name:",
            "field 'name': can't read ''" + EXPECTED_FORM,
        ),
        (
            "name:str(10",
            "field 'name': can't read 'str(10'" + EXPECTED_FORM,
        ),
        (
            "name:str ?",
            "field 'name': can't read 'str ?'" + EXPECTED_FORM,
        ),
        # Types
        ("name:string", f"field 'name': unknown type 'string' (known types: {KNOWN_TYPES})"),
        ("name:varchar(20)", f"field 'name': unknown type 'varchar' (known types: {KNOWN_TYPES})"),
        ("count:integer", f"field 'count': unknown type 'integer' (known types: {KNOWN_TYPES})"),
        # str length
        ("name:str(0)", "field 'name': str length must be a positive whole number, got '0'"),
        ("name:str(-1)", "field 'name': str length must be a positive whole number, got '-1'"),
        ("name:str(long)", "field 'name': str length must be a positive whole number, got 'long'"),
        ("name:str()", "field 'name': str length must be a positive whole number, got ''"),
        ("name:str(1.5)", "field 'name': str length must be a positive whole number, got '1.5'"),
        ("name:str(661)", f"field 'name': str length 661 is over 660{STR_OVER_BOUND}(661), "),
        ("name:str(3000)", f"field 'name': str length 3000 is over 660{STR_OVER_BOUND}(3000)"),
        ("name:str(1000):unique", "field 'name': str length 1000 is over 660" + STR_OVER_BOUND),
        ("name:str(10000)", "field 'name': str length 10000 is over 660" + STR_OVER_BOUND),
        # text length
        ("body:text(0)", "field 'body': text length must be a positive whole number, got '0'"),
        ("body:text(big)", "field 'body': text length must be a positive whole number, got 'big'"),
        ("body:text(1000001)", "field 'body': text length 1000001 is over 1000000"),
        # text in an index
        (
            "body:text:unique",
            f"field 'body': a unique or indexed text {INDEXED_TEXT_OVER_BOUND} text(660) or "
            "shorter, or leave out :unique",
        ),
        (
            "body:text(661)?:index",
            f"field 'body': a unique or indexed text {INDEXED_TEXT_OVER_BOUND} text(660) or "
            "shorter, or leave out :index",
        ),
        # decimal
        ("price:decimal(10)", "field 'price': decimal takes (precision,scale), got (10)"),
        ("price:decimal(10,2,1)", "field 'price': decimal takes (precision,scale), got (10,2,1)"),
        ("price:decimal()", "field 'price': decimal takes (precision,scale), got ()"),
        (
            "price:decimal(0,0)",
            "field 'price': decimal precision must be a positive whole number, got '0'",
        ),
        (
            "price:decimal(x,2)",
            "field 'price': decimal precision must be a positive whole number, got 'x'",
        ),
        ("price:decimal(39,2)", "field 'price': decimal precision 39 is over 38"),
        ("price:decimal(60,2)", "field 'price': decimal precision 60 is over 38"),
        ("price:decimal(10,x)", "field 'price': decimal scale 'x' is not a number"),
        ("price:decimal(10,-1)", "field 'price': decimal scale '-1' is not a number"),
        ("price:decimal(10,)", "field 'price': decimal scale '' is not a number"),
        ("price:decimal(4,6)", "field 'price': decimal scale 6 is greater than precision 4"),
        ("price:decimal(1,2)", "field 'price': decimal scale 2 is greater than precision 1"),
        # Arguments on types that take none
        ("count:int(4)", "field 'count': type 'int' takes no arguments, got (4)"),
        ("at:datetime(6)", "field 'at': type 'datetime' takes no arguments, got (6)"),
        ("data:json()", "field 'data': type 'json' takes no arguments, got ()"),
        # Names
        (
            "Name:str",
            "field name 'Name'" + NOT_SNAKE_CASE,
        ),
        (
            "unit-price:int",
            "field name 'unit-price'" + NOT_SNAKE_CASE,
        ),
        ("from:date", "field name 'from' is a Python keyword"),
        ("match:str", "field name 'match' is a Python keyword"),
        (":int", "field name must not be empty"),
        ("id:int", f"field 'id': {COLUMN}"),
        ("version:int", f"field 'version': {COLUMN}"),
        ("created_at:datetime", f"field 'created_at': {COLUMN}"),
        ("updated_at:datetime", f"field 'updated_at': {COLUMN}"),
        ("deleted_at:datetime?", f"field 'deleted_at': {COLUMN}"),
        ("limit:int", f"field 'limit': {LIST_PARAMETER}"),
        ("offset:int", f"field 'offset': {LIST_PARAMETER}"),
        ("after:str", f"field 'after': {LIST_PARAMETER}"),
        ("include_total:bool", f"field 'include_total': {LIST_PARAMETER}"),
        ("include_deleted:bool", f"field 'include_deleted': {LIST_PARAMETER}"),
        ("sort:str", f"field 'sort': {LIST_PARAMETER}"),
        ("metadata:json?", f"field 'metadata': {SQLALCHEMY_ATTRIBUTE}"),
        ("registry:str", f"field 'registry': {SQLALCHEMY_ATTRIBUTE}"),
        (
            "sqlmodel_update:int",
            f"field 'sqlmodel_update': {RESERVED}a method SQLModel gives every table class",
        ),
        ("model_config:json", f"field 'model_config': {PYDANTIC_MEMBER}"),
        ("model_fields:str", f"field 'model_fields': {PYDANTIC_MEMBER}"),
        ("json:json", f"field 'json': {PYDANTIC_MEMBER}"),
        ("schema:str", f"field 'schema': {PYDANTIC_MEMBER}"),
        ("copy:int", f"field 'copy': {PYDANTIC_MEMBER}"),
        ("dict:str", f"field 'dict': {PYDANTIC_MEMBER}"),
        ("validate:bool", f"field 'validate': {PYDANTIC_MEMBER}"),
        (
            "model_dump_csv:str",
            "field 'model_dump_csv': the name is reserved: pydantic keeps names that start with "
            "model_dump for its models' methods",
        ),
        (
            "model_validated:bool",
            "field 'model_validated': the name is reserved: pydantic keeps names that start with "
            "model_validate for its models' methods",
        ),
        ("touch:date", f"field 'touch': {TABLE_MEMBER}"),
        ("renamed_fields:json", f"field 'renamed_fields': {TABLE_MEMBER}"),
        (
            "changes:json",
            f"field 'changes': {RESERVED}a method of every PATCH body model of the service",
        ),
        ("filters:str", f"field 'filters': {LIST_QUERY_METHOD}"),
        ("page_of:int", f"field 'page_of': {LIST_QUERY_METHOD}"),
        # A reserved name is refused in a list of good fields too.
        ("title:str(80), metadata:json", f"field 'metadata': {SQLALCHEMY_ATTRIBUTE}"),
        (
            f"{'a' * 31}:int",
            f"field '{'a' * 31}'" + NAME_LIMIT,
        ),
        (
            "the_name_of_this_field_is_long_:str",
            "field name 'the_name_of_this_field_is_long_' is not a snake_case identifier",
        ),
        (
            "the_name_of_this_field_is_longer:str",
            "field 'the_name_of_this_field_is_longer'" + NAME_LIMIT,
        ),
        # Duplicates and empty items
        ("name:str, name:text", "field 'name' is declared twice"),
        ("a:int, b:int, a:int?", "field 'a' is declared twice"),
        ("a:int,,b:int", "field #2 is empty (stray comma?)"),
        ("a:int,", "field #2 is empty (stray comma?)"),
        (", a:int", "field #1 is empty (stray comma?)"),
        # enum
        ("status:enum", "field 'status': enum needs values, e.g. enum(draft|published)"),
        ("status:enum()", "field 'status': enum needs values, e.g. enum(draft|published)"),
        ("status:enum( )", "field 'status': enum needs values, e.g. enum(draft|published)"),
        (
            "status:enum(only)",
            "field 'status': enum needs at least two values (one value is a constant)",
        ),
        (
            "status:enum(Draft|done)",
            "field 'status': enum value 'Draft'" + ENUM_VALUE_FORM,
        ),
        (
            "status:enum(draft|in review)",
            "field 'status': enum value 'in review'" + ENUM_VALUE_FORM,
        ),
        (
            "status:enum(1st|2nd)",
            "field 'status': enum value '1st'" + ENUM_VALUE_FORM,
        ),
        (
            "status:enum(a||b)",
            "field 'status': enum value ''" + ENUM_VALUE_FORM,
        ),
        (
            "status:enum(a-b|c)",
            "field 'status': enum value 'a-b'" + ENUM_VALUE_FORM,
        ),
        ("status:enum(a|b|a)", "field 'status': enum values repeat: a|b|a"),
        ("status:enum(a|a)", "field 'status': enum values repeat: a|a"),
        # Modifiers
        ("name:str:primary", "field 'name': unknown modifier 'primary' (known: unique, index)"),
        ("name:str:", "field 'name': unknown modifier '' (known: unique, index)"),
        (
            "name:str:unique:nullable",
            "field 'name': unknown modifier 'nullable' (known: unique, index)",
        ),
        ("name:str:unique?", "field 'name': unknown modifier 'unique?' (known: unique, index)"),
        ("data:json:unique", "field 'data': json fields can't be unique or indexed"),
        ("data:json:index", "field 'data': json fields can't be unique or indexed"),
        ("data:json?:index", "field 'data': json fields can't be unique or indexed"),
        # Defaults of the wrong type
        ("data:json={}", "field 'data': json fields can't have a default"),
        ('data:json={"a": 1}', "field 'data': json fields can't have a default"),
        ("data:json=", "field 'data': json fields can't have a default"),
        ("qty:int=lots", "field 'qty': default 'lots' is not an int"),
        ("qty:int=1.5", "field 'qty': default '1.5' is not an int"),
        ("qty:int=0x10", "field 'qty': default '0x10' is not an int"),
        ("qty:int=", "field 'qty': default '' is not an int"),
        ("weight:float=heavy", "field 'weight': default 'heavy' is not a float"),
        ("price:decimal(10,2)=cheap", "field 'price': default 'cheap' is not a decimal"),
        ("price:decimal(10,2)=NaN", "field 'price': default 'NaN' is not a finite decimal"),
        (
            "price:decimal(10,2)=Infinity",
            "field 'price': default 'Infinity' is not a finite decimal",
        ),
        (
            "price:decimal(10,2)=1.555",
            "field 'price': default '1.555' is not a decimal with at most 2 places",
        ),
        (
            "price:decimal(5,0)=0.5",
            "field 'price': default '0.5' is not a decimal with at most 0 places",
        ),
        (
            "price:decimal(4,2)=123.45",
            "field 'price': default '123.45' is not a decimal of at most 4 digits",
        ),
        (
            "price:decimal(5,2)=1000",
            "field 'price': default '1000' is not a decimal of at most 5 digits",
        ),
        ("active:bool=maybe", "field 'active': default 'maybe' is not a bool (true or false)"),
        ("active:bool=1", "field 'active': default '1' is not a bool (true or false)"),
        ("due:date=tomorrow", "field 'due': default 'tomorrow' is not a date (YYYY-MM-DD)"),
        ("due:date=2023-02-29", "field 'due': default '2023-02-29' is not a date (YYYY-MM-DD)"),
        (
            "at:datetime=now",
            "field 'at': default 'now' is not a datetime (YYYY-MM-DDTHH:MM:SS+00:00)",
        ),
        (
            "at:datetime=2024-01-01T12:00:00",
            "field 'at': default '2024-01-01T12:00:00' is not a datetime with a time zone "
            "(add Z or +00:00)",
        ),
        (
            "at:datetime=2024-01-01",
            "field 'at': default '2024-01-01' is not a datetime with a time zone (add Z or +00:00)",
        ),
        ("ref:uuid=abc", "field 'ref': default 'abc' is not a UUID"),
        (
            "status:enum(draft|done)=deleted",
            "field 'status': default 'deleted' is not one of draft|done",
        ),
        (
            "status:enum(draft|done)=Draft",
            "field 'status': default 'Draft' is not one of draft|done",
        ),
        (
            "status:enum(draft|done)='draft'",
            "field 'status': default \"'draft'\" is not one of draft|done",
        ),
        ("code:str(3)=abcd", "field 'code': default 'abcd' is longer than 3 characters"),
        ('code:str(3)="abcd"', "field 'code': default 'abcd' is longer than 3 characters"),
        (
            "name:str=it's",
            "field 'name': default \"it's\"" + NO_QUOTES,
        ),
        (
            'name:str="say "hi""',
            "field 'name': default '\"say \"hi\"\"'" + NO_QUOTES,
        ),
        (
            "name:str=back\\slash",
            "field 'name': default 'back\\\\slash'" + NO_QUOTES,
        ),
        (
            "body:text=tab\there",
            "field 'body': default 'tab\\there'" + NO_QUOTES,
        ),
    ],
)
def test_errors(spec: str, message: str) -> None:
    with pytest.raises(FieldSpecError) as caught:
        parse_fields(spec, "product")
    assert str(caught.value).startswith(message)
    assert fields_problem(spec, "product") == str(caught.value)


@pytest.mark.parametrize("spec", ["", "   ", None, 42, ["name:str"]])
def test_an_empty_spec_is_refused(spec: object) -> None:
    message = "the field spec is empty: give at least one NAME:TYPE"
    with pytest.raises(FieldSpecError, match=re.escape(message)):
        parse_fields(spec)
    assert fields_problem(spec) == message


def test_names_of_exactly_30_characters_are_allowed() -> None:
    name = "a_field_name_of_thirty_chars_x"
    assert len(name) == 30
    assert parse_field(f"{name}:int").name == name


@pytest.mark.parametrize(
    "spec",
    [
        "name:str",
        "name:str(120):unique, price:decimal(10,2)=1.5, status:enum(a|b)?=null",
        'label:str="x, (y)", body:text?',
        "a:int, b:float, c:decimal, d:bool, e:date, f:datetime, g:uuid, h:json, i:text",
        # Names next to reserved ones, and lengths at the bound of what an index holds
        "meta:json, metadata_url:str, model:str, model_number:str(20), model_year:int",
        "sort_order:int, sorted:bool, schema_version:int, json_body:json, copy_count:int",
        "filter:str, change:str, limits:int, after_hours:bool",
        "title:str(660):unique, code:str(660)?:index, body:text(660):unique, note:text(661)",
        "summary:text(660)?:index, essay:text(1000000)",
    ],
)
def test_fields_problem_accepts_good_specs(spec: str) -> None:
    assert fields_problem(spec) == ""


# The generated classes a field becomes an attribute of, in the files that define them.
GENERATED_MODEL_CLASSES = {
    "template/src/shared/db/models/base_model.py": ("EntityBase", "BaseDBModelMixin"),
    "template/src/shared/models/dto_base.py": (
        "InputDTO",
        "UpdateDTO",
        "PageQuery",
        "ListQuery",
        "EntityRead",
    ),
}


def public_members(path: Path, class_name: str) -> set[str]:
    """The snake_case names a class of a template source file defines: methods and attributes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    [definition] = [
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name
    ]
    found: set[str] = set()
    for node in definition.body:
        if isinstance(node, ast.FunctionDef):
            found.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        elif isinstance(node, ast.Assign):
            found.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return {name for name in found if re.fullmatch(r"[a-z][a-z0-9_]*", name)}


@pytest.mark.parametrize(
    ("path", "class_name"),
    [(path, name) for path, names in GENERATED_MODEL_CLASSES.items() for name in names],
)
def test_every_member_of_a_generated_model_class_is_a_reserved_field_name(
    path: str, class_name: str
) -> None:
    # A field named like a member hides it: a method the service calls, a query parameter.
    members = public_members(Path(__file__).resolve().parents[1] / path, class_name)
    assert members
    assert {name for name in members if reserved_name_problem(name) == ""} == set()


def test_every_member_of_a_pydantic_model_is_a_reserved_field_name() -> None:
    # Copier runs on pydantic, so it is here, in a recent version: a member it adds shows up.
    members = {name for name in dir(BaseModel) if re.fullmatch(r"[a-z][a-z0-9_]*", name)}
    assert {name for name in members if reserved_name_problem(name) == ""} == set()


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        # Unicode digits pass str.isdigit() but not int().
        ("code:str(²)", "code"),
        ("price:decimal(10,²)", "price"),
        ("price:decimal(²,1)", "price"),
    ],
)
def test_odd_digits_are_refused_with_a_message(spec: str, name: str) -> None:
    with pytest.raises(FieldSpecError, match=rf"^field {name!r}: "):
        parse_fields(spec)


@pytest.mark.parametrize("default", ["nan", "inf", "-inf", "1e400"])
def test_float_defaults_must_be_finite(default: str) -> None:
    # A non-finite default has no Python literal ("nan" is not one) and no JSON value.
    with pytest.raises(FieldSpecError, match=r"^field 'ratio': "):
        parse_field(f"ratio:float={default}")


@pytest.mark.parametrize(
    ("value", "member"),
    [
        ("in_review", "IN_REVIEW"),
        ("draft", "DRAFT"),
        ("v2", "V2"),
        ("in__review", "IN__REVIEW"),
        ("done_", "DONE_"),
    ],
)
def test_enum_defaults_name_the_member_the_table_declares(value: str, member: str) -> None:
    # The table template declares ``{{ value | upper }} = "{{ value }}"`` for every value, so
    # a default must refer to ``value.upper()``, or the value must be refused.
    text = f"status:enum(other|{value})={value}"
    problem = fields_problem(text)
    assert problem or parse_field(text).default_source == f"EntityStatus.{member}"


@pytest.mark.parametrize(
    ("text", "shape"),
    [("price:decimal", (12, 2)), ("price:decimal(10,2)", (10, 2)), ("n:decimal(5,0)", (5, 0))],
)
def test_decimal_shape(text: str, shape: tuple[int, int]) -> None:
    assert parse_field(text).decimal_shape == shape


@pytest.mark.parametrize("text", ["price:int", "price:str(10)", "price:float"])
def test_only_decimals_have_a_shape(text: str) -> None:
    with pytest.raises(FieldSpecError, match=r"^field 'price' of type \w+ has no precision"):
        _ = parse_field(text).decimal_shape


# -- split_top_level ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
        ("a:int", ["a:int"]),
        ("a:int, b:str", ["a:int", "b:str"]),
        ("  a:int ,b:str  ", ["a:int", "b:str"]),
        ("price:decimal(10,2), name:str", ["price:decimal(10,2)", "name:str"]),
        ("price:decimal(10, 2)=1.5,qty:int", ["price:decimal(10, 2)=1.5", "qty:int"]),
        ('label:str="x, y", qty:int', ['label:str="x, y"', "qty:int"]),
        ("label:str='x, y', qty:int", ["label:str='x, y'", "qty:int"]),
        ('label:str="it\'s, ok", qty:int', ['label:str="it\'s, ok"', "qty:int"]),
        ('label:str="(,", qty:int', ['label:str="(,"', "qty:int"]),
        ("status:enum(a|b), x:int", ["status:enum(a|b)", "x:int"]),
        ("a:int,,b:int", ["a:int", "", "b:int"]),
        ("a:int,", ["a:int", ""]),
        ("", [""]),
    ],
)
def test_split_top_level(spec: str, parts: list[str]) -> None:
    assert split_top_level(spec) == parts


def test_split_top_level_keeps_decimal_arguments_and_quoted_commas_for_the_parser() -> None:
    fields = parse_fields('price:decimal(10, 2)=1.5, label:str(20)="one, two", qty:int')
    assert [(spec.name, spec.precision, spec.scale) for spec in fields[:1]] == [("price", 10, 2)]
    assert fields[1].default == "one, two"
    assert [spec.name for spec in fields] == ["price", "label", "qty"]


# -- Derived values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "python_type", "filterable"),
    [
        ("a:str", "str", True),
        ("a:text", "str", False),
        ("a:int", "int", True),
        ("a:float", "float", False),
        ("a:decimal", "Decimal", False),
        ("a:bool", "bool", True),
        ("a:date", "date", True),
        ("a:datetime", "datetime", False),
        ("a:uuid", "UUID", True),
        ("state:enum(x|y)", "PurchaseOrderState", True),
        ("a:json", "dict[str, Any]", False),
    ],
)
def test_python_type_annotation_and_filterable(
    text: str, python_type: str, filterable: bool
) -> None:
    spec = parse_field(text, "purchase_order")
    assert spec.python_type == python_type
    assert spec.annotation == python_type
    assert spec.filterable is filterable
    optional = parse_field(text.replace(")", ")?") if "(" in text else text + "?", "purchase_order")
    assert optional.annotation == f"{python_type} | None"
    assert optional.python_type == python_type


@pytest.mark.parametrize(
    ("owner", "name", "enum_class"),
    [
        ("purchase_order", "status", "PurchaseOrderStatus"),
        ("purchase_order", "payment_method", "PurchaseOrderPaymentMethod"),
        ("entity", "status", "EntityStatus"),
        ("item", "kind2", "ItemKind2"),
    ],
)
def test_enum_class_is_named_after_the_owner(owner: str, name: str, enum_class: str) -> None:
    spec = parse_field(f"{name}:enum(a|b)=b", owner)
    assert spec.enum_class == enum_class
    assert spec.python_type == enum_class
    assert spec.default_source == f"{enum_class}.B"
    # The CHECK constraint is named after the column: ck_<table>_<column> fits PostgreSQL.
    assert f'sa_type=enum_column({enum_class}, "{name}")' in spec.table_field_args()


@pytest.mark.parametrize(
    ("text", "table", "create", "update"),
    [
        (
            "name:str(120):unique",
            ["max_length=120", "unique=True"],
            ["max_length=120"],
            ["default=None", "max_length=120"],
        ),
        (
            "sku:str:index",
            ["max_length=255", "index=True"],
            ["max_length=255"],
            ["default=None", "max_length=255"],
        ),
        (
            "code:str(8)?:unique=abc",
            ['default="abc"', "max_length=8", "unique=True"],
            ['default="abc"', "max_length=8"],
            ["default=None", "max_length=8"],
        ),
        ("body:text", ["sa_type=Text"], ["max_length=65535"], ["default=None", "max_length=65535"]),
        (
            "body:text(500)?",
            ["default=None", "sa_type=Text"],
            ["default=None", "max_length=500"],
            ["default=None", "max_length=500"],
        ),
        ("qty:int", [], [], ["default=None"]),
        ("qty:int:index=1", ["default=1", "index=True"], ["default=1"], ["default=None"]),
        ("weight:float?", ["default=None"], ["default=None"], ["default=None"]),
        (
            "price:decimal(10,2)=1.5",
            ['default=Decimal("1.50")', "max_digits=10", "decimal_places=2"],
            # The request DTOs' digits are their type's: Annotated[Decimal, DecimalDigits(..)].
            ['default=Decimal("1.50")'],
            ["default=None"],
        ),
        ("price:decimal", ["max_digits=12", "decimal_places=2"], [], ["default=None"]),
        ("active:bool=true", ["default=True"], ["default=True"], ["default=None"]),
        ("due_on:date:index", ["index=True"], [], ["default=None"]),
        ("at:datetime", ["sa_type=UTCDateTime"], [], ["default=None"]),
        (
            "at:datetime?:index",
            ["default=None", "index=True", "sa_type=UTCDateTime"],
            ["default=None"],
            ["default=None"],
        ),
        ("ref:uuid:unique", ["unique=True"], [], ["default=None"]),
        (
            "status:enum(draft|done)=draft",
            [
                "default=PurchaseOrderStatus.DRAFT",
                'sa_type=enum_column(PurchaseOrderStatus, "status")',
            ],
            ["default=PurchaseOrderStatus.DRAFT"],
            ["default=None"],
        ),
        (
            "status:enum(draft|done):index",
            ["index=True", 'sa_type=enum_column(PurchaseOrderStatus, "status")'],
            [],
            ["default=None"],
        ),
        ("tags:json", ["sa_type=JSON_DOCUMENT"], [], ["default=None"]),
        (
            "tags:json?",
            ["default=None", "sa_type=JSON_DOCUMENT"],
            ["default=None"],
            ["default=None"],
        ),
    ],
)
def test_field_arguments(text: str, table: list[str], create: list[str], update: list[str]) -> None:
    spec = parse_field(text, "purchase_order")
    assert spec.table_field_args() == table
    assert spec.create_field_args() == create
    assert spec.update_field_args() == update


def test_type_imports() -> None:
    every_type = parse_fields(
        "a:str, b:text, c:int, d:float, e:decimal, f:bool, g:date, h:datetime, i:uuid, "
        "j:enum(x|y), k:json, l:decimal(4,1), m:date?"
    )
    assert type_imports(every_type) == [
        "datetime.date",
        "datetime.datetime",
        "decimal.Decimal",
        "typing.Any",
        "uuid.UUID",
    ]
    assert type_imports(parse_fields("a:str, b:int, c:bool, d:enum(x|y), e:text")) == []
    assert type_imports(parse_fields("at:datetime")) == ["datetime.datetime"]


@pytest.mark.parametrize(
    ("text", "invalid"),
    [
        ("code:str(10)", ["12345", '"x" * 11']),
        ("name:str", ["12345", '"x" * 256']),
        ("body:text", ["12345", '"x" * 65536']),
        ("body:text(20)", ["12345", '"x" * 21']),
        ("qty:int", ['"not an int"', '"5"', "5.5", "True"]),
        ("ok:bool", ['"not a bool"', '"yes"', '"true"', "1"]),
        (
            "tags:json",
            [
                '"not an object"',
                """json.loads('{"a": ' * 33 + "1" + "}" * 33)""",
                '{"a": float("nan")}',
                '{"a": [float("inf")]}',
            ],
        ),
        ("status:enum(a|b)", ['"not an enum"']),
    ],
)
def test_invalid_sources(text: str, invalid: list[str]) -> None:
    assert parse_field(text).invalid_sources() == invalid


# -- Sample values for the generated tests ----------------------------------------------------

# Every type, with the lengths, precisions and scales at the edges of the sample rules.
SAMPLE_SPEC = (
    "title:str(120), code:str(4), initials:str(2), flag:str(1), label:str, "
    "body:text, long_description:text?, quantity:int, weight:float, "
    "price:decimal(10,2), amount:decimal, whole:decimal(5,0), digit:decimal(1,0), "
    "tenth:decimal(4,1), fraction:decimal(3,3), "
    "active:bool, due_on:date, shipped_at:datetime, external_id:uuid, "
    "status:enum(draft|published|archived), kind:enum(a|b), payload:json"
)
SAMPLE_FIELDS = parse_fields(SAMPLE_SPEC, "purchase_order")
# The range of ``n`` sample_source() documents.
SAMPLE_RANGE = range(10)
# Types whose samples differ for every n (bool and enum have too few values).
VARYING_TYPES = frozenset(
    {"str", "text", "int", "float", "decimal", "date", "datetime", "uuid", "json"}
)
# The service's text forms: ASCII digits only (\d would take any script's), matched whole.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# RFC 3339: seconds and an offset.
ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def decimal_fits(spec: FieldSpec, value: object) -> bool:
    """Whether a JSON value is a decimal string within the field's precision and scale."""
    # Strings only, written plainly: no JSON numbers, no exponents.
    if not isinstance(value, str) or not PLAIN_DECIMAL.fullmatch(value):
        return False
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return False
    if not number.is_finite() or spec.scale is None or spec.precision is None:
        return False
    quantized = number.quantize(Decimal(1).scaleb(-spec.scale))
    return quantized == number and len(quantized.as_tuple().digits) <= spec.precision


def accepts(spec: FieldSpec, value: object) -> bool:
    """Whether the generated API would accept ``value`` (a JSON value) for the field."""
    if value is None:
        return spec.optional
    if spec.type == "str":
        max_length = spec.max_length or DEFAULT_STR_LENGTH
        return isinstance(value, str) and len(value) <= max_length
    if spec.type == "text":
        max_length = spec.max_length or DEFAULT_TEXT_LENGTH
        return isinstance(value, str) and len(value) <= max_length
    if spec.type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type == "float":
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if spec.type == "decimal":
        return decimal_fits(spec, value)
    if spec.type == "bool":
        return isinstance(value, bool)
    if spec.type == "date":
        return (
            isinstance(value, str)
            and bool(ISO_DATE.fullmatch(value))
            and _parses(dt.date.fromisoformat, value)
        )
    if spec.type == "datetime":
        if not isinstance(value, str) or not ISO_DATETIME.fullmatch(value):
            return False
        if not _parses(dt.datetime.fromisoformat, value):
            return False
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return False
        # Still a valid datetime once converted to UTC, as it is stored.
        try:
            moment.astimezone(dt.UTC)
        except OverflowError:
            return False
        return True
    if spec.type == "uuid":
        return isinstance(value, str) and bool(CANONICAL_UUID.fullmatch(value))
    if spec.type == "enum":
        return value in spec.choices
    return isinstance(value, dict) and nesting(value) <= MAX_JSON_DEPTH and finite(value)


def finite(value: object) -> bool:
    """Whether a JSON value holds no NaN or Infinity (which JSON does not have)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(map(finite, value.values()))
    if isinstance(value, list):
        return all(map(finite, value))
    return True


# How deep the generated service lets a JSON document nest (shared/models/input_types.py).
MAX_JSON_DEPTH = 32


def nesting(value: object) -> int:
    """How many levels of containers ``value`` is made of (0 for a scalar)."""
    if isinstance(value, dict):
        return 1 + max((nesting(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting(item) for item in value), default=0)
    return 0


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def render_factories(fields: list[FieldSpec]) -> str:
    """A module like the generated tests' ``factories.py``, with every source placed in it."""
    lines = ["import json", "from uuid import UUID", "", "", "def new(n: int) -> dict:"]
    lines += ["    return {"]
    lines += [f'        "{spec.name}": {spec.sample_source()},' for spec in fields]
    lines += ["    }", "", "", "CHANGED = {"]
    lines += [f'    "{spec.name}": {spec.changed_source()},' for spec in fields]
    lines += ["}", "INVALID = {"]
    lines += [f'    "{spec.name}": [{", ".join(spec.invalid_sources())}],' for spec in fields]
    lines += ["}"]
    return "\n".join(lines) + "\n"


def load_module(path: Path) -> ModuleType:
    """Import a generated module from its file."""
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def factories(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The sample, changed and invalid values of SAMPLE_FIELDS, rendered and imported."""
    path = tmp_path_factory.mktemp("factories") / "sample_factories.py"
    path.write_text(render_factories(SAMPLE_FIELDS))
    return load_module(path)


def samples(factories: ModuleType) -> list[dict[str, Any]]:
    new: Callable[[int], dict[str, Any]] = factories.new
    return [new(n) for n in SAMPLE_RANGE]


@pytest.mark.parametrize("spec", SAMPLE_FIELDS, ids=[spec.name for spec in SAMPLE_FIELDS])
def test_sources_are_python_expressions(spec: FieldSpec) -> None:
    for source in [
        spec.sample_source(),
        spec.sample_source("i"),
        spec.changed_source(),
        spec.default_json_source(),
        *spec.invalid_sources(),
    ]:
        ast.parse(source, mode="eval")
    names = {
        node.id
        for node in ast.walk(ast.parse(spec.sample_source("i")))
        if isinstance(node, ast.Name)
    }
    assert "i" in names
    assert "n" not in names


@pytest.mark.parametrize("spec", SAMPLE_FIELDS, ids=[spec.name for spec in SAMPLE_FIELDS])
def test_changed_source_is_a_literal_that_differs_from_the_first_sample(
    spec: FieldSpec, factories: ModuleType
) -> None:
    changed = ast.literal_eval(spec.changed_source())
    assert changed == factories.CHANGED[spec.name]
    assert accepts(spec, changed), f"{spec.name}: {changed!r} is not a valid value"
    assert changed != samples(factories)[0][spec.name]
    assert json.loads(json.dumps(changed)) == changed


@pytest.mark.parametrize("spec", SAMPLE_FIELDS, ids=[spec.name for spec in SAMPLE_FIELDS])
def test_samples_are_valid_for_every_documented_n(spec: FieldSpec, factories: ModuleType) -> None:
    values = [sample[spec.name] for sample in samples(factories)]
    refused = [
        (n, value)
        for n, value in zip(SAMPLE_RANGE, values, strict=True)
        if not accepts(spec, value)
    ]
    assert refused == [], f"{spec.name}: values the API would refuse (n, value): {refused}"
    # Each value reads back unchanged through JSON.
    assert [json.loads(json.dumps(value)) for value in values] == values


@pytest.mark.parametrize(
    "spec",
    [spec for spec in SAMPLE_FIELDS if spec.type in VARYING_TYPES],
    ids=[spec.name for spec in SAMPLE_FIELDS if spec.type in VARYING_TYPES],
)
def test_samples_vary_with_n(spec: FieldSpec, factories: ModuleType) -> None:
    values = [json.dumps(sample[spec.name]) for sample in samples(factories)]
    assert len(set(values)) == len(values), f"{spec.name}: repeated samples {values}"


@pytest.mark.parametrize("spec", SAMPLE_FIELDS, ids=[spec.name for spec in SAMPLE_FIELDS])
def test_invalid_sources_are_refused(spec: FieldSpec, factories: ModuleType) -> None:
    for value in factories.INVALID[spec.name]:
        assert not accepts(spec, value), f"{spec.name}: {value!r} would be accepted"


def test_samples_of_the_usual_types() -> None:
    fields = {spec.name: spec for spec in SAMPLE_FIELDS}
    assert fields["title"].sample_source() == 'f"title {n}"'
    assert fields["code"].sample_source() == "str(n)"
    assert fields["long_description"].sample_source("k") == 'f"long description {k}"'
    assert fields["price"].sample_source() == 'f"0.{n:02d}"'
    assert fields["whole"].sample_source() == "str(n)"
    assert fields["status"].sample_source() == '["draft", "published", "archived"][n % 3]'
    assert fields["external_id"].sample_source() == "str(UUID(int=n + 1))"


def test_sample_values(factories: ModuleType) -> None:
    first, second = samples(factories)[:2]
    assert first["title"] == "title 0"
    assert second["title"] == "title 1"
    assert first["quantity"] == 1
    assert first["weight"] == 0.5
    assert first["price"] == "0.00"
    assert second["price"] == "0.01"
    assert first["active"] is True
    assert second["active"] is False
    assert first["due_on"] == "2024-01-01"
    assert first["shipped_at"] == "2024-01-01T12:00:00Z"
    assert first["external_id"] == "00000000-0000-0000-0000-000000000001"
    assert [first["status"], second["status"]] == ["draft", "published"]
    assert first["payload"] == {"key": "value 0"}


@pytest.mark.parametrize(
    ("text", "column_args"),
    [
        ("name:str(120)", ['"name"', "sa.String(length=120)", "nullable=False"]),
        ("notes:text?", ['"notes"', "sa.Text()", "nullable=True"]),
        ("price:decimal(10,2)", ['"price"', "sa.Numeric(precision=10, scale=2)", "nullable=False"]),
        ("logged_at:datetime", ['"logged_at"', "sa.DateTime(timezone=True)", "nullable=False"]),
        ("ref:uuid", ['"ref"', "sa.Uuid()", "nullable=False"]),
        ("details:json?", ['"details"', "JSON_DOCUMENT", "nullable=True"]),
        ("status:enum(draft|done)", ['"status"', "PURCHASE_ORDER_STATUS", "nullable=False"]),
    ],
)
def test_migration_columns_match_the_table_model(text: str, column_args: list[str]) -> None:
    assert parse_field(text, "purchase_order").column_args() == column_args


def test_migration_enum_type_checks_the_values_and_is_named_after_the_column() -> None:
    spec = parse_field("status:enum(draft|in_review|done)", "purchase_order")
    assert spec.enum_type_args() == [
        '"draft"',
        '"in_review"',
        '"done"',
        'name="status"',
        "native_enum=False",
        "create_constraint=True",
        "length=9",
    ]


@pytest.mark.parametrize(
    ("text", "dto_annotation"),
    [
        ("name:str(80)", "DbStr"),
        ("notes:text?", "DbStr | None"),
        ("count:int", "DbInt"),
        ("ratio:float?", "DbFloat | None"),
        ("details:json?", "JsonDocument | None"),
        ("logged_at:datetime", "DbDateTime"),
        ("price:decimal(10,2)", "Annotated[Decimal, DecimalDigits(10, 2)]"),
        ("due:date", "DbDate"),
        ("status:enum(a|b)", "ItemStatus"),
    ],
)
def test_request_types_are_bounded_to_what_every_database_stores(
    text: str, dto_annotation: str
) -> None:
    assert parse_field(text, "item").dto_annotation == dto_annotation


# -- Example values for the README ------------------------------------------------------------

EXAMPLE_FIELDS = [
    "name:str(120)",
    "code:str(1)",
    "body:text",
    "qty:int",
    "weight:float",
    "price:decimal(10,2)",
    "share:decimal(3,3)",
    "count:decimal(5,0)",
    "digit:decimal(1,0)",
    "active:bool",
    "due_on:date",
    "at:datetime",
    "ref:uuid",
    "status:enum(draft|done|archived)",
    "extra:json",
]


def as_default_text(value: Any) -> str:
    """How a JSON example value is written after ``=`` in a field spec."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.parametrize("text", EXAMPLE_FIELDS)
def test_examples_are_valid_values_that_the_update_changes(text: str) -> None:
    spec = parse_field(text)
    example, changed = spec.example_value(), spec.changed_example_value()
    assert example != changed
    json.dumps([example, changed])  # JSON values, ready for a request body
    if spec.type != "json":
        # The grammar's own checks (length, digits, places, choices) accept both.
        for value in (example, changed):
            parse_field(f"{text}={as_default_text(value)}")


@pytest.mark.parametrize(
    ("text", "example", "changed"),
    [
        ("in_stock:bool=true", True, False),
        ("status:enum(draft|placed|shipped)=draft", "draft", "placed"),
        ("status:enum(draft|placed|shipped)=shipped", "shipped", "draft"),
        ("position:int=0", 0, 43),
        # A default that is the usual changed value: the change takes another one.
        ("position:int=43", 43, 42),
        ("label:str='Changed label'", "Changed label", "Example label"),
        ("price:decimal(10,2)=24.50", "24.50", "19.99"),
    ],
)
def test_examples_start_from_the_default(text: str, example: object, changed: object) -> None:
    spec = parse_field(text)
    assert (spec.example_value(), spec.changed_example_value()) == (example, changed)


def test_optional_fields_without_a_default_get_an_example() -> None:
    assert parse_field("notes:text?").example_value() == "Example notes"
    assert parse_field("notes:text?=null").example_value() == "Example notes"


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("title:str(80):unique", "| `title` | `str(80)` | no | yes | unique |  |"),
        ("name:str", "| `name` | `str(255)` | no | yes |  |  |"),
        ("notes:text?", "| `notes` | `text` | yes | no |  |  |"),
        ("cost:decimal(12,3)=0.000", "| `cost` | `decimal(12,3)` | no | no |  | `0.000` |"),
        ("active:bool=false", "| `active` | `bool` | no | no |  | `false` |"),
        ("code:str(4)?:index", "| `code` | `str(4)` | yes | no | index |  |"),
        ("label:str='n/a'", "| `label` | `str(255)` | no | no |  | `n/a` |"),
        (
            "status:enum(draft|done)=draft",
            r"| `status` | `enum(draft\|done)` | no | no |  | `draft` |",
        ),
    ],
)
def test_a_field_becomes_a_row_of_the_readme_table(text: str, row: str) -> None:
    assert readme_row(parse_field(text)) == row
