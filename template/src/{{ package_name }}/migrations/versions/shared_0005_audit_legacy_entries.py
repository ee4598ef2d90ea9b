"""List the audit rows that came before the chain's second hash form, then guard the list.

Revision ID: shared_0005
Revises: shared_0004

From this release on every audit row's hash covers its feed position and writes numbers in a
form that survives the database's round trip (see shared audit_chain). Verification must still
tell the rows written before that apart: a row with no hash (written before the chain existed,
left so by shared_0002) or one hashed in the first form. This revision lists them, once, in
``audit_legacy_entry``, from the audit tables as they are when it runs; in a new database it
lists nothing. From then on a row without a hash that is not listed is reported as tampering,
not as a legacy row. The list is guarded as the audit tables are: no row is added, changed or
removed once it is written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shared_0005"
down_revision: str | Sequence[str] | None = "shared_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "audit_legacy_entry"
# forbid_audit_change() is shared_0000's.
GUARD = {
    "postgresql": [
        f"CREATE TRIGGER {TABLE}_append_never BEFORE INSERT OR UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION forbid_audit_change()",
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION forbid_audit_change()",
    ],
    "sqlite": [
        f"CREATE TRIGGER {TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, 'the legacy audit list is fixed: {operation} refused'); END"
        for operation in ("INSERT", "UPDATE", "DELETE")
    ],
}


def audit_tables() -> list[str]:
    """The audit tables in the database (the chain's columns are on all of them by now)."""
    return [name for name in sa.inspect(op.get_bind()).get_table_names() if name.endswith("_audit")]


def upgrade() -> None:
    """Create the list, fill it from every audit table, and guard it."""
    op.create_table(
        TABLE,
        sa.Column("audit_table", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("hash_form", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("audit_table", "entry_id"),
    )
    for name in audit_tables():
        # Table names are the database's own, read above: no input reaches the SQL.
        op.execute(
            sa.text(
                f"INSERT INTO {TABLE} (audit_table, entry_id, hash_form) "  # noqa: S608
                f"SELECT :name, id, CASE WHEN row_hash IS NULL THEN 0 ELSE 1 END FROM {name}"
            ).bindparams(name=name)
        )
    for statement in GUARD.get(op.get_context().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    """Drop the list (its triggers go with it)."""
    op.drop_table(TABLE)
