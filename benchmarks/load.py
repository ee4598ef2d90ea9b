"""A small HTTP/1.1 load generator on asyncio streams: keep-alive connections, no dependencies.

Each of ``connections`` connections sends one request, reads the whole response, and sends
the next, until ``duration`` seconds have passed. It costs the client little per request (no
HTTP library: the requests are pre-formatted bytes), so on a shared machine most of the CPU
goes to the server under test. Responses must carry Content-Length (uvicorn's JSON answers do).
"""

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Makes the request bytes for the n-th request of a run.
RequestMaker = Callable[[int], bytes]


def request(
    method: str,
    path: str,
    host: str,
    token: str | None = None,
    body: Any = None,
) -> bytes:
    """Format one HTTP/1.1 keep-alive request, with a JSON body if given."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one response: its status, its body, and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", ""):
        msg = "chunked responses are not supported by this load generator"
        raise RuntimeError(msg)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection", "").lower() != "close"


async def send(host: str, port: int, raw: bytes) -> tuple[int, bytes]:
    """Send one request on a connection of its own and return its status and body."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(raw)
        status, body, _ = await read_response(reader)
        return status, body
    finally:
        writer.close()


@dataclass
class Result:
    """What one load run measured."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Throughput (req/s), p50 and p99 latency (ms), error count, statuses."""
        ordered = sorted(self.latencies)

        def percentile(fraction: float) -> float:
            if not ordered:
                return float("nan")
            return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

        return {
            "rps": self.requests / self.seconds if self.seconds else 0.0,
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "mean_ms": statistics.fmean(ordered) * 1000 if ordered else float("nan"),
            "requests": self.requests,
            "errors": self.errors,
            "statuses": {str(code): count for code, count in sorted(self.statuses.items())},
        }


async def run_load(
    host: str, port: int, make: RequestMaker, *, connections: int, duration: float
) -> Result:
    """Drive ``make``'s requests over ``connections`` keep-alive connections for ``duration``."""
    result = Result()
    counter = iter(range(10**12))
    start = time.perf_counter()
    deadline = start + duration

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                raw = make(next(counter))
                sent = time.perf_counter()
                writer.write(raw)
                status, _, keep = await read_response(reader)
                result.latencies.append(time.perf_counter() - sent)
                result.requests += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status >= 400:
                    result.errors += 1
                if not keep:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    result.seconds = time.perf_counter() - start
    return result
