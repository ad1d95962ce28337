"""Ports for test and bench servers: never handed out twice, never one a client may take.

CI once lost 142 tests to one collision: a gateway's port, chosen but not yet bound, was
handed out again to a metrics server; the gateway could not bind, and its readiness check
took the metrics server's answer for the gateway's.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from shared.adapters.embedded import EmbeddedServer, ServerFailed, free_port, free_ports_in_a_row


def _ephemeral_range() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_no_port_is_handed_out_twice_and_none_lies_in_the_ephemeral_range() -> None:
    ports = [free_port() for _ in range(2_000)]
    assert len(set(ports)) == len(ports)
    low, high = _ephemeral_range()
    assert not [port for port in ports if low <= port <= high]


def test_ports_in_a_row_are_consecutive_and_never_overlap_single_ports() -> None:
    first = free_ports_in_a_row(5)
    singles = {free_port() for _ in range(500)}
    assert singles.isdisjoint(range(first, first + 5))


def test_a_server_that_cannot_bind_while_another_process_answers_is_reported(
    tmp_path: Path,
) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        server = EmbeddedServer(
            name="late",
            argv=[sys.executable, "-c", "raise SystemExit(3)"],
            host="127.0.0.1",
            port=port,
            log_path=tmp_path / "late.log",
        )
        # The squatter bound the port between `launch`'s check and the server's own bind.
        server.process = subprocess.Popen(server.argv)
        server.process.wait()
        with pytest.raises(ServerFailed, match="late exited with 3"):
            server.wait(timeout=5)
