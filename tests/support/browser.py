"""What the browser tests and the `track()` bench share: Chromium, the SDK bundle, and a
static server for the bundle and the test page on an origin of their own."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from shared.adapters.embedded import free_port

__all__ = ["BUNDLE", "CHROMIUM", "CHROMIUM_ARGS", "SDK_DIR", "static_site"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SDK_DIR = Path(__file__).resolve().parents[2] / "clients" / "js"
BUNDLE = SDK_DIR / "dist" / "progress-sync.js"
_HARNESS = Path(__file__).resolve().parents[1] / "browser" / "harness.html"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the output clean."""


@contextmanager
def static_site(root: Path) -> Iterator[str]:
    """Serve the built bundle and the test page (`window.sdk`, `window.ready`) from `root`;
    yield the origin."""
    for built in ("progress-sync.js", "live.js"):
        shutil.copy(BUNDLE.with_name(built), root / built)
    shutil.copy(_HARNESS, root / "index.html")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
