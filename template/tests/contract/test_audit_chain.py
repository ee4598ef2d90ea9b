"""Every feature's audit trail is a hash chain per entity, and tampering with it is caught.

The tampering is done as an attacker would: in SQL, with the audit guard's triggers out of the
way (dropped on SQLite, disabled on PostgreSQL), inside the test's transaction, which the
test's end rolls back.
"""

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlmodel import Session, col, select

from audit_tampering import audit_guard_disabled
from factories import Mint
from features_under_test import PROBLEM_JSON, FeatureUnderTest
from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.models.audit_models.audit_chain import compute_row_hash, row_hash_of
from shared.services.audited_editor_service import AuditedEditorService

Headers = dict[str, str]
VERIFY_URL = "/audit/verify"


def audit_table(feature: FeatureUnderTest) -> str:
    return f"{feature.name}_audit"


def rows_oldest_first(session: Session, model: type[AuditBase]) -> list[AuditBase]:
    """Every row of an audit table, oldest first."""
    statement = select(model).order_by(col(model.created_at), col(model.id))
    return list(session.exec(statement))


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
        rows = rows_oldest_first(session, service.audit_model)
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
        # A row whose hashes are removed would pass for one written before the chain existed:
        # the migration that started the chain listed those, and this one is not listed.
        (
            "UPDATE {table} SET row_hash = NULL, previous_hash = NULL WHERE id = :first",
            "changed",
            0,
        ),
        (
            "UPDATE {table} SET row_hash = NULL, previous_hash = NULL WHERE {entity} = :entity",
            "changed",
            0,
        ),
        # The feed position is covered by the hash too.
        ("UPDATE {table} SET transaction_id = transaction_id + 1 WHERE id = :third", "changed", 2),
        # Swapped times put the rows out of their chain's order: the third entry now comes
        # second, and points at an entry of its chain that is not the one before it.
        (
            "UPDATE {table} SET created_at = CASE id WHEN :second THEN :third_at "
            "ELSE :second_at END WHERE id IN (:second, :third)",
            "reordered",
            2,
        ),
    ],
    ids=[
        "changed",
        "removed",
        "newest-removed",
        "hashes-removed",
        "every-hash-removed",
        "feed-position-moved",
        "reordered",
    ],
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
            text(tampering.format(table=table, entity=f"{feature.name}_id")),
            {
                "entity": entity_id,
                "first": entry_ids[0],
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


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "not-listed"])
def test_a_row_without_a_hash_is_legacy_only_where_the_migration_listed_it(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    connection: Connection,
    listed: bool,
) -> None:
    entity = feature.create(client, auth_headers, 0)
    [created] = feature.audit_trail(client, auth_headers, entity["id"])
    table = audit_table(feature)
    # What an earlier release left: a row with no hash. shared_0005 lists such rows when it
    # runs; a row whose hash is removed afterwards is not listed.
    with audit_guard_disabled(connection, table):
        connection.execute(
            text(f"UPDATE {table} SET row_hash = NULL, previous_hash = NULL")  # noqa: S608
        )
    if listed:
        with audit_guard_disabled(connection, "audit_legacy_entry"):
            connection.execute(
                text("INSERT INTO audit_legacy_entry VALUES (:table, :entry, 0)"),
                {"table": table, "entry": created["id"]},
            )
    url = feature.item_url(entity["id"])
    assert client.patch(url, json=feature.case.change, headers=auth_headers).status_code == 200
    assert client.delete(url, headers=auth_headers).status_code == 204

    report = verify(client, auth_headers, feature)
    if listed:
        assert (report["rows"], report["legacy_rows"], report["breaks"]) == (3, 1, [])
        return
    [broken] = report["breaks"]
    assert (broken["kind"], broken["entry_id"], report["legacy_rows"]) == (
        "changed",
        created["id"],
        0,
    )
    assert broken["detail"] == "its hash was removed"


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


def without_entries(connection: Connection, feature: FeatureUnderTest, entity_id: str) -> None:
    """Remove every audit entry of the entity."""
    table = audit_table(feature)
    with audit_guard_disabled(connection, table):
        connection.execute(
            text(f"DELETE FROM {table} WHERE {feature.name}_id = :entity"),  # noqa: S608
            {"entity": entity_id},
        )


def without_the_newest_entry(
    connection: Connection, feature: FeatureUnderTest, entity_id: str
) -> None:
    """Remove the newest entry, and step the entity's version back to the one before it."""
    table = audit_table(feature)
    newest = (
        f"SELECT id FROM {table} WHERE {feature.name}_id = :entity "  # noqa: S608
        "ORDER BY created_at DESC, id DESC LIMIT 1"
    )
    with audit_guard_disabled(connection, table):
        [entry_id] = connection.execute(text(newest), {"entity": entity_id}).scalars()
        connection.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": entry_id})  # noqa: S608
    connection.execute(
        text(f"UPDATE {feature.name} SET version = version - 1 WHERE id = :id"),  # noqa: S608
        {"id": entity_id},
    )


def with_an_unrecorded_change(
    connection: Connection, feature: FeatureUnderTest, entity_id: str
) -> None:
    """Change the entity's fields in its table (to another entity's values), with no audit entry."""
    service: type[AuditedEditorService[Any, Any, Any, Any]] = feature.api.service
    values = service.create_model.model_validate(feature.case.new(7)).model_dump()
    entities = service.entity_model.__table__  # type: ignore[attr-defined]
    connection.execute(entities.update().where(entities.c.id == entity_id).values(values))


