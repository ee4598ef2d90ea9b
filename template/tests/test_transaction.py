"""The unit of work: commit on success, roll back on any error."""

import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from shared.db.transaction import COMMIT_OUTCOME_UNKNOWN, transaction
from shared.errors import ConflictError, UnavailableError


@pytest.fixture(autouse=True)
def _scratch_table(connection: Connection) -> None:
    """A temporary one-column table with a unique value, for exercising transactions."""
    connection.execute(text("CREATE TEMPORARY TABLE scratch (value TEXT UNIQUE NOT NULL)"))


def stored_rows(session: Session) -> int:
    """How many rows the scratch table holds, as the session sees it now."""
    return int(session.connection().execute(text("SELECT count(*) FROM scratch")).scalar_one())


def insert_then_fail(session: Session) -> None:
    """Write a row, then fail before the block ends."""
    with transaction(session):
        session.connection().execute(text("INSERT INTO scratch VALUES ('a')"))
        msg = "something went wrong after the write"
        raise RuntimeError(msg)


def insert_once(session: Session) -> None:
    """Write one row and commit it."""
    with transaction(session):
        session.connection().execute(text("INSERT INTO scratch VALUES ('a')"))


def insert_twice(session: Session) -> None:
    """Write the same unique value twice in one transaction."""
    with transaction(session):
        session.connection().execute(text("INSERT INTO scratch VALUES ('a')"))
        session.connection().execute(text("INSERT INTO scratch VALUES ('a')"))


def test_work_is_committed_when_the_block_succeeds(session: Session) -> None:
    with transaction(session):
        session.connection().execute(text("INSERT INTO scratch VALUES ('a')"))
    assert stored_rows(session) == 1


def test_work_is_rolled_back_when_the_block_raises(session: Session) -> None:
    with pytest.raises(RuntimeError, match="after the write"):
        insert_then_fail(session)
    assert stored_rows(session) == 0


def test_an_integrity_error_becomes_a_conflict(session: Session) -> None:
    with pytest.raises(ConflictError) as raised:
        insert_twice(session)
    assert isinstance(raised.value.__cause__, IntegrityError)
    assert stored_rows(session) == 0


def test_a_commit_cut_off_is_unavailable_with_an_unknown_outcome(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def commit() -> None:
        cut_off = psycopg.OperationalError("server closed the connection unexpectedly")
        raise OperationalError("COMMIT", {}, cut_off, connection_invalidated=True)

    monkeypatch.setattr(session, "commit", commit)
    with pytest.raises(UnavailableError) as raised:
        insert_once(session)
    assert str(raised.value) == COMMIT_OUTCOME_UNKNOWN
    assert isinstance(raised.value.__cause__, OperationalError)
    assert stored_rows(session) == 0
