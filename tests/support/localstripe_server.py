"""The third-party localstripe server (a stateful fake Stripe API) run for tests.

`localstripe_server()` starts it in a child process on 127.0.0.1, waits until it answers HTTP,
yields its base URL (point the real Stripe SDK at it through `base_addresses`) and terminates it
on exit. Two localstripe quirks are handled here, not in tests:
- it pickles its whole store to /tmp/localstripe.pickle on every write (slow, and concurrent
  instances overwrite each other): the child replaces `Store.dump_to_disk` with a no-op and never
  loads that file, so every server starts empty;
- its own `start()` binds port 8420 on every interface: the child serves a socket that this
  process bound to a free port on 127.0.0.1 and hands over, so there is no port race;
- a child outliving a killed test run: it exits when its stdin (a pipe from this process) closes.
State is shared by everything using one server; `DELETE {url}/_config/data` empties it.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO
from urllib.parse import urlsplit

__all__ = ["LocalstripeStartError", "localstripe_server"]

# Checked against localstripe 1.15.10: `localstripe.resources.Store.dump_to_disk` and the
# module-level `localstripe.server.app` (an aiohttp Application).
# The child also stops when its stdin reaches EOF, i.e. when this process dies without cleaning up.
_CHILD_CODE = """
import os, signal, socket, sys, threading
from aiohttp import web
import localstripe.resources
import localstripe.server

def _stop_when_parent_goes():
    sys.stdin.buffer.read()
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=_stop_when_parent_goes, daemon=True).start()
localstripe.resources.Store.dump_to_disk = lambda self: None
sock = socket.socket(fileno=int(sys.argv[1]))
web.run_app(localstripe.server.app, sock=sock, print=None, access_log=None, shutdown_timeout=1)
"""

_START_TIMEOUT_S = 20.0
_STOP_TIMEOUT_S = 5.0


class LocalstripeStartError(RuntimeError):
    """The localstripe child process exited or did not answer in time."""


def _answers(base_url: str) -> bool:
    # http.client, not urllib: urllib would honour HTTP(S)_PROXY for 127.0.0.1.
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=2)
    try:
        conn.request("GET", "/js.stripe.com/v3/")
        conn.getresponse().read()
    except OSError:
        return False
    finally:
        conn.close()
    return True


@contextmanager
def localstripe_server() -> Iterator[str]:
    """Run localstripe for the duration of the block; yield its base URL (no trailing slash)."""
    # An unlinked temporary file: the child's output is readable for error messages and leaves
    # nothing behind, even if this process is killed.
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener,
        tempfile.TemporaryFile() as log,
    ):
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE, str(listener.fileno())],
            pass_fds=(listener.fileno(),),
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        listener.close()
        try:
            _wait_until_up(process, base_url, log)
            yield base_url
        finally:
            _terminate(process)


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalstripeStartError(
                f"localstripe exited with {process.returncode}:\n{_tail(log)}"
            )
        if _answers(base_url):
            return
        time.sleep(0.05)
    _terminate(process)
    raise LocalstripeStartError(
        f"localstripe did not answer at {base_url} within {_START_TIMEOUT_S:.0f} s:\n{_tail(log)}"
    )


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-4000:]


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
