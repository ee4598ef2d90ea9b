"""The one place that decides whether a database error means "unavailable right now".

An unavailable database is a condition to wait out, not a fault of the request: the server
down, restarting, refusing connections or not answering; a connection cut under a request;
a lock, statement or free connection waited for too long; a database that accepts no
changes (a standby, or one set read-only) or has no room for them (disk or memory full).
The API answers each with 503 and ``Retry-After``, and the engine tries a failed connect
once more. Every other database error (a bad statement, a constraint, a value the column
refuses, a missing table) is a bug or a data problem and keeps its own handling.
"""

import sqlite3
from enum import StrEnum

import psycopg
from sqlalchemy import exc


class DatabaseFault(StrEnum):
    """Why the database can't serve a request right now (each is answered 503)."""

    # No connection: refused, cut, timed out, or the server is stopping or starting.
    UNREACHABLE = "unreachable"
    # Waited too long: for a lock, for a statement, for a connection of the pool or server;
    # or ended by the server to break a deadlock with other transactions.
    BUSY = "busy"
    # The database accepts no changes: a standby, or one set read-only.
    READ_ONLY = "read_only"
    # No room for the change: the disk or the server's memory is full.
    OUT_OF_RESOURCES = "out_of_resources"

    @property
    def refuses_changes(self) -> bool:
        """Whether the database itself turns changes away, for longer than one request."""
        return self in {DatabaseFault.READ_ONLY, DatabaseFault.OUT_OF_RESOURCES}


# PostgreSQL's SQLSTATEs for a server that can't serve now; class 08 (the connection itself)
# is unreachable too. Never classes 22 (data) or 23 (constraints): those are the request's.
FAULT_BY_SQLSTATE = {
    "57P01": DatabaseFault.UNREACHABLE,  # admin_shutdown: the server is stopping or restarting
    "57P02": DatabaseFault.UNREACHABLE,  # crash_shutdown: another backend crashed, it resets
    "57P03": DatabaseFault.UNREACHABLE,  # cannot_connect_now: starting up or shutting down
    "53300": DatabaseFault.BUSY,  # too_many_connections
    "55P03": DatabaseFault.BUSY,  # lock_not_available: lock_timeout (or NOWAIT) expired
    "57014": DatabaseFault.BUSY,  # query_canceled: statement_timeout expired (or a cancel)
    # The server ended this transaction so that others could go on: it may succeed when retried.
    "40P01": DatabaseFault.BUSY,  # deadlock_detected
    "40001": DatabaseFault.BUSY,  # serialization_failure
    "25006": DatabaseFault.READ_ONLY,  # read_only_sql_transaction
    "53000": DatabaseFault.OUT_OF_RESOURCES,  # insufficient_resources
    "53100": DatabaseFault.OUT_OF_RESOURCES,  # disk_full
    "53200": DatabaseFault.OUT_OF_RESOURCES,  # out_of_memory
}
# SQLAlchemy's pool: a pooled connection found dead at checkout; none free in time.
FAULT_BY_POOL_ERROR: dict[type[exc.SQLAlchemyError], DatabaseFault] = {
    exc.DisconnectionError: DatabaseFault.UNREACHABLE,
    exc.TimeoutError: DatabaseFault.BUSY,
}
# SQLite's primary result codes (its extended codes carry them in the low byte) with the same
# meanings: another connection holds the lock past the busy timeout; the file was opened
# read-only; the disk (or max_page_count) is full, or the disk failed a read or write. (Out
# of memory reaches Python as a MemoryError, not as a database error.)
FAULT_BY_SQLITE_CODE = {
    sqlite3.SQLITE_BUSY: DatabaseFault.BUSY,
    sqlite3.SQLITE_LOCKED: DatabaseFault.BUSY,
    sqlite3.SQLITE_READONLY: DatabaseFault.READ_ONLY,
    sqlite3.SQLITE_FULL: DatabaseFault.OUT_OF_RESOURCES,
    sqlite3.SQLITE_IOERR: DatabaseFault.OUT_OF_RESOURCES,
}
SQLITE_PRIMARY_CODE_MASK = 0xFF


def database_fault(error: BaseException) -> DatabaseFault | None:
    """Why ``error`` (SQLAlchemy's or the driver's own) means the database can't serve now.

    None when it does not: the error is the request's or the code's, not the database's state.
    """
    for pool_error, fault in FAULT_BY_POOL_ERROR.items():
        if isinstance(error, pool_error):
            return fault
    if isinstance(error, exc.DBAPIError):
        # SQLAlchemy invalidates a connection when the driver reports it closed or broken.
        if error.connection_invalidated:
            return DatabaseFault.UNREACHABLE
        return None if error.orig is None else database_fault(error.orig)
    if isinstance(error, psycopg.Error):
        return _postgresql_fault(error)
    if isinstance(error, sqlite3.OperationalError):
        return _sqlite_fault(error)
    return None


def _postgresql_fault(error: psycopg.Error) -> DatabaseFault | None:
    sqlstate = error.sqlstate
    if sqlstate is None:
        # No SQLSTATE: the failure is on the connection itself (refused, reset, timed out) if
        # the driver says so; otherwise the driver refused the call (a bug).
        connection_failed = isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
        return DatabaseFault.UNREACHABLE if connection_failed else None
    if sqlstate.startswith("08"):
        return DatabaseFault.UNREACHABLE
    return FAULT_BY_SQLSTATE.get(sqlstate)


def _sqlite_fault(error: sqlite3.OperationalError) -> DatabaseFault | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else FAULT_BY_SQLITE_CODE.get(code & SQLITE_PRIMARY_CODE_MASK)


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (SQLAlchemy's or the driver's own) means the database can't serve now."""
    return database_fault(error) is not None
