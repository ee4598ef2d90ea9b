"""Benchmark a generated service against baselines measured in the same run.

    uv run python benchmarks/run.py [--quick] [--out benchmarks/results.json]

It generates a service with the default answers into a temporary folder, installs it, and for
SQLite and PostgreSQL (a fresh database per server, created on POSTGRES_ADMIN_URL, default
postgresql://postgres@127.0.0.1:5432/postgres, and dropped afterwards) serves, one after the
other, with 1 and with N uvicorn workers (N: the machine's cores):

- ``service``: the generated service (its own ``serve`` command), driven through create, get,
  list (20 per page), update and the audit trail;
- ``no-audit``: the same service with its audit insert left out (the audit's share of a
  create), ``benchmarks/no_audit_app.py``;
- ``bare``: a bare FastAPI endpoint doing the same two inserts with SQLAlchemy Core in one
  transaction, ``benchmarks/bare_app.py`` (the practical ceiling of a create here);
- ``peer``: the backend of fastapi/full-stack-fastapi-template at commit f459c20a (create and
  list of its items), PostgreSQL only, set up from the snapshot at PEER_SNAPSHOT (a bare git
  repository; default /work/.mirror/fastapi+full-stack-fastapi-template/repo); left out,
  saying so, when the snapshot is missing. Its code is only ever unpacked into the temp folder;
- ``baseline`` (with ``--baseline REF``): the service generated from this clone's template at
  git ref REF, driven like ``service``: a change's before and after, measured in the same run.

Load: ``--connections`` keep-alive connections (8) for ``--duration`` seconds per operation
(10; 3 with --quick), ``--rounds`` rounds (2; 1 with --quick) alternating the servers. Absolute
figures depend on the machine and on what else runs on it: read the ratios, which compare
servers measured minutes apart on the same machine. Each figure also has the server's CPU
time per request (its whole process group, read from /proc where there is one), which moves
less than throughput when something else takes the machine's cores. The table is printed and
the figures written as JSON (``--out``). ``--generation`` adds the rendering benchmark
(generation.py).
"""

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import load

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
PEER_COMMIT = "f459c20a"
DEFAULT_PEER_SNAPSHOT = "/work/.mirror/fastapi+full-stack-fastapi-template/repo"
ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"
# The default answers' feature, as the service serves it.
SLUG, PACKAGE, ROUTE, TABLE = (
    "inventory-service",
    "inventory_service",
    "/catalog/products",
    "product",
)
SEED_ROWS = 200
SERVICE_OPERATIONS = ("get", "list", "audit", "update", "create")
PEER_USER, PEER_PASSWORD = "bench@example.com", "bench-" + secrets.token_urlsafe(12)


def log(message: str) -> None:
    """Progress on stderr; the table goes to stdout."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, failing loudly with its output."""
    if "input" not in kwargs:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    done = subprocess.run(command, check=False, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        msg = f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        raise RuntimeError(msg)
    return done


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def group_cpu_seconds(group: int) -> float | None:
    """CPU seconds (user and system) the processes of a process group have used so far.

    None where there is no /proc. A worker that exits meanwhile takes its time with it, which
    a benchmark's servers don't do.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        # After the command's closing parenthesis: state, ppid, pgrp, ... utime, stime.
        if int(fields[2]) == group:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def generate_service(folder: Path, ref: str = "HEAD", name: str = "service") -> Path:
    """Render the template and install it: at ``ref`` (HEAD: uncommitted edits included)."""
    service = folder / name
    copier = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet"]
    run([*copier, "--vcs-ref", ref, str(ROOT), str(service)])
    run(["uv", "sync", "--quiet"], cwd=service)
    return service


def setup_peer(folder: Path, snapshot: str) -> Path | None:
    """Unpack and install the peer's backend; None (and why, on stderr) if it can't be."""
    if not Path(snapshot).exists():
        log(f"peer snapshot {snapshot} not found: the peer column is left out")
        return None
    peer = folder / "peer"
    peer.mkdir()
    archive = subprocess.run(
        [
            "git",
            f"--git-dir={snapshot}",
            "archive",
            PEER_COMMIT,
            "pyproject.toml",
            "uv.lock",
            "backend",
        ],
        stdin=subprocess.DEVNULL,
        check=True,
        capture_output=True,
    )
    subprocess.run(["tar", "-x", "-C", str(peer)], input=archive.stdout, check=True)
    run(["uv", "sync", "--quiet", "--python", "3.11", "--no-dev"], cwd=peer)
    return peer


class Databases:
    """Fresh databases for each server: SQLite files, or PostgreSQL databases dropped at exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created: list[str] = []
        self.count = 0

    def fresh(self, kind: str) -> str:
        """The URL (SQLAlchemy, psycopg 3) of a new, empty database of ``kind``."""
        self.count += 1
        name = f"bench_{os.getpid()}_{self.count}"
        if kind == "sqlite":
            return f"sqlite:///{self.folder / name}.db"
        self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{name}"

    def drop_all(self) -> None:
        """Drop every PostgreSQL database this run created."""
        for name in self.created:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()

    @staticmethod
    def _admin(statement: str) -> None:
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]


