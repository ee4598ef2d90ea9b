"""The repository every feature's audit table gets: append and read, never change."""

from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import col, func, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.repositories.table_repository import TableRepository

AuditT = TypeVar("AuditT", bound=AuditBase)


class AuditRepository(TableRepository[AuditT]):
    """Rows of one audit table. A feature's audit repository names the table."""

    def create(self, audit: AuditT) -> AuditT:
        """Create new audit entry."""
        return self._write(audit)

    def get_trail(self, entity_id: str) -> list[AuditT]:
        """Every audit entry of one entity, newest first."""
        return self.get_page(entity_id, limit=None)

    def get_page(self, entity_id: str, *, limit: int | None, offset: int = 0) -> list[AuditT]:
        """``limit`` audit entries of one entity (None: all) after ``offset``, newest first."""
        statement = (
            select(self.model)
            .where(self._entity_id_column() == entity_id)
            .order_by(col(self.model.created_at).desc(), col(self.model.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return list(self.session.exec(statement).all())

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

    def count(self, entity_id: str) -> int:
        """How many audit entries one entity has."""
        statement = select(func.count()).where(self._entity_id_column() == entity_id)
        return self.session.exec(statement).one()

    def _entity_id_column(self) -> Any:
        return col(getattr(self.model, self.model.entity_id_field()))
