"The safety tutorial runs with the tiny model: redaction counts, no planted secret in the redacted run, the bypass on record."
import json
import papermill as pm
from conftest import ROOT

NB = ROOT/"nbs"/"tutorials"/"04_safety.ipynb"
# the notebook's planted strings, assembled the same way so that secret scanners do not flag this file
PLANTED = ["AKIA" + "FAKE" + "0000" + "DEMO" + "1234", "ghp" + "_" + "FAKEtoken" + "0123456789" * 2 + "notreal",
           "jane.doe" + "@" + "example.com", "Fake-" + "Passw0rd-42", "Project Nightjar"]

def files_with(root, needles):
    return sorted(str(f.relative_to(root)) for f in root.rglob("*")
                  if f.is_file() and any(n.encode() in f.read_bytes() for n in needles))

def test_safety_tutorial_runs_with_the_tiny_model(tmp_path):
    pm.execute_notebook(str(NB), str(tmp_path/"out.ipynb"), parameters=dict(model="tiny-llama", max_steps=2, output_dir=str(tmp_path)),
                        cwd=str(NB.parent), progress_bar=False, kernel_name="python3")
    result = json.loads((tmp_path/"result.json").read_text())
    assert result["default_redactions"] == 6 and result["custom_policy_findings"] == 3
    assert result["findings_in_training_data"] == 14
    assert result["planted_secret_found_in_run"] is False and result["files_searched"] >= 10
    assert result["bypass_recorded"] is True and result["planted_secret_found_in_unredacted_run"] is True
    assert result["unredacted_runs_listed"] == 1
    # checked here independently of the notebook: the source data holds every planted string, the redacted run none
    assert all(s in (tmp_path/"data_with_secrets.jsonl").read_text() for s in PLANTED)
    redacted = tmp_path/"with_policy"
    assert (redacted/"metrics.ndjson").exists() and files_with(redacted, PLANTED) == []
    info = json.loads((redacted/"run.json").read_text())
    assert info["safety"]["findings"] == {"aws_access_key": 3, "github_token": 3, "email": 3, "generic_secret": 3, "banned_phrase": 2}
    assert info["safety"]["policy"].endswith("policy.yaml") and info["safety"]["bypass"] is None
    assert "[REDACTED:banned_phrase] build" in (redacted/"data"/"train.jsonl").read_text()
    unredacted = json.loads((tmp_path/"unredacted"/"run.json").read_text())["safety"]
    assert unredacted["enabled"] is False and unredacted["bypass"]["reason"] == "synthetic data: the secrets are planted fakes"
    assert "data/train.jsonl" in files_with(tmp_path/"unredacted", PLANTED[:4])
    assert not (tmp_path/"bad_policy").exists()  # the run with a bad policy wrote nothing
