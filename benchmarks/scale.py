"""How list pages and audit trails scale: 1 000 vs 100 000 rows, 10 000 vs 1 000 000 audit rows.

Run inside a generated service with the default answers (its own environment):

    cd SERVICE && uv run python /path/to/benchmarks/scale.py [DATABASE_URL]

For each size it fills the product table (SQLAlchemy Core, in bulk) and gives every product
ten audit rows (one INSERT ... SELECT), so that the audit table holds 10 000, then 1 000 000
rows; one product made through the API has a trail of 61 entries. Then it times, through the
API in-process (median of REPEATS requests each):

- ``first_page``: the list's first page of 20 in the default order;
- ``filtered_page``: the first page of ``in_stock=true``; ``sorted_page``: sorted by name;
- ``deep_offset``: 20 rows at offset size - 40; ``deep_cursor``: the same rows by cursor;
- ``audit_page``: the first page of 20 of the trail; ``audit_cursor``: its second, by cursor;
- ``create``: one POST (the write cost of the indexes).

A service without cursors (an older release) gets no cursor figures. It prints the query plan
of each statement it times (the SQL the service sent, explained with its parameters) and the
ratios of the largest size to the smallest, as JSON.
"""

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from inventory_service.app import create_app
from inventory_service.auth import create_access_token
from inventory_service.db import create_db_engine, upgrade_schema
from inventory_service.features import ALL_PERMISSIONS
from inventory_service.settings import Settings
from pydantic import SecretStr
from shared.db.models.catalog_models.product import Product
from sqlalchemy import Engine, event, func, insert, select, text

SIZES = (1_000, 100_000)
AUDIT_ROWS_PER_PRODUCT = 10
BATCH = 5_000
REPEATS = 25
CREATES = 200
URL = "/catalog/products"

# Audit rows for every product: ten each, a minute apart, as the trail of a long life.
AUDIT_FILL = """
INSERT INTO product_audit (id, product_id, performed_by_user_id, performed_by_user_name,
    action_code, description, created_at)
SELECT {new_id}, product.id, 'u', 'U', 'PRODUCT_UPDATED', 'filled', {created_at}
FROM product CROSS JOIN ({steps}) AS steps
WHERE product.id NOT IN (SELECT product_id FROM product_audit)
"""
NEW_ID = {"sqlite": "lower(hex(randomblob(16)))", "postgresql": "gen_random_uuid()::text"}
CREATED_AT = {
    "sqlite": "strftime('%Y-%m-%d %H:%M:%f', product.created_at, '+' || steps.n || ' minutes')",
    "postgresql": "product.created_at + steps.n * interval '1 minute'",
}


def fill(engine: Engine, size: int) -> None:
    """Add products until the table holds ``size``, then ten audit rows for each new one."""
    with engine.begin() as connection:
        have = connection.execute(select(func.count()).select_from(Product)).scalar_one()
        start = datetime.now(UTC) - timedelta(days=1)
        for first in range(have, size, BATCH):
            rows = [
                {
                    "id": str(uuid4()),
                    "version": 1,
                    "created_at": start + timedelta(microseconds=n),
                    "updated_at": start + timedelta(microseconds=n),
                    "name": f"name {n:07d}",
                    "price": Decimal("1.00"),
                    "in_stock": n % 2 == 0,
                }
                for n in range(first, min(size, first + BATCH))
            ]
            connection.execute(insert(Product), rows)
        dialect = engine.dialect.name
        steps = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(AUDIT_ROWS_PER_PRODUCT))
        fill_audit = AUDIT_FILL.format(
            new_id=NEW_ID[dialect], created_at=CREATED_AT[dialect], steps=steps
        )
        connection.execute(text(fill_audit))
    if dialect == "postgresql":
        # What autovacuum would do after such a load. SQLite is left as a service runs it:
        # without statistics (nothing runs ANALYZE there).
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


