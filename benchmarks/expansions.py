"""What ``?expand=`` costs a page: a list of 20 rows with one reference expanded, and without.

Run inside a generated service's environment (it imports the service), against an empty
PostgreSQL database or none (SQLite in a temporary file). The several-features answers
(tests/answer_sets.py) give a service whose categories refer to a parent category:

    (see benchmarks/README.md: copier copy of those answers into /tmp/shop, uv sync)
    cd /tmp/shop && uv run python /path/to/benchmarks/expansions.py \\
        --package shop_service --feature category --field parent \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Makes targets (up to 20 distinct ones, as the feature's test data allows) and 20 rows of
the feature, each referring to one of them, through the API. Then reads the newest page of 20
over HTTP (the app in process, a token with every permission), in alternating blocks: with
``expand=<field>`` and without. Prints the statements each sends, both medians and their
ratio, same run.

Not part of any test suite: timings depend on the machine.
"""

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event

PAGE = 20
BLOCK = 50


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default: SQLite).")
    parser.add_argument("--package", default="shop_service", help="The service's package.")
    parser.add_argument("--feature", default="category", help="A feature with references.")
    parser.add_argument("--field", default="parent", help="The reference to expand.")
    parser.add_argument("--pages", type=int, default=1000, help="Pages read per mode.")
    parser.add_argument(
        "--targets", type=int, default=PAGE, help="Distinct targets the page's rows refer to."
    )
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    sys.path.insert(0, str(Path.cwd() / "tests"))
    cases = importlib.import_module("factories").FEATURE_CASES
    package = arguments.package
    app_module = importlib.import_module(f"{package}.app")
    auth = importlib.import_module(f"{package}.auth")
    db = importlib.import_module(f"{package}.db")
    registry = importlib.import_module(f"{package}.features")
    settings_module = importlib.import_module(f"{package}.settings")
    feature = next(api for api in registry.FEATURES if api.name == arguments.feature)
    reference = next(r for r in feature.service.references if r.field == arguments.field)
    target = next(api for api in registry.FEATURES if api.name == reference.target)
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{folder}/expansions.db"
        settings = settings_module.Settings(
            _env_file=None,
            environment="test",
            database_url=url,
            log_level="WARNING",
            jwt_secret=SecretStr("expansion-benchmark-secret-that-is-long-enough"),
        )
        db.upgrade_schema(db.create_db_engine(url))
        app = app_module.create_app(settings)
        statements: list[str] = []
        event.listen(
            app.state.engine,
            "before_cursor_execute",
            lambda *args: statements.append(args[2].split()[0]),
        )
        token = auth.create_access_token(
            settings, subject="u", full_name="U", email=None, permissions=registry.ALL_PERMISSIONS
        )
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(app) as client:
            made = make_rows(client, headers, target.route, cases[target.name].new, {})
            targets = made[: arguments.targets]
            rows = make_rows(
                client,
                headers,
                feature.route,
                cases[feature.name].new,
                {arguments.field: targets},
            )
            where = arguments.database_url or "SQLite (temporary file)"
            print(
                f"pages of {PAGE} {feature.plural} ({len(rows)} rows, {len(targets)} distinct "
                f"{target.plural}), expand={arguments.field}, on {where}"
            )
            params = {"limit": PAGE, "sort": "-created_at"}
            modes = {"expanded": {**params, "expand": arguments.field}, "plain": params}
            samples: dict[str, list[float]] = {mode: [] for mode in modes}
            for mode, query in modes.items():
                statements.clear()
                page = client.get(feature.route, params=query, headers=headers)
                page.raise_for_status()
                print(f"  {mode:8}: statements {statements}")
            for _ in range(0, arguments.pages, BLOCK):
                for mode, query in modes.items():
                    for _ in range(BLOCK):
                        began = time.perf_counter()
                        client.get(feature.route, params=query, headers=headers)
                        samples[mode].append(time.perf_counter() - began)
    medians = {mode: statistics.median(values) for mode, values in samples.items()}
    for mode, values in samples.items():
        print(f"  {mode:8} ({len(values)}): median {medians[mode] * 1000:.3f} ms")
    print(f"  expanded / plain: {medians['expanded'] / medians['plain']:.3f}x")


def make_rows(
    client: TestClient,
    headers: dict[str, str],
    route: str,
    new: Any,
    references: dict[str, list[str]],
) -> list[str]:
    """Up to ``PAGE`` rows of a feature, through its API; their ids.

    The test data varies a row by its number (0-9), within what its unique fields allow: a row the
    service refuses (409, a value taken) is left out. Each row refers to a row of
    ``references``, in turn.
    """
    made: list[str] = []
    for n in range(PAGE):
        body = new(n % 10)
        body.update({field: ids[n % len(ids)] for field, ids in references.items()})
        response = client.post(route, json=body, headers=headers)
        if response.status_code == 409:
            continue
        response.raise_for_status()
        made.append(response.json()["id"])
    return made


if __name__ == "__main__":
    main()
