"""Input types that every supported database can store as sent: what it can't is a 422.

Request DTOs declare their fields with these (``name: DbStr``) instead of the plain types.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field

# Integer columns are 32-bit on PostgreSQL: refuse what they can't hold with a 422, not a 500.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
MAX_JSON_DEPTH = 32


def _storable_text(value: str) -> str:
    # PostgreSQL text can't hold NUL characters, and no database driver can encode a lone
    # surrogate (which JSON's \ud800 escapes can produce): refuse both on every database.
    if "\x00" in value:
        msg = "must not contain NUL characters"
        raise ValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = "must be valid Unicode text (no lone surrogates)"
        raise ValueError(msg) from None
    return value


def _storable_document(value: Any, depth: int = 0) -> Any:
    # Nesting is bounded so that the audit snapshot (and the response) can always be written.
    if depth > MAX_JSON_DEPTH:
        msg = f"must not nest deeper than {MAX_JSON_DEPTH} levels"
        raise ValueError(msg)
    if isinstance(value, str):
        _storable_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable_text(key)
            _storable_document(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable_document(item, depth + 1)
    return value


def _in_utc(value: datetime) -> datetime:
    # Times are stored in UTC; one whose UTC equivalent falls outside years 1-9999 can't be.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        msg = "must fall within the years 1 to 9999 once converted to UTC"
        raise ValueError(msg) from None


# Input types that every supported database can store as sent.
DbStr = Annotated[str, AfterValidator(_storable_text)]
# A point in time: with its offset (a naive time is ambiguous), converted to UTC.
DbDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
DbInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
DbFloat = Annotated[float, Field(allow_inf_nan=False)]
JsonDocument = Annotated[dict[str, Any], AfterValidator(_storable_document)]
