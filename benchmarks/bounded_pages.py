"""What an audit page of large rows weighs, and what it costs the server's memory.

    uv run python benchmarks/bounded_pages.py [--baseline main] [--database postgres]

It generates a service from this clone (uncommitted edits included) with a ``json`` field,
``fields=name:str(120), payload:json?``, and with ``--baseline REF`` another from git ref REF,
then for each in turn (a fresh database each, created on POSTGRES_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres, and dropped afterwards; ``--database sqlite``
for a SQLite file):

- serves it (its ``serve`` command, one process, production settings, default page budget)
  and creates one product, then sends ``--updates`` PATCHes (200) that each replace its
  payload with a new one of ``--value-bytes`` (1 000 000): every audit row then holds the
  payload three times (the snapshot, and the change's old and new values);
- measures, through HTTP, with the server's peak resident memory (VmHWM, reset through
  ``/proc/PID/clear_refs`` before each step) over what it held before the step (VmRSS):
  - ``trail``: ``GET .../audit?limit=200``, the answer's bytes and time;
  - ``trail_xN``: ``--concurrent`` (3) such requests at once, and the memory the process
    still holds afterwards (``kept``);
  - ``feed``: ``GET /audit/changes?limit=200``;
  - ``whole_trail``: every entry, following ``next_cursor`` at ``limit=200``: pages, largest
    page, time.

It prints one JSON document: the figures of each service and, with a baseline, the ratios
``service / baseline`` of bytes, memory growth and time. Nothing is asserted: memory and time
depend on the machine and on what else runs on it. Needs Linux (``/proc``), uv and git.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from run import ADMIN_URL, HOST, ROOT, free_port, log, run, server

SLUG, ROUTE = "inventory-service", "/catalog/products"
FIELDS = "name:str(120), payload:json?"
MIB = 1024 * 1024


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="A git ref to measure in the same run (main).")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--updates", type=int, default=200, help="PATCHes of the payload.")
    parser.add_argument("--value-bytes", type=int, default=1_000_000, help="Each payload's size.")
    parser.add_argument("--concurrent", type=int, default=3, help="Trail requests at once.")
    parser.add_argument(
        "--database-prefix", default="bench", help="Names of the PostgreSQL databases made."
    )
    return parser.parse_args()


def generate(folder: Path, ref: str, name: str) -> Path:
    """Render the template at ``ref`` (HEAD: with uncommitted edits) with a json field."""
    service = folder / name
    copier = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
    run([*copier, "--vcs-ref", ref, "--data", f"fields={FIELDS}", str(ROOT), str(service)])
    run(["uv", "sync", "--quiet"], cwd=service)
    return service


def admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def memory(pid: int) -> dict[str, int]:
    """The process's resident memory now and at its peak (since the last reset), in bytes."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) * 1024
    return figures


def reset_peak(pid: int) -> None:
    """Start the process's peak resident memory (VmHWM) again from what it holds now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Client:
    """Plain HTTP requests with the bench token; each answer's status and body."""

    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://{HOST}:{port}"
        self.token = token

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (a local server this run started)
            self.base + path, data=data, method=method
        )
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
            return answer.status, answer.read()


