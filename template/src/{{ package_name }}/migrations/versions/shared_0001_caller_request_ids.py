"""Audit rows record the caller's X-Request-ID next to the server's request id.

Revision ID: shared_0001
Revises: shared_0000

Feature migrations from this release on create ``caller_request_id`` with their audit table;
this revision adds it to every audit table an earlier release created. It looks at the tables
the database has rather than naming them, so it needs no change when features come and go, and
it skips tables that already have the column, whichever order Alembic applies the branches in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shared_0001"
down_revision: str | Sequence[str] | None = "shared_0000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMN = "caller_request_id"


def audit_tables_with_column(*, present: bool) -> list[str]:
    """The audit tables that have ``caller_request_id`` (``present``) or lack it."""
    inspector = sa.inspect(op.get_bind())
    return [
        name
        for name in inspector.get_table_names()
        if name.endswith("_audit")
        and (COLUMN in {column["name"] for column in inspector.get_columns(name)}) == present
    ]


def upgrade() -> None:
    """Add the nullable column to every audit table that lacks it (rows keep NULL)."""
    # A plain ADD COLUMN on both dialects: no table copy, so the audit guard triggers stay.
    for name in audit_tables_with_column(present=False):
        op.add_column(name, sa.Column(COLUMN, sa.String(length=128), nullable=True))


def downgrade() -> None:
    """Drop the column from every audit table: the schema of the release before this one."""
    for name in audit_tables_with_column(present=True):
        op.drop_column(name, COLUMN)
