"""A feature's field changes: from one field list to the next, and the migration that makes it.

A feature's ``history`` (see features.py) holds the field lists its earlier migrations were
written from; each later list is one revision on the feature's own Alembic branch. This module
compares two consecutive lists and says what the revision does, in the order a migration must
do it: count the rows that would break the change (and refuse if there are any), drop the
indexes that go, add the new columns (nullable until they are filled), fill them, alter and
drop columns, then create the new indexes. The revision's downgrade is the same comparison the
other way round.

What can't be done without losing data is refused here, before anything is rendered, with the
reason and the way that works.

The SQL written here names only tables and fields, which are checked identifiers (snake_case
words): no value is ever spliced into it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cached_property

from .fields import NO_DEFAULT, FieldSpec, FieldSpecError, parse_fields, quoted

# Type changes every stored value survives (text of a date becomes midnight UTC).
LOSSLESS_TYPE_CHANGES = frozenset(
    {("int", "decimal"), ("int", "float"), ("str", "text"), ("date", "datetime")}
)
# Conversions that change how a value is written down: SQLite keeps dates as text (a datetime
# column reads "YYYY-MM-DD HH:MM:SS.ffffff"), so it rewrites them; PostgreSQL converts them
# with USING. Each is ``(SQLite's new text, PostgreSQL's USING)`` of a column ``{name}``.
TEXT_REWRITES = {
    ("date", "datetime"): ("{name} || ' 00:00:00.000000'", "{name}::timestamp AT TIME ZONE 'UTC'"),
    ("datetime", "date"): ("substr({name}, 1, 10)", "({name} AT TIME ZONE 'UTC')::date"),
}
# A revision's file name describes it; past this length it says "change_fields" instead.
MAX_DESCRIPTION_LENGTH = 40


class FieldChangeError(ValueError):
    """A change of a feature's fields that would lose data or can't be migrated."""


@dataclass(frozen=True)
class RowCheck:
    """Rows that would break a change: the migration counts them first and refuses if any."""

    where: str
    problem: str


@dataclass(frozen=True)
class TableIndex:
    """An index or unique constraint of a feature's table, named as the models name it."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    # The CHECK constraint an enum column carries (dropped with the column).
    check: bool = False


@dataclass(frozen=True)
class Fill:
    """Set a column (a new one, or NULLs of one made required) to its default."""

    column: str
    column_type: str
    value: str
    only_nulls: bool
    # ``"module.name"`` the value's Python source needs (``decimal.Decimal``), if any.
    value_import: str | None = None


@dataclass(frozen=True)
class ColumnChange:
    """``alter_column`` arguments: a rename, a type and/or a nullability change."""

    name: str
    existing_type: str
    existing_nullable: bool
    new_name: str | None = None
    type_: str | None = None
    nullable: bool | None = None
    postgresql_using: str | None = None
    # Whether SQLite rewrote the column's text in the new type's form first (TEXT_REWRITES).
    text_rewritten: bool = False


@dataclass(frozen=True)
class Migration:
    """One direction of a revision, step by step."""

    checks: tuple[RowCheck, ...]
    dropped_indexes: tuple[TableIndex, ...]
    added_columns: tuple[FieldSpec, ...]
    fills: tuple[Fill, ...]
    sqlite_updates: tuple[str, ...]
    # Columns that ``sqlite_updates`` rewrote in their new type's text: SQLite copies them
    # as they are (a CAST to a date type would make numbers of them).
    sqlite_retyped: tuple[tuple[str, str], ...]
    altered: tuple[ColumnChange, ...]
    dropped_columns: tuple[str, ...]
    created_indexes: tuple[TableIndex, ...]

    @property
    def dropped_plain_indexes(self) -> tuple[TableIndex, ...]:
        """The indexes that go, apart from the unique and check constraints.

        They are dropped before the batch, and only if they exist: ``shared_0003``'s downgrade
        drops the list indexes of every table, and when Alembic takes it down before this
        feature's branch, those this revision added are gone already.
        """
        return tuple(index for index in self.dropped_indexes if not (index.unique or index.check))

    @property
    def dropped_constraints(self) -> tuple[TableIndex, ...]:
        """The unique and check constraints that go, in the batch (SQLite rebuilds the table)."""
        return tuple(index for index in self.dropped_indexes if index.unique or index.check)

    @property
    def first_batch(self) -> bool:
        """Whether constraints go or columns come before the values are filled."""
        return bool(self.dropped_constraints or self.added_columns)

    @property
    def second_batch(self) -> bool:
        """Whether columns change or go after the values are filled."""
        return bool(self.altered or self.dropped_columns)

    @property
    def empty(self) -> bool:
        """Whether the change is the API's only (a default, a text bound): no schema step."""
        return not (
            self.checks
            or self.dropped_plain_indexes
            or self.first_batch
            or self.fills
            or self.sqlite_updates
            or self.second_batch
            or self.created_indexes
        )


