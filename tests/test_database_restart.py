"""A real restart of a PostgreSQL server under concurrent writers: only 201s and 503s.

The server is a throwaway cluster of the test's own (initdb on a free port), restarted with
``pg_ctl restart`` and removed afterwards: the machine's shared server, which other tests and
other work use, is never touched. The service's own suite stages a gentler outage (a proxy it
cuts) on every run; this one checks the real thing, end to end over HTTP.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import Service
from tests.live_service import RunningService, create_products_until, serving
from tests.throwaway_postgres import Cluster, throwaway_cluster

WRITERS = 8
# Writers run this long before the restart, and this long after the server answers again.
BEFORE_RESTART_SECONDS = 2.0
AFTER_RESTART_SECONDS = 3.0

# It serves a generated service: the generation tier too.
pytestmark = [pytest.mark.postgres, pytest.mark.generation]


@dataclass
class Outcomes:
    """What the writers saw, shared between their threads."""

    statuses: Counter[int] = field(default_factory=Counter)
    created_ids: list[str] = field(default_factory=list)
    created_after_restart: int = 0
    transport_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own, to restart."""
    with throwaway_cluster() as started:
        yield started


def write_until(
    live: RunningService, stop: threading.Event, restarted: threading.Event, outcomes: Outcomes
) -> None:
    """Create products until ``stop``; record every outcome."""

    def answered(status: int, _sent: float, payload: Any) -> None:
        with outcomes.lock:
            outcomes.statuses[status] += 1
            if status == 201:
                outcomes.created_ids.append(payload["id"])
                outcomes.created_after_restart += restarted.is_set()

    def dropped(error: str) -> None:
        with outcomes.lock:
            outcomes.transport_errors.append(error)

    create_products_until(live, stop, answered, dropped)


def test_a_postgres_restart_under_concurrent_writers_gives_only_201_and_503(
    service: Callable[[str], Service], cluster: Cluster, tmp_path: Path
) -> None:
    database_url = cluster.admin_url.replace("postgresql://", "postgresql+psycopg://")
    env = {"DATABASE_URL": database_url}
    stop, restarted, outcomes = threading.Event(), threading.Event(), Outcomes()
    with serving(service("default"), env, tmp_path / "service.log") as live:
        writers = [
            threading.Thread(target=write_until, args=(live, stop, restarted, outcomes))
            for _ in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        try:
            time.sleep(BEFORE_RESTART_SECONDS)
            downtime = cluster.restart()
            restarted.set()
            time.sleep(AFTER_RESTART_SECONDS)
        finally:
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
        log = live.log_entries()
    with psycopg.connect(cluster.admin_url) as connection:
        entities = sorted(str(row[0]) for row in connection.execute("SELECT id FROM product"))
        audited = sorted(
            str(row[0]) for row in connection.execute("SELECT product_id FROM product_audit")
        )
    print(  # the figures of the run, shown with -rP
        f"restart took {downtime:.1f}s; statuses {dict(outcomes.statuses)}; "
        f"{outcomes.created_after_restart} created after it; {len(entities)} stored"
    )
    assert outcomes.transport_errors == []
    assert set(outcomes.statuses) <= {201, 503}, outcomes.statuses
    assert outcomes.created_after_restart > 0, "the service did not recover"
    assert not [entry for entry in log if entry.get("level") == "error"]
    assert set(outcomes.created_ids) <= set(entities)
    assert audited == entities
