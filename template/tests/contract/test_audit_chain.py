"""Every feature's audit trail is a hash chain per entity, and tampering with it is caught.

The tampering is done as an attacker would: in SQL, with the audit guard's triggers out of the
way (dropped on SQLite, disabled on PostgreSQL), inside the test's transaction, which the
test's end rolls back.
"""

from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlmodel import Session

from audit_tampering import audit_guard_disabled
from factories import Mint
from features_under_test import PROBLEM_JSON, FeatureUnderTest
from shared.db.models.audit_models.audit_chain import compute_row_hash, row_hash_of
from shared.services.audit_verification import rows_in_time_order
from shared.services.audited_editor_service import AuditedEditorService

Headers = dict[str, str]
VERIFY_URL = "/audit/verify"


def audit_table(feature: FeatureUnderTest) -> str:
    return f"{feature.name}_audit"


def entity_with_four_entries(
    client: TestClient, headers: Headers, feature: FeatureUnderTest
) -> tuple[str, list[str]]:
    """An entity created, changed, deleted and restored; its audit entry ids, oldest first."""
    entity = feature.create(client, headers, 0)
    url = feature.item_url(entity["id"])
    assert client.patch(url, json=feature.case.change, headers=headers).status_code == 200
    assert client.delete(url, headers=headers).status_code == 204
    assert client.post(f"{url}/restore", headers=headers).status_code == 200
    trail = feature.audit_trail(client, headers, entity["id"])
    return entity["id"], [entry["id"] for entry in reversed(trail)]


def test_a_snapshot_hashes_alike_as_written_and_as_the_database_gives_it_back(
    feature: FeatureUnderTest,
) -> None:
    # JSON columns give lists back for tuples, and whole numbers without their ".0".
    model = feature.api.service.audit_model
    entity = {model.entity_id_field(): "e-1", "id": "a-1"}
    written = {"tags": ("a", 2.0), "nested": {"n": [1.0, {"k": 3.5}]}}
    read_back = {"tags": ["a", 2], "nested": {"n": [1, {"k": 3.5}]}}
    assert row_hash_of(model, {**entity, "data_snapshot": written}) == row_hash_of(
        model, {**entity, "data_snapshot": read_back}
    )
    changed = {"tags": ["a", 3], "nested": {"n": [1, {"k": 3.5}]}}
    assert row_hash_of(model, {**entity, "data_snapshot": written}) != row_hash_of(
        model, {**entity, "data_snapshot": changed}
    )


def verify(client: TestClient, headers: Headers, feature: FeatureUnderTest) -> dict[str, Any]:
    """The verification report of the feature's trail, through the API."""
    response = client.get(VERIFY_URL, params={"feature": feature.name}, headers=headers)
    assert response.status_code == 200, response.text
    [trail] = response.json()["trails"]
    assert trail["feature"] == feature.name
    result: dict[str, Any] = trail
    return result


def test_each_entry_is_hashed_and_points_at_the_one_before(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, connection: Connection
) -> None:
    entity_id, entry_ids = entity_with_four_entries(client, auth_headers, feature)
    service: type[AuditedEditorService[Any, Any, Any, Any]] = feature.api.service
    with Session(bind=connection) as session:
        rows = list(rows_in_time_order(session, service.audit_model))
    assert [row.id for row in rows] == entry_ids
    assert rows[0].previous_hash is None
    for previous, row in pairwise(rows):
        assert row.previous_hash == previous.row_hash
    for row in rows:
        assert row.row_hash == compute_row_hash(row)
    assert len({row.row_hash for row in rows}) == len(rows)
    report = verify(client, auth_headers, feature)
    assert (report["entities"], report["rows"], report["legacy_rows"]) == (1, 4, 0)
    assert report["breaks"] == []
    assert {row.entity_id for row in rows} == {entity_id}


@pytest.mark.parametrize(
    ("tampering", "kind", "broken_entry"),
    [
        # A changed row fails its own hash.
        ("UPDATE {table} SET description = 'nothing to see' WHERE id = :second", "changed", 1),
        # A removed row leaves the next one pointing at a hash no row has.
        ("DELETE FROM {table} WHERE id = :second", "removed", 2),
        # Removing the newest rows leaves an intact but short chain: its last snapshot is of
        # an older version than the entity's, so the (now) newest entry is named.
        ("DELETE FROM {table} WHERE id = :fourth", "removed", 2),
        # Swapped times put the rows out of their chain's order: the third entry now comes
        # second, and points at an entry of its chain that is not the one before it.
        (
            "UPDATE {table} SET created_at = CASE id WHEN :second THEN :third_at "
            "ELSE :second_at END WHERE id IN (:second, :third)",
            "reordered",
            2,
        ),
    ],
    ids=["changed", "removed", "newest-removed", "reordered"],
)
def test_tampering_in_sql_is_reported_with_the_entity_and_the_entry(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    connection: Connection,
    tampering: str,
    kind: str,
    broken_entry: int,
) -> None:
    untouched = feature.create(client, auth_headers, 1)
    entity_id, entry_ids = entity_with_four_entries(client, auth_headers, feature)
    table = audit_table(feature)
    # Table names are the features' own, fixed by the template: no input reaches the SQL.
    times: dict[str, Any] = dict(
        connection.execute(
            text(f"SELECT id, created_at FROM {table} WHERE id IN (:second, :third)"),  # noqa: S608
            {"second": entry_ids[1], "third": entry_ids[2]},
        ).all()
    )
    with audit_guard_disabled(connection, table):
        connection.execute(
            text(tampering.format(table=table)),
            {
                "second": entry_ids[1],
                "third": entry_ids[2],
                "fourth": entry_ids[3],
                "second_at": times[entry_ids[1]],
                "third_at": times[entry_ids[2]],
            },
        )

    report = verify(client, auth_headers, feature)
    [broken] = report["breaks"]
    assert (broken["kind"], broken["entity_id"], broken["entry_id"]) == (
        kind,
        entity_id,
        entry_ids[broken_entry],
    )
    # The other entity's chain is intact: only the tampered one is reported.
    assert untouched["id"] != broken["entity_id"]
    assert report["entities"] == 2


def test_rows_from_before_the_chain_are_legacy_and_the_chain_starts_after_them(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, connection: Connection
) -> None:
    entity = feature.create(client, auth_headers, 0)
    table = audit_table(feature)
    # What shared_0002 leaves in a database of an earlier release: rows with no hash.
    with audit_guard_disabled(connection, table):
        connection.execute(
            text(f"UPDATE {table} SET row_hash = NULL, previous_hash = NULL")  # noqa: S608
        )
    url = feature.item_url(entity["id"])
    assert client.patch(url, json=feature.case.change, headers=auth_headers).status_code == 200
    assert client.delete(url, headers=auth_headers).status_code == 204

    report = verify(client, auth_headers, feature)
    assert (report["rows"], report["legacy_rows"], report["breaks"]) == (3, 1, [])


def test_verification_needs_the_audit_read_permission(
    client: TestClient, mint: Mint, feature: FeatureUnderTest
) -> None:
    response = client.get(VERIFY_URL, headers=mint([f"{feature.name}:read"]))
    assert response.status_code == 403
    assert "audit:read" in response.json()["detail"]


def test_an_unknown_feature_is_a_validation_problem(
    client: TestClient, auth_headers: Headers
) -> None:
    response = client.get(VERIFY_URL, params={"feature": "no_such_feature"}, headers=auth_headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
