"""A small fault-injecting HTTP proxy on loopback, for the sync fault tests.

It sits between the terminal and the real central server and, per request (one request per
connection: it asks both sides for ``Connection: close``), does one of:

* ``ok``          — forward, answer with central's answer;
* ``error500``    — answer 500 without forwarding (central never sees it);
* ``hang``        — read the request, never forward, never answer (the client times out);
* ``lost``        — forward, let central commit, then close without answering;
* ``slow``        — forward, let central commit, then hold the answer past the client's timeout.

Faults are drawn from a seeded ``random.Random``; ``down()`` stops listening (connection
refused) and ``up()`` listens again on the same port. ``hold_next_forwarded`` parks the next
forwarded request's answer until ``release()``: the moment to kill a terminal mid-send.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

OK, ERROR500, HANG, LOST, SLOW = "ok", "error500", "hang", "lost", "slow"

_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
    b"content-length: 26\r\nconnection: close\r\n\r\n"
    b'{"detail":"proxy: fallo"}\n'
)


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    lines = [
        ln
        for ln in head.split(b"\r\n")
        if not ln.lower().startswith((b"connection:", b"keep-alive:"))
    ]
    lines.insert(1, b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _wait_closed(conn: socket.socket, seconds: float) -> None:
    """Keep the connection open, silent, until the client gives up (or ``seconds``)."""
    conn.settimeout(0.05)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if conn.recv(1024) == b"":
                return
        except TimeoutError:
            continue
        except OSError:
            return


class FaultProxy:
    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        seed: int = 0,
        weights: dict[str, float] | None = None,
        hang_seconds: float = 5.0,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rng = random.Random(seed)
        self.weights = weights or {OK: 1.0}
        self.hang_seconds = hang_seconds
        self.counts: Counter[str] = Counter()
        self.forwarded = 0
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._port = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._hold_next = False
        self.held = threading.Event()  # set when a committed answer is being held back
        self._release = threading.Event()
        self._handlers: list[threading.Thread] = []

    # --- life cycle -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def up(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        sock.listen(128)
        sock.settimeout(0.1)
        self._port = sock.getsockname()[1]
        self._sock = sock
        self._stopping = False
        self._thread = threading.Thread(target=self._accept_loop, args=(sock,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop listening: new connections are refused, as when central's host is down."""
        self._stopping = True
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        self.release()
        self.down()
        for t in list(self._handlers):
            t.join(self.hang_seconds + 1)

    def set_weights(self, weights: dict[str, float]) -> None:
        with self._lock:
            self.weights = weights

    def hold_next_forwarded(self) -> None:
        self.held.clear()
        self._release.clear()
        self._hold_next = True

    def release(self) -> None:
        self._release.set()

    # --- work -----------------------------------------------------------------------------

    def _accept_loop(self, sock: socket.socket) -> None:
        while not self._stopping:
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._handlers = [h for h in self._handlers if h.is_alive()] + [t]
            t.start()

    def _choose(self) -> str:
        with self._lock:
            names = list(self.weights)
            choice = self.rng.choices(names, [self.weights[n] for n in names])[0]
            self.counts[choice] += 1
            return choice

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(request)
            chunks = []
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        with self._lock:
            self.forwarded += 1
        return b"".join(chunks)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = _read_request(conn)
                if request is None:
                    return
                fault = self._choose()
                if fault == ERROR500:
                    conn.sendall(_500)
                    return
                if fault == HANG:
                    _wait_closed(conn, self.hang_seconds)
                    return
                answer = self._forward(request)
                with self._lock:
                    hold, self._hold_next = self._hold_next, False
                if hold:
                    self.held.set()
                    self._release.wait(60)
                if fault == LOST:
                    return  # central committed; the terminal never hears of it
                if fault == SLOW:
                    _wait_closed(conn, self.hang_seconds)
                    return
                conn.sendall(answer)
            except OSError:
                return


@contextmanager
def fault_proxy(host: str, port: int, **kwargs: object) -> Iterator[FaultProxy]:
    proxy = FaultProxy(host, port, **kwargs)  # type: ignore[arg-type]
    proxy.up()
    try:
        yield proxy
    finally:
        proxy.close()
