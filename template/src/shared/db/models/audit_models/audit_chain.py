"""Tamper evidence for audit trails: a hash chain per entity, and the walk that checks it.

Every audit row written from release 0.3.0 on carries ``row_hash``, the SHA-256 of its
canonical content, and ``previous_hash``, the ``row_hash`` of the entity's previous audit row
(NULL for the first hashed row). Changing a row breaks its own hash; removing one leaves the
next row pointing at a hash no row has (removing the newest rows is caught against the
entity's version, in ``audit_verification``); moving rows around in time (their ``created_at``)
makes the links disagree with the time order. Rows written before hashing existed have no
hash: they are reported as unchained legacy rows, and a chain starts at its first hashed row.

A chain is evidence against edits made behind the service's back (a superuser who disables
the audit guard, a backup restored with rows missing), not a signature: someone who can
rewrite the table and knows this module can recompute every hash. To close that gap, copy each
entity's newest ``row_hash`` somewhere the database's superuser cannot write (an archive made
with ``audit export``): a recomputed chain no longer ends at the hash kept there.

The canonical content (version 1) is the JSON object of the fields in ``CHAIN_FIELDS``,
keys sorted, no whitespace, ASCII only; timestamps as ISO 8601 in UTC with microseconds;
floats with an integral value as integers (PostgreSQL's JSONB gives back ``1e20`` as
``100000000000000000000``). Columns added to audit tables later are not covered unless a new
version of the form is introduced: the list is fixed so that old hashes stay valid.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.db.models.audit_models.audit_base import AuditBase

# The content a row's hash covers, in the canonical form's key names. ``entity_id`` is the
# feature's own column (``product_id``); ``table`` keeps a row from moving to another trail.
CHAIN_FIELDS = (
    "table",
    "id",
    "entity_id",
    "action_code",
    "performed_by_user_id",
    "performed_by_user_name",
    "description",
    "data_snapshot",
    "changes",
    "request_id",
    "caller_request_id",
    "created_at",
    "previous_hash",
)
# The two keys of the canonical form that are not the row's own columns of those names.
_NOT_COLUMNS = frozenset({"table", "entity_id"})


def _canonical_value(value: Any) -> Any:
    """``value`` in the form every database gives it back in (see the module's docstring)."""
    if isinstance(value, dict):
        return {str(key): _canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, StrEnum):
        return value.value
    return value


def canonical_content(row: AuditBase) -> bytes:
    """The bytes a row's hash is computed over: every field of ``CHAIN_FIELDS``."""
    columns = row.model_dump(include={*CHAIN_FIELDS, row.entity_id_field()})
    return canonical_content_of(type(row), columns)


def canonical_content_of(model: type[AuditBase], values: Mapping[str, Any]) -> bytes:
    """The canonical content of a row of ``model`` whose columns hold ``values``.

    A column missing from ``values`` counts as NULL, as it is stored when an INSERT leaves it
    out (``previous_hash`` of an entity's first row).
    """
    content = {
        "table": model.table_name(),
        "entity_id": values[model.entity_id_field()],
        **{field: values.get(field) for field in CHAIN_FIELDS if field not in _NOT_COLUMNS},
    }
    text = json.dumps(
        _canonical_value(content), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return text.encode("ascii")


def compute_row_hash(row: AuditBase) -> str:
    """The SHA-256 (hex) of a row's canonical content."""
    return hashlib.sha256(canonical_content(row)).hexdigest()


def row_hash_of(model: type[AuditBase], values: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of the canonical content of a row of ``model`` holding ``values``."""
    return hashlib.sha256(canonical_content_of(model, values)).hexdigest()


class BreakKind(StrEnum):
    """How a chain is broken at a row."""

    # The row's content no longer has the hash it was written with.
    CHANGED = "changed"
    # The row points at a previous row that is not there: at least one row was removed.
    REMOVED = "removed"
    # The row points at a row of its chain, but not at the one before it in time.
    REORDERED = "reordered"


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link of one entity's chain."""

    table: str
    entity_id: str
    entry_id: str
    kind: BreakKind
    detail: str


@dataclass(frozen=True)
class ChainReport:
    """What the walk of one entity's trail found."""

    rows: int
    legacy_rows: int
    broken: ChainBreak | None
    last_hash: str | None


def verify_chain(table: str, rows: Sequence[AuditBase]) -> ChainReport:
    """Walk one entity's audit rows, given in time order, and find the first broken link.

    Rows before the first hashed row are legacy rows (written before hashing existed). From
    the first hashed row on every row must be hashed, point at the row before it, and match
    its own hash.
    """
    legacy = 0
    for row in rows:
        if row.row_hash is not None:
            break
        legacy += 1
    chained = rows[legacy:]
    known = {row.row_hash: row for row in chained if row.row_hash is not None}
    expected_previous: str | None = None
    for row in chained:
        broken = _first_fault(table, row, expected_previous, known)
        if broken is not None:
            return ChainReport(len(rows), legacy, broken, None)
        expected_previous = row.row_hash
    return ChainReport(len(rows), legacy, None, expected_previous)


def _first_fault(
    table: str,
    row: AuditBase,
    expected_previous: str | None,
    known: dict[str, AuditBase],
) -> ChainBreak | None:
    def broken(kind: BreakKind, detail: str) -> ChainBreak:
        return ChainBreak(table, row.entity_id, row.id, kind, detail)

    # Links first: a moved row also fails its own hash (created_at is covered), but "moved"
    # says more than "changed".
    if row.previous_hash != expected_previous:
        if row.previous_hash is not None and row.previous_hash in known:
            return broken(
                BreakKind.REORDERED,
                f"follows entry {known[row.previous_hash].id}, not the entry before it in time",
            )
        if expected_previous is None and row.previous_hash is not None:
            return broken(BreakKind.REMOVED, "the entries before it are missing")
        return broken(BreakKind.REMOVED, "the entry it follows is missing")
    if row.row_hash is None:
        return broken(BreakKind.CHANGED, "its hash was removed")
    if compute_row_hash(row) != row.row_hash:
        return broken(BreakKind.CHANGED, "its content does not match its hash")
    return None


def group_by_entity(rows: Iterable[AuditBase]) -> dict[str, list[AuditBase]]:
    """Rows (in time order) grouped by entity, each group keeping the order."""
    groups: dict[str, list[AuditBase]] = {}
    for row in rows:
        groups.setdefault(row.entity_id, []).append(row)
    return groups
