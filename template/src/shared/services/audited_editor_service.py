"""The audited editor service every feature's editor service is made of.

It owns the unit of work of each change: the row and its audit row are flushed together and
committed once, or rolled back together. It checks versions (If-Match), unique fields and the
soft-delete state, writes the audit row with its changes, and logs the event. A feature's
service (``ProductEditorService``) names its types, keeps the seed's verbs
(``create_product(data, created_by_user)`` ...) and holds the feature's business rules in
the hooks below, and its own audited commands (:meth:`AuditedEditorService.perform`); a fix to
this machinery is a change to this one file.
"""

import inspect
import json
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Context, Decimal
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

import sqlalchemy as sa
from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.db.models.audit_models.audit_base import ACTION_CODE_LENGTH, AuditBase
from shared.db.models.audit_models.audit_chain import entry_is_intact
from shared.db.models.base_model import EntityBase, new_id, utc_now
from shared.db.repositories.audit_repository.audit_repository import (
    AuditPage,
    AuditRepository,
)
from shared.db.repositories.repository import Repository
from shared.db.repositories.table_repository import ConditionsNotMetError, TableRepository
from shared.db.transaction import after_commit, transaction
from shared.errors import (
    ConflictError,
    DomainError,
    GoneError,
    HookContractError,
    MissingPerformerError,
    NotDeletedError,
    NotFoundError,
    PreconditionFailedError,
    SnapshotMismatchError,
    StillReferencedError,
    TamperedEntryError,
    TargetNotLiveError,
    UniqueValueTakenError,
    UnknownReferenceError,
)
from shared.logging.context import RequestContext
from shared.logging.logger import get_logger
from shared.models.dto_base import InputDTO, ListQuery, PageQuery, UpdateDTO
from shared.models.minimal_user import MinimalUser
from shared.services.references import (
    CASCADE,
    Reference,
    count_live_referrers,
    live_referrers,
    live_target,
    lock_for_delete,
    references_of,
    target_problem,
    targets_by_id,
)

EntityT = TypeVar("EntityT", bound=EntityBase)
AuditT = TypeVar("AuditT", bound=AuditBase)
CreateT = TypeVar("CreateT", bound=InputDTO)
UpdateT = TypeVar("UpdateT", bound=UpdateDTO)

# The four changes every feature audits; a feature's action-code enum has one member for each,
# its value the feature's name and the change (PRODUCT_CREATED ... PRODUCT_RESTORED). A
# feature's own commands add theirs (``extra_actions``; see ``perform``).
CHANGE_KINDS = ("CREATED", "UPDATED", "DELETED", "RESTORED")
# A command's kind: upper-case words joined by underscores (PLACED, SHIPPED_ABROAD).
ACTION_KIND_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# The hooks and the number of parameters each takes, the acting user included. A hook written
# before hooks received the user (release 0.2.0) still works: it is called without it.
HOOK_PARAMETERS = {
    "validate_create": 2,
    "validate_update": 3,
    "validate_delete": 2,
    "validate_restore": 2,
    "prepare_change": 3,
    "after_change": 3,
}
# The columns every entity has (id, version, timestamps): a snapshot holds them beside the
# feature's own fields, and a revert never sets them from it.
ENTITY_COLUMNS = frozenset(EntityBase.model_fields)
# How a reference to a row that is not live is refused: a request's new value is not valid
# (422); a restore or a revert that would bring one back conflicts with the stored data (409).
ReferenceRefusal = Callable[[str, str], DomainError]


def _unknown_reference(message: str, field: str) -> DomainError:
    return UnknownReferenceError(message, field)


def _target_not_live(message: str, field: str) -> DomainError:
    return TargetNotLiveError(f"{message}: restore it first, or change {field}")


@dataclass(frozen=True)
class ChangeOrigin:
    """Where a change comes from, beyond its user: recorded on its audit row.

    The API passes the id it gave the request and the caller's own X-Request-ID, if the caller
    sent an acceptable one; a script or the CLI may pass nothing.
    """

    request_id: str | None = None
    caller_request_id: str | None = None

    @classmethod
    def of(cls, request: RequestContext | None) -> "ChangeOrigin":
        """The origin of a change made by ``request`` (outside a request: an empty origin)."""
        if request is None:
            return cls()
        return cls(request.request_id, request.caller_request_id)


