"""Serving a sandbox app with uvicorn: `serve` in the foreground, `BackgroundServer` in a thread.

The socket is bound before uvicorn starts, so port 0 works (the OS picks a free port) and the
printed or returned base URL is the real one. Only process plumbing here: each sandbox builds its
own app and wraps these in its own `run` and `BackgroundServer` with its port and thread name.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import ClassVar, Self

import uvicorn
from starlette.types import ASGIApp


def bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket (uvicorn starts listening on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls back once it is really listening."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_ready is not None:
            self._on_ready()


def serve(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve `app` until interrupted; `on_ready(base_url)` runs once it listens."""
    sock = bind(host, port)
    url = base_url(sock)
    config = uvicorn.Config(app, log_level=log_level, lifespan="on")
    ready = (lambda: on_ready(url)) if on_ready is not None else None
    _AnnouncingServer(config, ready).run(sockets=[sock])


class BackgroundServer:
    """Serve an ASGI app from a daemon thread on a free local port: `with ... as server:`."""

    thread_name: ClassVar[str] = "sandbox"

    def __init__(
        self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 10.0
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._timeout = startup_timeout_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> str:
        sock = bind(self._host, self._port)
        self.base_url = base_url(sock)
        config = uvicorn.Config(self._app, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self.thread_name, daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + self._timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox server did not start on {self.base_url}")
            time.sleep(0.01)
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=self._timeout)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
