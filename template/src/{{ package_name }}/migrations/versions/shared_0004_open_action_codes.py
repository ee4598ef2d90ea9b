"""Audit tables take the action codes of a feature's own commands.

Revision ID: shared_0004
Revises: shared_0003

An audit table's ``action_code`` was a list of four codes in a CHECK constraint, as long as the
longest of them. A feature's service may now add commands of its own (``extra_actions``,
recorded as ``INVOICE_PLACED``), so the column becomes text of up to 64 characters, held by
its CHECK constraint to the feature's prefix only.

Feature migrations from this release on create the column that way; this revision changes the
tables an earlier release created, which it knows by the column's length. On PostgreSQL the
constraint is replaced and the column widened in place. SQLite can't alter a constraint: it
rewrites the table's definition in its schema, the procedure SQLite documents for changing a
CHECK constraint, which keeps the rows, the indexes and the audit guard's triggers as they are
(copying the table would need the guard lifted).
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shared_0004"
down_revision: str | Sequence[str] | None = "shared_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION_CODE_LENGTH = 64
# The four codes every feature had before its commands could add more.
CHANGE_KINDS = ("CREATED", "UPDATED", "DELETED", "RESTORED")


def prefix_check(audit_table: str) -> str:
    """This release's check: every code starts with the feature's name."""
    prefix = audit_table.removesuffix("_audit").upper()
    return f"action_code LIKE '{prefix}\\_%' ESCAPE '\\'"


def listed_check(audit_table: str) -> str:
    """The earlier releases' check: one of the feature's four codes."""
    prefix = audit_table.removesuffix("_audit").upper()
    codes = ", ".join(f"'{prefix}_{kind}'" for kind in CHANGE_KINDS)
    return f"action_code IN ({codes})"


def audit_tables(*, open_codes: bool) -> dict[str, int]:
    """The audit tables whose codes are open (``open_codes``) or listed, with the length."""
    inspector = sa.inspect(op.get_bind())
    tables = {}
    for name in inspector.get_table_names():
        if not name.endswith("_audit"):
            continue
        column = next(c for c in inspector.get_columns(name) if c["name"] == "action_code")
        length = int(getattr(column["type"], "length", None) or 0)
        if (length >= ACTION_CODE_LENGTH) == open_codes:
            tables[name] = length
    return tables


def change_check(table: str, check: str, length: int) -> None:
    """Give ``table``'s action codes the constraint ``check`` and the column ``length``."""
    constraint = f"ck_{table}_action_code"
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint(op.f(constraint), table, type_="check")
        op.alter_column(
            table,
            "action_code",
            type_=sa.String(length),
            existing_nullable=False,
        )
        op.create_check_constraint(op.f(constraint), table, check)
        return
    bind = op.get_bind()
    definition = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    definition, columns = re.subn(
        r"action_code VARCHAR(\(\d+\))?", f"action_code VARCHAR({length})", definition
    )
    definition, constraints = re.subn(
        rf"CONSTRAINT {constraint} CHECK \(.*?\)(?=,\s*(CONSTRAINT|PRIMARY|FOREIGN)|\s*\)$)",
        f"CONSTRAINT {constraint} CHECK ({check})",
        definition.strip(),
        flags=re.DOTALL,
    )
    if (columns, constraints) != (1, 1):
        msg = f"{table}: its definition does not have the action_code column and check expected"
        raise RuntimeError(msg)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (definition, table)
    )
    # Every connection reads the schema again before its next statement.
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    """Open the action codes of every audit table an earlier release created."""
    for table in sorted(audit_tables(open_codes=False)):
        change_check(table, prefix_check(table), ACTION_CODE_LENGTH)


def downgrade() -> None:
    """Back to four listed codes: refused while a table holds a command's code."""
    for table in sorted(audit_tables(open_codes=True)):
        prefix = table.removesuffix("_audit").upper()
        codes = [f"{prefix}_{kind}" for kind in CHANGE_KINDS]
        others = op.get_bind().execute(
            # The table's name is the database's own, read by the inspector.
            sa.text(f"SELECT count(*) FROM {table} WHERE action_code NOT IN :codes").bindparams(  # noqa: S608
                sa.bindparam("codes", expanding=True)
            ),
            {"codes": codes},
        )
        if others.scalar_one():
            msg = f"{table} holds codes of commands, which the release before this one refuses"
            raise RuntimeError(msg)
        change_check(table, listed_check(table), max(len(code) for code in codes))