@contextmanager
def server(
    command: list[str], *, cwd: Path, env: dict[str, str], port: int, ready: str
) -> Iterator[int]:
    """Start a server, wait until ``ready`` answers, and stop it (its whole group) afterwards."""
    # The server's output goes to a file: a pipe nobody reads would fill up and block it.
    output = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = asyncio.run(load.send(HOST, port, load.request("GET", ready, HOST)))
                if status < 500:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output.seek(0)
                error = output.read().decode(errors="replace")
                msg = f"{' '.join(command)} did not start:\n{error[-3000:]}"
                raise RuntimeError(msg)
            time.sleep(0.2)
        # Its own session: the group's id is its pid, and the group holds its workers too.
        yield process.pid
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        output.close()


def product(n: int) -> dict[str, Any]:
    """A create body of the default answers' product."""
    return {
        "name": f"bench {n}",
        "description": "benchmark product",
        "price": "19.99",
        "in_stock": True,
    }


class Bench:
    """One run: the service, its baselines and the peer, on each database and worker count."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.databases = Databases(folder)
        self.secret = secrets.token_urlsafe(48)
        log("generating and installing the service")
        self.service = generate_service(folder)
        self.baseline = None
        if args.baseline:
            log(f"generating and installing the service at {args.baseline}")
            self.baseline = generate_service(folder, args.baseline, "baseline")
        self.peer = setup_peer(folder, args.peer_snapshot) if "postgres" in args.databases else None
        self.token = run(
            [str(self.service / ".venv/bin" / SLUG), "token", "--sub", "bench", "--name", "Bench"],
            cwd=self.service,
            env={**os.environ, "JWT_SECRET": self.secret},
        ).stdout.strip()
        # results[database][workers][server][operation] -> one summary per round
        self.results: dict[str, dict[str, dict[str, dict[str, list[dict[str, Any]]]]]] = {}

    # -- servers -------------------------------------------------------------------------

    def service_env(self, url: str) -> dict[str, str]:
        return {
            "DATABASE_URL": url,
            "JWT_SECRET": self.secret,
            "ENVIRONMENT": "production",
            "LOG_FORMAT": "json",
        }

    def migrate(self, url: str, service: Path | None) -> None:
        assert service is not None
        run(
            [str(service / ".venv/bin" / SLUG), "db", "upgrade"],
            cwd=service,
            env={**os.environ, **self.service_env(url)},
        )

    def uvicorn(self, target: str, port: int, workers: int, *extra: str) -> list[str]:
        return [
            str(self.service / ".venv/bin/python"), "-m", "uvicorn", target, *extra,
            "--app-dir", str(BENCHMARKS), "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--no-server-header",
            "--limit-concurrency", "200", "--log-level", "warning",
        ]  # fmt: skip

    def start(self, kind: str, database: str, workers: int, port: int) -> Any:
        """A context that serves ``kind`` on a fresh ``database`` at ``port``."""
        url = self.databases.fresh(database)
        if kind == "peer":
            return self.start_peer(url, workers, port)
        self.migrate(url, self.baseline if kind == "baseline" else self.service)
        env = self.service_env(url)
        if kind in ("service", "baseline"):
            service = self.baseline if kind == "baseline" else self.service
            assert service is not None
            command = [str(service / ".venv/bin" / SLUG), "serve", "--port", str(port)]
            command += ["--workers", str(workers)]
            return server(command, cwd=service, env=env, port=port, ready="/health")
        if kind == "no-audit":
            command = self.uvicorn("no_audit_app:create_app", port, workers, "--factory")
            env["NO_AUDIT_PACKAGE"] = PACKAGE
            return server(command, cwd=self.service, env=env, port=port, ready="/health")
        env.update(BARE_TABLE=TABLE, JWT_AUDIENCE=SLUG, JWT_ISSUER=SLUG)
        command = self.uvicorn("bare_app:app", port, workers)
        return server(command, cwd=self.service, env=env, port=port, ready="/docs")

    def peer_env(self, url: str) -> dict[str, str]:
        return {
            "POSTGRES_SERVER": HOST,
            "POSTGRES_PORT": ADMIN_URL.rsplit(":", 1)[1].split("/")[0],
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
            "POSTGRES_DB": url.rsplit("/", 1)[1],
            "SECRET_KEY": secrets.token_urlsafe(32),
            "FIRST_SUPERUSER": PEER_USER,
            "FIRST_SUPERUSER_PASSWORD": PEER_PASSWORD,
            "ENVIRONMENT": "local",
            "PROJECT_NAME": "peer",
            "FRONTEND_HOST": "http://localhost:5173",
        }

    def start_peer(self, url: str, workers: int, port: int) -> Any:
        assert self.peer is not None
        backend, venv = self.peer / "backend", self.peer / ".venv/bin"
        env = self.peer_env(url)
        full_env = {**os.environ, **env}
        run([str(venv / "alembic"), "upgrade", "head"], cwd=backend, env=full_env)
        run([str(venv / "python"), "app/initial_data.py"], cwd=backend, env=full_env)
        command = [
            str(venv / "uvicorn"), "app.main:app", "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        return server(command, cwd=backend, env=env, port=port, ready="/api/v1/utils/health-check/")

    # -- load ------------------------------------------------------------------------------

    def drive(
        self, port: int, group: int, make: load.RequestMaker, seconds: float
    ) -> dict[str, Any]:
        connections = self.args.connections
        warm = asyncio.run(load.run_load(HOST, port, make, connections=connections, duration=0.5))
        del warm
        cpu_before = group_cpu_seconds(group)
        result = asyncio.run(
            load.run_load(HOST, port, make, connections=connections, duration=seconds)
        )
        cpu_after = group_cpu_seconds(group)
        summary = result.summary()
        summary["cpu_ms"] = (
            (cpu_after - cpu_before) * 1000 / result.requests
            if cpu_before is not None and cpu_after is not None and result.requests
            else float("nan")
        )
        return summary

    def seed(self, port: int, make: Callable[[int], bytes], count: int) -> list[str]:
        ids = []
        for n in range(count):
            status, body = asyncio.run(load.send(HOST, port, make(n)))
            if status != 201 and status != 200:
                msg = f"seeding failed: {status} {body[:300]!r}"
                raise RuntimeError(msg)
            ids.append(json.loads(body)["id"])
        return ids

    def service_operations(self, port: int) -> dict[str, load.RequestMaker]:
        token = self.token
        post = lambda n: load.request("POST", ROUTE, HOST, token, product(10**6 + n))  # noqa: E731
        ids = self.seed(port, post, SEED_ROWS)

        def item(n: int) -> str:
            return f"{ROUTE}/{ids[n % len(ids)]}"

        return {
            "get": lambda n: load.request("GET", item(n), HOST, token),
            "list": lambda _n: load.request("GET", f"{ROUTE}?limit=20", HOST, token),
            "audit": lambda n: load.request("GET", f"{item(n)}/audit", HOST, token),
            "update": lambda n: load.request(
                "PATCH", item(n), HOST, token, {"name": f"renamed {n}"}
            ),
            "create": lambda n: load.request("POST", ROUTE, HOST, token, product(n)),
        }

    def peer_operations(self, port: int) -> dict[str, load.RequestMaker]:
        form = urlencode({"username": PEER_USER, "password": PEER_PASSWORD}).encode()
        login = (
            f"POST /api/v1/login/access-token HTTP/1.1\r\nHost: {HOST}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(form)}\r\n\r\n"
        ).encode() + form
        status, body = asyncio.run(load.send(HOST, port, login))
        if status != 200:
            msg = f"peer login failed: {status} {body[:300]!r}"
            raise RuntimeError(msg)
        token = json.loads(body)["access_token"]
        items = "/api/v1/items/"

        def item(n: int) -> dict[str, str]:
            return {"title": f"bench {n}", "description": "benchmark item"}

        post = lambda n: load.request("POST", items, HOST, token, item(10**6 + n))  # noqa: E731
        self.seed(port, post, SEED_ROWS)
        return {
            "list": lambda _n: load.request("GET", f"{items}?skip=0&limit=20", HOST, token),
            "create": lambda n: load.request("POST", items, HOST, token, item(n)),
        }

    def measure(self, kind: str, database: str, workers: int) -> None:
        port = free_port()
        with self.start(kind, database, workers, port) as group:
            if kind in ("service", "baseline"):
                operations = self.service_operations(port)
            elif kind == "peer":
                operations = self.peer_operations(port)
            else:
                token = self.token
                path = ROUTE if kind == "no-audit" else f"/bare/{TABLE}"
                operations = {
                    "create": lambda n: load.request("POST", path, HOST, token, product(n))
                }
            for operation, make in operations.items():
                summary = self.drive(port, group, make, self.args.duration)
                slot = self.results.setdefault(database, {}).setdefault(str(workers), {})
                slot.setdefault(kind, {}).setdefault(operation, []).append(summary)
                log(
                    f"{database} w={workers} {kind:8} {operation:6} {summary['rps']:8.1f} req/s "
                    f"p50 {summary['p50_ms']:.1f} ms p99 {summary['p99_ms']:.1f} ms "
                    f"CPU {summary['cpu_ms']:.2f} ms/req errors {summary['errors']}"
                )

    def run(self) -> None:
        kinds = ["service", "no-audit", "bare"] + (["baseline"] if self.baseline else [])
        for round_number in range(self.args.rounds):
            for database in self.args.databases:
                for workers in self.args.workers:
                    servers = kinds + (["peer"] if database == "postgres" and self.peer else [])
                    # Alternate the order between rounds: drift on a busy machine evens out.
                    if round_number % 2:
                        servers = servers[::-1]
                    for kind in servers:
                        self.measure(kind, database, workers)
                    self.databases.drop_all()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def figures(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """The median over the rounds of each figure."""
    keys = ("rps", "p50_ms", "p99_ms", "cpu_ms")
    return {key: median([r.get(key, float("nan")) for r in rounds]) for key in keys}


def table(results: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The printed table and the ratios it shows."""
    lines = [
        "| db | workers | server | operation | req/s | p50 ms | p99 ms | CPU ms/req | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ratios: dict[str, Any] = {}
    for database, by_workers in results.items():
        for workers, by_kind in by_workers.items():
            for kind, by_operation in by_kind.items():
                for operation, rounds in by_operation.items():
                    f = figures(rounds)
                    errors = sum(r["errors"] for r in rounds)
                    lines.append(
                        f"| {database} | {workers} | {kind} | {operation} | {f['rps']:.0f} | "
                        f"{f['p50_ms']:.1f} | {f['p99_ms']:.1f} | {f['cpu_ms']:.2f} | {errors} |"
                    )
            ratios[f"{database}/{workers}"] = compare(by_kind)
    lines += ["", "| db/workers | ratio | value |", "|---|---|---|"]
    for where, values in ratios.items():
        lines += [f"| {where} | {name} | {value:.2f} |" for name, value in values.items()]
    return "\n".join(lines), ratios


def compare(by_kind: dict[str, Any]) -> dict[str, float]:
    """Ratios of the service's figures to the baselines' measured beside them."""

    def rps(kind: str, operation: str) -> float | None:
        rounds = by_kind.get(kind, {}).get(operation)
        return figures(rounds)["rps"] if rounds else None

    def p99(kind: str, operation: str) -> float | None:
        rounds = by_kind.get(kind, {}).get(operation)
        return figures(rounds)["p99_ms"] if rounds else None

    ours = rps("service", "create")
    out: dict[str, float] = {}
    if ours and (bare := rps("bare", "create")):
        out["create: service / bare (throughput)"] = ours / bare
    if ours and (no_audit := rps("no-audit", "create")):
        out["create: cost with audit / without (time per create)"] = no_audit / ours
    if ours and (peer := rps("peer", "create")):
        out["create: service / peer (throughput)"] = ours / peer
        out["create: service p99 / peer p99"] = (p99("service", "create") or 0) / (
            p99("peer", "create") or 1
        )
    for operation in SERVICE_OPERATIONS:
        after, before = by_kind.get("service", {}), by_kind.get("baseline", {})
        if after.get(operation) and before.get(operation):
            now, then = figures(after[operation]), figures(before[operation])
            out[f"{operation}: service / baseline (throughput)"] = now["rps"] / then["rps"]
            out[f"{operation}: service / baseline (CPU per request)"] = (
                now["cpu_ms"] / then["cpu_ms"]
            )
    if (ours_list := rps("service", "list")) and (peer_list := rps("peer", "list")):
        out["list 20: service / peer (throughput)"] = ours_list / peer_list
        out["list 20: service p99 / peer p99"] = (p99("service", "list") or 0) / (
            p99("peer", "list") or 1
        )
    return out


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
             if line.startswith("model name")),
            "",
        )  # fmt: skip
    load_average = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average_at_end": load_average,
    }


