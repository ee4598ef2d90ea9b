"""Unit tests of ``extensions.features``: the ``features`` answer and the names derived from it."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest

from extensions.features import (
    Feature,
    FeatureError,
    domains,
    features_problem,
    load_features,
)
from extensions.fields import FieldSpec

PRODUCT = {"domain": "catalog", "name": "product", "fields": "name:str(120), price:decimal"}
CATEGORY = {"domain": "catalog", "name": "category", "fields": "title:str(80), position:int=0"}
PURCHASE_ORDER = {
    "domain": "sales",
    "name": "purchase_order",
    "fields": (
        "code:str(20):unique, status:enum(draft|placed|shipped)=draft, "
        "payment_method:enum(cash|card)?, placed_on:date?, notes:text?, ref:uuid:unique, "
        "total:decimal(10,2)=0, shipped_at:datetime?, active:bool=true, extra:json?"
    ),
}
SALES_PERSON = {"domain": "people_ops", "name": "sales_person", "fields": "full_name:str"}
FEATURES = [PRODUCT, CATEGORY, PURCHASE_ORDER, SALES_PERSON]


def names(specs: list[FieldSpec]) -> list[str]:
    return [spec.name for spec in specs]


def feature(domain: str = "sales", name: str = "purchase_order", fields: str = "a:int") -> Feature:
    return Feature(domain=domain, name=name, fields_spec=fields)


# -- Good answers -------------------------------------------------------------------------------


def test_load_features_keeps_the_order_and_parses_the_fields() -> None:
    loaded = load_features(FEATURES)
    assert [(item.domain, item.name) for item in loaded] == [
        ("catalog", "product"),
        ("catalog", "category"),
        ("sales", "purchase_order"),
        ("people_ops", "sales_person"),
    ]
    assert [spec.name for spec in loaded[0].fields] == ["name", "price"]
    assert all(isinstance(spec, FieldSpec) for item in loaded for spec in item.fields)
    # Enum classes are named after their feature.
    assert [spec.enum_class for spec in loaded[2].enum_fields] == [
        "PurchaseOrderStatus",
        "PurchaseOrderPaymentMethod",
    ]
    assert features_problem(FEATURES) == ""


def test_a_single_feature_is_enough() -> None:
    assert [item.name for item in load_features([PRODUCT])] == ["product"]


def test_domains_name_each_domain_once_with_its_features_in_order() -> None:
    loaded = domains([PRODUCT, PURCHASE_ORDER, CATEGORY, SALES_PERSON])
    assert [(domain.name, [item.name for item in domain.features]) for domain in loaded] == [
        ("catalog", ["product", "category"]),
        ("sales", ["purchase_order"]),
        ("people_ops", ["sales_person"]),
    ]
    with pytest.raises(FeatureError, match="listed twice"):
        domains([PRODUCT, PRODUCT])


def test_features_may_be_given_as_any_mapping() -> None:
    assert load_features([MappingProxyType(PRODUCT)])[0].name == "product"


@pytest.mark.parametrize(
    ("domain", "name"),
    [
        ("json", "json"),
        ("os", "os"),
        ("typing", "typing"),
        ("shared", "shared"),
        # A feature named "tests" would be refused as a plural, but a domain may be plural.
        ("tests", "test"),
        ("match_day", "match_day"),
    ],
)
def test_domain_and_feature_names_may_reuse_top_level_module_names(domain: str, name: str) -> None:
    # They only name sub-modules (shared.db.models.<domain>_models.<name>).
    assert features_problem([{"domain": domain, "name": name, "fields": "a:int"}]) == ""


def test_names_of_exactly_24_characters_are_allowed() -> None:
    name = "warehouse_transfer_order"
    assert len(name) == 24
    assert features_problem([{"domain": "logistics", "name": name, "fields": "a:int"}]) == ""


def test_the_same_domain_may_hold_several_features() -> None:
    loaded = load_features([PRODUCT, CATEGORY])
    assert {item.domain for item in loaded} == {"catalog"}


def test_a_feature_named_like_an_audit_table_of_nothing_is_fine() -> None:
    items = [{"domain": "sales", "name": "order_audit", "fields": "a:int"}, PRODUCT]
    assert features_problem(items) == ""


@pytest.mark.parametrize(
    ("domain", "name"),
    [
        # Paths the service serves exactly, not as a prefix: /docs/x is not /docs.
        ("docs", "page"),
        ("redoc", "page"),
        ("openapi", "spec"),
        # Names that only start like the service's own paths and permission.
        ("auditing", "finding"),
        ("audit_trail", "entry"),
        ("healthcare", "patient"),
        ("docs_asset_store", "asset"),
        ("compliance", "audit_finding"),
        ("compliance", "auditor"),
        ("ops", "health"),
        ("ops", "docs_asset"),
    ],
)
def test_names_next_to_the_services_own_paths_and_permissions_are_fine(
    domain: str, name: str
) -> None:
    assert features_problem([{"domain": domain, "name": name, "fields": "a:int"}]) == ""


# -- Derived names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "name", "class_name", "plural", "route", "tag"),
    [
        (
            "sales",
            "purchase_order",
            "PurchaseOrder",
            "purchase_orders",
            "/sales/purchase-orders",
            "Sales: Purchase Orders",
        ),
        (
            "catalog",
            "category",
            "Category",
            "categories",
            "/catalog/categories",
            "Catalog: Categories",
        ),
        (
            "people_ops",
            "sales_person",
            "SalesPerson",
            "sales_people",
            "/people-ops/sales-people",
            "People Ops: Sales People",
        ),
        (
            "facility",
            "equipment",
            "Equipment",
            "equipment",
            "/facility/equipment",
            "Facility: Equipment",
        ),
        ("crm", "address", "Address", "addresses", "/crm/addresses", "Crm: Addresses"),
        ("fleet2", "box", "Box", "boxes", "/fleet2/boxes", "Fleet2: Boxes"),
        ("crm", "person", "Person", "people", "/crm/people", "Crm: People"),
        ("crm", "status", "Status", "statuses", "/crm/statuses", "Crm: Statuses"),
        ("fleet", "bus", "Bus", "buses", "/fleet/buses", "Fleet: Buses"),
        ("lab", "analysis", "Analysis", "analyses", "/lab/analyses", "Lab: Analyses"),
        # The same word in both numbers: /media/series and /media/series/{id} serve well.
        ("media", "series", "Series", "series", "/media/series", "Media: Series"),
        ("media", "news", "News", "news", "/media/news", "Media: News"),
        ("lab", "data", "Data", "data", "/lab/data", "Lab: Data"),
    ],
)
def test_derived_names(
    domain: str, name: str, class_name: str, plural: str, route: str, tag: str
) -> None:
    item = feature(domain, name)
    assert item.class_name == class_name
    assert item.plural == plural
    assert item.route == route
    assert item.tag == tag
    assert item.audit_enum == f"{class_name}AuditActionCodeEnum"
    assert item.action_prefix == name.upper()
    assert item.module == f"shared.db.models.{domain}_models.{name}"


@pytest.mark.parametrize(
    ("name", "noun", "plural_noun", "a_noun"),
    [
        ("purchase_order", "purchase order", "purchase orders", "a purchase order"),
        ("invoice", "invoice", "invoices", "an invoice"),
        ("order_line", "order line", "order lines", "an order line"),
        ("sales_person", "sales person", "sales people", "a sales person"),
        ("series", "series", "series", "a series"),
    ],
)
def test_nouns_for_running_text(name: str, noun: str, plural_noun: str, a_noun: str) -> None:
    item = feature(name=name)
    assert (item.noun, item.plural_noun, item.a_noun) == (noun, plural_noun, a_noun)


@pytest.mark.parametrize(
    "name", ["status", "address", "person", "series", "news", "metadata", "analysis", "bus"]
)
def test_awkward_singular_names_are_accepted(name: str) -> None:
    assert features_problem([{"domain": "misc", "name": name, "fields": "a:int"}]) == ""


def test_purchase_order_names() -> None:
    item = feature("sales", "purchase_order")
    assert item.audit_enum == "PurchaseOrderAuditActionCodeEnum"
    assert item.action_prefix == "PURCHASE_ORDER"
    assert item.module == "shared.db.models.sales_models.purchase_order"


def test_field_groups_and_imports() -> None:
    item = load_features([PURCHASE_ORDER])[0]
    assert names(item.enum_fields) == ["status", "payment_method"]
    assert names(item.unique_fields) == ["code", "ref"]
    assert names(item.filter_fields) == [
        "code",
        "status",
        "payment_method",
        "placed_on",
        "ref",
        "active",
    ]
    assert names(item.required_fields) == ["code", "ref"]
    assert names(item.defaulted_fields) == [
        "status",
        "payment_method",
        "placed_on",
        "notes",
        "total",
        "shipped_at",
        "active",
        "extra",
    ]
    assert item.type_imports == [
        "datetime.date",
        "datetime.datetime",
        "decimal.Decimal",
        "typing.Any",
        "uuid.UUID",
    ]
    assert item.column_imports == [
        "shared.db.models.base_model.UTCDateTime",
        "enum.StrEnum",
        "shared.db.models.base_model.enum_column",
        "shared.db.models.base_model.JSON_DOCUMENT",
        "sqlalchemy.Text",
    ]
    assert item.sample_imports == ["uuid.UUID"]
    assert item.enum_imports == [
        "shared.db.models.sales_models.purchase_order.PurchaseOrderStatus",
        "shared.db.models.sales_models.purchase_order.PurchaseOrderPaymentMethod",
    ]


def test_a_feature_of_plain_fields_needs_few_imports() -> None:
    item = load_features([CATEGORY])[0]
    assert item.type_imports == []
    assert item.column_imports == []
    assert item.sample_imports == []
    assert item.enum_imports == []
    assert item.enum_fields == []
    assert item.unique_fields == []


@pytest.mark.parametrize(
    ("fields", "changeable"),
    [
        ("active:bool, name:str", "name"),
        ("name:str, active:bool", "name"),
        ("active:bool, visible:bool", "active"),
        ("active:bool=true, price:decimal, name:str", "price"),
    ],
)
def test_changeable_field_is_the_first_that_is_not_bool(fields: str, changeable: str) -> None:
    assert feature(fields=fields).changeable_field.name == changeable


def test_sort_columns_are_the_timestamps_and_the_filterable_fields() -> None:
    item = load_features([PURCHASE_ORDER])[0]
    assert item.sort_columns == ["created_at", "updated_at", *names(item.filter_fields)]


DEFAULT_FIELDS = "name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true"


def test_the_default_feature_examples() -> None:
    item = feature("catalog", "product", DEFAULT_FIELDS)
    assert item.create_example == {
        "name": "Example name",
        "description": "Example description",
        "price": "19.99",
        "in_stock": True,
    }
    assert item.update_example == {"name": "Changed name"}
    assert item.update_example_json == '{"name": "Changed name"}'
    # Long bodies are shown one field a line, so the README stays readable.
    assert item.create_example_json.splitlines()[:2] == ["{", '  "name": "Example name",']
    assert json.loads(item.create_example_json) == item.create_example
    # The filter avoids the field the PATCH example changes, so the list finds the entity.
    assert item.list_example_query == "sort=-created_at&in_stock=true"


@pytest.mark.parametrize(
    ("fields", "query"),
    [
        # Only the changed field is filterable: filter on its new value.
        ("title:str(80), notes:text?", "sort=-created_at&title=Changed+title"),
        ("price:decimal, notes:text", "sort=-created_at"),
        ("title:str, due_on:date?", "sort=-created_at&due_on=2025-01-31"),
        ("title:str, qty:int=3", "sort=-created_at&qty=3"),
    ],
)
def test_list_example_query(fields: str, query: str) -> None:
    assert feature(fields=fields).list_example_query == query


def test_every_field_gets_an_example_and_the_update_changes_one() -> None:
    item = load_features([PURCHASE_ORDER])[0]
    assert list(item.create_example) == names(item.fields)
    [(field, value)] = item.update_example.items()
    assert field == item.changeable_field.name
    assert value != item.create_example[field]
    assert json.loads(item.update_example_json) == item.update_example


def test_fields_are_parsed_once() -> None:
    item = feature(fields="a:int, b:str")
    assert item.fields is item.fields


# -- Refusals -----------------------------------------------------------------------------------

NON_EMPTY_LIST = "features must be a non-empty list of {domain, name, fields} items"
KEYS = "must have the keys domain, name, fields (and history, once its fields have changed)"
NOT_SNAKE_CASE = (
    "is not a snake_case identifier "
    "(lower-case letters, digits and single underscores, starting with a letter)"
)


def good(**changes: object) -> dict[str, object]:
    """A valid feature item with some keys changed (``None`` removes a key)."""
    item: dict[str, object] = {"domain": "sales", "name": "order", "fields": "total:int"}
    item.update(changes)
    return {key: value for key, value in item.items() if value is not None}


@pytest.mark.parametrize(
    ("features", "message"),
    [
        # The answer as a whole
        (None, NON_EMPTY_LIST),
        ("product", NON_EMPTY_LIST),
        (PRODUCT, NON_EMPTY_LIST),
        ((PRODUCT,), NON_EMPTY_LIST),
        ([], NON_EMPTY_LIST),
        # Items
        (["product"], "features item #1 must be a mapping with ('domain', 'name', 'fields')"),
        ([PRODUCT, None], "features item #2 must be a mapping with ('domain', 'name', 'fields')"),
        ([PRODUCT, [1, 2]], "features item #2 must be a mapping with ('domain', 'name', 'fields')"),
        ([good(fields=None)], f"features item #1 {KEYS}; missing fields"),
        ([good(domain=None, name=None)], f"features item #1 {KEYS}; missing domain, name"),
        ([{}], f"features item #1 {KEYS}; missing domain, name, fields"),
        ([good(table="orders")], f"features item #1 {KEYS}; unknown table"),
        ([good(b=1, a=2)], f"features item #1 {KEYS}; unknown a, b"),
        (
            [PRODUCT, good(name=None, feature="order")],
            f"features item #2 {KEYS}; missing name; unknown feature",
        ),
        # Domain and name
        ([good(domain="Sales")], f"feature #1 domain 'Sales' {NOT_SNAKE_CASE}"),
        ([good(domain="sales-ops")], f"feature #1 domain 'sales-ops' {NOT_SNAKE_CASE}"),
        ([good(domain="")], "feature #1 domain must not be empty"),
        ([good(domain=3)], "feature #1 domain must not be empty"),
        ([good(domain="import")], "feature #1 domain 'import' is a Python keyword"),
        (
            [good(domain="a" * 25)],
            f"feature #1 domain '{'a' * 25}' is 25 characters long; domains are limited to 24",
        ),
        (
            [PRODUCT, good(name="PurchaseOrder")],
            f"feature #2 name 'PurchaseOrder' {NOT_SNAKE_CASE}",
        ),
        ([good(name="order__line")], f"feature #1 name 'order__line' {NOT_SNAKE_CASE}"),
        ([good(name="lambda")], "feature #1 name 'lambda' is a Python keyword"),
        ([good(name="match")], "feature #1 name 'match' is a Python keyword"),
        ([good(name=None, fields=None)], f"features item #1 {KEYS}; missing name, fields"),
        (
            [good(name="a" * 25)],
            f"feature '{'a' * 25}': names are limited to 24 characters "
            "(database identifiers built from them must fit in 63)",
        ),
        (
            [good(name="warehouse_transfer_orders")],
            "feature 'warehouse_transfer_orders': names are limited to 24 characters "
            "(database identifiers built from them must fit in 63)",
        ),
        # Plain plurals, with the singular to use instead
        (
            [good(name="purchase_orders")],
            "feature 'purchase_orders' looks plural; name it in the singular: 'purchase_order'",
        ),
        (
            [PRODUCT, good(name="addresses")],
            "feature 'addresses' looks plural; name it in the singular: 'address'",
        ),
        ([good(name="people")], "feature 'people' looks plural; name it in the singular: 'person'"),
        (
            [good(name="statuses")],
            "feature 'statuses' looks plural; name it in the singular: 'status'",
        ),
        # A name the generated code already uses for the request body
        (
            [good(name="data")],
            "feature 'data': the name is reserved: the generated services take each request's "
            "body as 'data'; choose a more specific one, e.g. 'data_set'",
        ),
        # A name whose read permission would be the service's own
        (
            [PRODUCT, good(name="audit")],
            "feature 'audit': the name is reserved: its read permission would be 'audit:read', "
            "which reads every feature's changes (the change feed and the chain check); choose "
            "a more specific one, e.g. 'audit_finding'",
        ),
        # Domains whose routes would go under the service's own paths
        (
            [good(domain="audit")],
            "feature #1 domain 'audit' is reserved: its routes would go under /audit, where the "
            "service serves its change feed and chain check",
        ),
        (
            [PRODUCT, good(domain="health")],
            "feature #2 domain 'health' is reserved: its routes would go under /health, where "
            "the service serves its health checks",
        ),
        (
            [good(domain="docs_assets")],
            "feature #1 domain 'docs_assets' is reserved: its routes would go under "
            "/docs-assets, where the service serves the API documents' static files",
        ),
        # Across features
        (
            [PRODUCT, {**PRODUCT, "domain": "sales"}],
            "feature 'product' is listed twice (names must be unique across domains: "
            "they name the tables)",
        ),
        (
            [PRODUCT, CATEGORY, PRODUCT],
            "feature 'product' is listed twice (names must be unique across domains: "
            "they name the tables)",
        ),
        (
            [PRODUCT, {"domain": "history", "name": "product_audit", "fields": "a:int"}],
            "feature product_audit would share a table name with the audit trail of 'product'",
        ),
        (
            [{"domain": "history", "name": "product_audit", "fields": "a:int"}, PRODUCT],
            "feature product_audit would share a table name with the audit trail of 'product'",
        ),
        # Fields
        (
            [good(fields="")],
            "feature 'order': the field spec is empty: give at least one NAME:TYPE",
        ),
        ([good(fields=["total:int"])], "feature 'order': the field spec is empty"),
        ([good(fields="id:int")], "feature 'order': field 'id': the name is reserved"),
        (
            [good(fields="total:int, metadata:json")],
            "feature 'order': field 'metadata': the name is reserved: it is an attribute "
            "SQLAlchemy keeps on every table class",
        ),
        # A change of fields (change-feature writes the new list, the old one as history)
        (
            [
                {
                    **PRODUCT,
                    "fields": "name:str(120), price:decimal, sort:int=0",
                    "history": [PRODUCT["fields"]],
                }
            ],
            "feature 'product': field 'sort': the name is reserved: it is a query parameter of "
            "every list endpoint",
        ),
        (
            [
                {
                    **PRODUCT,
                    "fields": "name:str(1000), price:decimal",
                    "history": [PRODUCT["fields"]],
                }
            ],
            "feature 'product': field 'name': str length 1000 is over 660",
        ),
        (
            [good(fields="title:str(3000)")],
            "feature 'order': field 'title': str length 3000 is over 660, the most a database "
            "index holds at 4 bytes a character",
        ),
        ([good(fields="total:integer")], "feature 'order': field 'total': unknown type 'integer'"),
        ([good(fields="total:int, total:int")], "feature 'order': field 'total' is declared twice"),
        ([good(fields="total:int,")], "feature 'order': field #2 is empty (stray comma?)"),
        (
            [PRODUCT, good(fields="status:enum(only)")],
            "feature 'order': field 'status': enum needs at least two values",
        ),
        (
            [good(fields="price:decimal(4,6)")],
            "feature 'order': field 'price': decimal scale 6 is greater than precision 4",
        ),
        ([good(fields="Total:int")], "feature 'order': field name 'Total' " + NOT_SNAKE_CASE),
    ],
)
def test_refusals(features: object, message: str) -> None:
    with pytest.raises(FeatureError) as caught:
        load_features(features)
    assert str(caught.value).startswith(message)
    assert features_problem(features) == str(caught.value)


def test_the_first_problem_in_list_order_is_reported() -> None:
    problem = features_problem([good(domain="Bad"), good(name="Bad")])
    assert problem.startswith("feature #1 domain 'Bad'")


def test_features_problem_explains_unknown_keys_of_any_type() -> None:
    # A YAML mapping may have keys that are not strings (``1: x``); the validator must still
    # answer with a message rather than crash.
    item: dict[object, object] = {
        "domain": "sales",
        "name": "order",
        "fields": "total:int",
        1: "x",
        "extra": 2,
    }
    assert features_problem([item]).startswith(f"features item #1 {KEYS}; unknown ")


def test_the_list_sorts_by_the_timestamps_and_the_filterable_fields() -> None:
    [feature] = load_features(
        [{"domain": "sales", "name": "order", "fields": "code:str(8), notes:text?, total:int"}]
    )
    # The generated SortKeys gives each of them ascending and, with "-", descending.
    assert feature.sort_columns == ["created_at", "updated_at", "code", "total"]
    # The int filter parses query text strictly with its own type.
    assert feature.dto_imports == [
        "shared.models.input_types.DbInt",
        "shared.models.input_types.DbStr",
        "shared.models.input_types.QueryInt",
    ]
