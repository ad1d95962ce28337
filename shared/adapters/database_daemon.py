"""The embedded SecantusDB daemon, with abandoned transactions reaped on a clock.

SecantusDB's own command line cannot set how long a transaction may sit idle, and it
reaps idle transactions only while some other transaction statement arrives. A client
killed inside a transaction (the insights consumer under `make chaos`, any consumer after
a kill -9) leaves its transaction open, and a plain write to a document it wrote then
waits with no end (`tests/integration/test_abandoned_transactions.py`). This entry point
starts the same server as `python -m secantus` and aborts transactions idle longer than
`--transaction-lifetime` seconds once a second, whatever else happens.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from secantus.server import SecantusDBServer

__all__ = ["main"]

_REAP_EVERY_SECONDS = 1.0

log = logging.getLogger("progress.database")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m shared.adapters.database_daemon")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--storage-path", required=True)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "--transaction-lifetime",
        type=float,
        default=10.0,
        help="seconds a transaction may stay idle before it is aborted",
    )
    return parser.parse_args(argv)


def _reap(server: SecantusDBServer, stopped: threading.Event) -> None:
    """Abort idle transactions once a second until `stopped` is set."""
    while not stopped.wait(_REAP_EVERY_SECONDS):
        reaped = server.transactions.prune_expired()
        if reaped:
            log.warning("aborted %d abandoned transaction(s)", reaped)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM (the same server and defaults as SecantusDB's CLI)."""
    args = _arguments(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    server = SecantusDBServer(
        host=args.host,
        port=args.port,
        storage_path=args.storage_path,
        enable_test_commands=False,
        transaction_lifetime_seconds=args.transaction_lifetime,
    )
    stopped = threading.Event()

    def shut_down(signum: int, frame: FrameType | None) -> None:
        stopped.set()
        server.stop()
        sys.exit(0)

    signal.signal(signal.SIGINT, shut_down)
    signal.signal(signal.SIGTERM, shut_down)
    server.start()
    threading.Thread(target=_reap, args=(server, stopped), name="reaper", daemon=True).start()
    server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
