"The suite proves it needs no network: `make test` runs it under tools/offline.sh, and installs match requirements.lock."
import os, socket, subprocess, sys
from importlib.metadata import distributions
import pytest
from conftest import ROOT

@pytest.mark.skipif(os.environ.get("CODEX_NB_NETWORK") != "off", reason="run outside tools/offline.sh (make test runs it there)")
def test_the_suite_runs_with_no_network():
    "Under tools/offline.sh no public address is reachable (namespace: no route at all; guard: refused)."
    with pytest.raises(OSError):
        socket.create_connection(("151.101.0.223", 443), timeout=3)  # an address PyPI answers on
    print(f"network off ({os.environ.get('CODEX_NB_OFFLINE_MODE')})")

def test_socket_guard_refuses_public_addresses_and_keeps_loopback():
    "The fallback where namespaces are not allowed: every Python process started with the guard on PYTHONPATH."
    code = ("import socket\n"
            "try: socket.create_connection(('192.0.2.1', 80), timeout=1)\n"
            "except OSError as e: print('refused', e)\n"
            "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n"
            "socket.create_connection(server.getsockname(), timeout=1); print('loopback ok')\n")
    env = {**os.environ, "CODEX_NB_NETWORK": "off", "PYTHONPATH": str(ROOT/"tools"/"netguard")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "refused by codex-nb's offline guard" in proc.stdout and "loopback ok" in proc.stdout, proc.stdout + proc.stderr

def test_offline_wrapper_says_which_mode_ran():
    proc = subprocess.run([str(ROOT/"tools"/"offline.sh"), sys.executable, "-c", "import os; print(os.environ['CODEX_NB_OFFLINE_MODE'])"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    mode = proc.stdout.strip()
    assert mode in ("namespace", "guard")
    assert proc.stderr.startswith("offline: ") and ("unshare -n" in proc.stderr) == (mode == "namespace")

def _lock() -> dict:
    lines = (ROOT/os.environ["CODEX_NB_LOCK"]).read_text().splitlines()
    return {k.lower().replace("_", "-"): v for k, v in (l.split("==", 1) for l in lines if "==" in l and not l.startswith("#"))}

@pytest.mark.skipif(not os.environ.get("CODEX_NB_LOCK"), reason="not installed from a lock (make test sets CODEX_NB_LOCK)")
def test_installed_versions_match_the_lock():
    "Every package both in this environment and in requirements.lock has the locked version: installs are reproducible."
    lock = _lock()
    installed = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in distributions()}
    differ = {name: (installed[name], lock[name]) for name in lock.keys() & installed.keys() if installed[name] != lock[name]}
    assert differ == {}, f"installed != requirements.lock: {differ}"
    assert {"torch", "transformers", "accelerate", "peft"} <= lock.keys() & installed.keys()
