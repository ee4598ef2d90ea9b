"""Run a generated service for real: migrate its database, mint a token, serve it on a port."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import Service, clean_env, uv

# Generous: on a busy machine `uv run` and the imports of a few workers take a while.
STARTUP_TIMEOUT = 180.0
# Writers racing for one version of an entity (the figure).
CONCURRENT_WRITERS = 24


@dataclass(frozen=True)
class Reply:
    """An HTTP response: status, headers and the decoded JSON body (if any)."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class RunningService:
    """A service process listening on localhost, and a token its CLI minted."""

    service: Service
    base_url: str
    token: str
    env: dict[str, str]
    log_file: Path
    # The process started for `serve` (uv, which runs the service as its child).
    pid: int

    def log_entries(self) -> list[dict[str, Any]]:
        """What the service logged so far (JSON lines: its stderr is not a terminal)."""
        lines = self.log_file.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        authorized: bool = True,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request with the CLI's token, another ``token``, or none."""
        headers = {"Content-Type": "application/json", **(headers or {})}
        if authorized:
            headers["Authorization"] = f"Bearer {token or self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (a local http:// URL we built)
            self.base_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                raw, status, reply_headers = response.read(), response.status, response.headers
        except urllib.error.HTTPError as error:
            raw, status, reply_headers = error.read(), error.code, error.headers
        return Reply(
            status=status,
            headers={key.lower(): value for key, value in reply_headers.items()},
            body=json.loads(raw) if raw else None,
        )


def resident_kib(pid: int) -> int:
    """Resident memory (VmRSS, KiB) of process ``pid`` and all its descendants (Linux)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        status = Path(f"/proc/{current}/status").read_text()
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
        for task in Path(f"/proc/{current}/task").iterdir():
            pending.extend(int(child) for child in (task / "children").read_text().split())
    return total


def post_raw(
    base_url: str, path: str, size: int, headers: Mapping[str, str], *, chunked: bool = False
) -> int:
    """POST ``size`` bytes of body over a bare socket; return the status the service answers.

    The body is streamed from a thread in 1 MiB pieces (as Content-Length or chunked); the
    answer is read as soon as it comes, and the streaming stops when the service hangs up.
    """
    host, port = base_url.removeprefix("http://").split(":")
    piece = b"x" * (1024 * 1024)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}{framing}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)

        def stream() -> None:
            sent = 0
            try:
                while sent < size:
                    chunk = piece[: size - sent]
                    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
                    connection.sendall(frame)
                    sent += len(chunk)
                if chunked:
                    connection.sendall(b"0\r\n\r\n")
            except OSError:
                return  # the service answered and closed the connection: nothing more to send

        sender = threading.Thread(target=stream, daemon=True)
        sender.start()
        answer = b""
        while b"\r\n" not in answer:
            received = connection.recv(4096)
            if not received:
                break
            answer += received
        connection.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=30)
    return int(answer.split(b" ", 2)[1])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(base_url: str, process: subprocess.Popen[str]) -> None:
    """Poll /health until the service answers, or fail if it exits or never answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail("the service did not become healthy in time")


@contextmanager
def serving(
    service: Service, env: Mapping[str, str], log_file: Path, workers: int = 1
) -> Iterator[RunningService]:
    """Migrate ``env``'s DATABASE_URL, mint a token with the CLI and serve until the block ends.

    The service runs ``workers`` server processes; its log output goes to ``log_file``.
    """
    env = dict(env)
    upgraded = service.uv_run(service.slug, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.explain()
    minted = service.uv_run(
        service.slug, "token", "--sub", "u-42", "--name", "Served User", env=env
    )
    assert minted.returncode == 0, minted.explain()
    port = free_port()
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [
                *(uv(), "run", "--frozen", service.slug, "serve"),
                *("--port", str(port), "--workers", str(workers)),
            ],
            cwd=service.path,
            env=clean_env(env),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base_url, process)
            yield RunningService(
                service, base_url, minted.stdout.strip(), env, log_file, process.pid
            )
        finally:
            process.terminate()
            process.wait(timeout=30)


def race_for_one_version(
    live: RunningService, route: str, body: dict[str, Any], change: dict[str, Any]
) -> tuple[Counter[int], list[str]]:
    """Create an entity, then send concurrent PATCHes that all carry its first ETag.

    Returns the count of each status the writers got and the entity's audit action codes.
    """
    created = live.request("POST", route, body)
    assert created.status == 201, created.body
    item = f"{route}/{created.body['id']}"
    start = threading.Barrier(CONCURRENT_WRITERS)

    def patch(_: int) -> int:
        start.wait()
        return live.request("PATCH", item, change, headers={"If-Match": '"1"'}).status

    with ThreadPoolExecutor(max_workers=CONCURRENT_WRITERS) as pool:
        statuses = Counter(pool.map(patch, range(CONCURRENT_WRITERS)))
    trail = live.request("GET", f"{item}/audit").body["items"]
    return statuses, [entry["action_code"] for entry in trail]


def create_products_until(
    live: RunningService,
    stop: threading.Event,
    answered: Callable[[int, float, Any], None],
    dropped: Callable[[str], None],
) -> None:
    """Create products over one kept-alive connection until ``stop`` is set.

    Each answer goes to ``answered`` (its status, when its request was sent by
    ``time.monotonic()``, its body); each connection lost on the way goes to ``dropped``, and
    the writer opens a new one.
    """
    address = urlsplit(live.base_url)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {live.token}"}

    def connect() -> HTTPConnection:
        return HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)

    connection = connect()
    while not stop.is_set():
        body = json.dumps({"name": f"Written {secrets.token_hex(4)}", "price": "1.00"})
        sent = time.monotonic()
        try:
            connection.request("POST", "/catalog/products", body=body, headers=headers)
            response = connection.getresponse()
            payload = json.loads(response.read())
        except (OSError, HTTPException) as error:
            dropped(repr(error))
            connection.close()
            connection = connect()
            continue
        answered(response.status, sent, payload)
    connection.close()
