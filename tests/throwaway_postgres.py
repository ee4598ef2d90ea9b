"""A PostgreSQL cluster of a test's own: made with initdb on a free port, removed afterwards.

For tests that stop or restart the server: the machine's shared server is never touched.
As root (CI), the cluster's processes run as the ``postgres`` user, which PostgreSQL needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_service import free_port

READY_TIMEOUT_SECONDS = 60.0
OWNER = "postgres"


def server_binary(name: str) -> str:
    """The path of a PostgreSQL server program (initdb, pg_ctl), on PATH or where Debian puts it."""
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = shutil.which(name) or next((str(path) for path in debian), None)
    if found is None:
        pytest.fail(f"{name} is needed for a throwaway PostgreSQL cluster (package postgresql)")
    return found


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster: its data directory and its port on 127.0.0.1."""

    data: Path
    port: int

    @property
    def admin_url(self) -> str:
        """The libpq URL of its ``postgres`` database, as the trusted ``postgres`` user."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        """The server's log file (pg_ctl needs it for every start: the server must not keep
        pg_ctl's output open, or waiting for pg_ctl never ends)."""
        return self.data.parent / "server.log"

    def pg_ctl(self, *args: str) -> None:
        """Run pg_ctl on the cluster, waiting until the action is done."""
        as_owner(server_binary("pg_ctl"), "-D", str(self.data), "-w", "-s", *args)

    def restart(self) -> float:
        """Restart the server and wait until it accepts connections; return the seconds."""
        started = time.monotonic()
        self.pg_ctl("restart", "-m", "fast", "-l", str(self.log))
        return time.monotonic() - started


def as_owner(*args: str) -> None:
    """Run a server program as the cluster's owner (``postgres`` when this process is root)."""
    command = list(args)
    if os.geteuid() == 0:
        command = ["runuser", "-u", OWNER, "--", *command]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=READY_TIMEOUT_SECONDS, check=False
    )
    assert completed.returncode == 0, f"$ {' '.join(command)}\n{completed.stdout}{completed.stderr}"


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Create and start a cluster in a new temporary directory; stop and delete it afterwards.

    Not under pytest's tmp_path: as root, that is a directory the ``postgres`` user can't enter.
    """
    directory = Path(tempfile.mkdtemp(prefix="throwaway-postgres-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, OWNER)
    initdb = server_binary("initdb")
    as_owner(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    cluster = Cluster(data, free_port())
    # Its socket goes in its own directory; durability is not what these tests are about.
    options = f"-p {cluster.port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off"
    cluster.pg_ctl("start", "-o", options, "-l", str(cluster.log))
    try:
        yield cluster
    finally:
        cluster.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(directory, ignore_errors=True)
