"""Shapes every feature's DTOs share: partial updates, list queries and pages."""

from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

ItemT = TypeVar("ItemT")


class InputDTO(BaseModel):
    """A request body: unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class UpdateDTO(InputDTO):
    """A PATCH body: every field may be left out, but required columns can't be set to null."""

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


class ListQuery(InputDTO):
    """Paging of a list endpoint; features add their filters as optional fields."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0)
    include_deleted: bool = Field(default=False, description="Also list soft-deleted rows")

    def filters(self) -> dict[str, Any]:
        """The equality filters the caller set: every field beyond paging that is not None."""
        paging = ListQuery.model_fields.keys()
        return {
            name: value
            for name, value in self.model_dump(exclude_none=True).items()
            if name not in paging
        }


class Page(BaseModel, Generic[ItemT]):
    """One page of a list, with the total number of matching rows."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int
