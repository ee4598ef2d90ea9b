"""The REST contract of every feature: each endpoint, its audit rows and its failures.

Owned by the template and run for each feature the service lists (the ``feature`` fixture):
a feature's own tests (tests/features/) only add what is particular to it.
"""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import TEST_USER, Mint
from features_under_test import (
    FEATURES_UNDER_TEST,
    MISSING_ID,
    PROBLEM_JSON,
    FeatureUnderTest,
    control_text,
    four_byte_text,
    stored,
)

Headers = dict[str, str]


def test_create_returns_201_with_the_stored_values(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    body = feature.case.new(1)
    response = client.post(feature.url, json=body, headers=auth_headers)
    assert response.status_code == 201
    created = response.json()
    assert {field: created[field] for field in body} == body
    assert created["version"] == 1
    assert created["deleted_at"] is None
    assert response.headers["location"] == feature.item_url(created["id"])
    assert client.get(feature.item_url(created["id"]), headers=auth_headers).json() == created


def test_the_longest_text_an_index_holds_is_stored_whatever_its_script(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    # Every str field, and a unique or indexed text, is in an index whose rows PostgreSQL
    # bounds in bytes: the template bounds the field's length so that its longest value fits
    # even when each character takes 4 bytes, the most UTF-8 takes. A create and an update
    # at that length must be stored whole, never a 500.
    lengths = feature.case.indexed_text
    longest = {field: four_byte_text(length) for field, length in lengths.items()}
    body = {**feature.case.new(0), **longest}
    response = client.post(feature.url, json=body, headers=auth_headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert {field: created[field] for field in longest} == longest
    changed = {field: four_byte_text(length, 1) for field, length in lengths.items()}
    url = feature.item_url(created["id"])
    patched = client.patch(url, json=changed, headers=auth_headers)
    assert patched.status_code == 200, patched.text
    stored = client.get(url, headers=auth_headers).json()
    assert {field: stored[field] for field in changed} == changed


def sorted_text_fields(feature: FeatureUnderTest) -> list[str]:
    """The indexed text fields the feature's list sorts by."""
    sorts = feature.api.list_query.model_json_schema()["properties"]["sort"]["enum"]
    return [field for field in feature.case.indexed_text if field in sorts]


FEATURES_SORTED_BY_TEXT = [
    feature for feature in FEATURES_UNDER_TEST if sorted_text_fields(feature)
]
if FEATURES_SORTED_BY_TEXT:  # otherwise no list sorts by text: its cursors hold none

    @pytest.mark.parametrize(
        "feature", FEATURES_SORTED_BY_TEXT, indirect=True, ids=lambda feature: feature.name
    )
    def test_a_cursor_holds_the_longest_sort_value_in_the_widest_characters(
        client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
    ) -> None:
        # A page's cursor carries its last row's sort value: the longest value the field
        # takes, in the characters that take the most bytes, still makes a cursor the list
        # takes back.
        lengths = feature.case.indexed_text
        for n, text in enumerate((four_byte_text, control_text)):
            values = {field: text(length, n) for field, length in lengths.items()}
            body = {**feature.case.new(n), **values}
            response = client.post(feature.url, json=body, headers=auth_headers)
            assert response.status_code == 201, response.text
        for field in sorted_text_fields(feature):
            for sort in (field, f"-{field}"):
                params: dict[str, Any] = {"sort": sort, "limit": 1}
                first = client.get(feature.url, params=params, headers=auth_headers).json()
                params["after"] = first["next_cursor"]
                second = client.get(feature.url, params=params, headers=auth_headers)
                assert second.status_code == 200, second.text
                assert second.json()["items"][0]["id"] != first["items"][0]["id"]


def test_create_fills_in_defaults_for_the_fields_it_may_leave_out(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    defaults = feature.case.defaults or {}
    body = {field: value for field, value in feature.case.new(0).items() if field not in defaults}
    assert sorted(body) == sorted(feature.case.required)
    response = client.post(feature.url, json=body, headers=auth_headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert {field: created[field] for field in defaults} == defaults


def test_create_writes_one_created_audit_row(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    [entry] = feature.audit_trail(client, auth_headers, created["id"])
    assert entry["action_code"] == feature.action("CREATED")
    assert entry[f"{feature.name}_id"] == created["id"]
    assert entry["performed_by_user_id"] == TEST_USER.id
    assert entry["performed_by_user_name"] == TEST_USER.full_name
    assert entry["data_snapshot"] == stored(created)
    assert entry["changes"] is None


def test_create_without_a_required_field_is_422(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    for field in feature.case.required:
        body = feature.case.new(0)
        del body[field]
        response = client.post(feature.url, json=body, headers=auth_headers)
        assert response.status_code == 422, field
        assert response.headers["content-type"] == PROBLEM_JSON
        assert ["body", field] in [error["loc"] for error in response.json()["errors"]]
    assert feature.count(client, auth_headers) == 0


def test_create_with_an_invalid_value_is_422_and_writes_nothing(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    assert feature.case.invalid, "every field type has values the API refuses"
    json_headers = {**auth_headers, "Content-Type": "application/json"}
    for field, value in feature.case.invalid:
        body = {**feature.case.new(0), field: value}
        # Written by hand: the test client's encoder refuses NaN and Infinity, which some
        # invalid values hold (Python's JSON writer, and others, send them as NaN/Infinity).
        content = json.dumps(body, allow_nan=True)
        response = client.post(feature.url, content=content, headers=json_headers)
        assert response.status_code == 422, (field, value)
        assert response.json()["errors"][0]["loc"][:2] == ["body", field]
    assert feature.count(client, auth_headers) == 0


def test_create_with_an_unknown_field_is_422(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    body = {**feature.case.new(0), "surprise": 1}
    response = client.post(feature.url, json=body, headers=auth_headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "surprise"]


def test_get_of_an_unknown_id_is_404_problem(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    response = client.get(feature.item_url(MISSING_ID), headers=auth_headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 404
    assert MISSING_ID in response.json()["detail"]


@pytest.mark.parametrize(
    "entity_id",
    [
        "not-a-uuid",
        # Spellings Python's UUID() reads: the API takes the hyphenated form only.
        f"urn:uuid:{MISSING_ID}",
        MISSING_ID.replace("-", ""),
    ],
)
def test_a_malformed_id_is_422(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, entity_id: str
) -> None:
    created = feature.create(client, auth_headers)
    # The id of an entity that exists, spelled otherwise: refused all the same.
    url = feature.item_url(entity_id.replace(MISSING_ID, created["id"]))
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(method, url, json={}, headers=auth_headers)
        assert response.status_code == 422, (method, response.text)
        problem = response.json()
        assert problem["type"] == "/problems/validation-failed"
        assert problem["errors"][0]["loc"][0] == "path"


def test_item_routes_refuse_query_parameters_they_do_not_take_as_lists_do(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    requests = [
        ("GET", feature.url, None),
        ("POST", feature.url, feature.case.new(1)),
        ("GET", url, None),
        ("PATCH", url, feature.case.change),
        ("DELETE", url, None),
        ("POST", f"{url}/restore", None),
        ("GET", f"{url}/audit", None),
    ]
    for method, target, body in requests:
        response = client.request(
            method, target, params={"surprise": "1"}, json=body, headers=auth_headers
        )
        assert response.status_code == 422, (method, target, response.text)
        errors = response.json()["errors"]
        assert [(error["loc"], error["type"]) for error in errors] == [
            (["query", "surprise"], "extra_forbidden")
        ], (method, target)
    # Nothing changed, nothing recorded.
    assert client.get(url, headers=auth_headers).json() == created
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 1


def test_get_sends_the_version_as_a_strong_etag(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    response = client.get(feature.item_url(created["id"]), headers=auth_headers)
    assert response.headers["etag"] == f'"{created["version"]}"'


def test_list_is_paginated_with_a_total(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    ids = [feature.create(client, auth_headers, n)["id"] for n in range(3)]
    params = {"limit": 2, "include_total": True}
    first = client.get(feature.url, params=params, headers=auth_headers).json()
    params = {"limit": 2, "offset": 2}
    second = client.get(feature.url, params=params, headers=auth_headers).json()
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert [item["id"] for item in first["items"] + second["items"]] == ids


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 100_000}, {"offset": -1}, {"sort": "x"}]
)
def test_list_refuses_bad_query_parameters(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, params: dict[str, Any]
) -> None:
    response = client.get(feature.url, params=params, headers=auth_headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


def test_list_hides_soft_deleted_rows_unless_asked(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    kept = feature.create(client, auth_headers, 0)
    deleted = feature.create(client, auth_headers, 1)
    response = client.delete(feature.item_url(deleted["id"]), headers=auth_headers)
    assert response.status_code == 204
    live = client.get(feature.url, params={"include_total": True}, headers=auth_headers).json()
    params = {"include_deleted": True}
    everything = client.get(feature.url, params=params, headers=auth_headers).json()
    assert [item["id"] for item in live["items"]] == [kept["id"]]
    assert live["total"] == 1
    assert [item["id"] for item in everything["items"]] == [kept["id"], deleted["id"]]
    assert everything["items"][1]["deleted_at"] is not None


def test_list_filters_by_a_filterable_field_and_refuses_others(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    wanted = feature.create(client, auth_headers, 0)
    feature.create(client, auth_headers, 1)
    field = feature.case.filter_field
    if field is not None:
        params = {field: wanted[field], "include_total": True}
        page = client.get(feature.url, params=params, headers=auth_headers).json()
        assert [item["id"] for item in page["items"]] == [wanted["id"]]
        assert page["total"] == 1
    # Filters are an explicit list: a field without one is refused, never silently ignored.
    response = client.get(feature.url, params={"version": 1}, headers=auth_headers)
    assert response.status_code == 422


def test_list_sorts_by_an_allowed_key(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    ids = [feature.create(client, auth_headers, n)["id"] for n in range(3)]
    params = {"sort": "-created_at"}
    page = client.get(feature.url, params=params, headers=auth_headers).json()
    assert [item["id"] for item in page["items"]] == ids[::-1]


def test_patch_changes_the_sent_field_only_and_audits_old_and_new(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    [(field, new_value)] = feature.case.change.items()
    url = feature.item_url(created["id"])
    response = client.patch(url, json=feature.case.change, headers=auth_headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated[field] == new_value
    assert updated["version"] == created["version"] + 1
    unchanged = set(created) - {field, "version", "updated_at"}
    assert {key: updated[key] for key in unchanged} == {key: created[key] for key in unchanged}
    entry = feature.audit_trail(client, auth_headers, created["id"])[0]
    assert entry["action_code"] == feature.action("UPDATED")
    assert entry["changes"] == {field: {"old": created[field], "new": new_value}}
    assert entry["data_snapshot"] == stored(updated)


def test_patch_that_changes_nothing_writes_no_audit_row(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    same = {field: created[field] for field in feature.case.change}
    response = client.patch(feature.item_url(created["id"]), json=same, headers=auth_headers)
    assert response.status_code == 200
    assert response.json()["version"] == created["version"]
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 1


def test_patch_can_null_only_the_nullable_fields(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    not_nullable = feature.api.update_model.NOT_NULLABLE
    for field in not_nullable:
        response = client.patch(url, json={field: None}, headers=auth_headers)
        assert response.status_code == 422, field
        assert field in response.json()["errors"][0]["msg"]
    for field in set(feature.case.new(0)) - set(not_nullable):
        response = client.patch(url, json={field: None}, headers=auth_headers)
        assert response.status_code == 200, field
        assert response.json()[field] is None


def test_patch_of_an_unknown_id_is_404(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    url = feature.item_url(MISSING_ID)
    response = client.patch(url, json=feature.case.change, headers=auth_headers)
    assert response.status_code == 404


def test_delete_is_a_soft_delete(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    response = client.delete(url, headers=auth_headers)
    assert response.status_code == 204
    # No body, so no content type claims one.
    assert response.content == b""
    assert "content-type" not in response.headers
    assert client.get(url, headers=auth_headers).status_code == 404
    entry = feature.audit_trail(client, auth_headers, created["id"])[0]
    assert entry["action_code"] == feature.action("DELETED")
    assert entry["data_snapshot"]["deleted_at"] is not None
    assert client.delete(url, headers=auth_headers).status_code == 404


def test_restore_brings_a_deleted_row_back(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    client.delete(url, headers=auth_headers)
    response = client.post(f"{url}/restore", headers=auth_headers)
    assert response.status_code == 200
    assert response.json()["deleted_at"] is None
    assert client.get(url, headers=auth_headers).status_code == 200
    latest = feature.audit_trail(client, auth_headers, created["id"])[0]
    assert latest["action_code"] == feature.action("RESTORED")


def test_restore_of_a_live_row_is_409(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    response = client.post(f"{feature.item_url(created['id'])}/restore", headers=auth_headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "/problems/not-deleted"
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 1


def test_restore_of_an_unknown_id_is_404(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    url = f"{feature.item_url(MISSING_ID)}/restore"
    assert client.post(url, headers=auth_headers).status_code == 404


def test_audit_trail_lists_every_change_newest_first(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    client.patch(url, json=feature.case.change, headers=auth_headers)
    client.delete(url, headers=auth_headers)
    client.post(f"{url}/restore", headers=auth_headers)
    trail = feature.audit_trail(client, auth_headers, created["id"])
    assert [entry["action_code"] for entry in trail] == [
        feature.action(change) for change in ("RESTORED", "DELETED", "UPDATED", "CREATED")
    ]
    assert [entry["data_snapshot"]["version"] for entry in trail] == [4, 3, 2, 1]


def test_audit_trail_pages(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    client.delete(url, headers=auth_headers)
    client.post(f"{url}/restore", headers=auth_headers)
    params = {"limit": 2, "offset": 1, "include_total": True}
    page = client.get(f"{url}/audit", params=params, headers=auth_headers)
    assert page.status_code == 200
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 2, 1)
    codes = [entry["action_code"] for entry in body["items"]]
    assert codes == [feature.action("DELETED"), feature.action("CREATED")]


def test_audit_trail_of_an_unknown_id_is_404(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    url = f"{feature.item_url(MISSING_ID)}/audit"
    assert client.get(url, headers=auth_headers).status_code == 404


def test_a_taken_unique_value_is_409_on_create_and_on_update(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    first = feature.create(client, auth_headers, 0)
    second = feature.create(client, auth_headers, 1)
    for field in feature.case.unique:
        body = {**feature.case.new(2), field: first[field]}
        duplicate = client.post(feature.url, json=body, headers=auth_headers)
        assert duplicate.status_code == 409, field
        assert field in duplicate.json()["detail"]
        url = feature.item_url(second["id"])
        taken = client.patch(url, json={field: first[field]}, headers=auth_headers)
        assert taken.status_code == 409, field
        for response in (duplicate, taken):
            problem = response.json()
            assert (problem["type"], problem["title"]) == (
                "/problems/unique-value-taken",
                "Unique value taken",
            )
    assert feature.count(client, auth_headers) == 2
    assert len(feature.audit_trail(client, auth_headers, second["id"])) == 1


def test_fields_without_a_unique_constraint_take_repeated_values(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    body = feature.case.new(0)
    for field in feature.case.unique:
        body[field] = feature.case.new(3)[field]
    feature.create(client, auth_headers, 0)
    response = client.post(feature.url, json=body, headers=auth_headers)
    assert response.status_code == 201, response.text


ENDPOINTS = [
    ("POST", ""),
    ("GET", ""),
    ("GET", f"/{MISSING_ID}"),
    ("PATCH", f"/{MISSING_ID}"),
    ("DELETE", f"/{MISSING_ID}"),
    ("POST", f"/{MISSING_ID}/restore"),
    ("GET", f"/{MISSING_ID}/audit"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_token(
    client: TestClient, feature: FeatureUnderTest, method: str, path: str
) -> None:
    response = client.request(method, f"{feature.url}{path}", json=feature.case.new(0))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM_JSON


def test_a_stale_if_match_is_412_with_the_current_version(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    version_1 = {**auth_headers, "If-Match": '"1"'}
    first = client.patch(url, json=feature.case.change, headers=version_1)
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"'
    stale = client.patch(url, json=feature.case.change, headers=version_1)
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM_JSON
    assert stale.json()["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    assert client.delete(url, headers=version_1).status_code == 412
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 2


def test_delete_and_restore_honour_if_match(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    assert client.delete(url, headers={**auth_headers, "If-Match": '"1"'}).status_code == 204
    stale = client.post(f"{url}/restore", headers={**auth_headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    restored = client.post(f"{url}/restore", headers={**auth_headers, "If-Match": '"2"'})
    assert restored.status_code == 200
    assert restored.headers["etag"] == '"3"'


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ("*", 200),
        ('"9", "1"', 200),
        ('W/"1", "1"', 200),
        (' "1" ,', 200),
        ('W/"1"', 412),
        ('W/"1", W/"abc"', 412),
        ('"2"', 412),
        # Strong comparison compares the tags as strings: "01" is not the tag of version 1.
        ('"01"', 412),
        ('"01", "001"', 412),
        ('"01", "1"', 200),
    ],
)
def test_if_match_compares_strongly_against_the_current_version(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    if_match: str,
    status: int,
) -> None:
    created = feature.create(client, auth_headers)
    headers = {**auth_headers, "If-Match": if_match}
    url = feature.item_url(created["id"])
    response = client.patch(url, json=feature.case.change, headers=headers)
    assert response.status_code == status


@pytest.mark.parametrize(
    ("if_match", "meant"),
    [
        ("1", '"1"'),
        ("2", '"2"'),
        ('"abc"', '"1"'),
        ("W/", '"1"'),
        ("", '"1"'),
        ("  ", '"1"'),
        ('"1', '"1"'),
        ("'1'", '"1"'),
        ('"1" "2"', '"1"'),
        ('W/"1", 2', '"1"'),
        ("garbage", '"1"'),
    ],
)
def test_a_malformed_if_match_is_400_and_shows_the_quoting(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    if_match: str,
    meant: str,
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    headers = {**auth_headers, "If-Match": if_match}
    response = client.patch(url, json=feature.case.change, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert f"If-Match: {meant}" in response.json()["detail"]
    assert client.delete(url, headers=headers).status_code == 400
    assert client.post(f"{url}/restore", headers=headers).status_code == 400
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 1


@pytest.mark.parametrize("settings_overrides", [{"require_if_match": True}])
def test_if_match_can_be_made_mandatory(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    missing = client.patch(url, json=feature.case.change, headers=auth_headers)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert client.delete(url, headers=auth_headers).status_code == 428
    version_1 = {**auth_headers, "If-Match": '"1"'}
    assert client.patch(url, json=feature.case.change, headers=version_1).status_code == 200


def test_reading_and_writing_need_their_permissions(
    client: TestClient, mint: Mint, feature: FeatureUnderTest
) -> None:
    read, write = feature.api.permissions
    reader, writer, nobody = mint([read]), mint([read, write]), mint([])
    refused = client.post(feature.url, json=feature.case.new(0), headers=reader)
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'
    assert write in refused.json()["detail"]
    created = client.post(feature.url, json=feature.case.new(0), headers=writer)
    assert created.status_code == 201
    assert client.get(feature.url, headers=reader).status_code == 200
    assert client.get(feature.url, headers=nobody).status_code == 403
    url = feature.item_url(created.json()["id"])
    assert client.get(f"{url}/audit", headers=nobody).status_code == 403
    assert client.delete(url, headers=reader).status_code == 403
