"""Domain errors: raised below the routers, mapped to HTTP responses in one table by the app."""


class DomainError(Exception):
    """Base of every error a service raises on purpose; its message is safe to show callers."""


class NotFoundError(DomainError):
    """The entity does not exist, or is soft-deleted where only live ones count."""


class ConflictError(DomainError):
    """The change clashes with the stored data (a unique value taken, a state that forbids it)."""


class AuthenticationError(DomainError):
    """The request carries no valid credentials."""
