"""How list pages scale with the table: the first and a deep page at 1 000 and 100 000 rows.

Run inside a generated service with the default answers (its own environment):

    cd SERVICE && uv run python /path/to/benchmarks/scale.py [DATABASE_URL]

It fills the product table (SQLAlchemy Core, in bulk) to each size, then times, through the
API in-process, the first page of 20 in the default order, a page at a deep offset, and an
entity's audit trail; and prints the query plan of the first page. Prints JSON.
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
from sqlalchemy import func, insert, select, text

SIZES = (1_000, 100_000)
BATCH = 5_000
REPEATS = 25


def fill(engine: Any, size: int) -> None:
    """Add rows until the table holds ``size``."""
    with engine.begin() as connection:
        have = connection.execute(select(func.count()).select_from(Product)).scalar_one()
        start = datetime.now(UTC)
        for first in range(have, size, BATCH):
            rows = [
                {
                    "id": str(uuid4()),
                    "version": 1,
                    "created_at": start + timedelta(microseconds=n),
                    "updated_at": start + timedelta(microseconds=n),
                    "name": f"name {n}",
                    "price": Decimal("1.00"),
                    "in_stock": n % 2 == 0,
                }
                for n in range(first, min(size, first + BATCH))
            ]
            connection.execute(insert(Product), rows)


def timed_ms(client: TestClient, url: str, headers: dict[str, str]) -> float:
    """The median time of ``REPEATS`` GETs of ``url``, in milliseconds."""
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(samples)


def plan(engine: Any, statement: str) -> list[str]:
    """The database's plan for ``statement``."""
    sqlite = engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(explain + statement)).all()
    return [str(row[-1]) for row in rows]


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
        report: dict[str, Any] = {"database": engine.dialect.name, "sizes": {}}
        with TestClient(create_app(settings)) as client:
            created = client.post(
                "/catalog/products",
                json={"name": "audited", "price": "1.00"},
                headers=headers,
            ).json()
            for size in SIZES:
                fill(engine, size)
                report["sizes"][str(size)] = {
                    "first_page_ms": timed_ms(client, "/catalog/products?limit=20", headers),
                    "deep_page_ms": timed_ms(
                        client, f"/catalog/products?limit=20&offset={size - 40}", headers
                    ),
                    "audit_trail_ms": timed_ms(
                        client, f"/catalog/products/{created['id']}/audit", headers
                    ),
                }
        first = report["sizes"]
        report["first_page_ratio"] = (
            first[str(SIZES[1])]["first_page_ms"] / (first[str(SIZES[0])]["first_page_ms"])
        )
        report["plan_first_page"] = plan(
            engine,
            "SELECT * FROM product WHERE deleted_at IS NULL ORDER BY created_at, id "
            "LIMIT 20 OFFSET 0",
        )
        report["plan_count"] = plan(engine, "SELECT count(*) FROM product WHERE deleted_at IS NULL")
        engine.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
