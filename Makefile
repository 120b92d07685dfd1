# Two commands for a newcomer: `make demo` (the main job on the local replica) and `make test`.
# Both install what they need: the virtual environment, and Chromium through apt-get when missing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# pywb (the archive's replay, for `explore`) in its own environment: it installs a top-level `tests` package,
# which would hide this project's, and pins its own web stack.
PYWB_VENV  := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium
TEST_WORKERS ?= 2

.PHONY: install chromium test lint demo replica clean

install: $(STAMP) $(PYWB_STAMP) chromium

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0] + " at $(PYTHON)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[embedded,analysts,dev]'
	touch $(STAMP)

$(PYWB_STAMP):
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install --quiet pywb==2.10.0
	touch $(PYWB_STAMP)

chromium:
	@if [ -x "$(CHROMIUM)" ]; then echo "Chromium: $(CHROMIUM)"; else \
		echo "Chromium not found at $(CHROMIUM): installing Debian's chromium"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; fi

lint: $(STAMP)
	$(PY) -m ruff check .

test: install lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

demo: install
	$(PY) -m crawler demo

replica: $(STAMP)
	$(PY) -m replica --port 8080

clean:
	rm -rf $(VENV) $(PYWB_VENV) build *.egg-info .pytest_cache .ruff_cache
