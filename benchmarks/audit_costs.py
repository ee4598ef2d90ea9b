"""What the audit trail's integrity costs a generated service: the hash chain and the feed.

Run inside a generated service's environment (it imports the service), against an empty
PostgreSQL database or none (SQLite in a temporary file):

    (see benchmarks/README.md: copier copy of the default answers into /tmp/svc, uv sync)
    cd /tmp/svc && uv run python /path/to/benchmarks/audit_costs.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Two measurements, both in the same run so that they share the machine's state:

1. Writes with and without the hash chain: creates (the chain adds only hashing, no query)
   and updates (hashing plus one indexed SELECT of the entity's newest audit hash). "Without"
   replaces the chain's two steps with no-ops in this process; everything else is the same.
2. Change-feed page reads (100 items) at the start, middle and end of a trail of 1 000 and of
   1 000 000 audit rows, seeded in bulk with one INSERT ... SELECT (``--feed-rows`` to change
   the sizes; 1 000 000 takes a minute or two to seed). Keyset pagination: the same cost.

Not part of any test suite: timings depend on the machine.
"""

import argparse
import importlib
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session, select

PAGE = 100


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default: SQLite).")
    parser.add_argument("--package", default="inventory_service", help="The service's package.")
    parser.add_argument("--writes", type=int, default=400, help="Writes per mode and kind.")
    parser.add_argument(
        "--feed-rows", type=int, nargs="+", default=[1_000, 1_000_000], help="Trail sizes."
    )
    return parser.parse_args()