class AuditedEditorService(Generic[EntityT, AuditT, CreateT, UpdateT]):
    """Create, read, change, soft-delete and restore one feature's entities, each change audited.

    A feature's service only names its four types::

        class ProductEditorService(
            AuditedEditorService[Product, ProductAudit, ProductCreate, ProductUpdate]
        ): ...

    and everything else follows from them: the feature's name is its table's (``product``),
    its repositories are the ones declared for its two tables, its action codes are its audit
    table's (and ``extra_actions``), its unique fields are its table's unique columns. The
    seed's verbs (``create_product = AuditedEditorService.seed_create`` ...) call
    :meth:`create` and the others as the feature's service has them, and the routes call the
    seed's verbs: overriding either name changes both.

    Business rules go in a feature's service as overrides of the hooks. Each receives the
    acting user; a validation refuses by raising a DomainError (``shared.errors``), which
    rolls the whole change back:

    - ``validate_create(values, user)``: before a new entity is stored;
    - ``validate_update(entity, updates, user)``: before the fields in ``updates`` change (a
      revert and a command run it too);
    - ``validate_delete(entity, user)``, ``validate_restore(entity, user)``: before a soft
      delete, before a restore;
    - ``prepare_change(entity, action, user)``: before the row is written; what it sets on
      the entity is stored, in the audit snapshot and in the change's old and new values;
    - ``after_change(entity, action, user)``: after the row and its audit row are written, in
      the same transaction, for writes to other tables through their own services (which join
      the transaction, audited). Changing the entity there is refused with a
      :class:`~shared.errors.HookContractError`: it would be a version with no audit row.
    """

    # Read from the subclass's type arguments and tables when it is defined (see below).
    entity_model: ClassVar[type[EntityBase]]
    audit_model: ClassVar[type[AuditBase]]
    create_model: ClassVar[type[InputDTO]]
    update_model: ClassVar[type[UpdateDTO]]
    name: ClassVar[str]
    noun: ClassVar[str]
    actions: ClassVar[type[StrEnum]]
    # The codes its audit rows may hold: ``actions``, and those of its earlier names (rows
    # written before a rename keep them); what the audit trail's schema lists.
    recorded_actions: ClassVar[type[StrEnum]]
    # Fields whose values no two rows may share. Their unique constraints refuse a taken value
    # (no query looks first: it would cost a round trip and could race anyway), and the
    # refusal is turned into a conflict that names the field.
    unique_fields: ClassVar[tuple[str, ...]]
    # Decimal fields and their scale: values are rounded to it, as the database stores them,
    # so that the entity in memory is the row as stored and needs no reload after a write.
    decimal_scales: ClassVar[dict[str, int]]
    # The feature's own fields: its table's columns but those every entity has.
    field_names: ClassVar[tuple[str, ...]]
    # The kinds of the feature's own audited commands (``perform``): ("PLACED",) is recorded
    # as PRODUCT_PLACED.
    extra_actions: ClassVar[tuple[str, ...]] = ()
    # The feature's references to rows of other features (its table's foreign keys).
    references: ClassVar[tuple[Reference, ...]] = ()
    # Every feature's service by its table's name: a delete finds the rows that refer to it.
    by_table: ClassVar[dict[str, type["AuditedEditorService[Any, Any, Any, Any]"]]] = {}

    # The feature's repository classes, which its service names (``repository_type =
    # ProductRepository``); each service makes one of each with its session.
    repository_type: ClassVar[type[Repository[Any]]]
    audit_repository_type: ClassVar[type[AuditRepository[Any]]]
    repository: Repository[EntityT]
    audit_repo: AuditRepository[AuditT]

    def __init__(self, session: Session, origin: ChangeOrigin | None = None) -> None:
        self.session = session
        self.origin = origin or ChangeOrigin()
        self.repository = self.repository_type(session)
        self.audit_repo = self.audit_repository_type(session)
        # The seed's name for the feature's repository: ``product_repo``.
        setattr(self, f"{self.name}_repo", self.repository)
        self.logger = get_logger(type(self).__module__)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Learn the feature from the subclass's type arguments, and check it at import."""
        super().__init_subclass__(**kwargs)
        arguments = next(
            (
                get_args(base)
                # Its own bases only: a subclass made by type() would find its parent's.
                for base in cls.__dict__.get("__orig_bases__", ())
                if get_origin(base) is AuditedEditorService
            ),
            None,
        )
        if arguments is None:
            # A subclass of a feature's service (a team's, or a test's): its hooks and its
            # commands are checked, the feature is its parent's.
            _adapt_hooks(cls)
            _check_extra_actions(cls)
            _check_repositories(cls)
            cls.actions = _with_extra_actions(cls.audit_actions(), cls.name, cls.extra_actions)
            cls.recorded_actions = _with_earlier_names(cls.actions, cls.name, cls.audit_model)
            return
        cls.entity_model, cls.audit_model, cls.create_model, cls.update_model = arguments
        cls.name = str(cls.entity_model.__tablename__)
        cls.noun = cls.name.replace("_", " ")
        cls.references = references_of(cls.entity_model)
        AuditedEditorService.by_table[cls.name] = cls
        _adapt_hooks(cls)
        _check_extra_actions(cls)
        standard = cls.audit_actions()
        cls.actions = _with_extra_actions(standard, cls.name, cls.extra_actions)
        cls.recorded_actions = _with_earlier_names(cls.actions, cls.name, cls.audit_model)
        _check_repositories(cls)
        columns = cls.entity_model.__table__.columns  # type: ignore[attr-defined]
        cls.field_names = tuple(
            column.name for column in columns if column.name not in ENTITY_COLUMNS
        )
        cls.unique_fields = tuple(column.name for column in columns if column.unique)
        cls.decimal_scales = {
            column.name: column.type.scale
            for column in columns
            if isinstance(column.type, sa.Numeric)
            and not isinstance(column.type, sa.Float)
            and column.type.scale is not None
        }
        values = {member.value for member in standard}
        missing = [code for code in _action_codes(cls.name) if code not in values]
        if missing:
            msg = f"{standard.__name__} lacks the action codes {', '.join(missing)}"
            raise TypeError(msg)

    @classmethod
    def referrers(
        cls,
    ) -> list[tuple[type["AuditedEditorService[Any, Any, Any, Any]"], Reference]]:
        """The features whose references point at this one's rows, with each reference."""
        return [
            (service, reference)
            for service in AuditedEditorService.by_table.values()
            for reference in service.references
            if reference.target == cls.name
        ]

    @classmethod
    def audit_actions(cls) -> type[StrEnum]:
        """The feature's action-code enum, as its audit table declares it (the four changes)."""
        annotation = cls.audit_model.model_fields["action_code"].annotation
        # ``ProductAuditActionCodeEnum | str``: the enum, and the text of a command's code.
        codes: type[StrEnum] = next(
            argument
            for argument in (*get_args(annotation), annotation)
            if isinstance(argument, type) and issubclass(argument, StrEnum)
        )
        return codes

    def action(self, kind: str) -> StrEnum:
        """The action code of a change of ``kind``: ``UPDATED`` is ``PRODUCT_UPDATED``."""
        return self.actions(f"{self.name.upper()}_{kind}")

    # -- The seed's verbs ----------------------------------------------------------------
    # A feature's service names them as the seed does (``create_product =
    # AuditedEditorService.seed_create``); each calls the verb as the service has it, so an
    # override of ``create`` is what ``create_product`` runs too.

    def seed_get(self, entity_id: str) -> EntityT:
        """``get_<feature>``: :meth:`get`, as the feature's service has it."""
        return self.get(entity_id)

    def seed_list(self, query: ListQuery) -> tuple[list[EntityT], int | None]:
        """``list_<features>``: :meth:`list_page`, as the feature's service has it."""
        return self.list_page(query)

    def seed_create(self, data: CreateT, created_by_user: MinimalUser) -> EntityT:
        """``create_<feature>``: :meth:`create`, as the feature's service has it."""
        return self.create(data, created_by_user)

    def seed_update(
        self,
        entity_id: str,
        data: UpdateT,
        updated_by_user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> EntityT:
        """``update_<feature>``: :meth:`update`, as the feature's service has it."""
        return self.update(entity_id, data, updated_by_user, expected_versions)

    def seed_delete(
        self,
        entity_id: str,
        deleted_by_user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> EntityT:
        """``delete_<feature>``: :meth:`delete`, as the feature's service has it."""
        return self.delete(entity_id, deleted_by_user, expected_versions)

    def seed_restore(
        self,
        entity_id: str,
        restored_by_user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> EntityT:
        """``restore_<feature>``: :meth:`restore`, as the feature's service has it."""
        return self.restore(entity_id, restored_by_user, expected_versions)

    # -- Business-rule hooks: a feature overrides these ----------------------------------

    def validate_create(self, values: dict[str, Any], user: MinimalUser) -> None:
        """Refuse a new entity that breaks a business rule, by raising a DomainError."""

    def validate_update(self, entity: EntityT, updates: dict[str, Any], user: MinimalUser) -> None:
        """Refuse a change (``updates``: the fields that change) by raising a DomainError."""

    def validate_delete(self, entity: EntityT, user: MinimalUser) -> None:
        """Refuse to soft-delete ``entity``, by raising a DomainError."""

    def validate_restore(self, entity: EntityT, user: MinimalUser) -> None:
        """Refuse to bring back the soft-deleted ``entity``, by raising a DomainError."""

    def prepare_change(self, entity: EntityT, action: StrEnum, user: MinimalUser) -> None:
        """Set fields of ``entity`` before the change is written: they are stored and audited."""

    def after_change(self, entity: EntityT, action: StrEnum, user: MinimalUser) -> None:
        """React to a written change, inside its transaction, by writing to other tables.

        Another feature's service made with ``self.session`` joins this change's transaction:
        its changes commit with this one, audited, or roll back with it.
        """

    # -- Reads ----------------------------------------------------------------------------

    def get(self, entity_id: str) -> EntityT:
        """Return a live entity.

        Raises:
            NotFoundError: no entity has this id, or it is soft-deleted.
        """
        entity = self.repository.get(entity_id)
        if entity is None or entity.deleted_at is not None:
            msg = f"{self.noun} {entity_id} not found"
            raise NotFoundError(msg)
        return entity

    def list_page(self, query: ListQuery) -> tuple[list[EntityT], int | None]:
        """Return one page of entities matching ``query`` (one more if more follow; see
        ``PageQuery.page``) and, with ``include_total``, the count of all matches."""
        return self.repository.list_page(query)

    def expansions(
        self, rows: Sequence[EntityT], names: Sequence[str]
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """The rows that the references ``names`` of ``rows`` point at, by field, then by id.

        What ``?expand=`` embeds in each row: one query per name, whatever the number of rows.
        """
        by_field = {reference.field: reference for reference in self.references}
        return {
            name: targets_by_id(
                self.session,
                by_field[name],
                {target for row in rows if (target := getattr(row, name)) is not None},
            )
            for name in names
        }

    def expansions_as_of(
        self, row: Mapping[str, Any], names: Sequence[str], moment: datetime
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """:meth:`expansions` of a row read as of ``moment``: its targets as they were then.

        A target that did not exist yet, or was deleted, at ``moment`` is left out (null).
        """
        by_field = {reference.field: reference for reference in self.references}
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for name in names:
            target_id, reference = row.get(name), by_field[name]
            targets = AuditedEditorService.by_table[reference.target](self.session, self.origin)
            try:
                found[name] = {target_id: targets.get_as_of(target_id, moment)} if target_id else {}
            except (NotFoundError, GoneError):
                found[name] = {}
        return found

    def get_audit_trail(self, entity_id: str) -> list[AuditT]:
        """Return the audit trail of an entity, soft-deleted or not, newest first.

        Raises:
            NotFoundError: no entity has this id.
        """
        self._get_including_deleted(entity_id)
        return self.audit_repo.get_trail(entity_id)

    def get_as_of(self, entity_id: str, moment: datetime) -> dict[str, Any]:
        """Return an entity as it was at ``moment``, from its newest audit snapshot by then.

        The answer has the read model's shape: the snapshot's id, version and timestamps, and
        its fields as the current schema reads them (see :meth:`fit_snapshot`).

        Raises:
            NotFoundError: no entity has this id, or it did not exist yet at ``moment``.
            GoneError: the entity was deleted at ``moment``.
            SnapshotMismatchError: the snapshot no longer fits the entity's current fields.
            TamperedEntryError: the entry read was changed after it was written.
        """
        self._get_including_deleted(entity_id)
        entry = self.audit_repo.get_as_of(entity_id, moment)
        if entry is None:
            msg = f"{self.noun} {entity_id} did not exist yet at {moment.isoformat()}"
            raise NotFoundError(msg)
        self._check_intact(entry)
        snapshot = entry.data_snapshot or {}
        if snapshot.get("deleted_at") is not None:
            msg = f"{self.noun} {entity_id} was deleted at {moment.isoformat()}"
            raise GoneError(msg)
        # A read shows what the fields now are: a value of a field dropped since is history
        # (the trail keeps it), not a reason to refuse the read; a revert refuses it.
        fields = self.fit_snapshot(entry, refuse_dropped=False)
        columns = {column: snapshot.get(column) for column in ENTITY_COLUMNS}
        return {**columns, **fields}

    def fit_snapshot(self, entry: AuditT, *, refuse_dropped: bool = True) -> dict[str, Any]:
        """The feature's fields as an audit entry's snapshot holds them, read as a create would.

        A field renamed since is read under its name now, a value of a field's earlier type as
        its type now (an int as a decimal, a date as midnight UTC); a field added since takes its
        default (or null, if it is optional), and so does a null of a field made required since; a
        field removed since is left out if the snapshot held null for it, or with
        ``refuse_dropped=False``.

        Raises:
            SnapshotMismatchError: the entry holds no snapshot; a removed field held a value
                (unless ``refuse_dropped=False``);
                an added field has no default; a value no longer passes the field's rules.
        """
        if entry.data_snapshot is None:
            msg = f"audit entry {entry.id} holds no snapshot"
            raise SnapshotMismatchError(msg)
        # Field names never come back once given up, so an old name means that field.
        renamed = self.entity_model.renamed_fields
        snapshot = {
            renamed.get(field, field): value for field, value in entry.data_snapshot.items()
        }
        for field, change in self.entity_model.retyped_fields.items():
            if field in snapshot and change in SNAPSHOT_CONVERSIONS:
                snapshot[field] = SNAPSHOT_CONVERSIONS[change](snapshot[field])
        fields = self.create_model.model_fields
        removed = sorted(
            field
            for field, value in snapshot.items()
            if field not in fields and field not in ENTITY_COLUMNS and value is not None
        )
        if removed and refuse_dropped:
            msg = (
                f"audit entry {entry.id} holds values for {', '.join(removed)}, which the "
                f"{self.noun} no longer has"
            )
            raise SnapshotMismatchError(msg)
        # A null of a field made required since reads as its default, as the migration that
        # made it required filled the rows.
        columns = sa.inspect(self.entity_model).columns
        values = {
            field: value
            for field, value in snapshot.items()
            if field in fields and (value is not None or columns[field].nullable)
        }
        try:
            # Parsed from JSON, as the snapshot was written and as a create body would be.
            data = self.create_model.model_validate_json(json.dumps(values))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
                for issue in error.errors()
            )
            msg = f"audit entry {entry.id} no longer fits the {self.noun}'s fields ({problems})"
            raise SnapshotMismatchError(msg) from None
        return self._as_stored(data.model_dump())

    def get_audit_page(self, entity_id: str, query: PageQuery, max_bytes: int) -> AuditPage[AuditT]:
        """Return one page of an entity's audit trail, newest first: up to ``query.limit``
        entries and about ``max_bytes`` (one entry at least), whether more follow, and, with
        ``include_total``, the trail's length.

        Raises:
            NotFoundError: no entity has this id.
        """
        self._get_including_deleted(entity_id)
        return self.audit_repo.get_page(entity_id, query, max_bytes)

    # -- Changes --------------------------------------------------------------------------

    def create(
        self, data: CreateT, created_by_user: MinimalUser, *, entity_id: str | None = None
    ) -> EntityT:
        """Create an entity and its CREATED audit row.

        ``entity_id`` keeps an id made elsewhere (an import's, a test's known row); by default
        the entity gets a new one.

        Raises:
            UniqueValueTakenError: a unique field's value is taken.
            UnknownReferenceError: a reference names no live row of its target.
        """
        values = self._as_stored(data.model_dump())
        with self._naming_conflicts(values), transaction(self.session):
            self.validate_create(values, created_by_user)
            # One moment for the whole change: created, last updated, and audited then.
            now = utc_now()
            entity = self.repository.model(
                **values, id=entity_id or new_id(), created_at=now, updated_at=now
            )
            self._write(entity, "CREATED", created_by_user, now=now)
        self._log(entity.id, "created", created_by_user)
        return entity

    def update(
        self,
        entity_id: str,
        data: UpdateT,
        updated_by_user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> EntityT:
        """Apply the fields sent in ``data``; audit them with old and new values.

        A request that changes nothing writes nothing, not even an audit row.
        ``expected_versions`` (from If-Match) are the versions the change may apply to.

        Raises:
            NotFoundError: no live entity has this id.
            UniqueValueTakenError: a unique field's new value is taken.
            UnknownReferenceError: a reference's new value names no live row of its target.
            PreconditionFailedError: the entity is at another version, or another writer
                changed it first.
        """
        sent = self._as_stored(data.changes())
        with self._change(entity_id, sent):
            entity = self.get(entity_id)
            self._check_version(entity, expected_versions)
            updates = _differences(entity, sent)
            if updates:
                self.validate_update(entity, updates, updated_by_user)
                before = self._fields(entity)
                _assign(entity, updates)
                self._write(entity, "UPDATED", updated_by_user, before=before)
        if updates:
            self._log(entity_id, "updated", updated_by_user, fields=list(updates))
        return entity

    def delete(
        self,
        entity_id: str,
        deleted_by_user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> EntityT:
        """Soft-delete an entity: it leaves lists and reads, its row and trail stay.

        Rows of other features that refer to it follow their reference's ``on_delete``:
        ``restrict`` refuses the delete while live ones do; ``cascade`` soft-deletes them in
        the same transaction, each audited, every audit row under the change's request id.

        Raises:
            NotFoundError: no live entity has this id.
            StillReferencedError: live rows refer to it through a ``restrict`` reference.
            PreconditionFailedError: the entity is at another version, or another writer
                changed it first.
        """
        # A cascade gives a change made outside a request an id of its own (see below).
        origin = self.origin
        try:
            with self._change(entity_id):
                entity = self.get(entity_id)
                self._check_version(entity, expected_versions)
                self.validate_delete(entity, deleted_by_user)
                self._delete_referrers(entity, deleted_by_user)
                before = self._fields(entity)
                now = utc_now()
                entity.deleted_at = now
                self._write(entity, "DELETED", deleted_by_user, before=before, now=now)
        finally:
            self.origin = origin
        self._log(entity_id, "deleted", deleted_by_user)
        return entity

    def restore(
        self,
        entity_id: str,
        restored_by_user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> EntityT:
        """Bring a soft-deleted entity back.

        Raises:
            NotFoundError: no entity has this id.
            NotDeletedError: the entity is not deleted.
            TargetNotLiveError: a reference of the entity points at a row that is deleted.
            PreconditionFailedError: the entity is at another version, or another writer
                changed it first.
        """
        with self._change(entity_id):
            entity = self._get_including_deleted(entity_id)
            self._check_version(entity, expected_versions)
            if entity.deleted_at is None:
                msg = f"{self.noun} {entity_id} is not deleted"
                raise NotDeletedError(msg)
            self.validate_restore(entity, restored_by_user)
            before = self._fields(entity)
            entity.deleted_at = None
            self._write(
                entity, "RESTORED", restored_by_user, before=before, refusal=_target_not_live
            )
        self._log(entity_id, "restored", restored_by_user)
        return entity

    def revert(
        self,
        entity_id: str,
        entry_id: str,
        reverted_by_user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> EntityT:
        """Set the entity's fields to an audit entry's snapshot, as one audited UPDATED change.

        The audit row's description names the entry and its changes hold old and new values,
        as an update's do. A deleted entity is restored by the revert (its row says so); a
        revert never deletes. A revert that changes nothing writes nothing, like an update.
        It runs ``validate_update`` (and ``validate_restore`` when it restores).

        Raises:
            NotFoundError: no entity has this id, or it has no audit entry with ``entry_id``.
            SnapshotMismatchError: the snapshot no longer fits the entity's current fields.
            TamperedEntryError: the entry was changed after it was written.
            UniqueValueTakenError: a unique field's restored value is taken.
            TargetNotLiveError: a reference it would bring back points at a row that is
                deleted or gone.
            PreconditionFailedError: the entity is at another version, or another writer
                changed it first.
        """
        # Filled in below, so that a unique conflict can name the field and its value.
        target: dict[str, Any] = {}
        with self._change(entity_id, target):
            entity = self._get_including_deleted(entity_id)
            entry = self.audit_repo.get_entry(entity_id, entry_id)
            if entry is None:
                msg = f"{self.noun} {entity_id} has no audit entry {entry_id}"
                raise NotFoundError(msg)
            self._check_version(entity, expected_versions)
            self._check_intact(entry)
            target.update(self.fit_snapshot(entry))
            updates = _differences(entity, target)
            restoring = entity.deleted_at is not None
            if updates or restoring:
                if updates:
                    self.validate_update(entity, updates, reverted_by_user)
                restored: dict[str, Any] = {}
                note = f"reverted to entry {entry.id}"
                if restoring:
                    self.validate_restore(entity, reverted_by_user)
                    restored["deleted_at"] = {
                        "old": to_jsonable_python(entity.deleted_at),
                        "new": None,
                    }
                    entity.deleted_at = None
                    note = f"{note}, restoring the deleted {self.noun}"
                before = self._fields(entity)
                _assign(entity, updates)
                self._write(
                    entity,
                    "UPDATED",
                    reverted_by_user,
                    before=before,
                    note=note,
                    also=restored,
                    refusal=_target_not_live,
                    every_reference=restoring,
                )
        if updates or restoring:
            self._log(
                entity_id, "reverted", reverted_by_user, entry_id=entry_id, fields=list(updates)
            )
        return entity

    def perform(
        self,
        entity_id: str,
        kind: str,
        user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
        change: Callable[[EntityT], None] | None = None,
    ) -> EntityT:
        """Apply one of the feature's own commands to a live entity, audited as ``kind``.

        ``kind`` is one of the service's ``extra_actions`` (``"PLACED"``, recorded as
        ``INVOICE_PLACED``); ``change(entity)`` sets the fields the command changes (none: the
        command is an event in the trail), and may refuse by raising a DomainError. The command
        has every guarantee of an update: one transaction, the version check (If-Match), the
        hooks (``validate_update`` sees the fields it changes), an audit row with old and new
        values in the chain and the change feed, a log event. It always writes a version.

        Raises:
            NotFoundError: no live entity has this id.
            UniqueValueTakenError: a unique field's new value is taken.
            PreconditionFailedError: the entity is at another version, or another writer
                changed it first.
            ValueError: ``kind`` is not one of the service's ``extra_actions``.
        """
        if kind not in self.extra_actions:
            msg = (
                f"{type(self).__name__} has no command {kind!r}: add it to extra_actions "
                f"(it has {', '.join(self.extra_actions) or 'none'})"
            )
            raise ValueError(msg)
        # Filled in below, so that a unique conflict can name the field and its value.
        updates: dict[str, Any] = {}
        with self._change(entity_id, updates):
            entity = self.get(entity_id)
            self._check_version(entity, expected_versions)
            before = self._fields(entity)
            if change is not None:
                change(entity)
            updates.update(self._as_stored(_differences(before, self._fields(entity))))
            # The rule sees the entity as stored and the fields the command changes.
            _assign(entity, {field: before[field] for field in updates})
            self.validate_update(entity, updates, user)
            _assign(entity, updates)
            self._write(entity, kind, user, before=before)
        self._log(entity_id, kind.lower(), user, fields=list(updates))
        return entity

    # -- Machinery ------------------------------------------------------------------------

    @contextmanager
    def _change(self, entity_id: str, values: dict[str, Any] | None = None) -> Iterator[None]:
        """The transaction of a change to a stored row; a lost race names the current version."""
        try:
            with self._naming_conflicts(values), transaction(self.session):
                yield
        except PreconditionFailedError as error:
            if error.current_version is not None:
                raise
            current = self.repository.get(entity_id)
            version = None if current is None else current.version
            raise PreconditionFailedError(str(error), current_version=version) from error

    def _check_version(self, entity: EntityT, expected_versions: frozenset[int] | None) -> None:
        if expected_versions is None or entity.version in expected_versions:
            return
        msg = f"{self.noun} {entity.id} is at version {entity.version}"
        raise PreconditionFailedError(msg, current_version=entity.version)

    def _check_intact(self, entry: AuditT) -> None:
        """Refuse to act on an audit entry whose content no longer has its hash.

        Raises:
            TamperedEntryError: the entry was changed (or its hash removed) after it was written.
        """
        # Every entry written by this release has the second form: only an older one's form
        # is looked up.
        if entry_is_intact(entry):
            return
        if not entry_is_intact(entry, self.audit_repo.legacy_form(entry.id)):
            msg = (
                f"audit entry {entry.id} of {self.noun} {entry.entity_id} was changed after it "
                "was written: its content no longer matches its hash (`audit verify` reports it)"
            )
            raise TamperedEntryError(msg)

    def _get_including_deleted(self, entity_id: str) -> EntityT:
        entity = self.repository.get(entity_id)
        if entity is None:
            msg = f"{self.noun} {entity_id} not found"
            raise NotFoundError(msg)
        return entity

    @contextmanager
    def _naming_conflicts(self, values: dict[str, Any] | None) -> Iterator[None]:
        """Name the field of a unique constraint that refused ``values`` in the conflict."""
        try:
            yield
        except ConflictError as error:
            field = self._refused_unique_field(error.__cause__)
            if field is None or values is None or field not in values:
                raise
            msg = f"another {self.noun} already has this {field}: {values[field]!r}"
            raise UniqueValueTakenError(msg) from error

    def _refused_unique_field(self, cause: BaseException | None) -> str | None:
        """The unique field whose constraint raised ``cause``, if it is such a refusal."""
        if not isinstance(cause, IntegrityError):
            return None
        # PostgreSQL names the constraint (uq_<table>_<field>, see base_model); SQLite says
        # "UNIQUE constraint failed: <table>.<field>".
        constraint = getattr(getattr(cause.orig, "diag", None), "constraint_name", None)
        message = str(cause.orig)
        for field in self.unique_fields:
            if constraint == f"uq_{self.name}_{field}" or message.startswith(
                f"UNIQUE constraint failed: {self.name}.{field}"
            ):
                return field
        return None

    def _as_stored(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` as the database stores them: decimals rounded to their column's scale."""
        stored = dict(values)
        for field, scale in self.decimal_scales.items():
            value = stored.get(field)
            if isinstance(value, Decimal):
                # Enough digits for any value the column takes, so that rounding never fails.
                context = Context(prec=len(value.as_tuple().digits) + scale + 1)
                stored[field] = value.quantize(Decimal(1).scaleb(-scale), context=context)
        return stored

    def _fields(self, entity: EntityT) -> dict[str, Any]:
        """The feature's own fields of ``entity`` and their values."""
        return {field: getattr(entity, field) for field in self.field_names}

    def _write(
        self,
        entity: EntityT,
        kind: str,
        user: MinimalUser,
        *,
        before: dict[str, Any] | None = None,
        now: datetime | None = None,
        note: str | None = None,
        also: dict[str, Any] | None = None,
        refusal: ReferenceRefusal = _unknown_reference,
        every_reference: bool = False,
    ) -> None:
        """Write a change to ``entity`` and its audit row, with the hooks around them.

        ``before`` holds the feature's fields as stored (None for a new entity): the audit
        row's changes are the fields that differ from it once ``prepare_change`` has run, plus
        ``also``. The flush bumps the version. The targets of the references it sets (all of
        them, for a new entity, a restore or ``every_reference``) must be live rows, or
        ``refusal`` says why not.

        Raises:
            MissingPerformerError: ``user`` has an empty id or name (the change rolls back).
            HookContractError: ``after_change`` changed the entity.
        """
        if not user.id.strip() or not user.full_name.strip():
            msg = "a change needs a performer with an id and a name (system_user for the service)"
            raise MissingPerformerError(msg)
        action = self.action(kind)
        self.prepare_change(entity, action, user)
        # What the hook set, as the database stores it (decimals at their scale).
        fields = self._fields(entity)
        _assign(entity, _differences(fields, self._as_stored(fields)))
        changes = None
        if before is not None:
            every_reference = every_reference or kind == "RESTORED"
            self._check_targets(entity, None if every_reference else before, refusal)
            changes = {**_old_and_new(before, self._fields(entity)), **(also or {})}
            entity.touch(now)
            self.repository.add(entity)
        else:
            self._insert_referring(entity, refusal)
        self._record(entity, action, user, changes or None, note)
        written = entity.model_dump()
        self.after_change(entity, action, user)
        if entity.model_dump() != written:
            msg = (
                f"{type(self).__name__}.after_change changed the {self.noun} it was given, after "
                "its audit row was written: set fields in prepare_change instead"
            )
            raise HookContractError(msg)

    def _insert_referring(self, entity: EntityT, refusal: ReferenceRefusal) -> None:
        """Insert a new entity, if the targets of its references are live rows.

        The INSERT itself checks them: a create pays no query for its references. Only a
        refused one reads them, to say which and why.
        """
        targets = [
            live_target(reference)
            for reference in self.references
            if getattr(entity, reference.field) is not None
        ]
        try:
            self.repository.add(entity, requires=targets)
        except ConditionsNotMetError as error:
            self._check_targets(entity, None, refusal)
            # Live now, not when the insert ran: a concurrent change of a target, finished.
            msg = f"a row this {self.noun} refers to changed while it was written: try again"
            raise ConflictError(msg) from error

    def _check_targets(
        self, entity: EntityT, before: dict[str, Any] | None, refusal: ReferenceRefusal
    ) -> None:
        """Refuse a reference to a row that is not live: those set since ``before``, or all."""
        # The entity's pending change is written after the check, with its version bump.
        with self.session.no_autoflush:
            for reference in self.references:
                target_id = getattr(entity, reference.field)
                unchanged = before is not None and before[reference.field] == target_id
                if target_id is None or unchanged:
                    continue
                if problem := target_problem(self.session, reference, target_id):
                    raise refusal(f"{reference.field}: {problem}", reference.field)

    def _delete_referrers(self, entity: EntityT, user: MinimalUser) -> None:
        """Apply each referring feature's ``on_delete`` to the live rows referring to ``entity``.

        Raises:
            StillReferencedError: live rows refer to it through a ``restrict`` reference.
        """
        referrers = self.referrers()
        if not referrers:
            return
        lock_for_delete(self.session, self.name, entity.id)
        for service, reference in referrers:
            if reference.on_delete != CASCADE:
                count = count_live_referrers(self.session, reference, entity.id)
                if count:
                    msg = (
                        f"{self.noun} {entity.id} is referred to by {count} live "
                        f"{service.noun} row(s) ({reference.owner}.{reference.field}, "
                        "on_delete=restrict): delete them or change their "
                        f"{reference.field} first"
                    )
                    raise StillReferencedError(msg)
        for service, reference in referrers:
            if reference.on_delete == CASCADE:
                ids = live_referrers(self.session, reference, entity.id)
                if ids and self.origin.request_id is None:
                    # One change: every row it deletes carries the same id in its audit row,
                    # this entity's included (``delete`` restores the origin afterwards).
                    self.origin = replace(self.origin, request_id=new_id())
                cascade = service(self.session, self.origin)
                for referrer_id in ids:
                    cascade.delete(referrer_id, user)

    def _record(
        self,
        entity: EntityT,
        action: StrEnum,
        user: MinimalUser,
        changes: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        """Append the audit row of a change, in the change's transaction."""
        description = action.value.replace("_", " ").capitalize()
        if note:
            description = f"{description}: {note}"
        if changes:
            description = f"{description}: {', '.join(changes)}"
        row: dict[str, Any] = {
            "id": new_id(),
            self.audit_model.entity_id_field(): entity.id,
            "performed_by_user_id": user.id,
            "performed_by_user_name": user.full_name,
            "action_code": action,
            "description": description,
            "data_snapshot": entity.model_dump(mode="json"),
            "changes": changes,
            "request_id": self.origin.request_id,
            "caller_request_id": self.origin.caller_request_id,
            # The change's own time, which the entity's updated_at shows too: a read as of
            # that time finds this version.
            "created_at": entity.updated_at,
        }
        # The chain: a new entity has no earlier row (no query); a later change reads its
        # entity's newest row's hash through the trail index. Writers to one entity are
        # serialised by the version check, so two rows never claim the same predecessor.
        if not action.value.endswith("_CREATED"):
            row["previous_hash"] = self.audit_repo.latest_hash(entity.id)
        self.audit_repo.append(row)

    def _log(self, entity_id: str, event: str, user: MinimalUser, **context: Any) -> None:
        """Log a change as ``<feature>.<event>`` with the entity's id, once it is committed."""
        ids = {f"{self.name}_id": entity_id, "user_id": user.id}
        after_commit(
            self.session, lambda: self.logger.info(f"{self.name}.{event}", **ids, **context)
        )


def _int_as_decimal(value: Any) -> Any:
    """A snapshot's int, as a decimal field reads it (a string of digits)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _date_as_datetime(value: Any) -> Any:
    """A snapshot's date (``2024-01-31``), as a datetime field reads it: midnight UTC."""
    is_date = isinstance(value, str) and len(value) == len("2024-01-31")
    return f"{value}T00:00:00Z" if is_date else value


# How a snapshot's value, written before a field's type changed, reads as its type now (the
# other lossless changes, int to float and str to text, read as they are).
SNAPSHOT_CONVERSIONS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("int", "decimal"): _int_as_decimal,
    ("date", "datetime"): _date_as_datetime,
}


def _action_codes(name: str) -> list[str]:
    return [f"{name.upper()}_{kind}" for kind in CHANGE_KINDS]


def _differences(stored: EntityBase | dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``values`` whose value differs from the entity's (or the stored values')."""
    if isinstance(stored, dict):
        return {field: value for field, value in values.items() if stored[field] != value}
    return {field: value for field, value in values.items() if getattr(stored, field) != value}


def _assign(entity: EntityBase, values: dict[str, Any]) -> None:
    for field, value in values.items():
        setattr(entity, field, value)


def _old_and_new(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """An audit row's ``changes``: each changed field's stored and new value, as JSON."""
    return {
        field: {"old": to_jsonable_python(before[field]), "new": to_jsonable_python(value)}
        for field, value in after.items()
        if before[field] != value
    }


def _with_extra_actions(standard: type[StrEnum], name: str, kinds: tuple[str, ...]) -> Any:
    """The feature's action codes: its enum's four, and one per command kind of its own."""
    if not kinds:
        return standard
    prefix = name.upper()
    members = [(member.name, member.value) for member in standard]
    members += [(f"{prefix}_{kind}", f"{prefix}_{kind}") for kind in kinds]
    # The same name as the feature's enum: it is the one schema of action codes the API shows.
    return StrEnum(standard.__name__, members, module=standard.__module__)


def _with_earlier_names(actions: type[StrEnum], name: str, audit_model: type[AuditBase]) -> Any:
    """The codes audit rows may hold: ``actions``, and each of them under an earlier name.

    Rows written before the feature was renamed keep the codes of its name then.
    """
    earlier = [table.removesuffix("_audit").upper() for table in audit_model.earlier_table_names]
    if not earlier:
        return actions
    prefix = f"{name.upper()}_"
    members = [(member.name, member.value) for member in actions]
    members += [
        (code, code)
        for before in earlier
        for member in actions
        if (code := f"{before}_{member.value.removeprefix(prefix)}") not in actions.__members__
    ]
    # The same name as the feature's enum: it is the one schema of action codes the API shows.
    return StrEnum(actions.__name__, members, module=actions.__module__)


def _check_extra_actions(service: type[AuditedEditorService[Any, Any, Any, Any]]) -> None:
    """Refuse, at import, a command kind that can't be an action code of its own."""
    for kind in service.extra_actions:
        if (
            not kind
            or not set(kind) <= ACTION_KIND_CHARACTERS
            or not kind[0].isalpha()
            or kind in CHANGE_KINDS
        ):
            msg = (
                f"{service.__name__}.extra_actions: {kind!r} must be upper-case words joined by "
                f"underscores, other than {', '.join(CHANGE_KINDS)}"
            )
            raise TypeError(msg)
        if len(f"{service.name}_{kind}") > ACTION_CODE_LENGTH:
            msg = (
                f"{service.__name__}.extra_actions: {service.name.upper()}_{kind} is longer "
                f"than an action code may be ({ACTION_CODE_LENGTH} characters)"
            )
            raise TypeError(msg)


def _check_repositories(service: type[AuditedEditorService[Any, Any, Any, Any]]) -> None:
    """Check the repository classes a feature's service names against its tables.

    A service written before it named them (release 0.2.0) gets those its repositories'
    modules declare for its tables.
    """
    for attribute, model in (
        ("repository_type", service.entity_model),
        ("audit_repository_type", service.audit_model),
    ):
        declared = service.__dict__.get(attribute)
        if declared is None:
            if not hasattr(service, attribute):
                setattr(service, attribute, TableRepository.for_model(model))
        elif declared.model is not model:
            msg = (
                f"{service.__name__}.{attribute} is {declared.__name__}, a repository of "
                f"{declared.model.__name__}, not of {model.__name__}"
            )
            raise TypeError(msg)


def _adapt_hooks(service: type[Any]) -> None:
    """Let a hook written without the ``user`` parameter (before 0.3.0) still be called."""
    for hook, count in HOOK_PARAMETERS.items():
        function = service.__dict__.get(hook)
        if function is None or not inspect.isfunction(function):
            continue
        parameters = list(inspect.signature(function).parameters.values())[1:]
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
            continue
        if len(parameters) == count - 1:
            warnings.warn(
                f"{service.__name__}.{hook} takes no user: add a ``user: MinimalUser`` "
                "parameter (every hook receives the acting user from 0.3.0 on)",
                DeprecationWarning,
                stacklevel=3,
            )
            setattr(service, hook, _called_without_user(function))


def _called_without_user(hook: Callable[..., None]) -> Callable[..., None]:
    def adapted(self: Any, *arguments: Any) -> None:
        hook(self, *arguments[:-1])

    adapted.__name__ = hook.__name__
    adapted.__doc__ = hook.__doc__
    return adapted
