"""What a change of a feature's fields migrates, refuses and keeps (``extensions.changes``).

These read the comparison the revision template renders from; tests/test_changing_features.py
runs the rendered migrations on databases with rows.
"""

from __future__ import annotations

import pytest

from extensions.changes import FieldChanges
from extensions.features import FeatureError, load_features, migrated_features, retired_tables
from extensions.fields import parse_fields

PRODUCT = "name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true"


def changes(before: str, after: str) -> FieldChanges:
    """The change of the ``product`` table between two field lists."""
    return FieldChanges.between(
        "product", parse_fields(before, "product"), parse_fields(after, "product")
    )


def product(*lists: str, **extra: object) -> dict[str, object]:
    """A ``features`` item whose field lists are ``lists``, oldest first."""
    *history, fields = lists
    item: dict[str, object] = {"domain": "catalog", "name": "product", "fields": fields}
    if history:
        item["history"] = list(history)
    return {**item, **extra}


def test_an_added_field_with_a_default_is_filled_then_made_required() -> None:
    migration = changes(PRODUCT, f"{PRODUCT}, weight_grams:int=0").migration()
    assert [spec.name for spec in migration.added_columns] == ["weight_grams"]
    assert [(fill.column, fill.value, fill.only_nulls) for fill in migration.fills] == [
        ("weight_grams", "0", False)
    ]
    assert [(change.name, change.nullable) for change in migration.altered] == [
        ("weight_grams", False)
    ]
    assert [index.name for index in migration.created_indexes] == ["ix_product_by_weight_grams"]
    assert migration.checks == ()


def test_a_rename_moves_the_column_and_its_indexes_and_goes_back_down() -> None:
    change = changes(PRODUCT, PRODUCT.replace("name:str(120)", "title<-name:str(200):unique"))
    up, down = change.migration(), change.reversed().migration(downgrade=True)
    [renamed] = up.altered
    assert (renamed.name, renamed.new_name, renamed.type_) == (
        "name",
        "title",
        "sa.String(length=200)",
    )
    assert [index.name for index in up.dropped_indexes] == ["ix_product_by_name"]
    assert [index.name for index in up.created_indexes] == [
        "ix_product_by_title",
        "uq_product_title",
    ]
    # The new unique constraint counts duplicates under the column's old name, before it moves.
    assert [check.problem for check in up.checks] == ["rows whose name is not unique"]
    assert [(c.name, c.new_name) for c in down.altered] == [("title", "name")]
    assert [check.where for check in down.checks] == ["length(title) > 120"]
    assert change.description == "rename_name_to_title_and_change_title"


@pytest.mark.parametrize(
    ("after", "where"),
    [
        (PRODUCT.replace("str(120)", "str(40)"), "length(name) > 40"),
        (PRODUCT.replace("description:text?", "description:text=none"), None),
        (PRODUCT.replace("description:text?", "description:text"), "description IS NULL"),
        (PRODUCT.replace("decimal(10,2)", "decimal(6,2)"), "abs(price) >= 10000"),
    ],
)
def test_a_change_that_rows_could_break_counts_them_first(after: str, where: str | None) -> None:
    migration = changes(PRODUCT, after).migration()
    assert [check.where for check in migration.checks] == ([where] if where else [])


def test_a_field_made_required_with_a_default_fills_only_its_nulls() -> None:
    migration = changes(PRODUCT, PRODUCT.replace("text?", "text=none")).migration()
    assert [(fill.column, fill.value, fill.only_nulls) for fill in migration.fills] == [
        ("description", '"none"', True)
    ]


