"""Every feature's business-rule hooks and audited commands keep the audit's guarantees.

Owned by the template and run for each feature the service lists (the ``feature`` fixture).
Each test writes the team code it needs as a subclass of the feature's editor service, as a
team writes it in the feature's own file: the hooks, a command of its own (``perform``), an
override of a verb.
"""

import time
import types
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from factories import TEST_USER
from features_under_test import FeatureUnderTest
from shared.errors import ConflictError, HookContractError, PreconditionFailedError
from shared.models.minimal_user import MinimalUser
from shared.services.audit_verification import verify_trail
from shared.services.audited_editor_service import AuditedEditorService
from shared.services.change_feed import read_feed

Service = AuditedEditorService[Any, Any, Any, Any]
# The kind of the sample command every feature is given here: recorded as <FEATURE>_CHECKED.
COMMAND = "CHECKED"
# How long a test waits for the change feed to serve a committed change (see below).
FEED_WAIT_SECONDS = 30


def team_service(feature: FeatureUnderTest, **members: Any) -> type[Service]:
    """A subclass of the feature's editor service with ``members``, and its own commands."""
    base = feature.api.service
    members["extra_actions"] = (*base.extra_actions, *members.get("extra_actions", ()))
    subclass: type[Service] = type(f"Team{base.__name__}", (base,), members)
    return subclass


def changed_value(feature: FeatureUnderTest) -> tuple[str, Any]:
    """The field the feature's sample change sets, and its new value as the entity holds it."""
    [(field, value)] = (
        feature.api.update_model.model_validate(feature.case.change).changes().items()
    )
    return field, value


def create_one(
    session: Session, feature: FeatureUnderTest, service: type[Service] | None = None
) -> Any:
    """Store one entity (and its audit row) through the feature's service or ``service``."""
    data = feature.api.create_model.model_validate(feature.case.new(0))
    return (service or feature.api.service)(session).create(data, TEST_USER)


def stored(session: Session, feature: FeatureUnderTest, entity_id: str) -> tuple[Any, list[Any]]:
    """The entity's row and its audit trail (oldest first), read afresh from the database."""
    session.expire_all()
    service = feature.api.service(session)
    row = service.repository.get(entity_id)
    return row, list(reversed(service.get_audit_trail(entity_id)))


def count_rows(session: Session, feature: FeatureUnderTest) -> tuple[int, int]:
    """How many entities and audit rows the feature's tables hold."""
    session.expire_all()
    service = feature.api.service(session)
    rows = session.exec(select(service.entity_model)).all()
    audits = session.exec(select(service.audit_model)).all()
    return len(rows), len(audits)


def test_every_hook_receives_the_acting_user_in_its_place(
    session: Session, feature: FeatureUnderTest
) -> None:
    calls: list[tuple[str, str, str]] = []

    def recorder(hook: str) -> Any:
        def record(_self: Service, *arguments: Any) -> None:
            *_, user = arguments
            action = next((str(a) for a in arguments if isinstance(a, StrEnum)), "")
            calls.append((hook, action, user.id))

        return record

    hooks = (
        "validate_create",
        "validate_update",
        "validate_delete",
        "validate_restore",
        "prepare_change",
        "after_change",
    )
    service_type = team_service(
        feature, extra_actions=(COMMAND,), **{hook: recorder(hook) for hook in hooks}
    )
    service = service_type(session)
    entity = create_one(session, feature, service_type)
    first_entry = service.get_audit_trail(entity.id)[0].id
    field, value = changed_value(feature)
    service.update(
        entity.id, feature.api.update_model.model_validate(feature.case.change), TEST_USER
    )
    service.delete(entity.id, TEST_USER)
    service.restore(entity.id, TEST_USER)
    service.revert(entity.id, first_entry, TEST_USER)
    service.perform(entity.id, COMMAND, TEST_USER, change=lambda e: setattr(e, field, value))

    def change(kind: str) -> list[tuple[str, str, str]]:
        action = feature.action(kind)
        return [("prepare_change", action, TEST_USER.id), ("after_change", action, TEST_USER.id)]

    assert calls == [
        ("validate_create", "", TEST_USER.id),
        *change("CREATED"),
        ("validate_update", "", TEST_USER.id),
        *change("UPDATED"),
        ("validate_delete", "", TEST_USER.id),
        *change("DELETED"),
        ("validate_restore", "", TEST_USER.id),
        *change("RESTORED"),
        # The revert takes the field back to its first value: a rule sees it as an update.
        ("validate_update", "", TEST_USER.id),
        *change("UPDATED"),
        ("validate_update", "", TEST_USER.id),
        *change(COMMAND),
    ]


