"""Every feature's history: revert to an audit entry, and reads as of a past moment.

Owned by the template and run for each feature the service lists (the ``feature`` fixture).
"""

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from factories import TEST_USER
from features_under_test import MISSING_ID, PROBLEM_JSON, FeatureUnderTest, stored
from shared.db.models.base_model import new_id, utc_now

Headers = dict[str, str]


def revert_url(feature: FeatureUnderTest, entity_id: str, entry_id: str) -> str:
    """The URL that reverts an entity to one of its audit entries."""
    return f"{feature.item_url(entity_id)}/audit/{entry_id}/revert"


def as_of(
    client: TestClient, headers: Headers, feature: FeatureUnderTest, entity_id: str, moment: str
) -> Any:
    """``GET`` the entity as it was at ``moment``."""
    return client.get(feature.item_url(entity_id), params={"as_of": moment}, headers=headers)


def crafted_entry(
    session: Session, feature: FeatureUnderTest, entity_id: str, snapshot: dict[str, Any]
) -> str:
    """Append an audit entry holding ``snapshot``, as an older schema of the feature wrote it.

    Inserting is what the application does too (the audit guard refuses only UPDATE and
    DELETE), chained and hashed as it does; the entry's snapshot is what a schema change
    since would leave behind.
    """
    audit_model = feature.api.service.audit_model
    audit_repo = feature.api.service(session).audit_repo
    entry_id = new_id()
    audit_repo.append(
        {
            "id": entry_id,
            audit_model.entity_id_field(): entity_id,
            "performed_by_user_id": TEST_USER.id,
            "performed_by_user_name": TEST_USER.full_name,
            "action_code": feature.action("UPDATED"),
            "description": "written by an older schema",
            "data_snapshot": snapshot,
            "created_at": utc_now(),
            "previous_hash": audit_repo.latest_hash(entity_id),
        }
    )
    session.commit()
    return entry_id


def fields_of(entity: dict[str, Any], feature: FeatureUnderTest) -> dict[str, Any]:
    """The feature's own fields of an entity as the API shows it."""
    return {field: entity[field] for field in feature.case.new(0)}


