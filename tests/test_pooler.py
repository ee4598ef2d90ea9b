"""A default service behind PgBouncer in transaction mode, as a team past one database's
connection limit runs it: two instances with two workers each, through one pooler.

PgBouncer is the test's own (``tests/throwaway_pgbouncer.py``), in front of the machine's
PostgreSQL server, where the test makes a database of its own and drops it after. A pooler in
transaction mode may run each transaction on another server connection: a statement psycopg
prepared on one is unknown to the next, which was a 500 for every such request. With
``DATABASE_POOLER=transaction`` the migrations, the command line and concurrent writers all go
through it; writers get only 201s, and 503s while the pooler itself is down.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.conftest import Service
from tests.live_service import (
    CONCURRENT_WRITERS,
    RunningService,
    create_products_until,
    race_for_one_version,
    serving,
)
from tests.test_postgres import ADMIN_URL
from tests.throwaway_pgbouncer import SERVER_POOL_SIZE, Pooler, throwaway_pooler

# The load: 16 writers at once, spread over the two instances.
WRITERS = 16
# Writers run this long before the pooler stops, while it is down, and after it is back.
BEFORE_OUTAGE_SECONDS = 2.0
OUTAGE_SECONDS = 2.0
AFTER_OUTAGE_SECONDS = 2.0

pytestmark = [pytest.mark.postgres, pytest.mark.generation, pytest.mark.answer_set("default")]


@dataclass
class Outcomes:
    """What the writers saw, shared between their threads."""

    # Each answer's status and when its request was sent (time.monotonic()).
    answers: list[tuple[int, float]] = field(default_factory=list)
    created_ids: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def statuses(self) -> Counter[int]:
        """How many answers had each status."""
        return Counter(status for status, _ in self.answers)


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the machine's server, dropped afterwards: its name."""
    name = f"cbs_pooler_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pooler() -> Iterator[Pooler]:
    """PgBouncer in transaction mode in front of the machine's server, on a port of its own."""
    with throwaway_pooler(ADMIN_URL) as started:
        yield started


def direct_url(database: str) -> str:
    """The libpq URL of ``database`` on the server itself, around the pooler."""
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{database}"


def write_until(live: RunningService, stop: threading.Event, outcomes: Outcomes) -> None:
    """Create products until ``stop``; record every answer and when its request was sent."""

    def answered(status: int, sent: float, payload: Any) -> None:
        with outcomes.lock:
            outcomes.answers.append((status, sent))
            if status == 201:
                outcomes.created_ids.append(payload["id"])

    def dropped(error: str) -> None:
        with outcomes.lock:
            outcomes.transport_errors.append(error)

    create_products_until(live, stop, answered, dropped)


def test_two_instances_behind_pgbouncer_give_only_201_and_503_while_it_is_down(
    service: Callable[[str], Service], database: str, pooler: Pooler, tmp_path: Path
) -> None:
    generated = service("default")
    env = {"DATABASE_URL": pooler.url(database), "DATABASE_POOLER": "transaction"}
    stop, outcomes = threading.Event(), Outcomes()
    # Each serving() migrates the database through the pooler first (the second finds it
    # up to date) and mints its token with the command line.
    with (
        serving(generated, env, tmp_path / "first.log", workers=2) as first,
        serving(generated, env, tmp_path / "second.log", workers=2) as second,
    ):
        instances = (first, second)
        writers = [
            threading.Thread(target=write_until, args=(instances[index % 2], stop, outcomes))
            for index in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        try:
            time.sleep(BEFORE_OUTAGE_SECONDS)
            pooler.stop()
            time.sleep(OUTAGE_SECONDS)
            pooler.start()
            back = time.monotonic()
            time.sleep(AFTER_OUTAGE_SECONDS)
        finally:
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
        with psycopg.connect(direct_url(database)) as connection:
            (server_connections,) = connection.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone() or (0,)
        # One version, many conditional writers: the check and the change share a
        # transaction, and so a server connection, whichever the pooler hands out.
        raced, actions = race_for_one_version(
            second, "/catalog/products", {"name": "Raced", "price": "1.00"}, {"price": "2.00"}
        )
        log = first.log_entries() + second.log_entries()

    statuses = outcomes.statuses()
    print(  # the figures of the run, shown with -rP
        f"statuses {dict(statuses)}; {server_connections} server connections; "
        f"{len(outcomes.created_ids)} created"
    )
    assert outcomes.transport_errors == []
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503] > 0, "the writers never saw the pooler down"
    assert all(sent < back for status, sent in outcomes.answers if status == 503)
    assert any(status == 201 and sent > back for status, sent in outcomes.answers)
    assert not [entry for entry in log if entry.get("level") == "error"]
    assert raced == {200: 1, 412: CONCURRENT_WRITERS - 1}
    assert actions == ["PRODUCT_UPDATED", "PRODUCT_CREATED"]
    # The pooler, not the four workers' pools, decides what the server sees.
    assert server_connections <= SERVER_POOL_SIZE

    with psycopg.connect(direct_url(database)) as connection:
        entities = sorted(str(row[0]) for row in connection.execute("SELECT id FROM product"))
        audited = sorted(
            str(row[0])
            for row in connection.execute(
                "SELECT product_id FROM product_audit WHERE action_code = 'PRODUCT_CREATED'"
            )
        )
    assert set(outcomes.created_ids) <= set(entities)
    assert audited == entities, "an entity without its one audit row"

    # The command line through the pooler too: drift check and every hash chain.
    for command in (("db", "check"), ("audit", "verify")):
        result = generated.uv_run(generated.slug, *command, env=env)
        assert result.returncode == 0, result.explain()
