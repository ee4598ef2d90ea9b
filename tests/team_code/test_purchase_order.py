"""The purchase order feature's own tests: its business rules, beyond the shared contract."""

# tests/contract/ runs every endpoint, audit action, conflict, precondition and validation
# case for purchase orders (and every other feature); add here what is particular to
# them. The example shows the shape: drive the API, then look at what it recorded. For a rule
# in the editor service, call PurchaseOrderEditorService(session) with the ``session`` fixture.

from typing import Any

from fastapi.testclient import TestClient

from factories import new_purchase_order


def test_a_change_to_status_is_recorded_with_its_old_value(
    client: TestClient,
    auth_headers: dict[str, str],
) -> None:
    body = new_purchase_order()
    created = client.post(
        "/sales/purchase-orders",
        json=body,
        headers=auth_headers,
    ).json()
    url = f"/sales/purchase-orders/{created['id']}"
    field, new_value = "status", "shipped"
    assert client.patch(url, json={field: new_value}, headers=auth_headers).status_code == 200
    [entry, _] = client.get(f"{url}/audit", headers=auth_headers).json()["items"]
    assert entry["changes"][field] == {"old": body[field], "new": new_value}


# The team's rules and its command: placing an order.
ORDERS = "/sales/purchase-orders"


def open_order(client: TestClient, headers: dict[str, str], notes: str | None = None) -> Any:
    """A new draft order, as the API answers it."""
    body = {**new_purchase_order(), "notes": notes}
    response = client.post(ORDERS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_notes_lose_their_blanks_where_they_are_stored_answered_and_audited(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    created = open_order(client, auth_headers, notes="  rush  ")
    url = f"{ORDERS}/{created['id']}"
    changed = client.patch(url, json={"notes": " later\n"}, headers=auth_headers).json()
    stored = client.get(url, headers=auth_headers).json()
    updated, opened = client.get(f"{url}/audit", headers=auth_headers).json()["items"]
    assert (created["notes"], opened["data_snapshot"]["notes"]) == ("rush", "rush")
    assert changed["notes"] == stored["notes"] == updated["data_snapshot"]["notes"] == "later"
    assert updated["changes"] == {"notes": {"old": "rush", "new": "later"}}
    assert stored["version"] == 2


def test_placing_an_order_is_one_audited_version_that_files_a_shelf(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    order = open_order(client, auth_headers)
    headers = {**auth_headers, "If-Match": '"1"'}
    placed = client.post(f"{ORDERS}/{order['id']}/place", headers=headers)
    assert placed.status_code == 200, placed.text
    assert placed.headers["ETag"] == '"2"'
    assert (placed.json()["status"], placed.json()["version"]) == ("placed", 2)
    trail = client.get(f"{ORDERS}/{order['id']}/audit", headers=auth_headers).json()["items"]
    assert [entry["action_code"] for entry in trail] == [
        "PURCHASE_ORDER_PLACED",
        "PURCHASE_ORDER_CREATED",
    ]
    assert trail[0]["changes"]["status"] == {"old": "draft", "new": "placed"}
    assert trail[0]["data_snapshot"]["placed_on"] == placed.json()["placed_on"]
    [shelf] = client.get("/catalog/categories", headers=auth_headers).json()["items"]
    assert shelf["title"] == f"shelf of order {order['id'][:8]}"
    summary = client.get(f"{ORDERS}/summary", headers=auth_headers)
    assert summary.json() == {"draft": 0, "placed": 1, "shipped": 0}
    assert client.get("/audit/verify", headers=auth_headers).json()["intact"] is True


def test_an_order_is_placed_once(client: TestClient, auth_headers: dict[str, str]) -> None:
    order = open_order(client, auth_headers)
    assert client.post(f"{ORDERS}/{order['id']}/place", headers=auth_headers).status_code == 200
    again = client.post(f"{ORDERS}/{order['id']}/place", headers=auth_headers)
    assert again.status_code == 409
    assert "not a draft" in again.json()["detail"]


def test_an_order_that_cant_be_shelved_is_not_placed_and_files_nothing(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    order = open_order(client, auth_headers, notes="no shelf")
    refused = client.post(f"{ORDERS}/{order['id']}/place", headers=auth_headers)
    assert refused.status_code == 409
    stored = client.get(f"{ORDERS}/{order['id']}", headers=auth_headers).json()
    assert (stored["status"], stored["version"]) == ("draft", 1)
    assert client.get("/catalog/categories", headers=auth_headers).json()["items"] == []
