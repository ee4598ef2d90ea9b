"""Unit tests of references between features: the ``ref`` grammar and the answer's checks."""

from __future__ import annotations

from typing import Any

import pytest

from extensions.features import features_problem, load_features, referenced_features
from extensions.fields import FieldSpecError, parse_field


def feature(domain: str, name: str, fields: str) -> dict[str, Any]:
    """One item of the ``features`` answer."""
    return {"domain": domain, "name": name, "fields": fields}


SHOP = [
    feature("sales", "invoice", "number:str(20), customer:ref(sales.customer)"),
    feature("sales", "customer", "name:str(80)"),
    feature(
        "catalog", "category", "title:str(80), parent:ref(catalog.category, on_delete=cascade)?"
    ),
]


def test_a_reference_names_its_target_and_what_deleting_it_does() -> None:
    spec = parse_field("customer:ref(sales.customer)", "invoice")
    assert (spec.target_domain, spec.target, spec.on_delete) == ("sales", "customer", "restrict")
    assert spec.is_reference
    assert not spec.optional
    assert not spec.refers_to_own_feature
    parent = parse_field("parent:ref(catalog.category, on_delete=cascade)?", "category")
    assert (parent.on_delete, parent.optional, parent.refers_to_own_feature) == (
        "cascade",
        True,
        True,
    )
    assert parent.table_field_args() == [
        "default=None",
        "max_length=36",
        'foreign_key="category.id"',
    ]
    assert parent.dto_type == "EntityId"
    assert parent.filterable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("customer:ref", "ref needs its target, e.g. ref(DOMAIN.FEATURE)"),
        ("customer:ref(customer)", "ref target 'customer' is not DOMAIN.FEATURE"),
        ("customer:ref(Sales.customer)", "ref target 'Sales.customer' is not DOMAIN.FEATURE"),
        ("customer:ref(sales.customer, on_delete=nullify)", "is not on_delete=restrict or"),
        ("customer:ref(sales.customer, cascade)", "ref option 'cascade' is not on_delete"),
        ("customer:ref(sales.customer):unique", "ref fields can't be unique or indexed"),
        ("customer:ref(sales.customer)=x", "ref fields can't have a default"),
    ],
)
def test_a_malformed_reference_is_refused_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(FieldSpecError, match=r"^field 'customer'") as refused:
        parse_field(text, "invoice")
    assert message in str(refused.value)


def test_targets_may_be_declared_in_any_order_and_their_revisions_come_first() -> None:
    invoice, customer, category = load_features(SHOP)
    assert invoice.depends_on(invoice.fields) == ("customer_0001",)
    # A reference to its own feature needs no other branch; a feature without any, nothing.
    assert category.depends_on(category.fields) == ()
    assert customer.references == []
    assert invoice.reference_declarations == [
        "on_target_delete: ClassVar[Mapping[str, str]] = {'customer': 'restrict'}"
    ]
    assert referenced_features(SHOP) == ["category", "customer"]


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (
            [feature("sales", "invoice", "customer:ref(sales.client)")],
            "feature 'invoice': field 'customer' refers to sales.client, which is not a feature "
            "of the service (its features: sales.invoice)",
        ),
        (
            [*SHOP[1:], feature("sales", "invoice", "customer:ref(crm.customer)")],
            "field 'customer' refers to crm.customer, but customer is in the domain 'sales': "
            "write ref(sales.customer)",
        ),
        (
            [feature("catalog", "category", "title:str, parent:ref(catalog.category)")],
            "feature 'category': its required references form a cycle (category -> category)",
        ),
        (
            [
                feature("s", "order", "buyer:ref(s.buyer)"),
                feature("s", "buyer", "first_order:ref(s.order)"),
            ],
            "feature 'order': its required references form a cycle (order -> buyer -> order)",
        ),
        (
            [
                feature(
                    "sales",
                    "customer",
                    "name:str",
                ),
                {**feature("sales", "invoice", "customer:ref(sales.customer)")},
                {**feature("sales", "legacy", "x:int"), "removed": "keep-data"},
                feature("sales", "note", "about:ref(sales.legacy)"),
            ],
            "field 'about' refers to sales.legacy, which is not a feature of the service",
        ),
    ],
)
def test_references_that_cant_be_generated_are_refused(
    features: list[dict[str, Any]], message: str
) -> None:
    assert message in features_problem(features)


def test_a_cycle_through_an_optional_reference_is_fine() -> None:
    features = [
        feature("s", "order", "buyer:ref(s.buyer)"),
        feature("s", "buyer", "first_order:ref(s.order)?"),
    ]
    assert features_problem(features) == ""
