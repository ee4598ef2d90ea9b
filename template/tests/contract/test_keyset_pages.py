"""Lists and audit trails page by cursor: each row once, in order, read through an index.

A page's ``next_cursor`` is the key of its last row (sort value, then created_at and id);
passed back as ``after`` it gives the rows after that key, a range of the sort's index.
"""

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event

from features_under_test import (
    FEATURES_UNDER_TEST,
    PROBLEM_JSON,
    FeatureUnderTest,
    control_text,
    four_byte_text,
)
from shared.models.dto_base import ListQuery

Headers = dict[str, str]
ROWS = 7


def sort_keys(feature: FeatureUnderTest) -> list[str]:
    """Every sort the feature's list takes (each column, both directions)."""
    keys: list[str] = feature.api.list_query.model_json_schema()["properties"]["sort"]["enum"]
    return keys


def optional_sorts(feature: FeatureUnderTest) -> list[str]:
    """The fields the list sorts by that may be empty (NULL in the table).

    References aside: their values are rows of their targets, which test_references makes.
    """
    fields = feature.api.read_model.model_fields
    references = {reference.field for reference in feature.api.service.references}
    return [
        key
        for key in sort_keys(feature)
        if key in fields
        and key not in references
        and type(None) in get_args(fields[key].annotation)
    ]


