"""Everything a person reads is Spanish, Qt's own buttons and dialogs included."""

from __future__ import annotations

from typing import Any


def test_qts_own_buttons_and_dialogs_speak_spanish(qapp: Any) -> None:
    from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

    from ui.app import install_spanish

    assert install_spanish(qapp)
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    texts = {b.text().replace("&", "") for b in box.buttons()}
    assert texts == {"Aceptar", "Cancelar"}
    dialog = QFileDialog(None, "Guardar", "", "CSV (*.csv)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    labels = {b.text().replace("&", "") for b in dialog.findChildren(QDialogButtonBox)[0].buttons()}
    assert "Guardar" in labels and "Cancelar" in labels
