import subprocess
import sys

import pytest

from kiosk.cli import COMMANDS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_the_top_level_help_lists_every_subcommand():
    out = run("--help")
    assert out.returncode == 0
    for name in ("demo", "caja", "kiosko", "gerente", "central", "admin"):
        assert name in out.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_subcommand_answers_its_help(name):
    out = run(name, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage" in out.stdout.lower() or "uso" in out.stdout.lower()


def test_an_unknown_subcommand_is_refused():
    out = run("cobrar")
    assert out.returncode != 0
