"""HTTP semantics every feature shares, and the exactness of what its API description says.

Owned by the template and run for each feature (the ``feature`` fixture): HEAD, 405 with the
path's methods, 415 and 400 for bodies that are not JSON, conditional reads and restores, and
parsing as strict as the description (what it calls an integer is never ``"5.0"``); and once
for every operation: a query parameter it does not take is a 422.
"""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from features_under_test import MISSING_ID, PROBLEM_JSON, FeatureUnderTest

Headers = dict[str, str]

# Query text that a lax parser reads as a value of the described type; the API refuses it.
LAX_QUERY_TEXT = {
    "integer": ["5.0", " 5", "1_0", "0x5", "1e3"],
    "boolean": ["yes", "1", "on", "True"],
    "date": ["0", "1700000000", "20240131", "2024-01-31T00:00:00"],
    "uuid": ["not-a-uuid"],
}


def operation(client: TestClient, path: str, method: str) -> dict[str, Any]:
    """One operation of the service's OpenAPI document."""
    described: dict[str, Any] = client.get("/openapi.json").json()["paths"][path][method]
    return described


def component(client: TestClient, reference: str) -> dict[str, Any]:
    """The schema a ``$ref`` names in the OpenAPI document."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    schema: dict[str, Any] = schemas[reference.rsplit("/", 1)[-1]]
    return schema


def allows_null(schema: dict[str, Any]) -> bool:
    """Whether a property's schema accepts null."""
    return schema.get("type") == "null" or any(map(allows_null, schema.get("anyOf", [])))


def described_kind(schema: dict[str, Any]) -> str | None:
    """``integer``, ``boolean``, ``date`` or ``uuid`` for a parameter of that type, else None."""
    for alternative in [schema, *schema.get("anyOf", [])]:
        kind = alternative.get("format") or alternative.get("type")
        if kind in LAX_QUERY_TEXT:
            return str(kind)
    return None


# -- HEAD and 405 ---------------------------------------------------------------------------


