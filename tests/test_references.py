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


def test_a_cycle_through_other_features_is_refused_even_when_optional() -> None:
    # Each table, and its first migration, comes after its targets': a cycle can't be ordered.
    features = [
        feature("s", "order", "buyer:ref(s.buyer)"),
        feature("s", "buyer", "first_order:ref(s.order)?"),
    ]
    assert features_problem(features) == (
        "feature 'order': its references form a cycle through other features (order -> buyer "
        "-> order), so neither table could be created before the other: leave one of the "
        "references out (a reference to the feature's own rows is fine)"
    )
    # An optional reference to its own rows is no such cycle.
    tree = [feature("s", "category", "parent:ref(s.category)?")]
    assert features_problem(tree) == ""


def changed(history: str, fields: str) -> list[dict[str, Any]]:
    """An answer whose invoice changed from ``history`` to ``fields``, beside two targets."""
    return [
        feature("sales", "customer", "name:str"),
        feature("sales", "client", "name:str"),
        {**feature("sales", "invoice", fields), "history": [history]},
    ]


def test_a_reference_added_to_a_live_feature_is_a_revision_with_its_foreign_key() -> None:
    answer = changed("number:int", "number:int, customer:ref(sales.customer)?")
    *_, invoice = load_features(answer)
    [revision] = invoice.revisions
    assert [spec.name for spec in revision.upgrade.added_columns] == ["customer"]
    assert invoice.depends_on(revision.added_columns) == ("customer_0001",)


@pytest.mark.parametrize(
    ("history", "fields", "message"),
    [
        (
            "number:int",
            "number:int, customer:ref(sales.customer)",
            "field 'customer' is a required reference, and the rows stored already refer to "
            "nothing: add it optional (customer:ref(sales.customer)?)",
        ),
        (
            "number:int, customer:ref(sales.customer)?",
            "number:int, customer:ref(sales.client)?",
            "a reference keeps its target (sales.customer); add a new field for sales.client",
        ),
        (
            "number:int, customer:ref(sales.customer)?",
            "number:int, buyer<-customer:ref(sales.customer)?",
            "field 'buyer': renaming a reference isn't supported",
        ),
    ],
)
def test_a_change_of_references_that_has_no_migration_is_refused(
    history: str, fields: str, message: str
) -> None:
    assert message in features_problem(changed(history, fields))


def test_on_delete_may_change_without_a_change_of_the_table() -> None:
    answer = changed(
        "number:int, customer:ref(sales.customer)?",
        "number:int, customer:ref(sales.customer, on_delete=cascade)?",
    )
    *_, invoice = load_features(answer)
    [revision] = invoice.revisions
    assert revision.upgrade.empty
    assert invoice.reference_declarations == [
        "on_target_delete: ClassVar[Mapping[str, str]] = {'customer': 'cascade'}"
    ]


def test_the_readme_examples_name_a_variable_for_each_target_id_they_send() -> None:
    # A reference alone: the PATCH example changes it, to another row.
    answer = [
        feature("sales", "customer", "name:str"),
        feature("sales", "invoice", "customer:ref(sales.customer)"),
    ]
    _, invoice = load_features(answer)
    assert invoice.create_example == {"customer": "$CUSTOMER_ID"}
    assert invoice.update_example == {"customer": "$OTHER_CUSTOMER_ID"}
    assert invoice.example_variables == [
        ("CUSTOMER_ID", "a customer"),
        ("OTHER_CUSTOMER_ID", "another customer"),
    ]
    assert invoice.update_example_json == '{"customer": "\'"$OTHER_CUSTOMER_ID"\'"}'


def test_a_renamed_target_keeps_the_name_its_references_were_written_with() -> None:
    # section was category until its revision 2 (rename-feature); the product's reference
    # was written then, and a later feature's reference names it as it is now.
    section_fields = "title:str(80), parent:ref(catalog.category)?"
    features = [
        feature("catalog", "product", "name:str, category:ref(catalog.category)?"),
        {
            **feature("catalog", "section", section_fields),
            "history": [section_fields],
            "renamed_from": ["category_0001"],
        },
        feature("catalog", "shelf", "label:str, section:ref(catalog.section)"),
    ]
    assert features_problem(features) == ""
    product, section, shelf = load_features(features)
    [category] = product.references
    # The code names the table as it is now; the migrations as the spec wrote it.
    assert (category.target, category.target_as_written) == ("section", "category")
    assert category.target_read_model == "SectionRead"
    assert product.depends_on(product.initial.references) == ("category_0001",)
    assert shelf.depends_on(shelf.initial.references) == ("section_0002",)
    [parent] = section.references
    assert (parent.target, parent.refers_to_own_feature) == ("section", True)
    # The rename runs after the product's first migration, which names the table category.
    [rename] = section.renames
    assert rename.depends_on == ("product_0001",)
    assert rename.depends_on_source == '("product_0001",)'