def table_indexes(table: str, fields: list[FieldSpec]) -> dict[str, TableIndex]:
    """The indexes and constraints the feature's migrations give ``fields``, by name."""
    found: dict[str, TableIndex] = {}
    for spec in fields:
        if spec.filterable:
            name = f"ix_{table}_by_{spec.name}"
            found[name] = TableIndex(name, (spec.name, "created_at", "id"))
        if spec.index:
            name = f"ix_{table}_{spec.name}"
            found[name] = TableIndex(name, (spec.name,))
        if spec.unique:
            name = f"uq_{table}_{spec.name}"
            found[name] = TableIndex(name, (spec.name,), unique=True)
    return found


def sql_literal_check(spec: FieldSpec) -> str:
    """The largest magnitude a decimal field holds, as SQL: ``abs(x) >= 100000000``."""
    precision, scale = spec.decimal_shape
    return f"abs({spec.name}) >= {10 ** (precision - scale)}"


def fill(spec: FieldSpec, column_type: str, *, only_nulls: bool, column: str = "") -> Fill:
    """Fill a column with ``spec``'s default (an enum's as its plain value, no enum class)."""
    if spec.type == "enum":
        return Fill(column or spec.name, column_type, quoted(spec.default), only_nulls)
    return Fill(
        column or spec.name,
        column_type,
        spec.python_source(spec.default),
        only_nulls,
        spec.field_type.python_import,
    )


