"""The one place that decides whether a database error means "unavailable right now".

An unavailable database (the server down, restarting or refusing connections, a connection
cut under a request, SQLite locked past its busy timeout, every pooled connection in use) is
a condition to wait out: the API answers 503 with ``Retry-After`` and the engine tries a
failed connect once more. Every other database error (a bad statement, a constraint, a
missing table) is a bug or a data problem and keeps its own handling.
"""

import sqlite3

import psycopg
from sqlalchemy import exc

# SQLSTATEs of a server that is shutting down, starting up or has no room for a connection.
UNAVAILABLE_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping (fast shutdown, restart)
        "57P02",  # crash_shutdown: another backend crashed, the server resets
        "57P03",  # cannot_connect_now: the server is starting up or shutting down
        "53300",  # too_many_connections
    }
)
# What SQLite says when another connection holds the lock for longer than the busy timeout.
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked")


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (SQLAlchemy's or the driver's own) means the database can't serve now."""
    if isinstance(error, exc.DisconnectionError | exc.TimeoutError):
        # A connection found dead at checkout; no pooled connection free in time.
        return True
    if isinstance(error, exc.DBAPIError):
        # SQLAlchemy invalidates a connection when the driver reports it closed or broken.
        if error.connection_invalidated:
            return True
        return error.orig is not None and is_database_unavailable(error.orig)
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        # No SQLSTATE: the failure is on the connection itself (refused, reset, timed out),
        # not an error the server reported for a statement.
        sqlstate = error.sqlstate
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES
    if isinstance(error, sqlite3.OperationalError):
        return str(error) in SQLITE_BUSY_MESSAGES
    return False
