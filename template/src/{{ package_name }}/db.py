"""The database engine, the schema and the per-request session."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import shared.db.tables  # noqa: F401  (registers every table on SQLModel.metadata)


def create_db_engine(database_url: str) -> Engine:
    """Create the engine for ``database_url`` with the options its database needs."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        # Sessions are used by the worker threads of the server, one at a time.
        connect_args={"check_same_thread": False},
        # An in-memory database lives as long as its one connection: share it.
        poolclass=StaticPool if in_memory else None,
    )
    event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_schema(engine: Engine) -> None:
    """Create every table that does not exist yet."""
    SQLModel.metadata.create_all(engine)


def get_db_session(request: Request) -> Iterator[Session]:
    """One session per request; the editor services commit, so it only needs closing."""
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db_session)]