@pytest.mark.parametrize("kind", ["CREATED", "DELETED", COMMAND])
def test_what_prepare_change_sets_is_stored_answered_and_audited(
    session: Session, feature: FeatureUnderTest, kind: str
) -> None:
    field, value = changed_value(feature)

    def prepare_change(self: Service, entity: Any, action: StrEnum, _user: MinimalUser) -> None:
        if action == self.action(kind):
            setattr(entity, field, value)

    service_type = team_service(feature, extra_actions=(COMMAND,), prepare_change=prepare_change)
    service = service_type(session)
    if kind == "CREATED":
        answer = create_one(session, feature, service_type)
    else:
        created = create_one(session, feature)
        original = created.model_dump(mode="json")[field]
        if kind == "DELETED":
            answer = service.delete(created.id, TEST_USER)
        else:
            answer = service.perform(created.id, COMMAND, TEST_USER)
    row, trail = stored(session, feature, answer.id)
    assert getattr(answer, field) == value
    assert getattr(row, field) == value
    assert row.version == answer.version == len(trail)
    newest = trail[-1]
    assert newest.action_code == feature.action(kind)
    assert newest.data_snapshot == row.model_dump(mode="json")
    if kind != "CREATED":
        # The hook's change is in the row's changes, with the value it replaced.
        jsonable = row.model_dump(mode="json")[field]
        assert newest.changes[field]["new"] == jsonable
        assert newest.changes[field]["old"] == original
    assert verify_trail(session, type(service)).intact


@pytest.mark.parametrize("kind", ["CREATED", "UPDATED"])
def test_after_change_changing_its_entity_is_refused_and_nothing_is_written(
    session: Session, feature: FeatureUnderTest, kind: str
) -> None:
    field, value = changed_value(feature)
    original = feature.api.create_model.model_validate(feature.case.new(0)).model_dump()[field]
    # The hook sets the field to a value the change did not give it.
    target = value if kind == "CREATED" else original

    def after_change(_self: Service, entity: Any, _action: StrEnum, _user: MinimalUser) -> None:
        setattr(entity, field, target)

    service_type = team_service(feature, after_change=after_change)
    if kind == "CREATED":
        with pytest.raises(HookContractError, match="after_change"):
            create_one(session, feature, service_type)
        assert count_rows(session, feature) == (0, 0)
        return
    entity = create_one(session, feature)
    before = entity.model_dump()
    change = feature.api.update_model.model_validate(feature.case.change)
    with pytest.raises(HookContractError, match="after_change"):
        service_type(session).update(entity.id, change, TEST_USER)
    row, trail = stored(session, feature, entity.id)
    assert row.model_dump() == before
    assert len(trail) == 1


def test_after_change_writes_through_another_service_in_the_same_transaction(
    session: Session, feature: FeatureUnderTest
) -> None:
    made: list[str] = []

    def after_change(self: Service, _entity: Any, action: StrEnum, user: MinimalUser) -> None:
        if action == self.action("CREATED") and not made:
            # Another entity, through the feature's own (untouched) service on this session.
            other = feature.api.create_model.model_validate(feature.case.new(1))
            made.append(feature.api.service(self.session).create(other, user).id)

    entity = create_one(session, feature, team_service(feature, after_change=after_change))
    assert count_rows(session, feature) == (2, 2)
    for entity_id in (entity.id, *made):
        row, trail = stored(session, feature, entity_id)
        assert [entry.action_code for entry in trail] == [feature.action("CREATED")]
        assert trail[0].data_snapshot == row.model_dump(mode="json")


def test_a_refusal_after_another_services_write_rolls_both_back(
    session: Session, feature: FeatureUnderTest
) -> None:
    def after_change(self: Service, _entity: Any, _action: StrEnum, user: MinimalUser) -> None:
        other = feature.api.create_model.model_validate(feature.case.new(1))
        feature.api.service(self.session).create(other, user)
        msg = "refused once the other entity was written"
        raise ConflictError(msg)

    with pytest.raises(ConflictError, match="other entity was written"):
        create_one(session, feature, team_service(feature, after_change=after_change))
    assert count_rows(session, feature) == (0, 0)


@pytest.mark.parametrize("verb", ["delete", "restore"])
def test_validate_delete_and_validate_restore_refuse_and_write_nothing(
    session: Session, feature: FeatureUnderTest, verb: str
) -> None:
    def refuse(_self: Service, _entity: Any, _user: MinimalUser) -> None:
        msg = f"the team's rule refuses this {verb}"
        raise ConflictError(msg)

    entity = create_one(session, feature)
    if verb == "restore":
        entity = feature.api.service(session).delete(entity.id, TEST_USER)
    service = team_service(feature, **{f"validate_{verb}": refuse})(session)
    before = entity.model_dump()
    with pytest.raises(ConflictError, match="rule refuses"):
        getattr(service, verb)(entity.id, TEST_USER)
    row, trail = stored(session, feature, entity.id)
    assert row.model_dump() == before
    assert len(trail) == (2 if verb == "restore" else 1)


