"""Verify the audit trails of every feature: walk each entity's hash chain (see audit_chain).

Read-only: it reads each audit table once, entity by entity, in time order through the trail
index, streaming rows so that a large table does not have to fit in memory.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from sqlmodel import Session, col, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.models.audit_models.audit_chain import ChainBreak, verify_chain

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


def verify_trail(session: Session, model: type[AuditBase]) -> TrailVerification:
    """Walk every chain of one audit table and report the first broken link of each."""
    table = model.table_name()
    result = TrailVerification(table)
    for _entity_id, rows in groupby(rows_in_time_order(session, model), key=_entity_of):
        report = verify_chain(table, list(rows))
        result.entities += 1
        result.rows += report.rows
        result.legacy_rows += report.legacy_rows
        if report.broken is not None:
            result.breaks.append(report.broken)
    return result


def verify_trails(
    session: Session, models: Iterable[type[AuditBase]]
) -> Sequence[TrailVerification]:
    """Walk every chain of each of the audit tables ``models``."""
    return [verify_trail(session, model) for model in models]


def _entity_of(row: AuditBase) -> str:
    return row.entity_id
