"""Audit rows carry a hash chain per entity and a change-feed position.

``previous_hash`` and ``row_hash`` link each entity's rows (see shared audit_chain);
``transaction_id`` orders the feed of changes across features (see shared change_feed).

Revision ID: shared_0002
Revises: shared_0001

Feature migrations from this release on create both columns with their audit table; this
revision adds them to every audit table an earlier release created, found by looking at the
database (as shared_0001 does). Existing rows keep NULL: verification reports them as unchained
legacy rows, and each entity's chain starts at its first row written after the upgrade. Their
feed position is 0: the feed serves them first, in time order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shared_0002"
down_revision: str | Sequence[str] | None = "shared_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("previous_hash", "row_hash", "transaction_id")
# A SHA-256 in hex.
HASH_LENGTH = 64


def audit_tables_with_columns(*, present: bool) -> list[str]:
    """The audit tables that have this revision's columns (``present``) or lack them."""
    inspector = sa.inspect(op.get_bind())
    return [
        name
        for name in inspector.get_table_names()
        if name.endswith("_audit")
        and (set(COLUMNS) <= {column["name"] for column in inspector.get_columns(name)}) == present
    ]


# New rows' feed position on PostgreSQL: the id of the transaction that writes them.
FEED_POSITION = "pg_current_xact_id()::text::bigint"


def upgrade() -> None:
    """Add the columns and the feed's index to every audit table that lacks them."""
    # Plain ADD COLUMNs on both dialects: no table copy, so the audit guard triggers stay. The
    # constant default fills existing rows without an UPDATE (the guard would refuse one).
    postgres = op.get_context().dialect.name == "postgresql"
    for name in audit_tables_with_columns(present=False):
        for column in COLUMNS[:2]:
            op.add_column(name, sa.Column(column, sa.String(length=HASH_LENGTH), nullable=True))
        op.add_column(
            name,
            sa.Column("transaction_id", sa.BigInteger(), server_default="0", nullable=False),
        )
        if postgres:
            op.alter_column(name, "transaction_id", server_default=sa.text(FEED_POSITION))
        op.create_index(f"ix_{name}_feed", name, ["transaction_id", "created_at", "id"])


def downgrade() -> None:
    """Drop the columns from every audit table: the schema of the release before this one."""
    for name in audit_tables_with_columns(present=True):
        op.drop_index(f"ix_{name}_feed", table_name=name)
        for column in reversed(COLUMNS):
            op.drop_column(name, column)
