"""Day two: a committed service with rows renames a feature through `rename-feature`.

The service has a business rule in the feature's editor service, a test of it in the feature's
test file and a test file of the team's own; rows are written through its API on PostgreSQL and
on SQLite. The rename moves the team's edits to the renamed files, renames the tables in a new
revision (no shipped migration changes), and keeps the rows, their history and the old paths.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.answer_sets import SEVERAL_FEATURES
from tests.conftest import Completed, Service, snapshot_template
from tests.live_service import RunningService, serving
from tests.test_changing_features import (
    ROUTE,
    databases,
    migration_files,
    upgrade,
    write_products,
)
from tests.test_postgres import postgres
from tests.test_update_lifecycle import (
    PRODUCT,
    PRODUCT_RULE,
    PRODUCT_RULE_IMPORTS,
    PRODUCT_RULE_TEST,
    PRODUCT_SERVICE,
    TEMPLATE_SCRIPT,
    assert_gates_pass,
    assert_ok,
    commit_all,
    edit,
    generate,
    leftover_conflicts,
    status,
)

pytestmark = [pytest.mark.generation, pytest.mark.lifecycle, pytest.mark.postgres]

__all__ = ["postgres"]  # the fixture, used by name

NEW_ROUTE = "/catalog/articles"
ARTICLE_SERVICE = "src/shared/services/catalog_services/article_editor_service.py"
MISSING_ID = "00000000-0000-4000-8000-000000000000"
TEAM_OWN_TEST = "tests/test_pricing.py"


def rename(service: Service, *names: str) -> Completed:
    """Run the documented command."""
    return service.uv_run(TEMPLATE_SCRIPT, "rename-feature", "--trust", "catalog", *names)


def unfollowed(served: RunningService, method: str, path: str) -> tuple[int, str]:
    """Send a request without following a redirect: its status and Location."""
    address = urlsplit(served.base_url)
    connection = http.client.HTTPConnection(address.netloc, timeout=10)
    try:
        connection.request(method, path, headers={"Authorization": f"Bearer {served.token}"})
        response = connection.getresponse()
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


def write_team_code(service: Service) -> None:
    """A business rule, its test in the feature's test file, and a test file of the team's."""
    rules = service.path / PRODUCT_SERVICE
    edit(rules, *PRODUCT_RULE)
    for old, new in zip(PRODUCT_RULE_IMPORTS[::2], PRODUCT_RULE_IMPORTS[1::2], strict=True):
        edit(rules, old, new)
    feature_test = service.path / "tests/features/test_product.py"
    feature_test.write_text(feature_test.read_text() + PRODUCT_RULE_TEST)
    (service.path / TEAM_OWN_TEST).write_text(
        '"""The team\'s own checks of product prices."""\n\n'
        "from decimal import Decimal\n\n"
        "from factories import new_product\n\n\n"
        "def test_a_new_product_has_no_negative_price() -> None:\n"
        '    assert Decimal(new_product()["price"]) >= 0\n'
    )
    commit_all(service.path, "The team's rule for product names")


