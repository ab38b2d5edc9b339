#!/usr/bin/env python3
"""Security and quality gates: `make gates` (or `python tools/gates.py`). Exit 0 when every gate passes or is skipped.

Gates, in order:
  ruff       ruff check codex_nb tests tools bench
  bandit     bandit -r codex_nb, failing on any finding of medium or high severity ([tool.bandit] in pyproject.toml
             is used when present)
  semgrep    the Python rules in tools/semgrep/python.yml, offline (the registry's packs need semgrep.dev);
             skipped, visibly, when semgrep is not installed
  pip-audit  the pinned packages of requirements.lock (`make lock`) against PyPI's vulnerability data; when no
             vulnerability service answers it fails (fail closed) unless GATES_OFFLINE=1, which turns that case into
             a visible skip. Found vulnerabilities fail whatever GATES_OFFLINE says.
  hadolint   hadolint -c .hadolint.yaml Dockerfile, failing on any finding

A tool that is not installed fails its gate (pip install -e '.[gates]'), except semgrep, which is optional.
Exit codes: 0 all passed or skipped, 1 a gate failed, 2 bad usage.
Environment: GATES_OFFLINE=1 (above), GATES_LOCK (the lock file; default requirements.lock),
SEMGREP (path to a semgrep executable kept in its own virtualenv; default: `semgrep` on PATH).
"""
from __future__ import annotations
import argparse, json, os, re, shutil, subprocess, sys, tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GATES = ("ruff", "bandit", "semgrep", "pip-audit", "hadolint")
INSTALL_HINT = "pip install -e '.[gates]'"

@dataclass
class Result:
    gate: str
    status: str  # pass, FAIL or skipped
    detail: str

def run(cmd:list[str], timeout:int=900) -> subprocess.CompletedProcess:
    "Run `cmd` in the repository root, capturing text output; a missing executable or a timeout becomes exit 127/124."
    print(f"$ {' '.join(cmd)}", flush=True)
    try: return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as e: return subprocess.CompletedProcess(cmd, 127, "", str(e))
    except subprocess.TimeoutExpired: return subprocess.CompletedProcess(cmd, 124, "", f"timed out after {timeout} s")

def show(proc:subprocess.CompletedProcess, limit:int=200):
    "Echo a tool's output (the last `limit` lines of each stream)."
    for stream in (proc.stdout, proc.stderr):
        lines = stream.rstrip().splitlines()
        if len(lines) > limit: print(f"  ... {len(lines) - limit} lines cut ..."); lines = lines[-limit:]
        for line in lines: print(f"  {line}")

def tool(name:str, env_var:str|None=None) -> str|None:
    "The executable for `name`: `$env_var` if set, else `name` on PATH."
    if env_var and os.environ.get(env_var): return os.environ[env_var] if shutil.which(os.environ[env_var]) else None
    return shutil.which(name)

def missing(gate:str, exe:str) -> Result:
    print(f"  {exe} is not installed: {INSTALL_HINT}")
    return Result(gate, "FAIL", f"{exe} not installed ({INSTALL_HINT})")

def simple(gate:str, cmd:list[str], what:str) -> Result:
    "A gate that passes exactly when `cmd` exits 0."
    exe = tool(cmd[0])
    if exe is None: return missing(gate, cmd[0])
    proc = run([exe, *cmd[1:]]); show(proc)
    if proc.returncode == 0: return Result(gate, "pass", what)
    findings = [l for l in proc.stdout.splitlines() if l.strip()]
    return Result(gate, "FAIL", f"exit {proc.returncode}" + (f", {len(findings)} lines of findings" if findings else "") + f": {what}")

def gate_ruff() -> Result:
    targets = [t for t in ("codex_nb", "tests", "tools", "bench") if (ROOT/t).exists()]
    return simple("ruff", ["ruff", "check", *targets], "ruff check " + " ".join(targets))

def gate_bandit() -> Result:
    exe = tool("bandit")
    if exe is None: return missing("bandit", "bandit")
    # -ll: report medium and high severity only; one line per finding, file:line first. A [tool.bandit] table in
    # pyproject.toml (e.g. a skipped test id, with its reason in a comment there) is honoured; `# nosec` is not used.
    config = ["-c", "pyproject.toml"] if re.search(r"^\[tool\.bandit\]", (ROOT/"pyproject.toml").read_text(), re.M) else []
    proc = run([exe, *config, "-r", "codex_nb", "-ll", "-q", "-f", "custom",
                "--msg-template", "{relpath}:{line}: {test_id} [{severity}/{confidence}] {msg}"])
    show(proc)
    if proc.returncode == 0: return Result("bandit", "pass", "no medium or high severity findings in codex_nb/")
    findings = [l for l in proc.stdout.splitlines() if l.startswith("codex_nb")]
    return Result("bandit", "FAIL", f"{len(findings)} medium/high findings in codex_nb/" if findings else f"exit {proc.returncode}")

def gate_semgrep() -> Result:
    exe = tool("semgrep", "SEMGREP")
    rules = ROOT/"tools"/"semgrep"/"python.yml"
    if exe is None and os.environ.get("SEMGREP"):
        print(f"  SEMGREP={os.environ['SEMGREP']} is not an executable")
        return Result("semgrep", "FAIL", f"SEMGREP={os.environ['SEMGREP']} not found")
    if exe is None:
        print("  semgrep is not installed, so its gate is SKIPPED (install it in its own virtualenv, as `make gates` does,"
              " and point SEMGREP at it)")
        return Result("semgrep", "skipped", "semgrep not installed")
    print("  semgrep's registry packs (p/python) are downloaded at scan time and the PyPI package bundles no rules;"
          f" running the project's offline rules in {rules.relative_to(ROOT)}")
    proc = run([exe, "scan", "--config", str(rules), "--metrics=off", "--disable-version-check", "--error",
                "--no-git-ignore", "--quiet", "--text", "codex_nb"])
    show(proc)
    if proc.returncode == 0: return Result("semgrep", "pass", f"{rules.relative_to(ROOT)} over codex_nb/")
    return Result("semgrep", "FAIL", f"exit {proc.returncode}" + (": findings" if proc.returncode == 1 else ""))

