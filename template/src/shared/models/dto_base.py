"""Shapes every feature's DTOs share: strict inputs, partial updates, lists, pages, reads.

The bounded field types they declare fields with are in :mod:`shared.models.input_types`.
"""

from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, model_validator
from pydantic_core import CoreSchema, core_schema

from shared.models.input_types import INT_MAX, IntegerText, QueryBool

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

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
    """Paging of a list: how many items, after how many."""

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE), IntegerText] = DEFAULT_PAGE_SIZE
    offset: Annotated[int, Field(ge=0, le=INT_MAX), IntegerText] = 0


class SortKeys:
    """The values a list's ``sort`` takes: the timestamps and ``columns``, each either way.

    ``sort: Annotated[str, SortKeys("name")] = "created_at"`` accepts ``created_at``,
    ``-created_at``, ``updated_at``, ``-updated_at``, ``name`` and ``-name`` (descending), and
    the API description lists them, as a ``Literal`` of them would.
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


class ListQuery(PageQuery):
    """Paging of a list endpoint; features add their sort keys and filters."""

    include_deleted: QueryBool = Field(default=False, description="Also list soft-deleted rows")
    sort: str = Field(default="created_at", description="A column; prefix - for descending")

    def filters(self) -> dict[str, Any]:
        """The equality filters the caller set: every field beyond paging that is not None."""
        paging = ListQuery.model_fields.keys()
        return {
            name: value
            for name, value in self.model_dump(exclude_none=True).items()
            if name not in paging
        }

    def ordering(self) -> tuple[str, bool]:
        """The sort column and whether it is descending."""
        return self.sort.removeprefix("-"), self.sort.startswith("-")


class EntityRead(BaseModel):
    """An entity as the API returns it: identity, version and timestamps; a feature adds its fields."""

    id: UUID
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class AuditReadBase(BaseModel):
    """One row of an audit trail as the API shows it; a feature adds its entity id and codes."""

    id: UUID
    performed_by_user_id: str
    performed_by_user_name: str
    description: str
    data_snapshot: dict[str, Any] | None
    changes: dict[str, Any] | None
    request_id: str | None
    caller_request_id: str | None
    created_at: datetime


class Page(BaseModel, Generic[ItemT]):
    """One page of a list, with the total number of matching rows."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int
