"tools/gates.py's exit codes and summary, driven by stub scanners on PATH (the real scanners never run here)."
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT/"tools"/"gates.py"
CLEAN_AUDIT = {"dependencies": [{"name": "torch", "version": "2.13.0", "vulns": []}, {"name": "numpy", "version": "2.4.6", "vulns": []}],
               "fixes": []}

def stub(bin_dir:Path, name:str, rc:int=0, stdout:str="", stderr:str=""):
    "An executable `name` that logs its arguments (and a -r file's content), prints `stdout`/`stderr` and exits `rc`."
    script = bin_dir/name
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(f"""\
        import json, sys
        from pathlib import Path
        args = sys.argv[1:]
        entry = {{"tool": {name!r}, "args": args}}
        if "-r" in args and Path(args[args.index("-r") + 1]).is_file(): entry["requirements"] = Path(args[args.index("-r") + 1]).read_text()
        with open({str(bin_dir/'calls.jsonl')!r}, "a") as f: f.write(json.dumps(entry) + "\\n")
        sys.stdout.write({stdout!r}); sys.stderr.write({stderr!r})
        sys.exit({rc})
        """))
    script.chmod(0o755)

@pytest.fixture
def tools(tmp_path):
    "A PATH holding only passing stubs of every scanner, and a lock file; tests replace stubs to make a gate fail."
    bin_dir = tmp_path/"bin"; bin_dir.mkdir()
    for name in ("ruff", "bandit", "semgrep", "hadolint"): stub(bin_dir, name)
    stub(bin_dir, "pip-audit", stdout=json.dumps(CLEAN_AUDIT))
    lock = tmp_path/"requirements.lock"
    lock.write_text("# a comment\nnumpy==2.4.6\ntorch==2.13.0+cpu\n")
    return bin_dir

