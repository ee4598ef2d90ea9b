"""Audit rows carry a hash chain per entity: ``previous_hash`` and ``row_hash``.

Revision ID: shared_0002
Revises: shared_0001

Feature migrations from this release on create both columns with their audit table; this
revision adds them to every audit table an earlier release created, found by looking at the
database (as shared_0001 does). Existing rows keep NULL: verification reports them as unchained
legacy rows, and each entity's chain starts at its first row written after the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shared_0002"
down_revision: str | Sequence[str] | None = "shared_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("previous_hash", "row_hash")
# A SHA-256 in hex.
HASH_LENGTH = 64


def audit_tables_with_columns(*, present: bool) -> list[str]:
    """The audit tables that have the chain's columns (``present``) or lack them."""
    inspector = sa.inspect(op.get_bind())
    return [
        name
        for name in inspector.get_table_names()
        if name.endswith("_audit")
        and (set(COLUMNS) <= {column["name"] for column in inspector.get_columns(name)}) == present
    ]


def upgrade() -> None:
    """Add the nullable columns to every audit table that lacks them (rows keep NULL)."""
    # A plain ADD COLUMN on both dialects: no table copy, so the audit guard triggers stay.
    for name in audit_tables_with_columns(present=False):
        for column in COLUMNS:
            op.add_column(name, sa.Column(column, sa.String(length=HASH_LENGTH), nullable=True))


def downgrade() -> None:
    """Drop the columns from every audit table: the schema of the release before this one."""
    for name in audit_tables_with_columns(present=True):
        for column in reversed(COLUMNS):
            op.drop_column(name, column)
