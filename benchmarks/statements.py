"""Count the SQL statements of each API operation of a generated service.

Run inside a generated service (its own environment), from the benchmark or by hand:

    cd SERVICE && uv run python /path/to/benchmarks/statements.py [DATABASE_URL]

It creates, reads, lists, updates and reads the audit trail of one entity of the service's
first feature through the API (an in-process client), and prints, as JSON, the statements
each operation sent to the database, in order. The default database is a fresh SQLite file.
"""

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event

SERVICE = Path.cwd()
sys.path.insert(0, str(SERVICE / "tests"))

from factories import FEATURE_CASES  # noqa: E402  (the service's own test data)


def main() -> None:
    """Drive the five operations and print the statements of each."""
    package = next(p.name for p in (SERVICE / "src").iterdir() if p.name != "shared" and p.is_dir())
    app_module = __import__(f"{package}.app", fromlist=["create_app"])
    auth = __import__(f"{package}.auth", fromlist=["create_access_token"])
    db = __import__(f"{package}.db", fromlist=["create_db_engine"])
    features = __import__(f"{package}.features", fromlist=["FEATURES"])
    settings_module = __import__(f"{package}.settings", fromlist=["Settings"])
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{folder}/statements.db"
        secret = "statement-count-secret-that-is-long-enough"
        settings = settings_module.Settings(
            _env_file=None, environment="test", database_url=url, jwt_secret=SecretStr(secret)
        )
        db.upgrade_schema(db.create_db_engine(url))
        app = app_module.create_app(settings)
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(" ".join(statement.split())[:100])

        event.listen(app.state.engine, "before_cursor_execute", record)
        api = features.FEATURES[0]
        case = FEATURE_CASES[api.name]
        token = auth.create_access_token(
            settings,
            subject="u",
            full_name="U",
            email=None,
            permissions=features.ALL_PERMISSIONS,
        )
        headers = {"Authorization": f"Bearer {token}"}
        report: dict[str, list[str]] = {}
        with TestClient(app) as client:
            client.get(api.route, headers=headers)  # warm up the pool and caches

            def measure(name: str, method: str, path: str, **kwargs: Any) -> Any:
                statements.clear()
                response = client.request(method, path, headers=headers, **kwargs)
                assert response.status_code < 300, response.text
                report[name] = list(statements)
                return response

            created = measure("create", "POST", api.route, json=case.new(0)).json()
            item = f"{api.route}/{created['id']}"
            measure("get", "GET", item)
            measure("list", "GET", api.route, params={"limit": 20})
            measure("update", "PATCH", item, json=case.change)
            measure("audit", "GET", f"{item}/audit")
        print(json.dumps({name: {"count": len(s), "statements": s} for name, s in report.items()}))


if __name__ == "__main__":
    main()