def gates(bin_dir:Path, *args, **env):
    "Run the wrapper with only `bin_dir` on PATH; returns (exit code, output)."
    full_env = {k: v for k, v in os.environ.items() if k not in ("GATES_OFFLINE", "SEMGREP", "GATES_LOCK")}
    full_env.update(PATH=str(bin_dir), GATES_LOCK=str(bin_dir.parent/"requirements.lock"), **env)
    proc = subprocess.run([sys.executable, str(GATES), *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr

def table(output:str) -> dict[str, str]:
    "The summary table as gate -> result."
    lines = output[output.index("gate  "):].splitlines()[2:]
    return {l.split()[0]: l.split()[1] for l in lines if l.strip() and not l.startswith("gates:")}

def calls(bin_dir:Path) -> list[dict]:
    path = bin_dir/"calls.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []

def test_all_pass(tools):
    rc, out = gates(tools)
    assert rc == 0, out
    assert table(out) == {"ruff": "pass", "bandit": "pass", "semgrep": "pass", "pip-audit": "pass", "hadolint": "pass"}
    assert "gates: all passed or skipped" in out
    args = {c["tool"]: c["args"] for c in calls(tools)}
    assert args["ruff"][:1] == ["check"] and {"codex_nb", "tests", "tools", "bench"} <= set(args["ruff"])
    assert args["bandit"][args["bandit"].index("-r") + 1] == "codex_nb" and "-ll" in args["bandit"]
    assert "--metrics=off" in args["semgrep"] and any(a.endswith("tools/semgrep/python.yml") for a in args["semgrep"])
    assert args["hadolint"] == ["-c", ".hadolint.yaml", "Dockerfile"]

@pytest.mark.parametrize("gate", ["ruff", "bandit", "semgrep", "hadolint"])
def test_a_failing_scan_fails_the_gate_and_the_rest_still_run(tools, gate):
    stub(tools, gate, rc=1, stdout="codex_nb/x.py:3: finding\n")
    rc, out = gates(tools)
    assert rc == 1, out
    results = table(out)
    assert results.pop(gate) == "FAIL"
    assert set(results.values()) == {"pass"}, results
    assert f"gates: FAILED: {gate}" in out

def test_bandit_findings_are_counted(tools):
    stub(tools, "bandit", rc=1, stdout="codex_nb/a.py:1: B615 [MEDIUM/HIGH] x\ncodex_nb/b.py:2: B301 [HIGH/HIGH] y\n")
    rc, out = gates(tools, "--only", "bandit")
    assert rc == 1 and "2 medium/high findings in codex_nb/" in out and "codex_nb/b.py:2" in out, out

def test_missing_required_tool_fails(tools):
    (tools/"bandit").unlink()
    rc, out = gates(tools, "--only", "ruff,bandit")
    assert rc == 1, out
    assert table(out) == {"ruff": "pass", "bandit": "FAIL"}
    assert "pip install -e '.[gates]'" in out

def test_missing_semgrep_is_a_visible_skip(tools):
    (tools/"semgrep").unlink()
    rc, out = gates(tools)
    assert rc == 0, out
    assert table(out)["semgrep"] == "skipped"
    assert "SKIPPED" in out and "semgrep not installed" in out

def test_semgrep_from_its_own_venv(tools, tmp_path):
    (tools/"semgrep").unlink()
    other = tmp_path/"semgrep-venv"; other.mkdir()
    stub(other, "semgrep", rc=1)
    rc, out = gates(tools, "--only", "semgrep", SEMGREP=str(other/"semgrep"))
    assert rc == 1 and table(out) == {"semgrep": "FAIL"}, out
    rc, out = gates(tools, "--only", "semgrep", SEMGREP=str(tmp_path/"nowhere"/"semgrep"))
    assert rc == 1 and "not found" in out, out

def test_pip_audit_audits_public_versions_of_local_builds(tools):
    rc, out = gates(tools, "--only", "pip-audit")
    assert rc == 0, out
    (call,) = calls(tools)
    assert "torch==2.13.0\n" in call["requirements"] and "+cpu" not in call["requirements"]
    assert {"--no-deps", "--disable-pip"} <= set(call["args"]) and call["args"][call["args"].index("-f") + 1] == "json"

def test_pip_audit_vulnerability_fails_even_offline(tools):
    report = {"dependencies": [{"name": "numpy", "version": "2.4.6", "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["2.4.7"]}]}]}
    stub(tools, "pip-audit", rc=1, stdout=json.dumps(report))
    for env in ({}, {"GATES_OFFLINE": "1"}):
        rc, out = gates(tools, "--only", "pip-audit", **env)
        assert rc == 1 and table(out) == {"pip-audit": "FAIL"}, out
        assert "PYSEC-0000-1 (fixed in 2.4.7)" in out

UNAUDITED = {"dependencies": [{"name": "numpy", "version": "2.4.6", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}
CONNECTION_ERROR = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org'): Max retries exceeded\n"

@pytest.mark.parametrize("kind", ["unaudited", "connection-error"])
def test_pip_audit_unreachable_fails_closed_unless_offline(tools, kind):
    if kind == "unaudited": stub(tools, "pip-audit", stdout=json.dumps(UNAUDITED))
    else: stub(tools, "pip-audit", rc=1, stderr=CONNECTION_ERROR)
    rc, out = gates(tools, "--only", "pip-audit")
    assert rc == 1 and table(out) == {"pip-audit": "FAIL"}, out
    assert "failing closed" in out and "GATES_OFFLINE=1" in out
    assert [c["args"][c["args"].index("--vulnerability-service") + 1] for c in calls(tools)] == ["pypi", "osv"]
    rc, out = gates(tools, "--only", "pip-audit", GATES_OFFLINE="1")
    assert rc == 0 and table(out) == {"pip-audit": "skipped"}, out
    assert "SKIPPED" in out

def test_pip_audit_crash_is_not_mistaken_for_offline(tools):
    stub(tools, "pip-audit", rc=1, stderr="ValueError: something else broke\n")
    rc, out = gates(tools, "--only", "pip-audit", GATES_OFFLINE="1")
    assert rc == 1 and table(out) == {"pip-audit": "FAIL"}, out

def test_missing_lock_fails(tools):
    (tools.parent/"requirements.lock").unlink()
    rc, out = gates(tools, "--only", "pip-audit", GATES_OFFLINE="1")
    assert rc == 1 and "make lock" in out, out

def test_unknown_gate_is_a_usage_error(tools):
    rc, out = gates(tools, "--only", "ruff,nosuch")
    assert rc == 2 and "unknown gate nosuch" in out, out
