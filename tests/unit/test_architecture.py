"""The core stays apart from the GUI, the database and the network (Anki's pylib rule)."""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import kiosk

FORBIDDEN = ("PySide6", "sqlalchemy", "httpx", "escpos", "fastapi", "uvicorn", "alembic")
# The parts the core reaches only through the Protocols of kiosk.ports.
PARTS = ("local_db", "sync", "printing", "central")
# The composition root and the command line wire the parts together; they may name them.
EXEMPT = {"kiosk.cli", "kiosk.bootstrap"}
KIOSK_DIR = Path(kiosk.__file__).parent


def _core_modules() -> list[str]:
    names = [f"kiosk.{m.name}" for m in pkgutil.walk_packages([str(KIOSK_DIR)])]
    return [n for n in names if n not in EXEMPT]


def _imports(name: str) -> list[str]:
    path = KIOSK_DIR.joinpath(*name.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    mods = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            mods += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods.append(node.module)
    return mods


def test_no_core_module_mentions_qt_sql_or_http_in_an_import():
    offenders = []
    for name in _core_modules():
        offenders += [f"{name}: {m}" for m in _imports(name) if m.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_whole_core_loads_no_qt_sql_or_http_library():
    # In a fresh interpreter, so nothing imported by other tests can hide a leak.
    code = (
        "import importlib, json, sys\n"
        f"for m in {_core_modules()!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in json.loads(out.stdout)}
    assert len(_core_modules()) >= 5
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)
    assert loaded.isdisjoint(PARTS), loaded & set(PARTS)


def test_only_the_composition_root_and_the_command_line_name_the_parts():
    offenders = [
        f"{name}: {m}"
        for name in _core_modules()
        for m in _imports(name)
        if m.split(".")[0] in PARTS
    ]
    assert offenders == []
    # ...and the exemptions are real: the root does name them.
    assert {m.split(".")[0] for m in _imports("kiosk.bootstrap")} >= {
        "local_db",
        "sync",
        "printing",
    }
