"""Columns, column types and behaviour shared by every table model."""

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel
from typing_extensions import override

# Deterministic constraint names, so that migrations can refer to them on every database.
# Each stays within PostgreSQL's 63 characters for the longest names the template accepts.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 36
NAME_LENGTH = 255
REQUEST_ID_LENGTH = 128
# A SHA-256 in hex: the audit hash chain's links.
HASH_LENGTH = 64

# JSON documents: jsonb on PostgreSQL (indexable, compact), JSON text elsewhere.
JSON_DOCUMENT = sa.JSON().with_variant(JSONB(), "postgresql")


# The timestamps every list sorts by; a feature's filterable fields are its other sort keys.
TIMESTAMP_SORT_KEYS = ("created_at", "updated_at")


def list_order(sort_key: str) -> tuple[str, ...]:
    """The columns a list sorted by ``sort_key`` is ordered by: the key, then tie-breakers.

    Ids break ties, so that the order is total and a cursor (the last row's values of these
    columns) names one place in it. A field's ties go by creation first, so that one index,
    (field, created_at, id), serves both the sort by the field and the filter on it in the
    default order.
    """
    if sort_key in TIMESTAMP_SORT_KEYS:
        return (sort_key, "id")
    return (sort_key, "created_at", "id")


def list_indexes(table: str, *fields: str) -> tuple[sa.Index, ...]:
    """The indexes a feature's list reads its pages by: one per sort key, in its order.

    ``fields`` are the feature's filterable fields: an equality filter on one of them is a
    range of its index too. ``ix_<table>_by_<key>`` fits 63 characters for the longest names.
    """
    return tuple(
        sa.Index(f"ix_{table}_by_{key}", *list_order(key))
        for key in (*TIMESTAMP_SORT_KEYS, *fields)
    )


def new_id() -> str:
    """Return a fresh primary key: a random UUID in its canonical text form."""
    return str(uuid4())


def utc_now() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp: stored in UTC, read back aware on every database.

    SQLite keeps no time zone, so values read from it are marked UTC (they were written so).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store aware ones in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = f"refusing naive datetime {value!r}: its time zone is unknown"
            raise ValueError(msg)
        return value.astimezone(UTC)

    @override
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return stored values as aware UTC datetimes."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def enum_column(enum_class: type[Enum], column_name: str) -> sa.Enum:
    """A column type for a str enum: stores its values, checked by a CHECK constraint.

    Not a native database enum: adding a value later is a constraint change, not a type
    migration. The constraint is named after the column (``ck_<table>_<column>``).
    """
    return sa.Enum(
        enum_class,
        name=column_name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(member.value)) for member in enum_class),
        values_callable=lambda members: [str(member.value) for member in members],
        validate_strings=True,
    )


class BaseDBModelMixin:
    """Behaviour every table model shares. Tables list it after ``SQLModel`` (or a subclass)."""

    def dump_to_dto_dict(self) -> dict[str, Any]:
        """Return the row's column values, ready to validate a read DTO from."""
        if not isinstance(self, SQLModel):
            msg = f"{type(self).__name__} must be a SQLModel table to be dumped"
            raise TypeError(msg)
        return self.model_dump()


class EntityBase(SQLModel):
    """Columns of every feature's entity: identity, version, timestamps and soft delete."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    # Incremented by every UPDATE, which also requires the row to still be at the version it
    # was read at (see __mapper_args__): two writers can never both win.
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Set by a soft delete; list queries filter on it. Not indexed: a list reads its rows in
    # order from its sort's index and passes over deleted ones (see ``list_indexes``); with an
    # index here, SQLite would read the live rows by it and sort them all.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Earlier names of the feature's fields, each with the field's name now: audit snapshots
    # written before a rename hold the value under the old name (see ``fit_snapshot``).
    renamed_fields: ClassVar[Mapping[str, str]] = {}
    # Fields whose type changed (``("int", "decimal")``): older snapshots hold the old type.
    retyped_fields: ClassVar[Mapping[str, tuple[str, str]]] = {}
    # What a soft delete of a reference's target does to the rows that refer to it, by field:
    # "restrict" (the default) refuses it while live ones do, "cascade" deletes them too.
    on_target_delete: ClassVar[Mapping[str, str]] = {}

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 (a class-level directive)
        """Let SQLAlchemy own ``version``: ``UPDATE ... WHERE id = :id AND version = :read``."""
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    def touch(self, now: datetime | None = None) -> None:
        """Mark a change at ``now`` (the current time by default); the flush bumps the version."""
        self.updated_at = now or utc_now()
