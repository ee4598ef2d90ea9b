"""The repository every feature's audit table gets: append and read, never change.

Pages of audit rows are bounded in bytes as well as in rows: a snapshot is as large as the
entity, and an update's row holds its changed fields twice more (old and new values), so a
page of 200 rows of a feature with a large ``json`` field can weigh hundreds of megabytes.
A page's rows are chosen by their keys and by their sizes, measured by the database
(:func:`count_within_budget`), before any of them is read whole.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import LargeBinary, Table, Text, cast, func, literal, literal_column
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

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

# What a row's fields of bounded length (ids, performer, action, time, request ids, and the
# keys that name them) add to its snapshot, changes and description in an answer, at most.
ENTRY_FIELDS_BYTES = 1024
# Rows whose sizes the first read of a page's sizes asks for: a few, since one row may hold
# the whole budget; later reads ask for as many as the rest of the budget holds.
FIRST_SIZES = 4


@dataclass(frozen=True)
class AuditPage(Generic[AuditT]):
    """One page of an entity's audit entries, newest first, and whether more follow."""

    entries: list[AuditT]
    # True when entries follow the page's last one: it ended at ``limit`` or at its budget.
    more: bool
    # How many entries the trail has, with ``include_total`` (None otherwise).
    total: int | None


def _document_bytes(column: Any, dialect: str) -> Any:
    """SQL: how many bytes a JSON document takes as the database holds it (NULL for NULL)."""
    if dialect == "postgresql":
        # Its jsonb's uncompressed size, close to its text's. The text itself (``::text``)
        # took the database longer to make than sending the row did. Concatenating an empty
        # object gives the document itself, uncompressed: pg_column_size of a column would
        # count its compressed bytes, a few per kilobyte of repetitive text.
        return func.pg_column_size(column.op("||")(literal_column("'{}'::jsonb")))
    # SQLite keeps JSON as text: its length as a blob counts bytes, not characters.
    return func.length(cast(column, LargeBinary))


def _text_bytes(column: Any, dialect: str) -> Any:
    """SQL: how many bytes a text value takes (NULL for NULL)."""
    if dialect == "postgresql":
        return func.octet_length(column)
    return func.length(cast(column, LargeBinary))


def entry_size(model: type[AuditBase], dialect: str) -> Any:
    """SQL: about how many bytes an audit row takes in an answer, measured where it is stored.

    Its snapshot, changes and description, and :data:`ENTRY_FIELDS_BYTES` for the rest. JSON
    escapes (a quote, a control character) can make a document's answer longer than it is
    stored: the measure is an estimate, close for most documents.
    """
    sized = (
        func.coalesce(_document_bytes(col(model.data_snapshot), dialect), 0)
        + func.coalesce(_document_bytes(col(model.changes), dialect), 0)
        + func.coalesce(_text_bytes(col(model.description), dialect), 0)
    )
    return sized + ENTRY_FIELDS_BYTES


def count_within_budget(
    session: Session, entries: Sequence[tuple[type[AuditBase], str]], max_bytes: int
) -> int:
    """How many of ``entries`` (audit rows by table and id, in page order) fit in ``max_bytes``.

    Always at least one, so that a row larger than the budget still comes, on a page of its
    own. The sizes are measured by the database and read in batches: first
    :data:`FIRST_SIZES` rows, then as many as the rest of the budget holds at the average size
    so far, and one more to tell where the page ends.
    """
    dialect = session.get_bind().dialect.name
    taken, used, batch = 0, 0, FIRST_SIZES
    # Every row counts at least ENTRY_FIELDS_BYTES: once the budget is spent, no other fits.
    while taken < len(entries) and used < max_bytes:
        chunk = entries[taken : taken + batch]
        sizes: dict[str, int] = {}
        ids_by_model: dict[type[AuditBase], list[str]] = {}
        for model, entry_id in chunk:
            ids_by_model.setdefault(model, []).append(entry_id)
        for model, ids in ids_by_model.items():
            statement = select(col(model.id), entry_size(model, dialect)).where(
                col(model.id).in_(ids)
            )
            sizes.update((entry_id, size) for entry_id, size in session.exec(statement))
        for _, entry_id in chunk:
            if taken and used + sizes[entry_id] > max_bytes:
                return taken
            used += sizes[entry_id]
            taken += 1
        average = used / taken
        batch = max(1, math.ceil((max_bytes - used) / average)) + 1
    return taken


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

    def get_page(self, entity_id: str, query: PageQuery, max_bytes: int) -> AuditPage[AuditT]:
        """One page of an entity's audit entries, newest first: up to ``query.limit`` of them
        and about ``max_bytes`` (see :func:`count_within_budget`; one at least).

        The page's keys are read first, its entries' sizes next, and only then the entries
        that fit, whole: reading ``limit`` rows to keep a few would cost what the budget saves.
        """
        # Only the keys (what a cursor holds): a row's other columns may be large.
        key_columns = [getattr(self.model, column) for column in query.sort_columns()]
        keyed = (
            select(self.model)
            .where(self._entity_id_column() == entity_id)
            .options(load_only(*key_columns))
        )
        keys, total = self._page(keyed, query)
        shown = [(self.model, key.id) for key in keys[: query.limit]]
        fit = count_within_budget(self.session, shown, max_bytes)
        fitting = [entry_id for _, entry_id in shown[:fit]]
        entries: list[AuditT] = []
        if fitting:
            statement = (
                select(self.model)
                .where(col(self.model.id).in_(fitting))
                # The rows are in the session already, with their keys only: load the rest.
                .execution_options(populate_existing=True)
            )
            by_id = {entry.id: entry for entry in self.session.exec(statement)}
            entries = [by_id[entry_id] for entry_id in fitting]
        return AuditPage(entries=entries, more=len(keys) > len(entries), total=total)

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
            col(AuditLegacyEntry.audit_table).in_(self.model.table_names()),
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