UNREACHABLE = ("could not be audited", "not found on pypi", "connectionerror", "connection error", "max retries exceeded",
               "name or service not known", "failed to resolve", "temporary failure in name resolution", "timed out")

def audit(exe:str, requirements:Path, service:str) -> tuple[dict|None, subprocess.CompletedProcess]:
    "pip-audit's JSON report of the pinned `requirements` against `service` (pypi or osv), or None when it wrote none."
    # every line is pinned, so no resolution is needed (--no-deps --disable-pip)
    proc = run([exe, "-r", str(requirements), "--no-deps", "--disable-pip", "--progress-spinner", "off", "-f", "json",
                "--vulnerability-service", service])
    try: report = json.loads(proc.stdout)
    except ValueError: report = None
    return (report if isinstance(report, dict) else None), proc

def gate_pip_audit() -> Result:
    offline = os.environ.get("GATES_OFFLINE") == "1"
    lock = Path(os.environ.get("GATES_LOCK") or ROOT/"requirements.lock")
    if not lock.is_file():
        print(f"  {lock} not found: run `make lock` (pip freeze --exclude-editable of the tested environment)")
        return Result("pip-audit", "FAIL", f"no lock file {lock.name} (make lock)")
    exe = tool("pip-audit")
    if exe is None: return missing("pip-audit", "pip-audit")
    # PyPI knows torch 2.13.0, not the local build torch 2.13.0+cpu: audit the public release a local build comes from
    pins = [re.sub(r"^([A-Za-z0-9._-]+==[^+\s;#]+)\+\S+", r"\1", line) for line in lock.read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp)/lock.name
        requirements.write_text("\n".join(pins) + "\n")
        notes = []
        for service in ("pypi", "osv"):  # PyPI's JSON API first; OSV when PyPI does not answer
            report, proc = audit(exe, requirements, service)
            deps = report.get("dependencies", []) if report else []
            vulnerable = [d for d in deps if d.get("vulns")]
            unaudited = [d for d in deps if d.get("skip_reason")]
            if vulnerable:
                for d in vulnerable:
                    fixes = lambda v: f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else ""
                    print(f"  {d['name']}=={d.get('version')}: " + ", ".join(v.get("id", "?") + fixes(v) for v in d["vulns"]))
                return Result("pip-audit", "FAIL", f"{len(vulnerable)} vulnerable packages in {lock.name} ({service})")
            if report is not None and not unaudited and proc.returncode == 0:
                return Result("pip-audit", "pass", f"{len(deps)} pinned packages in {lock.name}, no known vulnerabilities ({service})")
            if report is None and not any(s in (proc.stderr + proc.stdout).lower() for s in UNREACHABLE):
                show(proc, limit=30)
                return Result("pip-audit", "FAIL", f"exit {proc.returncode}, no report ({service})")
            for d in unaudited[:3]: print(f"  {d['name']}: {d['skip_reason']}")
            if len(unaudited) > 3: print(f"  ... and {len(unaudited) - 3} more")
            if report is None: print("  " + (proc.stderr.strip().splitlines() or ["no output"])[-1][:300])
            notes.append(f"{service}: {len(unaudited)} of {len(deps)} packages unaudited" if report else f"{service}: unreachable")
    why = "no complete audit (" + "; ".join(notes) + ")"
    if offline:
        print(f"  GATES_OFFLINE=1: {why}; SKIPPED")
        return Result("pip-audit", "skipped", f"GATES_OFFLINE=1: {why}")
    print(f"  {why}: failing closed. Run where PyPI's JSON API or OSV is reachable, or set GATES_OFFLINE=1 to skip")
    return Result("pip-audit", "FAIL", f"{why}; GATES_OFFLINE=1 skips")

def gate_hadolint() -> Result:
    return simple("hadolint", ["hadolint", "-c", ".hadolint.yaml", "Dockerfile"], "Dockerfile, no findings")

CHECKS = {"ruff": gate_ruff, "bandit": gate_bandit, "semgrep": gate_semgrep, "pip-audit": gate_pip_audit, "hadolint": gate_hadolint}

def summary(results:list[Result]) -> str:
    "The results as a fixed-width table."
    rows = [("gate", "result", "detail")] + [(r.gate, r.status, r.detail) for r in results]
    w0, w1 = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    lines = [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    lines.insert(1, "-" * max(len(l) for l in lines))
    return "\n".join(lines)

def main(argv:list[str]|None=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--only", help=f"comma-separated gates to run (default: all of {', '.join(GATES)})")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else list(GATES)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        print(f"error: unknown gate {', '.join(unknown)}; choose from {', '.join(GATES)}", file=sys.stderr)
        return 2
    results = []
    for name in names:
        print(f"== {name}", flush=True)
        results.append(CHECKS[name]())
        print(f"-> {name}: {results[-1].status}\n", flush=True)
    print(summary(results))
    failed = [r.gate for r in results if r.status == "FAIL"]
    print(f"\ngates: {'FAILED: ' + ', '.join(failed) if failed else 'all passed or skipped'}")
    return 1 if failed else 0

if __name__ == "__main__": sys.exit(main())
