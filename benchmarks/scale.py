"""How list pages and audit trails scale: 1 000 vs 100 000 rows, 10 000 vs 1 000 000 audit rows.

Run inside a generated service with the default answers (its own environment), best with one
optional field added to its feature, so that a sort by an optional field is timed too:

    FIELDS='name:str(120), description:text?, price:decimal(10,2), in_stock:bool=true'
    copier copy --trust --defaults --vcs-ref HEAD --data "fields=$FIELDS, released_on:date?" \
        /path/to/this/clone SERVICE
    cd SERVICE && uv sync
    uv run python /path/to/benchmarks/scale.py [SMALL_DATABASE_URL LARGE_DATABASE_URL]

One database per size (two SQLite files in a temporary folder by default; two empty
PostgreSQL databases otherwise): each gets its products (SQLAlchemy Core, in bulk) and ten
audit rows per product (one INSERT ... SELECT), so that the audit tables hold 10 000 and
1 000 000 rows; one product made through the API has a trail of 61 entries. Then it times,
through the API in-process, the two sizes taking turns request by request (median of REPEATS
requests each):

- ``first_page``: the list's first page of 20 in the default order;
- ``filtered_page``: the first page of ``in_stock=true``; ``sorted_page``: sorted by name;
- ``deep_offset``: 20 rows at offset size - 40; ``deep_cursor``: the same rows by cursor;
- ``audit_page``: the first page of 20 of the trail; ``audit_cursor``: its second, by cursor;
- ``optional_sort_cursor``: 20 rows by cursor a third of the way into ``sort=released_on``,
  ``optional_sort_end_cursor``: near its end; ``optional_sort_desc_cursor`` and
  ``optional_sort_desc_end_cursor``: the same in ``sort=-released_on``. Three rows in ten have
  no date, and each database sorts them at one end (PostgreSQL last, SQLite first): the pages
  a third in are among the dated rows, and one of the two pages near an end among the others;
- ``create``: one POST (what the indexes cost a write).

A service without cursors (an older release) gets no cursor figures; one without
``released_on``, no optional-sort figures. It prints the query plan of each statement it times
(the SQL the service sent, explained with its parameters) and the ratios of the large size to
the small one, as JSON.
"""

import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
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
SECRET = "scale-benchmark-secret-that-is-long-enough"
# The optional field of the service's feature that the optional-sort pages sort by, if it has it.
OPTIONAL_SORT = "released_on"
HAS_OPTIONAL_SORT = OPTIONAL_SORT in Product.model_fields
# Product n has no date when n % 10 is one of these: three in ten, a range of their own in the
# sort's index.
UNDATED = (0, 1, 2)
# A bearer token with every permission (the same secret signs it for both services).
HEADERS = {
    "Authorization": "Bearer "
    + create_access_token(
        Settings(_env_file=None, environment="test", jwt_secret=SecretStr(SECRET)),
        subject="u",
        full_name="U",
        email=None,
        permissions=ALL_PERMISSIONS,
    )
}

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
                | optional_value(n)
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


def optional_value(n: int) -> dict[str, date | None]:
    """The optional sort field of product ``n``: none for three in ten, else a date in 25 years."""
    if not HAS_OPTIONAL_SORT:
        return {}
    value = None if n % 10 in UNDATED else date(2000, 1, 1) + timedelta(days=n * 7 % 9_000)
    return {OPTIONAL_SORT: value}


