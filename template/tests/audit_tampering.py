"""Tampering with audit rows as an attacker with the database's keys would: in plain SQL."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text


@contextmanager
def audit_guard_disabled(connection: Connection, table: str) -> Iterator[None]:
    """Let UPDATE and DELETE through on ``table`` for the block, as a superuser could.

    PostgreSQL: the guard's triggers are disabled, then enabled again. SQLite has no such
    switch: they are dropped, then created again from their own SQL.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
        yield
        connection.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER USER'))
        return
    triggers = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"),
        {"table": table},
    ).all()
    assert triggers, f"{table} has no audit guard to disable"
    for name, _sql in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        connection.execute(text(sql))
