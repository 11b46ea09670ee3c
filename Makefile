# The two commands of the README: `make demo` and `make test`. Both set up .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo_output

.PHONY: demo test lint install clean-demo bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev,gui,nwb,cluster,onnx]"
	touch $@

install: $(VENV)/.installed

demo: install
	DEMO_DIR=$(DEMO_DIR) PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	PYTHONPATH=src $(BIN)/lint-imports --no-cache

bench: install
	$(BIN)/python benchmarks/video_decode.py

clean-demo:
	rm -rf $(DEMO_DIR)
