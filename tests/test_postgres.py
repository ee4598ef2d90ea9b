"""Generated services on a real PostgreSQL, as one instance and as two on one database.

Migrations, drift checks, append-only audit rows; and two service processes sharing one
database keep the guarantees one process gives: one conditional writer wins, one writer takes
a unique value, no update is lost.

Needs the PostgreSQL server of the machine (``POSTGRES_ADMIN_URL``, by default the trusted
``postgres`` user on 127.0.0.1:5432); each test creates its own database and drops it after.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import LiteralString

import psycopg
import pytest
import yaml
from copier import run_copy, run_update
from psycopg import sql

from tests.answer_sets import ANSWER_SETS
from tests.conftest import Service, git, install, snapshot_template
from tests.live_service import (
    CONCURRENT_WRITERS,
    RunningService,
    race_for_one_version,
    serving,
)
from tests.test_generated_service import assert_suite_passed

ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

pytestmark = [pytest.mark.postgres, pytest.mark.generation]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[str], str]]:
    """Make a fresh database: returns its SQLAlchemy URL; every one is dropped at the end."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is needed at {ADMIN_URL} (set POSTGRES_ADMIN_URL): {error}")
    created: list[str] = []

    def database(label: str) -> str:
        name = f"cbs_{label.replace('-', '_')}_{secrets.token_hex(4)}"
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        server = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        return f"{server}/{name}"

    yield database
    for name in created:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def plain_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for psycopg."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def leftovers(url: str) -> dict[str, int]:
    """Rows left in a database's tables (its migration record aside) and schemas besides public."""
    found: dict[str, int] = {}
    with psycopg.connect(plain_url(url)) as connection:
        schemas = connection.execute(
            "SELECT nspname FROM pg_namespace "
            "WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg_%'"
        )
        found.update((f"schema {schema}", 1) for (schema,) in schemas.fetchall())
        tables = connection.execute(
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ).fetchall()
        for (table,) in tables:
            count = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            (rows,) = connection.execute(count).fetchone() or (0,)
            if rows:
                found[table] = rows
    return found


# The answer sets whose whole suite runs here. The default service's code is
# every-field-type's with fewer fields: it is migrated, served and raced on PostgreSQL by the
# tests below instead. The suite is written to run again and again on one database (each
# test's rows are rolled back, each committing test drops its own schema): each run is
# checked to leave no row and no schema behind, which is what a second run would trip over.
# (Transaction ids and feed positions move on within one run already, and a database already
# at the newest revision is migrated again by the two instances below.)
SUITE_ON_POSTGRES = ("every-field-type", "several-features")


@pytest.mark.parametrize("name", SUITE_ON_POSTGRES)
def test_the_service_suite_passes_on_postgres_and_leaves_the_database_as_it_found_it(
    service: Callable[[str], Service], postgres: Callable[[str], str], name: str
) -> None:
    generated = service(name)
    url = postgres(name)
    result = generated.uv_run(
        "pytest", "-q", "-p", "no:cacheprovider", env={"TEST_DATABASE_URL": url}
    )
    assert_suite_passed(result)
    assert leftovers(url) == {}


@pytest.mark.answer_set("default")
def test_db_upgrade_builds_the_schema_and_alembic_finds_no_drift(
    service: Callable[[str], Service], postgres: Callable[[str], str]
) -> None:
    generated = service("default")
    url = postgres("upgrade")
    env = {"DATABASE_URL": url}
    upgraded = generated.uv_run(generated.slug, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.explain()
    checked = generated.uv_run("alembic", "check", env=env)
    assert checked.returncode == 0, checked.explain()
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
    assert generated.uv_run(generated.slug, "db", "check", env=env).returncode == 0
    with psycopg.connect(plain_url(url)) as connection:
        types: dict[str, str] = dict(
            connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'product_audit'"
            ).fetchall()
        )
    assert types["data_snapshot"] == "jsonb"
    assert types["changes"] == "jsonb"
    assert types["created_at"] == "timestamp with time zone"


def public_tables(url: str) -> set[str]:
    """The tables of the database's public schema."""
    with psycopg.connect(plain_url(url)) as connection:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


