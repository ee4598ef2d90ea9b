"""Minimal user model for audit trails."""

from pydantic import BaseModel, Field


class MinimalUser(BaseModel):
    """Minimal user information for audit logging.

    Used to track who performed actions without coupling to full user model.
    Services receive this from routers, which convert from the full EnrichedUser.
    """

    id: str = Field(..., description="User ID")
    full_name: str = Field(..., description="User's full name for display")
    email: str | None = Field(default=None, description="User's email (optional)")
