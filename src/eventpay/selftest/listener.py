"""A loopback HTTP listener the self-test starts: it records every connection and request.

Two uses: a webhook endpoint subscribed at the PayPal sandbox (to see a genuine delivery's
headers, e.g. the sandbox's real `PAYPAL-CERT-URL`), and a certificate server a forger would
run (the service must never connect to it). Connections are counted as they are accepted,
before any bytes are parsed, so a TLS handshake or a malformed request counts as a hit too.
GETs are answered with `body`, POSTs with `{}`. Standard library only; no scenario logic.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: Mapping[str, str]


class Listener:
    """Listens on a free loopback port from `start()` (or `with`) until `stop()`."""

    def __init__(self, body: bytes = b"", content_type: str = "application/octet-stream") -> None:
        self._lock = threading.Lock()
        self._connections = 0
        self._hits: list[Hit] = []
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler(body, content_type))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="selftest-listener", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _handler(self, body: bytes, content_type: str) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                with listener._lock:
                    listener._connections += 1
                super().setup()

            def do_GET(self) -> None:
                self._record()
                self._answer(body, content_type)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self._record()
                self._answer(b"{}", "application/json")

            def _record(self) -> None:
                hit = Hit(self.command, self.path, dict(self.headers.items()))
                with listener._lock:
                    listener._hits.append(hit)

            def _answer(self, content: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:
                # The report is the self-test's output; request lines would interleave with it.
                return

        return Handler
