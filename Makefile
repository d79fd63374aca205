# Each target creates .venv and installs what it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.reelproof-installed
DATA_STAMP := data/.fetched

.PHONY: demo test test-fast quality install data data-extra eval clean c2pa-ts

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing ReelProof and its dependencies into $(VENV) (first run takes a few minutes)..."
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	# Baseline watermarkers for the benchmark; --no-deps keeps opencv-python (cv2 5.x, no Haar
	# cascades) from overwriting opencv-python-headless's cv2.
	$(PY) -m pip install -q --no-deps invisible-watermark==0.2.0
	# Face mode's MTCNN (weights ship in the wheel); --no-deps: it pins an old torch.
	$(PY) -m pip install -q --no-deps facenet-pytorch==2.6.0
	@touch $(STAMP)

data: $(DATA_STAMP)

$(DATA_STAMP): scripts/fetch_data.py
	$(PYTHON) scripts/fetch_data.py data

# More real sources for the detector corpus (Debian opencv-doc, 96 MB; needs apt and PyAV).
data-extra: $(STAMP)
	$(PY) scripts/fetch_data.py --extra data

# The independent C2PA validator the interop tests check our signed files with (npm; needs node).
C2PA_TS_VERSION := 0.9.4
C2PA_TS_DIR := .cache/c2pa-ts
c2pa-ts: $(C2PA_TS_DIR)/.installed-$(C2PA_TS_VERSION)

$(C2PA_TS_DIR)/.installed-$(C2PA_TS_VERSION):
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm" >&2; exit 1; }
	mkdir -p $(C2PA_TS_DIR)
	npm install --prefix $(C2PA_TS_DIR) --no-audit --no-fund --ignore-scripts --loglevel=error \
		@trustnxt/c2pa-ts@$(C2PA_TS_VERSION)
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/reelproof demo

test: $(STAMP) $(DATA_STAMP)
	$(PY) -m pytest

test-fast: $(STAMP) $(DATA_STAMP)
	$(PY) -m pytest -m "not slow"

quality: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Every benchmark, full size (the watermark suite alone takes about 40 minutes on 2 cores).
EVAL_SUITES := io provenance watermark detector generator service
eval: $(STAMP) $(DATA_STAMP)
	for suite in $(EVAL_SUITES); do $(VENV)/bin/reelproof eval $$suite || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .cache
