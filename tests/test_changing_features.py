"""Day two: a committed service with rows changes its fields through `change-feature`.

Each test generates a service from a template release, commits it, writes rows through its
API on PostgreSQL and on SQLite, changes the feature's fields with the documented command,
upgrades both databases and reads the rows, the history and the schema back. A shipped
migration is never edited: every change is a new revision on the feature's own branch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Completed, Service, git, snapshot_template
from tests.live_service import RunningService, serving
from tests.test_postgres import postgres
from tests.test_update_lifecycle import (
    PRODUCT,
    TEMPLATE_SCRIPT,
    VERSIONS,
    assert_gates_pass,
    assert_ok,
    commit_all,
    generate,
    status,
)

pytestmark = [pytest.mark.generation, pytest.mark.lifecycle, pytest.mark.postgres]

__all__ = ["postgres"]  # the fixture, used by name

ROUTE = "/catalog/products"
# The "Done when" of the change-a-feature issue, one command each.
DAY_TWO_CHANGES = [
    "name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true, weight_grams:int=0",
    "name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true, weight_grams:int=0,"
    " barcode:str(32)?:unique",
    "title<-name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true,"
    " weight_grams:int=0, barcode:str(32)?:unique",
    "title:str(200), description:text?, price:decimal(10,2), in_stock:bool=true,"
    " weight_grams:int=0, barcode:str(32)?:unique",
    # A reference (to the feature's own rows: the service has no other feature).
    "title:str(200), description:text?, price:decimal(10,2), in_stock:bool=true,"
    " weight_grams:int=0, barcode:str(32)?:unique, parent:ref(catalog.product)?",
]


def databases(tmp_path: Path, postgres: Callable[[str], str]) -> dict[str, dict[str, str]]:
    """A database of each kind the service supports, as DATABASE_URL settings."""
    return {
        "postgresql": {"DATABASE_URL": postgres("changes")},
        "sqlite": {"DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}"},
    }


def change_feature(service: Service, fields: str, *drops: str) -> Completed:
    """Run the documented command on the service's one feature."""
    drop_options = [option for field in drops for option in ("--drop", field)]
    return service.uv_run(
        TEMPLATE_SCRIPT,
        "change-feature",
        "--trust",
        "catalog",
        "product",
        "--fields",
        fields,
        *drop_options,
    )


def migration_files(service: Service) -> dict[str, bytes]:
    """The service's migrations, by file name, with their bytes."""
    return {path.name: path.read_bytes() for path in (service.path / VERSIONS).glob("*.py")}


def upgrade(service: Service, env: dict[str, str]) -> Completed:
    """``db upgrade`` on one database."""
    return service.uv_run(service.slug, "db", "upgrade", env=env)


def write_products(live: RunningService) -> dict[str, Any]:
    """Create three products and rename the first; return it as it was at version 1."""
    created = [
        live.request("POST", ROUTE, {"name": f"Widget {n}", "price": "9.99"}) for n in range(3)
    ]
    assert [reply.status for reply in created] == [201, 201, 201]
    first = created[0].body
    renamed = live.request(
        "PATCH", f"{ROUTE}/{first['id']}", {"name": "Renamed"}, headers={"If-Match": '"1"'}
    )
    assert renamed.status == 200, renamed.body
    return dict(first)


def test_a_service_with_rows_takes_five_changes_with_new_migrations_only(
    tmp_path: Path, postgres: Callable[[str], str]
) -> None:
    template = snapshot_template(tmp_path / "template")
    service = generate(template, tmp_path / "inventory-service", vcs_ref="0.1.0")
    envs = databases(tmp_path, postgres)
    first = {}
    for kind, env in envs.items():
        with serving(service, env, tmp_path / f"{kind}-before.log") as live:
            first[kind] = write_products(live)
    shipped = migration_files(service)

    for number, fields in enumerate(DAY_TWO_CHANGES, start=2):
        assert_ok(change_feature(service, fields))
        for env in envs.values():
            upgraded = upgrade(service, env)
            assert_ok(upgraded)
            assert upgraded.stdout.strip() == f"applied: product_{number:04d}"
        commit_all(service.path, f"Change the product's fields ({number})")

    migrations = migration_files(service)
    assert {name: migrations[name] for name in shipped} == shipped
    assert sorted(set(migrations) - set(shipped)) == [
        "product_0002_add_weight_grams.py",
        "product_0003_add_barcode.py",
        "product_0004_rename_name_to_title.py",
        "product_0005_change_title.py",
        "product_0006_add_parent.py",
    ]
    fresh = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    assert_ok(upgrade(service, fresh))
    for kind, env in [*envs.items(), ("fresh", fresh)]:
        checked = service.uv_run(service.slug, "db", "check", env=env)
        assert_ok(checked)
        assert checked.stdout.strip() == "database schema matches the models", kind

    for kind, env in envs.items():
        with serving(service, env, tmp_path / f"{kind}-after.log") as served:
            read_back(served, first[kind], kind)
        verified = service.uv_run(service.slug, "audit", "verify", env=env)
        assert_ok(verified)
    assert_gates_pass(service)


