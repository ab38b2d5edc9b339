#!/usr/bin/env bash
# Run a command with no network: the proof that the suite and the demo need none.
#   tools/offline.sh CMD [ARGS...]
# Where this user may create network namespaces (root in CI), CMD runs inside `unshare -n` with only the loopback
# interface up (the 2-process DDP tests and Jupyter kernels talk over 127.0.0.1). Elsewhere a socket guard
# (tools/netguard/sitecustomize.py, loaded by every Python process through PYTHONPATH) refuses any connection to an
# address that is not loopback. Either way one line says which ran, and CODEX_NB_NETWORK=off tells the tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CODEX_NB_NETWORK=off
if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
  echo "offline: no network (unshare -n, loopback only): ${1##*/} ..." >&2
  export CODEX_NB_OFFLINE_MODE=namespace
  exec unshare -n bash -c 'ip link set lo up && exec "$@"' offline "$@"
fi
echo "offline: network namespaces unavailable here; a socket guard refuses non-loopback connections: ${1##*/} ..." >&2
export CODEX_NB_OFFLINE_MODE=guard
export PYTHONPATH="$here/netguard${PYTHONPATH:+:$PYTHONPATH}"
exec "$@"
