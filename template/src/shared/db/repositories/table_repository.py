"""What every repository is: one table's rows on a session, found by the table it declares."""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Insert, Table, and_, bindparam, cast, inspect, tuple_
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, func, select
from sqlmodel.sql.expression import SelectOfScalar

from shared.models.dto_base import PageQuery

ModelT = TypeVar("ModelT", bound=SQLModel)


class ConditionsNotMetError(Exception):
    """A new row was not written: a condition it was inserted under did not hold."""


class TableRepository(Generic[ModelT]):
    """The rows of one table (``model``). Repositories write at once; services commit."""

    model: type[ModelT]
    # Each table's repository class: the editor service finds a feature's repositories here.
    by_model: ClassVar[dict[type[Any], type["TableRepository[Any]"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register a feature's repository under the table it declares (``model = ...``)."""
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__:
            TableRepository.by_model[cls.model] = cls

    @staticmethod
    def for_model(model: type[Any]) -> type[Any]:
        """The repository class declared for ``model``.

        Raises:
            LookupError: no imported repository declares it.
        """
        try:
            return TableRepository.by_model[model]
        except KeyError:
            msg = f"no repository declares model = {model.__name__}: import the feature's"
            raise LookupError(msg) from None

    def __init__(self, session: Session) -> None:
        self.session = session

    def _write(self, row: ModelT, requires: Sequence[ColumnElement[bool]] = ()) -> ModelT:
        """Write a new row, or flush a changed one: either way the database checks it now.

        A new row is written only if every condition of ``requires`` holds, in the INSERT
        itself (see ``_insert_values``); a changed one ignores them.

        The row is not read back: every value it holds was made in Python (ids, timestamps and
        versions included, see ``EntityBase``) in the form the database stores, so a reload
        would only cost a round trip.
        """
        if inspect(row).transient:
            self._insert(row, requires)
        else:
            self.session.add(row)
            self.session.flush()
        return row

    def _insert(self, row: ModelT, requires: Sequence[ColumnElement[bool]] = ()) -> None:
        """INSERT a new row with one Core statement, in the session's transaction.

        The ORM's flush of a new row (tracking its state, ordering the unit of work, reading
        server defaults back) took about a quarter of the editor service's time on a create,
        for a row whose values are all known already. The row stays out of the session: a
        change never reads its new rows back from there. A column left None that the database
        fills in (an audit row's ``transaction_id``) is left out of the statement.
        """
        table: Table = self.model.__table__  # type: ignore[attr-defined]
        values = {
            column.key: value
            for column in table.columns
            if (value := getattr(row, column.key)) is not None or column.server_default is None
        }
        self._insert_values(values, requires)

    def _insert_values(
        self, values: dict[str, Any], requires: Sequence[ColumnElement[bool]] = ()
    ) -> None:
        """INSERT one row of the table holding ``values``, in the session's transaction.

        Columns left out get their database default, or NULL: no model default is applied.
        With ``requires``, the statement is ``INSERT ... SELECT <values> WHERE <conditions>``:
        the conditions (a referenced row is live, say) are checked by the write itself, with
        no query before it. A condition names the row's values as ``bindparam(column)``.

        Raises:
            ConditionsNotMetError: a condition did not hold; nothing was written.
        """
        table: Table = self.model.__table__  # type: ignore[attr-defined]
        connection = self.session.connection()
        if not requires:
            connection.execute(table.insert(), values)
            return
        statement = _conditional_insert(
            table, tuple(values), tuple(requires), connection.dialect.name
        )
        # An INSERT's row count is kept only when asked for (psycopg reports none otherwise).
        written = connection.execute(
            statement, values, execution_options={"preserve_rowcount": True}
        )
        if written.rowcount != 1:
            msg = f"no {table.name} row written: a condition of its insert did not hold"
            raise ConditionsNotMetError(msg)

    def _page(
        self, statement: SelectOfScalar[ModelT], query: PageQuery
    ) -> tuple[list[ModelT], int | None]:
        """One page of the rows ``statement`` selects, in ``query``'s order, and their count.

        The page is read in the order of its columns' index, from the cursor's key on (a
        range of the index; sorted by an optional field, the rows with a value and those
        without are two, read in turn), with one row more than asked for: it tells there is a
        next page. The count (only with ``include_total``) reads every match.
        """
        total = None
        if query.include_total:
            counted = select(func.count()).select_from(statement.subquery())
            total = self.session.exec(counted).one()
        table = self.model.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in query.sort_columns()]
        order = [column.desc() if query.sort_descending() else column for column in columns]
        wanted = query.limit + 1
        position = query.cursor_key()
        if position is None:
            page = statement.order_by(*order).offset(query.offset).limit(wanted)
            return list(self.session.exec(page).all()), total
        # A cursor comes without an offset (PageQuery refuses both).
        rows: list[ModelT] = []
        for zone in self._zones_after(columns, position, query.sort_descending()):
            page = statement.where(zone).order_by(*order).limit(wanted - len(rows))
            rows.extend(self.session.exec(page).all())
            if len(rows) == wanted:
                break
        return rows, total

    def _zones_after(self, columns: list[Any], key: tuple[Any, ...], descending: bool) -> list[Any]:
        """Conditions for the rows after ``key`` in the order of ``columns``, one per range.

        The columns are each ascending, or each descending. Only the first may hold NULL (an
        optional field sorted by); the others are created_at and the id. The databases put
        NULL at opposite ends: after every value on PostgreSQL, before every value on SQLite.
        Rows with a value and rows with NULL are two ranges of the sort's index: read in turn,
        each is a search from its start. Asked for at once (an OR), PostgreSQL read the index
        from the beginning and filtered: a page a third into 100 000 rows first read the 33 334
        before it.
        """
        first, rest = columns[0], columns[1:]
        beyond = tuple_(*columns) < key if descending else tuple_(*columns) > key
        if not first.nullable:
            return [beyond]
        nulls_last = self.session.get_bind().dialect.name == "postgresql"
        nulls_come_after_values = nulls_last != descending
        if key[0] is not None:
            # A NULL in the first column makes the row comparison unknown: never true.
            return [beyond, first.is_(None)] if nulls_come_after_values else [beyond]
        rest_beyond = tuple_(*rest) < key[1:] if descending else tuple_(*rest) > key[1:]
        after_in_nulls = and_(first.is_(None), rest_beyond)
        if nulls_come_after_values:
            return [after_in_nulls]
        return [after_in_nulls, first.is_not(None)]


@lru_cache(maxsize=256)
def _conditional_insert(
    table: Table,
    columns: tuple[str, ...],
    requires: tuple[ColumnElement[bool], ...],
    dialect: str,
) -> Insert:
    """``INSERT INTO table (columns) SELECT :column, ... WHERE requires``, built once.

    PostgreSQL types a SELECT's parameters from nothing: each is cast to its column's type.
    SQLite keeps values as they are bound (a CAST would change how it stores them).
    """
    selected: list[ColumnElement[Any]] = [
        bindparam(name, type_=table.c[name].type) for name in columns
    ]
    if dialect == "postgresql":
        selected = [
            cast(value, table.c[name].type) for name, value in zip(columns, selected, strict=True)
        ]
    return table.insert().from_select(list(columns), core_select(*selected).where(*requires))
