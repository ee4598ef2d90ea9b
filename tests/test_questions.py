"""Questions: derived defaults, and bad answers refused with a clear message, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEMPLATE_ROOT, copier_cli

FEATURE = {"domain": "catalog", "name": "product", "fields": "name:str(80)"}

# (answers, a fragment the refusal must show)
BAD_ANSWERS: dict[str, tuple[dict[str, Any], str]] = {
    "empty project name": ({"project_name": "  "}, "project_name must not be empty"),
    "quote in project name": ({"project_name": 'My "Best" Service'}, "without quotes"),
    "script in project name": (
        {"project_name": "Inv</title><script>alert(document.domain)</script><title>"},
        "must not contain HTML markup",
    ),
    "escape sequence in project name": ({"project_name": "Inv\x1b]0;owned\x07"}, "printable"),
    "slug not kebab-case": ({"project_slug": "My_Service"}, "must be kebab-case"),
    "package not snake_case": ({"package_name": "InventoryService"}, "not a snake_case"),
    "package is a keyword": ({"package_name": "class"}, "is a Python keyword"),
    "package shadows shared": ({"package_name": "shared"}, "would shadow the generated"),
    "package shadows stdlib": ({"package_name": "json"}, "standard-library module 'json'"),
    "domain not snake_case": ({"domain": "Catalog-Items"}, "not a snake_case"),
    "domain is a keyword": ({"domain": "import"}, "is a Python keyword"),
    "feature not snake_case": ({"feature": "PurchaseOrder"}, "not a snake_case"),
    "feature is a keyword": ({"feature": "lambda"}, "is a Python keyword"),
    "feature name too long": ({"feature": "a" * 25}, "limited to 24 characters"),
    "unknown field type": ({"fields": "name:string"}, "unknown type 'string'"),
    "missing field type": ({"fields": "name"}, "expected NAME:TYPE"),
    "zero str length": ({"fields": "name:str(0)"}, "must be a positive whole number"),
    "non-numeric str length": ({"fields": "name:str(long)"}, "must be a positive whole number"),
    "decimal without scale": ({"fields": "price:decimal(10)"}, "takes (precision,scale)"),
    "decimal scale over precision": (
        {"fields": "price:decimal(4,6)"},
        "scale 6 is greater than precision 4",
    ),
    "decimal precision too large": ({"fields": "price:decimal(60,2)"}, "precision 60 is over"),
    "arguments on a plain type": ({"fields": "count:int(4)"}, "takes no arguments"),
    "reserved column id": ({"fields": "id:int"}, "'id': the name is reserved"),
    "reserved column created_at": ({"fields": "created_at:datetime"}, "is reserved"),
    "keyword field name": ({"fields": "from:date"}, "is a Python keyword"),
    "duplicate field": ({"fields": "name:str, name:text"}, "'name' is declared twice"),
    "enum without values": ({"fields": "status:enum()"}, "enum needs values"),
    "enum without parentheses": ({"fields": "status:enum"}, "enum needs values"),
    "enum with one value": ({"fields": "status:enum(only)"}, "at least two values"),
    "enum with a bad value": ({"fields": "status:enum(Draft|done)"}, "must be snake_case"),
    "unknown modifier": ({"fields": "name:str:primary"}, "unknown modifier 'primary'"),
    "int default not an int": ({"fields": "qty:int=lots"}, "default 'lots' is not an int"),
    "bool default not a bool": ({"fields": "on:bool=maybe"}, "is not a bool"),
    "date default not a date": ({"fields": "due:date=tomorrow"}, "is not a date"),
    "enum default not a value": ({"fields": "s:enum(a|b)=c"}, "is not one of a|b"),
    "decimal default too precise": ({"fields": "p:decimal(5,2)=1.234"}, "at most 2 places"),
    "str default too long": ({"fields": "code:str(2)=abc"}, "longer than 2 characters"),
    "null default on a required field": ({"fields": "note:text=null"}, "needs an optional"),
    "stray comma": ({"fields": "name:str,, price:int"}, "field #2 is empty"),
    "duplicate features": (
        {"features": [FEATURE, {**FEATURE, "domain": "sales"}]},
        "feature 'product' is listed twice",
    ),
    "feature clashing with an audit table": (
        {"features": [FEATURE, {**FEATURE, "name": "product_audit"}]},
        "would share a table name",
    ),
    "feature with a bad field spec": (
        {"features": [FEATURE, {**FEATURE, "name": "order", "fields": "total:money"}]},
        "feature 'order': field 'total': unknown type 'money'",
    ),
    "feature without fields key": (
        {"features": [{"domain": "catalog", "name": "product"}]},
        "missing fields",
    ),
    "features not a list": ({"features": {"name": "product"}}, "must be a non-empty list"),
}


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS.values(), ids=BAD_ANSWERS)
def test_a_bad_answer_is_refused_and_nothing_is_written(
    copie: Any, answers: dict[str, Any], message: str
) -> None:
    result = copie.copy(extra_answers=answers)
    assert result.exit_code != 0
    assert message in str(result.exception)
    written = [path for path in (copie.test_dir).rglob("*") if path.is_file()]
    assert written == []


@pytest.mark.parametrize(
    "data",
    ["package_name=class", "fields=price:decimal(4,6)", "feature=Bad-Name"],
)
def test_the_command_line_exits_non_zero_and_creates_no_directory(
    tmp_path: Path, data: str
) -> None:
    destination = tmp_path / "service"
    result = copier_cli(
        "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", "--data", data,
        str(TEMPLATE_ROOT), str(destination), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0, result.explain()
    assert "Validation error for question" in result.stderr
    assert not destination.exists()


def test_slug_and_package_default_from_the_project_name(copie: Any) -> None:
    result = copie.copy(extra_answers={"project_name": "Order Tracking Service"})
    assert result.exit_code == 0, result.exception
    assert result.answers["project_slug"] == "order-tracking-service"
    assert result.answers["package_name"] == "order_tracking_service"
    assert (result.project_dir / "src/order_tracking_service/app.py").is_file()


def test_features_default_to_the_first_feature_answers(copie: Any) -> None:
    result = copie.copy(
        extra_answers={"domain": "sales", "feature": "invoice", "fields": "total:decimal(10,2)"}
    )
    assert result.exit_code == 0, result.exception
    assert result.answers["features"] == [
        {"domain": "sales", "name": "invoice", "fields": "total:decimal(10,2)"}
    ]
    assert (
        result.project_dir / "src/shared/services/sales_services/invoice_editor_service.py"
    ).is_file()