def read_back(served: RunningService, product: dict[str, Any], kind: str) -> None:
    """The rows, an as-of read and a revert from before the changes, after them."""
    page = served.request("GET", f"{ROUTE}?sort=created_at").body["items"]
    assert [item["title"] for item in page] == ["Renamed", "Widget 1", "Widget 2"], kind
    assert {(item["weight_grams"], item["barcode"]) for item in page} == {(0, None)}
    as_of = served.request("GET", f"{ROUTE}/{product['id']}?as_of={product['updated_at']}")
    assert as_of.status == 200, as_of.body
    assert as_of.body["title"] == "Widget 0"
    assert "name" not in as_of.body
    trail = served.request("GET", f"{ROUTE}/{product['id']}/audit").body["items"]
    reverted = served.request(
        "POST",
        f"{ROUTE}/{product['id']}/audit/{trail[-1]['id']}/revert",
        headers={"If-Match": '"2"'},
    )
    assert reverted.status == 200, reverted.body
    assert reverted.body["title"] == "Widget 0"
    # The change's title is the longer one the last revision allows.
    longer = served.request(
        "PATCH",
        f"{ROUTE}/{product['id']}",
        {"title": "x" * 200, "barcode": f"B-{kind}"},
        headers={"If-Match": '"3"'},
    )
    assert longer.status == 200, longer.body
    # The reference the last change added: set, checked, filtered, and kept by deletes.
    child = f"{ROUTE}/{page[1]['id']}"
    linked = served.request("PATCH", child, {"parent": product["id"]}, headers={"If-Match": '"1"'})
    assert linked.status == 200, linked.body
    unknown = {"parent": "00000000-0000-4000-8000-000000000000"}
    refused = served.request("PATCH", child, unknown, headers={"If-Match": '"2"'})
    assert refused.status == 422, refused.body
    children = served.request("GET", f"{ROUTE}?parent={product['id']}").body["items"]
    assert [item["id"] for item in children] == [page[1]["id"]]
    kept = served.request("DELETE", f"{ROUTE}/{product['id']}", headers={"If-Match": '"4"'})
    assert kept.status == 409, kept.body


def test_what_would_lose_data_or_break_rows_is_refused_and_changes_nothing(
    tmp_path: Path, postgres: Callable[[str], str]
) -> None:
    template = snapshot_template(tmp_path / "template")
    service = generate(template, tmp_path / "inventory-service", vcs_ref="0.1.0")
    before = migration_files(service)
    description_left_out = "name:str(120), price:decimal(10,2), in_stock:bool=true"
    refusals = {
        "the new list leaves out description: that drops the column": change_feature(
            service, description_left_out
        ),
        "--drop price: only a field the new list leaves out is dropped": change_feature(
            service, PRODUCT["fields"] + ", sku:str(20)?", "price"
        ),
        "field 'sku' is required and has no default": change_feature(
            service, PRODUCT["fields"] + ", sku:str(20)"
        ),
        "decimal to float has no lossless conversion": change_feature(
            service, PRODUCT["fields"].replace("price:decimal(10,2)", "price:float")
        ),
        "is renamed from 'label', which is not a field of 'product'": change_feature(
            service, PRODUCT["fields"].replace("name:", "title<-label:")
        ),
        "already": change_feature(service, PRODUCT["fields"]),
    }
    for message, refused in refusals.items():
        assert refused.returncode == 2, refused.explain()
        assert message in refused.stderr, refused.explain()
        assert status(service.path) == ""
    assert migration_files(service) == before

    # A change that the stored rows would break: each database's upgrade counts them and
    # stops before changing anything.
    envs = databases(tmp_path, postgres)
    for kind, env in envs.items():
        with serving(service, env, tmp_path / f"{kind}.log") as served:
            for name in ("A long product name", "A long product name", "Short"):
                created = served.request("POST", ROUTE, {"name": name, "price": "1.00"})
                assert created.status == 201, created.body
    sqlite_file = tmp_path / "service.db"
    schema_before = sqlite_schema(sqlite_file)
    narrowed = PRODUCT["fields"].replace("name:str(120)", "name:str(10):unique")
    assert_ok(change_feature(service, narrowed))
    for kind, env in envs.items():
        refused = upgrade(service, env)
        assert refused.returncode == 1, refused.explain()
        assert refused.stderr.startswith(
            "migration error: product_0002 can't run: 2 rows whose name is longer than 10"
        ), kind
        current = service.uv_run("alembic", "current", env=env)
        assert_ok(current)
        assert "product_0001" in current.stdout, kind
    assert sqlite_schema(sqlite_file) == schema_before
    git("reset", "-q", "--hard", cwd=service.path)
    git("clean", "-q", "-fd", cwd=service.path)

    # The drop the first refusal asked for, named: the column goes, the migration is new.
    assert_ok(change_feature(service, description_left_out, "description"))
    assert "product_0002_drop_description.py" in migration_files(service)
    commit_all(service.path, "Drop the product's description")

    # Answers edited by hand would make Copier change nothing: refused, naming the command.
    answers = service.path / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("in_stock:bool=true", "in_stock:bool=false"))
    commit_all(service.path, "Edit the answers by hand")
    updated = service.uv_run(TEMPLATE_SCRIPT, "update", "--trust")
    assert updated.returncode == 2, updated.explain()
    assert "differ from those the service was rendered from" in updated.stderr
    assert "change-feature" in updated.stderr
    assert status(service.path) == ""


