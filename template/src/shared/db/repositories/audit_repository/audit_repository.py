"""The repository every feature's audit table gets: append and read, never change."""

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, Text, cast, func, literal
from sqlmodel import col, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.models.audit_models.audit_chain import (
    HashForm,
    content_around_feed_position,
    row_hash_of,
)
from shared.db.models.audit_models.audit_legacy import AuditLegacyEntry
from shared.db.repositories.table_repository import TableRepository
from shared.models.dto_base import PageQuery

AuditT = TypeVar("AuditT", bound=AuditBase)


class AuditRepository(TableRepository[AuditT]):
    """Rows of one audit table. A feature's audit repository names the table."""

    def create(self, audit: AuditT) -> AuditT:
        """Create new audit entry."""
        return self._write(audit)

    def append(self, values: dict[str, Any]) -> None:
        """Write a new audit entry given as its columns' values (``id`` and ``created_at`` too),
        with its hash (``row_hash``) computed over them and its feed position.

        The editor service writes its entries this way: a model instance would only be built
        to be taken apart again for the INSERT, on every change. On PostgreSQL the feed
        position is the id of the writing transaction, which the database fills in: the
        INSERT computes the hash itself, from the canonical content around that position, so
        that covering the position costs no round trip.
        """
        table: Table = self.model.__table__  # type: ignore[attr-defined]
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            row = {**values, "transaction_id": 0}
            connection.execute(table.insert(), {**row, "row_hash": row_hash_of(self.model, row)})
            return
        before, after = content_around_feed_position(self.model, values)
        content = func.concat(
            literal(before), cast(func.pg_current_xact_id(), Text), literal(after)
        )
        row_hash = func.encode(func.sha256(func.convert_to(content, "UTF8")), "hex")
        connection.execute(table.insert().values(row_hash=row_hash), values)

    def get_trail(self, entity_id: str) -> list[AuditT]:
        """Every audit entry of one entity, newest first."""
        statement = (
            select(self.model)
            .where(self._entity_id_column() == entity_id)
            .order_by(col(self.model.created_at).desc(), col(self.model.id).desc())
        )
        return list(self.session.exec(statement).all())

    def get_page(self, entity_id: str, query: PageQuery) -> tuple[list[AuditT], int | None]:
        """One page of an entity's audit entries, newest first (one more, if more follow).

        With their count if ``query.include_total`` (None otherwise).
        """
        statement = select(self.model).where(self._entity_id_column() == entity_id)
        return self._page(statement, query)

    def get_entry(self, entity_id: str, entry_id: str) -> AuditT | None:
        """One audit entry of one entity (None if the id is another entity's, or no entry's)."""
        statement = select(self.model).where(
            col(self.model.id) == entry_id, self._entity_id_column() == entity_id
        )
        return self.session.exec(statement).first()

    def get_as_of(self, entity_id: str, moment: datetime) -> AuditT | None:
        """The newest audit entry of one entity made at or before ``moment`` (None: none yet)."""
        statement = (
            select(self.model)
            .where(self._entity_id_column() == entity_id, col(self.model.created_at) <= moment)
            .order_by(col(self.model.created_at).desc(), col(self.model.id).desc())
            .limit(1)
        )
        return self.session.exec(statement).first()

    def latest_hash(self, entity_id: str) -> str | None:
        """The hash of an entity's newest audit row (None if it has none, or it is unhashed)."""
        statement = (
            select(self.model.row_hash)
            .where(self._entity_id_column() == entity_id)
            .order_by(col(self.model.created_at).desc(), col(self.model.id).desc())
            .limit(1)
        )
        return self.session.exec(statement).first()

    def legacy_form(self, entry_id: str) -> HashForm | None:
        """How an entry written before the second hash form is hashed (None: it is not one)."""
        statement = select(AuditLegacyEntry.hash_form).where(
            col(AuditLegacyEntry.audit_table) == self.model.table_name(),
            col(AuditLegacyEntry.entry_id) == entry_id,
        )
        form = self.session.exec(statement).first()
        return None if form is None else HashForm(form)

    def all_in_time_order(self) -> list[AuditT]:
        """Every row of the table, entity by entity, each entity's rows oldest first."""
        statement = select(self.model).order_by(
            self._entity_id_column(), col(self.model.created_at), col(self.model.id)
        )
        return list(self.session.exec(statement).all())

    def _entity_id_column(self) -> Any:
        return col(getattr(self.model, self.model.entity_id_field()))
