"""The change feed: every feature's changes in one resumable order, each exactly once.

Owned by the template; it drives every feature the service lists at once.
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlmodel import Session, col, select

from factories import TARGET_IDS, TEST_USER, Mint
from features_under_test import (
    FEATURES_UNDER_TEST,
    PROBLEM_JSON,
    FeatureUnderTest,
    entry_bytes,
)
from shared.services.change_feed import FeedPosition, read_feed

Headers = dict[str, str]
CHANGES_URL = "/audit/changes"
AUDIT_MODELS = {feature.name: feature.api.service.audit_model for feature in FEATURES_UNDER_TEST}
# The figure: a reader pages through the feed while this many writers commit.
FEED_WRITERS = 8
# Each writer's delete-and-restore rounds after its create and update.
ROUNDS = 5
# How long the reader waits, after the writers are done, for the changes it has not read yet.
DRAIN_SECONDS = 30
# The rows conftest made for the samples' references to point at, before the test began: their
# creations lead the feed, and are no change of the test's.
SEEDED = frozenset(row_id for rows in TARGET_IDS.values() for row_id in rows)
pytestmark = pytest.mark.every_target


@pytest.fixture
def connection(committing_engine: Engine) -> Iterator[Connection]:
    """A connection whose requests commit for real, unlike the suite's rolled-back one.

    The feed serves only changes of transactions that have ended (see change_feed): changes
    made inside the test's own open transaction would never show. A fresh database instead.
    """
    with committing_engine.connect() as connection:
        yield connection


def all_audit_ids(session: Session) -> list[str]:
    """The id of every audit row of every feature, as stored."""
    return [
        entry_id
        for model in AUDIT_MODELS.values()
        for entry_id in session.exec(
            select(model.id).where(col(getattr(model, model.entity_id_field())).not_in(SEEDED))
        ).all()
    ]


def read_all(client: TestClient, headers: Headers, after: str | None = None) -> list[Any]:
    """Every change after ``after``, two a page, and the cursor each page ended at."""
    items: list[Any] = []
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"after": after} if after else {})
        response = client.get(CHANGES_URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(item for item in page["items"] if item["entity_id"] not in SEEDED)
        if not page["items"]:
            assert page["next"] == after
            return items
        assert page["next"] == page["items"][-1]["cursor"]
        after = page["next"]


def change_every_feature(client: TestClient, headers: Headers) -> list[str]:
    """Create, change and delete one entity of each feature; their ids."""
    ids = []
    for feature in FEATURES_UNDER_TEST:
        entity = feature.create(client, headers, 0)
        url = feature.item_url(entity["id"])
        assert client.patch(url, json=feature.case.change, headers=headers).status_code == 200
        assert client.delete(url, headers=headers).status_code == 204
        ids.append(entity["id"])
    return ids


def read_changes(
    client: TestClient, headers: Headers, count: int, after: str | None = None
) -> list[Any]:
    """The ``count`` changes after ``after``, once the feed serves them all.

    On PostgreSQL the feed holds changes back while any older transaction of the server is
    still open, other tests' included: it serves them when those end.
    """
    deadline = time.monotonic() + DRAIN_SECONDS
    items = read_all(client, headers, after)
    while len(items) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        items = read_all(client, headers, after)
    assert len(items) == count, items
    return items


def test_pages_hold_every_change_once_in_the_order_they_were_made(
    client: TestClient, auth_headers: Headers, session: Session
) -> None:
    entity_ids = change_every_feature(client, auth_headers)
    items = read_changes(client, auth_headers, 3 * len(FEATURES_UNDER_TEST))
    assert sorted(item["id"] for item in items) == sorted(all_audit_ids(session))
    assert [(item["entity_id"], item["action_code"]) for item in items] == [
        (entity_id, feature.action(change))
        for feature, entity_id in zip(FEATURES_UNDER_TEST, entity_ids, strict=True)
        for change in ("CREATED", "UPDATED", "DELETED")
    ]
    first = items[0]
    assert first["feature"] == FEATURES_UNDER_TEST[0].name
    assert first["performed_by_user_id"] == TEST_USER.id
    assert first["data_snapshot"]["id"] == entity_ids[0]
    assert first["request_id"]
    # The feed names an entry's members as its audit trail does; the feed adds its own two.
    feature = FEATURES_UNDER_TEST[0]
    trail = feature.audit_trail(client, auth_headers, entity_ids[0])
    entry = next(entry for entry in trail if entry["id"] == first["id"])
    assert set(first) - {"cursor", "feature"} == set(entry) - {f"{feature.name}_id"}
    shared = ("id", "entity_id", "action_code", "description", "data_snapshot", "changes")
    assert {name: first[name] for name in shared} == {name: entry[name] for name in shared}


def test_a_consumer_resumes_exactly_where_it_stopped(
    client: TestClient, auth_headers: Headers
) -> None:
    change_every_feature(client, auth_headers)
    seen = read_changes(client, auth_headers, 3 * len(FEATURES_UNDER_TEST))
    feature = FEATURES_UNDER_TEST[-1]
    entity = feature.create(client, auth_headers, 1)
    [new] = read_changes(client, auth_headers, 1, after=seen[-1]["cursor"])
    assert (new["entity_id"], new["action_code"]) == (entity["id"], feature.action("CREATED"))


def test_a_cursor_the_feed_did_not_give_is_a_validation_problem(
    client: TestClient, auth_headers: Headers
) -> None:
    for cursor in ("not-a-cursor", "W10", "WzEsMiwzXQ"):
        response = client.get(CHANGES_URL, params={"after": cursor}, headers=auth_headers)
        assert response.status_code == 422, cursor
        assert response.headers["content-type"] == PROBLEM_JSON


def test_the_feed_needs_the_audit_read_permission(client: TestClient, mint: Mint) -> None:
    readers = [f"{feature.name}:read" for feature in FEATURES_UNDER_TEST]
    response = client.get(CHANGES_URL, headers=mint(readers))
    assert response.status_code == 403
    assert "audit:read" in response.json()["detail"]


def write_a_history(engine: Engine, feature: FeatureUnderTest, n: int) -> None:
    """Create an entity, then delete and restore it ROUNDS times: one commit each.

    No field changes: two writers of one feature would race for a unique field's new value.
    """
    with Session(engine) as session:
        service = feature.api.service(session)
        data = feature.api.create_model.model_validate(feature.case.new(n))
        entity_id = service.create(data, TEST_USER).id
        for _ in range(ROUNDS):
            service.delete(entity_id, TEST_USER)
            service.restore(entity_id, TEST_USER)


def test_a_reader_paging_while_writers_commit_gets_every_change_exactly_once(
    committing_engine: Engine,
) -> None:
    # Set once every writer has committed: how many changes the reader has to end up with.
    expected: list[int] = []
    read: list[str] = []

    def read_pages() -> None:
        after: FeedPosition | None = None
        # A writing transaction anywhere on the PostgreSQL server holds the feed back (never
        # loses a change): once the writers are done, poll until the rest comes, or give up.
        deadline = time.monotonic() + DRAIN_SECONDS
        while True:
            # A session a page, as a consumer polling the API would have.
            with Session(committing_engine) as session:
                page = read_feed(session, AUDIT_MODELS, after, limit=7)
            read.extend(item.entry.id for item in page if item.entry.entity_id not in SEEDED)
            if page:
                after = page[-1].position
            elif expected and (len(read) >= expected[0] or time.monotonic() > deadline):
                return
            elif not expected:
                deadline = time.monotonic() + DRAIN_SECONDS

    reader = threading.Thread(target=read_pages)
    reader.start()
    writers = [(FEATURES_UNDER_TEST[n % len(FEATURES_UNDER_TEST)], n) for n in range(FEED_WRITERS)]
    try:
        with ThreadPoolExecutor(max_workers=FEED_WRITERS) as pool:
            list(pool.map(lambda writer: write_a_history(committing_engine, *writer), writers))
    finally:
        with Session(committing_engine) as session:
            stored = all_audit_ids(session)
        # Also when a writer failed: the reader stops rather than poll forever.
        expected.append(len(stored))
        reader.join()

    assert len(stored) == FEED_WRITERS * (1 + 2 * ROUNDS)
    assert len(read) == len(set(read)), "a change came twice"
    assert sorted(read) == sorted(stored), "a change never came"


# A few changes' worth (each counts its snapshot, changes and description, and
# ENTRY_FIELDS_BYTES for its other fields); the histories below hold more.
FEED_BUDGET = 8 * 1024


def feed_in_order(engine: Engine, count: int) -> list[str]:
    """The ids of the first ``count`` changes in feed order, read with no byte budget."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        with Session(engine) as session:
            page = read_feed(session, AUDIT_MODELS, None, limit=count + len(SEEDED))
        ids = [item.entry.id for item in page if item.entry.entity_id not in SEEDED]
        if len(ids) == count or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