@contextmanager
def page_reads(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    """The page reads (SELECTs with an ORDER BY) sent on ``connection`` inside the block."""
    reads: list[tuple[str, Any]] = []

    def remember(*arguments: Any) -> None:
        _, _, statement, parameters, _, _ = arguments
        if statement.lstrip().upper().startswith("SELECT") and "ORDER BY" in statement:
            reads.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", remember)
    try:
        yield reads
    finally:
        event.remove(connection, "before_cursor_execute", remember)


def create_rows_with_ties(client: TestClient, headers: Headers, feature: FeatureUnderTest) -> None:
    """``ROWS`` entities; where the filter field may repeat, three share one value."""
    field = feature.case.filter_field
    for n in range(ROWS):
        body = feature.case.new(n)
        if field is not None and field not in feature.case.unique and n in (2, 3):
            body[field] = feature.case.new(0)[field]
        assert client.post(feature.url, json=body, headers=headers).status_code == 201


def pages_by_cursor(
    client: TestClient,
    headers: Headers,
    url: str,
    params: dict[str, Any],
    *,
    following: dict[str, Any] | None = None,
) -> list[list[str]]:
    """The ids of every page, following ``next_cursor`` until it is null.

    ``following``: the parameters sent with each cursor (the first page's unless given).
    """
    pages, cursor = [], None
    following = params if following is None else following
    while True:
        page_params = params if cursor is None else {**following, "after": cursor}
        response = client.get(url, params=page_params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) <= ROWS, "the cursors go round in circles"


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_cursors_visit_every_row_once_in_order_for_every_sort(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, limit: int
) -> None:
    create_rows_with_ties(client, auth_headers, feature)
    for sort in sort_keys(feature):
        whole = client.get(feature.url, params={"sort": sort}, headers=auth_headers).json()
        assert whole["next_cursor"] is None
        expected = [item["id"] for item in whole["items"]]
        assert len(expected) == ROWS
        params = {"sort": sort, "limit": limit}
        pages = pages_by_cursor(client, auth_headers, feature.url, params)
        assert [row for page in pages for row in page] == expected, sort
        # Full pages up to the last one, which is never empty.
        assert [len(page) for page in pages[:-1]] == [limit] * (len(pages) - 1), sort
        assert 0 < len(pages[-1]) <= limit, sort


# Sorted by an optional field, rows with a value and rows without are two ranges of its index.
FEATURES_WITH_OPTIONAL_SORTS = [
    feature for feature in FEATURES_UNDER_TEST if optional_sorts(feature)
]
if FEATURES_WITH_OPTIONAL_SORTS:  # otherwise every sort is by a required field: one range

    @pytest.mark.parametrize("limit", [1, 2, 3])
    @pytest.mark.parametrize(
        "feature", FEATURES_WITH_OPTIONAL_SORTS, indirect=True, ids=lambda feature: feature.name
    )
    def test_cursors_cross_from_rows_with_a_sort_value_to_rows_without(
        client: TestClient,
        auth_headers: Headers,
        feature: FeatureUnderTest,
        connection: Connection,
        limit: int,
    ) -> None:
        fields = optional_sorts(feature)
        for n in range(ROWS):
            body = feature.case.new(n)
            if n in (1, 4):
                body.update(dict.fromkeys(fields, None))
            assert client.post(feature.url, json=body, headers=auth_headers).status_code == 201
        statements: list[str] = []
        for sort in [key for field in fields for key in (field, f"-{field}")]:
            whole = client.get(feature.url, params={"sort": sort}, headers=auth_headers).json()
            expected = [item["id"] for item in whole["items"]]
            assert len(expected) == ROWS
            # The two rows without a value come together, at one end (which depends on the
            # database and the direction).
            empty = [n for n, item in enumerate(whole["items"]) if item[sort.lstrip("-")] is None]
            assert empty in ([0, 1], [ROWS - 2, ROWS - 1]), (sort, empty)
            with page_reads(connection) as reads:
                pages = pages_by_cursor(
                    client, auth_headers, feature.url, {"sort": sort, "limit": limit}
                )
            statements.extend(statement for statement, _ in reads)
            assert [row for page in pages for row in page] == expected, sort
        # Each statement reads one range; an OR of both makes the database read the index
        # from its start and filter, however deep the page.
        assert statements
        assert [statement for statement in statements if " OR " in statement.upper()] == []


def test_cursors_page_through_a_filtered_list(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    create_rows_with_ties(client, auth_headers, feature)
    field = feature.case.filter_field
    params: dict[str, Any] = {"include_deleted": True}
    if field is not None:
        value = client.get(feature.url, headers=auth_headers).json()["items"][0][field]
        params[field] = value if isinstance(value, str) else json.dumps(value)
    counted = {**params, "include_total": True, "limit": 200}
    whole = client.get(feature.url, params=counted, headers=auth_headers).json()
    pages = pages_by_cursor(client, auth_headers, feature.url, {**params, "limit": 1})
    assert [row for page in pages for row in page] == [item["id"] for item in whole["items"]]
    assert whole["total"] == len(whole["items"]) >= 1


def query_text(value: Any) -> str:
    """A JSON value as a query string writes it."""
    return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.parametrize("text", [four_byte_text, control_text], ids=["four-byte", "control"])
def test_the_longest_query_pages_on_with_its_cursor(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    text: Callable[[int, int], str],
) -> None:
    # A cursor carries the list's sort and filters and its last row's sort value. Two rows
    # share every filter a value may repeat in, the text ones at their longest; the list is
    # filtered by all of them and sorted by the longest text: in the characters that take
    # the most bytes in a cursor (4), or the control characters JSON escapes in 6 bytes, the
    # cursor is within the bound the API description gives ``after``, and page two takes it.
    filters = set(feature.api.list_query.model_fields) - set(ListQuery.model_fields)
    lengths = {field: n for field, n in feature.case.indexed_text.items() if field in filters}
    repeatable = filters - set(feature.case.unique)
    shared = {
        **{field: value for field, value in feature.case.new(0).items() if field in repeatable},
        **{field: text(length, 0) for field, length in lengths.items() if field in repeatable},
    }
    rows = []
    for n in range(2):
        own = {field: text(lengths[field], n + 1) for field in lengths if field not in repeatable}
        body = {**feature.case.new(n), **shared, **own}
        response = client.post(feature.url, json=body, headers=auth_headers)
        assert response.status_code == 201, response.text
        rows.append(response.json()["id"])
    sort = max(lengths, key=lengths.__getitem__, default="updated_at")
    params: dict[str, Any] = {
        **{field: query_text(value) for field, value in shared.items() if value is not None},
        "sort": f"-{sort}",
        "limit": 1,
    }
    first = client.get(feature.url, params=params, headers=auth_headers)
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    parameters = client.get("/openapi.json").json()["paths"][feature.url]["get"]["parameters"]
    [after] = [parameter["schema"] for parameter in parameters if parameter["name"] == "after"]
    [bound] = [kind["maxLength"] for kind in after["anyOf"] if "maxLength" in kind]
    assert len(cursor) <= bound
    second = client.get(feature.url, params={"after": cursor}, headers=auth_headers)
    assert second.status_code == 200, second.text
    pages = [first.json()["items"], second.json()["items"]]
    assert sorted(item["id"] for page in pages for item in page) == sorted(rows)
    assert second.json()["next_cursor"] is None


# A list's paging parameters at their defaults.
DEFAULTS = {
    "sort": "created_at",
    "include_deleted": "false",
    "include_total": "false",
    "limit": 50,
    "offset": 0,
}


def test_a_cursor_alone_is_the_next_page_of_its_sort_and_filters(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    create_rows_with_ties(client, auth_headers, feature)
    field = feature.case.filter_field
    for sort in sort_keys(feature):
        params: dict[str, Any] = {"sort": sort, "include_deleted": True}
        if field is not None:
            value = client.get(feature.url, headers=auth_headers).json()["items"][0][field]
            params[field] = value if isinstance(value, str) else json.dumps(value)
        whole = client.get(feature.url, params=params, headers=auth_headers).json()
        expected = [item["id"] for item in whole["items"]]
        # ?after= alone: the cursor's sort, filters and limit; and so with every parameter at
        # its default, as typed clients send them.
        first = {**params, "limit": 1}
        for following in ({}, DEFAULTS):
            pages = pages_by_cursor(client, auth_headers, feature.url, first, following=following)
            assert pages == [[row] for row in expected], (sort, following)


def test_a_page_has_no_total_unless_asked(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    create_rows_with_ties(client, auth_headers, feature)
    plain = client.get(feature.url, params={"limit": 2}, headers=auth_headers).json()
    counted = client.get(
        feature.url, params={"limit": 2, "include_total": True}, headers=auth_headers
    ).json()
    assert (plain["total"], counted["total"]) == (None, ROWS)
    assert plain["items"] == counted["items"]


def assert_refused_cursor(response: Any, detail: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert detail in response.text


def test_a_cursor_for_another_sort_or_filter_or_list_is_422(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    create_rows_with_ties(client, auth_headers, feature)
    first = client.get(feature.url, params={"limit": 2}, headers=auth_headers).json()
    cursor = first["next_cursor"]
    elsewhere: list[dict[str, Any]] = [
        {"after": cursor, "sort": "-created_at"},
        {"after": cursor, "include_deleted": True},
    ]
    for params in elsewhere:
        response = client.get(feature.url, params=params, headers=auth_headers)
        assert_refused_cursor(response, "another list, sort or filters")
    trail = f"{feature.item_url(first['items'][0]['id'])}/audit"
    response = client.get(trail, params={"after": cursor}, headers=auth_headers)
    assert_refused_cursor(response, "another list, sort or filters")


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "AAAA",
        base64.urlsafe_b64encode(b'{"not": "a list"}').decode().rstrip("="),
        base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("="),
    ],
)
def test_a_cursor_the_service_did_not_make_is_422(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, cursor: str
) -> None:
    response = client.get(feature.url, params={"after": cursor}, headers=auth_headers)
    assert_refused_cursor(response, "not a cursor of this list")


def first_cursor(client: TestClient, headers: Headers, feature: FeatureUnderTest) -> str:
    """The ``next_cursor`` of the list's first page of one row (ROWS rows exist)."""
    create_rows_with_ties(client, headers, feature)
    page = client.get(feature.url, params={"limit": 1}, headers=headers).json()
    cursor: str = page["next_cursor"]
    return cursor


def test_a_tampered_cursor_value_is_422(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    cursor = first_cursor(client, auth_headers, feature)
    content = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    content[2] = "not a time"
    tampered = base64.urlsafe_b64encode(json.dumps(content).encode()).decode().rstrip("=")
    response = client.get(feature.url, params={"after": tampered}, headers=auth_headers)
    assert_refused_cursor(response, "not a cursor of this list")


def test_after_with_an_offset_is_422(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    params: dict[str, Any] = {"after": first_cursor(client, auth_headers, feature), "offset": 1}
    response = client.get(feature.url, params=params, headers=auth_headers)
    assert_refused_cursor(response, "after and offset can't be combined")


def test_an_audit_trail_pages_by_cursor(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    for _ in range(2):
        assert client.delete(url, headers=auth_headers).status_code == 204
        assert client.post(f"{url}/restore", headers=auth_headers).status_code == 200
    trail = feature.audit_trail(client, auth_headers, created["id"])
    pages = pages_by_cursor(client, auth_headers, f"{url}/audit", {"limit": 2})
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [entry for page in pages for entry in page] == [entry["id"] for entry in trail]


def test_the_default_list_order_is_read_from_an_index_without_sorting(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, connection: Connection
) -> None:
    create_rows_with_ties(client, auth_headers, feature)
    with page_reads(connection) as statements:
        first = client.get(feature.url, params={"limit": 2}, headers=auth_headers).json()
        client.get(feature.url, params={"after": first["next_cursor"]}, headers=auth_headers)
    assert len(statements) == 2
    index = f"ix_{feature.name}_by_created_at"
    for statement, parameters in statements:
        plan = query_plan(connection, statement, parameters)
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert "Sort" not in plan.split(), plan


def query_plan(connection: Connection, statement: str, parameters: Any) -> str:
    """How the database reads ``statement``: SQLite's plan, or PostgreSQL's as on a big table.

    PostgreSQL reads a table of a few rows whole and sorts it; with sequential scans and sorts
    priced out it shows whether an index can give the order (if none can, it still sorts).
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_sort = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        connection.exec_driver_sql("RESET enable_seqscan")
        connection.exec_driver_sql("RESET enable_sort")
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(str(row[-1]) for row in rows)
