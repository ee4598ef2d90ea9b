"""What a reference costs a create: the check that its target is a live row.

Run inside a generated service's environment (it imports the service), against an empty
PostgreSQL database or none (SQLite in a temporary file). The several-features answers
(tests/answer_sets.py) give a service whose purchase orders refer to a product:

    (see benchmarks/README.md: copier copy of those answers into /tmp/shop, uv sync)
    cd /tmp/shop && uv run python /path/to/benchmarks/references.py \\
        --package shop_service --feature purchase_order \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Creates of the feature, each its own transaction (commit included), in alternating blocks:
with its references checked as the service checks them (the INSERT carries the check), and
without (the service told it has no references: a plain INSERT, which the foreign key still
checks). The rows are the same. Prints both medians and their ratio, same run.

Not part of any test suite: timings depend on the machine.
"""

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

# A migrated database of the run's own (a temporary SQLite file, or a schema of the URL).
from audit_costs import fresh_engine
from sqlmodel import Session

BLOCK = 50


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default: SQLite).")
    parser.add_argument("--package", default="shop_service", help="The service's package.")
    parser.add_argument("--feature", default="purchase_order", help="A feature with references.")
    parser.add_argument("--creates", type=int, default=1000, help="Creates per mode.")
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    sys.path.insert(0, str(Path.cwd() / "tests"))
    factories = importlib.import_module("factories")
    under_test = importlib.import_module("features_under_test")
    registry = importlib.import_module(f"{arguments.package}.features")
    db = importlib.import_module(f"{arguments.package}.db")
    feature = next(api for api in registry.FEATURES if api.name == arguments.feature)
    service_type = feature.service
    checked = service_type.references
    if not checked:
        msg = f"{arguments.feature} has no references to measure"
        raise SystemExit(msg)
    case, user = factories.FEATURE_CASES[feature.name], factories.TEST_USER
    where = arguments.database_url or "SQLite (temporary file)"
    fields = ", ".join(reference.field for reference in checked)
    print(f"creates of {feature.name} (references: {fields}), on {where}")
    samples: dict[str, list[float]] = {"checked": [], "unchecked": []}
    with fresh_engine(arguments.database_url, db.upgrade_schema) as engine:
        with Session(engine) as session:
            under_test.seed_targets(session, [feature.name])
        data = feature.create_model.model_validate(case.new(0))
        for start in range(0, arguments.creates, BLOCK):
            for mode in samples:
                service_type.references = checked if mode == "checked" else ()
                with Session(engine) as session:
                    service = service_type(session)
                    for _ in range(start, min(start + BLOCK, arguments.creates)):
                        began = time.perf_counter()
                        service.create(data, user)
                        samples[mode].append(time.perf_counter() - began)
        service_type.references = checked
    medians = {mode: statistics.median(values) for mode, values in samples.items()}
    for mode, values in samples.items():
        print(f"  {mode:9} ({len(values)}): median {medians[mode] * 1000:.3f} ms")
    print(f"  checked / unchecked: {medians['checked'] / medians['unchecked']:.3f}x")


if __name__ == "__main__":
    main()
