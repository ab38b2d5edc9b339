"""examples/: every `codex-nb` command in a ```bash block of examples/**/README.md runs here, in order, with the tiny model.

Each README's commands run in a fresh workspace (a copy of examples/, the repository's notebooks linked in), as
`python -m codex_nb.cli ...`, and must exit 0; then what the README says they produced is checked."""
import csv, json, re, shlex, shutil, subprocess, sys
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT/"examples"
READMES = sorted(EXAMPLES.rglob("README.md"))

def bash_commands(readme:Path) -> list[list[str]]:
    "The `codex-nb` command lines of the README's ```bash blocks, as argument lists without the program name."
    blocks = re.findall(r"^```bash\n(.*?)^```", readme.read_text(), re.M | re.S)
    lines = [l.strip() for b in blocks for l in b.splitlines()]
    return [shlex.split(l)[1:] for l in lines if l.startswith("codex-nb ")]

@pytest.fixture
def workspace(tmp_path):
    "A directory laid out like the repository root for the examples: examples/ copied, nbs/ linked."
    shutil.copytree(EXAMPLES, tmp_path/"examples")
    (tmp_path/"nbs").symlink_to(ROOT/"nbs", target_is_directory=True)
    return tmp_path

def run_readme(readme:Path, workspace:Path) -> list[subprocess.CompletedProcess]:
    "Run the README's commands in `workspace`, failing on the first non-zero exit."
    commands = bash_commands(readme)
    assert commands, f"{readme} has no codex-nb command in a ```bash block"
    done = []
    for args in commands:
        proc = subprocess.run([sys.executable, "-m", "codex_nb.cli", *args], cwd=workspace, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{readme.relative_to(ROOT)}: codex-nb {shlex.join(args)} exited {proc.returncode}\n{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr
        done.append(proc)
    return done

def test_every_readme_is_covered():
    "Each README with commands is exercised by one of the tests below; a new example needs a test."
    covered = {"README.md", "custom_data/README.md", "safety/README.md"}
    with_commands = {str(r.relative_to(EXAMPLES)) for r in READMES if bash_commands(r)}
    assert with_commands == covered, with_commands ^ covered

def test_custom_data_records():
    lines = (EXAMPLES/"custom_data"/"data.jsonl").read_text().splitlines()
    assert 25 <= len(lines) <= 40
    records = [json.loads(l) for l in lines]
    assert all(set(r) == {"task_id", "prompt", "completion"} for r in records)
    assert len({r["task_id"] for r in records}) == len(records)
    for r in records: compile(r["prompt"] + r["completion"], r["task_id"], "exec")  # each task is valid Python

def test_custom_data_workflow(workspace):
    run_readme(EXAMPLES/"custom_data"/"README.md", workspace)
    assert (workspace/"examples"/"custom_data"/"data.jsonl.manifest.json").exists()
    counts = {s: len((workspace/"out"/"custom_splits"/f"{s}.jsonl").read_text().splitlines()) for s in ("train", "val", "test")}
    assert sum(counts.values()) == 30 and all(counts.values()), counts
    run = workspace/"out"/"runs"/"custom"
    assert json.loads((run/"run.json").read_text())["status"] == "completed"
    assert (run/"adapter"/"adapter_model.safetensors").exists() and (run/"eval"/"summary.csv").exists()
    for s in ("train", "val", "test"):  # data.split_key=task_id: the trainer makes the split `codex-nb split --key task_id` showed
        ids = lambda p: [json.loads(l)["task_id"] for l in p.read_text().splitlines()]
        assert ids(run/"data"/f"{s}.jsonl") == ids(workspace/"out"/"custom_splits"/f"{s}.jsonl"), s

def test_safety_policy_matches_schema():
    from codex_nb.safety import SafetyPolicy
    policy = SafetyPolicy.from_yaml(EXAMPLES/"safety_policy.yaml")
    assert set(yaml.safe_load((EXAMPLES/"safety_policy.yaml").read_text())) <= set(SafetyPolicy.model_fields)
    assert policy.banned_phrases and policy.banned_patterns and policy.detectors["ip_address"] is False

def test_safety_workflow(workspace):
    run_readme(EXAMPLES/"safety"/"README.md", workspace)
    run = workspace/"out"/"runs"/"safety"
    written = "".join(p.read_text() for p in (run/"data").glob("*.jsonl"))
    assert written.count("\n") == 12
    assert not re.search(r"bluebird|internal use only|ACME-\d|[\w.]+@example\.com", written, re.I), written
    assert "[REDACTED:banned_phrase]: hello, {name}" in written and "2.10.0.1" in written
    safety = json.loads((run/"run.json").read_text())["safety"]
    assert safety["policy"] == str((workspace/"examples"/"safety_policy.yaml").resolve())  # stored absolute: the run works from anywhere
    assert safety["findings"] == {"banned_phrase": 6, "email": 2}  # what examples/safety/README.md quotes

def test_grid_batch(workspace):
    grid = yaml.safe_load((EXAMPLES/"grid.yaml").read_text())
    assert grid == {"model": ["tiny-llama"], "max_steps": [2], "lora_r": [2, 4], "eval_max_samples": [1], "max_new_tokens": [2]}
    run_readme(EXAMPLES/"README.md", workspace)
    rows = list(csv.DictReader((workspace/"out"/"batch"/"results.csv").open()))
    assert [(r["lora_r"], r["status"]) for r in rows] == [("2", "ok"), ("4", "ok")], rows