@pytest.mark.parametrize(
    ("after", "message"),
    [
        (f"{PRODUCT}, sku:str(20)", "give it one (sku:str(20)=DEFAULT)"),
        (PRODUCT.replace("decimal(10,2)", "float"), "decimal to float has no lossless"),
        (PRODUCT.replace("decimal(10,2)", "decimal(10,1)"), "a smaller scale would round"),
        (PRODUCT.replace("name:", "title<-label:"), "renamed from 'label', which is not"),
        (PRODUCT.replace("name:", "title<-name:") + ", name:str(9)?", "can't take its name"),
    ],
)
def test_what_would_lose_data_is_refused_with_the_way_that_works(after: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        changes(PRODUCT, after).migration()


def test_an_enum_field_can_be_added_or_dropped_but_not_changed() -> None:
    with_enum = f"{PRODUCT}, status:enum(new|old)=new"
    dropped = changes(with_enum, PRODUCT).migration()
    assert [index.name for index in dropped.dropped_indexes if index.check] == ["ck_product_status"]
    with pytest.raises(ValueError, match="changing an enum's values"):
        changes(with_enum, with_enum.replace("new|old", "new|old|gone")).migration()


def test_a_history_renders_one_revision_per_change_and_reads_old_names_now() -> None:
    [feature] = load_features(
        [
            product(
                PRODUCT,
                f"{PRODUCT}, weight:int=0",
                PRODUCT.replace("name:", "title<-name:") + ", weight:int=0",
                PRODUCT.replace("name:", "label<-title:") + ", weight:decimal(8,2)=0",
            )
        ]
    )
    assert [revision.file_name for revision in feature.revisions] == [
        "product_0002_add_weight.py",
        "product_0003_rename_name_to_title.py",
        "product_0004_rename_title_to_label_and_change_weight.py",
    ]
    assert feature.initial.fields_spec == PRODUCT
    assert feature.renamed_fields == {"name": "label", "title": "label"}
    assert feature.retyped_fields == {"weight": ("int", "decimal")}


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ((PRODUCT.replace("name:", "title<-name:"),), "a rename (new<-old) needs an earlier"),
        (
            (
                PRODUCT,
                PRODUCT.replace("name:str(120), ", ""),
                PRODUCT.replace("name:str(120)", "name:str(120)?"),
            ),
            "field 'name' was renamed or dropped earlier",
        ),
        (
            (PRODUCT, PRODUCT.replace("bool=true", "int=1")),
            "revision product_0002: field 'in_stock'",
        ),
    ],
)
def test_a_history_that_cant_be_migrated_is_refused(lists: tuple[str, ...], message: str) -> None:
    with pytest.raises(FeatureError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_features([product(*lists)])


def test_a_removed_feature_keeps_its_migrations_and_its_name() -> None:
    features: list[dict[str, object]] = [
        product(PRODUCT),
        {
            "domain": "catalog",
            "name": "category",
            "fields": "title:str(80)",
            "removed": "keep-data",
        },
    ]
    assert [feature.name for feature in load_features(features)] == ["product"]
    assert [feature.name for feature in migrated_features(features)] == ["product", "category"]
    assert retired_tables(features) == ["category", "category_audit"]
    dropped = [features[0], {**features[1], "removed": "drop-data"}]
    assert retired_tables(dropped) == []
    [_, category] = migrated_features(dropped)
    assert category.table_drop is not None
    assert category.table_drop.file_name == "category_0002_drop_tables.py"
    with pytest.raises(FeatureError, match="listed twice"):
        load_features([*features, {"domain": "sales", "name": "category", "fields": "n:int"}])
    with pytest.raises(FeatureError, match="at least one feature that is not removed"):
        load_features([features[1]])


def test_a_renamed_feature_keeps_each_revision_under_the_name_it_shipped_with() -> None:
    weighed = f"{PRODUCT}, weight:int=0"
    [article] = load_features(
        [
            {
                "domain": "catalog",
                "name": "article",
                "fields": f"{weighed}, code:str(8)?",
                "history": [PRODUCT, weighed, weighed],
                "renamed_from": ["product_0002"],
            }
        ]
    )
    assert article.initial.name == "product"
    assert article.revision == "product_0001"
    assert [(rev.revision, rev.down_revision, rev.file_name) for rev in article.revisions] == [
        ("product_0002", "product_0001", "product_0002_add_weight.py"),
        ("article_0004", "article_0003", "article_0004_add_code.py"),
    ]
    [rename] = article.renames
    assert (rename.revision, rename.down_revision) == ("article_0003", "product_0002")
    assert rename.file_name == "article_0003_rename_product_to_article.py"
    assert (rename.old.name, rename.old.action_prefix) == ("product", "PRODUCT")
    assert article.earlier_audit_tables == ("product_audit",)
    assert article.earlier_routes == ("/catalog/products",)
    assert article.earlier_action_prefixes == ["PRODUCT"]


def test_a_feature_renamed_twice_names_each_revision_as_it_was_then() -> None:
    [article] = load_features(
        [
            product(
                PRODUCT,
                PRODUCT,
                PRODUCT,
                name="article",
                renamed_from=["product_0001", "item_0002"],
            )
        ]
    )
    assert article.revisions == []
    assert [
        (rename.revision, rename.down_revision, rename.file_name) for rename in article.renames
    ] == [
        ("item_0002", "product_0001", "item_0002_rename_product_to_item.py"),
        ("article_0003", "item_0002", "article_0003_rename_item_to_article.py"),
    ]
    # Each rename's audit check allows the codes of every name before it.
    assert [rename.feature.earlier_action_prefixes for rename in article.renames] == [
        ["PRODUCT"],
        ["PRODUCT", "ITEM"],
    ]
    assert article.earlier_audit_tables == ("product_audit", "item_audit")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            product(PRODUCT, PRODUCT, name="article", renamed_from="product_0001"),
            "feature 'article': renamed_from must list the last revision made under each",
        ),
        (
            product(PRODUCT, PRODUCT, name="article", renamed_from=["product-1"]),
            "feature 'article': renamed_from must list",
        ),
        (
            product(PRODUCT, PRODUCT, name="article", renamed_from=["product_0002"]),
            "product_0002 is not a revision the feature made before a rename (it has 2)",
        ),
        (
            product(PRODUCT, PRODUCT, name="article", renamed_from=["article_0001"]),
            "feature 'article': renamed_from must list",
        ),
        (
            product(
                PRODUCT, f"{PRODUCT}, weight:int=0", name="article", renamed_from=["product_0001"]
            ),
            "revision article_0002 renames the feature, so its field list stays the one before it",
        ),
    ],
)
def test_a_rename_history_that_cant_be_migrated_is_refused(
    item: dict[str, object], message: str
) -> None:
    with pytest.raises(FeatureError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_features([item])


def test_a_name_a_feature_gave_up_stays_taken() -> None:
    article = product(PRODUCT, PRODUCT, name="article", renamed_from=["product_0001"])
    with pytest.raises(FeatureError, match="'article' was called 'product' before, a name"):
        load_features([article, {"domain": "sales", "name": "product", "fields": "n:int"}])


def test_a_renamed_feature_removed_with_its_data_drops_the_tables_of_its_name_now() -> None:
    item = product(PRODUCT, PRODUCT, name="article", renamed_from=["product_0001"])
    features: list[dict[str, object]] = [
        {**item, "removed": "drop-data"},
        {"domain": "catalog", "name": "category", "fields": "title:str(80)"},
    ]
    [article, _] = migrated_features(features)
    assert article.table_drop is not None
    assert article.table_drop.file_name == "article_0003_drop_tables.py"
    assert article.table_drop.down_revision == "article_0002"
    assert article.table_drop.earlier_revisions == ["product_0001", "article_0002"]
    kept = [{**item, "removed": "keep-data"}, features[1]]
    assert retired_tables(kept) == ["article", "article_audit"]
