"Redaction is wired into every file a run writes; a bypass needs a reason and is on the record."
import json
from pathlib import Path
from conftest import assert_clean_error, run_cli

# assembled from pieces so that secret scanners do not flag this file
AWS = "AKIA" + "Q3EXAMPLE7KEYZ4X"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" + "k1L2m3N4o5P6"
EMAIL = "jane.doe" + "@" + "example-corp.com"
KEY_BODY = "MIIEowIBAAKCAQEA7x9" + "QmZ2tWcYbNvR8sLpKd"
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + KEY_BODY + "\n" + KEY_BODY[::-1] + "\n-----END RSA " + "PRIVATE KEY-----"
SECRETS = [AWS, GITHUB, EMAIL, KEY_BODY, KEY_BODY[::-1]]

def planted_data(path:Path, n:int=30) -> Path:
    rows = []
    for i in range(n):
        secret = [f"aws_key = '{AWS}'", f"token = \"{GITHUB}\"", f"# contact {EMAIL}", f'KEY = """{PRIVATE_KEY}"""'][i % 4]
        rows.append(dict(task_id=f"t{i}", prompt=f"def f{i}(x):\n    \"\"\"Return x plus {i}. {secret}\"\"\"\n",
                         completion=f"    {secret}\n    return x + {i}\n"))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path

def files_with_secrets(root:Path) -> list[str]:
    hits = []
    for f in root.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            hits += [f"{f.relative_to(root)}: {s[:8]}…" for s in SECRETS if s.encode() in data]
    return hits

def test_no_planted_secret_reaches_any_file_of_the_run(tmp_path):
    data = planted_data(tmp_path/"planted.jsonl")
    assert run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}/runs", "run_name=r", f"data.path={data}",
                   "data.limit=null", "tracking.max_bytes=1500", "tracking.backup_count=20").returncode == 0
    run = tmp_path/"runs"/"r"
    assert list(run.glob("metrics.*.ndjson"))  # the log rotated, so rotated parts are searched too
    assert run_cli("evaluate", run, "--split", "train", "--max-samples", "6").returncode == 0
    assert run_cli("generate", run, f"# mail {EMAIL}\ndef g():", "--max-new-tokens", "4").returncode == 0
    assert files_with_secrets(run) == []
    info = json.loads((run/"run.json").read_text())
    assert sum(info["safety"]["findings"].values()) >= 30
    from codex_nb.tracking import read_metrics
    first = next(r for r in read_metrics(run) if r.get("event") == "safety_findings")  # all parts, oldest first
    assert sum(v for k, v in first.items() if k.startswith("safety/")) >= 30

def test_bypass_needs_a_reason_and_is_recorded(tmp_path):
    data = planted_data(tmp_path/"planted.jsonl", 12)
    base = ["train", "--config-name", "smoke", f"output_dir={tmp_path}/runs", f"data.path={data}", "data.limit=null"]
    assert_clean_error(run_cli(*base, "run_name=a", "--unsafe-no-redaction", " "), "needs a reason")
    assert_clean_error(run_cli(*base, "run_name=a", "safety.enabled=false"), "needs safety.bypass_reason")
    proc = run_cli(*base, "run_name=a", "--unsafe-no-redaction", "synthetic secrets for a test")
    assert proc.returncode == 0, proc.stderr
    run = tmp_path/"runs"/"a"
    info = json.loads((run/"run.json").read_text())
    assert info["safety"]["enabled"] is False and info["safety"]["bypass"]["reason"] == "synthetic secrets for a test"
    assert info["safety"]["bypass"]["user"] and info["safety"]["bypass"]["time"]
    first = json.loads((run/"metrics.ndjson").read_text().splitlines()[0])
    assert first["event"] == "safety_bypass" and first["reason"] == "synthetic secrets for a test"
    assert files_with_secrets(run)  # with redaction off, the data is kept as it was
    doctor = json.loads(run_cli("doctor", "--json", "--runs-dir", tmp_path/"runs").stdout)
    assert [(r["stage"], r["reason"]) for r in doctor["unredacted_runs"]] == [("train", "synthetic secrets for a test")]
    assert "redaction was OFF" in run_cli("doctor", "--runs-dir", tmp_path/"runs").stdout

def test_policy_actions_drop_and_fail(tmp_path):
    data = planted_data(tmp_path/"planted.jsonl", 20)
    base = ["train", "--config-name", "smoke", f"output_dir={tmp_path}/runs", f"data.path={data}", "data.limit=null"]
    proc = run_cli(*base, "run_name=drop", "safety.policy.actions.email=drop")
    assert proc.returncode == 0, proc.stderr
    info = json.loads((tmp_path/"runs"/"drop"/"run.json").read_text())
    assert info["data_counts"]["dropped"] == 5  # every 4th record holds the email
    assert all(EMAIL not in (tmp_path/"runs"/"drop"/"data"/f"{s}.jsonl").read_text() for s in ("train", "val", "test"))
    proc = run_cli(*base, "run_name=fail", "safety.policy.actions.private_key=fail")
    assert_clean_error(proc, str(data), "private_key")
    assert KEY_BODY not in proc.stderr and not (tmp_path/"runs"/"fail").exists()
