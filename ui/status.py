"""The always-visible status bar: central, queue, printer, cashier and shift.

Events only mark it dirty; a QTimer redraws it (Electrum's ``need_update`` pattern), and a
slower timer asks the terminal for fresh figures through the task runner.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QWidget

from kiosk.app import Terminal, TerminalStatus
from ui.common import AMBER, GREEN, GREY, RED, ago, plain
from ui.tasks import TaskRunner

# Under a minute the Date header's one-second resolution and the round trip are all it is.
SKEW_SHOWN = timedelta(minutes=1)


def skew_text(skew: timedelta | None) -> str:
    """``"Reloj 10 min adelantado"`` (local minus central), empty when under a minute."""
    if skew is None or abs(skew) < SKEW_SHOWN:
        return ""
    minutes = round(abs(skew).total_seconds() / 60)
    way = "adelantado" if skew > timedelta(0) else "atrasado"
    return f"Reloj {minutes} min {way}"


def receipts_waiting(n: int) -> str:
    return "1 comprobante por imprimir" if n == 1 else f"{n} comprobantes por imprimir"


class StatusBar(QFrame):
    updated = Signal(object)  # TerminalStatus, on the GUI thread

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        poll_ms: int = 1000,
        redraw_ms: int = 200,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("statusbar")
        self._terminal = terminal
        self._runner = runner
        self.status: TerminalStatus | None = None
        self.person = ""
        self.shift = ""
        self._dirty = True
        self._in_flight = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 6, 4, 6)
        # Plain, wrapping labels: a long printer error makes the bar taller, never the window
        # wider than the screen.
        self.central = plain("Central: …")
        self.queue = plain("Por enviar: …")
        self.printer = plain("Impresora: …")
        self.who = plain("")
        self.clock = plain("")
        self.policy = plain("")  # the version of central's policy in force here
        self.clock.setVisible(False)
        for label in (self.central, self.queue, self.who, self.clock):
            label.setWordWrap(False)  # short: on one line (cut, at worst); the printer's wraps
        for w in (self.central, self.queue, self.clock):
            layout.addWidget(w)
        layout.addWidget(self.printer, 1)
        layout.addWidget(self.policy)
        layout.addWidget(self.who)
        self._redraw = QTimer(self)
        self._redraw.timeout.connect(self._maybe_redraw)
        self._redraw.start(redraw_ms)
        self._poll = QTimer(self)
        self._poll.timeout.connect(self.refresh)
        self._poll.start(poll_ms)
        # The first figures are asked once the window is up: they need the database, which
        # opens on its own thread after the window shows.
        QTimer.singleShot(0, self.refresh)

    def mark_dirty(self) -> None:
        self._dirty = True

    def set_person(self, person: str, shift: str) -> None:
        self.person, self.shift = person, shift
        self.mark_dirty()

    def refresh(self) -> None:
        """Ask for fresh figures (off the GUI thread); one request at a time."""
        if self._in_flight:
            return
        self._in_flight = True
        self._runner.db(self._terminal.status, self._got, self._failed)

    def _got(self, status: TerminalStatus) -> None:
        self._in_flight = False
        self.status = status
        self.mark_dirty()
        self.updated.emit(status)

    def _failed(self, exc: BaseException) -> None:
        self._in_flight = False
        self.mark_dirty()

    def _maybe_redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        st = self.status
        if self._terminal.needs_enrollment:  # no token: no link to judge, nothing is wrong
            self.central.setText("● Central: sin dar de alta")
            self.central.setStyleSheet(f"color: {GREY};")
        elif st is None:
            self.central.setText("Central: consultando…")
        elif st.online:
            self.central.setText("● Central: EN LÍNEA")
            self.central.setStyleSheet(f"color: {GREEN}; font-weight: bold;")
        elif st.online is None:
            self.central.setText("● Central: sin datos aún")
            self.central.setStyleSheet(f"color: {GREY};")
        else:
            self.central.setText("● Central: SIN CONEXIÓN")
            self.central.setStyleSheet(f"color: {RED}; font-weight: bold;")
        if st is not None:
            text = f"Por enviar: {st.pending}"
            if st.pending and st.oldest_pending_age is not None:
                text += f" (el más antiguo hace {ago(st.oldest_pending_age)})"
            if st.rejected:
                text += f" · rechazados: {st.rejected}"
            self.queue.setText(text)
            self.queue.setStyleSheet(f"color: {RED}; font-weight: bold;" if st.rejected else "")
            self.policy.setText(f"Política\u00a0v{st.policy_version}" if st.policy_version else "")
            ptext = f"Impresora: {st.printer}"
            if st.reprint_queue:
                ptext += f" · {receipts_waiting(st.reprint_queue)}"
            self.printer.setText(ptext)
            bad = st.printer_ok is False or st.reprint_queue > 0
            self.printer.setStyleSheet(f"color: {RED}; font-weight: bold;" if bad else "")
            skew = skew_text(st.clock_skew)
            if skew and not st.clock_ok:
                skew += ": no se reciben pagos"
            self.clock.setText(f"● {skew}" if skew else "")
            self.clock.setVisible(bool(skew))
            self.clock.setStyleSheet(
                f"color: {RED if not st.clock_ok else AMBER}; font-weight: bold;"
            )
        who = " · ".join(x for x in (self.person, self.shift) if x)
        self.who.setText(who)

    def stop(self) -> None:
        self._redraw.stop()
        self._poll.stop()


class PrintRetry(QObject):
    """Prints the receipts waiting in the reprint queue: every ``interval_ms`` while the
    status bar reports some waiting, and at once on ``retry()`` (the visible button)."""

    finished = Signal(int)  # how many printed

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        status: StatusBar,
        interval_ms: int,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._terminal, self._runner, self._status = terminal, runner, status
        self.in_flight = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        if interval_ms > 0:
            self.timer.start(interval_ms)

    def _tick(self) -> None:
        st = self._status.status
        if st is not None and st.reprint_queue > 0:
            self.retry()

    def retry(self) -> None:
        if self.in_flight:
            return
        self.in_flight = True
        self._runner.io(self._terminal.retry_prints, self._done, self._failed)

    def _done(self, printed: int) -> None:
        self.in_flight = False
        self._status.refresh()
        self.finished.emit(printed)

    def _failed(self, exc: BaseException) -> None:
        self.in_flight = False
        self._status.refresh()

    def stop(self) -> None:
        self.timer.stop()
