"""The manager's screens: shifts and the count, payments of the day, reports, alerts and a
picture of the day. Every action goes through the task runner."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QStandardPaths, Qt, QTimer, Signal
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

from kiosk import money, payment_list
from kiosk.app import ManagerView, ReportOutcome, ShiftClosed, Terminal, VoidOutcome
from kiosk.payment_list import PaymentRow
from kiosk.ports import User
from kiosk.refunds import Refund
from kiosk.spanish import counted
from kiosk.users import UserState
from ui.approval import Confirm, confirm
from ui.common import (
    BLUE,
    GREEN,
    RED,
    IdleWatch,
    big,
    ensure_style,
    error_label,
    fit_fields,
    hint,
    message_of,
    pesos,
)
from ui.count import CountPanel, result_summary
from ui.enrollment import EnrollmentPanel
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
    shift_closed = Signal(object)  # ShiftClosed
    voided = Signal(object)
    failed = Signal(str)
    booted = Signal(bool)  # database open; True on first run
    report_printed = Signal(object, object)  # DayReport, PrintOutcome
    user_created = Signal(object)  # User
    locked = Signal()

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        login_note: str = "",
        status_poll_ms: int = 1000,
        print_retry_ms: int = 15000,
        idle_lock_ms: int | None = None,
        refresh_ms: int = 10000,
    ) -> None:
        ensure_style()
        super().__init__()
        self.terminal, self.runner = terminal, runner
        self.user: User | None = None
        self.rows: list[PaymentRow] = []
        self.confirmation: Confirm | None = None
        self.setWindowTitle(
            "Gerente · sin dar de alta"
            if terminal.needs_enrollment  # the store's name is still the default
            else f"Gerente · {terminal.settings.store_name}"
        )
        self.pages = QStackedWidget()
        self.login = LoginPanel(
            terminal, runner, heading="Gerente: iniciar sesión", role="gerente", note=login_note
        )
        self.main = QWidget()
        self.tabs = QTabWidget()
        main_layout = QVBoxLayout(self.main)
        main_layout.addWidget(self.tabs)
        bottom = QHBoxLayout()
        self.message = big("", 18)
        bottom.addWidget(self.message, 1)
        self.lock_button = QPushButton("Bloquear")
        bottom.addWidget(self.lock_button, 0, Qt.AlignmentFlag.AlignTop)
        main_layout.addLayout(bottom)
        self.lock_button.clicked.connect(self.lock)
        self.tabs.addTab(self._shift_tab(), "Turno y corte")
        self.tabs.addTab(self._payments_tab(), "Pagos de hoy")
        self.tabs.addTab(self._reports_tab(), "Reportes")
        self.tabs.addTab(self._alerts_tab(), "Alertas")
        self.chart = DayChart()
        self.tabs.addTab(self.chart, "El día")
        self.tabs.addTab(self._users_tab(), "Usuarios")
        self.first_run = FirstManagerPanel(terminal, runner)
        self.enrollment = EnrollmentPanel(
            terminal,
            runner,
            next_step="Con «Continuar» se registra el gerente de la farmacia (si aún no lo hay) "
            "o se inicia sesión.",
        )
        self.pages.addWidget(self.login)
        self.pages.addWidget(self.first_run)
        self.pages.addWidget(self.enrollment)
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
        self.enrollment.enrolled.connect(
            lambda _e: self.setWindowTitle(f"Gerente · {self.terminal.settings.store_name}")
        )
        self.enrollment.continued.connect(self._enrolled)
        minutes = terminal.settings.manager_idle_lock_minutes
        self.idle = IdleWatch(idle_lock_ms or max(1, round(minutes * 60_000)), self.lock, self)
        # What the cashier does at the till (a close, a payment) shows here without a click.
        self.refresher = QTimer(self)
        self.refresher.timeout.connect(self._auto_refresh)
        self.refresher.start(refresh_ms)
        self.resize(1200, 820)
        fit_fields(self)
        if terminal.needs_enrollment:  # no token: nothing works until central knows it
            self.pages.setCurrentWidget(self.enrollment)
            self.enrollment.reset()
        else:
            self.login.reset()
        QTimer.singleShot(0, self._boot)

    def _boot(self) -> None:
        t = self.terminal
        if t.needs_enrollment:
            return  # after the alta (``_enrolled``): the first manager or the login
        self.runner.db(t.boot, self._booted, self._fail)

    def _enrolled(self, _enrolled: object) -> None:
        self.pages.setCurrentWidget(self.login)
        self.login.reset()
        self.runner.db(self.terminal.boot, self._booted, self._fail)

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
        self.hand_to = QComboBox()
        # Shown when the list is empty: says why, and what to do about it (the tooltip).
        self.hand_to.setPlaceholderText("no hay otro cajero")
        self.hand_to.setToolTip("Para entregar el turno, dé de alta otro cajero en Usuarios.")
        self.hand_button = QPushButton("Entregar el turno")
        drop_form.addRow("Entregar a", self.hand_to)
        drop_form.addRow("", self.hand_button)
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
        self.hand_button.clicked.connect(self.hand_over)
        return tab

    def _payments_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("buscar por referencia, afiliado, folio o importe")
        self.export_button = QPushButton("Exportar CSV…")
        row.addWidget(self.search, 1)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        self.table = QTableWidget(0, 10)
        self.table.setHorizontalHeaderLabels(
            [
                "Folio",
                "Hora",
                "Estado",  # up front: on a 1024-px screen it is never scrolled out of sight
                "Referencia",
                "Afiliado",
                "Cajero",
                "Importe",
                "Efectivo",
                "Tarjeta",
                "Autorización",
            ]
        )
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
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
        self.refunds_due: list[Refund] = []
        return tab

    def load_refunds(self) -> None:
        # Offline, the list simply stays as it was: the alerts tab already says what waits.
        self.runner.io(self.terminal.refunds_due, self._show_refunds, lambda _exc: None)

    def _show_refunds(self, due: list[Refund]) -> None:
        self.refunds_due = due
        self.refund_list.setRowCount(len(due))
        for i, r in enumerate(due):
            row = (str(r.case_id), r.reference, pesos(r.amount), r.reason)
            for j, text in enumerate(row):
                self.refund_list.setItem(i, j, QTableWidgetItem(text))
        self.refund_button.setEnabled(bool(due))

    def pay_selected_refund(self) -> None:
        row, user = self.refund_list.currentRow(), self.user
        if user is None or not 0 <= row < len(self.refunds_due):
            return
        refund = self.refunds_due[row]
        self.runner.db(
            lambda: self.terminal.pay_refund(refund, manager=user),
            lambda printed: self._ok(
                f"Devolución de {pesos(refund.amount)} entregada. Comprobante: {printed.message}"
            ),
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
        self.users_table = QTableWidget(0, 4)
        self.users_table.setHorizontalHeaderLabels(["Nombre", "Usuario", "Puesto", "Estado"])
        self.users_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.users_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.users_table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.users_table, 1)
        actions = QHBoxLayout()
        self.reset_pin_new = QLineEdit()
        self.reset_pin_new.setEchoMode(QLineEdit.EchoMode.Password)
        self.reset_pin_new.setPlaceholderText("NIP nuevo")
        self.reset_pin_new.setMaxLength(8)
        self.reset_pin_button = QPushButton("Poner NIP nuevo")
        self.unlock_button = QPushButton("Desbloquear")
        self.deactivate_button = QPushButton("Dar de baja")
        self.deactivate_button.setObjectName("danger")
        for w in (self.reset_pin_new, self.reset_pin_button, self.unlock_button):
            actions.addWidget(w)
        actions.addStretch(1)
        actions.addWidget(self.deactivate_button)
        layout.addLayout(actions)
        self.create_user_button.clicked.connect(self.create_user)
        self.reset_pin_button.clicked.connect(lambda: self.manage_user("pin"))
        self.unlock_button.clicked.connect(lambda: self.manage_user("unlock"))
        self.deactivate_button.clicked.connect(lambda: self.manage_user("deactivate"))
        return tab

    def selected_username(self) -> str | None:
        items = self.users_table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def manage_user(self, action: str) -> None:
        """Deactivate, unlock or give a new PIN to the selected user, with the manager's PIN
        asked again."""
        user, username = self.user, self.selected_username()
        if user is None or username is None:
            self.users_error.setText("Seleccione a la persona en la lista.")
            return
        new_pin = self.reset_pin_new.text()
        self.reset_pin_new.clear()
        t = self.terminal
        questions = {
            "pin": (f"¿Poner un NIP nuevo a «{username}»?", "Poner NIP nuevo"),
            "unlock": (f"¿Desbloquear a «{username}»?", "Desbloquear"),
            "deactivate": (
                f"¿Dar de baja a «{username}»? Ya no podrá iniciar sesión.",
                "Dar de baja",
            ),
        }
        done = {
            "pin": f"NIP nuevo para {username}.",
            "unlock": f"{username} desbloqueado.",
            "deactivate": f"{username} dado de baja.",
        }

        def approved(manager: str, pin: str) -> None:
            def job() -> None:
                if action == "pin":
                    t.reset_pin(username, new_pin, manager=manager, manager_pin=pin)
                elif action == "unlock":
                    t.unlock_user(username, manager=manager, manager_pin=pin)
                else:
                    t.deactivate_user(username, manager=manager, manager_pin=pin)

            self.users_error.clear()
            self.runner.db(
                job,
                lambda _r: self._ok(done[action]),
                lambda exc: self.users_error.setText(message_of(exc)),
            )

        question, button = questions[action]
        self.confirmation = confirm(
            self, "Usuarios", question, approved, action=button, pin=True, manager=user.username
        )

    def _show_users(self, states: list[UserState]) -> None:
        self.users_table.setRowCount(len(states))
        for i, st in enumerate(states):
            for j, text in enumerate((st.user.name, st.user.username, st.role_label, st.state)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, st.user.username)
                self.users_table.setItem(i, j, item)
        self.users_table.resizeColumnsToContents()

    def hand_over(self) -> None:
        user, to = self.user, self.hand_to.currentData()
        if user is None or to is None:
            return
        name = self.hand_to.currentText()

        def approved(manager: str, pin: str) -> None:
            self.runner.db(
                lambda: self.terminal.hand_over_shift(
                    to_cashier_id=int(to), manager=manager, manager_pin=pin
                ),
                lambda s: self._ok(f"Turno {s.id} entregado a {name}."),
                self._fail,
            )

        self.confirmation = confirm(
            self,
            "Entregar el turno",
            f"¿Entregar el turno abierto, con su fondo y su efectivo, a {name}? "
            "Quien lo tenía ya no podrá cobrar en él.",
            approved,
            action="Entregar",
            pin=True,
            manager=user.username,
        )

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
        self.status.set_person(f"Gerente: {user.name}", "")
        self.pages.setCurrentWidget(self.main)
        self.idle.timer.start()
        self.refresh()

    def lock(self) -> None:
        """Back to the login: nothing of the day shown until a manager logs in again."""
        if self.user is None:
            return
        self.user = None
        self.idle.timer.stop()
        if self.confirmation is not None:
            with contextlib.suppress(RuntimeError):  # already closed and deleted
                self.confirmation.reject()
        for field in (self.approver_pin, self.users_manager_pin, self.new_pin):
            field.clear()
        self.pages.setCurrentWidget(self.login)
        self.login.reset()
        # News, not an error: never in the error label's red.
        self.login.error.setStyleSheet(f"color: {BLUE}; font-weight: bold;")
        self.login.error.setText("Sesión de gerente bloqueada. Inicie sesión para continuar.")
        self.status.set_person("", "bloqueada")
        self.locked.emit()

    def _auto_refresh(self) -> None:
        if self.user is not None and self.pages.currentWidget() is self.main:
            self.refresh()

    def refresh(self) -> None:
        blind = self.count.blind
        self.runner.db(lambda: self.terminal.manager_view(blind=blind), self._show, self._fail)
        self.load_refunds()

    def _show(self, view: ManagerView) -> None:
        shift, status = view.shift, view.status
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
        for person in view.cashiers:
            self.open_cashier.addItem(f"{person.name} ({person.username})", person.id)
        self.hand_to.clear()
        for person in view.cashiers:
            if shift is None or person.id != shift.cashier_id:
                self.hand_to.addItem(f"{person.name} ({person.username})", person.id)
        self.hand_to.setCurrentIndex(0 if self.hand_to.count() else -1)
        self.hand_button.setEnabled(shift is not None and self.hand_to.count() > 0)
        self.runner.db(self.terminal.user_list, self._show_users)
        # After the Z only what can still be done is offered.
        day_closed = view.figures.closed_at is not None
        self.open_button.setEnabled(shift is None and not day_closed)
        self.open_box.setVisible(shift is None and not day_closed)
        self.z_button.setEnabled(not day_closed)
        if day_closed and shift is None:
            self.shift_info.setText("Día cerrado (Z): esta caja ya no recibe pagos hoy.")
        self.rows = list(view.rows)
        self._fill_table()
        self.chart.set_rows(list(view.by_hour))
        rejected = view.rejected
        self.alerts.setRowCount(len(rejected))
        for i, e in enumerate(rejected):
            for j, text in enumerate((e.kind, e.subject, e.rejection_code, e.rejection_message)):
                self.alerts.setItem(i, j, QTableWidgetItem(text))
        self.tabs.setTabText(3, f"Alertas ({len(rejected)})" if rejected else "Alertas")
        f = view.figures
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

        def approved(manager: str, pin: str) -> None:
            self.drop_amount.clear()
            self.runner.io(
                lambda: self.terminal.record_drop(amount=amount, manager=manager, manager_pin=pin),
                lambda d: self._ok(
                    f"Retiro de {pesos(amount)} registrado. Comprobante: {d.printed.message}"
                ),
                self._fail,
            )

        self.confirmation = confirm(
            self,
            "Retiro a caja fuerte",
            f"¿Retirar {pesos(amount)} del cajón a la caja fuerte? Confirme con su NIP.",
            approved,
            action=f"Retirar {pesos(amount)}",
            pin=True,
            manager=user.username,
        )

    def _closed(self, result: ShiftClosed) -> None:
        self._ok(result_summary(result))
        self.shift_closed.emit(result)

    # --- payments ------------------------------------------------------------------------

    def visible_rows(self) -> list[PaymentRow]:
        return payment_list.search(self.rows, self.search.text())

    def _fill_table(self) -> None:
        rows = self.visible_rows()
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            p = row.payment
            values = [
                str(p.folio),
                f"{p.paid_at:%H:%M}",
                row.state,
                p.reference,
                row.member_name,
                row.cashier,
                pesos(p.amount),
                pesos(p.cash),
                pesos(p.card),
                p.card_authorization,
            ]
            for j, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, p.uuid)
                self.table.setItem(i, j, item)
        # Every column whole (referencia, names, headers); the table scrolls sideways
        # rather than cut them.
        self.table.resizeColumnsToContents()

    def selected_uuid(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _ask_export(self) -> None:
        dialog = QFileDialog(self, "Exportar pagos de hoy", "", "CSV (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        # Where a person keeps files (Documents; the home folder when there is none), never
        # the folder the program runs from.
        folder = Path(
            QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        )
        if not folder.is_dir():
            folder = Path.home()
        dialog.setDirectory(str(folder))
        dialog.selectFile(f"pagos-{self.terminal.today():%Y-%m-%d}.csv")
        # Qt's Spanish leaves these in English in its own (non-native) dialog.
        for label, text in (
            (QFileDialog.DialogLabel.LookIn, "Buscar en:"),
            (QFileDialog.DialogLabel.FileName, "Nombre del archivo:"),
            (QFileDialog.DialogLabel.FileType, "Tipo de archivo:"),
            (QFileDialog.DialogLabel.Accept, "Guardar"),
            (QFileDialog.DialogLabel.Reject, "Cancelar"),
        ):
            dialog.setLabelText(label, text)
        dialog.fileSelected.connect(lambda name: self.export_to(Path(name)))
        dialog.open()
        self.export_dialog = dialog

    def export_to(self, path: Path) -> None:
        text = self.search.text()
        only = (
            f" (solo los que coinciden con «{text.strip()}»; borre la búsqueda para exportar todos)"
            if text.strip()
            else " (todos los de hoy)"
        )
        self.runner.db(
            lambda: self.terminal.export_payments(path, text),
            lambda n: self._ok(
                f"{counted(n, 'pago exportado', 'pagos exportados')}{only} a {path}."
            ),
            self._fail,
        )

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
        row = next(r for r in self.rows if r.payment.uuid == uuid)

        def confirmed(_manager: str, _pin: str) -> None:
            self.runner.io(
                lambda: self.terminal.void(
                    uuid, manager=approver, manager_pin=pin, reason=reason, requested_by=user.id
                ),
                self._voided,
                lambda exc: self.payments_error.setText(message_of(exc)),
            )

        # What is undone, said back before it is: the folio, whose, how much, and why.
        self.confirmation = confirm(
            self,
            "Cancelar pago",
            f"¿Cancelar el pago folio {row.payment.folio} de "
            f"{row.member_name or 'afiliado sin nombre en la caja'} por "
            f"{pesos(row.payment.amount)}?\nMotivo: {' '.join(reason.split())}\n"
            f"Autoriza: {approver}. El importe se devuelve al afiliado.",
            confirmed,
            action="Sí, cancelar el pago",
        )

    def _voided(self, outcome: VoidOutcome) -> None:
        self.void_reason.clear()
        sent = (
            "enviado al instituto"
            if outcome.confirmed_online
            else "se enviará al instituto al restablecer la conexión"
        )
        self._ok(f"Pago cancelado; {sent}. Cancelación: {outcome.printed.message}")
        self.voided.emit(outcome.void)

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
        self.runner.io(
            lambda: self.terminal.reprint(uuid, user_id=user.id, manager=approver, manager_pin=pin),
            lambda r: self._ok(r.printed.message),
            lambda exc: self.payments_error.setText(message_of(exc)),
        )

    # --- reports -------------------------------------------------------------------------

    def report(self, kind: str) -> None:
        user = self.user
        if user is None:
            return
        if kind == "X":
            self._print_report(user, "X", "")
            return
        self.confirmation = confirm(
            self,
            "Cierre del día (Z)",
            "¿Cerrar el día? Después de este cierre la caja ya no recibe pagos hoy. "
            "Confirme con su NIP.",
            lambda _m, pin: self._print_report(user, "Z", pin),
            action="Cerrar el día",
            pin=True,
            manager=user.username,
        )

    def _print_report(self, user: User, kind: str, pin: str) -> None:
        self.runner.io(
            lambda: self.terminal.print_report(kind, manager=user, manager_pin=pin),
            self._report_printed,
            self._fail,
        )

    def _report_printed(self, outcome: ReportOutcome) -> None:
        self._ok(f"Reporte {outcome.report.kind}: {outcome.printed.message}")
        self.report_printed.emit(outcome.report, outcome.printed)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self.status.stop()
        self.print_retry.stop()
        super().closeEvent(event)
