"""A real restart of the PostgreSQL server under concurrent writers: only 201s and 503s.

This test restarts the machine's PostgreSQL cluster (``pg_ctlcluster ... restart``, as root),
so every other test using the server at that moment loses its connections. It waits until
the server answers again before it ends. The service's own suite stages a gentler outage
(a proxy it cuts) on every run; this one checks the real thing, end to end over HTTP.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests.conftest import Service
from tests.live_service import RunningService, serving

ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLUSTERS = Path("/etc/postgresql")
WRITERS = 8
# Writers run this long before the restart, and this long after the server answers again.
BEFORE_RESTART_SECONDS = 2.0
AFTER_RESTART_SECONDS = 3.0
READY_TIMEOUT_SECONDS = 60.0

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
def fresh_database() -> Iterator[str]:
    """A new database (its SQLAlchemy URL), dropped afterwards on a connection made then."""
    name = f"cbs_restart_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{server}/{name}"
    # The restart closed every connection opened before it: open a new one to clean up.
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def restart_postgres() -> float:
    """Restart the local cluster and wait until it accepts connections; return the seconds."""
    (version,) = [path.name for path in CLUSTERS.iterdir()]
    address = urlsplit(ADMIN_URL)
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=READY_TIMEOUT_SECONDS,
    )
    ready = ["pg_isready", "-q", "-h", address.hostname or "127.0.0.1", "-p", str(address.port)]
    while subprocess.run(ready, check=False).returncode != 0:
        assert time.monotonic() - started < READY_TIMEOUT_SECONDS, "PostgreSQL did not come back"
        time.sleep(0.2)
    return time.monotonic() - started


def write_until(
    live: RunningService, stop: threading.Event, restarted: threading.Event, outcomes: Outcomes
) -> None:
    """Create products over one kept-alive connection until ``stop``; record every outcome."""
    address = urlsplit(live.base_url)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {live.token}"}
    connection = HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
    while not stop.is_set():
        body = json.dumps({"name": f"Restarted {secrets.token_hex(4)}", "price": "1.00"})
        try:
            connection.request("POST", "/catalog/products", body=body, headers=headers)
            response = connection.getresponse()
            payload = json.loads(response.read())
        except (OSError, HTTPException) as error:
            with outcomes.lock:
                outcomes.transport_errors.append(repr(error))
            connection.close()
            connection = HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
            continue
        with outcomes.lock:
            outcomes.statuses[response.status] += 1
            if response.status == 201:
                outcomes.created_ids.append(payload["id"])
                outcomes.created_after_restart += restarted.is_set()
    connection.close()


def test_a_postgres_restart_under_concurrent_writers_gives_only_201_and_503(
    service: Callable[[str], Service], fresh_database: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": fresh_database}
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
            downtime = restart_postgres()
            restarted.set()
            time.sleep(AFTER_RESTART_SECONDS)
        finally:
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
        log = live.log_entries()
    with psycopg.connect(fresh_database.replace("+psycopg", "")) as connection:
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