@pytest.mark.answer_set("default")
def test_audit_rows_of_a_real_request_resist_even_a_superuser(
    service: Callable[[str], Service], postgres: Callable[[str], str], tmp_path: Path
) -> None:
    url = postgres("guard")
    body = {"name": "Desk", "price": "10.00"}
    with serving(service("default"), {"DATABASE_URL": url}, tmp_path / "service.log") as live:
        created = live.request("POST", "/catalog/products", body)
        assert created.status == 201, created.body
    statements: list[LiteralString] = [
        "UPDATE product_audit SET description = 'rewritten'",
        "DELETE FROM product_audit",
        "TRUNCATE product_audit CASCADE",
    ]
    with psycopg.connect(plain_url(url), autocommit=True) as connection:
        role = connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert role.fetchone() == (True,)
        for statement in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                connection.execute(statement)
        rows = connection.execute("SELECT action_code, product_id FROM product_audit").fetchall()
    assert rows == [("PRODUCT_CREATED", created.body["id"])]


def test_a_feature_added_by_copier_update_brings_only_its_tables(
    postgres: Callable[[str], str], tmp_path: Path
) -> None:
    template = snapshot_template(tmp_path / "template")
    project = tmp_path / "inventory-service"
    run_copy(
        str(template), project, data=ANSWER_SETS["default"], defaults=True, unsafe=True, quiet=True
    )
    git("init", "-q", cwd=project)
    install(project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "Generate the service", cwd=project)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    generated = Service("default-then-category", project, answers)
    url = postgres("update")
    env = {"DATABASE_URL": url}
    assert generated.uv_run(generated.slug, "db", "upgrade", env=env).returncode == 0
    before = public_tables(url)

    category = {"domain": "catalog", "name": "category", "fields": "title:str(80)"}
    run_update(
        project,
        data={"features": [*answers["features"], category]},
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )
    versions = project / "src/inventory_service/migrations/versions"
    assert (versions / "category_0001_initial.py").is_file()
    install(project)
    upgraded = generated.uv_run(generated.slug, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.explain()
    assert public_tables(url) - before == {"category", "category_audit"}
    checked = generated.uv_run("alembic", "check", env=env)
    assert checked.returncode == 0, checked.explain()


@pytest.mark.answer_set("default")
def test_concurrent_patches_with_one_etag_let_exactly_one_win_on_postgres(
    service: Callable[[str], Service], postgres: Callable[[str], str], tmp_path: Path
) -> None:
    env = {"DATABASE_URL": postgres("race")}
    with serving(service("default"), env, tmp_path / "service.log") as live:
        statuses, actions = race_for_one_version(
            live, "/catalog/products", {"name": "Raced", "price": "1.00"}, {"price": "2.00"}
        )
    assert statuses == {200: 1, 412: CONCURRENT_WRITERS - 1}
    assert actions == ["PRODUCT_UPDATED", "PRODUCT_CREATED"]


@pytest.fixture(scope="module")
def two_instances(
    service: Callable[[str], Service],
    postgres: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningService, RunningService]]:
    """Two processes of the several-features service on one fresh database.

    The second runs two server workers (``serve --workers 2``): three processes in all, each
    with its own connection pool, as replicas of a deployment are. The tests that share them
    race for entities of their own.
    """
    env = {"DATABASE_URL": postgres("two_instances")}
    shop = service("several-features")
    logs = tmp_path_factory.mktemp("two-instances")
    with (
        serving(shop, env, logs / "first.log") as first,
        serving(shop, env, logs / "second.log", workers=2) as second,
    ):
        yield first, second


def through_both(
    instances: tuple[RunningService, RunningService], send: Callable[[RunningService], int]
) -> Counter[int]:
    """Start CONCURRENT_WRITERS requests at once, alternating between the two instances."""
    start = threading.Barrier(CONCURRENT_WRITERS)

    def one(index: int) -> int:
        start.wait()
        return send(instances[index % 2])

    with ThreadPoolExecutor(max_workers=CONCURRENT_WRITERS) as pool:
        return Counter(pool.map(one, range(CONCURRENT_WRITERS)))


