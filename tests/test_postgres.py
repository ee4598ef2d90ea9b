"""Generated services on a real PostgreSQL: migrations, drift checks, append-only audit rows.

Needs the PostgreSQL server of the machine (``POSTGRES_ADMIN_URL``, by default the trusted
``postgres`` user on 127.0.0.1:5432); each test creates its own database and drops it after.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import LiteralString

import psycopg
import pytest
import yaml
from copier import run_copy, run_update
from psycopg import sql

from tests.answer_sets import ANSWER_SETS
from tests.conftest import Service, git, install, snapshot_template
from tests.live_service import CONCURRENT_WRITERS, race_for_one_version, serving
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


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_service_suite_passes_on_postgres_and_again_on_the_same_database(
    service: Callable[[str], Service], postgres: Callable[[str], str], name: str
) -> None:
    generated = service(name)
    env = {"TEST_DATABASE_URL": postgres(name)}
    for _ in range(2):
        result = generated.uv_run("pytest", "-q", "-p", "no:cacheprovider", env=env)
        assert_suite_passed(result)


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