@dataclass(frozen=True)
class FieldChanges:
    """What changes from the field list ``before`` to ``after`` of one feature's table."""

    table: str
    before: tuple[FieldSpec, ...]
    after: tuple[FieldSpec, ...]
    # New name -> old name, for the fields renamed by this change.
    renames: tuple[tuple[str, str], ...]

    @classmethod
    def between(cls, table: str, before: list[FieldSpec], after: list[FieldSpec]) -> FieldChanges:
        """Compare two field lists; ``after`` names renames as ``new<-old``.

        Raises:
            FieldChangeError: a rename names no field of ``before``, or a name comes back.
        """
        old_names = [spec.name for spec in before]
        renames: list[tuple[str, str]] = []
        for spec in after:
            old = spec.renamed_from
            if old is None:
                continue
            if old not in old_names:
                msg = (
                    f"field {spec.name!r} is renamed from {old!r}, which is not a field "
                    f"(the fields were: {', '.join(old_names)})"
                )
                raise FieldChangeError(msg)
            if spec.name in old_names:
                msg = f"field {spec.name!r} can't be renamed from {old!r}: {spec.name!r} exists"
                raise FieldChangeError(msg)
            renames.append((spec.name, old))
        sources = [old for _, old in renames]
        for old in sources:
            if sources.count(old) > 1:
                msg = f"field {old!r} is renamed twice"
                raise FieldChangeError(msg)
        renamed = {new for new, _ in renames}
        for spec in after:
            if spec.name in sources and spec.name not in renamed:
                msg = (
                    f"field {spec.name!r} is renamed in this change: a new field can't take "
                    "its name (audit snapshots hold values under it)"
                )
                raise FieldChangeError(msg)
        return cls(table, tuple(before), tuple(after), tuple(renames))

    def reversed(self) -> FieldChanges:
        """The change back, for the revision's downgrade."""
        new_name_of = {old: new for new, old in self.renames}
        before = [replace(spec, renamed_from=None) for spec in self.after]
        after = [replace(spec, renamed_from=new_name_of.get(spec.name)) for spec in self.before]
        return FieldChanges.between(self.table, before, after)

    # -- Pairs ----------------------------------------------------------------------------

    @cached_property
    def old_name_of(self) -> dict[str, str]:
        """Each field of ``after`` that existed before, with its name in ``before``."""
        before = {spec.name for spec in self.before}
        renamed = dict(self.renames)
        return {
            spec.name: renamed.get(spec.name, spec.name)
            for spec in self.after
            if renamed.get(spec.name, spec.name) in before
        }

    @property
    def kept(self) -> list[tuple[FieldSpec, FieldSpec]]:
        """``(before, after)`` for each field in both lists (renamed or not)."""
        before = {spec.name: spec for spec in self.before}
        return [
            (before[self.old_name_of[spec.name]], spec)
            for spec in self.after
            if spec.name in self.old_name_of
        ]

    @property
    def added(self) -> list[FieldSpec]:
        """Fields of ``after`` that are new."""
        return [spec for spec in self.after if spec.name not in self.old_name_of]

    @property
    def dropped(self) -> list[FieldSpec]:
        """Fields of ``before`` that ``after`` no longer has."""
        kept = set(self.old_name_of.values())
        return [spec for spec in self.before if spec.name not in kept]

    # -- The migration --------------------------------------------------------------------

    def migration(self, *, downgrade: bool = False) -> Migration:
        """The steps that take the table from ``before`` to ``after``.

        Raises:
            FieldChangeError: the change would lose data or has no migration (not raised for
                a downgrade, whose lost values are refused by a row check instead).
        """
        checks: list[RowCheck] = []
        fills: list[Fill] = []
        sqlite_updates: list[str] = []
        altered: list[ColumnChange] = []
        for spec in self.added:
            if not spec.has_default:
                if not downgrade and spec.is_reference:
                    shape = _spec_text(spec)
                    msg = (
                        f"field {spec.name!r} is a required reference, and the rows stored "
                        f"already refer to nothing: add it optional ({spec.name}:{shape}?), set "
                        "it on every row, then make it required in a later change"
                    )
                    raise FieldChangeError(msg)
                if not downgrade:
                    shape = _spec_text(replace(spec, default=NO_DEFAULT, unique=False, index=False))
                    msg = (
                        f"field {spec.name!r} is required and has no default, and the rows "
                        f"stored already have no value for it: give it one "
                        f"({spec.name}:{shape}=DEFAULT) or make it optional ({spec.name}:{shape}?)"
                    )
                    raise FieldChangeError(msg)
                checks.append(RowCheck("1 = 1", f"rows, whose values of {spec.name} were dropped"))
            if spec.default is not NO_DEFAULT and spec.default is not None:
                fills.append(fill(spec, spec.column_type_source(), only_nulls=False))
            if not spec.optional:
                altered.append(
                    ColumnChange(spec.name, spec.column_type_source(), True, nullable=False)
                )
        for old, new in self.kept:
            change = self._column_change(old, new, checks, fills, sqlite_updates, downgrade)
            if change is not None:
                altered.append(change)
        before_indexes = table_indexes(self.table, list(self.before))
        after_indexes = table_indexes(self.table, list(self.after))
        enum_checks = [
            TableIndex(f"ck_{self.table}_{spec.name}", (spec.name,), check=True)
            for spec in self.dropped
            if spec.type == "enum"
        ]
        for name, index in after_indexes.items():
            if index.unique and name not in before_indexes:
                column = index.columns[0]
                stored = self.old_name_of.get(column)
                # A new column holds only NULLs: nothing to count.
                if stored is not None:
                    checks.append(
                        RowCheck(
                            f"{stored} IN (SELECT {stored} FROM {self.table} "  # noqa: S608
                            f"WHERE {stored} IS NOT NULL GROUP BY {stored} HAVING count(*) > 1)",
                            f"rows whose {stored} is not unique",
                        )
                    )
        return Migration(
            checks=tuple(checks),
            dropped_indexes=(
                *enum_checks,
                *(index for name, index in before_indexes.items() if name not in after_indexes),
            ),
            added_columns=tuple(self.added),
            fills=tuple(fills),
            sqlite_updates=tuple(sqlite_updates),
            sqlite_retyped=tuple(
                (change.name, change.type_)
                for change in altered
                if change.type_ is not None and change.text_rewritten
            ),
            altered=tuple(altered),
            dropped_columns=tuple(spec.name for spec in self.dropped),
            created_indexes=tuple(
                index for name, index in after_indexes.items() if name not in before_indexes
            ),
        )

    def _column_change(
        self,
        old: FieldSpec,
        new: FieldSpec,
        checks: list[RowCheck],
        fills: list[Fill],
        sqlite_updates: list[str],
        downgrade: bool,
    ) -> ColumnChange | None:
        """The ``alter_column`` of a kept field, and the checks and fills it needs first."""
        name = old.name
        type_ = self._type_change(old, new, checks, sqlite_updates, downgrade)
        nullable = None
        if old.optional != new.optional:
            nullable = new.optional
            if not new.optional:
                if new.default is not NO_DEFAULT and new.default is not None:
                    fills.append(fill(new, old.column_type_source(), only_nulls=True, column=name))
                else:
                    checks.append(
                        RowCheck(
                            f"{name} IS NULL",
                            f"rows without a {name} (give the field a default to fill them)",
                        )
                    )
        new_name = new.name if new.name != name else None
        if type_ is None and nullable is None and new_name is None:
            return None
        rewrite = TEXT_REWRITES.get((old.type, new.type))
        return ColumnChange(
            name=name,
            existing_type=old.column_type_source(),
            existing_nullable=old.optional,
            new_name=new_name,
            type_=type_,
            nullable=nullable,
            postgresql_using=rewrite[1].format(name=name) if rewrite else None,
            text_rewritten=rewrite is not None,
        )

    def _type_change(
        self,
        old: FieldSpec,
        new: FieldSpec,
        checks: list[RowCheck],
        sqlite_updates: list[str],
        downgrade: bool,
    ) -> str | None:
        """The new column type of a kept field, or None if it keeps its column type.

        A downgrade takes a lossless change back, rounding what the change let in.
        """
        name = old.name
        if old.type == "enum" or new.type == "enum":
            if old.type != new.type or old.choices != new.choices:
                msg = (
                    f"field {new.name!r}: changing an enum's values or type needs a migration "
                    "of your own; add a new field instead, or write the migration by hand"
                )
                raise FieldChangeError(msg)
            if new.name != old.name:
                msg = (
                    f"field {new.name!r}: renaming an enum field isn't supported (its CHECK "
                    "constraint is named after it); add a new field instead"
                )
                raise FieldChangeError(msg)
            return None
        if old.type == "ref" and new.type == "ref":
            if (old.target_domain, old.target) != (new.target_domain, new.target):
                msg = (
                    f"field {new.name!r}: a reference keeps its target ({old.target_domain}."
                    f"{old.target}); add a new field for {new.target_domain}.{new.target}"
                )
                raise FieldChangeError(msg)
            if new.name != old.name:
                msg = (
                    f"field {new.name!r}: renaming a reference isn't supported (its foreign key "
                    "is named after it); add a new field instead"
                )
                raise FieldChangeError(msg)
            return None
        allowed = LOSSLESS_TYPE_CHANGES
        if downgrade:
            allowed = allowed | {(after, before) for before, after in LOSSLESS_TYPE_CHANGES}
        if old.type != new.type and (old.type, new.type) not in allowed:
            msg = (
                f"field {new.name!r}: {old.type} to {new.type} has no lossless conversion "
                "(int to decimal or float, str to text and date to datetime do); add a new "
                "field and copy the values in a migration of your own"
            )
            raise FieldChangeError(msg)
        text_types = ("str", "text")
        if (
            old.type in text_types
            and new.type in text_types
            and new.max_length is not None
            and (old.max_length or 0) > new.max_length
        ):
            checks.append(
                RowCheck(
                    f"length({name}) > {new.max_length}",
                    f"rows whose {name} is longer than {new.max_length} characters",
                )
            )
        if new.type == "decimal" and old.type in ("int", "decimal"):
            precision, scale = new.decimal_shape
            if old.type == "decimal":
                old_precision, old_scale = old.decimal_shape
                if scale < old_scale:
                    msg = (
                        f"field {new.name!r}: a smaller scale would round stored values; "
                        "add a new field instead"
                    )
                    raise FieldChangeError(msg)
                if precision - scale < old_precision - old_scale:
                    checks.append(
                        RowCheck(sql_literal_check(new), f"rows whose {name} is too large")
                    )
            else:
                checks.append(RowCheck(sql_literal_check(new), f"rows whose {name} is too large"))
        if rewrite := TEXT_REWRITES.get((old.type, new.type)):
            sqlite_updates.append(
                f"UPDATE {self.table} SET {name} = {rewrite[0].format(name=name)} "  # noqa: S608
                f"WHERE {name} IS NOT NULL"
            )
        old_type, new_type = old.column_type_source(), new.column_type_source()
        return new_type if new_type != old_type else None

    @property
    def description(self) -> str:
        """A name for the change, as its file name says it: ``add_weight_grams``."""
        parts = [
            *(f"add_{spec.name}" for spec in self.added),
            *(f"rename_{old}_to_{new}" for new, old in self.renames),
            *(f"drop_{spec.name}" for spec in self.dropped),
            *(f"change_{new.name}" for old, new in self.kept if not _same_shape(old, new)),
        ]
        joined = "_and_".join(parts) if parts else "change_defaults"
        return joined if len(joined) <= MAX_DESCRIPTION_LENGTH else "change_fields"

    @property
    def summary(self) -> list[str]:
        """The change as lines of prose, for the revision's docstring."""
        lines = [f"- add {spec.name} ({_spec_text(spec)})" for spec in self.added]
        lines += [f"- rename {old} to {new}" for new, old in self.renames]
        lines += [
            f"- drop {spec.name} (its values stay in the audit trail)" for spec in self.dropped
        ]
        for old, new in self.kept:
            if not _same_shape(old, new):
                lines.append(f"- change {new.name}: {_spec_text(old)} -> {_spec_text(new)}")
        return lines or ["- change defaults or API bounds only: no schema step"]


