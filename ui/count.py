"""The close of a shift (corte de caja): the drawer counted by denomination.

Under a blind count (``settings.blind_count``, the default) the expected figure stays hidden
until the count is recorded; only then are expected, counted and the over/short shown. The
difference is shown as recorded, never adjusted.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kiosk.app import ShiftClosed, Terminal
from kiosk.ports import User
from kiosk.shifts import DENOMINATION_LABELS, DENOMINATIONS, ShiftStatus
from ui.approval import Confirm, confirm
from ui.common import BLUE, GREEN, RED, big, error_label, hint, message_of, pesos
from ui.tasks import TaskRunner


def difference_text(over_short: Decimal) -> tuple[str, str]:
    """(``"FALTANTE: $20.00"``, colour) for a counted − expected difference."""
    if over_short < 0:
        return f"FALTANTE: {pesos(-over_short)}", RED
    if over_short > 0:
        return f"SOBRANTE: {pesos(over_short)}", BLUE
    return "CUADRA: sin diferencia", GREEN


class CountPanel(QWidget):
    """Spin boxes per denomination, the counted total, and the close button."""

    closed = Signal(object)  # ShiftClosed
    failed = Signal(str)

    def __init__(
        self, terminal: Terminal, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._terminal, self._runner = terminal, runner
        self.blind = bool(terminal.settings.blind_count)
        self.user: User | None = None
        self.expected: Decimal | None = None
        self.result: ShiftClosed | None = None
        self.confirmation: Confirm | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(big("Cuente el cajón por denominación", 22))
        layout.addWidget(
            hint(
                "Escriba cuántas piezas hay de cada una. El efectivo esperado se muestra "
                "después de registrar el conteo."
                if self.blind
                else "Escriba cuántas piezas hay de cada una."
            )
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        self.spins: dict[str, QSpinBox] = {}
        bills = [k for k in DENOMINATIONS if k.startswith("b")]
        coins = [k for k in DENOMINATIONS if not k.startswith("b")]
        for column, keys in enumerate((bills, coins)):
            for row, key in enumerate(keys):
                spin = QSpinBox()
                spin.setRange(0, 100000)
                spin.setMinimumHeight(36)
                spin.setMinimumWidth(110)
                spin.valueChanged.connect(self._update)
                grid.addWidget(QLabel(DENOMINATION_LABELS[key]), row, column * 2)
                grid.addWidget(spin, row, column * 2 + 1)
                self.spins[key] = spin
        grid.setColumnStretch(4, 1)
        layout.addLayout(grid)
        # Enter moves on to the next denomination, as on paper; after the last, to the button.
        spins = list(self.spins.values())
        for spin, following in zip(spins, [*spins[1:], None], strict=True):
            spin.lineEdit().returnPressed.connect(lambda nxt=following: self._next_after_enter(nxt))
        self.total = big("Contado: $0.00", 24)
        self.expected_label = big("", 20, bold=False)
        self.difference = big("", 26)
        for w in (self.total, self.expected_label, self.difference):
            layout.addWidget(w)
        buttons = QHBoxLayout()
        self.close_button = QPushButton("Registrar conteo y cerrar turno")
        self.close_button.setObjectName("danger")
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.error = error_label()
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.close_button.clicked.connect(self.submit)

    def _next_after_enter(self, spin: QSpinBox | None) -> None:
        target = spin if spin is not None else self.close_button
        target.setFocus()
        if spin is not None:
            spin.selectAll()

    def pieces(self) -> dict[str, int]:
        return {k: s.value() for k, s in self.spins.items() if s.value()}

    def counted(self) -> Decimal:
        return sum((DENOMINATIONS[k] * n for k, n in self.pieces().items()), Decimal("0.00"))

    def start(self, user: User | None, status: ShiftStatus | None) -> None:
        """A fresh count for the open shift (``status`` read with ``blind=self.blind``)."""
        self.user = user
        self.result = None
        self.expected = None if status is None or self.blind else status.expected_cash
        for spin in self.spins.values():
            spin.blockSignals(True)
            spin.setValue(0)
            spin.setEnabled(status is not None)
            spin.blockSignals(False)
        self.close_button.setEnabled(status is not None)
        self.close_button.setVisible(True)
        self.error.clear()
        self._update()

    def _update(self) -> None:
        if self.result is not None:
            return
        self.total.setText(f"Contado: {pesos(self.counted())}")
        if self.expected is None:
            self.expected_label.setText("")
            self.difference.setText("")
            return
        self.expected_label.setText(f"Esperado: {pesos(self.expected)}")
        text, color = difference_text(self.counted() - self.expected)
        self.difference.setText(text)
        self.difference.setStyleSheet(f"font-size: 26px; font-weight: bold; color: {color};")

    def submit(self) -> None:
        user = self.user
        if user is None or not self.close_button.isEnabled():
            return
        pieces = self.pieces()
        self.confirmation = confirm(
            self,
            "Cerrar turno",
            f"¿Cerrar el turno con {pesos(self.counted())} contados? "
            "Después del cierre ya no se cobra en este turno ni se corrige el conteo: "
            "si no está seguro, pulse No y vuelva a contar.",
            lambda _m, _p: self._close(user, pieces),
            action="Cerrar turno",
        )

    def _close(self, user: User, pieces: dict[str, int]) -> None:
        self.close_button.setEnabled(False)
        self.error.clear()
        self._runner.io(
            lambda: self._terminal.close_shift(pieces=pieces, closed_by=user.id),
            self._closed,
            self._failed,
        )

    def _closed(self, result: ShiftClosed) -> None:
        self.result = result
        close, f = result.close, result.figures
        self.close_button.setVisible(False)
        for spin in self.spins.values():
            spin.setEnabled(False)
        self.total.setText(f"Contado: {pesos(close.counted_cash)}")
        # After the blind count, the same breakdown the shift report prints.
        self.expected_label.setText(
            f"Fondo {pesos(f.shift.opening_float)} + efectivo recibido "
            f"{pesos(f.cash_received)} − cambio {pesos(f.change_given)} − retiros "
            f"{pesos(f.cash_drops)} = esperado {pesos(close.expected_cash)}\n"
            f"Reporte del turno: {result.printed.message}"
        )
        text, color = difference_text(close.over_short)
        self.difference.setText(text)
        self.difference.setStyleSheet(f"font-size: 26px; font-weight: bold; color: {color};")
        self.closed.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self.close_button.setEnabled(True)
        self.error.setText(message_of(exc))
        self.failed.emit(message_of(exc))


def result_summary(result: ShiftClosed) -> str:
    """One line for a message: the shift, expected, counted and the difference."""
    close = result.close
    text, _ = difference_text(close.over_short)
    return (
        f"Turno {close.shift.id} cerrado. Esperado {pesos(close.expected_cash)}, "
        f"contado {pesos(close.counted_cash)}: {text}."
    )