def test_a_command_is_audited_chained_fed_and_revertible_like_an_update(
    committing_engine: Engine, feature: FeatureUnderTest
) -> None:
    # Committed: the change feed serves only changes whose transaction has ended.
    field, value = changed_value(feature)
    with Session(committing_engine) as session:
        service = team_service(feature, extra_actions=(COMMAND,))(session)
        entity = create_one(session, feature)
        original = entity.model_dump(mode="json")
        checked = service.perform(
            entity.id,
            COMMAND,
            TEST_USER,
            frozenset({entity.version}),
            change=lambda e: setattr(e, field, value),
        )
        assert checked.version == 2
        row, trail = stored(session, feature, entity.id)
        command = trail[-1]
        assert command.action_code == f"{feature.name.upper()}_{COMMAND}"
        noun = feature.name.replace("_", " ").capitalize()
        assert command.description.startswith(f"{noun} checked")
        assert command.changes == {
            field: {"old": original[field], "new": row.model_dump(mode="json")[field]}
        }
        assert command.previous_hash == trail[0].row_hash
        assert verify_trail(session, type(service)).intact
        feed = read_feed(session, {feature.name: service.audit_model}, None, 10)
        # On PostgreSQL the feed holds changes back while any older transaction of the server
        # is still open, other tests' included: it serves them when those end.
        deadline = time.monotonic() + FEED_WAIT_SECONDS
        while len(feed) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            feed = read_feed(session, {feature.name: service.audit_model}, None, 10)
        assert [item.entry.model_dump()["action_code"] for item in feed] == [
            feature.action("CREATED"),
            command.action_code,
        ]
        reverted = service.revert(entity.id, trail[0].id, TEST_USER)
        assert reverted.model_dump(mode="json")[field] == original[field]
        assert verify_trail(session, type(service)).intact


def test_a_command_checks_the_version_and_refuses_an_unknown_kind(
    session: Session, feature: FeatureUnderTest
) -> None:
    service = team_service(feature, extra_actions=(COMMAND,))(session)
    entity = create_one(session, feature)
    with pytest.raises(ValueError, match="no command 'SHIPPED'"):
        service.perform(entity.id, "SHIPPED", TEST_USER)
    with pytest.raises(PreconditionFailedError, match="at version 1"):
        service.perform(entity.id, COMMAND, TEST_USER, frozenset({7}))
    # With no change, a command is an event in the trail: a version of its own.
    assert service.perform(entity.id, COMMAND, TEST_USER).version == 2


@pytest.mark.parametrize("kind", ["created", "PLACED!", "UPDATED", ""])
def test_a_kind_that_cannot_be_an_action_code_is_refused_at_import(
    feature: FeatureUnderTest, kind: str
) -> None:
    with pytest.raises(TypeError, match="extra_actions"):
        team_service(feature, extra_actions=(kind,))


@pytest.mark.parametrize("overridden", ["shared", "seed"])
def test_overriding_either_name_of_a_verb_changes_what_the_routes_call(
    session: Session, feature: FeatureUnderTest, overridden: str
) -> None:
    marks: list[str] = []

    def create(self: Service, data: Any, created_by_user: MinimalUser) -> Any:
        marks.append(overridden)
        return feature.api.service.create(self, data, created_by_user)

    name = "create" if overridden == "shared" else f"create_{feature.name}"
    service = team_service(feature, **{name: create})(session)
    data = feature.api.create_model.model_validate(feature.case.new(0))
    # The seed's name, and the verb the routes call: both run the override.
    getattr(service, f"create_{feature.name}")(data, TEST_USER)
    feature.api.verb(service, "create")(
        feature.api.create_model.model_validate(feature.case.new(1)), TEST_USER
    )
    assert marks == [overridden, overridden]


def test_a_hook_written_before_hooks_received_the_user_still_runs(
    session: Session, feature: FeatureUnderTest
) -> None:
    seen: list[dict[str, Any]] = []

    def validate_create(_self: Service, values: dict[str, Any]) -> None:
        seen.append(values)

    with pytest.warns(DeprecationWarning, match="validate_create takes no user"):
        service_type = team_service(feature, validate_create=validate_create)
    create_one(session, feature, service_type)
    assert len(seen) == 1


def test_a_service_naming_another_tables_repository_is_refused_at_import(
    feature: FeatureUnderTest,
) -> None:
    audit_repository = feature.api.service.audit_repository_type
    with pytest.raises(TypeError, match="repository_type is"):
        team_service(feature, repository_type=audit_repository)


def test_a_service_that_names_no_repositories_gets_those_of_its_tables(
    feature: FeatureUnderTest,
) -> None:
    # As a feature's service written before services named them (release 0.2.0).
    base = feature.api.service
    types_of_feature = (base.entity_model, base.audit_model, base.create_model, base.update_model)
    generic: Any = AuditedEditorService
    earlier: type[Service] = types.new_class("EarlierService", (generic[types_of_feature],))
    assert earlier.repository_type is base.repository_type
    assert earlier.audit_repository_type is base.audit_repository_type
