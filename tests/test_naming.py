"""Unit tests of ``extensions.naming``: spellings, plurals and the identifier checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extensions.naming import (
    MAX_PACKAGE_NAME_LENGTH,
    MAX_SLUG_LENGTH,
    identifier_problem,
    kebab,
    pascal,
    plural,
    plural_problem,
    plural_word,
    project_name_problem,
    singular,
    singular_word,
    slug_problem,
    snake,
    title,
    upper_snake,
    with_article,
    words,
)

# One name in every spelling a team might type it in.
PURCHASE_ORDER_SPELLINGS = [
    "purchase_order",
    "Purchase Order",
    "purchase order",
    "purchase-order",
    "PurchaseOrder",
    "purchaseOrder",
    "  Purchase   Order  ",
    "PURCHASE_ORDER",
]


@pytest.mark.parametrize("spelling", PURCHASE_ORDER_SPELLINGS)
def test_every_spelling_gives_the_same_words(spelling: str) -> None:
    assert words(spelling) == ["purchase", "order"]
    assert snake(spelling) == "purchase_order"
    assert upper_snake(spelling) == "PURCHASE_ORDER"
    assert pascal(spelling) == "PurchaseOrder"
    assert kebab(spelling) == "purchase-order"
    assert title(spelling) == "Purchase Order"


@pytest.mark.parametrize(
    ("value", "expected_snake", "expected_pascal", "expected_kebab", "expected_title"),
    [
        ("product", "product", "Product", "product", "Product"),
        ("line_item2", "line_item2", "LineItem2", "line-item2", "Line Item2"),
        ("order2Item", "order2_item", "Order2Item", "order2-item", "Order2 Item"),
        ("HTTPServer", "http_server", "HttpServer", "http-server", "Http Server"),
        ("APIKey", "api_key", "ApiKey", "api-key", "Api Key"),
        ("sales__person", "sales_person", "SalesPerson", "sales-person", "Sales Person"),
        ("catalog items", "catalog_items", "CatalogItems", "catalog-items", "Catalog Items"),
        (
            "My Inventory Service",
            "my_inventory_service",
            "MyInventoryService",
            "my-inventory-service",
            "My Inventory Service",
        ),
    ],
)
def test_spellings(
    value: str,
    expected_snake: str,
    expected_pascal: str,
    expected_kebab: str,
    expected_title: str,
) -> None:
    assert snake(value) == expected_snake
    assert upper_snake(value) == expected_snake.upper()
    assert pascal(value) == expected_pascal
    assert kebab(value) == expected_kebab
    assert title(value) == expected_title


def test_spellings_of_nothing_are_empty() -> None:
    assert words(" - _ ") == []
    assert snake("") == ""
    assert pascal("") == ""


@pytest.mark.parametrize(
    ("singular", "expected"),
    [
        ("category", "categories"),
        ("address", "addresses"),
        ("person", "people"),
        ("child", "children"),
        ("box", "boxes"),
        ("status", "statuses"),
        ("day", "days"),
        ("key", "keys"),
        ("analysis", "analyses"),
        ("purchase_order", "purchase_orders"),
        ("line_item", "line_items"),
        ("sales_person", "sales_people"),
        ("equipment", "equipment"),
        ("news", "news"),
        ("branch", "branches"),
        ("wish", "wishes"),
        ("quiz", "quizzes"),
        ("product", "products"),
        ("shelf", "shelves"),
        ("media_index", "media_indexes"),
        ("bus", "buses"),
        ("order_2", "order_2s"),
    ],
)
def test_plural(singular: str, expected: str) -> None:
    assert plural(singular) == expected


def test_plural_changes_only_the_last_word() -> None:
    # "person" in front stays singular; only the head noun is pluralised.
    assert plural("person_address") == "person_addresses"
    assert plural("child_category") == "child_categories"


def test_plural_feeds_the_other_spellings() -> None:
    assert kebab(plural("purchase-order")) == "purchase-orders"
    assert pascal(plural("PurchaseOrder")) == "PurchaseOrders"
    assert title(plural("sales_person")) == "Sales People"
    assert kebab(plural("SalesPerson")) == "sales-people"


def test_plural_of_nothing_is_unchanged() -> None:
    assert plural("") == ""


def test_plural_word_y_after_a_vowel_keeps_the_y() -> None:
    assert plural_word("survey") == "surveys"
    assert plural_word("toy") == "toys"
    assert plural_word("y") == "ys"


@pytest.mark.parametrize("noun", ["series", "news", "data", "metadata", "species", "sheep"])
def test_nouns_the_same_in_both_numbers_keep_their_spelling(noun: str) -> None:
    # The routes are then /x and /x/{id}, which serve a collection and an item as well.
    assert plural(noun) == noun
    assert singular(noun) is None


@pytest.mark.parametrize(
    "name",
    [
        # Singulars that end in s: inflect's singular_noun "singularises" some ("bus" -> "bu").
        "status",
        "address",
        "analysis",
        "bus",
        "lens",
        "alias",
        "canvas",
        "campus",
        "business",
        "process",
        # Irregular and ordinary singulars, and names whose last word is singular.
        "person",
        "child",
        "product",
        "category",
        "purchase_order",
        "sales_person",
        "person_address",
        "news_item",
        # The same in both numbers.
        "series",
        "news",
        "data",
        "equipment",
    ],
)
def test_singular_names_are_not_taken_for_plurals(name: str) -> None:
    assert singular(name) is None
    assert plural_problem(name) == ""
    # The plural the routes use reads back as this name: no "-orderses" on the way.
    if plural(name) != name:
        assert singular(plural(name)) == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("purchase_orders", "purchase_order"),
        ("addresses", "address"),
        ("statuses", "status"),
        ("analyses", "analysis"),
        ("buses", "bus"),
        ("people", "person"),
        ("sales_people", "sales_person"),
        ("children", "child"),
        ("categories", "category"),
        ("criteria", "criterion"),
        ("products", "product"),
        ("line_items", "line_item"),
    ],
)
def test_plainly_plural_names_give_their_singular(name: str, expected: str) -> None:
    assert singular(name) == expected
    assert plural(expected) == name


def test_a_plural_name_is_refused_with_the_singular_suggested() -> None:
    assert plural_problem("purchase_orders") == (
        "feature 'purchase_orders' looks plural; name it in the singular: 'purchase_order'"
    )
    assert plural_problem("people", "feature #2 name").startswith("feature #2 name 'people'")


@pytest.mark.parametrize("value", ["", None, 3])
def test_plural_problem_leaves_other_checks_to_identifier_problem(value: object) -> None:
    assert plural_problem(value) == ""
    assert singular_word("") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("product", "a product"),
        ("invoice", "an invoice"),
        ("order_line", "an order line"),
        ("purchase_order", "a purchase order"),
        ("hour_log", "an hour log"),
        ("user", "a user"),
        ("", ""),
    ],
)
def test_with_article(value: str, expected: str) -> None:
    assert with_article(value) == expected


# -- identifier_problem -------------------------------------------------------------------


@pytest.mark.parametrize(
    "good",
    ["inventory", "purchase_order", "line_item2", "a", "v2", "order_2", "sales_people"],
)
@pytest.mark.parametrize("top_level", [False, True])
def test_good_identifiers(good: str, top_level: bool) -> None:
    assert identifier_problem(good, "package_name", top_level=top_level) == ""


@pytest.mark.parametrize(
    "bad",
    [
        "PurchaseOrder",
        "purchaseOrder",
        "purchase-order",
        "purchase order",
        "purchase__order",
        "_private",
        "trailing_",
        "2fast",
        "café",
        "order!",
        " order",
    ],
)
def test_non_snake_case_identifiers_are_refused(bad: str) -> None:
    assert identifier_problem(bad, "feature") == (
        f"feature {bad!r} is not a snake_case identifier "
        "(lower-case letters, digits and single underscores, starting with a letter)"
    )


@pytest.mark.parametrize("empty", ["", None, 42, ["orders"]])
def test_empty_or_non_string_identifiers_are_refused(empty: object) -> None:
    assert identifier_problem(empty, "domain") == "domain must not be empty"


@pytest.mark.parametrize(
    "keyword", ["class", "import", "lambda", "from", "async", "await", "match", "case"]
)
def test_keywords_are_refused(keyword: str) -> None:
    assert identifier_problem(keyword, "domain") == f"domain {keyword!r} is a Python keyword"


def test_lower_case_spellings_of_constants_are_not_keywords() -> None:
    # "None", "True" and "False" are keywords; their snake_case spellings are plain names.
    assert identifier_problem("none") == ""
    assert identifier_problem("true") == ""


@pytest.mark.parametrize("soft_keyword", ["match", "case"])
def test_soft_keywords_are_refused_at_every_level(soft_keyword: str) -> None:
    for top_level in (False, True):
        assert "is a Python keyword" in identifier_problem(
            soft_keyword, "field name", top_level=top_level
        )


@pytest.mark.parametrize("package", ["shared", "tests"])
def test_top_level_names_may_not_shadow_generated_packages(package: str) -> None:
    assert identifier_problem(package, "package_name", top_level=True) == (
        f"package_name {package!r} would shadow the generated {package!r} package"
    )


@pytest.mark.parametrize("module", ["json", "os", "typing", "logging", "uuid", "asyncio"])
def test_top_level_names_may_not_shadow_the_standard_library(module: str) -> None:
    assert identifier_problem(module, "package_name", top_level=True) == (
        f"package_name {module!r} would shadow the standard-library module {module!r}"
    )


def test_package_names_are_limited_to_32_characters() -> None:
    longest = "regional_warehouse_logistics_hub"
    assert len(longest) == MAX_PACKAGE_NAME_LENGTH == 32
    assert identifier_problem(longest, "package_name", top_level=True) == ""
    assert identifier_problem(longest + "s", "package_name", top_level=True) == (
        f"package_name {longest + 's'!r} is 33 characters long; choose one of at most 32"
    )


def test_the_32_character_limit_is_the_package_names_only() -> None:
    # Other identifiers name sub-modules, routes and columns; feature and field names have
    # limits of their own, set by the database.
    assert identifier_problem("a" * 40, "feature #1 domain") == ""


@pytest.mark.parametrize("name", ["json", "os", "typing", "shared", "tests", "logging"])
def test_domain_and_feature_names_may_reuse_top_level_names(name: str) -> None:
    # Domains and features only name sub-modules, which shadow nothing.
    assert identifier_problem(name, "feature #1 domain") == ""
    assert identifier_problem(name, "feature #1 name", top_level=False) == ""


# -- slug_problem ---------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["inventory-service", "shop", "shop2", "my-shop-v2", "a-1"])
def test_good_slugs(slug: str) -> None:
    assert slug_problem(slug) == ""


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Inventory-Service",
        "inventory_service",
        "inventory--service",
        "-inventory",
        "inventory-",
        "2shop",
        "shop service",
        "shop.service",
        None,
        7,
    ],
)
def test_bad_slugs_are_refused(slug: object) -> None:
    assert slug_problem(slug) == (
        f"project_slug {slug!r} must be kebab-case "
        "(lower-case letters, digits and single hyphens, starting with a letter)"
    )


def test_slugs_are_limited_to_32_characters() -> None:
    longest = "regional-warehouse-logistics-hub"
    assert len(longest) == MAX_SLUG_LENGTH == 32
    assert slug_problem(longest) == ""
    assert slug_problem(longest + "s") == (
        f"project_slug {longest + 's'!r} is 33 characters long; choose one of at most 32"
    )


def test_slug_problem_names_what_it_checks() -> None:
    assert slug_problem("Bad", "command").startswith("command 'Bad' must be kebab-case")


# -- project_name_problem -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Inventory Service", "inventory", "Shop 2.0 (beta)", "Café Orders", "R&D tools"]
)
def test_good_project_names(name: str) -> None:
    assert project_name_problem(name) == ""


@pytest.mark.parametrize("name", ["", "   ", "\t", None, 3])
def test_empty_project_names_are_refused(name: object) -> None:
    assert project_name_problem(name) == "project_name must not be empty"


@pytest.mark.parametrize(
    "name",
    [
        'My "Best" Service',
        "Bob's Service",
        "Back\\slash Service",
        "Back`tick Service",
        "Two\nLines",
        "Tab\tService",
        "Bell\x07Service",
    ],
)
def test_project_names_with_quotes_backslashes_or_control_characters_are_refused(
    name: str,
) -> None:
    assert project_name_problem(name) == (
        f"project_name {name!r} must be one printable line without quotes or backslashes"
    )


@pytest.mark.parametrize(
    "name",
    [
        "Inv</title><script>alert(document.domain)</script><title>",
        "Less < More",
        "Arrow -> Service",
        "Encoded &lt;b&gt; Service",
        "Numeric &#60; Service",
    ],
)
def test_project_names_with_html_markup_are_refused(name: str) -> None:
    assert project_name_problem(name) == (
        f"project_name {name!r} must not contain HTML markup (< > or &...; references)"
    )


@pytest.mark.parametrize("name", ["---", "!!!", "-- __ --"])
def test_project_names_without_letters_or_digits_are_refused(name: str) -> None:
    assert project_name_problem(name) == f"project_name {name!r} must contain letters or digits"


# Run in a fresh interpreter: what the import leaves behind is the point.
IMPORT_CHECK = """
import sys
import extensions.naming
# Not imported, so nothing of inflect's was instrumented by it.
assert "typeguard" not in sys.modules, "typeguard was imported"
import inflect, typeguard
assert hasattr(typeguard, "TypeCheckError"), "the stand-in typeguard stayed behind"
assert inflect.engine().plural("category") == "categories"
"""


def test_inflect_is_imported_without_typeguard_which_stays_importable() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
