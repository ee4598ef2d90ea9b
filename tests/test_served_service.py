"""A generated service, really running: tokens from its own CLI, the REST surface over HTTP."""

from __future__ import annotations

import json
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.conftest import Service, run
from tests.generated_client import GeneratedClient, generate_client, generate_typescript_client
from tests.live_service import (
    CONCURRENT_WRITERS,
    RunningService,
    post_raw,
    race_for_one_version,
    resident_kib,
    serving,
)

pytestmark = [pytest.mark.generation, pytest.mark.answer_set("several-features")]


@pytest.fixture(scope="module")
def running(
    service: Callable[[str], Service], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The several-features service, migrated and serving on a free port."""
    directory = tmp_path_factory.mktemp("served")
    env = {"DATABASE_URL": f"sqlite:///{directory / 'shop.db'}"}
    with serving(service("several-features"), env, directory / "service.log") as live:
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


def new_product(running: RunningService) -> str:
    """A product of its own (its sku unique); its id."""
    body = {**BODIES["/catalog/products"], "sku": f"LAMP-{uuid4().hex[:8]}"}
    created = running.request("POST", "/catalog/products", body)
    assert created.status == 201, created.body
    product_id: str = created.body["id"]
    return product_id


def body_of(running: RunningService, route: str) -> dict[str, Any]:
    """The route's create body, referring to a product of its own (an order's is required)."""
    if route != "/sales/purchase-orders":
        return BODIES[route]
    return {**BODIES[route], "product": new_product(running)}


@pytest.mark.parametrize("route", BODIES)
def test_every_feature_serves_its_rest_surface(running: RunningService, route: str) -> None:
    created = running.request("POST", route, body_of(running, route))
    assert created.status == 201, created.body
    item = f"{route}/{created.body['id']}"
    assert running.request("GET", item).body == created.body
    listed = running.request("GET", f"{route}?limit=10&include_total=true")
    assert created.body["id"] in [row["id"] for row in listed.body["items"]]
    assert listed.body["total"] >= 1
    patched = running.request("PATCH", item, CHANGES[route])
    assert patched.status == 200, patched.body
    assert patched.body["version"] == 2
    assert running.request("DELETE", item).status == 204
    assert running.request("GET", item).status == 404
    assert running.request("POST", f"{item}/restore").status == 200
    trail = running.request("GET", f"{item}/audit").body["items"]
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
    invalid = running.request("POST", route, {**body_of(running, route), "unexpected": True})
    assert invalid.status == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert running.request("GET", f"{route}/00000000-0000-4000-8000-000000000000").status == 404
    assert running.request("GET", f"{route}/not-an-id").status == 422
    assert running.request("GET", f"{route}?limit=5000").status == 422


def test_references_are_checked_filtered_listed_and_kept_by_deletes(
    running: RunningService,
) -> None:
    product = new_product(running)
    order = {**BODIES["/sales/purchase-orders"], "product": product}
    created = running.request("POST", "/sales/purchase-orders", order)
    assert created.status == 201, created.body
    missing = {**order, "product": "00000000-0000-4000-8000-000000000000"}
    refused = running.request("POST", "/sales/purchase-orders", missing)
    assert refused.status == 422, refused.body
    assert refused.body["errors"][0]["loc"] == ["body", "product"]
    listed = running.request("GET", f"/sales/purchase-orders?product={product}")
    assert [row["id"] for row in listed.body["items"]] == [created.body["id"]]
    children = running.request("GET", f"/catalog/products/{product}/purchase-orders")
    assert children.status == 200, children.body
    assert [row["id"] for row in children.body["items"]] == [created.body["id"]]
    # restrict: the product stays while a live order refers to it.
    kept = running.request("DELETE", f"/catalog/products/{product}")
    assert kept.status == 409, kept.body
    assert kept.body["type"] == "/problems/still-referenced"
    # cascade: a category's subcategories go with it, in one change.
    parent = running.request("POST", "/catalog/categories", {"title": "Parent"}).body["id"]
    child = running.request("POST", "/catalog/categories", {"title": "Child", "parent": parent})
    assert child.status == 201, child.body
    assert running.request("DELETE", f"/catalog/categories/{parent}").status == 204
    assert running.request("GET", f"/catalog/categories/{child.body['id']}").status == 404
    verified = running.request("GET", "/audit/verify")
    assert verified.status == 200, verified.body
    assert verified.body["intact"] is True


def test_a_taken_unique_value_is_a_409(running: RunningService) -> None:
    body = {"name": "Desk", "sku": "UNIQUE-1", "price": "1.00"}
    assert running.request("POST", "/catalog/products", body).status == 201
    again = running.request("POST", "/catalog/products", body)
    assert again.status == 409
    assert "sku" in again.body["detail"]


def test_the_cli_prints_the_audit_trail_of_a_served_change(running: RunningService) -> None:
    created = running.request("POST", "/catalog/categories", {"title": "Audited"})
    shop = running.service
    # Wide enough that the table wraps no cell.
    wide = {**running.env, "COLUMNS": "200"}
    result = shop.uv_run(shop.slug, "audit", "category", created.body["id"], env=wide)
    assert result.returncode == 0, result.explain()
    assert "CATEGORY_CREATED" in result.stdout
    assert "Served User (u-42)" in result.stdout


def test_the_openapi_document_lists_every_route(running: RunningService) -> None:
    paths = running.request("GET", "/openapi.json", authorized=False).body["paths"]
    for route in BODIES:
        assert route in paths
        audit_paths = [path for path in paths if path.startswith(route) and path.endswith("/audit")]
        assert len(audit_paths) == 1, paths


@pytest.fixture(scope="module")
def shop_client(
    running: RunningService, tmp_path_factory: pytest.TempPathFactory
) -> GeneratedClient:
    """A client package generated from the served document, as a team would make one."""
    directory = tmp_path_factory.mktemp("client")
    generated = generate_client(f"{running.base_url}/openapi.json", directory, "shop_client")
    assert generated.returncode == 0, generated.explain()
    # The generator names what it could not type as warnings: the document must leave none.
    assert "warning" not in (generated.stdout + generated.stderr).lower(), generated.explain()
    return GeneratedClient(directory, "shop_client")


def test_a_typescript_client_builds_strictly_and_reads_expanded_rows(
    running: RunningService, tmp_path: Path
) -> None:
    source = Path(__file__).parent / "typescript" / "client.ts"
    built = generate_typescript_client(f"{running.base_url}/openapi.json", tmp_path, source)
    assert built.returncode == 0, built.explain()
    # tsc says nothing when every type checks; anything it prints is a warning or an error.
    assert built.stdout + built.stderr == "", built.explain()
    called = run(["node", "dist/client.js", running.base_url, running.token], cwd=tmp_path)
    assert called.returncode == 0, called.explain()
    assert json.loads(called.stdout) == {"embedded": "Typed", "refused": 422}


def test_a_generated_client_creates_changes_deletes_restores_and_reads_the_trail(
    running: RunningService, shop_client: GeneratedClient
) -> None:
    models = shop_client.models
    products = shop_client.operations("catalog_products")
    with shop_client.authenticated(running.base_url, running.token) as client:
        body = models.ProductCreate.from_dict({"name": "Typed", "sku": "TYPED-1", "price": "3.5"})
        created = products.create_product.sync_detailed(client=client, body=body)
        assert created.status_code == 201, created.content
        assert isinstance(created.parsed, models.ProductRead)
        product_id = created.parsed.id
        assert created.headers["location"] == f"/catalog/products/{product_id}"
        updated = products.update_product.sync_detailed(
            product_id,
            client=client,
            body=models.ProductUpdate.from_dict({"price": "4.00"}),
            if_match=created.headers["etag"],
        )
        assert updated.status_code == 200, updated.content
        assert (updated.parsed.version, updated.headers["etag"]) == (2, '"2"')
        deleted = products.delete_product.sync_detailed(product_id, client=client, if_match='"2"')
        assert deleted.status_code == 204, deleted.content
        # A stale If-Match: the 412 problem names the current version, which a retry sends.
        stale = products.restore_product.sync_detailed(product_id, client=client, if_match='"2"')
        assert stale.status_code == 412
        assert isinstance(stale.parsed, models.Problem)
        assert stale.parsed["current_version"] == 3
        restored = products.restore_product.sync_detailed(
            product_id, client=client, if_match=stale.headers["etag"]
        )
        assert restored.status_code == 200, restored.content
        assert isinstance(restored.parsed, models.ProductRead)
        trail = products.get_product_audit_trail.sync_detailed(product_id, client=client)
    assert isinstance(trail.parsed, models.PageProductAuditRead)
    # Sorts have readable names, and a cursor alone is the next page of its sort.
    sort = models.ListProductsSort.CREATED_AT_DESC
    assert sort.value == "-created_at"
    with shop_client.authenticated(running.base_url, running.token) as client:
        for sku in ("SORTED-1", "SORTED-2"):
            body = models.ProductCreate.from_dict({"name": "Sorted", "sku": sku, "price": "1"})
            created = products.create_product.sync_detailed(client=client, body=body)
            assert created.status_code == 201, created.content
        first = products.list_products.sync_detailed(client=client, sort=sort, limit=1)
        assert first.status_code == 200, first.content
        following = products.list_products.sync_detailed(
            client=client, after=first.parsed.next_cursor
        )
    assert following.status_code == 200, following.content
    assert len(following.parsed.items) == 1
    assert following.parsed.items[0].created_at <= first.parsed.items[0].created_at
    assert [str(entry.action_code) for entry in trail.parsed.items] == [
        "PRODUCT_RESTORED",
        "PRODUCT_DELETED",
        "PRODUCT_UPDATED",
        "PRODUCT_CREATED",
    ]


def test_a_generated_client_reads_embedded_targets_as_their_own_models(
    running: RunningService, shop_client: GeneratedClient
) -> None:
    models = shop_client.models
    products = shop_client.operations("catalog_products")
    categories = shop_client.operations("catalog_categories")
    with shop_client.authenticated(running.base_url, running.token) as client:
        body = models.CategoryCreate.from_dict({"title": "Embedded"})
        category = categories.create_category.sync_detailed(client=client, body=body)
        assert category.status_code == 201, category.content
        # A reference is typed as ids are: the created body holds the category's UUID.
        fields = {
            "name": "Lamp",
            "sku": "EMBED-1",
            "price": "2",
            "category": str(category.parsed.id),
        }
        created = products.create_product.sync_detailed(
            client=client, body=models.ProductCreate.from_dict(fields)
        )
        assert created.parsed.category == category.parsed.id
        assert created.status_code == 201, created.content
        read = products.get_product.sync_detailed(
            created.parsed.id, client=client, expand=["category"]
        )
        page = products.list_products.sync_detailed(
            client=client, category=category.parsed.id, expand=["category"]
        )
    assert read.status_code == 200, read.content
    embedded = read.parsed.expanded.category
    assert isinstance(embedded, models.CategoryRead)
    assert (embedded.id, embedded.title) == (category.parsed.id, "Embedded")
    assert page.status_code == 200, page.content
    [listed] = page.parsed.items
    assert listed.expanded.category.to_dict() == embedded.to_dict()


def test_a_generated_client_gets_every_error_as_a_typed_problem(
    running: RunningService, shop_client: GeneratedClient
) -> None:
    models = shop_client.models
    products = shop_client.operations("catalog_products")
    body = models.ProductCreate.from_dict({"name": "Twice", "sku": "TWICE-1", "price": "1"})
    with shop_client.authenticated(running.base_url, running.token) as client:
        assert products.create_product.sync_detailed(client=client, body=body).status_code == 201
        taken = products.create_product.sync_detailed(client=client, body=body)
        missing = products.get_product.sync_detailed(UUID(int=1), client=client)
        invalid = products.list_products.sync_detailed(client=client, limit=5000)
    with shop_client.authenticated(running.base_url, "not-a-token") as anonymous:
        refused = products.list_products.sync_detailed(client=anonymous)
    for reply, status, kind in (
        (taken, 409, "unique-value-taken"),
        (missing, 404, "not-found"),
        (refused, 401, "unauthenticated"),
    ):
        assert isinstance(reply.parsed, models.Problem), reply.content
        assert reply.parsed.status == reply.status_code == status
        # A client branches on the problem's type, not on its text.
        assert reply.parsed.type_ == f"/problems/{kind}"
    assert isinstance(invalid.parsed, models.ValidationProblem), invalid.content
    assert invalid.parsed.status == 422
    assert [issue.loc for issue in invalid.parsed.errors] == [["query", "limit"]]
    assert all(isinstance(issue, models.ValidationIssue) for issue in invalid.parsed.errors)


# Mints, with the service's own secret, a token that expired an hour ago.
MINT_EXPIRED = """
from datetime import UTC, datetime, timedelta
from shop_service.auth import create_access_token
from shop_service.settings import Settings
two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
lifetime = timedelta(hours=1)
print(
    create_access_token(
        Settings(), subject="u-42", full_name="Late", now=two_hours_ago, lifetime=lifetime
    )
)
"""


def test_unsigned_forged_garbage_expired_and_missing_tokens_are_401(
    running: RunningService,
) -> None:
    header, payload, _ = running.token.split(".")
    expired = running.service.uv_run("python", "-c", MINT_EXPIRED, env=running.env)
    assert expired.returncode == 0, expired.explain()
    attempts = {
        "unsigned": f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.",
        "forged": f"{header}.{payload}.{'A' * 43}",
        "garbage": "not-a-token",
        "expired": expired.stdout.strip(),
    }
    for kind, token in attempts.items():
        reply = running.request("GET", "/catalog/products", token=token)
        assert reply.status == 401, kind
        assert reply.headers["www-authenticate"].startswith("Bearer"), kind
    assert running.request("GET", "/catalog/products", authorized=False).status == 401


def test_concurrent_patches_with_one_etag_let_exactly_one_win(running: RunningService) -> None:
    statuses, actions = race_for_one_version(
        running, "/catalog/categories", {"title": "Raced"}, {"title": "Winner"}
    )
    assert statuses == {200: 1, 412: CONCURRENT_WRITERS - 1}
    assert actions == ["CATEGORY_UPDATED", "CATEGORY_CREATED"]


def test_request_logs_are_json_with_ids_that_the_audit_rows_share(
    running: RunningService,
) -> None:
    reply = running.request(
        "POST", "/catalog/categories", {"title": "Logged"}, headers={"X-Request-ID": "trace-7"}
    )
    assert reply.status == 201
    # The server's own id is the request's id; the caller's is kept beside it.
    server_id = reply.headers["x-request-id"]
    assert server_id != "trace-7"
    # The request's own log line is written as the response goes out: give it a moment.
    deadline = time.monotonic() + 5
    while True:
        entries = [entry for entry in running.log_entries() if entry.get("request_id") == server_id]
        events = {entry["event"] for entry in entries}
        if "request.completed" in events or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert events >= {"category.created", "request.completed"}
    assert {entry["user_id"] for entry in entries} == {"u-42"}
    assert running.token not in running.log_file.read_text()
    trail = running.request("GET", f"/catalog/categories/{reply.body['id']}/audit").body["items"]
    assert {entry["caller_request_id"] for entry in entries} == {"trace-7"}
    assert (trail[0]["request_id"], trail[0]["caller_request_id"]) == (server_id, "trace-7")


def test_an_outside_schemathesis_run_with_every_check_finds_nothing(
    running: RunningService,
) -> None:
    # Every check, stateful phase included: the service's schemathesis.toml (read from the
    # working directory) turns them all on and narrows those its docs/api.md explains.
    assert (running.service.path / "schemathesis.toml").is_file()
    result = run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{running.base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {running.token}",
            "--phases",
            "coverage,fuzzing,stateful",
            # Per operation and phase: every check on every operation, in a run's budget.
            "--max-examples",
            "10",
        ],
        cwd=running.service.path,
    )
    assert result.returncode == 0, result.explain()


# The issue's figure: an anonymous 300 MB POST grew the server from 156 MB to 699 MB.
HUGE_BODY = 300 * 1024 * 1024
# What the service may grow by while refusing it (allocator noise, a few buffers).
MAX_GROWTH_KIB = 20 * 1024


@pytest.mark.parametrize(
    ("authorized", "chunked", "status"),
    [(False, False, 401), (False, True, 401), (True, False, 413), (True, True, 413)],
    ids=["anonymous", "anonymous-chunked", "writer", "writer-chunked"],
)
def test_a_300_mb_post_is_refused_without_the_memory_growing(
    running: RunningService, authorized: bool, chunked: bool, status: int
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorized:
        headers["Authorization"] = f"Bearer {running.token}"
    assert running.request("GET", "/catalog/products").status == 200  # warm up
    before = resident_kib(running.pid)
    started = time.monotonic()
    answered = post_raw(running.base_url, "/catalog/products", HUGE_BODY, headers, chunked=chunked)
    elapsed = time.monotonic() - started
    after = resident_kib(running.pid)
    # Shown with -s: the figures the report quotes.
    print(
        f"\n300 MB POST {authorized=} {chunked=}: {answered} in {elapsed:.2f} s, "
        f"RSS {before} KiB -> {after} KiB ({after - before:+d} KiB)"
    )
    assert answered == status
    assert after - before < MAX_GROWTH_KIB, f"grew by {after - before} KiB"
    assert running.request("GET", "/health", authorized=False).status == 200


def test_responses_carry_security_headers_and_no_server_banner(running: RunningService) -> None:
    reply = running.request("GET", "/catalog/products")
    assert "server" not in reply.headers
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "no-store"


def test_the_env_file_is_readable_by_its_owner_only(running: RunningService) -> None:
    assert stat.S_IMODE((running.service.path / ".env").stat().st_mode) == 0o600