def every_history_in_feed_order(engine: Engine) -> list[str]:
    """Write a history of each feature; the ids of all their changes in feed order."""
    for n, feature in enumerate(FEATURES_UNDER_TEST):
        write_a_history(engine, feature, n)
    return feed_in_order(engine, len(FEATURES_UNDER_TEST) * (1 + 2 * ROUNDS))


def feed_pages(client: TestClient, headers: Headers) -> list[list[Any]]:
    """Every page of the feed at the largest ``limit``, up to the first empty one (left out)."""
    pages: list[list[Any]] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"after": after} if after else {})
        response = client.get(CHANGES_URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["items"]:
            return [page for page in pages if page]
        assert page["next"] == page["items"][-1]["cursor"]
        pages.append([item for item in page["items"] if item["entity_id"] not in SEEDED])
        after = page["next"]


@pytest.mark.parametrize("settings_overrides", [{"audit_page_max_bytes": FEED_BUDGET}])
def test_a_page_ends_at_its_byte_budget_and_the_next_one_reads_on(
    client: TestClient, auth_headers: Headers, committing_engine: Engine
) -> None:
    expected = every_history_in_feed_order(committing_engine)
    pages = feed_pages(client, auth_headers)
    assert [item["id"] for page in pages for item in page] == expected
    assert len(pages) > 1
    assert max(len(page) for page in pages) > 1
    for page in pages:
        if len(page) > 1:
            assert sum(entry_bytes(change) for change in page) <= FEED_BUDGET


@pytest.mark.parametrize("settings_overrides", [{"audit_page_max_bytes": 1}])
def test_a_change_larger_than_the_budget_comes_on_a_page_of_its_own(
    client: TestClient, auth_headers: Headers, committing_engine: Engine
) -> None:
    expected = every_history_in_feed_order(committing_engine)
    pages = feed_pages(client, auth_headers)
    assert [len(page) for page in pages] == [1] * len(expected)
    assert [page[0]["id"] for page in pages] == expected


def test_read_feed_keeps_to_its_byte_budget(committing_engine: Engine) -> None:
    write_a_history(committing_engine, FEATURES_UNDER_TEST[0], 0)
    expected = feed_in_order(committing_engine, 1 + 2 * ROUNDS)
    read: list[str] = []
    after: FeedPosition | None = None
    with Session(committing_engine) as session:
        while page := read_feed(session, AUDIT_MODELS, after, 200, max_bytes=FEED_BUDGET):
            assert len(page) < len(expected)
            read.extend(item.entry.id for item in page if item.entry.entity_id not in SEEDED)
            after = page[-1].position
    assert read == expected
