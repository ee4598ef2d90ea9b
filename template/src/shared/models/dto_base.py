"""Shapes every feature's DTOs share: strict inputs, partial updates, lists, pages, reads.

The bounded field types they declare fields with are in :mod:`shared.models.input_types`.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar, cast
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema, to_jsonable_python

from shared.db.models.base_model import ID_LENGTH, TIMESTAMP_SORT_KEYS, list_order
from shared.models.input_types import INT_MAX, Described, IntegerText, QueryBool

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# A page cursor: unpadded URL-safe base64 of UTF-8 JSON (see PageQuery), which carries the
# list's sort and filters and its last row's sort value. Its strings keep control characters
# as they are (``_cursor_json``, read back with ``strict=False``): escaped, each would take 6
# bytes (``\u0001``) where the query string that set it took 3 (``%01``), and a list filtered
# by such text would hand out cursors longer than the request that made them, past what the
# server reads (MAX_REQUEST_HEAD_BYTES). So written, no character takes more bytes in a cursor
# than in a query string (4 at most, beyond the BMP): a cursor's parameters take about a third
# more than in the query string at most (base64 writes 3 bytes in 4 characters), beside its
# row's sort value. How long a list's cursors can be follows from the bounds of its parameters:
# ``cursor_max_length``, which the route's description states (``with_cursor_bound``).
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"
# What a cursor's array holds before the key of its row; the digest's length in hex digits.
CURSOR_HEAD = ("digest", "query parameters")
DIGEST_LENGTH = 16
# The parameters of a query that its cursors don't carry: the cursor itself, the offset it
# takes the place of, and a list's ``expand``, which shapes each row and not which rows are on
# the page. A cursor carries every other one (``PageQuery.cursor_parameters``).
NOT_CARRIED = ("after", "offset", "expand")
# ``expand``: the reference fields whose targets a read embeds (``expanded``); a list's too.
EXPAND_DESCRIPTION = (
    "Reference fields whose targets to embed, under ``expanded``, as their own reads return "
    "them (repeat it for several); each needs the target's read permission"
)
LIST_EXPAND_DESCRIPTION = (
    f"{EXPAND_DESCRIPTION}. One query per name, whatever the page size. Not carried by "
    "``next_cursor``: send it with every page"
)
AFTER_DESCRIPTION = (
    "The ``next_cursor`` of the previous page: the page after it, with the sort and filters of "
    "that page unless given again (the same), not with ``offset``"
)
# The character that takes the most bytes in a cursor (4, as any beyond the BMP), and the
# longest text of the parameters whose schema bounds their text by its format.
WIDEST_CHARACTER = "\U00010000"
FORMATTED_TEXT = {"date": date.max.isoformat(), "uuid": str(UUID(int=0))}
# The widest timestamp a cursor's key holds: one with microseconds, read back in UTC.
WIDEST_TIMESTAMP = to_jsonable_python(datetime.max.replace(tzinfo=UTC))

ItemT = TypeVar("ItemT")


class InputDTO(BaseModel):
    """A request body or query: unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def _describe_not_nullable_as_such(schema: dict[str, Any], model: type[BaseModel]) -> None:
    # The fields are ``T | None = None`` so that a PATCH may leave them out; for the columns
    # that are NOT NULL the API description must not offer null (the validator refuses it).
    not_nullable: tuple[str, ...] = getattr(model, "NOT_NULLABLE", ())
    properties = schema.get("properties", {})
    for name in not_nullable:
        described = properties.get(name, {})
        alternatives = [
            alternative
            for alternative in described.get("anyOf", [])
            if alternative != {"type": "null"}
        ]
        if len(alternatives) == 1:
            del described["anyOf"]
            described.pop("default", None)
            described.update(alternatives[0])


