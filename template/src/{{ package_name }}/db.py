"""The database: engine, schema migrations and the per-request session."""

import select
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import psycopg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Dialect, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from shared.db.availability import is_database_unavailable
from shared.db.roles import RuntimeGrants, grant_runtime_privileges, tamper_risks
from shared.db.tables import is_compared, metadata
from shared.logging.logger import get_logger

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a failed connect waits before its one more try: about what a server restart takes.
CONNECT_RETRY_DELAY_SECONDS = 1.0
# How long a change on SQLite waits for another change's write lock before it fails.
SQLITE_LOCK_WAIT_SECONDS = 30.0
# Set in a SQLite connection's info while migrations run on it with foreign keys off.
SQLITE_FOREIGN_KEYS_OFF = "sqlite_foreign_keys_off"
# How long readiness answers 503 after the database last turned a change away (read-only or
# full): longer than an orchestrator's probe period, so that a probe sees it.
UNREADY_AFTER_REFUSED_CHANGE_SECONDS = 10.0
# The server's statement and lock timeouts for the session (is_local false) or for the
# transaction only (is_local true), in milliseconds; 0 turns one off.
SET_TIMEOUTS = (
    "SELECT set_config('statement_timeout', %(statement)s, %(is_local)s),"
    " set_config('lock_timeout', %(lock)s, %(is_local)s)"
)

logger = get_logger(__name__)

ResultT = TypeVar("ResultT")
# What a server DATABASE_URL reaches: the server itself (or a pooler in session mode), or a
# pooler in transaction mode (the DATABASE_POOLER setting).
DatabasePooler = Literal["none", "transaction"]


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the service waits on its database, in seconds; 0 (or None) waits on and on.

    ``connect``: for a new connection to a server (whole seconds, 2 at least, as libpq counts
    them). ``statement`` and ``lock``: for one statement to finish and for a lock it needs, as
    the server's statement_timeout and lock_timeout (PostgreSQL only). ``pool``: for a free
    connection of the engine's pool.
    """

    connect: int | None = None
    statement: float = 0
    lock: float = 0
    pool: float = 30.0


# The readiness check's own bounds, shorter than any request's: an orchestrator's probe gives
# up after a few seconds, and an answer later than that tells it nothing.
READINESS_TIMEOUTS = DatabaseTimeouts(connect=2, statement=2.0, lock=1.0, pool=2.0)


def create_db_engine(
    database_url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 0,
    pooler: DatabasePooler = "none",
    timeouts: DatabaseTimeouts = DatabaseTimeouts(),
) -> Engine:
    """Create the engine for ``database_url`` with the options its database needs.

    ``pool_size`` and ``max_overflow`` bound the connections of one process (server databases
    only): each server worker holds at most their sum (and one more, its readiness check's
    engine), so a deployment of R replicas with W workers each needs R * W * (pool_size +
    max_overflow + 1) connections from the server, or from the pooler that ``pooler`` names
    (``"transaction"``: a pooler in transaction mode).
    ``timeouts`` bound the waits on the database; by default (the commands, the migrations)
    there are none but the pool's.
    """
    url = make_url(database_url)
    # hide_parameters: a failed statement's error (and so the error log) names the statement
    # but not the row values it carried, which may be personal or secret.
    if url.get_backend_name() != "sqlite":
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=timeouts.pool,
            hide_parameters=True,
            connect_args=server_connect_args(pooler, timeouts),
        )
        event.listen(engine, "do_connect", connect_with_one_retry)
        # Instead of SQLAlchemy's pre-ping, which costs a SELECT 1 round trip per request.
        event.listen(engine, "checkout", refuse_if_closed_by_server)
        if timeouts.statement or timeouts.lock:
            set_server_timeouts(engine, pooler, timeouts)
        return engine
    in_memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        # Sessions are used by the worker threads of the server, one at a time. A change
        # waits for another's write lock (SQLite has one) for up to SQLITE_LOCK_WAIT_SECONDS,
        # as a PostgreSQL writer waits for a row lock, rather than failing after the
        # driver's default 5 s under a burst of writes.
        connect_args={"check_same_thread": False, "timeout": SQLITE_LOCK_WAIT_SECONDS},
        # An in-memory database lives as long as its one connection: share it.
        **({"poolclass": StaticPool} if in_memory else {"pool_timeout": timeouts.pool}),
        hide_parameters=True,
    )
    event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    event.listen(engine, "checkin", _restore_sqlite_foreign_keys)
    return engine


def server_connect_args(
    pooler: DatabasePooler,
    timeouts: DatabaseTimeouts = DatabaseTimeouts(),
) -> dict[str, Any]:
    """The driver's connection options for a server database reached through ``pooler``.

    A pooler in transaction mode hands each transaction whichever server connection is free,
    so nothing may outlive a transaction on the server. The service keeps no session state
    there (no session settings, advisory locks, LISTEN or temporary tables); what psycopg
    keeps is its prepared statements, made on the server once a statement has run five times
    on a connection: with ``prepare_threshold=None`` it prepares none.
    """
    args: dict[str, Any] = {"prepare_threshold": None} if pooler == "transaction" else {}
    if timeouts.connect:
        # Counted by the driver, so it holds whatever stands between (a pooler, a proxy).
        args["connect_timeout"] = timeouts.connect
    return args


def set_server_timeouts(engine: Engine, pooler: DatabasePooler, timeouts: DatabaseTimeouts) -> None:
    """Make the server end a statement, or a wait for a lock, that outlasts ``timeouts``.

    Not as startup ``options``: PgBouncer refuses a connection that sends them (unless told to
    ignore them, and then they are lost). Directly or through a pooler in session mode, the
    connection's session keeps them: set once, when it opens. Through a pooler in transaction
    mode, a session setting would stay on whichever server connection ran it, for other
    clients, and miss the next transaction's: there each transaction sets them for itself
    (SET LOCAL), at the cost of one round trip.
    """
    values = {
        "statement": str(round(timeouts.statement * 1000)),
        "lock": str(round(timeouts.lock * 1000)),
    }
    if pooler == "transaction":

        def set_for_the_transaction(connection: Connection) -> None:
            connection.exec_driver_sql(SET_TIMEOUTS, {**values, "is_local": True})

        event.listen(engine, "begin", set_for_the_transaction)
        return

    def set_for_the_session(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(SET_TIMEOUTS, {**values, "is_local": False})
        dbapi_connection.commit()

    event.listen(engine, "connect", set_for_the_session)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _restore_sqlite_foreign_keys(dbapi_connection: Any, record: Any) -> None:
    """Check foreign keys again on a connection the migrations ran on (see migrations/env.py)."""
    if record.info.pop(SQLITE_FOREIGN_KEYS_OFF, False):
        _enable_sqlite_foreign_keys(dbapi_connection, record)


def refuse_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection that the server has closed since its last use.

    The pool then replaces it with a new one, before a statement of the request runs on it.
    A server that stops or restarts tells each client so and closes its end: an idle
    connection with anything to read has been closed (the service never LISTENs, so nothing
    else arrives unasked; anything that did would only cost a new connection). Polling the
    socket finds that without a round trip to the server.

    Raises:
        DisconnectionError: the connection has something to read; the pool replaces it.
    """
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    if readable:
        msg = "the database server closed this pooled connection"
        raise DisconnectionError(msg)


