"""What `audit verify` costs on a large audit table: its time and its memory.

    uv run python benchmarks/audit_verify.py [--baseline REF] [--entities 10000] [--changes 4]

It generates a service with the default answers from this clone (uncommitted edits included)
and, with ``--baseline REF``, another from git ref REF; then for each in turn, on a fresh
PostgreSQL database (created on POSTGRES_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres, and dropped afterwards):

- migrates it and writes ``--entities`` products through the service's own editor service,
  each changed ``--changes`` times (so entities x (changes + 1) audit rows), in one process;
- runs ``<slug> audit verify`` ``--rounds`` times (3), and takes the median of its wall time
  and of its peak resident memory (``/usr/bin/time``'s maximum RSS).

It prints one JSON document: each service's figures and, with a baseline, the ratios
``service / baseline``. Nothing is asserted: time and memory depend on the machine and on what
else runs on it. Needs Linux, GNU time (``/usr/bin/time``), uv and git.
"""

import argparse
import json
import os
import re
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from run import Databases, generate_service, log, run

SLUG = "inventory-service"

# Run inside a generated service: its products, through its own editor service.
FILL = """
import sys
from sqlmodel import Session
from inventory_service.db import create_db_engine
from shared.models.catalog_models.product_dtos import ProductCreate, ProductUpdate
from shared.models.minimal_user import MinimalUser
from shared.services.catalog_services.product_editor_service import ProductEditorService

url, entities, changes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
user = MinimalUser(id="bench", full_name="Bench")
engine = create_db_engine(url)
for start in range(0, entities, 500):
    with Session(engine) as session:
        service = ProductEditorService(session)
        for n in range(start, min(start + 500, entities)):
            body = {"name": f"product {n}", "price": "10.00", "description": "x" * 200}
            product = service.create(ProductCreate.model_validate(body), user)
            for change in range(changes):
                update = ProductUpdate.model_validate({"price": f"{11 + change}.50"})
                product = service.update(product.id, update, user)
engine.dispose()
"""


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="A git ref to measure in the same run.")
    parser.add_argument("--entities", type=int, default=10_000, help="Products written.")
    parser.add_argument("--changes", type=int, default=4, help="Updates of each product.")
    parser.add_argument("--rounds", type=int, default=3, help="Runs of `audit verify`.")
    return parser.parse_args()


def verify_once(service: Path, env: dict[str, str]) -> tuple[float, int, str]:
    """One `audit verify`: wall seconds, peak resident memory in bytes, and its output."""
    command = ["/usr/bin/time", "-v", str(service / ".venv/bin" / SLUG), "audit", "verify"]
    started = time.perf_counter()
    done = run(command, cwd=service, env=env)
    seconds = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert peak is not None, done.stderr[-2000:]
    return seconds, int(peak.group(1)) * 1024, done.stdout.strip()


def measure(service: Path, args: argparse.Namespace, url: str, name: str) -> dict[str, Any]:
    """Fill the fresh database at ``url`` for ``service``, then time `audit verify` on it."""
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": secrets.token_urlsafe(48)}
    env["ENVIRONMENT"] = "production"
    run([str(service / ".venv/bin" / SLUG), "db", "upgrade"], cwd=service, env=env)
    log(f"{name}: writing {args.entities} products, {args.changes} changes each")
    started = time.perf_counter()
    python = str(service / ".venv/bin/python")
    run([python, "-c", FILL, url, str(args.entities), str(args.changes)], cwd=service, env=env)
    fill_seconds = time.perf_counter() - started
    rounds = []
    for number in range(args.rounds):
        log(f"{name}: audit verify, round {number + 1}")
        rounds.append(verify_once(service, env))
    return {
        "audit_rows": args.entities * (args.changes + 1),
        "fill_seconds": round(fill_seconds, 1),
        "verify_seconds": round(statistics.median(r[0] for r in rounds), 2),
        "verify_peak_rss_mb": round(statistics.median(r[1] for r in rounds) / 2**20, 1),
        "report": rounds[-1][2],
    }


def main() -> None:
    args = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as scratch:
        folder = Path(scratch)
        databases = Databases(folder)
        services = {"service": generate_service(folder, "HEAD", "service")}
        if args.baseline:
            services["baseline"] = generate_service(folder, args.baseline, "baseline")
        try:
            results: dict[str, Any] = {
                name: measure(service, args, databases.fresh("postgres"), name)
                for name, service in services.items()
            }
        finally:
            databases.drop_all()
    if args.baseline:
        results["ratios"] = {
            key: round(results["service"][key] / results["baseline"][key], 2)
            for key in ("verify_seconds", "verify_peak_rss_mb")
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
