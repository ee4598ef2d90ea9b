"""Run a generated service for real: migrate its database, mint a token, serve it on a port."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Service, clean_env, uv

STARTUP_TIMEOUT = 60.0


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

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        authorized: bool = True,
        token: str | None = None,
    ) -> Reply:
        """Send one request with the CLI's token, another ``token``, or none."""
        headers = {"Content-Type": "application/json"}
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
def serving(service: Service, env: Mapping[str, str]) -> Iterator[RunningService]:
    """Migrate ``env``'s DATABASE_URL, mint a token with the CLI and serve until the block ends."""
    env = dict(env)
    upgraded = service.uv_run(service.slug, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.explain()
    minted = service.uv_run(
        service.slug, "token", "--sub", "u-42", "--name", "Served User", env=env
    )
    assert minted.returncode == 0, minted.explain()
    port = free_port()
    process = subprocess.Popen(
        [uv(), "run", "--frozen", service.slug, "serve", "--port", str(port)],
        cwd=service.path,
        env=clean_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process)
        yield RunningService(service, base_url, minted.stdout.strip(), env)
    finally:
        process.terminate()
        process.wait(timeout=30)
