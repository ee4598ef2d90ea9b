"""Two database roles on PostgreSQL: the tables' owner migrates, the service runs as another.

The audit guard's triggers refuse UPDATE, DELETE and TRUNCATE on audit rows, but a table's
owner (and a superuser) may disable a table's triggers, or alter and drop the table. So the
service itself connects as a role that owns nothing: ``grant_runtime_privileges`` gives it
what the service does to each table and takes away what could rewrite the audit, and
``tamper_risks`` tells whether a role could still do that. SQLite has no roles: both do
nothing there.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, text

# Alembic's own table: the service reads it at most, and never writes it.
VERSION_TABLE = "alembic_version"
# Tables the service only reads: Alembic's, and the audit rows older than the chain's second
# hash form, which shared_0005 lists once.
READ_ONLY_TABLES = frozenset({VERSION_TABLE, "audit_legacy_entry"})
# What the service does to an audit table: it reads and appends rows, nothing else.
AUDIT_PRIVILEGES = "SELECT, INSERT"
# What it does to any other table: reads, creates and changes rows (a soft delete is an
# UPDATE). DELETE is left alone: a table of the team's own whose rows the service removes
# gets it by a GRANT of the team's, which this step never takes back.
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE"
# Taken from every other table: emptying it, and hanging constraints or triggers on it
# (a trigger of the role's own could change the rows other writers insert).
WITHHELD_PRIVILEGES = "TRUNCATE, REFERENCES, TRIGGER"

# The tables and sequences of the schema the migrations create them in.
TABLES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
)
SEQUENCES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind = 'S' ORDER BY c.relname"
)
USES_SCHEMA = text("SELECT has_schema_privilege(CAST(:role AS name), current_schema(), 'USAGE')")
# For each table: whether the role owns it (or may act as its owner through a role it
# belongs to), and whether it holds a privilege that changes rows or the table's triggers.
TABLE_POWERS = text(
    "SELECT c.relname, pg_has_role(CAST(:role AS name), c.relowner, 'MEMBER') AS owns, "
    "has_any_column_privilege(CAST(:role AS name), c.oid, 'UPDATE') AS may_update, "
    "has_table_privilege(CAST(:role AS name), c.oid, 'DELETE') AS may_delete, "
    "has_table_privilege(CAST(:role AS name), c.oid, 'TRUNCATE') AS may_truncate, "
    "has_table_privilege(CAST(:role AS name), c.oid, 'TRIGGER') AS may_add_triggers "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
)
# Since PostgreSQL 15 a superuser may let a role set a superuser-only parameter; replica mode
# skips every ordinary trigger, the audit guard's included.
MAY_SKIP_TRIGGERS = text(
    "SELECT has_parameter_privilege(CAST(:role AS name), 'session_replication_role', 'SET')"
)
FIRST_VERSION_WITH_PARAMETER_GRANTS = (15,)


class RuntimeRoleError(Exception):
    """DATABASE_RUNTIME_ROLE can't be the service's own role; the message says why."""


@dataclass(frozen=True)
class RuntimeGrants:
    """What ``grant_runtime_privileges`` granted: to whom, and on how many tables."""

    role: str
    audit_tables: int
    other_tables: int


def is_audit_table(name: str) -> bool:
    """Whether ``name`` is an audit trail's table, by the name every feature gives it."""
    return name.endswith("_audit")