def test_renaming_a_feature_moves_the_teams_code_and_keeps_rows_history_and_paths(
    tmp_path: Path, postgres: Callable[[str], str]
) -> None:
    template = snapshot_template(tmp_path / "template")
    service = generate(template, tmp_path / "inventory-service", vcs_ref="0.1.0")
    write_team_code(service)
    envs = databases(tmp_path, postgres)
    first = {}
    for kind, env in envs.items():
        with serving(service, env, tmp_path / f"{kind}-before.log") as live:
            first[kind] = write_products(live)
    shipped = migration_files(service)
    # A client's token, issued before the rename with the permission of the name then.
    minted = service.uv_run(
        service.slug, "token", "--sub", "u-1", "--name", "Old", "--permission", "product:read"
    )
    assert_ok(minted)
    old_token = minted.stdout.strip()

    refused = rename(service, "product", "product")
    assert refused.returncode == 2
    assert "nothing to rename" in refused.stderr
    renamed = rename(service, "product", "article")
    assert_ok(renamed)
    assert "still name 'product'" in renamed.stdout
    assert f"  {TEAM_OWN_TEST}" in renamed.stdout.splitlines()
    assert leftover_conflicts(service.path) == []

    # The shipped migrations stay byte for byte; one revision renames the tables.
    migrations = migration_files(service)
    assert {name: migrations[name] for name in shipped} == shipped
    assert sorted(set(migrations) - set(shipped)) == ["article_0002_rename_product_to_article.py"]
    # The team's rule and its test moved to the renamed files, under the new names.
    assert not (service.path / PRODUCT_SERVICE).exists()
    rules = (service.path / ARTICLE_SERVICE).read_text()
    assert "class ArticleEditorService(" in rules
    assert '"""An article\'s name holds a letter (the team\'s rule)."""' in rules
    assert 'msg = "an article name needs a letter"' in rules
    feature_test = (service.path / "tests/features/test_article.py").read_text()
    assert "def test_an_article_name_needs_a_letter(" in feature_test
    assert 'client.post("/catalog/articles", json=body' in feature_test
    changed = {line[3:] for line in status(service.path).splitlines()}
    assert {PRODUCT_SERVICE, ARTICLE_SERVICE} <= changed
    # The team renames what the command listed, as it would.
    own_test = service.path / TEAM_OWN_TEST
    own_test.write_text(own_test.read_text().replace("product", "article"))
    commit_all(service.path, "Rename product to article")

    for kind, env in envs.items():
        upgraded = upgrade(service, env)
        assert_ok(upgraded)
        assert upgraded.stdout.strip() == "applied: article_0002", kind
    fresh = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    assert_ok(upgrade(service, fresh))
    for kind, env in [*envs.items(), ("fresh", fresh)]:
        checked = service.uv_run(service.slug, "db", "check", env=env)
        assert_ok(checked)
        assert checked.stdout.strip() == "database schema matches the models", kind

    for kind, env in envs.items():
        with serving(service, env, tmp_path / f"{kind}-after.log") as served:
            product = first[kind]
            page = served.request("GET", f"{NEW_ROUTE}?sort=created_at").body["items"]
            assert [item["name"] for item in page] == ["Renamed", "Widget 1", "Widget 2"], kind
            # The old paths answer 308 for every method, the query string kept.
            for method in ("GET", "PATCH", "POST"):
                moved = unfollowed(served, method, f"{ROUTE}/{product['id']}/audit?limit=2")
                assert moved == (308, f"{NEW_ROUTE}/{product['id']}/audit?limit=2"), kind
            assert unfollowed(served, "GET", ROUTE) == (308, NEW_ROUTE)
            # A token issued before the rename, with the old permission, still reads.
            read = served.request("GET", NEW_ROUTE, token=old_token)
            assert read.status == 200, read.body
            # The history from before the rename reads on: its codes are those of then.
            trail = served.request("GET", f"{NEW_ROUTE}/{product['id']}/audit").body["items"]
            assert [entry["action_code"] for entry in trail] == [
                "PRODUCT_UPDATED",
                "PRODUCT_CREATED",
            ]
            as_of = served.request(
                "GET", f"{NEW_ROUTE}/{product['id']}?as_of={product['updated_at']}"
            )
            assert as_of.status == 200, as_of.body
            assert as_of.body["name"] == "Widget 0"
            reverted = served.request(
                "POST",
                f"{NEW_ROUTE}/{product['id']}/audit/{trail[-1]['id']}/revert",
                headers={"If-Match": '"2"'},
            )
            assert reverted.status == 200, reverted.body
            assert reverted.body["name"] == "Widget 0"
            # The team's rule holds under the new name.
            refused_name = served.request("POST", NEW_ROUTE, {"name": "1234", "price": "1.00"})
            assert refused_name.status == 409, refused_name.body
            after = served.request("GET", f"{NEW_ROUTE}/{product['id']}/audit").body["items"]
            assert after[0]["action_code"] == "ARTICLE_UPDATED"
        verified = service.uv_run(service.slug, "audit", "verify", env=env)
        assert_ok(verified)
        assert re.search(r"\bintact\b", verified.stdout), verified.stdout

    # A database that went back below the rename gets the old tables again; none may once
    # entries were written under the new name (their hashes and codes have it).
    down = service.uv_run("alembic", "downgrade", "article@-1", env=fresh)
    assert_ok(down)
    assert_ok(upgrade(service, fresh))
    refused_down = service.uv_run("alembic", "downgrade", "article@-1", env=envs["sqlite"])
    assert refused_down.returncode != 0
    assert "audit rows were written as article" in refused_down.stderr

    # Day two goes on under the new name: a change of its fields is the branch's next revision.
    changed_fields = service.uv_run(
        TEMPLATE_SCRIPT,
        "change-feature",
        "--trust",
        "catalog",
        "article",
        "--fields",
        f"{PRODUCT['fields']}, weight_grams:int=0",
    )
    assert_ok(changed_fields)
    assert "article_0003_add_weight_grams.py" in migration_files(service)
    commit_all(service.path, "Weigh articles")
    for kind, env in envs.items():
        upgraded = upgrade(service, env)
        assert_ok(upgraded)
        assert upgraded.stdout.strip() == "applied: article_0003", kind
    assert_gates_pass(service)


