"""Tamper evidence for audit trails: a hash chain per entity, and the walk that checks it.

Every audit row written from release 0.3.0 on carries ``row_hash``, the SHA-256 of its
canonical content, and ``previous_hash``, the ``row_hash`` of the entity's previous audit row
(NULL for the first hashed row). Changing a row breaks its own hash; removing one leaves the
next row pointing at a hash no row has (removing the newest rows is caught against the
entity's version, in ``audit_verification``); moving rows around in time (their ``created_at``)
makes the links disagree with the time order. Rows written before hashing existed have no
hash: those the migration that started the chain listed (``audit_legacy_entry``) are reported
as unchained legacy rows, and a chain starts at its first hashed row; any other row without a
hash is a break.

A chain is evidence against edits made behind the service's back (a superuser who disables
the audit guard, a backup restored with rows missing), not a signature: someone who can
rewrite the table and knows this module can recompute every hash. ``audit checkpoint`` closes
that gap: it signs every entity's newest ``row_hash`` with a key the database does not hold and
keeps them where the service's role cannot write; a recomputed chain no longer passes through
the hash kept there.

The canonical content is the JSON object of the fields in ``CHAIN_FIELDS``, keys sorted, no
whitespace, ASCII only, timestamps as ISO 8601 in UTC with microseconds. Its second form, which
every row written from this release on has, also covers ``transaction_id`` (the row's place in
the change feed) and writes every number as its shortest decimal, normalised (``1E+23``): a
float and the number a database gives back for it (PostgreSQL's JSONB keeps ``1e23`` as the
integer 10^23, which is not the float's exact value) hash alike, and so do ``2.0`` and ``2``.
The first form, which rows written by earlier builds have, is kept to check them: the
migration that introduced the second (``shared_0005``) lists those rows in
``audit_legacy_entry``, with the rows that have no hash at all. Columns added to audit tables
later are not covered unless a new form is introduced: the list is fixed so that old hashes
stay valid.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Context, Decimal
from enum import IntEnum, StrEnum
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
# The second form covers the feed position too.
CHAIN_FIELDS_SINCE_FORM_2 = (*CHAIN_FIELDS, "transaction_id")
# The two keys of the canonical form that are not the row's own columns of those names.
_NOT_COLUMNS = frozenset({"table", "entity_id"})


class HashForm(IntEnum):
    """How a row's hash was computed, as ``audit_legacy_entry`` records it for older rows."""

    # No hash: the row was written before the chain existed.
    NONE = 0
    # The first canonical form: no feed position, numbers as Python's JSON writes them.
    FIRST = 1
    # The form of every row written from this release on (see the module's docstring).
    SECOND = 2