class StatementLog:
    """The SELECTs with an ORDER BY that the service sends (the page reads), as sent."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, *arguments: Any) -> None:
        _, _, statement, parameters, _, _ = arguments
        if statement.lstrip().upper().startswith("SELECT") and "ORDER BY" in statement:
            self.statements.append((statement, parameters))


def interleaved_ms(
    clients: list[TestClient], urls: list[str], headers: dict[str, str]
) -> list[float]:
    """The median time of ``REPEATS`` GETs of each url by its client, in milliseconds.

    The sizes take turns, request by request: a burst of load elsewhere on the machine slows
    both alike, rather than whichever size was being timed then.
    """
    samples: list[list[float]] = [[] for _ in clients]
    for _ in range(REPEATS):
        for client, url, taken in zip(clients, urls, samples, strict=True):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            taken.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
    return [statistics.median(taken) for taken in samples]


def interleaved_create_ms(clients: list[TestClient], headers: dict[str, str]) -> list[float]:
    """The median time of ``CREATES`` POSTs of a product by each client, taking turns."""
    samples: list[list[float]] = [[] for _ in clients]
    for n in range(CREATES):
        for client, taken in zip(clients, samples, strict=True):
            body = {"name": f"created {uuid4()}", "price": "1.00", "in_stock": n % 2 == 0}
            start = time.perf_counter()
            response = client.post(URL, json=body, headers=headers)
            taken.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 201, response.text
    return [statistics.median(taken) for taken in samples]


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


def pages_of(client: TestClient, size: int, trail: str, headers: dict[str, str]) -> dict[str, str]:
    """The URL of each page timed, at this size."""
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
    if deep is None or second is None:
        return pages
    pages["deep_cursor"] = f"{URL}?limit=20&after={deep}"
    pages["audit_cursor"] = f"{trail}?limit=20&after={second}"
    if HAS_OPTIONAL_SORT:
        # A cursor keeps its sort: the page after it is asked for with the same ``sort``.
        for order, sort in (("", OPTIONAL_SORT), ("_desc", f"-{OPTIONAL_SORT}")):
            for place, offset in (("", size // 3), ("_end", size - 41)):
                url = f"{URL}?limit=1&offset={offset}&sort={sort}"
                after = next_cursor(client, url, headers)
                if after is not None:
                    pages[f"optional_sort{order}{place}_cursor"] = (
                        f"{URL}?limit=20&sort={sort}&after={after}"
                    )
    return pages


def plan_of(client: TestClient, engine: Engine, url: str, headers: dict[str, str]) -> list[str]:
    """The statement a GET of ``url`` sends for its page, and its plan."""
    log = StatementLog()
    event.listen(Engine, "before_cursor_execute", log)
    try:
        client.get(url, headers=headers)
    finally:
        event.remove(Engine, "before_cursor_execute", log)
    statement, parameters = log.statements[-1]
    return [" ".join(statement.split()), *explain(engine, statement, parameters)]


def prepared(url: str, size: int, stack: ExitStack) -> tuple[Engine, TestClient, str]:
    """A migrated database of ``size`` products, a client of the service on it, and the
    audit trail URL of a product with 61 audit entries."""
    engine = create_db_engine(url)
    stack.callback(engine.dispose)
    upgrade_schema(engine)
    settings = Settings(
        _env_file=None,
        environment="test",
        database_url=url,
        jwt_secret=SecretStr(SECRET),
        log_level="WARNING",
    )
    client = stack.enter_context(TestClient(create_app(settings)))
    headers = HEADERS
    created = client.post(URL, json={"name": "audited", "price": "1.00"}, headers=headers).json()
    item = f"{URL}/{created['id']}"
    for _ in range(30):
        client.delete(item, headers=headers)
        client.post(f"{item}/restore", headers=headers)
    fill(engine, size)
    return engine, client, f"{item}/audit"


def main() -> None:
    """Fill a database per size, time each page at both sizes in turn; print JSON."""
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        # Two databases, one per size (DATABASE_URLs: the small one's, then the large one's).
        urls = sys.argv[1:3] or [f"sqlite:///{folder}/{size}.db" for size in SIZES]
        setups = [prepared(url, size, stack) for url, size in zip(urls, SIZES, strict=True)]
        engines = [engine for engine, _, _ in setups]
        clients = [client for _, client, _ in setups]
        report: dict[str, Any] = {"database": engines[0].dialect.name}
        labels = [f"{size} rows, {size * AUDIT_ROWS_PER_PRODUCT} audit rows" for size in SIZES]
        pages = [
            pages_of(client, size, trail, HEADERS)
            for (_, client, trail), size in zip(setups, SIZES, strict=True)
        ]
        figures: dict[str, dict[str, float]] = {label: {} for label in labels}
        plans: dict[str, dict[str, list[str]]] = {label: {} for label in labels}
        for name in pages[-1]:
            urls_now = [sized[name] for sized in pages]
            for label, engine, client, url in zip(labels, engines, clients, urls_now, strict=True):
                plans[label][name] = plan_of(client, engine, url, HEADERS)
            for label, taken in zip(
                labels, interleaved_ms(clients, urls_now, HEADERS), strict=True
            ):
                figures[label][f"{name}_ms"] = round(taken, 2)
        for label, taken in zip(labels, interleaved_create_ms(clients, HEADERS), strict=True):
            figures[label]["create_ms"] = round(taken, 2)
        small, large = figures.values()
        report["sizes"] = figures
        report["ratios"] = {key: round(large[key] / small[key], 2) for key in large}
        report["plans"] = plans
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
