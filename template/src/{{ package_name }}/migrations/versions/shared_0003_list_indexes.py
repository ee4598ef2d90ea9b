"""Lists and audit trails are read by index: a page costs the same at any table size.

Revision ID: shared_0003
Revises: shared_0002

Every entity table gets one index per sort key of its list, in the list's order: (created_at,
id), (updated_at, id) and, for each filterable field, (field, created_at, id), which also
serves an equality filter on the field in the default order. Every audit table's trail index
gains the id, (entity id, created_at, id), so that a page of one entity's trail, newest first,
is one range of it. The index on ``deleted_at`` goes: SQLite would read a list's live rows by
it and sort them all, rather than read them in order from the sort's index.

Feature migrations from this release on create these indexes with their tables; this revision
adds them to the tables an earlier release created, which it knows by their ``deleted_at``
index. Which list indexes a table takes is what its model declares (``list_indexes`` in
``shared.db.models.base_model``): this file is the same whatever features the service has, so
adding a feature later never changes a migration that has already run. It skips the indexes
a table already has, and those whose columns a later migration of the feature adds.
"""

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.tables import metadata

revision: str = "shared_0003"
down_revision: str | Sequence[str] | None = "shared_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def entity_tables() -> Iterator[str]:
    """The entity tables the models declare: those with an audit table beside them."""
    for name in sorted(metadata.tables):
        if name.endswith("_audit") and name.removesuffix("_audit") in metadata.tables:
            yield name.removesuffix("_audit")


def list_orders(table: str) -> dict[str, list[str]]:
    """The list indexes the model of ``table`` declares, by name, with their columns."""
    return {
        str(index.name): [column.name for column in index.columns]
        for index in metadata.tables[table].indexes
        if str(index.name).startswith(f"ix_{table}_by_")
    }


def upgrade() -> None:
    """Add the list indexes and widen the trail index of each table of an earlier release."""
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    for table in tables.intersection(entity_tables()):
        present = {index["name"] for index in inspector.get_indexes(table)}
        if f"ix_{table}_deleted_at" not in present:
            continue  # created by this release or a later one: it has them already
        columns = {column["name"] for column in inspector.get_columns(table)}
        for name, order in list_orders(table).items():
            if name not in present and set(order) <= columns:
                op.create_index(name, table, order)
        op.drop_index(f"ix_{table}_deleted_at", table_name=table)
        audit = f"{table}_audit"
        if f"ix_{audit}_trail" in {index["name"] for index in inspector.get_indexes(audit)}:
            op.drop_index(f"ix_{audit}_trail", table_name=audit)
        op.create_index(f"ix_{audit}_trail", audit, [f"{table}_id", "created_at", "id"])


def downgrade() -> None:
    """Drop the list indexes and narrow the trail indexes: the release before this one."""
    inspector = sa.inspect(op.get_bind())
    for table in set(inspector.get_table_names()).intersection(entity_tables()):
        present = {index["name"] for index in inspector.get_indexes(table)}
        for name in list_orders(table).keys() & present:
            op.drop_index(name, table_name=table)
        op.create_index(f"ix_{table}_deleted_at", table, ["deleted_at"])
        audit = f"{table}_audit"
        op.drop_index(f"ix_{audit}_trail", table_name=audit)
        op.create_index(f"ix_{audit}_trail", audit, [f"{table}_id", "created_at"])