def audit_rows(url: str, table: str, entity_column: str, entity_id: str) -> list[str]:
    """The action codes of an entity's audit rows, read from the database itself."""
    query = sql.SQL("SELECT action_code FROM {} WHERE {} = %s ORDER BY created_at").format(
        sql.Identifier(table), sql.Identifier(entity_column)
    )
    with psycopg.connect(plain_url(url)) as connection:
        return [row[0] for row in connection.execute(query, (entity_id,))]


@pytest.mark.answer_set("several-features")
def test_two_instances_on_one_database_let_one_conditional_writer_win(
    two_instances: tuple[RunningService, RunningService],
) -> None:
    first, second = two_instances
    created = first.request(
        "POST", "/catalog/products", {"name": "Raced", "sku": "R-1", "price": "1.00"}
    )
    assert created.status == 201, created.body
    item = f"/catalog/products/{created.body['id']}"
    # A token minted by one instance's CLI works on the other: they share the secret.
    assert second.request("GET", item, token=first.token).status == 200

    statuses = through_both(
        two_instances,
        lambda live: (
            live.request("PATCH", item, {"price": "2.00"}, headers={"If-Match": '"1"'}).status
        ),
    )

    assert statuses == {200: 1, 412: CONCURRENT_WRITERS - 1}
    assert second.request("GET", item).body["version"] == 2
    url = first.env["DATABASE_URL"]
    assert audit_rows(url, "product_audit", "product_id", created.body["id"]) == [
        "PRODUCT_CREATED",
        "PRODUCT_UPDATED",
    ]


@pytest.mark.answer_set("several-features")
def test_two_instances_on_one_database_let_one_writer_take_a_unique_value(
    two_instances: tuple[RunningService, RunningService],
) -> None:
    first, second = two_instances
    body = {"name": "Lamp", "sku": "UNIQUE-RACE", "price": "9.90"}

    statuses = through_both(
        two_instances, lambda live: live.request("POST", "/catalog/products", body).status
    )

    assert statuses == {201: 1, 409: CONCURRENT_WRITERS - 1}
    listed = second.request("GET", "/catalog/products?sku=UNIQUE-RACE&include_total=true").body
    assert listed["total"] == 1
    [winner] = listed["items"]
    url = first.env["DATABASE_URL"]
    assert audit_rows(url, "product_audit", "product_id", winner["id"]) == ["PRODUCT_CREATED"]
    with psycopg.connect(plain_url(url)) as connection:
        created = connection.execute(
            "SELECT count(*) FROM product_audit WHERE action_code = 'PRODUCT_CREATED'"
        ).fetchone()
        products = connection.execute("SELECT count(*) FROM product").fetchone()
    assert created == products, "a refused create wrote an audit row"


@pytest.mark.answer_set("several-features")
def test_two_instances_on_one_database_lose_no_update(
    two_instances: tuple[RunningService, RunningService],
) -> None:
    first, _ = two_instances
    created = first.request("POST", "/catalog/categories", {"title": "Counter", "position": 0})
    assert created.status == 201, created.body
    item = f"/catalog/categories/{created.body['id']}"

    def increment(live: RunningService) -> int:
        """Read, add one, write back conditionally; on 412 read again and retry."""
        while True:
            current = live.request("GET", item)
            change = {"position": current.body["position"] + 1}
            etag = {"If-Match": current.headers["etag"]}
            written = live.request("PATCH", item, change, headers=etag)
            if written.status != 412:
                return written.status

    statuses = through_both(two_instances, increment)

    assert statuses == {200: CONCURRENT_WRITERS}
    final = first.request("GET", item).body
    assert final["position"] == CONCURRENT_WRITERS
    assert final["version"] == CONCURRENT_WRITERS + 1
    url = first.env["DATABASE_URL"]
    actions = audit_rows(url, "category_audit", "category_id", created.body["id"])
    assert actions == ["CATEGORY_CREATED"] + ["CATEGORY_UPDATED"] * CONCURRENT_WRITERS
