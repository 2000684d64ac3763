"""The manager's screens: shifts and the count, payments of the day, reports, alerts and a
picture of the day. Every action goes through the task runner."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk import money
from kiosk.app import Terminal
from kiosk.ports import Payment, User
from ui.common import (
    BLUE,
    GREEN,
    RED,
    big,
    ensure_style,
    error_label,
    fit_fields,
    hint,
    message_of,
    pesos,
)
from ui.count import CountPanel, result_summary
from ui.first_run import FirstManagerPanel
from ui.login import LoginPanel
from ui.status import PrintRetry, StatusBar
from ui.tasks import TaskRunner


class DayChart(QWidget):
    """Payments per hour, cash and card side by side, drawn with QPainter."""

    CASH = QColor(GREEN)
    CARD = QColor(BLUE)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[int, Decimal, Decimal]] = []
        self.setMinimumHeight(320)

    def set_rows(self, rows: list[tuple[int, Decimal, Decimal]]) -> None:
        self.rows = rows
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        left, top, bottom = 80, 40, 40
        width, height = self.width() - left - 20, self.height() - top - bottom
        hours = list(range(7, 22))
        by_hour = {h: (c, k) for h, c, k in self.rows}
        peak = max([max(c, k) for c, k in by_hour.values()] + [Decimal(1)])
        p.setPen(QColor("#202124"))
        p.setFont(QFont(p.font().family(), 11))
        p.drawText(left, 22, "Cobrado por hora:  ■ efectivo   ■ tarjeta")
        p.fillRect(QRectF(left + 148, 12, 10, 10), self.CASH)
        p.fillRect(QRectF(left + 232, 12, 10, 10), self.CARD)
        p.setPen(QPen(QColor("#c4c8cf")))
        for i in range(5):
            y = top + height - height * i / 4
            p.drawLine(left, int(y), left + width, int(y))
            p.drawText(4, int(y) + 4, money.fmt(peak * i / 4)[:-3])
        slot = width / len(hours)
        for i, h in enumerate(hours):
            cash, card = by_hour.get(h, (Decimal(0), Decimal(0)))
            x = left + i * slot
            for j, (value, color) in enumerate(((cash, self.CASH), (card, self.CARD))):
                bar = float(height * value / peak)  # pixels: a drawing, not money
                p.fillRect(
                    QRectF(x + 4 + j * (slot - 8) / 2, top + height - bar, (slot - 8) / 2 - 1, bar),
                    color,
                )
            p.setPen(QColor("#202124"))
            p.drawText(
                QRectF(x, top + height + 4, slot, 20), Qt.AlignmentFlag.AlignHCenter, f"{h}h"
            )
        p.end()


class ManagerWindow(QMainWindow):
    refreshed = Signal()
    shift_closed = Signal(object)  # ShiftClose
    voided = Signal(object)
    failed = Signal(str)
    booted = Signal(bool)  # database open; True on first run
    report_printed = Signal(object, object)  # ReportData, what the print service answered
    user_created = Signal(object)  # User

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        login_note: str = "",
        status_poll_ms: int = 1000,
        print_retry_ms: int = 15000,
    ) -> None:
        ensure_style()
        super().__init__()
        self.terminal, self.runner = terminal, runner
        self.user: User | None = None
        self.payments: list[Payment] = []
        self.setWindowTitle(f"Gerente · {terminal.settings.store_name}")
        self.pages = QStackedWidget()
        self.login = LoginPanel(
            terminal, runner, heading="Gerente: iniciar sesión", role="gerente", note=login_note
        )
        self.main = QWidget()
        self.tabs = QTabWidget()
        main_layout = QVBoxLayout(self.main)
        main_layout.addWidget(self.tabs)
        self.message = big("", 18)
        main_layout.addWidget(self.message)
        self.tabs.addTab(self._shift_tab(), "Turno y corte")
        self.tabs.addTab(self._payments_tab(), "Pagos de hoy")
        self.tabs.addTab(self._reports_tab(), "Reportes")
        self.tabs.addTab(self._alerts_tab(), "Alertas")
        self.chart = DayChart()
        self.tabs.addTab(self.chart, "El día")
        self.tabs.addTab(self._users_tab(), "Usuarios")
        self.first_run = FirstManagerPanel(terminal, runner)
        self.pages.addWidget(self.login)
        self.pages.addWidget(self.first_run)
        self.pages.addWidget(self.main)
        self.status = StatusBar(terminal, runner, poll_ms=status_poll_ms)
        self.print_retry = PrintRetry(terminal, runner, self.status, print_retry_ms, self)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)
        self.setCentralWidget(central)
        self.login.logged_in.connect(self._logged_in)
        self.first_run.created.connect(self._logged_in)
        self.resize(1200, 820)
        fit_fields(self)
        self.login.reset()
        QTimer.singleShot(0, self._boot)

    def _boot(self) -> None:
        t = self.terminal
        self.runner.db(t.boot, self._booted, self._fail)

    def _booted(self, first_run: bool) -> None:
        if first_run:
            self.pages.setCurrentWidget(self.first_run)
            self.first_run.reset()
        self.booted.emit(first_run)

    # --- tabs ----------------------------------------------------------------------------

    def _shift_tab(self) -> QWidget:
        tab = QWidget()
        outer = QHBoxLayout(tab)
        left = QVBoxLayout()
        outer.addLayout(left, 1)
        self.shift_info = big("", 22)
        left.addWidget(self.shift_info)
        open_form = QFormLayout()
        self.open_cashier = QComboBox()
        self.open_float = QLineEdit()
        self.open_float.setPlaceholderText("0.00")
        self.open_button = QPushButton("Abrir turno")
        open_form.addRow("Cajero", self.open_cashier)
        open_form.addRow("Fondo de caja", self.open_float)
        open_form.addRow("", self.open_button)
        # Only the form that applies is shown: open a shift, or record drops in the open one.
        self.open_box = QWidget()
        self.open_box.setLayout(open_form)
        left.addWidget(self.open_box)
        drop_form = QFormLayout()
        self.drop_amount = QLineEdit()
        self.drop_amount.setPlaceholderText("0.00")
        self.drop_button = QPushButton("Registrar retiro a caja fuerte")
        drop_form.addRow("Retiro", self.drop_amount)
        drop_form.addRow("", self.drop_button)
        self.drop_box = QWidget()
        self.drop_box.setLayout(drop_form)
        left.addWidget(self.drop_box)
        left.addStretch(1)
        self.count = CountPanel(self.terminal, self.runner)
        outer.addWidget(self.count, 1)
        self.count.closed.connect(self._closed)
        self.count.failed.connect(self._fail)
        self.open_button.clicked.connect(self.open_shift)
        self.drop_button.clicked.connect(self.record_drop)
        return tab

    def _payments_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("buscar por referencia, folio o importe")
        self.export_button = QPushButton("Exportar CSV…")
        row.addWidget(self.search, 1)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        self.table = QTableWidget(0, 8)
        self.table.setHorizontalHeaderLabels(
            [
                "Folio",
                "Hora",
                "Referencia",
                "Importe",
                "Efectivo",
                "Tarjeta",
                "Autorización",
                "Estado",
            ]
        )
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        form = QFormLayout()
        self.void_reason = QLineEdit()
        self.void_reason.setPlaceholderText("motivo de la cancelación")
        self.approver = QLineEdit()
        self.approver.setPlaceholderText("usuario del gerente que autoriza")
        self.approver_pin = QLineEdit()
        self.approver_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.approver_pin.setPlaceholderText("NIP del gerente")
        form.addRow("Motivo", self.void_reason)
        form.addRow("Autoriza", self.approver)
        form.addRow("NIP", self.approver_pin)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.void_button = QPushButton("Cancelar pago seleccionado")
        self.void_button.setObjectName("danger")
        self.reprint_button = QPushButton("Reimprimir comprobante")
        buttons.addWidget(self.void_button)
        buttons.addWidget(self.reprint_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.payments_error = error_label()
        layout.addWidget(self.payments_error)
        self.search.textChanged.connect(self._fill_table)
        self.export_button.clicked.connect(self._ask_export)
        self.void_button.clicked.connect(self.void_selected)
        self.reprint_button.clicked.connect(self.reprint_selected)
        self.voided_uuids: set[str] = set()
        return tab

    def _reports_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(
            hint(
                "El reporte X muestra las cifras del día sin cerrar nada. El "
                "cierre del día (Z) requiere todos los turnos cerrados; después "
                "esta caja ya no recibe pagos hoy."
            )
        )
        row = QHBoxLayout()
        self.x_button = QPushButton("Imprimir reporte X")
        self.z_button = QPushButton("Cierre del día (Z)")
        self.z_button.setObjectName("danger")
        row.addWidget(self.x_button)
        row.addWidget(self.z_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.figures = big("", 20, bold=False)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.figures)
        layout.addStretch(1)
        self.x_button.clicked.connect(lambda: self.report("X"))
        self.z_button.clicked.connect(lambda: self.report("Z"))
        return tab

    def _alerts_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(
            hint(
                "Operaciones que el instituto rechazó: el dinero ya se cobró; "
                "requieren devolución o aplicación manual."
            )
        )
        self.alerts = QTableWidget(0, 4)
        self.alerts.setHorizontalHeaderLabels(["Tipo", "Asunto", "Código", "Motivo"])
        self.alerts.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.alerts, 1)
        # Refunds the institute decided for this store: handed back from the drawer here.
        layout.addWidget(hint("Devoluciones autorizadas por el instituto para esta farmacia:"))
        self.refund_list = QTableWidget(0, 4)
        self.refund_list.setHorizontalHeaderLabels(["Caso", "Referencia", "Importe", "Motivo"])
        self.refund_list.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.refund_list, 1)
        self.refund_button = QPushButton("Entregar devolución e imprimir comprobante")
        self.refund_button.clicked.connect(self.pay_selected_refund)
        layout.addWidget(self.refund_button)
        self.refunds_due: list[Any] = []
        return tab

    def load_refunds(self) -> None:
        self.runner.io(self.terminal.refunds_due, self._show_refunds, lambda _exc: None)

    def _show_refunds(self, due: list[Any]) -> None:
        self.refunds_due = due
        self.refund_list.setRowCount(len(due))
        for i, r in enumerate(due):
            row = (str(r.case_id), r.reference, pesos(r.amount), r.reason)
            for j, text in enumerate(row):
                self.refund_list.setItem(i, j, QTableWidgetItem(text))
        self.refund_button.setEnabled(bool(due))

    def pay_selected_refund(self) -> None:
        row = self.refund_list.currentRow()
        user = self.user
        if user is None or not 0 <= row < len(self.refunds_due):
            return
        refund = self.refunds_due[row]
        self.runner.db(
            lambda: self.terminal.pay_refund(refund, user_id=user.id),
            lambda _printed: self._ok(f"Devolución de {pesos(refund.amount)} entregada."),
            self._fail,
        )

    def _users_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(
            hint("Dé de alta a los cajeros (o a otro gerente). Se pide su propio NIP.")
        )
        form = QFormLayout()
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("nombre completo")
        self.new_username = QLineEdit()
        self.new_username.setPlaceholderText("usuario, por ejemplo acruz")
        self.new_role = QComboBox()
        self.new_role.addItem("Cajero", "cajero")
        self.new_role.addItem("Gerente", "gerente")
        self.new_pin = QLineEdit()
        self.new_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_pin.setPlaceholderText("NIP del nuevo usuario (4 a 8 dígitos)")
        self.users_manager_pin = QLineEdit()
        self.users_manager_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.users_manager_pin.setPlaceholderText("su NIP de gerente")
        form.addRow("Nombre", self.new_name)
        form.addRow("Usuario", self.new_username)
        form.addRow("Puesto", self.new_role)
        form.addRow("NIP", self.new_pin)
        form.addRow("Autoriza (su NIP)", self.users_manager_pin)
        box = QWidget()
        box.setMaximumWidth(640)
        box.setLayout(form)
        layout.addWidget(box)
        self.create_user_button = QPushButton("Dar de alta")
        self.create_user_button.setObjectName("primary")
        row = QHBoxLayout()
        row.addWidget(self.create_user_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.users_error = error_label()
        layout.addWidget(self.users_error)
        self.users_list = big("", 16, bold=False)
        layout.addWidget(self.users_list)
        layout.addStretch(1)
        self.create_user_button.clicked.connect(self.create_user)
        return tab

    def create_user(self) -> None:
        user = self.user
        if user is None:
            return
        name, username = self.new_name.text().strip(), self.new_username.text().strip()
        role, pin = str(self.new_role.currentData()), self.new_pin.text()
        manager_pin = self.users_manager_pin.text()
        self.new_pin.clear()
        self.users_manager_pin.clear()
        if not manager_pin:
            self.users_error.setText("El alta requiere su NIP de gerente.")
            return
        self.users_error.clear()
        self.runner.db(
            lambda: self.terminal.create_user(
                manager=user.username,
                manager_pin=manager_pin,
                username=username,
                name=name,
                role=role,
                pin=pin,
            ),
            self._user_created,
            lambda exc: self.users_error.setText(message_of(exc)),
        )

    def _user_created(self, created: User) -> None:
        self.new_name.clear()
        self.new_username.clear()
        self._ok(f"{created.name} ({created.username}) dado de alta como {created.role}.")
        self.user_created.emit(created)

    # --- data ----------------------------------------------------------------------------

    def _logged_in(self, user: User) -> None:
        self.user = user
        self.approver.setText(user.username)
        self.status.set_person(f"Gerente: {user.name}", "")
        self.pages.setCurrentWidget(self.main)
        self.refresh()

    def refresh(self) -> None:
        t = self.terminal

        blind = self.count.blind

        def gather() -> dict[str, Any]:
            shift = t.current_shift()
            status = t.shift_status(blind=blind) if shift else None
            payments = t.payments_today()
            return {
                "shift": shift,
                "status": status,
                "payments": payments,
                "voided": {p.uuid for p in payments if t.is_voided(p.uuid)},
                "cashiers": t.cashiers(),
                "people": t.people(),
                "hours": t.payments_by_hour(),
                "rejected": t.rejected(),
                "figures": t.day_figures(),
            }

        self.runner.db(gather, self._show, self._fail)
        self.load_refunds()

    def _show(self, data: dict[str, Any]) -> None:
        shift, status = data["shift"], data["status"]
        if shift is None:
            self.shift_info.setText("No hay turno abierto.")
        else:
            count = status.payments if status else 0
            n_payments = "1 pago" if count == 1 else f"{count} pagos"
            self.shift_info.setText(
                f"Turno {shift.id} abierto desde {shift.opened_at:%H:%M} · fondo "
                f"{pesos(shift.opening_float)} · {n_payments} · "
                f"retiros {pesos(status.cash_drops if status else Decimal(0))}"
            )
        self.open_button.setEnabled(shift is None)
        self.drop_button.setEnabled(shift is not None)
        self.open_box.setVisible(shift is None)
        self.drop_box.setVisible(shift is not None)
        if self.count.result is None or shift is not None:
            self.count.start(self.user, status)
        self.open_cashier.clear()
        for person in data["cashiers"]:
            self.open_cashier.addItem(f"{person.name} ({person.username})", person.id)
        self.users_list.setText(
            "Usuarios: " + ", ".join(f"{u.name} ({u.username}, {u.role})" for u in data["people"])
        )
        self.payments = data["payments"]
        self.voided_uuids = data["voided"]
        self._fill_table()
        self.chart.set_rows(data["hours"])
        rejected = data["rejected"]
        self.alerts.setRowCount(len(rejected))
        for i, e in enumerate(rejected):
            for j, text in enumerate((e.kind, e.subject, e.rejection_code, e.rejection_message)):
                self.alerts.setItem(i, j, QTableWidgetItem(text))
        self.tabs.setTabText(3, f"Alertas ({len(rejected)})" if rejected else "Alertas")
        f = data["figures"]
        self.figures.setText(
            f"Fecha {f.business_date:%d/%m/%Y} · "
            f"{'1 pago' if f.payments == 1 else f'{f.payments} pagos'} por {pesos(f.total)}\n"
            f"Efectivo {pesos(f.cash_total)} ({f.cash_payments}) · Tarjeta "
            f"{pesos(f.card_total)} ({f.card_payments})\n"
            f"Cancelaciones {len(f.voids)} por {pesos(f.voided_total)} · Reimpresiones "
            f"{f.reprints}\nSin confirmar por el instituto: {len(f.unconfirmed)} · "
            f"Rechazados: {f.rejected_by_central}"
            + (f"\nDía cerrado a las {f.closed_at:%H:%M}" if f.closed_at else "")
        )
        self.refreshed.emit()

    def _fail(self, exc: BaseException) -> None:
        self.message.setStyleSheet(f"font-size: 18px; font-weight: bold; color: {RED};")
        self.message.setText(message_of(exc))
        self.failed.emit(message_of(exc))

    def _ok(self, text: str) -> None:
        self.message.setStyleSheet(f"font-size: 18px; font-weight: bold; color: {GREEN};")
        self.message.setText(text)
        self.refresh()

    # --- shift ---------------------------------------------------------------------------

    def open_shift(self) -> None:
        try:
            amount = money.parse(self.open_float.text())
        except money.MoneyError as exc:
            self._fail(exc)
            return
        cashier_id = self.open_cashier.currentData()
        user = self.user
        if cashier_id is None or user is None:
            return
        self.runner.db(
            lambda: self.terminal.open_shift(
                cashier_id=int(cashier_id), opening_float=amount, opened_by=user.id
            ),
            lambda s: self._ok(f"Turno {s.id} abierto."),
            self._fail,
        )

    def record_drop(self) -> None:
        try:
            amount = money.parse(self.drop_amount.text())
        except money.MoneyError as exc:
            self._fail(exc)
            return
        user = self.user
        if user is None:
            return
        self.runner.db(
            lambda: self.terminal.record_drop(amount=amount, user_id=user.id),
            lambda _d: self._ok(f"Retiro de {pesos(amount)} registrado."),
            self._fail,
        )
        self.drop_amount.clear()

    def _closed(self, result: Any) -> None:
        self._ok(result_summary(result))
        self.shift_closed.emit(result)

    # --- payments ------------------------------------------------------------------------

    def visible_payments(self) -> list[Payment]:
        needle = self.search.text().strip().replace(" ", "").lower()
        if not needle:
            return list(self.payments)
        return [
            p
            for p in self.payments
            if needle in p.reference or needle == str(p.folio) or needle in str(p.amount)
        ]

    def _fill_table(self) -> None:
        rows = self.visible_payments()
        self.table.setRowCount(len(rows))
        for i, p in enumerate(rows):
            state = "CANCELADO" if p.uuid in self.voided_uuids else "cobrado"
            values = [
                str(p.folio),
                f"{p.paid_at:%H:%M}",
                p.reference,
                pesos(p.amount),
                pesos(p.cash),
                pesos(p.card),
                p.card_authorization,
                state,
            ]
            for j, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, p.uuid)
                self.table.setItem(i, j, item)

    def selected_uuid(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def export_csv(self, path: Path) -> int:
        """The payments shown (after the search) as CSV; returns how many rows."""
        rows = self.visible_payments()
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "folio",
                    "fecha_hora",
                    "referencia",
                    "importe",
                    "efectivo",
                    "tarjeta",
                    "autorizacion",
                    "cambio",
                    "estado",
                    "uuid",
                ]
            )
            for p in rows:
                w.writerow(
                    [
                        p.folio,
                        p.paid_at.isoformat(),
                        p.reference,
                        p.amount,
                        p.cash,
                        p.card,
                        p.card_authorization,
                        p.change,
                        "CANCELADO" if p.uuid in self.voided_uuids else "COBRADO",
                        p.uuid,
                    ]
                )
        return len(rows)

    def _ask_export(self) -> None:
        dialog = QFileDialog(self, "Exportar pagos de hoy", "pagos.csv", "CSV (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(
            lambda name: self._ok(f"Exportados {self.export_csv(Path(name))} pagos a {name}.")
        )
        dialog.open()

    def void_selected(self) -> None:
        uuid = self.selected_uuid()
        user = self.user
        if uuid is None or user is None:
            self.payments_error.setText("Seleccione el pago a cancelar.")
            return
        reason, approver, pin = (
            self.void_reason.text(),
            self.approver.text().strip(),
            self.approver_pin.text(),
        )
        self.approver_pin.clear()
        if not pin:
            self.payments_error.setText("La cancelación requiere el NIP del gerente.")
            return
        self.payments_error.setText("")
        self.runner.db(
            lambda: self.terminal.void(
                uuid, manager=approver, manager_pin=pin, reason=reason, requested_by=user.id
            ),
            self._voided,
            lambda exc: self.payments_error.setText(message_of(exc)),
        )

    def _voided(self, void: Any) -> None:
        self.void_reason.clear()
        self._ok("Pago cancelado; se enviará al instituto.")
        self.voided.emit(void)

    def reprint_selected(self) -> None:
        uuid = self.selected_uuid()
        user = self.user
        approver, pin = self.approver.text().strip(), self.approver_pin.text()
        self.approver_pin.clear()
        if uuid is None or user is None:
            self.payments_error.setText("Seleccione el pago a reimprimir.")
            return
        if not pin:
            self.payments_error.setText("La reimpresión requiere el NIP del gerente.")
            return

        def job() -> Any:
            who = self.terminal.verify_manager(approver, pin)
            return self.terminal.receipt(uuid, reprint=True, user_id=who.id)

        self.runner.db(
            job,
            lambda doc: self.runner.io(
                lambda: self.terminal.print_document(doc),
                lambda r: self._ok(getattr(r, "message", "Reimpreso.")),
                self._fail,
            ),
            lambda exc: self.payments_error.setText(message_of(exc)),
        )

    # --- reports -------------------------------------------------------------------------

    def report(self, kind: str) -> None:
        user = self.user
        if user is None:
            return

        def job() -> Any:
            figures = (
                self.terminal.close_day(closed_by=user.id)
                if kind == "Z"
                else self.terminal.day_figures()
            )
            return self.terminal.report_document(figures, kind=kind, manager=user.name)

        def printed(doc: Any, result: Any) -> None:
            self._ok(f"Reporte {kind}: {getattr(result, 'message', 'impreso')}")
            self.report_printed.emit(doc, result)

        self.runner.db(
            job,
            lambda doc: self.runner.io(
                lambda: self.terminal.print_document(doc),
                lambda r: printed(doc, r),
                self._fail,
            ),
            self._fail,
        )

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self.status.stop()
        self.print_retry.stop()
        super().closeEvent(event)
