"""The one task runner of the screens (Anki's taskman, in small).

* ``db``: a single worker thread for the screens' actions that only touch the local database
  (a payment, a shift, a void, a report's figures), run one at a time and in order.
* ``io``: a small pool for the actions that go to central or to the printer, which may each
  take seconds (a scan that asks central on a miss, a receipt sent then printed, a reprint).

Who writes to SQLite: the ``db`` thread; the ``io`` pool (a scan caches a referencia central
just sent, a receipt's send records central's answer in the outbox, a reprint is logged);
and the sync engine's own thread (outbox outcomes, the referencia feed, the policy). SQLite
serialises them: every write is a ``BEGIN IMMEDIATE`` transaction with a busy timeout, so
writers wait their turn instead of failing, and none holds the lock across a network call.

Results come back to the GUI thread only through Qt: a worker puts the finished task on a
thread-safe queue and a QTimer on the GUI thread (its ``timeout`` signal, every few ms while
anything is in flight) runs the callbacks. Workers never touch a Qt object, and nothing here
calls ``Signal.emit`` per task: with PySide6 6.12.0 on Python 3.11 each Python-side
``emit()`` leaks a reference to ``True`` (and ``processEvents()``/``exec()`` one to
``None``), and the process aborts ("bool_dealloc") after some thousands, which a till running
all day would reach. The GUI thread never waits on disk, network or printer. ``shutdown()`` stops both
executors and drops callbacks still in flight.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")
OnDone = Callable[[Any], object]
OnError = Callable[[BaseException], None]


class TaskRunner(QObject):
    """Runs callables off the GUI thread; ``on_done``/``on_error`` run on the GUI thread."""

    # Any task failed without its own ``on_error``: a Spanish message for the screen.
    failed = Signal(str)

    def __init__(
        self, io_workers: int = 4, poll_ms: int = 4, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._db = ThreadPoolExecutor(1, thread_name_prefix="caja-db")
        self._io = ThreadPoolExecutor(io_workers, thread_name_prefix="caja-io")
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self._done: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._pump = QTimer(self)
        self._pump.setInterval(poll_ms)
        self._pump.timeout.connect(self._drain)

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    @property
    def closed(self) -> bool:
        return self._closed

    def db(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], object] | None = None,
        on_error: OnError | None = None,
    ) -> Future[T] | None:
        """Run ``fn`` on the database thread (one at a time, in order)."""
        return self._submit(self._db, fn, on_done, on_error)

    def io(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], object] | None = None,
        on_error: OnError | None = None,
    ) -> Future[T] | None:
        """Run ``fn`` on the network/printer pool."""
        return self._submit(self._io, fn, on_done, on_error)

    def _submit(
        self,
        executor: ThreadPoolExecutor,
        fn: Callable[[], T],
        on_done: Callable[[T], object] | None,
        on_error: OnError | None,
    ) -> Future[T] | None:
        if self._closed:
            return None
        with self._lock:
            self._pending += 1
        if not self._pump.isActive():
            self._pump.start()

        def job() -> T:
            try:
                result = fn()
            except BaseException as exc:  # delivered to the GUI, never lost in a thread
                error = exc
                self._post(lambda: self._fail(error, on_error))
                raise
            self._post(lambda: self._succeed(result, on_done))
            return result

        try:
            return executor.submit(job)
        except RuntimeError:  # the executor shut down between the check and the submit
            self._finish()
            return None

    def _post(self, callback: Callable[[], None]) -> None:
        """Worker side: hand the callback to the GUI thread (no Qt call here)."""
        self._done.put(callback)

    def _drain(self) -> None:
        """GUI side (the pump's timeout): run every finished task's callback."""
        while True:
            try:
                callback = self._done.get_nowait()
            except queue.Empty:
                break
            self._run_on_gui(callback)
        if self.pending == 0 and self._done.empty():
            self._pump.stop()

    def _finish(self) -> None:
        with self._lock:
            self._pending -= 1

    def _succeed(self, result: Any, on_done: OnDone | None) -> None:
        self._finish()
        if on_done is not None and not self._closed:
            on_done(result)

    def _fail(self, exc: BaseException, on_error: OnError | None) -> None:
        self._finish()
        if self._closed:
            return
        if on_error is not None:
            on_error(exc)
            return
        log.error("tarea fallida", exc_info=exc)
        self.failed.emit(str(exc) or type(exc).__name__)

    def _run_on_gui(self, callback: Callable[[], None]) -> None:
        try:
            callback()
        except RuntimeError as exc:
            # A callback aimed at a widget Qt already deleted (window closed meanwhile).
            # (PySide says "already deleted" of a slot's object, "Signal source has been
            # deleted" of a signal's.)
            if "already deleted" not in str(exc) and "has been deleted" not in str(exc):
                raise
            log.debug("callback para un widget ya cerrado", exc_info=exc)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work, cancel what has not started, and wait for what has."""
        self._closed = True
        self._pump.stop()
        self._db.shutdown(wait=wait, cancel_futures=True)
        self._io.shutdown(wait=wait, cancel_futures=True)
