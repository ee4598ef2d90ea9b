"""The repository every feature's audit table gets: append and read, never change."""

from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import col, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.repositories.table_repository import TableRepository
from shared.models.dto_base import PageQuery

AuditT = TypeVar("AuditT", bound=AuditBase)


class AuditRepository(TableRepository[AuditT]):
    """Rows of one audit table. A feature's audit repository names the table."""

    def create(self, audit: AuditT) -> AuditT:
        """Create new audit entry."""
        return self._write(audit)

    def append(self, values: dict[str, Any]) -> None:
        """Write a new audit entry given as its columns' values (``id`` and ``created_at`` too).

        The editor service writes its entries this way: a model instance would only be built
        to be taken apart again for the INSERT, on every change.
        """
        self._insert_values(values)

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

    def all_in_time_order(self) -> list[AuditT]:
        """Every row of the table, entity by entity, each entity's rows oldest first."""
        statement = select(self.model).order_by(
            self._entity_id_column(), col(self.model.created_at), col(self.model.id)
        )
        return list(self.session.exec(statement).all())

    def _entity_id_column(self) -> Any:
        return col(getattr(self.model, self.model.entity_id_field()))
