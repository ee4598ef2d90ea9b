"""Domain errors: raised below the routers, mapped to HTTP responses in one table by the app."""


class DomainError(Exception):
    """Base of every error a service raises on purpose; its message is safe to show callers."""


class NotFoundError(DomainError):
    """The entity does not exist, or is soft-deleted where only live ones count."""


class ConflictError(DomainError):
    """The change clashes with the stored data (a unique value taken, a state that forbids it)."""


class GoneError(DomainError):
    """The entity existed but was deleted at the moment asked about (an as-of read)."""


class SnapshotMismatchError(ConflictError):
    """An audit snapshot no longer fits the entity's current fields, so it can't be restored."""


class TamperedEntryError(ConflictError):
    """An audit entry no longer has the hash it was written with: it is not history to act on."""


class PreconditionFailedError(DomainError):
    """The caller's version of the entity is not the current one: someone changed it first."""

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class PreconditionRequiredError(DomainError):
    """The change must name the version it applies to (If-Match), and did not."""


class AuthenticationError(DomainError):
    """The request carries no valid credentials."""

    def __init__(self, message: str, *, invalid_token: bool = False) -> None:
        super().__init__(message)
        self.invalid_token = invalid_token

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value answering this failure (RFC 6750)."""
        return 'Bearer error="invalid_token"' if self.invalid_token else "Bearer"


class PermissionDeniedError(DomainError):
    """The caller is known but may not do this."""


class MissingPerformerError(DomainError):
    """A change names no performer: every audit row must say who (or which system) made it."""


class UnavailableError(DomainError):
    """The database (or another service relied on) can't answer now; retrying later may work."""


class HookContractError(Exception):
    """A feature's hook broke its contract (``after_change`` changed its entity, say).

    Not a DomainError: it is a mistake in the service's code, not a refusal to show a caller.
    The change rolls back and the request answers 500, with the hook named in the log.
    """
