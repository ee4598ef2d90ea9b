"""Verify the audit trails of every feature: each entity's hash chain, and the entity against it.

For every entity of a feature (those without a single audit row too):

- its chain (see audit_chain), where only the rows ``shared_0005`` listed may lack a hash;
- its trail is there at all: an entity with no audit row had all of them removed;
- its newest audit row against the entity's own row: the same version (an older one means the
  newest rows were removed) and the same values in every column (a difference means the row
  was changed without an audit row). A snapshot taken before a field changed is read as the
  field is now, as a revert would read it;
- given a checkpoint's heads (see audit_checkpoint), the hash it recorded as the entity's
  newest is still in the chain: a chain rewritten before it, hashes recomputed, no longer is.

Read-only, in bounded memory: entities are read a page at a time by id, and with each page the
audit rows of its entities, through the trail index. A writer that commits between the two
reads could make an entity look changed behind the audit's back, so such a finding is read
again, alone, before it is reported.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import and_
from sqlmodel import Session, col, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.models.audit_models.audit_chain import (
    BreakKind,
    ChainBreak,
    ChainReport,
    HashForm,
    canonical_json,
    verify_chain,
)
from shared.db.models.audit_models.audit_legacy import AuditLegacyEntry
from shared.db.models.base_model import EntityBase
from shared.errors import SnapshotMismatchError
from shared.services.audited_editor_service import ENTITY_COLUMNS, AuditedEditorService

# Entities read per round trip (with their audit rows in a second one).
ENTITY_PAGE_SIZE = 500
# What is checked against the entity's row, and could be a writer's commit seen half-way.
RECHECKED_KINDS = frozenset({BreakKind.REMOVED, BreakKind.UNRECORDED})

Editor = AuditedEditorService[Any, Any, Any, Any]
Trail = tuple[list[AuditBase], dict[str, HashForm]]


@dataclass
class TrailVerification:
    """What the walk of one feature's audit table found."""

    table: str
    entities: int = 0
    rows: int = 0
    # Rows written before the chain existed (no hash), as the migration listed them.
    legacy_rows: int = 0
    # The first break of every entity whose trail is broken.
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Whether no trail of this table is broken."""
        return not self.breaks


def verify_trails(
    session: Session,
    services: Iterable[type[Editor]],
    heads: Mapping[str, Mapping[str, str]] | None = None,
) -> Sequence[TrailVerification]:
    """Check every entity of each feature whose editor service is in ``services``.

    ``heads`` (audit table -> entity id -> row hash) are a checkpoint's: each must still be in
    its entity's chain.
    """
    return [
        verify_trail(session, service, _heads_of(service.audit_model, heads or {}))
        for service in services
    ]


def _heads_of(model: type[AuditBase], heads: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """A table's heads in a checkpoint, under any name it had (the newest name's last)."""
    found: dict[str, str] = {}
    for table in reversed(model.table_names()):
        found.update(heads.get(table, {}))
    return found


def verify_trail(
    session: Session, service: type[Editor], heads: Mapping[str, str] | None = None
) -> TrailVerification:
    """Check every entity of one feature against its audit trail (and a checkpoint's heads)."""
    editor = service(session)
    table = service.audit_model.table_name()
    result = TrailVerification(table)
    unseen = dict(heads or {})
    for entities in _entity_pages(session, service.entity_model):
        trails = _trails(session, service.audit_model, [entity.id for entity in entities])
        for entity in entities:
            head = unseen.pop(entity.id, None)
            report = _check(editor, entity, trails.get(entity.id, ([], {})), head)
            if report.broken is not None and report.broken.kind in RECHECKED_KINDS:
                report = _check_again(session, editor, entity.id, head) or report
            result.entities += 1
            result.rows += report.rows
            result.legacy_rows += report.legacy_rows
            if report.broken is not None:
                result.breaks.append(report.broken)
    # Entities a checkpoint recorded that are no longer there at all.
    result.breaks.extend(
        ChainBreak(table, entity_id, None, BreakKind.REMOVED, "the checkpoint holds it; it is gone")
        for entity_id in sorted(unseen)
    )
    return result


def _entity_pages(session: Session, model: type[EntityBase]) -> Iterator[list[EntityBase]]:
    """Every entity of a table (deleted ones too), a page at a time, in id order."""
    last: str | None = None
    while True:
        statement = select(model).order_by(col(model.id)).limit(ENTITY_PAGE_SIZE)
        if last is not None:
            statement = statement.where(col(model.id) > last)
        page = list(session.exec(statement))
        if not page:
            return
        yield page
        last = page[-1].id


def _trails(session: Session, model: type[AuditBase], entity_ids: list[str]) -> dict[str, Trail]:
    """The audit rows of these entities, oldest first, and the legacy form of those listed."""
    entity_id = col(getattr(model, model.entity_id_field()))
    listed = and_(
        col(AuditLegacyEntry.audit_table).in_(model.table_names()),
        col(AuditLegacyEntry.entry_id) == col(model.id),
    )
    statement = (
        select(model, AuditLegacyEntry.hash_form)
        .outerjoin(AuditLegacyEntry, listed)
        .where(entity_id.in_(entity_ids))
        .order_by(entity_id, col(model.created_at), col(model.id))
    )
    trails: dict[str, Trail] = {}
    for row, form in session.exec(statement):
        rows, forms = trails.setdefault(row.entity_id, ([], {}))
        rows.append(row)
        if form is not None:
            forms[row.id] = HashForm(form)
    return trails


def _check_again(
    session: Session, editor: Editor, entity_id: str, head: str | None
) -> ChainReport | None:
    """The check of one entity, read afresh (None if it is gone, which a check can't say)."""
    statement = (
        select(editor.entity_model)
        .where(col(editor.entity_model.id) == entity_id)
        .execution_options(populate_existing=True)
    )
    entity = session.exec(statement).first()
    if entity is None:
        return None
    trail = _trails(session, editor.audit_model, [entity_id]).get(entity_id, ([], {}))
    return _check(editor, entity, trail, head)


def _check(editor: Editor, entity: EntityBase, trail: Trail, head: str | None) -> ChainReport:
    """One entity's chain, a checkpoint's head in it, then its newest audit row against its row."""
    rows, forms = trail
    table = editor.audit_model.table_name()
    if not rows:
        detail = "it has no audit entries: every one of them was removed"
        return ChainReport(
            0, 0, ChainBreak(table, entity.id, None, BreakKind.REMOVED, detail), None
        )
    report = verify_chain(table, rows, forms)
    newest = rows[-1]
    # A legacy row's snapshot is of a release that made no promise about it.
    if report.broken is not None or newest.row_hash is None:
        return report
    broken = _against_the_checkpoint(table, entity.id, rows, head) or _against_the_entity(
        editor, entity, newest
    )
    if broken is None:
        return report
    return ChainReport(report.rows, report.legacy_rows, broken, None)


def _against_the_checkpoint(
    table: str, entity_id: str, rows: list[AuditBase], head: str | None
) -> ChainBreak | None:
    """A break if a checkpoint recorded a newest entry that the (intact) chain no longer holds."""
    if head is None or head in {row.row_hash for row in rows}:
        return None
    detail = "the entry the checkpoint recorded as its newest is not in its chain"
    return ChainBreak(table, entity_id, rows[-1].id, BreakKind.REWRITTEN, detail)


def _against_the_entity(editor: Editor, entity: EntityBase, newest: AuditBase) -> ChainBreak | None:
    """A break if the entity's row is not what its newest audit row recorded."""

    def broken(kind: BreakKind, detail: str) -> ChainBreak:
        return ChainBreak(newest.table_name(), entity.id, newest.id, kind, detail)

    snapshot = newest.data_snapshot or {}
    recorded = snapshot.get("version")
    if isinstance(recorded, int) and recorded < entity.version:
        return broken(
            BreakKind.REMOVED,
            f"the entries after it are missing: the {editor.noun} is at version "
            f"{entity.version}, its trail ends at version {recorded}",
        )
    live = entity.model_dump(mode="json")
    if canonical_json(live) == canonical_json(snapshot):
        return None
    differing = [name for name in sorted(ENTITY_COLUMNS) if live.get(name) != snapshot.get(name)]
    differing += _differing_fields(editor, entity, newest)
    if not differing:
        return None
    return broken(
        BreakKind.UNRECORDED,
        f"the {editor.noun}'s {', '.join(differing)} differ from its newest entry: it was "
        "changed without an audit entry",
    )


def _differing_fields(editor: Editor, entity: EntityBase, newest: AuditBase) -> list[str]:
    """The feature's fields whose value differs from the entry's, read as the fields are now."""
    try:
        recorded = editor.fit_snapshot(newest, refuse_dropped=False)
    except SnapshotMismatchError:
        return list(editor.field_names)
    return [
        name for name in editor.field_names if not _same(getattr(entity, name), recorded.get(name))
    ]


def _same(stored: Any, recorded: Any) -> bool:
    """Whether two values of a field are equal, as the database or as JSON would hold them."""
    if stored == recorded:
        return True
    return canonical_json(to_jsonable_python(stored)) == canonical_json(
        to_jsonable_python(recorded)
    )
