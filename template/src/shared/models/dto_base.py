"""Shapes every feature's DTOs share: bounded input types, partial updates, lists and pages."""

from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# Integer columns are 32-bit on PostgreSQL: refuse what they can't hold with a 422, not a 500.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

ItemT = TypeVar("ItemT")


def _without_nul(value: str) -> str:
    # PostgreSQL text can't hold NUL characters; refuse them at the door on every database.
    if "\x00" in value:
        msg = "must not contain NUL characters"
        raise ValueError(msg)
    return value


def _document_without_nul(value: Any) -> Any:
    if isinstance(value, str):
        _without_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _without_nul(key)
            _document_without_nul(item)
    elif isinstance(value, list):
        for item in value:
            _document_without_nul(item)
    return value


# Input types that every supported database can store as sent.
DbStr = Annotated[str, AfterValidator(_without_nul)]
DbInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
DbFloat = Annotated[float, Field(allow_inf_nan=False)]
JsonDocument = Annotated[dict[str, Any], AfterValidator(_document_without_nul)]


class InputDTO(BaseModel):
    """A request body or query: unknown keys are an error, not silently dropped."""

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
    """Paging of a list endpoint; features add their sort keys and filters."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=INT_MAX)
    include_deleted: bool = Field(default=False, description="Also list soft-deleted rows")
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


class Page(BaseModel, Generic[ItemT]):
    """One page of a list, with the total number of matching rows."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int
