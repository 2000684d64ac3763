"""The .deb's X session script (packaging/linux/isseg-kiosko-session), run by the real /bin/sh.

The window manager, `xset` and `logger` are stand-ins on PATH that record what they were
asked; the terminal's program is a stand-in too (ISSEG_FARMACIA), so what is checked is the
script itself: which screen it opens, that it restarts after a crash, and that a TERM ends
it with its children and starts nothing again.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.institute_support import wait_until

SESSION = Path(__file__).resolve().parents[2] / "packaging" / "linux" / "isseg-kiosko-session"

# Each start of the terminal's program appends "pid screen" to starts.txt. Its first start
# exits 3 once crash-now exists (when the test asks for a crash); every later start runs
# until killed. FAKE_ALWAYS_CRASH makes every start exit 3 at once.
FAKE_FARMACIA = """#!/bin/sh
echo "$$ $*" >> "$WORK/starts.txt"
if [ -n "${FAKE_ALWAYS_CRASH:-}" ]; then exit 3; fi
if [ "$(wc -l < "$WORK/starts.txt")" -eq 1 ] && [ -n "${FAKE_CRASH_FIRST:-}" ]; then
    while [ ! -e "$WORK/crash-now" ]; do sleep 0.05; done
    exit 3
fi
exec sleep 300
"""
FAKE_OPENBOX = """#!/bin/sh
echo "$$ $*" >> "$WORK/wm.txt"
exec sleep 300
"""
FAKE_LOGGER = """#!/bin/sh
echo "$*" >> "$WORK/log.txt"
"""


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever inherited it: either way it runs no more."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


class Session:
    def __init__(self, work: Path, proc: subprocess.Popen[bytes]):
        self.work = work
        self.proc = proc

    def starts(self) -> list[str]:
        return lines(self.work / "starts.txt")

    def wms(self) -> list[str]:
        return lines(self.work / "wm.txt")

    def log(self) -> str:
        return "\n".join(lines(self.work / "log.txt"))

    def term(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=15)


@pytest.fixture
def start_session(tmp_path: Path) -> Iterator[Callable[..., Session]]:
    started: list[Session] = []
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (
        ("isseg-farmacia", FAKE_FARMACIA),
        ("openbox", FAKE_OPENBOX),
        ("logger", FAKE_LOGGER),
        ("xset", "#!/bin/sh\n"),
    ):
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)

    def start(pantalla: str | None = "caja", **extra: str) -> Session:
        defaults = tmp_path / "caja-isseg.default"
        if pantalla is not None:
            defaults.write_text(f"# la pantalla de esta terminal\nPANTALLA={pantalla}\n")
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "WORK": str(tmp_path),
            "ISSEG_DATA_DIR": str(tmp_path / "datos"),
            "ISSEG_SESSION_DEFAULTS": str(defaults),
            "ISSEG_FARMACIA": str(bin_dir / "isseg-farmacia"),
            **extra,
        }
        proc = subprocess.Popen(["/bin/sh", str(SESSION)], env=env, start_new_session=True)
        session = Session(tmp_path, proc)
        started.append(session)
        return session

    yield start
    for session in started:  # whatever a failed test left running
        if session.proc.poll() is None:
            os.killpg(session.proc.pid, signal.SIGKILL)
            session.proc.wait()
    for path in ("starts.txt", "wm.txt"):
        for line in lines(tmp_path / path):
            pid = int(line.split()[0])
            if not ended(pid):
                os.kill(pid, signal.SIGKILL)


def test_term_ends_the_screen_and_the_window_manager_and_starts_nothing_again(
    start_session: Callable[..., Session],
):
    session = start_session("caja")
    wait_until(lambda: len(session.starts()) == 1 and len(session.wms()) == 1)
    screen_pid, screen_args = session.starts()[0].split(" ", 1)
    assert screen_args == "caja"  # PANTALLA from the settings file
    wm_pid = session.wms()[0].split()[0]

    assert session.term() == 0
    assert ended(int(screen_pid)) and ended(int(wm_pid))
    assert len(session.starts()) == 1 and len(session.wms()) == 1
    assert "sesión terminada por una señal" in session.log()


def test_a_crash_restarts_the_screen_after_a_wait_and_brings_back_a_killed_window_manager(
    start_session: Callable[..., Session],
):
    session = start_session("gerente", FAKE_CRASH_FIRST="1")
    wait_until(lambda: len(session.starts()) == 1 and len(session.wms()) == 1)
    # What the operator did: the window manager killed on its own.
    first_wm = int(session.wms()[0].split()[0])
    os.kill(first_wm, signal.SIGTERM)
    (session.work / "crash-now").touch()

    wait_until(lambda: len(session.starts()) == 2)
    assert "la pantalla gerente terminó (código 3" in session.log()
    assert "se reinicia en 2 s" in session.log()
    # Each stand-in writes its line after it forks: wait for the window manager's too.
    wait_until(lambda: len(session.wms()) == 2)  # else: back without a window manager
    assert session.starts()[1].split(" ", 1)[1] == "gerente"
    second_wm = int(session.wms()[1].split()[0])
    second_screen = int(session.starts()[1].split()[0])

    assert session.term() == 0
    assert ended(second_screen) and ended(second_wm)


def test_term_during_the_wait_after_a_crash_ends_it_without_a_restart(
    start_session: Callable[..., Session],
):
    session = start_session("kiosko", FAKE_ALWAYS_CRASH="1")
    wait_until(lambda: "código 3" in session.log())
    starts_at_term = len(session.starts())
    assert session.term() == 0
    assert len(session.starts()) == starts_at_term


@pytest.mark.parametrize(("pantalla", "opened"), [(None, "kiosko"), ("cajero", "kiosko")])
def test_without_a_valid_pantalla_the_kiosk_opens_and_a_wrong_one_is_logged(
    start_session: Callable[..., Session], pantalla: str | None, opened: str
):
    session = start_session(pantalla)
    wait_until(lambda: len(session.starts()) == 1)
    assert session.starts()[0].split(" ", 1)[1] == opened
    if pantalla is not None:
        assert f"PANTALLA={pantalla}" in session.log()
        assert "no es caja, kiosko ni gerente" in session.log()
    else:
        assert "PANTALLA" not in session.log()
    assert session.term() == 0


def test_the_screenshot_hook_replaces_the_whole_command(
    start_session: Callable[..., Session], tmp_path: Path
):
    fake = tmp_path / "bin" / "isseg-farmacia"
    session = start_session("caja", ISSEG_KIOSK_COMMAND=f"{fake} kiosko --ventana")
    wait_until(lambda: len(session.starts()) == 1)
    assert session.starts()[0].split(" ", 1)[1] == "kiosko --ventana"
    assert session.term() == 0
