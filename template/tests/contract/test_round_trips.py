"""How many statements each change sends to the database: the lean write path, pinned.

A create is two INSERTs (the entity and its audit row: the first link of its hash chain needs
no read) and an update one SELECT (the row and its version, to compare and to audit old
values), one UPDATE, one SELECT of the entity's newest audit hash (the link the new audit row
chains to, through the trail index) and one INSERT; nothing reads a written row back.
docs/database.md says why each statement is there.

The same for the trips between the event loop and a worker thread, where the database work
runs: one per request, which also closes the session (and so ends a read's transaction).
"""

from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from features_under_test import FeatureUnderTest

Headers = dict[str, str]


@pytest.fixture
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions the app sends to a worker thread (FastAPI's and ours go through anyio)."""
    sent: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(function, "__qualname__", repr(function)))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return sent


def sent_as(statements: list[str], expected: list[str]) -> bool:
    """Whether the statements sent are, one for one, those that begin as ``expected`` says."""
    return len(statements) == len(expected) and all(
        statement.startswith(beginning)
        for statement, beginning in zip(statements, expected, strict=True)
    )


def test_a_create_is_two_inserts(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    statements: list[str],
) -> None:
    feature.create(client, auth_headers, 0)
    statements.clear()
    feature.create(client, auth_headers, 1)
    assert statements == [
        f"INSERT INTO {feature.name}",
        f"INSERT INTO {feature.name}_audit",
    ]


def test_an_update_is_a_select_an_update_the_previous_hash_and_an_insert(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    statements: list[str],
) -> None:
    created = feature.create(client, auth_headers, 0)
    statements.clear()
    url = feature.item_url(created["id"])
    response = client.patch(url, json=feature.case.change, headers=auth_headers)
    assert response.status_code == 200, response.text
    assert [statement.split()[0] for statement in statements] == [
        "SELECT",
        "UPDATE",
        "SELECT",
        "INSERT",
    ]
    assert statements[1] == f"UPDATE {feature.name} SET"
    # The hash chain's one read: the newest audit row's hash, for the new row to point at.
    assert statements[2] == f"SELECT {feature.name}_audit.row_hash FROM"
    assert statements[3] == f"INSERT INTO {feature.name}_audit"


def test_a_taken_unique_value_costs_no_query_beforehand(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    statements: list[str],
) -> None:
    first = feature.create(client, auth_headers, 0)
    for field in feature.case.unique:
        statements.clear()
        body = {**feature.case.new(2), field: first[field]}
        response = client.post(feature.url, json=body, headers=auth_headers)
        assert response.status_code == 409, field
        assert field in response.json()["detail"]
        # The refused INSERT is the only statement: its constraint names the field.
        assert statements == [f"INSERT INTO {feature.name}"]


def test_a_revert_is_an_update_plus_one_select_of_its_audit_entry(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    statements: list[str],
) -> None:
    created = feature.create(client, auth_headers, 0)
    url = feature.item_url(created["id"])
    client.patch(url, json=feature.case.change, headers=auth_headers)
    entry_id = feature.audit_trail(client, auth_headers, created["id"])[-1]["id"]
    statements.clear()
    response = client.post(f"{url}/audit/{entry_id}/revert", headers=auth_headers)
    assert response.status_code == 200, response.text
    expected = [
        f"SELECT {feature.name}.id,",
        f"SELECT {feature.name}_audit.id,",
        f"UPDATE {feature.name} SET",
        # As in an update: the chain's one read, the newest hash the new audit row links to.
        f"SELECT {feature.name}_audit.row_hash FROM",
        f"INSERT INTO {feature.name}_audit",
    ]
    assert sent_as(statements, expected), statements


def test_a_read_as_of_a_time_is_two_selects(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    statements: list[str],
) -> None:
    created = feature.create(client, auth_headers, 0)
    statements.clear()
    url = feature.item_url(created["id"])
    response = client.get(url, params={"as_of": created["created_at"]}, headers=auth_headers)
    assert response.status_code == 200, response.text
    # As of the entity's creation (its created_at is its first audit row's time).
    expected = [f"SELECT {feature.name}.id,", f"SELECT {feature.name}_audit.id,"]
    assert sent_as(statements, expected), statements


def test_a_create_and_a_read_each_go_to_a_worker_thread_once(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    thread_trips: list[str],
) -> None:
    created = feature.create(client, auth_headers, 0)
    thread_trips.clear()
    feature.create(client, auth_headers, 1)
    # The create itself: its commit leaves the session holding no connection to give back.
    assert len(thread_trips) == 1, thread_trips
    thread_trips.clear()
    response = client.get(feature.item_url(created["id"]), headers=auth_headers)
    assert response.status_code == 200, response.text
    # The read, and closing its session in the same trip: that ends the read's transaction.
    assert len(thread_trips) == 1, thread_trips


@pytest.mark.parametrize("url", ["/audit/changes", "/audit/verify"])
def test_the_change_feed_and_the_chain_check_each_go_to_a_worker_thread_once(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    thread_trips: list[str],
    url: str,
) -> None:
    feature.create(client, auth_headers, 0)
    thread_trips.clear()
    response = client.get(url, headers=auth_headers)
    assert response.status_code == 200, response.text
    # Reading every feature's audit rows, and closing the session in the same trip.
    assert len(thread_trips) == 1, thread_trips
