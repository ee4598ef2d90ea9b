"""Audit trail pages are bounded in bytes as well as rows (AUDIT_PAGE_MAX_BYTES).

A page ends before the row that would take it over its budget, with a ``next_cursor`` as a
page that ends at ``limit`` has: following the cursors gives every entry once, in order. A
row larger than the whole budget still comes, on a page of its own. (The change feed's pages
are bounded the same way: see test_change_feed.py.)
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlmodel import Session

from features_under_test import FeatureUnderTest, entry_bytes

Headers = dict[str, str]
# A few entries' worth: every entry counts its snapshot, changes and description, and
# ENTRY_FIELDS_BYTES for its other fields.
BUDGET = 8 * 1024
# Delete-and-restore rounds after the create: the trail holds 1 + 2 * ROUNDS entries, more
# than one page of BUDGET can.
ROUNDS = 5
MAX_LIMIT = 200


def write_trail(client: TestClient, headers: Headers, feature: FeatureUnderTest) -> str:
    """An entity with 1 + 2 * ROUNDS audit entries; its id."""
    created = feature.create(client, headers)
    url = feature.item_url(created["id"])
    for _ in range(ROUNDS):
        assert client.delete(url, headers=headers).status_code == 204
        assert client.post(f"{url}/restore", headers=headers).status_code == 200
    entity_id: str = created["id"]
    return entity_id


def trail_pages(client: TestClient, headers: Headers, url: str) -> list[dict[str, Any]]:
    """Every page of a trail at the largest ``limit``, following ``next_cursor``."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": MAX_LIMIT} | ({"after": cursor} if cursor else {})
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) <= 1 + 2 * ROUNDS, "the cursors go round in circles"


def stored_trail(session: Session, feature: FeatureUnderTest, entity_id: str) -> list[str]:
    """The ids of the entity's audit entries, newest first, as the service reads them whole."""
    return [entry.id for entry in feature.api.service(session).get_audit_trail(entity_id)]


@pytest.mark.parametrize("settings_overrides", [{"audit_page_max_bytes": BUDGET}])
def test_a_trail_page_ends_at_its_byte_budget_and_its_cursor_reads_on(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, session: Session
) -> None:
    entity_id = write_trail(client, auth_headers, feature)
    pages = trail_pages(client, auth_headers, f"{feature.item_url(entity_id)}/audit")
    read = [entry["id"] for page in pages for entry in page["items"]]
    assert read == stored_trail(session, feature, entity_id)
    assert len(pages) > 1
    for page in pages:
        assert 0 < len(page["items"]) < MAX_LIMIT
        assert page["limit"] == MAX_LIMIT
        if len(page["items"]) > 1:
            assert sum(entry_bytes(entry) for entry in page["items"]) <= BUDGET
    # Several entries fit in the budget: pages are cut by size, not one row at a time.
    assert max(len(page["items"]) for page in pages) > 1


@pytest.mark.parametrize("settings_overrides", [{"audit_page_max_bytes": 1}])
def test_an_entry_larger_than_the_budget_comes_on_a_page_of_its_own(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, session: Session
) -> None:
    entity_id = write_trail(client, auth_headers, feature)
    pages = trail_pages(client, auth_headers, f"{feature.item_url(entity_id)}/audit")
    assert [len(page["items"]) for page in pages] == [1] * (1 + 2 * ROUNDS)
    read = [entry["id"] for page in pages for entry in page["items"]]
    assert read == stored_trail(session, feature, entity_id)


@pytest.mark.parametrize("settings_overrides", [{"audit_page_max_bytes": BUDGET}])
def test_a_page_cut_by_size_keeps_its_total_and_offset(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    entity_id = write_trail(client, auth_headers, feature)
    url = f"{feature.item_url(entity_id)}/audit"
    params: dict[str, Any] = {"limit": MAX_LIMIT, "include_total": "true", "offset": 1}
    page = client.get(url, params=params, headers=auth_headers).json()
    assert (page["total"], page["offset"], page["limit"]) == (1 + 2 * ROUNDS, 1, MAX_LIMIT)
    assert page["next_cursor"] is not None
    assert len(page["items"]) < 2 * ROUNDS


@pytest.mark.parametrize("settings_overrides", [{"audit_page_max_bytes": 1}])
def test_a_trail_page_reads_its_keys_before_any_whole_entry(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, connection: Connection
) -> None:
    entity_id = write_trail(client, auth_headers, feature)
    url = f"{feature.item_url(entity_id)}/audit"
    statements: list[str] = []

    def remember(*arguments: Any) -> None:
        statements.append(arguments[2])

    event.listen(connection, "before_cursor_execute", remember)
    try:
        page = client.get(url, params={"limit": MAX_LIMIT}, headers=auth_headers).json()
    finally:
        event.remove(connection, "before_cursor_execute", remember)
    assert len(page["items"]) == 1
    # The ordered read of the page's range holds keys only; the entries that fit are read
    # whole afterwards, by id.
    [ordered] = [statement for statement in statements if "ORDER BY" in statement]
    assert "_audit" in ordered
    assert "data_snapshot" not in ordered
    assert "changes" not in ordered
