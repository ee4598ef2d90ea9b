"""Columns and rules every feature's audit table shares.

A feature's audit model (``ProductAudit``) adds only what is its own: the table name
(``product_audit``), the column that points at its entity (``product_id``) and its
action-code enum.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import BigInteger, CheckConstraint, Dialect, Index, String, Text, text
from sqlalchemy.orm import declared_attr
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from shared.db.models.base_model import (
    HASH_LENGTH,
    ID_LENGTH,
    JSON_DOCUMENT,
    NAME_LENGTH,
    REQUEST_ID_LENGTH,
    UTCDateTime,
    new_id,
    utc_now,
)

# An action code: the feature's name, then the change's kind (PRODUCT_CREATED, INVOICE_PLACED).
ACTION_CODE_LENGTH = 64


def action_code_check(entity_table: str, *earlier_tables: str) -> str:
    """The CHECK constraint of an audit table's codes: each starts with its feature's name.

    A renamed feature's older rows keep the codes of the name they were written under (rows
    are never changed), so its earlier names' prefixes stay allowed.
    """
    return " OR ".join(
        f"action_code LIKE '{table.upper()}\\_%' ESCAPE '\\'"
        for table in (entity_table, *earlier_tables)
    )


class ActionCodeType(TypeDecorator[str]):
    """An audit table's action codes: its feature's enum's, and its own commands' codes.

    Stored as text, not as a database enum or a list of values in a CHECK constraint, so that
    a command a feature adds (``extra_actions`` of its service) needs no migration; the
    table's CHECK constraint holds every code to the feature's prefix. Read back, a code of
    the enum is its member, a command's code its text.
    """

    impl = String(ACTION_CODE_LENGTH)
    cache_ok = True

    def __init__(self, codes: type[StrEnum]) -> None:
        super().__init__()
        self.codes = codes

    def process_bind_param(
        self,
        value: str | None,
        dialect: Dialect,  # noqa: ARG002 (the same on every database)
    ) -> str | None:
        """Store the code's text."""
        return None if value is None else str(value)

    def process_result_value(
        self,
        value: str | None,
        dialect: Dialect,  # noqa: ARG002 (the same on every database)
    ) -> str | None:
        """The enum's member for one of its codes; a command's code as it is."""
        if value is None:
            return None
        try:
            return self.codes(value)
        except ValueError:
            return value


def action_code_column(codes: type[StrEnum]) -> Any:
    """The column of an audit table that holds its rows' action codes (see ActionCodeType)."""
    return Field(sa_type=ActionCodeType(codes), max_length=ACTION_CODE_LENGTH)


def entity_reference(table: str) -> Any:
    """The column of an audit table that points at the entity a row is about."""
    return Field(foreign_key=f"{table}.id", max_length=ID_LENGTH)


class AuditBase(SQLModel):
    """One change to one entity: who, what, when, and the entity as the change left it.

    Rows are appended in the transaction of the change they describe and never changed: the
    migrations install a database trigger that refuses UPDATE and DELETE on every audit table.
    """

    id: str = Field(default_factory=new_id, primary_key=True, max_length=ID_LENGTH)
    performed_by_user_id: str = Field(index=True, max_length=NAME_LENGTH)
    performed_by_user_name: str = Field(max_length=NAME_LENGTH)
    description: str = Field(sa_type=Text)
    data_snapshot: dict[str, Any] | None = Field(default=None, sa_type=JSON_DOCUMENT)
    # For updates: {"field": {"old": ..., "new": ...}} for every field that changed.
    changes: dict[str, Any] | None = Field(default=None, sa_type=JSON_DOCUMENT)
    # The request that made the change (the server's X-Request-ID): ties the row to its logs.
    request_id: str | None = Field(default=None, max_length=REQUEST_ID_LENGTH)
    # The caller's own X-Request-ID for that request, if it sent an acceptable one.
    caller_request_id: str | None = Field(default=None, max_length=REQUEST_ID_LENGTH)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # The hash chain (see audit_chain): the previous row's hash for the same entity (NULL for
    # the first), and this row's hash over its content, the previous hash included. NULL in
    # rows written before the chain existed.
    previous_hash: str | None = Field(default=None, max_length=HASH_LENGTH)
    row_hash: str | None = Field(default=None, max_length=HASH_LENGTH)
    # The change feed's position (see shared.services.change_feed): on PostgreSQL the id of the
    # transaction that wrote the row, 0 on SQLite and in rows written before the feed existed.
    # The database fills it in (the migrations give PostgreSQL its default), so the INSERT
    # leaves it out; the row written keeps None (nothing reads it there, the feed reads rows).
    transaction_id: int | None = Field(
        default=None,
        sa_type=BigInteger,
        sa_column_kwargs={"server_default": text("0")},
        nullable=False,
    )
    # The table's names before its feature was renamed, oldest first: rows written then have
    # hashes over the name of that time and action codes with its prefix, and tokens issued
    # then carry its permissions.
    earlier_table_names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def table_name(cls) -> str:
        """The table's name: ``product_audit``."""
        return str(cls.__tablename__)

    @classmethod
    def table_names(cls) -> tuple[str, ...]:
        """The table's name now, then every name it had before (see earlier_table_names)."""
        return (cls.table_name(), *reversed(cls.earlier_table_names))

    @classmethod
    def entity_id_field(cls) -> str:
        """The column naming the entity a row is about: ``product_id`` in ``product_audit``."""
        return f"{str(cls.__tablename__).removesuffix('_audit')}_id"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, Index, CheckConstraint]:  # noqa: N805
        """The trail's and the feed's indexes, and the check of the action codes."""
        entity_tables = [name.removesuffix("_audit") for name in cls.table_names()]
        return (
            # Newest first by (created_at, id): a page of a trail is one range of this index.
            Index(f"ix_{cls.__tablename__}_trail", cls.entity_id_field(), "created_at", "id"),
            Index(f"ix_{cls.__tablename__}_feed", "transaction_id", "created_at", "id"),
            CheckConstraint(action_code_check(*entity_tables), name="action_code"),
        )

    @property
    def entity_id(self) -> str:
        """The id of the entity this row is about, whatever the feature calls its column."""
        value: str = getattr(self, self.entity_id_field())
        return value