def sqlite_schema(path: Path) -> list[tuple[str, str]]:
    """Every table's and index's definition in a SQLite database."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()
    return [(str(name), str(sql)) for name, sql in rows]


# Named after "shared": Alembic takes this branch down after the shared one, whose
# shared_0003 has dropped the list indexes that the feature's revision added by then.
WIDGET = {
    "domain": "shop",
    "name": "widget",
    "fields": "label:str(40), code:str(20):unique, note:str(100)?, qty:int=0, amount:int?,"
    " made_on:date?, body:str(200)?, tag:str(10)?:index, status:enum(new|old)=new,"
    " gone:str(10)?, flag:bool=false",
}
# Every kind of change at once: rename and widen, drop a unique and an index, make a field
# required (filled with its default) and another optional, the four lossless conversions,
# drop an enum and a string, add unique, enum, json and defaulted fields.
EVERY_KIND = (
    "title<-label:str(80):index, code:str(20), note:str(100)=none, qty:decimal(10,2)=0,"
    " amount:float?, made_on:datetime?, body:text?, tag:str(10)?, flag:bool?, sku:str(16)?:unique,"
    " size:enum(s|m|l)=m, extra:json?, weight:int=5"
)
WIDGETS = "/shop/widgets"


def test_every_kind_of_change_keeps_the_rows_and_reads_history_as_the_fields_are_now(
    tmp_path: Path, postgres: Callable[[str], str]
) -> None:
    template = snapshot_template(tmp_path / "template")
    service = generate(template, tmp_path / "widget-service", vcs_ref="0.1.0", features=[WIDGET])
    envs = databases(tmp_path, postgres)
    first = {}
    full = {
        "label": "One",
        "code": "C1",
        "qty": 3,
        "amount": 7,
        "made_on": "2024-02-03",
        "body": "b",
        "tag": "t",
        "status": "old",
        "gone": "g",
        "flag": True,
    }
    for kind, env in envs.items():
        with serving(service, env, tmp_path / f"{kind}-before.log") as live:
            created = live.request("POST", WIDGETS, full)
            assert created.status == 201, created.body
            assert live.request("POST", WIDGETS, {"label": "Two", "code": "C2"}).status == 201
            first[kind] = created.body
    changed = service.uv_run(
        TEMPLATE_SCRIPT,
        "change-feature",
        "--trust",
        "shop",
        "widget",
        "--fields",
        EVERY_KIND,
        "--drop",
        "status",
        "--drop",
        "gone",
    )
    assert_ok(changed)
    commit_all(service.path, "Change every kind of field")
    for kind, env in envs.items():
        assert_ok(upgrade(service, env))
        assert_ok(service.uv_run(service.slug, "db", "check", env=env))
        with serving(service, env, tmp_path / f"{kind}-after.log") as served:
            page = served.request("GET", f"{WIDGETS}?sort=created_at").body["items"]
            widget = first[kind]
            expected = {
                "title": "One",
                "code": "C1",
                "note": "none",
                "qty": "3.00",
                "amount": 7.0,
                "made_on": "2024-02-03T00:00:00Z",
                "body": "b",
                "tag": "t",
                "flag": True,
                "sku": None,
                "size": "m",
                "extra": None,
                "weight": 5,
            }
            assert {key: page[0][key] for key in expected} == expected, kind
            assert (page[1]["title"], page[1]["note"], page[1]["qty"]) == ("Two", "none", "0.00")
            assert not {"label", "status", "gone"} & set(page[0])
            # The entry written before the change reads as the fields are now...
            as_of = served.request("GET", f"{WIDGETS}/{widget['id']}?as_of={widget['created_at']}")
            assert as_of.status == 200, as_of.body
            assert {key: as_of.body[key] for key in expected} == expected, kind
            # ...and a revert to it, which would lose the dropped status, is explained.
            entry = served.request("GET", f"{WIDGETS}/{widget['id']}/audit").body["items"][-1]
            reverted = served.request(
                "POST", f"{WIDGETS}/{widget['id']}/audit/{entry['id']}/revert"
            )
            assert reverted.status == 409, reverted.body
            assert "status" in reverted.body["detail"]
        # The revision goes back down, with the rows, and up again.
        assert_ok(service.uv_run("alembic", "downgrade", "widget@-1", env=env))
        assert_ok(upgrade(service, env))
        assert_ok(service.uv_run(service.slug, "audit", "verify", env=env))
    assert_ok(service.uv_run("ruff", "check", "."))
    assert_ok(service.uv_run("ruff", "format", "--check", "--diff", "."))
    assert_ok(service.uv_run("mypy"))
    for env in ({}, {"TEST_DATABASE_URL": postgres("fresh")}):
        migrations = service.uv_run(
            "pytest", "-q", "-p", "no:cacheprovider", "tests/test_migrations.py", env=env
        )
        assert_ok(migrations)
