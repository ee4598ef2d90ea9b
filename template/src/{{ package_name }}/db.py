"""The database: engine, schema migrations and the per-request session."""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from shared.db.tables import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_db_engine(database_url: str) -> Engine:
    """Create the engine for ``database_url`` with the options its database needs."""
    url = make_url(database_url)
    # hide_parameters: a failed statement's error (and so the error log) names the statement
    # but not the row values it carried, which may be personal or secret.
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    in_memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        # Sessions are used by the worker threads of the server, one at a time.
        connect_args={"check_same_thread": False},
        # An in-memory database lives as long as its one connection: share it.
        poolclass=StaticPool if in_memory else None,
        hide_parameters=True,
    )
    event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for this service, running on ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_schema(engine: Engine) -> None:
    """Apply every migration head: each feature's branch and the team's own revisions."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")


def schema_drift(connection: Connection) -> list[Any]:
    """What autogenerate would still change: empty when the migrations match the models."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def get_db_session(request: Request) -> Iterator[Session]:
    """One session per request; the editor services commit, so it only needs closing."""
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db_session)]