class StatementLog:
    """The SELECTs with an ORDER BY that the service sends (the page reads), as sent."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, *arguments: Any) -> None:
        _, _, statement, parameters, _, _ = arguments
        if statement.lstrip().upper().startswith("SELECT") and "ORDER BY" in statement:
            self.statements.append((statement, parameters))


def timed_ms(client: TestClient, url: str, headers: dict[str, str]) -> float:
    """The median time of ``REPEATS`` GETs of ``url``, in milliseconds."""
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(samples)


def create_ms(client: TestClient, headers: dict[str, str]) -> float:
    """The median time of ``CREATES`` POSTs of a product, in milliseconds."""
    samples = []
    for n in range(CREATES):
        body = {"name": f"created {uuid4()}", "price": "1.00", "in_stock": n % 2 == 0}
        start = time.perf_counter()
        response = client.post(URL, json=body, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 201, response.text
    return statistics.median(samples)


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """The database's plan for a statement the service sent."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    return [str(row[-1]) for row in rows]


def next_cursor(client: TestClient, url: str, headers: dict[str, str]) -> str | None:
    """The ``next_cursor`` of a page (None from a service without cursors)."""
    cursor: str | None = client.get(url, headers=headers).json().get("next_cursor")
    return cursor


def measure(
    client: TestClient, engine: Engine, size: int, trail: str, headers: dict[str, str]
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Time each page at this size; explain the statement each one sends."""
    pages = {
        "first_page": f"{URL}?limit=20",
        "filtered_page": f"{URL}?limit=20&in_stock=true",
        "sorted_page": f"{URL}?limit=20&sort=name",
        "deep_offset": f"{URL}?limit=20&offset={size - 40}",
        "audit_page": f"{trail}?limit=20",
    }
    # The cursor after row size - 41 (limit and offset are not part of a cursor's scope).
    deep = next_cursor(client, f"{URL}?limit=1&offset={size - 41}", headers)
    second = next_cursor(client, f"{trail}?limit=20", headers)
    if deep is not None and second is not None:
        pages["deep_cursor"] = f"{URL}?limit=20&after={deep}"
        pages["audit_cursor"] = f"{trail}?limit=20&after={second}"
    figures, plans = {}, {}
    log = StatementLog()
    for name, url in pages.items():
        event.listen(Engine, "before_cursor_execute", log)
        try:
            client.get(url, headers=headers)
        finally:
            event.remove(Engine, "before_cursor_execute", log)
        statement, parameters = log.statements[-1]
        plans[name] = [statement.replace("\n", " "), *explain(engine, statement, parameters)]
        figures[f"{name}_ms"] = timed_ms(client, url, headers)
    figures["create_ms"] = create_ms(client, headers)
    return figures, plans


def main() -> None:
    """Fill, time and explain at each size; print JSON."""
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{folder}/scale.db"
        engine = create_db_engine(url)
        upgrade_schema(engine)
        settings = Settings(
            _env_file=None,
            environment="test",
            database_url=url,
            jwt_secret=SecretStr("scale-benchmark-secret-that-is-long-enough"),
            log_level="WARNING",
        )
        token = create_access_token(
            settings, subject="u", full_name="U", email=None, permissions=ALL_PERMISSIONS
        )
        headers = {"Authorization": f"Bearer {token}"}
        report: dict[str, Any] = {"database": engine.dialect.name, "sizes": {}, "plans": {}}
        with TestClient(create_app(settings)) as client:
            created = client.post(
                URL, json={"name": "audited", "price": "1.00"}, headers=headers
            ).json()
            item = f"{URL}/{created['id']}"
            for _ in range(30):
                client.delete(item, headers=headers)
                client.post(f"{item}/restore", headers=headers)
            for size in SIZES:
                started = time.perf_counter()
                fill(engine, size)
                audit_rows = size * AUDIT_ROWS_PER_PRODUCT
                label = f"{size} rows, {audit_rows} audit rows"
                figures, plans = measure(client, engine, size, f"{item}/audit", headers)
                figures["fill_s"] = round(time.perf_counter() - started, 1)
                report["sizes"][label] = figures
                report["plans"][label] = plans
        small, large = report["sizes"].values()
        report["ratios"] = {
            key: round(large[key] / small[key], 2) for key in large if key.endswith("_ms")
        }
        engine.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
