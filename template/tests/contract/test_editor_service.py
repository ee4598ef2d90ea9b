"""Every feature's editor service: a change and its audit row are committed together or not at all.

Owned by the template and run for each feature the service lists (the ``feature`` fixture).
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from factories import CONCURRENT_WRITERS, TEST_USER
from features_under_test import FeatureUnderTest
from shared.errors import PreconditionFailedError
from shared.models.minimal_user import MinimalUser
from shared.services.audited_editor_service import AuditedEditorService, ChangeOrigin

Service = AuditedEditorService[Any, Any, Any, Any]
StoredRows = tuple[list[Any], list[Any]]


class AuditStoreDownError(Exception):
    """Stands for any failure while the audit row is written."""


def fail_audit_writes(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every audit insert of ``service`` fail, as a broken audit table would."""

    def refuse(values: dict[str, Any]) -> None:
        raise AuditStoreDownError(values["action_code"])

    monkeypatch.setattr(service.audit_repo, "append", refuse)


def stored_rows(session: Session, service: Service) -> StoredRows:
    """Every row of the feature's two tables, read in a fresh transaction."""
    session.expire_all()
    rows = list(session.exec(select(service.repository.model)).all())
    audits = list(session.exec(select(service.audit_repo.model)).all())
    return rows, audits


def create_one(session: Session, feature: FeatureUnderTest) -> Any:
    """Store one entity (and its audit row) through the feature's service."""
    data = feature.api.create_model.model_validate(feature.case.new(0))
    return feature.api.service(session).create(data, TEST_USER)


def update_one(
    service: Service,
    feature: FeatureUnderTest,
    entity_id: str,
    expected_versions: frozenset[int] | None = None,
) -> object:
    """Change one field of the entity through ``service``."""
    data = feature.api.update_model.model_validate(feature.case.change)
    return service.update(entity_id, data, TEST_USER, expected_versions)


def delete_one(service: Service, _feature: FeatureUnderTest, entity_id: str) -> object:
    """Soft-delete the entity through ``service``."""
    return service.delete(entity_id, TEST_USER)


def test_a_failed_audit_insert_rolls_the_create_back(
    session: Session, monkeypatch: pytest.MonkeyPatch, feature: FeatureUnderTest
) -> None:
    service = feature.api.service(session)
    fail_audit_writes(service, monkeypatch)
    with pytest.raises(AuditStoreDownError):
        service.create(feature.api.create_model.model_validate(feature.case.new(0)), TEST_USER)
    assert stored_rows(session, service) == ([], [])


@pytest.mark.parametrize("change", [update_one, delete_one], ids=["update", "delete"])
def test_a_failed_audit_insert_rolls_the_change_back(
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    feature: FeatureUnderTest,
    change: Callable[[Service, FeatureUnderTest, str], object],
) -> None:
    entity_id = create_one(session, feature).id
    service = feature.api.service(session)
    rows_before, _ = stored_rows(session, service)
    snapshot_before = [row.model_dump() for row in rows_before]
    fail_audit_writes(service, monkeypatch)
    with pytest.raises(AuditStoreDownError):
        change(service, feature, entity_id)
    rows_after, audits_after = stored_rows(session, service)
    assert [row.model_dump() for row in rows_after] == snapshot_before
    assert len(audits_after) == 1


def test_a_failed_audit_insert_rolls_the_restore_back(
    session: Session, monkeypatch: pytest.MonkeyPatch, feature: FeatureUnderTest
) -> None:
    entity_id = create_one(session, feature).id
    delete_one(feature.api.service(session), feature, entity_id)
    service = feature.api.service(session)
    fail_audit_writes(service, monkeypatch)
    with pytest.raises(AuditStoreDownError):
        service.restore(entity_id, TEST_USER)
    rows, audits = stored_rows(session, service)
    assert rows[0].deleted_at is not None
    assert len(audits) == 2


def test_a_refused_business_rule_writes_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch, feature: FeatureUnderTest
) -> None:
    service = feature.api.service(session)
    refusals: list[dict[str, Any]] = []

    def refuse(values: dict[str, Any], _user: MinimalUser) -> None:
        refusals.append(values)
        msg = "refused by a business rule"
        raise ValueError(msg)

    monkeypatch.setattr(service, "validate_create", refuse)
    with pytest.raises(ValueError, match="business rule"):
        service.create(feature.api.create_model.model_validate(feature.case.new(0)), TEST_USER)
    assert len(refusals) == 1
    assert stored_rows(session, service) == ([], [])


def test_every_change_records_the_performer_and_the_request(
    session: Session, feature: FeatureUnderTest
) -> None:
    origin = ChangeOrigin(request_id="request-42", caller_request_id="caller-7")
    service = feature.api.service(session, origin)
    data = feature.api.create_model.model_validate(feature.case.new(0))
    entity = service.create(data, TEST_USER)
    [audit] = service.get_audit_trail(entity.id)
    assert audit.id
    assert audit.entity_id == entity.id
    assert audit.performed_by_user_id == TEST_USER.id
    assert audit.performed_by_user_name == TEST_USER.full_name
    assert audit.request_id == "request-42"
    assert audit.caller_request_id == "caller-7"


def test_concurrent_writers_of_one_version_let_exactly_one_win(
    committing_engine: Engine, feature: FeatureUnderTest
) -> None:
    with Session(committing_engine) as session:
        entity_id = create_one(session, feature).id
    start = threading.Barrier(CONCURRENT_WRITERS)

    def attempt(_: int) -> str:
        with Session(committing_engine) as session:
            service = feature.api.service(session)
            start.wait()
            try:
                update_one(service, feature, entity_id, expected_versions=frozenset({1}))
            except PreconditionFailedError as error:
                return f"refused at version {error.current_version}"
            return "won"

    with ThreadPoolExecutor(max_workers=CONCURRENT_WRITERS) as pool:
        outcomes = list(pool.map(attempt, range(CONCURRENT_WRITERS)))
    assert outcomes.count("won") == 1
    assert outcomes.count("refused at version 2") == CONCURRENT_WRITERS - 1
    with Session(committing_engine) as session:
        trail = feature.api.service(session).get_audit_trail(entity_id)
    assert [entry.action_code for entry in trail] == [
        feature.action("UPDATED"),
        feature.action("CREATED"),
    ]
