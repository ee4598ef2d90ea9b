"""The unit of work: a change and its audit row are committed together, or not at all."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from shared.errors import ConflictError, PreconditionFailedError


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block flushed if it succeeds; roll everything back if it raises.

    Services own their transactions through this; repositories only add, flush and query.
    A database integrity error (a unique value taken concurrently, say) becomes a
    :class:`ConflictError`; an update whose ``WHERE version = ...`` matched no row, because a
    concurrent writer changed the row first, becomes a :class:`PreconditionFailedError`.
    """
    try:
        yield session
        session.commit()
    except IntegrityError as error:
        session.rollback()
        msg = "the change conflicts with data already stored"
        raise ConflictError(msg) from error
    except StaleDataError as error:
        session.rollback()
        msg = "the entity was changed by someone else since it was read"
        raise PreconditionFailedError(msg) from error
    except BaseException:
        session.rollback()
        raise