def payload(n: int, size: int) -> dict[str, str]:
    """A json value of about ``size`` bytes, different for each ``n``."""
    return {"blob": (f"{n:08d}" * (size // 8 + 1))[:size]}


def write_history(client: Client, updates: int, size: int) -> str:
    """One product whose payload is replaced ``updates`` times; its id."""
    status, body = client.send("POST", ROUTE, {"name": "large", "payload": payload(0, size)})
    assert status == 201, body[:300]
    product_id: str = json.loads(body)["id"]
    for n in range(1, updates + 1):
        status, body = client.send("PATCH", f"{ROUTE}/{product_id}", {"payload": payload(n, size)})
        assert status == 200, body[:300]
    return product_id


def step(pid: int, action: Any) -> dict[str, Any]:
    """Run ``action`` (which returns figures) and add the server's memory growth during it."""
    before = memory(pid)["VmRSS"]
    reset_peak(pid)
    started = time.perf_counter()
    figures: dict[str, Any] = action()
    seconds = time.perf_counter() - started
    after = memory(pid)
    return {
        **figures,
        "seconds": round(seconds, 2),
        "peak_growth_mb": round((after["VmHWM"] - before) / MIB, 1),
        "kept_mb": round((after["VmRSS"] - before) / MIB, 1),
    }


def measure(service: Path, args: argparse.Namespace, folder: Path, name: str) -> dict[str, Any]:
    """Serve ``service`` on a fresh database, write the history, measure the pages."""
    secret = secrets.token_urlsafe(48)
    database = f"{args.database_prefix}_{os.getpid()}_{name}"
    if args.database == "postgres":
        admin(f'CREATE DATABASE "{database}"')
        base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}/{database}"
    else:
        url = f"sqlite:///{folder / database}.db"
    env = {"DATABASE_URL": url, "JWT_SECRET": secret, "ENVIRONMENT": "production"}
    full_env = {**os.environ, **env}
    command = str(service / ".venv/bin" / SLUG)
    try:
        run([command, "db", "upgrade"], cwd=service, env=full_env)
        token = run(
            [command, "token", "--sub", "bench", "--name", "Bench"], cwd=service, env=full_env
        ).stdout.strip()
        port = free_port()
        serve = [command, "serve", "--port", str(port)]
        with server(serve, cwd=service, env=env, port=port, ready="/health") as pid:
            client = Client(port, token)
            log(f"{name}: writing {args.updates} updates of {args.value_bytes} bytes")
            product_id = write_history(client, args.updates, args.value_bytes)
            trail = f"{ROUTE}/{product_id}/audit"
            figures = {"idle_rss_mb": round(memory(pid)["VmRSS"] / MIB, 1)}

            def one_page(path: str) -> dict[str, Any]:
                status, body = client.send("GET", path)
                assert status == 200, body[:300]
                return {"bytes": len(body), "items": len(json.loads(body)["items"])}

            def pages_at_once() -> dict[str, Any]:
                with ThreadPoolExecutor(args.concurrent) as pool:
                    pages = list(pool.map(one_page, [f"{trail}?limit=200"] * args.concurrent))
                return {"bytes": sum(page["bytes"] for page in pages)}

            def whole_trail() -> dict[str, Any]:
                sizes, items, cursor = [], 0, None
                while True:
                    query = "limit=200" + (f"&after={cursor}" if cursor else "")
                    status, body = client.send("GET", f"{trail}?{query}")
                    assert status == 200, body[:300]
                    page = json.loads(body)
                    sizes.append(len(body))
                    items += len(page["items"])
                    cursor = page["next_cursor"]
                    if cursor is None:
                        return {"pages": len(sizes), "items": items, "largest_page": max(sizes)}

            log(f"{name}: measuring")
            figures["trail"] = step(pid, lambda: one_page(f"{trail}?limit=200"))
            figures[f"trail_x{args.concurrent}"] = step(pid, pages_at_once)
            figures["feed"] = step(pid, lambda: one_page("/audit/changes?limit=200"))
            figures["whole_trail"] = step(pid, whole_trail)
            return figures
    finally:
        if args.database == "postgres":
            admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def ratios(service: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float]:
    """``service / baseline`` for each step's bytes, memory growth and time."""
    found = {}
    for step_name, figures in service.items():
        if not isinstance(figures, dict):
            continue
        for key in ("bytes", "peak_growth_mb", "seconds"):
            if key in figures and baseline[step_name].get(key):
                found[f"{step_name}.{key}"] = round(figures[key] / baseline[step_name][key], 4)
    return found


def main() -> None:
    args = parse_arguments()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        log("generating and installing the service")
        services = {"service": generate(folder, "HEAD", "service")}
        if args.baseline:
            log(f"generating and installing the service at {args.baseline}")
            services["baseline"] = generate(folder, args.baseline, "baseline")
        results: dict[str, Any] = {
            "database": args.database,
            "updates": args.updates,
            "value_bytes": args.value_bytes,
        }
        # The baseline first: what the change is measured against.
        for name in reversed(services):
            results[name] = measure(services[name], args, folder, name)
        if args.baseline:
            results["ratios"] = ratios(results["service"], results["baseline"])
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
