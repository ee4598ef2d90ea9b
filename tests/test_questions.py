"""Questions: derived defaults, and bad answers refused with a clear message, nothing written."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from extensions.fields import TYPES
from tests.conftest import TEMPLATE_ROOT, copier_cli

# Copier shows a question's help as written, its first line after this mark; the mark is a
# wide character (two columns) and a space.
PROMPT_MARK = "\N{MICROPHONE} "
TERMINAL_COLUMNS = 80

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
    "package name too long": ({"package_name": "a" * 33}, "33 characters long; choose one of"),
    "slug too long": ({"project_slug": "a" * 33}, "33 characters long; choose one of"),
    "project name too long for its slug": (
        {"project_name": "Regional Warehouse Logistics Coordination Platform"},
        "project_slug 'regional-warehouse-logistics-coordination-platform' is 50 characters",
    ),
    "domain not snake_case": ({"domain": "Catalog-Items"}, "not a snake_case"),
    "domain is a keyword": ({"domain": "import"}, "is a Python keyword"),
    "domain too long": ({"domain": "a" * 25}, "domains are limited to 24"),
    "feature not snake_case": ({"feature": "PurchaseOrder"}, "not a snake_case"),
    "feature is a keyword": ({"feature": "lambda"}, "is a Python keyword"),
    "feature name too long": ({"feature": "a" * 25}, "limited to 24 characters"),
    "plural feature": (
        {"feature": "purchase_orders"},
        "feature 'purchase_orders' looks plural; name it in the singular: 'purchase_order'",
    ),
    "irregular plural feature": (
        {"feature": "people"},
        "feature 'people' looks plural; name it in the singular: 'person'",
    ),
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
    "field named like SQLAlchemy's metadata": (
        {"fields": "name:str(80), metadata:json?"},
        "field 'metadata': the name is reserved: it is an attribute SQLAlchemy keeps",
    ),
    "field named like the list's sort": (
        {"fields": "name:str(80), sort:int=0"},
        "field 'sort': the name is reserved: it is a query parameter of every list endpoint",
    ),
    "field named like a pydantic method": (
        {"fields": "schema:str"},
        "field 'schema': the name is reserved: it is a member pydantic gives every model",
    ),
    "str longer than an index holds": (
        {"fields": "name:str(3000)"},
        "str length 3000 is over 660, the most a database index holds at 4 bytes a character",
    ),
    "unique str longer than an index holds": (
        {"fields": "code:str(1000):unique"},
        "field 'code': str length 1000 is over 660, the most a database index holds",
    ),
    "unique text longer than an index holds": (
        {"fields": "body:text:unique"},
        "field 'body': a unique or indexed text is limited to 660 characters",
    ),
    "domain under the documents' assets": (
        {"domain": "docs_assets"},
        "domain 'docs_assets' is reserved: its routes would go under /docs-assets",
    ),
    "domain under the audit routes": (
        {"domain": "audit"},
        "domain 'audit' is reserved: its routes would go under /audit",
    ),
    "feature with the audit permission": (
        {"feature": "audit"},
        "feature 'audit': the name is reserved: its read permission would be 'audit:read'",
    ),
    "listed feature with the audit permission": (
        {"features": [FEATURE, {**FEATURE, "name": "audit"}]},
        "feature 'audit': the name is reserved",
    ),
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
    "plural feature in the list": (
        {"features": [FEATURE, {**FEATURE, "name": "addresses"}]},
        "feature 'addresses' looks plural; name it in the singular: 'address'",
    ),
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


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes (wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def questions() -> dict[str, dict[str, Any]]:
    """The questions of copier.yml (the keys that are not settings)."""
    loaded = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return {key: value for key, value in loaded.items() if not key.startswith("_")}


def test_every_help_line_fits_80_columns_as_copier_prints_it() -> None:
    too_wide = []
    for key, question in questions().items():
        help_text = question["help"]
        # Printed as written: no Jinja that could render longer.
        assert "{{" not in help_text, key
        for number, line in enumerate(help_text.splitlines()):
            shown = PROMPT_MARK + line if number == 0 else line
            if columns(shown) > TERMINAL_COLUMNS:
                too_wide.append(f"{key}: {shown!r} takes {columns(shown)} columns")
    assert too_wide == []


def test_the_fields_help_lists_every_type_and_points_to_the_grammar() -> None:
    help_text = questions()["fields"]["help"]
    for type_name in TYPES:
        assert re.search(rf"\b{type_name}\b", help_text), type_name
    assert '"Field-spec grammar" in the template\'s README.md' in help_text
    readme = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n### Field-spec grammar\n" in readme


def test_columns_counts_the_prompt_mark_as_three() -> None:
    assert columns(PROMPT_MARK) == 3


def test_singular_names_that_end_like_plurals_are_accepted(copie: Any) -> None:
    awkward = ["status", "address", "person", "series", "news", "metadata", "analysis", "bus"]
    features = [{"domain": "misc", "name": name, "fields": "label:str(40)"} for name in awkward]
    result = copie.copy(extra_answers={"features": features})
    assert result.exit_code == 0, result.exception
    routers = result.project_dir / "src/inventory_service/routers/misc_routers"
    sources = [(routers / f"{name}_router.py").read_text() for name in awkward]
    prefixes = [re.findall(r'route="([^"]+)"', source) for source in sources]
    assert [found for [found] in prefixes] == [
        "/misc/statuses",
        "/misc/addresses",
        "/misc/people",
        "/misc/series",
        "/misc/news",
        "/misc/metadata",
        "/misc/analyses",
        "/misc/buses",
    ]