def test_revert_to_an_earlier_entry_restores_its_values_as_an_audited_update(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    changed = client.patch(url, json=feature.case.change, headers=auth_headers).json()
    [_, created_entry] = feature.audit_trail(client, auth_headers, created["id"])
    response = client.post(
        revert_url(feature, created["id"], created_entry["id"]), headers=auth_headers
    )
    assert response.status_code == 200, response.text
    reverted = response.json()
    assert fields_of(reverted, feature) == fields_of(created, feature)
    assert reverted["version"] == 3
    assert response.headers["etag"] == '"3"'
    assert client.get(url, headers=auth_headers).json() == reverted
    trail = feature.audit_trail(client, auth_headers, created["id"])
    assert [entry["action_code"] for entry in trail] == [
        feature.action("UPDATED"),
        feature.action("UPDATED"),
        feature.action("CREATED"),
    ]
    entry = trail[0]
    assert created_entry["id"] in entry["description"]
    assert entry["data_snapshot"] == stored(reverted)
    assert entry["performed_by_user_id"] == TEST_USER.id
    assert entry["changes"] == {
        field: {"old": changed[field], "new": created[field]} for field in feature.case.change
    }


def test_revert_to_the_current_values_writes_nothing(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    [entry] = feature.audit_trail(client, auth_headers, created["id"])
    response = client.post(revert_url(feature, created["id"], entry["id"]), headers=auth_headers)
    assert response.status_code == 200, response.text
    assert response.json() == created
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 1


def test_revert_honours_if_match_like_a_change(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    client.patch(url, json=feature.case.change, headers=auth_headers)
    [_, first] = feature.audit_trail(client, auth_headers, created["id"])
    revert = revert_url(feature, created["id"], first["id"])
    stale = client.post(revert, headers={**auth_headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM_JSON
    assert stale.json()["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    assert client.post(revert, headers={**auth_headers, "If-Match": "2"}).status_code == 400
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 2
    current = client.post(revert, headers={**auth_headers, "If-Match": '"2"'})
    assert current.status_code == 200, current.text
    assert current.headers["etag"] == '"3"'


@pytest.mark.parametrize("settings_overrides", [{"require_if_match": True}])
def test_revert_needs_if_match_when_it_is_mandatory(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    [entry] = feature.audit_trail(client, auth_headers, created["id"])
    missing = client.post(revert_url(feature, created["id"], entry["id"]), headers=auth_headers)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == PROBLEM_JSON


def test_revert_of_a_deleted_entity_restores_it(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    client.patch(url, json=feature.case.change, headers=auth_headers)
    assert client.delete(url, headers=auth_headers).status_code == 204
    created_entry = feature.audit_trail(client, auth_headers, created["id"])[-1]
    response = client.post(
        revert_url(feature, created["id"], created_entry["id"]),
        headers={**auth_headers, "If-Match": '"3"'},
    )
    assert response.status_code == 200, response.text
    reverted = response.json()
    assert reverted["deleted_at"] is None
    assert fields_of(reverted, feature) == fields_of(created, feature)
    assert client.get(url, headers=auth_headers).json() == reverted
    entry = feature.audit_trail(client, auth_headers, created["id"])[0]
    assert entry["action_code"] == feature.action("UPDATED")
    assert "restoring" in entry["description"]
    assert entry["changes"]["deleted_at"]["new"] is None
    assert entry["changes"]["deleted_at"]["old"] is not None


def test_revert_to_a_unique_value_taken_since_is_409_and_writes_nothing(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    # Each round uses its own sample values (new(n) for n up to 9): unique fields never clash.
    for round_, field in enumerate(feature.case.unique):
        first = feature.create(client, auth_headers, 3 * round_ + 1)
        url = feature.item_url(first["id"])
        moved = {field: feature.case.new(3 * round_ + 2)[field]}
        changed = client.patch(url, json=moved, headers=auth_headers).json()
        # Another entity takes the value the first one had when it was created.
        taker = {**feature.case.new(3 * round_ + 3), field: first[field]}
        assert client.post(feature.url, json=taker, headers=auth_headers).status_code == 201
        created_entry = feature.audit_trail(client, auth_headers, first["id"])[-1]
        response = client.post(
            revert_url(feature, first["id"], created_entry["id"]), headers=auth_headers
        )
        assert response.status_code == 409, (field, response.text)
        assert field in response.json()["detail"]
        assert client.get(url, headers=auth_headers).json() == changed
        assert len(feature.audit_trail(client, auth_headers, first["id"])) == 2


def test_revert_to_an_entry_of_another_entity_or_none_is_404(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    first = feature.create(client, auth_headers, 1)
    second = feature.create(client, auth_headers, 2)
    [entry_of_second] = feature.audit_trail(client, auth_headers, second["id"])
    [entry_of_first] = feature.audit_trail(client, auth_headers, first["id"])
    for entity_id, entry_id in [
        (first["id"], entry_of_second["id"]),
        (first["id"], MISSING_ID),
        (MISSING_ID, entry_of_first["id"]),
    ]:
        response = client.post(revert_url(feature, entity_id, entry_id), headers=auth_headers)
        assert response.status_code == 404, (entity_id, entry_id)
        assert response.headers["content-type"] == PROBLEM_JSON
    assert len(feature.audit_trail(client, auth_headers, first["id"])) == 1


def test_revert_to_a_snapshot_with_a_removed_field_that_held_a_value_is_409_and_writes_nothing(
    client: TestClient, auth_headers: Headers, session: Session, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    changed = client.patch(url, json=feature.case.change, headers=auth_headers).json()
    entry_id = crafted_entry(
        session, feature, created["id"], {**created, "retired_field": "a value"}
    )
    response = client.post(revert_url(feature, created["id"], entry_id), headers=auth_headers)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "retired_field" in response.json()["detail"]
    assert response.json()["type"] == "/problems/snapshot-mismatch"
    assert client.get(url, headers=auth_headers).json() == changed
    assert len(feature.audit_trail(client, auth_headers, created["id"])) == 3
    # A removed field that held null loses nothing: the snapshot still fits.
    entry_id = crafted_entry(session, feature, created["id"], {**created, "retired_field": None})
    fits = client.post(revert_url(feature, created["id"], entry_id), headers=auth_headers)
    assert fits.status_code == 200, fits.text
    assert fields_of(fits.json(), feature) == fields_of(created, feature)


def test_revert_to_a_snapshot_without_a_field_added_since_uses_its_default_or_is_409(
    client: TestClient, auth_headers: Headers, session: Session, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    url = feature.item_url(created["id"])
    # Every field is either required on create (no default: the revert is refused) or may be
    # left out (the revert gives it its default).
    for field in feature.case.required:
        snapshot = {key: value for key, value in created.items() if key != field}
        entry_id = crafted_entry(session, feature, created["id"], snapshot)
        response = client.post(revert_url(feature, created["id"], entry_id), headers=auth_headers)
        assert response.status_code == 409, (field, response.text)
        assert field in response.json()["detail"]
        assert client.get(url, headers=auth_headers).json() == created
    optional = set(feature.case.new(0)) - set(feature.case.required)
    defaults = dict.fromkeys(optional) | (feature.case.defaults or {})
    for field, default in defaults.items():
        snapshot = {key: value for key, value in created.items() if key != field}
        entry_id = crafted_entry(session, feature, created["id"], snapshot)
        response = client.post(revert_url(feature, created["id"], entry_id), headers=auth_headers)
        assert response.status_code == 200, (field, response.text)
        assert response.json()[field] == default


def test_as_of_returns_each_historic_version(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    entity_id = created["id"]
    url = feature.item_url(entity_id)
    first = client.patch(url, json=feature.case.change, headers=auth_headers).json()
    second = client.patch(
        url, json={**feature.case.change, **fields_of(created, feature)}, headers=auth_headers
    ).json()
    assert client.delete(url, headers=auth_headers).status_code == 204
    restored = client.post(f"{url}/restore", headers=auth_headers).json()
    times = [
        entry["created_at"]
        for entry in reversed(feature.audit_trail(client, auth_headers, entity_id))
    ]
    assert len(times) == 5
    expected: list[dict[str, Any] | None] = [created, first, second, None, restored]
    for moment, version in zip(times, expected, strict=True):
        response = as_of(client, auth_headers, feature, entity_id, moment)
        if version is None:
            assert response.status_code == 410, response.text
            assert response.headers["content-type"] == PROBLEM_JSON
            continue
        assert response.status_code == 200, (moment, response.text)
        assert response.json() == version
        assert response.headers["etag"] == f'"{version["version"]}"'
    before = datetime.fromisoformat(times[0]) - timedelta(microseconds=1)
    too_early = as_of(client, auth_headers, feature, entity_id, before.isoformat())
    assert too_early.status_code == 404
    assert too_early.headers["content-type"] == PROBLEM_JSON


def test_as_of_a_snapshot_with_a_dropped_fields_value_reads_without_it(
    client: TestClient, auth_headers: Headers, session: Session, feature: FeatureUnderTest
) -> None:
    # A revert to it is refused (above); a read shows the fields the feature has now.
    created = feature.create(client, auth_headers)
    crafted_entry(session, feature, created["id"], {**created, "retired_field": "a value"})
    newest = feature.audit_trail(client, auth_headers, created["id"])[0]
    response = as_of(client, auth_headers, feature, created["id"], newest["created_at"])
    assert response.status_code == 200, response.text
    assert response.json() == created


def test_as_of_a_snapshot_that_no_longer_fits_is_409(
    client: TestClient, auth_headers: Headers, session: Session, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    # A value the field's rules refuse now (as if its bound had narrowed since).
    field, value = feature.case.invalid[0]
    crafted_entry(session, feature, created["id"], {**created, field: value})
    newest = feature.audit_trail(client, auth_headers, created["id"])[0]
    response = as_of(client, auth_headers, feature, created["id"], newest["created_at"])
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert field in response.json()["detail"]


def test_as_of_honours_if_none_match_with_the_historic_version(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    client.patch(feature.item_url(created["id"]), json=feature.case.change, headers=auth_headers)
    [_, created_entry] = feature.audit_trail(client, auth_headers, created["id"])
    holding_1 = {**auth_headers, "If-None-Match": '"1"'}
    moment = created_entry["created_at"]
    response = as_of(client, holding_1, feature, created["id"], moment)
    assert response.status_code == 304
    assert response.headers["etag"] == '"1"'
    assert client.get(feature.item_url(created["id"]), headers=holding_1).status_code == 200


def test_as_of_refuses_a_time_without_an_offset_and_an_unknown_entity(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    created = feature.create(client, auth_headers)
    naive = as_of(client, auth_headers, feature, created["id"], "2030-01-01T00:00:00")
    assert naive.status_code == 422
    assert ["query", "as_of"] in [error["loc"] for error in naive.json()["errors"]]
    unknown = as_of(client, auth_headers, feature, MISSING_ID, "2030-01-01T00:00:00Z")
    assert unknown.status_code == 404
