# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export QT_QPA_PLATFORM ?= offscreen
export ESCPOS_CAPABILITIES_PICKLE_DIR ?= $(CURDIR)/$(VENV)/escpos-cache

# What Qt's xcb platform plugin needs on a Linux desktop (Debian 12, Ubuntu 22.04 and later).
QT_XCB_PACKAGES := libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
    libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 \
    libxcb-xkb1 libegl1 libfontconfig1 libdbus-1-3

.PHONY: venv demo test lint typecheck pytest bench screenshots package smoke deb clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "se requiere Python 3.11+"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	mkdir -p $(ESCPOS_CAPABILITIES_PICKLE_DIR)
	touch $(STAMP)

venv: $(STAMP)

# The demo opens a window: it needs a display, so it does not force offscreen. On a machine
# without one, say so in words instead of letting Qt abort.
demo: venv
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$OS" != "Windows_NT" ]; then \
	    echo "No hay pantalla (DISPLAY vacío): la demostración abre una ventana."; \
	    echo "En un servidor sin escritorio use:  xvfb-run -a make demo"; exit 1; fi
	@if [ "$$OS" != "Windows_NT" ] && ! QT_QPA_PLATFORM= $(PY) -c \
	    'from PySide6.QtWidgets import QApplication; QApplication([])' >/dev/null 2>&1; then \
	    echo "Qt no puede abrir una ventana en $$DISPLAY$$WAYLAND_DISPLAY: la pantalla no responde"; \
	    echo "o faltan bibliotecas del sistema para Qt (xcb). En Debian o Ubuntu instálelas con:"; \
	    echo "  sudo apt-get install $(QT_XCB_PACKAGES)"; \
	    echo "y vuelva a ejecutar make demo."; exit 1; fi
	QT_QPA_PLATFORM= $(VENV)/bin/isseg-farmacia demo $(ARGS)

test: lint typecheck pytest

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy --strict kiosk
	$(VENV)/bin/mypy ui printing sync local_db central

pytest: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Every benchmark runs and prints its figures; the exit status says whether any missed a target.
bench: venv
	@fail=0; for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || fail=1; done; exit $$fail

# The terminal and central as one PyInstaller folder for this OS, in dist/caja-isseg.
package: venv
	$(PY) -m pip install -q --disable-pip-version-check -e '.[package]'
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN \
	    --distpath dist --workpath build/pyinstaller packaging/caja-isseg.spec
	@du -sh dist/caja-isseg

# The bundle's smoke test, run from the bundle (not from .venv).
smoke:
	bash packaging/smoke.sh dist/caja-isseg

# The pharmacy's Debian package (bundle under /opt, kiosk session, autologin, udev rule).
# Run after make package.
deb:
	bash packaging/linux/build-deb.sh dist/caja-isseg dist

screenshots: venv
	$(PY) -m ui.screenshots screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
