"""What PgBouncer in transaction mode costs a generated service, against direct connections.

    uv run python benchmarks/pooler.py [--duration 10] [--rounds 2] [--connections 16]

It generates a service with the default answers (this clone's working tree) into a temporary
folder, starts a PgBouncer of its own in transaction mode (Debian's package, as the template's
pooler test does: ``tests/throwaway_pgbouncer.py``) in front of the server at
POSTGRES_ADMIN_URL, and serves the service with ``--workers`` workers (2), on a fresh database
each time, as:

- ``direct``: connections straight to PostgreSQL, psycopg preparing a statement on the server
  once it has run five times on a connection (``DATABASE_POOLER=none``, the default);
- ``direct, no prepare``: the same with ``DATABASE_POOLER=transaction``: what preparing nothing
  costs by itself;
- ``pooler``: through PgBouncer, with ``DATABASE_POOLER=transaction``: what a team behind the
  pooler gets;
- ``pooler, unset`` (with ``--unset``): through PgBouncer without the setting, the failure the
  setting fixes: its statuses show the 500s.

Each serves creates, then lists of 20, over ``--connections`` keep-alive connections for
``--duration`` seconds each; rounds alternate the order. Besides throughput, latency and every
status, it reads CPU time per request from /proc: the service's (its process group), the
database's (the server processes of its database, the pooler's included) and the pooler's.
The database's is where prepared statements save work (parsing and planning), so its ratio
says what preparing nothing costs even when the machine's cores are busy with other work.
"""

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import load
import psycopg
import run

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.throwaway_pgbouncer import Pooler, throwaway_pooler  # noqa: E402

