"""Domain errors: raised below the routers, mapped to HTTP responses in one table by the app.

Each class names its kind of problem (``kind``, the last segment of the problem ``type`` the
API answers with) and a title for people: a client branches on the kind, not on the text.
"""

from typing import ClassVar


class DomainError(Exception):
    """Base of every error a service raises on purpose; its message is safe to show callers.

    Raised as such, it is a business rule's refusal of the request.
    """

    kind: ClassVar[str] = "request-refused"
    title: ClassVar[str] = "Request refused"


class NotFoundError(DomainError):
    """The entity does not exist, or is soft-deleted where only live ones count."""

    kind: ClassVar[str] = "not-found"
    title: ClassVar[str] = "Not found"


class ConflictError(DomainError):
    """The change clashes with the stored data (a unique value taken, a state that forbids it)."""

    kind: ClassVar[str] = "conflict"
    title: ClassVar[str] = "Conflict with the stored data"


class GoneError(DomainError):
    """The entity existed but was deleted at the moment asked about (an as-of read)."""

    kind: ClassVar[str] = "deleted-then"
    title: ClassVar[str] = "Deleted at that time"


class UniqueValueTakenError(ConflictError):
    """A unique field's value is another entity's already."""

    kind: ClassVar[str] = "unique-value-taken"
    title: ClassVar[str] = "Unique value taken"


class NotDeletedError(ConflictError):
    """A restore of an entity that is not deleted."""

    kind: ClassVar[str] = "not-deleted"
    title: ClassVar[str] = "Not deleted"


class SnapshotMismatchError(ConflictError):
    """An audit snapshot no longer fits the entity's current fields, so it can't be restored."""

    kind: ClassVar[str] = "snapshot-mismatch"
    title: ClassVar[str] = "Audit snapshot no longer fits"


class TamperedEntryError(ConflictError):
    """An audit entry no longer has the hash it was written with: it is not history to act on."""

    kind: ClassVar[str] = "tampered-entry"
    title: ClassVar[str] = "Audit entry tampered with"


class StillReferencedError(ConflictError):
    """A delete refused: live rows of another feature refer to the entity (``on_delete=restrict``)."""

    kind: ClassVar[str] = "still-referenced"
    title: ClassVar[str] = "Still referenced"


class TargetNotLiveError(ConflictError):
    """A restore or a revert would bring back a reference to a row that is deleted or gone."""

    kind: ClassVar[str] = "reference-not-live"
    title: ClassVar[str] = "Referenced row not live"


class UnknownReferenceError(DomainError):
    """A reference field names no live row of its target: the request's value is not valid."""

    kind: ClassVar[str] = "unknown-reference"
    title: ClassVar[str] = "Reference to no live row"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class PreconditionFailedError(DomainError):
    """The caller's version of the entity is not the current one: someone changed it first."""

    kind: ClassVar[str] = "version-mismatch"
    title: ClassVar[str] = "Not the current version"

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class PreconditionRequiredError(DomainError):
    """The change must name the version it applies to (If-Match), and did not."""

    kind: ClassVar[str] = "if-match-required"
    title: ClassVar[str] = "If-Match required"


class AuthenticationError(DomainError):
    """The request carries no valid credentials."""

    kind: ClassVar[str] = "unauthenticated"
    title: ClassVar[str] = "Not authenticated"

    def __init__(self, message: str, *, invalid_token: bool = False) -> None:
        super().__init__(message)
        self.invalid_token = invalid_token

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value answering this failure (RFC 6750)."""
        return 'Bearer error="invalid_token"' if self.invalid_token else "Bearer"


class PermissionDeniedError(DomainError):
    """The caller is known but may not do this."""

    kind: ClassVar[str] = "permission-denied"
    title: ClassVar[str] = "Permission denied"


class MissingPerformerError(DomainError):
    """A change names no performer: every audit row must say who (or which system) made it."""

    kind: ClassVar[str] = "missing-performer"
    title: ClassVar[str] = "No performer named"


class UnavailableError(DomainError):
    """The database (or another service relied on) can't answer now; retrying later may work."""

    kind: ClassVar[str] = "unavailable"
    title: ClassVar[str] = "Temporarily unavailable"


class HookContractError(Exception):
    """A feature's hook broke its contract (``after_change`` changed its entity, say).

    Not a DomainError: it is a mistake in the service's code, not a refusal to show a caller.
    The change rolls back and the request answers 500, with the hook named in the log.
    """
