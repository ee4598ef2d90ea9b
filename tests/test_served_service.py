"""A generated service, really running: tokens from its own CLI, the REST surface over HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
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
    """Poll /health until the service answers, or fail with what it printed."""
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


@pytest.fixture(scope="module")
def running(
    service: Callable[[str], Service], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The several-features service, migrated and serving on a free port."""
    shop = service("several-features")
    database = tmp_path_factory.mktemp("served") / "shop.db"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    upgraded = shop.uv_run(shop.slug, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.explain()
    minted = shop.uv_run(shop.slug, "token", "--sub", "u-42", "--name", "Served User", env=env)
    assert minted.returncode == 0, minted.explain()
    port = free_port()
    process = subprocess.Popen(
        [uv(), "run", "--frozen", shop.slug, "serve", "--port", str(port)],
        cwd=shop.path,
        env=clean_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process)
        yield RunningService(shop, base_url, minted.stdout.strip(), env)
    finally:
        process.terminate()
        process.wait(timeout=30)


BODIES: dict[str, dict[str, Any]] = {
    "/catalog/products": {"name": "Desk lamp", "sku": "LAMP-1", "price": "19.90"},
    "/catalog/categories": {"title": "Lighting"},
    "/sales/purchase-orders": {"placed_on": "2026-11-20", "notes": "first order"},
}
CHANGES: dict[str, dict[str, Any]] = {
    "/catalog/products": {"price": "17.50"},
    "/catalog/categories": {"position": 3},
    "/sales/purchase-orders": {"status": "placed"},
}
ACTION_PREFIXES = {
    "/catalog/products": "PRODUCT",
    "/catalog/categories": "CATEGORY",
    "/sales/purchase-orders": "PURCHASE_ORDER",
}


@pytest.mark.parametrize("route", BODIES)
def test_every_feature_serves_its_rest_surface(running: RunningService, route: str) -> None:
    created = running.request("POST", route, BODIES[route])
    assert created.status == 201, created.body
    item = f"{route}/{created.body['id']}"
    assert running.request("GET", item).body == created.body
    listed = running.request("GET", f"{route}?limit=10")
    assert created.body["id"] in [row["id"] for row in listed.body["items"]]
    assert listed.body["total"] >= 1
    patched = running.request("PATCH", item, CHANGES[route])
    assert patched.status == 200, patched.body
    assert patched.body["version"] == 2
    assert running.request("DELETE", item).status == 204
    assert running.request("GET", item).status == 404
    assert running.request("POST", f"{item}/restore").status == 200
    trail = running.request("GET", f"{item}/audit").body
    prefix = ACTION_PREFIXES[route]
    assert [entry["action_code"] for entry in trail] == [
        f"{prefix}_RESTORED",
        f"{prefix}_DELETED",
        f"{prefix}_UPDATED",
        f"{prefix}_CREATED",
    ]
    assert {entry["performed_by_user_name"] for entry in trail} == {"Served User"}
    assert trail[1]["changes"] is None
    assert trail[2]["changes"] == {
        field: {"old": created.body[field], "new": value} for field, value in CHANGES[route].items()
    }


@pytest.mark.parametrize("route", BODIES)
def test_bad_requests_get_4xx_problems_never_500(running: RunningService, route: str) -> None:
    no_token = running.request("GET", route, authorized=False)
    assert no_token.status == 401
    assert no_token.headers["www-authenticate"] == "Bearer"
    forged = running.request("GET", route, token=running.token[:-4] + "AAAA")
    assert forged.status == 401
    invalid = running.request("POST", route, {**BODIES[route], "unexpected": True})
    assert invalid.status == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert running.request("GET", f"{route}/missing").status == 404
    assert running.request("GET", f"{route}?limit=5000").status == 422


def test_a_taken_unique_value_is_a_409(running: RunningService) -> None:
    body = {"name": "Desk", "sku": "UNIQUE-1", "price": "1.00"}
    assert running.request("POST", "/catalog/products", body).status == 201
    again = running.request("POST", "/catalog/products", body)
    assert again.status == 409
    assert "sku" in again.body["detail"]


def test_the_cli_prints_the_audit_trail_of_a_served_change(running: RunningService) -> None:
    created = running.request("POST", "/catalog/categories", {"title": "Audited"})
    shop = running.service
    result = shop.uv_run(shop.slug, "audit", "category", created.body["id"], env=running.env)
    assert result.returncode == 0, result.explain()
    assert "CATEGORY_CREATED" in result.stdout
    assert "Served User (u-42)" in result.stdout


def test_the_openapi_document_lists_every_route(running: RunningService) -> None:
    paths = running.request("GET", "/openapi.json", authorized=False).body["paths"]
    for route in BODIES:
        assert route in paths
        audit_paths = [path for path in paths if path.startswith(route) and path.endswith("/audit")]
        assert len(audit_paths) == 1, paths