def grant_runtime_privileges(connection: Connection, role: str) -> RuntimeGrants | None:
    """Give ``role`` what the service does to the current schema's tables, and no more.

    Run by the tables' owner after every migration, in the migration's transaction, so that
    a table a later migration adds (a new feature, a table of the team's) gets its grants
    too. Audit tables: SELECT and INSERT, anything else granted before taken away. Alembic's
    version table and the list of legacy audit rows: SELECT. Every other table: SELECT,
    INSERT and UPDATE, never TRUNCATE, REFERENCES or TRIGGER. Sequences: USAGE. None on
    SQLite, which has no roles.

    Raises:
        RuntimeRoleError: ``role`` runs the migrations, or could still change audit rows
            (a superuser, a member of the owner's role); the transaction is then rolled back.
    """
    if connection.dialect.name != "postgresql":
        return None
    if connection.execute(text("SELECT current_user")).scalar_one() == role:
        msg = (
            f"DATABASE_RUNTIME_ROLE {role} is the role that runs the migrations and owns the "
            "tables: name the service's own role, which owns nothing"
        )
        raise RuntimeRoleError(msg)
    quote = connection.dialect.identifier_preparer.quote_identifier
    schema = quote(connection.execute(text("SELECT current_schema()")).scalar_one())
    grantee = quote(role)
    if not connection.execute(USES_SCHEMA, {"role": role}).scalar_one():
        connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {grantee}"))
    tables = list(connection.execute(TABLES).scalars())
    audit_tables = [name for name in tables if is_audit_table(name)]
    for name in tables:
        table = f"{schema}.{quote(name)}"
        if name in audit_tables or name in READ_ONLY_TABLES:
            connection.execute(text(f"REVOKE ALL ON {table} FROM {grantee}"))
            granted = AUDIT_PRIVILEGES if name in audit_tables else "SELECT"
            connection.execute(text(f"GRANT {granted} ON {table} TO {grantee}"))
            continue
        connection.execute(text(f"GRANT {TABLE_PRIVILEGES} ON {table} TO {grantee}"))
        connection.execute(text(f"REVOKE {WITHHELD_PRIVILEGES} ON {table} FROM {grantee}"))
    for name in connection.execute(SEQUENCES).scalars():
        connection.execute(text(f"GRANT USAGE ON SEQUENCE {schema}.{quote(name)} TO {grantee}"))
    risks = tamper_risks(connection, role)
    if risks:
        msg = f"DATABASE_RUNTIME_ROLE {role} could still change audit rows: {'; '.join(risks)}"
        raise RuntimeRoleError(msg)
    other_tables = len(tables) - len(audit_tables) - len(READ_ONLY_TABLES.intersection(tables))
    return RuntimeGrants(role=role, audit_tables=len(audit_tables), other_tables=other_tables)


def tamper_risks(connection: Connection, role: str | None = None) -> list[str]:
    """How ``role`` (the connection's own by default) could change or remove audit rows.

    Empty when it can't: no superuser, no owner of an audit table nor a member of the owner's
    role (either may disable the guard's triggers, alter or drop the table), no UPDATE,
    DELETE, TRUNCATE or TRIGGER privilege on one, and no right to skip triggers. Always empty
    on SQLite, which has no roles.
    """
    if connection.dialect.name != "postgresql":
        return []
    if role is None:
        role = connection.execute(text("SELECT current_user")).scalar_one()
    superuser = text("SELECT rolsuper FROM pg_roles WHERE rolname = :role")
    if connection.execute(superuser, {"role": role}).scalar():
        return [f"{role} is a superuser"]
    risks = []
    for row in connection.execute(TABLE_POWERS, {"role": role}):
        if not is_audit_table(row.relname):
            continue
        if row.owns:
            risks.append(f"{role} owns {row.relname} (or may act as its owner)")
            continue
        powers = {
            "UPDATE": row.may_update,
            "DELETE": row.may_delete,
            "TRUNCATE": row.may_truncate,
            "TRIGGER": row.may_add_triggers,
        }
        granted = [power for power, held in powers.items() if held]
        if granted:
            risks.append(f"{role} holds {', '.join(granted)} on {row.relname}")
    version = connection.dialect.server_version_info or ()
    if (
        tuple(version) >= FIRST_VERSION_WITH_PARAMETER_GRANTS
        and connection.execute(MAY_SKIP_TRIGGERS, {"role": role}).scalar_one()
    ):
        risks.append(f"{role} may set session_replication_role, which skips triggers")
    return risks
