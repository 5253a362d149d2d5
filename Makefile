# Cadenza: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages we need: FluidSynth (library + CLI, the CLI is a benchmark peer), ffmpeg (decoding
# uploads, MP3 via pydub), the FluidR3 SoundFont, and the Redis/PostgreSQL servers the tests start.
# Sheet music: cairo (cairosvg draws score.png) and DejaVu (the tempo mark's note); MuseScore 3 and
# poppler's pdftotext are test tools only: the suite opens our MIDI and MusicXML in a real score editor.
# Chromium with its chromedriver: the web pages' browser tests (Selenium drives the system browser).
# One line: tests/scale/test_deploy_files.py reads it to check the Dockerfile installs nothing else.
APT_PACKAGES := libfluidsynth3 fluidsynth ffmpeg fluid-soundfont-gm redis-server postgresql libcairo2 fonts-dejavu-core musescore3 poppler-utils chromium chromium-driver

.PHONY: setup system venv run test test-fast lint format check bench clean

setup: system venv

system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Missing system packages:$$missing"; \
	    echo "Install them with: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Reinstall only when pyproject.toml changes. torch first, pinned, so nothing pulls a CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: setup
	$(BIN)/cadenza bot

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