VARIANTS = ("direct", "direct, no prepare", "pooler")
UNSET = "pooler, unset"
OPERATIONS = ("create", "list")


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_backends(database: str) -> list[int]:
    """The server processes connected to ``database`` now."""
    with psycopg.connect(run.ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU time of the service's process group, its database's backends and the pooler."""

    def __init__(self, group: int, database: str, pooler: Pooler | None) -> None:
        self.group, self.database, self.pooler = group, database, pooler

    def read(self) -> dict[str, Any]:
        """This moment's counters: per part, seconds (per backend for the database)."""
        pooler_pid = self.pooler.process.pid if self.pooler and self.pooler.process else None
        return {
            "service": run.group_cpu_seconds(self.group) or 0.0,
            "database": {pid: process_cpu_seconds(pid) for pid in database_backends(self.database)},
            "pooler": process_cpu_seconds(pooler_pid) if pooler_pid else 0.0,
        }

    @staticmethod
    def per_request(
        before: dict[str, Any], after: dict[str, Any], requests: int
    ) -> dict[str, float]:
        """Milliseconds of CPU per request of each part between two readings."""
        if not requests:
            return {"service": float("nan"), "database": float("nan"), "pooler": float("nan")}
        # A backend that started meanwhile counts from zero; one that ended took its time with
        # it (the pools keep theirs open, so few do).
        database = sum(
            seconds - before["database"].get(pid, 0.0) for pid, seconds in after["database"].items()
        )
        return {
            "service": (after["service"] - before["service"]) * 1000 / requests,
            "database": database * 1000 / requests,
            "pooler": (after["pooler"] - before["pooler"]) * 1000 / requests,
        }


class Bench:
    """One run: the service served directly, directly without prepares, and through PgBouncer."""

    def __init__(self, args: argparse.Namespace, folder: Path, pooler: Pooler) -> None:
        self.args, self.folder, self.pooler = args, folder, pooler
        self.databases = run.Databases(folder)
        self.secret = secrets.token_urlsafe(48)
        run.log("generating and installing the service")
        self.service = run.generate_service(folder)
        self.token = run.run(
            [str(self.command()), "token", "--sub", "bench", "--name", "Bench"],
            cwd=self.service,
            env={**os.environ, "JWT_SECRET": self.secret},
        ).stdout.strip()
        # results[variant][operation] -> one summary per round
        self.results: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def command(self) -> Path:
        return self.service / ".venv/bin" / run.SLUG

    def env(self, variant: str, database: str) -> dict[str, str]:
        """The service's settings for ``variant`` on ``database``."""
        direct = self.databases_url(database)
        through_pooler = variant.startswith("pooler")
        return {
            "DATABASE_URL": self.pooler.url(database) if through_pooler else direct,
            "DATABASE_POOLER": "none" if variant in ("direct", UNSET) else "transaction",
            "JWT_SECRET": self.secret,
            "ENVIRONMENT": "production",
            "LOG_FORMAT": "json",
        }

    @staticmethod
    def databases_url(database: str) -> str:
        base = run.ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{database}"

    @contextmanager
    def serving(self, variant: str) -> Iterator[tuple[int, CpuMeter]]:
        """Serve ``variant`` on a fresh database migrated its way; yield its port and meter."""
        database = self.databases.fresh("postgres").rsplit("/", 1)[1]
        env = self.env(variant, database)
        run.run([str(self.command()), "db", "upgrade"], cwd=self.service, env={**os.environ, **env})
        port = run.free_port()
        command = [str(self.command()), "serve", "--port", str(port)]
        command += ["--workers", str(self.args.workers)]
        with run.server(command, cwd=self.service, env=env, port=port, ready="/health") as group:
            through_pooler = variant.startswith("pooler")
            yield port, CpuMeter(group, database, self.pooler if through_pooler else None)

    def operations(self) -> dict[str, load.RequestMaker]:
        token = self.token
        return {
            "create": lambda n: load.request("POST", run.ROUTE, run.HOST, token, run.product(n)),
            "list": lambda _n: load.request("GET", f"{run.ROUTE}?limit=20", run.HOST, token),
        }

    def measure(self, variant: str) -> None:
        with self.serving(variant) as (port, meter):
            for operation, make in self.operations().items():
                connections = self.args.connections
                asyncio.run(
                    load.run_load(run.HOST, port, make, connections=connections, duration=0.5)
                )
                before = meter.read()
                result = asyncio.run(
                    load.run_load(
                        run.HOST, port, make, connections=connections, duration=self.args.duration
                    )
                )
                summary = result.summary()
                summary["cpu_ms"] = CpuMeter.per_request(before, meter.read(), result.requests)
                self.results.setdefault(variant, {}).setdefault(operation, []).append(summary)
                cpu = summary["cpu_ms"]
                run.log(
                    f"{variant:18} {operation:6} {summary['rps']:7.1f} req/s "
                    f"p50 {summary['p50_ms']:.1f} ms p99 {summary['p99_ms']:.1f} ms CPU ms/req "
                    f"service {cpu['service']:.2f} database {cpu['database']:.2f} "
                    f"pooler {cpu['pooler']:.2f} statuses {summary['statuses']}"
                )
        self.databases.drop_all()

    def run(self) -> None:
        variants = [*VARIANTS, *([UNSET] if self.args.unset else [])]
        for round_number in range(self.args.rounds):
            # Alternate the order between rounds: drift on a busy machine evens out.
            for variant in variants[::-1] if round_number % 2 else variants:
                self.measure(variant)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def figures(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """The median over the rounds of each figure."""
    flat = [{**{key: r[key] for key in ("rps", "p50_ms", "p99_ms")}, **r["cpu_ms"]} for r in rounds]
    return {key: median([r[key] for r in flat]) for key in flat[0]}


def statuses(rounds: list[dict[str, Any]]) -> str:
    """Every status the rounds saw, with its count."""
    total: dict[str, int] = {}
    for r in rounds:
        for code, count in r["statuses"].items():
            total[code] = total.get(code, 0) + count
    return ", ".join(f"{count} x {code}" for code, count in sorted(total.items()))


def table(results: dict[str, dict[str, list[dict[str, Any]]]]) -> tuple[str, dict[str, float]]:
    """The printed table and the ratios it shows."""
    lines = [
        "| variant | operation | req/s | p50 ms | p99 ms | CPU ms/req: service | database "
        "| pooler | statuses |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, by_operation in results.items():
        for operation, rounds in by_operation.items():
            f = figures(rounds)
            lines.append(
                f"| {variant} | {operation} | {f['rps']:.0f} | {f['p50_ms']:.1f} | "
                f"{f['p99_ms']:.1f} | {f['service']:.2f} | {f['database']:.2f} | "
                f"{f['pooler']:.2f} | {statuses(rounds)} |"
            )
    ratios: dict[str, float] = {}

    def figure(variant: str, operation: str, key: str) -> float:
        return figures(results[variant][operation])[key]

    for operation in OPERATIONS:
        direct = "direct"
        for other, label in (("pooler", "pooler"), ("direct, no prepare", "no prepare")):
            ratios[f"{operation}: {label} / direct (throughput)"] = figure(
                other, operation, "rps"
            ) / figure(direct, operation, "rps")
        ratios[f"{operation}: no prepare / direct (database CPU per request)"] = figure(
            "direct, no prepare", operation, "database"
        ) / figure(direct, operation, "database")
        ratios[f"{operation}: pooler / direct (service CPU per request)"] = figure(
            "pooler", operation, "service"
        ) / figure(direct, operation, "service")
    lines += ["", "| ratio (same run) | value |", "|---|---|"]
    lines += [f"| {name} | {value:.2f} |" for name, value in ratios.items()]
    return "\n".join(lines), ratios


def main() -> None:
    """Parse the options, run the benchmark, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per operation")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, alternating the order")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="the service's server workers")
    parser.add_argument(
        "--unset", action="store_true", help="also serve through PgBouncer without the setting"
    )
    parser.add_argument("--out", type=Path, default=run.BENCHMARKS / "pooler-results.json")
    args = parser.parse_args()
    started = time.time()
    folder = Path(tempfile.mkdtemp(prefix="copier-bench-pooler-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        pooler = stack.enter_context(throwaway_pooler(run.ADMIN_URL))
        bench = Bench(args, folder, pooler)
        stack.callback(bench.databases.drop_all)
        bench.run()
    text, ratios = table(bench.results)
    report: dict[str, Any] = {
        "command": " ".join(["benchmarks/pooler.py", *sys.argv[1:]]),
        "machine": run.machine(),
        "settings": vars(args) | {"out": str(args.out)},
        "results": bench.results,
        "ratios": ratios,
        "seconds": time.time() - started,
    }
    print(text)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    run.log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
