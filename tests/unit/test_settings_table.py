"""The operator's table of the till's settings (README, "Configuración de la caja") cannot
drift from ``kiosk/settings.py``: every setting is in it once, in order, with its real
default, and every example is a value the till accepts."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

from kiosk.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def table_rows() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuración de la caja", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def code(cell: str) -> str:
    found = re.fullmatch(r"`(.*)`", cell)
    assert found, cell
    return found.group(1)


def test_every_setting_is_in_the_table_once_in_order() -> None:
    assert [code(row[0]) for row in table_rows()] == [f.name for f in fields(Settings)]


def test_the_defaults_in_the_table_are_the_real_ones() -> None:
    defaults = Settings()
    for name, _, default, _ in table_rows():
        value = getattr(defaults, code(name))
        assert json.loads(code(default)) == value, name
        assert type(json.loads(code(default))) is type(value), name


def test_every_example_is_accepted_by_the_till() -> None:
    examples = {code(n): json.loads(code(e)) for n, _, _, e in table_rows() if e != "—"}
    examples.pop("data_dir")  # a folder of this machine, not of the test's
    examples.pop("ca_bundle")  # checked to be a readable PEM file
    settings = Settings().with_values(examples)
    assert settings.printer_usb_vendor == 0x0416  # "0x…" as lsusb prints it
    from printing import escpos_loader

    assert settings.printer_profile in escpos_loader.profile_names()