def test_head_answers_wherever_get_does_with_its_headers_and_no_body(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    item = feature.item_url(created["id"])
    for url in (feature.url, item, f"{item}/audit", "/health/live"):
        got = client.get(url, headers=auth_headers)
        head = client.head(url, headers=auth_headers)
        assert head.status_code == got.status_code == 200, url
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers.get("etag") == got.headers.get("etag")
    assert client.head(feature.item_url(MISSING_ID), headers=auth_headers).status_code == 404


def test_a_method_the_path_does_not_take_is_405_naming_the_methods_it_does(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    item = feature.item_url(MISSING_ID)
    expected = {
        ("OPTIONS", feature.url): "GET, HEAD, POST",
        ("PUT", item): "DELETE, GET, HEAD, PATCH",
        ("GET", f"{item}/restore"): "POST",
        ("HEAD", f"{item}/restore"): "POST",
        ("DELETE", f"{item}/audit"): "GET, HEAD",
    }
    for (method, url), allow in expected.items():
        response = client.request(method, url, headers=auth_headers)
        assert response.status_code == 405, (method, url)
        assert response.headers["allow"] == allow, (method, url)
        if method != "HEAD":
            assert response.headers["content-type"] == PROBLEM_JSON


# -- Query parameters ----------------------------------------------------------------------


def test_every_operation_refuses_a_query_parameter_it_does_not_take(
    client: TestClient, auth_headers: Headers
) -> None:
    # The health checks and the audit routes as the features' routes: a misspelt parameter is
    # a 422 naming it, never ignored. Nothing else is wrong with these requests but the ids,
    # which exist nowhere: the parameter is refused before anything is looked up.
    paths = client.get("/openapi.json").json()["paths"]
    for path, by_method in paths.items():
        url = re.sub(r"\{[a-z0-9_]+\}", MISSING_ID, path)
        for method in by_method:
            response = client.request(method, url, params={"surprize": "1"}, headers=auth_headers)
            assert response.status_code == 422, (method, path, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON
            problem = response.json()
            assert problem["type"] == "/problems/validation-failed", (method, path)
            assert [(error["loc"], error["type"]) for error in problem["errors"]] == [
                (["query", "surprize"], "extra_forbidden")
            ], (method, path)


# -- Bodies are JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_a_body_that_is_not_declared_json_is_415_and_changes_nothing(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, content_type: str | None
) -> None:
    created = feature.create(client, auth_headers)
    headers = {**auth_headers, **({"Content-Type": content_type} if content_type else {})}
    for method, url in (("POST", feature.url), ("PATCH", feature.item_url(created["id"]))):
        response = client.request(method, url, content=b"{}", headers=headers)
        assert response.status_code == 415, (method, content_type)
        assert response.headers["content-type"] == PROBLEM_JSON
    assert feature.count(client, auth_headers) == 1
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 1


def test_json_with_a_media_type_suffix_is_accepted(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    headers = {**auth_headers, "Content-Type": "application/merge-patch+json; charset=utf-8"}
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    response = client.patch(url, json=feature.case.change, headers=headers)
    assert response.status_code == 200, response.text


def test_malformed_json_is_a_400_problem(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    headers = {**auth_headers, "Content-Type": "application/json"}
    for method, url in (("POST", feature.url), ("PATCH", feature.item_url(created["id"]))):
        response = client.request(method, url, content=b'{"unfinished": ', headers=headers)
        assert response.status_code == 400, method
        assert response.headers["content-type"] == PROBLEM_JSON
        assert "not valid JSON" in response.json()["detail"]
        assert response.json()["type"] == "/problems/malformed-json"


# -- Conditional requests -------------------------------------------------------------------


def test_delete_sends_the_new_etag_so_that_restore_can_be_conditional(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    deleted = client.delete(url, headers={**auth_headers, "If-Match": '"1"'})
    assert deleted.status_code == 204
    assert deleted.headers["etag"] == '"2"'
    stale = client.post(f"{url}/restore", headers={**auth_headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    restored = client.post(f"{url}/restore", headers={**auth_headers, "If-Match": '"2"'})
    assert restored.status_code == 200
    assert restored.headers["etag"] == '"3"'


def test_a_read_with_the_current_etag_in_if_none_match_is_304(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    for held in ('"1"', 'W/"1"', '"7", "1"', "*"):
        response = client.get(url, headers={**auth_headers, "If-None-Match": held})
        assert response.status_code == 304, held
        assert response.content == b""
        assert response.headers["etag"] == '"1"'
    client.patch(url, json=feature.case.change, headers=auth_headers)
    changed = client.get(url, headers={**auth_headers, "If-None-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["version"] == 2
    # A tag this service never sends matches nothing: the reader gets the full answer.
    odd = client.get(url, headers={**auth_headers, "If-None-Match": "2"})
    assert odd.status_code == 200
    # Compared as strings, as If-Match compares: "02" is not the tag of version 2.
    padded = client.get(url, headers={**auth_headers, "If-None-Match": '"02"'})
    assert padded.status_code == 200


# -- What the description says is what the server does ----------------------------------


def test_the_update_body_allows_null_only_for_nullable_fields(
    client: TestClient, feature: FeatureUnderTest
) -> None:
    item = feature.url + "/{" + feature.name + "_id}"
    update_body = operation(client, item, "patch")["requestBody"]["content"]
    update = component(client, update_body["application/json"]["schema"]["$ref"])
    read_reference = operation(client, item, "get")["responses"]["200"]["content"]
    read = component(client, read_reference["application/json"]["schema"]["$ref"])
    for name, schema in update["properties"].items():
        assert allows_null(schema) == allows_null(read["properties"][name]), name


def test_ids_are_described_as_uuids(client: TestClient, feature: FeatureUnderTest) -> None:
    item = feature.url + "/{" + feature.name + "_id}"
    read_reference = operation(client, item, "get")["responses"]["200"]["content"]
    read = component(client, read_reference["application/json"]["schema"]["$ref"])
    assert read["properties"]["id"]["format"] == "uuid"
    [parameter] = [p for p in operation(client, item, "get")["parameters"] if p["in"] == "path"]
    assert parameter["schema"]["format"] == "uuid"
    audit_page = operation(client, item + "/audit", "get")["responses"]["200"]["content"]
    page = component(client, audit_page["application/json"]["schema"]["$ref"])
    entry = component(client, page["properties"]["items"]["items"]["$ref"])
    for name in ("id", f"{feature.name}_id"):
        assert entry["properties"][name]["format"] == "uuid", name


def test_list_query_text_is_parsed_as_strictly_as_described(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    checked = set()
    for parameter in operation(client, feature.url, "get")["parameters"]:
        kind = described_kind(parameter["schema"])
        for text in LAX_QUERY_TEXT.get(kind or "", []):
            params = {parameter["name"]: text}
            response = client.get(feature.url, params=params, headers=auth_headers)
            assert response.status_code == 422, (parameter["name"], text)
            checked.add(kind)
    # Paging and include_deleted are there for every feature.
    assert {"integer", "boolean"} <= checked
