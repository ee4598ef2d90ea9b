"""The repository every feature's entity table gets: add, find and list. Never commits."""

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import col, select

from shared.db.models.base_model import EntityBase
from shared.db.repositories.table_repository import TableRepository
from shared.models.dto_base import ListQuery

EntityT = TypeVar("EntityT", bound=EntityBase)


class Repository(TableRepository[EntityT]):
    """Rows of one entity table. A feature's repository names the table and adds its queries."""

    def add(self, entity: EntityT, requires: Sequence[ColumnElement[bool]] = ()) -> EntityT:
        """Write a new row, or flush a changed one.

        A new row is written only if the conditions ``requires`` hold when it is.

        Raises:
            ConditionsNotMetError: a condition did not hold; the new row was not written.
        """
        return self._write(entity, requires)

    def get(self, entity_id: str) -> EntityT | None:
        """Return the row with this id, soft-deleted or not."""
        return self.session.get(self.model, entity_id)

    def exists_with(self, field: str, value: object, *, exclude_id: str | None = None) -> bool:
        """Whether a row other than ``exclude_id`` holds ``value`` in ``field``."""
        statement = select(self.model.id).where(getattr(self.model, field) == value)
        if exclude_id is not None:
            statement = statement.where(col(self.model.id) != exclude_id)
        return self.session.exec(statement.limit(1)).first() is not None

    def list_page(self, query: ListQuery) -> tuple[list[EntityT], int | None]:
        """One page of the rows matching ``query`` (one more, if more follow) and their count.

        The count is None unless ``query.include_total``: it reads every match.
        """
        statement = select(self.model)
        if not query.include_deleted:
            statement = statement.where(col(self.model.deleted_at).is_(None))
        for field, value in query.filters().items():
            statement = statement.where(getattr(self.model, field) == value)
        return self._page(statement, query)
