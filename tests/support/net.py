"""Network helpers for tests: picking a free local TCP port.

A port picked this way can be taken by someone else before it is bound again; prefer binding to
port 0 yourself and passing the socket on when the server allows it.
"""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on `host` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
