"""Shared base of every feature's migrations: the guard that keeps audit tables append-only.

Revision ID: shared_0000
Revises: (none)

Each feature's initial migration starts its own branch from this revision, so adding a feature
adds a migration file and never edits an existing one; `db upgrade` applies every head.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "shared_0000"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every audit table's triggers call this: audit rows are never changed or removed, not even by
# the table's owner or a superuser.
CREATE_FORBID_AUDIT_CHANGE = """
CREATE FUNCTION forbid_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    """Create the shared trigger function (PostgreSQL; SQLite triggers need none)."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(CREATE_FORBID_AUDIT_CHANGE)


def downgrade() -> None:
    """Drop the shared trigger function."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION forbid_audit_change()")
