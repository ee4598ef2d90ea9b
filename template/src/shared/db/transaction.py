"""The unit of work: a change and its audit row are committed together, or not at all."""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from shared.db.availability import is_database_unavailable
from shared.errors import ConflictError, PreconditionFailedError, UnavailableError

# A commit cut off may or may not have happened: the caller must look before trying again.
COMMIT_OUTCOME_UNKNOWN = (
    "the database became unavailable while saving the change, which may or may not have "
    "been saved: read it back before retrying"
)


# The session's open unit of work, in ``session.info``: what runs once it commits.
_AFTER_COMMIT = "unit_of_work_after_commit"


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block flushed if it succeeds; roll everything back if it raises.

    Services own their transactions through this; repositories only add, flush and query.
    A database integrity error (a unique value taken concurrently, say) becomes a
    :class:`ConflictError`; an update whose ``WHERE version = ...`` matched no row, because a
    concurrent writer changed the row first, becomes a :class:`PreconditionFailedError`; a
    database that becomes unavailable during the commit, an :class:`UnavailableError` saying
    that the outcome is unknown (it is never retried here: the commit may have happened).

    Inside another unit of work on the same session (a service called from a hook of
    another's change), the block joins it: it flushes, and the outer one commits both changes
    or rolls both back.
    """
    if _AFTER_COMMIT in session.info:
        with _translating_errors():
            yield session
            session.flush()
        return
    callbacks: list[Callable[[], None]] = []
    session.info[_AFTER_COMMIT] = callbacks
    try:
        with _translating_errors():
            _begin_writing(session)
            yield session
            _commit(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        del session.info[_AFTER_COMMIT]
    for callback in callbacks:
        callback()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's unit of work has committed (now, if none is open).

    A change's log event goes through this: a change made inside another's unit of work is
    logged only if that one commits.
    """
    callbacks = session.info.get(_AFTER_COMMIT)
    if callbacks is None:
        callback()
    else:
        callbacks.append(callback)


@contextmanager
def _translating_errors() -> Iterator[None]:
    """The database's refusals of a change as the domain errors that name them."""
    try:
        yield
    except IntegrityError as error:
        msg = "the change conflicts with data already stored"
        raise ConflictError(msg) from error
    except StaleDataError as error:
        msg = "the entity was changed by someone else since it was read"
        raise PreconditionFailedError(msg) from error


def _begin_writing(session: Session) -> None:
    # SQLite lets one transaction write at a time, but by default takes that lock at the first
    # write, after the change has taken its time: a writer kept waiting would commit a time
    # earlier than one already committed, and the change feed, which on SQLite follows time
    # order, would pass it by. Taking the lock first (BEGIN IMMEDIATE) makes the times of
    # changes follow their commit order, and also serialises the version check with the
    # write. A connection already in a transaction (a savepoint, say) holds what it holds.
    connection = session.connection()
    driver_connection = connection.connection.dbapi_connection
    if isinstance(driver_connection, sqlite3.Connection) and not driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _commit(session: Session) -> None:
    # The rows a change wrote hold what the database stored (their values are all made in
    # Python), so the commit keeps them loaded: expiring them would make the response's read
    # of each one more SELECT. The session's own setting applies again afterwards.
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    except SQLAlchemyError as error:
        if not is_database_unavailable(error):
            raise
        raise UnavailableError(COMMIT_OUTCOME_UNKNOWN) from error
    finally:
        session.expire_on_commit = expire_on_commit
