"""What the contract tests share: the statements a request sends to the database."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, event

# The test's transaction makes each commit a savepoint: those statements are the harness's.
HARNESS_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture
def statements(connection: Connection) -> Iterator[list[str]]:
    """The statements the app sends on the test's connection, each by its first three words."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(HARNESS_STATEMENTS):
            sent.append(" ".join(statement.split()[:3]))

    event.listen(connection, "before_cursor_execute", record)
    yield sent
    event.remove(connection, "before_cursor_execute", record)