def connect_with_one_retry(
    dialect: Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Open a DBAPI connection; if the database is unavailable, wait and try once more.

    Safe to repeat: a connection is opened before any statement of the unit of work that
    needs it, so nothing of that work has reached the database yet. A failure later (at a
    statement, or at commit, which may have happened) is never retried: the caller gets 503.
    A server that did not answer within the connect timeout is not tried again: it has had
    the whole wait already, and a request should not wait twice as long for its 503.
    """
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as error:
        timed_out = isinstance(error, psycopg.errors.ConnectionTimeout)
        if timed_out or not is_database_unavailable(error):
            raise
        logger.info("database.connect_retry", delay_seconds=CONNECT_RETRY_DELAY_SECONDS)
    time.sleep(CONNECT_RETRY_DELAY_SECONDS)
    return dialect.connect(*cargs, **cparams)


def warn_if_role_can_change_audit(engine: Engine) -> None:
    """Log a warning if the engine's role could rewrite audit rows (PostgreSQL; see roles).

    A database it can't reach is left to the readiness check, which reports it.
    """
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect() as connection:
            # Closed, not pooled: the check may outlive the app that started it.
            connection.detach()
            risks = tamper_risks(connection)
    except SQLAlchemyError as error:
        logger.info("database.role_not_checked", error=type(error).__name__)
        return
    if risks:
        logger.warning("database.role_can_change_audit", risks=risks)


def start_role_check(engine: Engine) -> threading.Thread:
    """Run ``warn_if_role_can_change_audit`` in a thread of its own; return the thread.

    The service's start does not wait for it: a database that is slow to answer, or
    unreachable, must not keep the process from serving its liveness check.
    """
    thread = threading.Thread(
        target=warn_if_role_can_change_audit,
        args=(engine,),
        name="database-role-check",
        daemon=True,
    )
    thread.start()
    return thread


class RefusedChanges:
    """When this process's database last turned a change away: read-only, or full.

    A full or read-only database still answers reads, and may answer the readiness check as
    usual; only a change finds it out. Readiness reports it for a while after, so that the
    replicas leave rotation while changes fail, and come back to try again once it passes.
    """

    def __init__(self) -> None:
        self._last: float | None = None

    def record(self) -> None:
        """Note that the database turned a change away just now."""
        self._last = time.monotonic()

    def recent(self) -> bool:
        """Whether it did within the last UNREADY_AFTER_REFUSED_CHANGE_SECONDS."""
        if self._last is None:
            return False
        return time.monotonic() - self._last < UNREADY_AFTER_REFUSED_CHANGE_SECONDS


def database_is_read_only(engine: Engine) -> bool:
    """Whether the database at ``engine`` accepts no changes now; raises if it does not answer.

    PostgreSQL is asked for its transaction_read_only rather than given a write to try: that
    is on in a standby and wherever default_transaction_read_only is set, and asking touches
    no table (so it never waits behind a table's lock), writes nothing and takes nothing. A
    SQLite connection has nothing to tell: it only has to open and answer (a read-only file
    shows at the first change: :class:`RefusedChanges`).
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("SELECT 1"))
            return False
        setting = connection.execute(text("SELECT current_setting('transaction_read_only')"))
        return bool(setting.scalar_one() == "on")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for this service, running on ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@dataclass(frozen=True)
class SchemaUpgrade:
    """What ``upgrade_schema`` did: the revisions it applied, in order, and the heads now.

    ``lacking`` names the tables and columns the models have and the database still lacks
    after every migration ran: a migration is missing, and every request that reads them fails.
    """

    applied: tuple[str, ...]
    heads: tuple[str, ...]
    lacking: tuple[str, ...] = ()
    grants: RuntimeGrants | None = None


def upgrade_schema(engine: Engine, runtime_role: str | None = None) -> SchemaUpgrade:
    """Apply every migration head: each feature's branch and the team's own revisions.

    With ``runtime_role`` (PostgreSQL), grant that role what the service does to every table,
    the tables just created included, in the same transaction: see ``shared.db.roles``.
    """
    applied: list[str] = []
    grants = None
    with engine.begin() as connection:
        config = alembic_config(connection)
        # The migration environment reports each revision it runs into this list.
        config.attributes["applied_revisions"] = applied
        command.upgrade(config, "heads")
        if runtime_role:
            grants = grant_runtime_privileges(connection, runtime_role)
        # At every branch's head now. The version table may list fewer: it leaves out a head
        # that another depends on (the branch of a feature whose table a reference points at).
        heads = ScriptDirectory.from_config(config).get_heads()
        lacking = lacking_in_database(schema_drift(connection))
    return SchemaUpgrade(
        applied=tuple(applied), heads=tuple(sorted(heads)), lacking=lacking, grants=grants
    )


def lacking_in_database(drift: list[Any]) -> tuple[str, ...]:
    """The tables and columns (``table.column``) of the models that ``drift`` says are missing."""
    lacking = []
    for difference in drift:
        if difference[0] == "add_table":
            lacking.append(difference[1].name)
        elif difference[0] == "add_column":
            lacking.append(f"{difference[2]}.{difference[3].name}")
    return tuple(lacking)


def schema_drift(connection: Connection) -> list[Any]:
    """What autogenerate would still change: empty when the migrations match the models."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": is_compared}
    )
    return list(compare_metadata(context, metadata))


async def get_db_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; the editor services commit, so it only needs closing.

    Async, so that FastAPI does not send it to a worker thread and back twice per request:
    making a session touches no connection. Closing one that still holds a transaction (a
    read's) rolls it back on the database, so that runs in a worker thread; closing one
    whose change was committed holds no connection and is done here.
    """
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        await release_session(session)


async def release_session(session: Session) -> None:
    """Close a request's session, in a worker thread only if that takes the database."""
    if session.in_transaction():
        await run_in_threadpool(close_session, session)
    else:
        close_session(session)


async def in_worker_thread(session: Session, call: Callable[..., ResultT], *args: Any) -> ResultT:
    """``call(*args)`` in a worker thread, ``session`` closed there after it.

    A read leaves its transaction open, and closing the session ends it on the database: done
    in the same trip, that costs the request no second hand-over to a thread. What the call
    returns stays readable: its rows were loaded, and a change's commit keeps them so.
    """

    def call_then_close() -> ResultT:
        try:
            return call(*args)
        finally:
            close_session(session)

    return await run_in_threadpool(call_then_close)


def close_session(session: Session) -> None:
    """Close ``session``, even on a connection the database has dropped meanwhile.

    Closing rolls back what is left open (at most a read after the commit); on a dropped
    connection the server has discarded it already, so that failure changes nothing and must
    not turn a finished request into an error.
    """
    try:
        session.close()
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        logger.warning("database.close_failed", error=type(error).__name__)


# Closed when the route returns, before the response is sent ("function" scope): a failure
# while closing is then still answered, instead of escaping after the response has started
# and dropping the client's connection. The connection also goes back to the pool sooner.
SessionDep = Annotated[Session, Depends(get_db_session, scope="function")]