@pytest.mark.parametrize(
    ("tampering", "kind", "broken_entry"),
    [
        # An entity with no entry left is looked at as well: it had a trail.
        (without_entries, "removed", None),
        # Its row still holds the newest change (its time at least), which no entry records.
        (without_the_newest_entry, "unrecorded", 2),
        # A field changed in the table, behind the service's back.
        (with_an_unrecorded_change, "unrecorded", 3),
    ],
    ids=["every-entry-removed", "newest-removed-version-lowered", "row-changed"],
)
def test_an_entity_is_checked_against_its_trail(
    client: TestClient,
    auth_headers: Headers,
    feature: FeatureUnderTest,
    connection: Connection,
    tampering: Callable[[Connection, FeatureUnderTest, str], None],
    kind: str,
    broken_entry: int | None,
) -> None:
    untouched = feature.create(client, auth_headers, 1)
    entity_id, entry_ids = entity_with_four_entries(client, auth_headers, feature)
    tampering(connection, feature, entity_id)

    report = verify(client, auth_headers, feature)
    [broken] = report["breaks"]
    expected_entry = None if broken_entry is None else entry_ids[broken_entry]
    assert (broken["kind"], broken["entity_id"], broken["entry_id"]) == (
        kind,
        entity_id,
        expected_entry,
    )
    assert untouched["id"] != broken["entity_id"]
    assert report["entities"] == 2


def test_revert_and_as_of_refuse_an_entry_changed_after_it_was_written(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest, connection: Connection
) -> None:
    entity_id, entry_ids = entity_with_four_entries(client, auth_headers, feature)
    table = audit_table(feature)
    created_at = feature.audit_trail(client, auth_headers, entity_id)[-1]["created_at"]
    with audit_guard_disabled(connection, table):
        connection.execute(
            text(f"UPDATE {table} SET performed_by_user_name = 'someone else' WHERE id = :id"),  # noqa: S608
            {"id": entry_ids[0]},
        )
    url = feature.item_url(entity_id)
    before = client.get(url, headers=auth_headers).json()

    reverted = client.post(f"{url}/audit/{entry_ids[0]}/revert", headers=auth_headers)
    read = client.get(url, params={"as_of": created_at}, headers=auth_headers)

    for response in (reverted, read):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
        assert entry_ids[0] in response.json()["detail"]
        assert response.json()["type"] == "/problems/tampered-entry"
    # Nothing was written: the entity and its trail are as they were.
    assert client.get(url, headers=auth_headers).json() == before
    assert len(feature.audit_trail(client, auth_headers, entity_id)) == len(entry_ids)


# Values at the edges of what JSON, Python and the databases' types hold: each hashes alike as
# written and as the database gives it back (PostgreSQL keeps JSON numbers as decimals: 1e23
# comes back as the integer 10^23, which is not the float's exact value).
EXTREME_FLOATS = [1e23, -1.7976931348623157e308, 5e-324, 0.1 + 0.2, -0.0, 2.0**53 + 2]
EXTREME_DOCUMENT = {
    "float": 1e23,
    "tiny": 5e-324,
    "huge": 10**30,
    "whole": 2.0,
    "negative_zero": -0.0,
    "list": [1.0, 2.5e-10, -(10**20), 1.7976931348623157e308],
    "é😀\u2028": {"nested": [[{"deep": 0.30000000000000004}]]},
}
# Characters that JSON escapes, and characters outside the Basic Multilingual Plane.
EXTREME_TEXT = 'é😀\u2028"\\\t𝄞'


EXTREMES_BY_TYPE: dict[str, list[Any]] = {
    "number": EXTREME_FLOATS,
    "object": [EXTREME_DOCUMENT],
}
EXTREMES_BY_FORMAT: dict[str, list[Any]] = {
    "date-time": ["9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00.000001Z"],
    "date": ["9999-12-31", "0001-01-01"],
}


def extreme_values(schema: dict[str, Any]) -> list[Any]:
    """Values at the edges of one field's type, from its JSON schema (none for the others)."""
    options: list[dict[str, Any]] = schema.get("anyOf", [schema])
    kind = next((option for option in options if option.get("type") != "null"), {})
    if kind.get("type") in EXTREMES_BY_TYPE:
        return EXTREMES_BY_TYPE[kind["type"]]
    if kind.get("format") in EXTREMES_BY_FORMAT:
        return EXTREMES_BY_FORMAT[kind["format"]]
    if kind.get("type") == "integer":
        return [kind["minimum"], kind["maximum"]]
    if kind.get("format") == "decimal":
        digits, scale = kind["x-precision"], kind["x-scale"]
        largest = "9" * (digits - scale) + ("." + "9" * scale if scale else "")
        return [largest, f"-{largest}"]
    if kind.get("type") == "string" and "format" not in kind and "maxLength" in kind:
        return [(EXTREME_TEXT * 8)[: min(kind["maxLength"], 64)]]
    return []


def test_extreme_values_of_every_field_type_verify_after_the_round_trip(
    client: TestClient, auth_headers: Headers, feature: FeatureUnderTest
) -> None:
    entity = feature.create(client, auth_headers, 0)
    url = feature.item_url(entity["id"])
    schema = feature.api.service.update_model.model_json_schema()["properties"]
    # A reference's values are its target's ids, not edges of a type (test_references).
    references = {reference.field for reference in feature.api.service.references}
    sent = 0
    for field, field_schema in schema.items():
        for value in extreme_values(field_schema) if field not in references else []:
            response = client.patch(url, json={field: value}, headers=auth_headers)
            assert response.status_code == 200, (field, value, response.text)
            sent += 1
    # Every feature has at least one field with edges (a str, a number or a date).
    assert sent > 0
    report = verify(client, auth_headers, feature)
    assert report["breaks"] == []
    assert report["rows"] >= sent