def _same_shape(old: FieldSpec, new: FieldSpec) -> bool:
    """Whether two specs of one field differ in nothing but the name."""
    return _spec_text(old) == _spec_text(new)


def _spec_text(spec: FieldSpec) -> str:
    """The field's type, modifiers and default as the grammar writes them."""
    args = ""
    if spec.type in ("str", "text"):
        args = f"({spec.max_length})"
    elif spec.type == "decimal":
        args = "({},{})".format(*spec.decimal_shape)
    elif spec.type == "enum":
        args = f"({'|'.join(spec.choices)})"
    elif spec.type == "ref":
        args = spec.field_type.readme_type.removeprefix("ref")
    text = spec.type + args + ("?" if spec.optional else "")
    text += ":unique" if spec.unique else ":index" if spec.index else ""
    if spec.default is not NO_DEFAULT:
        value = spec.default_json_value()
        # As the grammar writes a default: null, true and false, and other values bare.
        text += "=" + (
            json.dumps(value) if value is None or isinstance(value, bool) else str(value)
        )
    return text


def parse_change(spec: str, owner: str) -> list[FieldSpec]:
    """Parse a field list that may rename fields (``new<-old``)."""
    try:
        return parse_fields(spec, owner)
    except FieldSpecError as error:
        raise FieldChangeError(str(error)) from None
