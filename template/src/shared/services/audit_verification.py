"""Verify the audit trails of every feature: walk each entity's hash chain (see audit_chain).

Read-only: it reads each audit table once, entity by entity, in time order through the trail
index, streaming rows so that a large table does not have to fit in memory.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from sqlalchemy import column, table
from sqlmodel import Session, col, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.models.audit_models.audit_chain import BreakKind, ChainBreak, verify_chain

# Rows fetched per round trip while a table is walked.
BATCH_SIZE = 1000


@dataclass
class TrailVerification:
    """What the walk of one feature's audit table found."""

    table: str
    entities: int = 0
    rows: int = 0
    # Rows written before the chain existed (no hash): not evidence of tampering.
    legacy_rows: int = 0
    # The first broken link of every entity whose chain is broken.
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Whether no chain of this table is broken."""
        return not self.breaks


def rows_in_time_order(session: Session, model: type[AuditBase]) -> Iterator[AuditBase]:
    """Every row of one audit table, entity by entity, each entity's rows oldest first."""
    entity_id = col(getattr(model, model.entity_id_field()))
    statement = (
        select(model)
        .order_by(entity_id, col(model.created_at), col(model.id))
        .execution_options(yield_per=BATCH_SIZE)
    )
    yield from session.exec(statement)


def entity_versions(session: Session, model: type[AuditBase]) -> dict[str, int]:
    """The current version of every entity the audit table ``model`` is the trail of."""
    entities = table(model.table_name().removesuffix("_audit"), column("id"), column("version"))
    rows = session.connection().execute(select(entities.c.id, entities.c.version))
    return {row.id: row.version for row in rows}


def verify_trail(session: Session, model: type[AuditBase]) -> TrailVerification:
    """Walk every chain of one audit table and report the first broken link of each."""
    name = model.table_name()
    result = TrailVerification(name)
    versions = entity_versions(session, model)
    for entity_id, rows in groupby(rows_in_time_order(session, model), key=_entity_of):
        trail = list(rows)
        report = verify_chain(name, trail)
        result.entities += 1
        result.rows += report.rows
        result.legacy_rows += report.legacy_rows
        broken = report.broken or _newest_entries_missing(name, trail[-1], versions.get(entity_id))
        if broken is not None:
            result.breaks.append(broken)
    return result


def _newest_entries_missing(
    name: str, newest: AuditBase, current_version: int | None
) -> ChainBreak | None:
    """A break if the trail ends before the entity's current version: its tail was removed.

    A chain can't show that its newest rows are gone (nothing points at them), but every
    audited change bumps the entity's version and snapshots it, so the newest remaining row
    must hold the version the entity is at. Only hashed rows are held to it: a legacy row's
    snapshot comes from a release that did not promise it.
    """
    snapshot = newest.data_snapshot or {}
    recorded = snapshot.get("version")
    if newest.row_hash is None or current_version is None or not isinstance(recorded, int):
        return None
    if recorded >= current_version:
        return None
    return ChainBreak(
        name,
        newest.entity_id,
        newest.id,
        BreakKind.REMOVED,
        f"the entries after it are missing: the entity is at version {current_version}, "
        f"its trail ends at version {recorded}",
    )


def verify_trails(
    session: Session, models: Iterable[type[AuditBase]]
) -> Sequence[TrailVerification]:
    """Walk every chain of each of the audit tables ``models``."""
    return [verify_trail(session, model) for model in models]


def _entity_of(row: AuditBase) -> str:
    return row.entity_id