def test_renaming_a_feature_that_references_point_at_keeps_them_on_any_database(
    tmp_path: Path, postgres: Callable[[str], str]
) -> None:
    # Products refer to categories, and categories to their parent: category becomes section.
    template = snapshot_template(tmp_path / "template")
    features = SEVERAL_FEATURES["features"]
    service = generate(template, tmp_path / "inventory-service", "0.1.0", features)
    envs = databases(tmp_path, postgres)
    rows = {}
    for kind, env in envs.items():
        with serving(service, env, tmp_path / f"{kind}-before.log") as live:
            parent = live.request("POST", "/catalog/categories", {"title": "Lighting"}).body
            child = {"title": "Lamps", "parent": parent["id"]}
            child = live.request("POST", "/catalog/categories", child).body
            product = {"name": "Lamp", "sku": "LAMP-1", "price": "2", "category": child["id"]}
            product = live.request("POST", "/catalog/products", product).body
            rows[kind] = (parent["id"], child["id"], product["id"])
    shipped = migration_files(service)

    assert_ok(rename(service, "category", "section"))
    # The shipped migrations still name the table category; the rename runs after the
    # product's first one, which adds its foreign key under that name.
    migrations = migration_files(service)
    assert {name: migrations[name] for name in shipped} == shipped
    rename_revision = migrations["section_0002_rename_category_to_section.py"].decode()
    assert 'depends_on: str | Sequence[str] | None = ("product_0001",)' in rename_revision
    model = (service.path / "src/shared/db/models/catalog_models/product.py").read_text()
    assert 'foreign_key="section.id"' in model
    commit_all(service.path, "Rename category to section")
    assert_gates_pass(service)

    for kind, env in envs.items():
        assert_ok(upgrade(service, env))
        with serving(service, env, tmp_path / f"{kind}-after.log") as live:
            parent_id, child_id, product_id = rows[kind]
            read = live.request("GET", f"/catalog/products/{product_id}?expand=category")
            assert read.status == 200, read.body
            assert read.body["expanded"]["category"]["title"] == "Lamps"
            assert read.body["expanded"]["category"]["parent"] == parent_id
            children = live.request("GET", f"/catalog/sections/{child_id}/products")
            assert [item["id"] for item in children.body["items"]] == [product_id]
            # The keys still hold: a parent with a live child stays, a missing target is a 422.
            refused = live.request("DELETE", f"/catalog/sections/{parent_id}")
            assert refused.status == 409, refused.body
            body = {"name": "Lamp", "sku": "LAMP-2", "price": "2", "category": MISSING_ID}
            assert live.request("POST", "/catalog/products", body).status == 422
            report = live.request("GET", "/audit/verify")
            assert all(trail["breaks"] == [] for trail in report.body["trails"]), report.body
