"""The change feed: every feature's audit rows in one order a consumer can resume exactly.

The order is the key (transaction_id, created_at, id) of each audit row, and a page is the
rows after a cursor (the key of the last row a consumer has) in that order, read through each
audit table's feed index (keyset pagination: a page costs the same however long the trail).
Ids are random UUIDs, unique across the audit tables: the key orders every row of them all.

Why this key, and why a page never skips a row that commits later:

- PostgreSQL assigns ids, timestamps and sequence values before commit, so a transaction can
  commit after another that got a later value: a reader that has passed position N+1 would
  never see N. Here a row's ``transaction_id`` is the id of the transaction that wrote it
  (``pg_current_xact_id()``, 64 bits, never wrapping), and a page only holds rows written by
  transactions older than every transaction still running (``pg_snapshot_xmin`` of the
  reader's snapshot: the horizon). Every transaction below the horizon has ended, so no row
  can appear behind the cursor later; rows above it wait for the next read. A long-running
  writing transaction holds the feed back (never loses rows) until it ends; the horizon is
  the whole server's, so that includes other databases' transactions on the same server.
- SQLite lets one transaction write at a time, and a change takes that lock when its
  transaction begins, before it takes its time (``shared.db.transaction``): rows commit in
  time order, with ``transaction_id`` 0. Rows written before the feed existed have 0 on both databases and come
  first, in time order.
"""

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal, text, tuple_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.repositories.audit_repository.audit_repository import count_within_budget

# On PostgreSQL: transactions with an id below this have all ended (committed or not).
HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


@dataclass(frozen=True, order=True)
class FeedPosition:
    """Where a row is in the feed; a cursor is the position of the last row read."""

    transaction_id: int
    created_at: datetime
    entry_id: str

    def encode(self) -> str:
        """The opaque cursor for this position (URL-safe)."""
        content = [self.transaction_id, self.created_at.isoformat(), self.entry_id]
        return base64.urlsafe_b64encode(json.dumps(content).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> "FeedPosition":
        """The position a cursor stands for.

        Raises:
            ValueError: ``cursor`` is not a cursor this feed gave.
        """
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            transaction_id, created_at, entry_id = json.loads(base64.urlsafe_b64decode(padded))
            position = cls(int(transaction_id), datetime.fromisoformat(created_at), entry_id)
        except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as error:
            msg = "not a cursor of this feed"
            raise ValueError(msg) from error
        if position.created_at.tzinfo is None or not isinstance(entry_id, str):
            msg = "not a cursor of this feed"
            raise ValueError(msg)
        return position


@dataclass(frozen=True)
class FeedItem:
    """One change in the feed: the feature it belongs to and its audit row."""

    feature: str
    entry: AuditBase
    position: FeedPosition


def position_of(entry: AuditBase) -> FeedPosition:
    """The feed position of an audit row."""
    return FeedPosition(entry.transaction_id or 0, entry.created_at, entry.id)


def feed_horizon(session: Session) -> int | None:
    """The transaction id below which every writer has ended; None where writers are serial."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    horizon: int = session.connection().execute(HORIZON).scalar_one()
    return horizon


def read_feed(
    session: Session,
    audit_models: Mapping[str, type[AuditBase]],
    after: FeedPosition | None,
    limit: int,
    since: datetime | None = None,
    max_bytes: int | None = None,
) -> list[FeedItem]:
    """Up to ``limit`` changes after ``after`` (from the start: None), across every feature.

    ``since`` leaves out changes made before that time (an archive's start). ``max_bytes``
    bounds the page in bytes too (see ``count_within_budget``): it ends before the change that
    would take it over, and holds one change at least, however large. A page that ends early
    is a shorter page: the next one starts after its last change, as always.

    The page's positions come from one statement (each audit table's first ``limit`` keys
    after the cursor, one indexed range read each, merged by UNION ALL): one statement sees
    one snapshot. Reading the tables one statement at a time would not be safe on SQLite,
    where each statement outside a write sees the latest commit: a row committed between two
    reads could come after the cursor while an earlier one, in a table read before it
    committed, is left behind. The rows themselves are then read by id, one statement per
    feature on the page; audit rows never change, so what those reads see is what the
    positions were taken from. So are the sizes the budget is counted with, read between the
    two, and only for the first few rows that can fit.
    """
    horizon = feed_horizon(session)
    keys = [
        _table_keys(feature, model, after, limit, horizon, since)
        for feature, model in audit_models.items()
    ]
    merged = union_all(*keys).subquery()
    statement = (
        select(merged.c.feature, merged.c.transaction_id, merged.c.created_at, merged.c.id)
        .order_by(merged.c.transaction_id, merged.c.created_at, merged.c.id)
        .limit(limit)
    )
    page = [
        (feature, FeedPosition(transaction_id, created_at, entry_id))
        for feature, transaction_id, created_at, entry_id in session.exec(statement)
    ]
    if max_bytes is not None:
        sized = [(audit_models[feature], position.entry_id) for feature, position in page]
        page = page[: count_within_budget(session, sized, max_bytes)]
    entries: dict[str, AuditBase] = {}
    for feature in dict.fromkeys(feature for feature, _ in page):
        model = audit_models[feature]
        ids = [position.entry_id for name, position in page if name == feature]
        entries.update(
            (entry.id, entry) for entry in session.exec(select(model).where(col(model.id).in_(ids)))
        )
    return [FeedItem(feature, entries[position.entry_id], position) for feature, position in page]


def _table_keys(
    feature: str,
    model: type[AuditBase],
    after: FeedPosition | None,
    limit: int,
    horizon: int | None,
    since: datetime | None,
) -> Any:
    key = (col(model.transaction_id), col(model.created_at), col(model.id))
    statement = sa_select(literal(feature).label("feature"), *key).order_by(*key).limit(limit)
    if after is not None:
        # A plain tuple on the right: each value is bound with its column's type.
        statement = statement.where(
            tuple_(*key) > (after.transaction_id, after.created_at, after.entry_id)
        )
    if horizon is not None:
        statement = statement.where(col(model.transaction_id) < horizon)
    if since is not None:
        statement = statement.where(col(model.created_at) >= since)
    # Each part keeps its own ORDER BY and LIMIT inside the UNION ALL as a subquery.
    return sa_select(statement.subquery())


def feed_items_json(items: Iterable[FeedItem]) -> list[dict[str, Any]]:
    """The changes as plain JSON values: what the API serves and ``audit export`` writes.

    An entry's members are named as in an audit trail's page (``id``, ``action_code``, ...),
    with the ``cursor`` and ``feature`` of the feed.
    """
    return [
        {
            "cursor": item.position.encode(),
            "feature": item.feature,
            "id": item.entry.id,
            "entity_id": item.entry.entity_id,
            # The feature's own enum: the shared base class doesn't declare the column.
            "action_code": str(item.entry.model_dump(include={"action_code"})["action_code"]),
            "performed_by_user_id": item.entry.performed_by_user_id,
            "performed_by_user_name": item.entry.performed_by_user_name,
            "description": item.entry.description,
            "created_at": item.entry.created_at.isoformat(),
            "data_snapshot": item.entry.data_snapshot,
            "changes": item.entry.changes,
            "request_id": item.entry.request_id,
            "caller_request_id": item.entry.caller_request_id,
        }
        for item in items
    ]
