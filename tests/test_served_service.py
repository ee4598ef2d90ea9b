"""A generated service, really running: tokens from its own CLI, the REST surface over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Service
from tests.live_service import RunningService, serving


@pytest.fixture(scope="module")
def running(
    service: Callable[[str], Service], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The several-features service, migrated and serving on a free port."""
    database = tmp_path_factory.mktemp("served") / "shop.db"
    with serving(service("several-features"), {"DATABASE_URL": f"sqlite:///{database}"}) as live:
        yield live


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
