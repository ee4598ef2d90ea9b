"""Regression check of ``extensions.fields``: what every field of the answer sets renders to.

``field_outputs.json`` holds, for every field of every answer set (and a few edge cases the
answer sets don't reach), the value of every public ``FieldSpec`` member the templates and
the other extensions use, as ``repr`` text. A refactoring of the field types must leave it
unchanged; a deliberate change of what a field renders to rewrites it with
``uv run python -m tests.test_field_outputs`` and shows the change in the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions.fields import FieldSpec, fields_problem, parse_fields, readme_row, type_imports
from tests.answer_sets import ANSWER_SETS

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = Path(__file__).with_name("field_outputs.json")

# Edge cases of the rules that derive values from a field's arguments and default: short
# strings, decimals without a fraction or without a whole part, and a default of every type.
EDGE_CASES = [
    {
        "domain": "edge",
        "name": "edge_case",
        "fields": (
            "initials:str(2), flag:str(1)?=x, label:str='Changed label', body:text(20)=hi, "
            "qty:int=43, ratio:float?=-0.25, whole:decimal(5,0)=42, digit:decimal(1,0), "
            "fraction:decimal(3,3)?=0.5, price:decimal=24.50, active:bool?=false, "
            "due_on:date?:index=2024-02-29, at:datetime=2024-01-01T12:00:00+02:00, "
            "ref:uuid?=12345678123456781234567812345678, "
            "stage:enum(to_do|in_review|done):index=done, kind:enum(a|b)?=null, extra:json"
        ),
    }
]

# Public members of FieldSpec: properties are read, methods are called without arguments.
MEMBERS = [
    "has_default",
    "decimal_shape",
    "enum_class",
    "python_type",
    "dto_type",
    "dto_annotation",
    "annotation",
    "filterable",
    "default_source",
    "enum_type_constant",
    "column_type_source",
    "enum_type_args",
    "column_args",
    "table_field_args",
    "create_field_args",
    "update_field_args",
    "sample_source",
    "changed_source",
    "invalid_sources",
    "default_json_source",
    "default_json_value",
    "example_value",
    "changed_example_value",
]


def features(answers: dict[str, Any]) -> list[dict[str, str]]:
    """The features an answer set generates, with Copier's defaults for unanswered questions."""
    if "features" in answers:
        items: list[dict[str, str]] = answers["features"]
        return items
    questions = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    name = answers.get("feature", questions["feature"]["default"])
    fields = answers.get("fields", questions["fields"]["default"])
    domain = answers.get("domain", questions["domain"]["default"])
    return [{"domain": domain, "name": name, "fields": fields}]


def outcome(spec: FieldSpec, member: str) -> str:
    """``repr`` of a member's value, or the exception it raises (some are type-specific)."""
    try:
        value = getattr(spec, member)
        if callable(value):
            value = value()
    except ValueError as error:
        return f"raises {type(error).__name__}: {error}"
    return repr(value)


def field_outputs(spec: FieldSpec) -> dict[str, str]:
    """Every public member of one field, with the calls that take arguments."""
    values = {"spec": repr(spec)}
    values |= {member: outcome(spec, member) for member in MEMBERS}
    values["sample_source('i')"] = repr(spec.sample_source("i"))
    values["readme_row"] = repr(readme_row(spec))
    return values


def feature_outputs(item: dict[str, str]) -> dict[str, Any]:
    fields = parse_fields(item["fields"], item["name"])
    return {
        "fields_problem": repr(fields_problem(item["fields"], item["name"])),
        "type_imports": repr(type_imports(fields)),
        "fields": {spec.name: field_outputs(spec) for spec in fields},
    }


def all_outputs() -> dict[str, Any]:
    corpora = {name: features(answers) for name, answers in ANSWER_SETS.items()}
    corpora["edge-cases"] = EDGE_CASES
    return {
        corpus: {item["name"]: feature_outputs(item) for item in items}
        for corpus, items in corpora.items()
    }


def recorded() -> dict[str, Any]:
    outputs: dict[str, Any] = json.loads(OUTPUTS.read_text(encoding="utf-8"))
    return outputs


def test_the_record_covers_every_answer_set() -> None:
    assert set(recorded()) == {*ANSWER_SETS, "edge-cases"}


@pytest.mark.parametrize("corpus", [*ANSWER_SETS, "edge-cases"])
def test_fields_render_as_recorded(corpus: str) -> None:
    assert all_outputs()[corpus] == recorded()[corpus]


if __name__ == "__main__":
    OUTPUTS.write_text(json.dumps(all_outputs(), indent=1, ensure_ascii=False) + "\n")