class UpdateDTO(InputDTO):
    """A PATCH body: every field may be left out, but required columns can't be set to null."""

    model_config = ConfigDict(json_schema_extra=_describe_not_nullable_as_such)

    # Fields whose column is NOT NULL: a PATCH may leave them out, not set them to null.
    NOT_NULLABLE: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _reject_null_for_required_fields(self) -> Self:
        nulled = sorted(
            name
            for name in self.model_fields_set.intersection(self.NOT_NULLABLE)
            if getattr(self, name) is None
        )
        if nulled:
            msg = f"{', '.join(nulled)} can't be null; leave the field out to keep its value"
            raise ValueError(msg)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, with their new values."""
        return self.model_dump(exclude_unset=True)


class PageQuery(InputDTO):
    """Paging of a list: how many items, after which one (a cursor) or after how many.

    The order is a key of columns ending with the id (here an audit trail's: newest first by
    (created_at, id)); a cursor is the key of the last row of a page, with the query it was
    for (a list's sort and filters, :meth:`cursor_parameters`) and a digest of what the page
    was for (the list, sort and filters): a page ``after`` a cursor is a range read of the
    index in that order, which costs the same however deep it is. ``?after=`` alone is the
    next page: the sort and filters the request leaves out are the cursor's; one it sets
    otherwise is refused. ``offset`` skips rows one by one: deep pages cost more.
    """

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE), IntegerText] = DEFAULT_PAGE_SIZE
    offset: Annotated[int, Field(ge=0, le=INT_MAX), IntegerText] = Field(
        default=0,
        description="Rows to skip: each page costs more the deeper it is; ``after`` doesn't",
    )
    # How long it can be depends on the list's parameters: the route's model says it (see
    # ``with_cursor_bound``).
    after: Annotated[str | None, Field(pattern=CURSOR_PATTERN)] = Field(
        default=None, description=AFTER_DESCRIPTION
    )
    include_total: QueryBool = Field(
        default=False, description="Also count every match (``total``): a read of all of them"
    )

    # The key of the row the page starts after, read from ``after``.
    _position: tuple[Any, ...] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _query_of_cursor(cls, data: Any) -> Any:
        # The query parameters the cursor carries, where the request leaves them out or sends
        # their default (typed clients send every parameter that has one): as text, as a query
        # string holds them, so that they are parsed as if sent. A cursor that can't be read
        # is left to _read_cursor, which says so.
        if not isinstance(data, dict) or not isinstance(data.get("after"), str):
            return data
        content = _cursor_content(data["after"])
        if content is None or not isinstance(content[1], dict):
            return data
        fields = cls.model_fields
        sent = {
            name: value
            for name, value in data.items()
            if name not in fields or value != _query_text(fields[name].default)
        }
        carried = {name: value for name, value in content[1].items() if name in fields}
        return {**data, **carried, **sent}

    @model_validator(mode="after")
    def _read_cursor(self) -> Self:
        if self.after is None:
            return self
        if self.offset:
            msg = "after and offset can't be combined: a cursor already says where the page starts"
            raise ValueError(msg)
        self._position = self._decode(self.after)
        return self

    def sort_columns(self) -> tuple[str, ...]:
        """The columns of the order, the id last."""
        return ("created_at", "id")

    def sort_descending(self) -> bool:
        """Whether the order is descending (in every column)."""
        return True

    def cursor_key(self) -> tuple[Any, ...] | None:
        """The key (values of :meth:`order_columns`) the page starts after (None: the start)."""
        return self._position

    def cursor_scope(self) -> dict[str, Any]:
        """What a cursor is only valid for: the list and its order (a list adds its filters)."""
        return {"list": type(self).__name__}

    def cursor_parameters(self) -> dict[str, str]:
        """The query parameters a cursor carries, as query-string text.

        ``limit`` and ``include_total``, which the next page may change; a list adds its sort
        and filters, which it may only repeat (:meth:`cursor_scope`).
        """
        return {
            "limit": str(self.limit),
            "include_total": _query_text(self.include_total),
        }

    def page_of(
        self, rows: Sequence[Any], total: int | None, read: Callable[[Any], Any]
    ) -> dict[str, Any]:
        """The page of ``rows`` (up to ``limit`` + 1, the extra one telling that more follow)."""
        return self.page(rows[: self.limit], more=len(rows) > self.limit, total=total, read=read)

    def page(
        self, shown: Sequence[Any], *, more: bool, total: int | None, read: Callable[[Any], Any]
    ) -> dict[str, Any]:
        """The page showing ``shown``: with the cursor of its last row if ``more`` rows follow.

        A page may end before ``limit`` rows (an audit page at its byte budget): its cursor
        says that more follow all the same.
        """
        return {
            "items": [read(row) for row in shown],
            "total": total,
            "limit": self.limit,
            "offset": self.offset,
            "next_cursor": self._encode(shown[-1]) if more and shown else None,
        }

    def _digest(self) -> str:
        scope = json.dumps(to_jsonable_python(self.cursor_scope()), sort_keys=True)
        return hashlib.sha256(scope.encode()).hexdigest()[:DIGEST_LENGTH]

    def _encode(self, row: Any) -> str:
        key = [getattr(row, column) for column in self.sort_columns()]
        return _cursor([self._digest(), self.cursor_parameters(), *key])

    def _decode(self, cursor: str) -> tuple[Any, ...]:
        not_ours = "after: not a cursor of this list"
        content = _cursor_content(cursor)
        columns = self.sort_columns()
        if content is None or len(content) != len(columns) + 2:
            raise ValueError(not_ours)
        if content[0] != self._digest():
            msg = (
                "after: the cursor is for another list, sort or filters: leave them out (the "
                "cursor's are used) or start from page one"
            )
            raise ValueError(msg)
        try:
            return tuple(
                _key_type(type(self), column).validate_python(value)
                for column, value in zip(columns, content[2:], strict=True)
            )
        except ValidationError as error:
            raise ValueError(not_ours) from error


def _cursor(content: list[Any]) -> str:
    """The cursor of ``content``: digest, query parameters and key."""
    text = _cursor_json(to_jsonable_python(content))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor_json(value: Any) -> str:
    """Compact JSON whose strings escape ``"`` and ``\\`` only.

    Control characters stay as they are, 1 byte each rather than 6 (see CURSOR_PATTERN), and
    the other characters beyond ASCII are their UTF-8 bytes.
    """
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ",".join(_cursor_json(item) for item in value) + "]"
    if isinstance(value, dict):
        members = (f"{_cursor_json(name)}:{_cursor_json(item)}" for name, item in value.items())
        return "{" + ",".join(members) + "}"
    return json.dumps(value)


def _cursor_content(cursor: str) -> list[Any] | None:
    """The JSON array a cursor encodes: digest, query parameters, key; None if it is none."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        content = json.loads(text, strict=False)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(content, list) or len(content) < len(CURSOR_HEAD):
        return None
    return content


@cache
def _key_type(query: type[PageQuery], column: str) -> TypeAdapter[Any]:
    # A cursor holds the key as JSON: each value is read back as its column's type, the one
    # the list's filter on that column takes (timestamps and ids are the same in every list).
    if column in TIMESTAMP_SORT_KEYS:
        return TypeAdapter(AwareDatetime)
    if column == "id":
        return TypeAdapter(str)
    return TypeAdapter(query.model_fields[column].annotation or Any)


QueryT = TypeVar("QueryT", bound=PageQuery)


def with_cursor_bound(query: type[QueryT]) -> type[QueryT]:
    """``query`` as a route takes it: its description bounds ``after`` by its longest cursor.

    The bound is the list's own (``cursor_max_length``), so that a gateway that holds requests
    to the API description lets every cursor the list hands out through. The service itself
    needs no length check: a longer value is no cursor of this list, which reading it says
    (422), as it says of a cursor of another list (and not merely that it is too long).
    """
    return cast("type[QueryT]", _with_cursor_bound(query))


@cache
def _with_cursor_bound(query: type[PageQuery]) -> type[PageQuery]:
    cursor = Annotated[
        str, Field(pattern=CURSOR_PATTERN), Described(max_length=cursor_max_length(query))
    ]
    bounded: type[PageQuery] = create_model(
        query.__name__,
        __base__=query,
        __module__=query.__module__,
        __doc__=query.__doc__,
        after=(cursor | None, Field(default=None, description=AFTER_DESCRIPTION)),
    )
    return bounded


@cache
def cursor_max_length(query: type[PageQuery]) -> int:
    """The length of the longest cursor a page of ``query`` can hand out.

    A cursor carries the query's parameters (all but NOT_CARRIED) as query text, and its last
    row's key: the value of the sort column (one its filter takes), then a timestamp and an
    id. The longest is made of the longest text of each parameter, as the API description
    bounds it (``maxLength``, an enum, an integer's range, a format), in the characters that
    take the most bytes, and of the widest key of any sort.

    Raises:
        TypeError: the description leaves a parameter the cursor carries unbounded, such as
            a text filter without a ``max_length``.
    """
    schema = query.model_json_schema()
    properties, definitions = schema["properties"], schema.get("$defs", {})
    texts = {
        name: _texts(name, described, definitions)
        for name, described in properties.items()
        if name not in NOT_CARRIED
    }
    parameters = {
        name: max(candidates, key=lambda text: len(_cursor_json(text).encode()))
        for name, candidates in texts.items()
    }
    widest = {
        **parameters,
        **dict.fromkeys(TIMESTAMP_SORT_KEYS, WIDEST_TIMESTAMP),
        "id": "0" * ID_LENGTH,
    }
    sorts = [{"sort": sort} for sort in texts.get("sort", [])] or [{}]
    keys = [
        [widest[column] for column in query.model_validate(sort).sort_columns()] for sort in sorts
    ]
    return max(len(_cursor(["0" * DIGEST_LENGTH, parameters, *key])) for key in keys)


def _texts(name: str, described: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    """The texts of a query parameter among which is its longest, as its schema bounds it."""
    texts: list[str] = []
    for alternative in described.get("anyOf", [described]):
        bound = alternative
        if "$ref" in alternative:
            bound = definitions[alternative["$ref"].rsplit("/", 1)[-1]]
        if bound.get("type") == "null":
            continue
        if "enum" in bound:
            texts.extend(_query_text(value) for value in bound["enum"])
        elif bound.get("type") == "boolean":
            texts.extend(("true", "false"))
        elif bound.get("type") == "integer" and {"minimum", "maximum"} <= bound.keys():
            texts.extend((str(bound["minimum"]), str(bound["maximum"])))
        elif "maxLength" in bound:
            texts.append(WIDEST_CHARACTER * bound["maxLength"])
        elif bound.get("format") in FORMATTED_TEXT:
            texts.append(FORMATTED_TEXT[bound["format"]])
        else:
            msg = (
                f"query parameter {name!r}: a page cursor carries it, and nothing bounds its "
                "text (give it a max_length), so nothing would bound the list's cursors"
            )
            raise TypeError(msg)
    return texts


class SortKeys:
    """The values a list's ``sort`` takes: the timestamps and ``columns``, each either way.

    ``sort: Annotated[str, SortKeys("name")] = "created_at"`` accepts ``created_at``,
    ``-created_at``, ``updated_at``, ``-updated_at``, ``name`` and ``-name`` (descending), and
    the API description lists them, as a ``Literal`` of them would, with names for typed
    clients' enum members (``x-enum-varnames``: ``created_at``, ``created_at_desc``).
    """

    def __init__(self, *columns: str) -> None:
        self.keys = [
            key
            for column in ("created_at", "updated_at", *columns)
            for key in (column, f"-{column}")
        ]

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Validate and describe the field as one of :attr:`keys`."""
        return core_schema.literal_schema(self.keys)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The keys, and their names in a client: ``-name`` is ``name_desc``."""
        names = [
            f"{key.removeprefix('-')}_desc" if key.startswith("-") else key for key in self.keys
        ]
        return {**handler(schema), "x-enum-varnames": names}


class ListQuery(PageQuery):
    """Paging of a list endpoint; features add their sort keys and filters."""

    include_deleted: QueryBool = Field(default=False, description="Also list soft-deleted rows")
    sort: str = Field(default="created_at", description="A column; prefix - for descending")

    def filters(self) -> dict[str, Any]:
        """The equality filters the caller set: every field beyond paging that is not None.

        ``expand`` is none: it says what each row embeds, not which rows match.
        """
        paging = ListQuery.model_fields.keys()
        return {
            name: value
            for name, value in self.model_dump(exclude_none=True).items()
            if name not in paging and name != "expand"
        }

    def expansions(self) -> tuple[str, ...]:
        """The reference fields whose targets each row embeds (``expand``), each once."""
        named: tuple[str, ...] = getattr(self, "expand", ())
        return tuple(dict.fromkeys(named))

    def sort_columns(self) -> tuple[str, ...]:
        """The sort column, then its tie-breakers (see ``list_order``)."""
        return list_order(self.sort.removeprefix("-"))

    def sort_descending(self) -> bool:
        """Whether the sort is descending (``-`` before the column)."""
        return self.sort.startswith("-")

    def cursor_parameters(self) -> dict[str, str]:
        """Paging's, then the sort, ``include_deleted`` and the filters set, as query text."""
        scoped = {"sort": self.sort, "include_deleted": self.include_deleted, **self.filters()}
        return {
            **super().cursor_parameters(),
            **{name: _query_text(value) for name, value in scoped.items()},
        }

    def cursor_scope(self) -> dict[str, Any]:
        """A cursor is only valid for this list, sort, filters and ``include_deleted``."""
        return {
            **super().cursor_scope(),
            "sort": self.sort,
            "filters": self.filters(),
            "include_deleted": self.include_deleted,
        }


def _query_text(value: Any) -> str:
    """A parsed query value as the query string writes it: ``true``, ``5``, ``2026-01-31``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(to_jsonable_python(value))


class EntityRead(BaseModel):
    """An entity as the API returns it: identity, version and timestamps; a feature adds its fields."""

    id: UUID
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class AuditReadBase(BaseModel):
    """One row of an audit trail as the API shows it; a feature adds its entity id and codes.

    ``entity_id`` is the entity's id under the name the change feed gives it, beside the
    feature's own name for it (``product_id``).
    """

    id: UUID
    entity_id: UUID
    performed_by_user_id: str
    performed_by_user_name: str
    description: str
    data_snapshot: dict[str, Any] | None
    changes: dict[str, Any] | None
    request_id: str | None
    caller_request_id: str | None
    created_at: datetime


class Page(BaseModel, Generic[ItemT]):
    """One page of a list, the cursor of the next one and (on request) the number of matches."""

    items: list[ItemT]
    total: int | None = Field(
        description="How many rows match, with ``include_total=true``; null without"
    )
    limit: int
    offset: int
    next_cursor: str | None = Field(
        description=(
            "Pass as ``after`` for the next page (same sort and filters); null: last page. An "
            "audit trail's page may end before ``limit`` items, at its size, with a cursor"
        )
    )
