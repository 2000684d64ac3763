"""Central on loopback for tests, the UI tests and ``make demo``.

``EmbeddedCentral`` runs uvicorn in a background thread of this process; ``start_subprocess``
runs it as a separate process, for tests that must kill and restart central.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from central import db as dbmod
from central import service as svc
from central.app import create_app
from central.demo import seed_demo
from central.server import NoDelayH11Protocol

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _temp_sqlite() -> tuple[str, tempfile.TemporaryDirectory[str]]:
    tmp = tempfile.TemporaryDirectory(prefix="isseg-central-")
    return f"sqlite:///{Path(tmp.name) / 'central.sqlite'}", tmp


class EmbeddedCentral:
    """``with EmbeddedCentral() as central: httpx.get(central.base_url + "/v1/health")``.

    ``db_url=None`` uses a fresh SQLite file in a temporary folder (removed on exit);
    ``clock`` is passed to the app; ``seed_demo=True`` loads the demo data, kept in ``.demo``
    (same shape as ``admin seed-demo --json``).
    """

    def __init__(
        self,
        db_url: str | None = None,
        clock: svc.Clock | None = None,
        seed_demo: bool = False,
        **app_options: Any,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if db_url is None:
            db_url, self._tmp = _temp_sqlite()
        self.db_url = db_url
        self.clock = clock
        self._seed = seed_demo
        self._options = app_options
        self.demo: dict[str, Any] = {}
        self.base_url = ""
        self.app: Any = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmbeddedCentral:
        dbmod.upgrade(self.db_url)  # the demo's and the tests' own database
        self.app = create_app(self.db_url, clock=self.clock, **self._options)
        if self._seed:
            self.demo = seed_demo(self.app.state.db, self.app.state.clock(), self.app.state.policy)
            self.demo["db_url"] = self.db_url
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            date_header=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            http=NoDelayH11Protocol,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="central"
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("el servidor central no arrancó")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
        if self.app is not None:
            self.app.state.db.dispose()
            self.app = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedCentral:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class CentralProcess:
    """Central as a child process on a fixed port, so it can be killed and started again."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        now: datetime | None = None,
        port: int | None = None,
        workers: int = 1,
        server_args: Sequence[str] = (),
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.server_args = list(server_args)  # more options of ``central.server``
        if db_url is None:
            db_url, self._tmp = _temp_sqlite()
        self.db_url = db_url
        self.port = port or free_port()
        scheme = "https" if "--cert" in self.server_args else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.workers = workers
        self.now = now
        self.process: subprocess.Popen[bytes] | None = None
        self.output: Any = None  # a file for central's output and access log (None: inherited)

    def start(self, timeout: float = 30) -> CentralProcess:
        dbmod.upgrade(self.db_url)  # `isseg-farmacia central migrar`, as an operator would
        env = dict(os.environ)
        env["ISSEG_CENTRAL_DB"] = self.db_url
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        if self.now is not None:
            env["ISSEG_CENTRAL_NOW"] = self.now.isoformat()
        env["ISSEG_CENTRAL_DB"] = self.db_url  # never on the command line
        cmd = [
            sys.executable, "-m", "central.server",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
            *self.server_args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            cmd, env=env, cwd=str(ROOT), stdout=self.output, stderr=self.output
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"central terminó con código {self.process.returncode}")
            try:
                # Only "is it up": the certificate is what the tests of TLS look at.
                up = httpx.get(self.base_url + "/v1/health", timeout=0.5, verify=False)
                if up.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("el servidor central no respondió a tiempo")

    def kill(self) -> None:
        """Abrupt end (SIGKILL): what a power cut does."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> CentralProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_subprocess(
    db_url: str | None = None,
    *,
    now: datetime | None = None,
    port: int | None = None,
    workers: int = 1,
    server_args: Sequence[str] = (),
) -> CentralProcess:
    """Start central in a child process and wait until it answers /v1/health.

    ``now`` starts its clock at that moment (it then advances in real time); ``stop()`` /
    ``kill()`` end it and ``start()`` runs it again on the same port and database.
    """
    return CentralProcess(
        db_url, now=now, port=port, workers=workers, server_args=server_args
    ).start()
