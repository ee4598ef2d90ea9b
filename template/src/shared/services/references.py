"""References between features: a row's ``ref`` field holds the id of a live row of its target.

A feature's table declares each reference as a foreign key (``Field(foreign_key="customer.id")``,
with the list index its filter reads) and, in ``on_target_delete``, what a soft delete of the
target does to the rows that refer to it: ``restrict`` refuses the delete while live rows do,
``cascade`` soft-deletes them in the same transaction, each with its own audit row.

The foreign key keeps out ids no row has, but a soft-deleted row is still a row: the editor
service checks that the target is live whenever a reference is set. A create's INSERT carries
the check (``live_target``), with no statement of its own; a change of the reference, a restore
and a revert read the target by primary key (``target_problem``). On PostgreSQL both take a
share lock on the target's row, and a delete of the target locks it for update before it
counts the rows that refer to it: a new reference and a delete of its target never both commit.
"""

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, func, select
from sqlmodel import Session, SQLModel

from shared.db.models.base_model import EntityBase

RESTRICT = "restrict"
CASCADE = "cascade"


@dataclass(frozen=True)
class Reference:
    """One reference field: the table that holds it, the field, and the table it points at."""

    owner: str
    field: str
    target: str
    on_delete: str


def references_of(model: type[EntityBase]) -> tuple[Reference, ...]:
    """The references a feature's table declares: its columns with a foreign key.

    Read from the key's declaration (``customer.id``), not from the table it names, which may
    not be loaded yet: two features can refer to each other.
    """
    table: Table = model.__table__  # type: ignore[attr-defined]
    policies = model.on_target_delete
    return tuple(
        Reference(
            table.name,
            column.name,
            key.target_fullname.partition(".")[0],
            policies.get(column.name, RESTRICT),
        )
        for column in table.columns
        for key in column.foreign_keys
    )


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def target_problem(session: Session, reference: Reference, target_id: str) -> str | None:
    """Why ``target_id`` can't be the value of ``reference`` (no such row, or deleted), or None.

    The read shares a lock on the target's row until the change commits (PostgreSQL; SQLite
    has one writer at a time): its delete waits for this change, then sees the reference.
    """
    table = _table(reference.target)
    statement = select(table.c.deleted_at).where(table.c.id == target_id)
    row = session.execute(statement.with_for_update(read=True)).first()
    noun = reference.target.replace("_", " ")
    if row is None:
        return f"no {noun} has the id {target_id}"
    if row.deleted_at is not None:
        return f"{noun} {target_id} is deleted"
    return None


@lru_cache(maxsize=256)
def live_target(reference: Reference) -> ColumnElement[bool]:
    """The condition that a new row's value of ``reference`` is a live row of its target.

    A new row is inserted under it (``INSERT ... SELECT ... WHERE``): the check costs no
    statement of its own, and shares a lock on the target's row as ``target_problem`` does.
    It reads the value as the insert binds it, ``bindparam(field)``.
    """
    table = _table(reference.target)
    target_id = bindparam(reference.field, type_=table.c.id.type)
    live = select(table.c.id).where(table.c.id == target_id, table.c.deleted_at.is_(None))
    return exists(live.with_for_update(read=True))


def lock_for_delete(session: Session, table_name: str, row_id: str) -> None:
    """Lock a row that is about to be soft-deleted, before its referrers are counted.

    A change that set a reference to it holds a share lock until it commits: this waits for
    it, so that the count sees its row.
    """
    table = _table(table_name)
    session.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())


def _referring(reference: Reference, target_id: str) -> ColumnElement[bool]:
    """The live rows whose ``reference`` is ``target_id``, a row referring to itself aside."""
    table = _table(reference.owner)
    return and_(
        table.c[reference.field] == target_id,
        table.c.deleted_at.is_(None),
        table.c.id != target_id,
    )


def live_referrers(session: Session, reference: Reference, target_id: str) -> list[str]:
    """The ids of the live rows whose ``reference`` is ``target_id``, in its index's order."""
    table = _table(reference.owner)
    statement = (
        select(table.c.id)
        .where(_referring(reference, target_id))
        .order_by(table.c[reference.field], table.c.created_at, table.c.id)
    )
    return list(session.execute(statement).scalars())


def count_live_referrers(session: Session, reference: Reference, target_id: str) -> int:
    """How many live rows' ``reference`` is ``target_id``."""
    statement = select(func.count()).where(_referring(reference, target_id))
    count: Any = session.execute(statement).scalar_one()
    return int(count)


def targets_by_id(
    session: Session, reference: Reference, target_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The rows of ``reference``'s target whose ids are ``target_ids``, by id: one query.

    Each as a mapping of its columns, the fields its read model takes; a soft-deleted row is
    there too, with its ``deleted_at`` (a listing with ``include_deleted`` may refer to one).
    """
    if not target_ids:
        return {}
    table = _table(reference.target)
    rows = session.execute(select(table).where(table.c.id.in_(target_ids)))
    return {row.id: dict(row._mapping) for row in rows}
