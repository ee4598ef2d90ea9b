"""The generated service with its audit insert left out: the audit's share of a create.

The same app, settings and request path as the service's own ``serve``, except that the
audit repository writes no row: the audit row is still built (snapshot and hash included),
but never inserted. Runs in the generated service's environment:

    NO_AUDIT_PACKAGE=inventory_service uvicorn no_audit_app:create_app --factory \
        --app-dir benchmarks
"""

import importlib
import os
from typing import Any

from shared.db.repositories.audit_repository.audit_repository import AuditRepository


def _written_nowhere(_repository: Any, _values: dict[str, Any]) -> None:
    return None


def create_app() -> Any:
    """The service's app, its audit insert removed."""
    AuditRepository.append = _written_nowhere  # type: ignore[method-assign]
    app_module = importlib.import_module(f"{os.environ['NO_AUDIT_PACKAGE']}.app")
    return app_module.create_app()
