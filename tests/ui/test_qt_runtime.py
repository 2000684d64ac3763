"""The Qt binding itself must survive a long shift: a cashier's window emits signals all day."""

import gc
import subprocess
import sys
import threading

LOOP = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Emitter(QObject):
    fired = Signal(object)
e = Emitter(); seen = []
e.fired.connect(seen.append)
before = sys.getrefcount(True), sys.getrefcount(None)
for i in range(30000):
    e.fired.emit(i)
    app.processEvents()
after = sys.getrefcount(True), sys.getrefcount(None)
print(len(seen), after[0] - before[0], after[1] - before[1])
"""


def test_thirty_thousand_signal_emits_neither_crash_nor_leak_references():
    # PySide6 6.12.0 aborted here with "bool_dealloc" after a few thousand emits.
    out = subprocess.run([sys.executable, "-c", LOOP], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    seen, true_delta, none_delta = map(int, out.stdout.split())
    assert seen == 30000
    assert abs(true_delta) < 100 and abs(none_delta) < 100


class _Cycle:
    """Garbage only the cycle collector can free; says on which thread it was freed."""

    def __init__(self, freed_on: list[str]) -> None:
        self.me = self
        self.freed_on = freed_on

    def __del__(self) -> None:
        self.freed_on.append(threading.current_thread().name)


def test_cycles_made_by_a_worker_thread_are_freed_on_the_gui_thread(qtbot, qapp):
    # CI froze when the embedded central's thread collected a cycle holding a Qt object.
    from ui.collector import GarbageCollector

    gc.enable()
    collector = GarbageCollector(qapp, interval_ms=10)
    assert not gc.isenabled()
    freed_on: list[str] = []

    def worker() -> None:
        _Cycle(freed_on)
        # Far past the youngest generation's threshold: automatic collection would run here.
        kept = [[] for _ in range(20 * collector.thresholds[0])]
        assert kept

    t = threading.Thread(target=worker, name="trabajador")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: freed_on != [], timeout=5000)
    assert freed_on == [threading.main_thread().name]
    collector.deleteLater()
    gc.unfreeze()  # the collector froze this test's objects; later tests collect them
