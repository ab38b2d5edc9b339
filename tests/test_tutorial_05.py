"Tutorial 05 (batch runs) runs through papermill with the tiny model: a failed point is kept, the fixed grid reruns one point."
import pytest
import csv, json
import papermill as pm
from conftest import ROOT

NB = ROOT/"nbs"/"tutorials"/"05_batch_runs.ipynb"

@pytest.mark.slow  # make test-slow; kept out of make test for CI's 25 minutes
def test_batch_tutorial_runs_with_the_tiny_model(tmp_path):
    pm.execute_notebook(str(NB), str(tmp_path/"out.ipynb"), cwd=str(NB.parent), progress_bar=False, kernel_name="python3",
                        parameters=dict(model="tiny-llama", max_steps=2, eval_max_samples=1, max_new_tokens=2, output_dir=str(tmp_path)))
    result = json.loads((tmp_path/"result.json").read_text())
    assert {k: result[k] for k in ("points", "points_ok", "points_rerun")} == dict(points=3, points_ok=3, points_rerun=1)
    sweep = tmp_path/"sweep"
    rows = list(csv.DictReader(open(sweep/"results.csv")))
    assert [(r["lora_r"], r["status"]) for r in rows] == [("4", "ok"), ("8", "ok"), ("16", "ok")]
    assert result["best_lora_r"] in (4, 8, 16) and result["best_val_loss"] == min(float(r["val_loss"]) for r in rows)
    failed = [json.loads(p.read_text()) for p in sweep.glob("points/*/status.json") if json.loads(p.read_text())["status"] != "ok"]
    assert len(failed) == 1 and failed[0]["lora_r"] == 0 and "lora.r: Input should be greater than 0" in failed[0]["error"]
    assert (sweep/"comparison.png").read_bytes()[:4] == b"\x89PNG"
    # each point ran the quickstart with the grid's rank
    for r in rows:
        adapter = json.loads(next(sweep.glob(f"points/*lora_r-{r['lora_r']}_*/quickstart/adapter/adapter_config.json")).read_text())
        assert adapter["r"] == int(r["lora_r"])
