#!/usr/bin/env bash
# Fails when nbdev-export, nbdev-clean or the README renderer would change a file: the notebooks are the source, and
# codex_nb/, the notebooks' committed form and README.md must already match them.
set -euo pipefail
cd "$(dirname "$0")/.."
state() { git status --porcelain=v1 -uall -- codex_nb nbs README.md; git diff -- codex_nb nbs README.md | sha256sum; }
before="$(state)"
nbdev-export
nbdev-clean
python tools/render_readme.py
after="$(state)"
if [[ "$before" != "$after" ]]; then
  echo "error: notebooks, codex_nb/ and README.md are out of sync (or a notebook is not clean)." >&2
  echo "  hint: run nbdev-export, nbdev-clean and python tools/render_readme.py, then commit the result:" >&2
  git status --short -- codex_nb nbs README.md >&2
  exit 1
fi
echo "notebooks, codex_nb/ and README.md are in sync"