def _first_form_value(value: Any) -> Any:
    """``value`` as the first form wrote it, before it was dumped as JSON."""
    if isinstance(value, dict):
        return {str(key): _first_form_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_first_form_value(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, StrEnum):
        return value.value
    return value


def _canonical_number(value: int | float) -> str:
    """A number as its shortest decimal, normalised: ``1e23`` and ``10**23`` both ``1E+23``.

    A float is taken at its shortest repr (what its JSON text says), not at its exact binary
    value, which no database keeps; the precision is the number's own, so no digit is lost.
    """
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        return str(number)
    if number.is_zero():
        return "0"
    return str(number.normalize(Context(prec=max(1, len(number.as_tuple().digits)))))


def canonical_json(value: Any) -> str:
    """``value`` as the second form writes it: JSON, keys sorted, numbers normalised.

    Two values with the same canonical JSON are the same to every database's JSON column.
    """
    if isinstance(value, dict):
        items = sorted((str(key), item) for key, item in value.items())
        members = ",".join(f"{json.dumps(key)}:{canonical_json(item)}" for key, item in items)
        return "{" + members + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _canonical_number(value)
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat(timespec="microseconds")
    elif isinstance(value, StrEnum):
        value = value.value
    return json.dumps(value, ensure_ascii=True)


def canonical_content(
    row: AuditBase, form: HashForm = HashForm.SECOND, table: str | None = None
) -> bytes:
    """The bytes a row's hash is computed over, in the given form (``table``: see below)."""
    columns = row.model_dump(include={*CHAIN_FIELDS_SINCE_FORM_2, row.entity_id_field()})
    return canonical_content_of(type(row), columns, form, table)


def canonical_content_of(
    model: type[AuditBase],
    values: Mapping[str, Any],
    form: HashForm = HashForm.SECOND,
    table: str | None = None,
) -> bytes:
    """The canonical content of a row of ``model`` whose columns hold ``values``.

    A column missing from ``values`` counts as NULL, as it is stored when an INSERT leaves it
    out (``previous_hash`` of an entity's first row); the feed position as 0, its default.
    ``table`` is the table's name when the row was written, if the feature was renamed since.
    """
    if form == HashForm.FIRST:
        content = {
            "table": table or model.table_name(),
            "entity_id": values[model.entity_id_field()],
            **{field: values.get(field) for field in CHAIN_FIELDS if field not in _NOT_COLUMNS},
        }
        text = json.dumps(
            _first_form_value(content), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
        return text.encode("ascii")
    before, after = content_around_feed_position(model, values, table)
    return f"{before}{int(values.get('transaction_id') or 0)}{after}".encode("ascii")


def content_around_feed_position(
    model: type[AuditBase], values: Mapping[str, Any], table: str | None = None
) -> tuple[str, str]:
    """The second form's canonical content of a row, as the text before and after its feed
    position (written as a plain integer).

    On PostgreSQL the position is the id of the transaction that writes the row, which only the
    database knows as it writes it: the INSERT computes the hash from these two texts and the
    position (see the audit repository's ``append``). ``transaction_id`` is the last key of the
    sorted content, so the position ends it.
    """
    content = {
        "table": table or model.table_name(),
        "entity_id": values[model.entity_id_field()],
        **{field: values.get(field) for field in CHAIN_FIELDS if field not in _NOT_COLUMNS},
    }
    text = canonical_json(content)
    return text.removesuffix("}") + ',"transaction_id":', "}"


def compute_row_hash(
    row: AuditBase, form: HashForm = HashForm.SECOND, table: str | None = None
) -> str:
    """The SHA-256 (hex) of a row's canonical content (under ``table``, its name then)."""
    return hashlib.sha256(canonical_content(row, form, table)).hexdigest()


def row_hash_of(model: type[AuditBase], values: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of the canonical content of a row of ``model`` holding ``values``."""
    return hashlib.sha256(canonical_content_of(model, values)).hexdigest()


class BreakKind(StrEnum):
    """How a chain is broken at a row, or an entity's trail disagrees with the entity."""

    # The row's content no longer has the hash it was written with, or its hash is gone.
    CHANGED = "changed"
    # The row points at a previous row that is not there: at least one row was removed; or
    # the trail ends before the entity's version, or the entity has no trail at all.
    REMOVED = "removed"
    # The row points at a row of its chain, but not at the one before it in time.
    REORDERED = "reordered"
    # The entity's row holds what no audit entry recorded: it was changed without one.
    UNRECORDED = "unrecorded"
    # The chain no longer holds the entry a checkpoint recorded: it was rewritten since.
    REWRITTEN = "rewritten"


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link of one entity's chain (no entry: the entity has none)."""

    table: str
    entity_id: str
    entry_id: str | None
    kind: BreakKind
    detail: str


@dataclass(frozen=True)
class ChainReport:
    """What the walk of one entity's trail found."""

    rows: int
    legacy_rows: int
    broken: ChainBreak | None
    last_hash: str | None


def verify_chain(
    table: str, rows: Sequence[AuditBase], legacy_forms: Mapping[str, HashForm] | None = None
) -> ChainReport:
    """Walk one entity's audit rows, given in time order, and find the first broken link.

    ``legacy_forms`` holds the rows the migration that started the second form listed (by
    id): with no hash (legacy rows, which may only come before the chain) or hashed in the
    first form. Every other row must be hashed in the second form, point at the row before
    it, and match its own hash.
    """
    forms = legacy_forms or {}
    legacy = 0
    for row in rows:
        if row.row_hash is not None or forms.get(row.id) != HashForm.NONE:
            break
        legacy += 1
    chained = rows[legacy:]
    known = {row.row_hash: row for row in chained if row.row_hash is not None}
    expected_previous: str | None = None
    for row in chained:
        broken = _first_fault(table, row, expected_previous, known, forms.get(row.id))
        if broken is not None:
            return ChainReport(len(rows), legacy, broken, None)
        expected_previous = row.row_hash
    return ChainReport(len(rows), legacy, None, expected_previous)


def _first_fault(
    table: str,
    row: AuditBase,
    expected_previous: str | None,
    known: dict[str, AuditBase],
    listed_form: HashForm | None,
) -> ChainBreak | None:
    def broken(kind: BreakKind, detail: str) -> ChainBreak:
        return ChainBreak(table, row.entity_id, row.id, kind, detail)

    if row.row_hash is None:
        return broken(BreakKind.CHANGED, "its hash was removed")
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
    if not _matches_its_hash(row, listed_form):
        return broken(BreakKind.CHANGED, "its content does not match its hash")
    return None


def _matches_its_hash(row: AuditBase, listed_form: HashForm | None) -> bool:
    """Whether a hashed row's content has its hash, in the form the row may have.

    A row listed as hashed in the first form may also have the second: ``shared_0005`` lists
    every hashed row it finds, and a database taken back below it and upgraded again holds
    rows of the second form by then.
    """
    forms = (
        (HashForm.FIRST, HashForm.SECOND) if listed_form == HashForm.FIRST else (HashForm.SECOND,)
    )
    # A row written before its feature was renamed has the table's name of then in its hash;
    # no other table ever has that name (a feature's earlier names stay taken).
    return any(
        compute_row_hash(row, form, table) == row.row_hash
        for form in forms
        for table in type(row).table_names()
    )


def entry_is_intact(row: AuditBase, listed_form: HashForm | None = None) -> bool:
    """Whether one row still has the hash it was written with (a legacy row can't tell)."""
    if row.row_hash is None:
        return listed_form == HashForm.NONE
    return _matches_its_hash(row, listed_form)
