"""A PgBouncer of a test's own, in transaction mode, in front of a PostgreSQL server.

Debian's package (``.ci/run`` installs it when it is missing), started on a free port with its
own configuration in a temporary directory, and stopped afterwards; a PgBouncer the package
may have started for the machine is never used. PgBouncer refuses to run as root: as root
(CI), it switches to the ``postgres`` user once it has read its configuration.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.live_service import free_port

READY_TIMEOUT_SECONDS = 30.0
OWNER = "postgres"
# Server connections PgBouncer opens per database: all the server sees, however many
# connections the service's workers hold to the pooler.
SERVER_POOL_SIZE = 10


def pgbouncer_binary() -> str:
    """The path of pgbouncer: on PATH, or where Debian puts it (/usr/sbin, not on every PATH)."""
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        pytest.fail("pgbouncer is needed for the pooler tests: apt-get install pgbouncer")
    return found


def configuration(server_url: str, port: int) -> str:
    """pgbouncer.ini: transaction mode on 127.0.0.1:``port``, every database of the server.

    Clients are not authenticated (``auth_type = any``: the port is the test's own, on the
    loopback), and PgBouncer logs in to the server as the user of ``server_url``, with its
    password if it has one.
    """
    server = conninfo_to_dict(server_url)
    login = {key: server[key] for key in ("host", "port", "user", "password") if server.get(key)}
    return "\n".join(
        [
            "[databases]",
            f"* = {make_conninfo('', **login)}",
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            "unix_socket_dir =",
            "auth_type = any",
            "pool_mode = transaction",
            f"default_pool_size = {SERVER_POOL_SIZE}",
            "max_client_conn = 200",
            "",
        ]
    )


@dataclass
class Pooler:
    """A PgBouncer process listening on 127.0.0.1:``port``, its configuration and its log."""

    config: Path
    port: int
    log: Path
    # The server's user, whom PgBouncer logs in as whatever name a client gives.
    user: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start PgBouncer and wait until it accepts connections."""
        command = [pgbouncer_binary(), str(self.config)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", OWNER]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not accepts_connections(self.port):
            if self.process.poll() is not None:
                pytest.fail(f"pgbouncer exited with {self.process.returncode}:\n{self.log_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"pgbouncer did not listen in time:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop PgBouncer at once, as a crash or a restart would: every client is cut off."""
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM is PgBouncer's immediate shutdown: it closes every connection and exits.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=READY_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` through this pooler."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def log_text(self) -> str:
        """What PgBouncer logged so far (its last lines)."""
        return self.log.read_text(errors="replace")[-4000:]


def accepts_connections(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def throwaway_pooler(server_url: str) -> Iterator[Pooler]:
    """Start PgBouncer in front of ``server_url``'s server; stop it and delete its files after."""
    directory = Path(tempfile.mkdtemp(prefix="throwaway-pgbouncer-"))
    port = free_port()
    config = directory / "pgbouncer.ini"
    config.write_text(configuration(server_url, port))
    user = conninfo_to_dict(server_url).get("user") or OWNER
    pooler = Pooler(config, port, directory / "pgbouncer.log", str(user))
    pooler.start()
    try:
        yield pooler
    finally:
        pooler.stop()
        shutil.rmtree(directory, ignore_errors=True)