@contextmanager
def fresh_engine(url: str | None, migrate: Callable[[Engine], Any]) -> Iterator[Engine]:
    """A migrated database of its own: a new schema of ``url``, or a temporary SQLite file."""
    if url is None:
        with tempfile.TemporaryDirectory() as directory:
            engine = create_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
            migrate(engine)
            yield engine
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def milliseconds(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms"


def measure_writes(engine: Engine, feature: Any, case: Any, user: Any, writes: int) -> None:
    """Creates and updates, with the chain and without, in alternating blocks."""
    from shared.db.repositories.audit_repository.audit_repository import AuditRepository
    from shared.services import audited_editor_service

    chained_hash = audited_editor_service.compute_row_hash
    chained_latest = AuditRepository.latest_hash
    samples: dict[tuple[str, str], list[float]] = {}
    service_type = feature.service
    change = feature.update_model.model_validate(case.change)
    back = feature.update_model.model_validate({k: case.new(0)[k] for k in case.change})
    block = 50
    for start in range(0, writes, block):
        for mode in ("with chain", "without chain"):
            chained = mode == "with chain"
            audited_editor_service.compute_row_hash = chained_hash if chained else (lambda _: None)  # type: ignore[assignment]
            AuditRepository.latest_hash = chained_latest if chained else (lambda *_: None)  # type: ignore[method-assign]
            with Session(engine) as session:
                service = service_type(session)
                for _ in range(start, min(start + block, writes)):
                    began = time.perf_counter()
                    entity = service.create(feature.create_model.model_validate(case.new(0)), user)
                    created = time.perf_counter()
                    service.update(entity.id, change, user)
                    service.update(entity.id, back, user)
                    updated = time.perf_counter()
                    samples.setdefault((mode, "create"), []).append(created - began)
                    samples.setdefault((mode, "update"), []).append((updated - created) / 2)
    audited_editor_service.compute_row_hash = chained_hash  # type: ignore[assignment]
    AuditRepository.latest_hash = chained_latest  # type: ignore[method-assign]
    for (mode, kind), values in sorted(samples.items(), key=lambda item: (item[0][1], item[0][0])):
        print(f"  {kind:6} {mode:14} ({len(values)}): {milliseconds(values)}")
    # The hashing alone, without the database's noise: one row's canonical form and SHA-256.
    with Session(engine) as session:
        row = session.exec(select(feature.service.audit_model).limit(1)).one()
    runs = 10_000
    began = time.perf_counter()
    for _ in range(runs):
        chained_hash(row)
    print(f"  hashing one audit row alone: {(time.perf_counter() - began) / runs * 1e6:.1f} us")


def seed_trail(engine: Engine, feature: Any, case: Any, user: Any, rows: int) -> None:
    """One entity and ``rows`` audit rows for it, written by one INSERT ... SELECT."""
    with Session(engine) as session:
        entity = feature.service(session).create(
            feature.create_model.model_validate(case.new(0)), user
        )
        entity_id = entity.id
    model = feature.service.audit_model
    table, entity_column = model.table_name(), model.entity_id_field()
    action = f"{feature.name.upper()}_UPDATED"
    postgres = engine.dialect.name == "postgresql"
    numbers = (
        "SELECT n FROM generate_series(1, :rows) AS n"
        if postgres
        else "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :rows) "
        "SELECT n FROM s"
    )
    at = (
        "now() - make_interval(secs => :rows - n)"
        if postgres
        else "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (:rows - n) || ' seconds')"
    )
    row_id = "gen_random_uuid()::text" if postgres else "lower(hex(randomblob(16)))"
    statement = text(
        f"INSERT INTO {table} (id, {entity_column}, performed_by_user_id, "  # noqa: S608
        "performed_by_user_name, action_code, description, created_at) "
        f"SELECT {row_id}, :entity, 'bench', 'Bench', :action, 'seeded', {at} "
        f"FROM ({numbers}) AS numbers"
    )
    with engine.begin() as connection:
        connection.execute(statement, {"rows": rows, "entity": entity_id, "action": action})
        if postgres:
            connection.execute(text(f"ANALYZE {table}"))


def measure_feed(engine: Engine, audit_models: dict[str, Any], rows: int) -> None:
    """Page reads at the start, the middle and the end of the feed."""
    from shared.services.change_feed import read_feed

    with Session(engine) as session:
        # Cursors before the middle row and before the last full page: found by walking the
        # feed with large pages (not measured).
        targets = {"middle": rows // 2, "end": rows - PAGE}
        cursors: dict[str, Any] = {"start": None}
        after, read = None, 0
        while page := read_feed(session, audit_models, after, 5_000):
            for where, target in targets.items():
                if read <= target - 1 < read + len(page):
                    cursors[where] = page[target - 1 - read].position
            read += len(page)
            after = page[-1].position
    for where, cursor in cursors.items():
        samples = []
        for _ in range(50):
            with Session(engine) as session:
                began = time.perf_counter()
                page = read_feed(session, audit_models, cursor, PAGE)
                samples.append(time.perf_counter() - began)
            if len(page) != PAGE:
                msg = f"the page at the {where} has {len(page)} items, not {PAGE}"
                raise RuntimeError(msg)
        print(f"  {rows:>9} rows, page at the {where:6}: {milliseconds(samples)}")


def main() -> None:
    arguments = parse_arguments()
    sys.path.insert(0, str(Path.cwd() / "tests"))
    factories = importlib.import_module("factories")
    registry = importlib.import_module(f"{arguments.package}.features")
    db = importlib.import_module(f"{arguments.package}.db")
    feature = registry.FEATURES[0]
    case = factories.FEATURE_CASES[feature.name]
    user = factories.TEST_USER
    where = arguments.database_url or "SQLite (temporary file)"
    print(f"audit costs of {feature.name}, on {where}")
    print("writes (each: its transaction, commit included):")
    with fresh_engine(arguments.database_url, db.upgrade_schema) as engine:
        measure_writes(engine, feature, case, user, arguments.writes)
    print(f"change feed, {PAGE} items a page:")
    for rows in arguments.feed_rows:
        with fresh_engine(arguments.database_url, db.upgrade_schema) as engine:
            seed_trail(engine, feature, case, user, rows)
            measure_feed(engine, registry.AUDIT_MODELS, rows)


if __name__ == "__main__":
    main()