def main() -> None:
    """Parse the options, run the benchmark, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per operation, one round")
    parser.add_argument("--duration", type=float, help="seconds per operation (10)")
    parser.add_argument("--rounds", type=int, help="rounds, alternating the servers (2)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, nargs="+", help="worker counts (1 and the machine's cores)"
    )
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument(
        "--peer-snapshot", default=os.environ.get("PEER_SNAPSHOT", DEFAULT_PEER_SNAPSHOT)
    )
    parser.add_argument(
        "--baseline", help="also serve the service generated at this git ref (e.g. main)"
    )
    parser.add_argument("--generation", action="store_true", help="also time copier copy/update")
    parser.add_argument("--out", type=Path, default=BENCHMARKS / "results.json")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.workers = args.workers or sorted({1, os.cpu_count() or 1})
    started = time.time()
    folder = Path(tempfile.mkdtemp(prefix="copier-bench-"))
    try:
        bench = Bench(args, folder)
        try:
            bench.run()
        finally:
            bench.databases.drop_all()
        text, ratios = table(bench.results)
        report: dict[str, Any] = {
            "command": " ".join(["benchmarks/run.py", *sys.argv[1:]]),
            "machine": machine(),
            "settings": {
                "duration_s": args.duration,
                "rounds": args.rounds,
                "connections": args.connections,
                "workers": args.workers,
                "peer": f"full-stack-fastapi-template@{PEER_COMMIT}" if bench.peer else None,
                "baseline": args.baseline,
            },
            "results": bench.results,
            "ratios": ratios,
        }
        if bench.peer is None:
            text += "\n\nThe peer was not measured (no snapshot, or no PostgreSQL run)."
        # The service figures are kept whatever the rendering benchmark does.
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        if args.generation:
            import generation

            report["generation"] = generation.measure(folder, quick=args.quick)
            text += "\n\n" + generation.table(report["generation"])
        report["seconds"] = time.time() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(text)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
