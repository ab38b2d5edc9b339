"The tutorials run through papermill with the tiny model (their parameters cell is the contract), and batch runs resume."
import csv, json
import papermill as pm
from conftest import ROOT, run_cli

QUICKSTART = ROOT/"nbs"/"tutorials"/"01_quickstart.ipynb"
TUTORIALS = sorted((ROOT/"nbs"/"tutorials").glob("*.ipynb"))

def test_every_tutorial_is_parameterized_and_tested():
    "One `parameters` cell with the real model as default and an output_dir; no papermill leftovers; a test runs it."
    import re
    assert [p.stem[:3] for p in TUTORIALS] == ["01_", "02_", "03_", "04_", "05_", "06_", "07_"]
    tests = " ".join(p.read_text() for p in (ROOT/"tests").glob("test_tutorial*.py"))
    for nb in TUTORIALS:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        params = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
        assert len(params) == 1, nb.name
        source = "".join(params[0]["source"])
        assert re.search(r'^model = "smollm2-135m-instruct"', source, re.M) and re.search(r"^output_dir = ", source, re.M), nb.name
        assert not any("injected-parameters" in c["metadata"].get("tags", []) or "papermill" in c["metadata"] for c in cells), nb.name
        assert "result.json" in "".join("".join(c["source"]) for c in cells[-2:]), f"{nb.name}: the last cells write result.json"
        assert nb.name in tests or nb.stem.upper() in tests or nb == QUICKSTART, f"no test runs {nb.name}"
TINY = dict(model="tiny-llama", max_steps=4, lora_r=4, learning_rate=1e-3, eval_max_samples=2, max_new_tokens=4)

def test_quickstart_runs_with_the_tiny_model(tmp_path):
    out = tmp_path/"bob's runs=1"  # a quote, a space and '=' in output_dir: the overrides quote it
    data = str(ROOT/"examples"/"custom_data"/"data.jsonl")  # your own data, by the data_path parameter
    pm.execute_notebook(str(QUICKSTART), str(tmp_path/"out.ipynb"), parameters=dict(TINY, output_dir=str(out), data_path=data),
                        cwd=str(QUICKSTART.parent), progress_bar=False, kernel_name="python3")
    result = json.loads((out/"result.json").read_text())
    assert json.loads((out/"quickstart"/"run.json").read_text())["data_counts"]["total"] == len((ROOT/"examples"/"custom_data"/"data.jsonl").read_text().splitlines())
    assert set(result) >= {"final_loss", "base_perplexity", "tuned_perplexity"}
    assert (out/"quickstart"/"adapter"/"adapter_model.safetensors").exists()

def test_batch_runs_every_point_and_resumes(tmp_path):
    grid = tmp_path/"grid.yaml"
    grid.write_text("model: [tiny-llama]\nmax_steps: [2]\nlora_r: [2, 4]\neval_max_samples: [1]\nmax_new_tokens: [2]\n")
    proc = run_cli("batch", QUICKSTART, grid, tmp_path/"out")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(open(tmp_path/"out"/"results.csv")))
    assert [r["lora_r"] for r in rows] == ["2", "4"] and all(r["status"] == "ok" for r in rows)
    stamps = [p.stat().st_mtime_ns for p in sorted((tmp_path/"out"/"points").glob("*/status.json"))]
    proc = run_cli("batch", QUICKSTART, grid, tmp_path/"out")  # finished points are not rerun
    assert proc.returncode == 0
    assert [p.stat().st_mtime_ns for p in sorted((tmp_path/"out"/"points").glob("*/status.json"))] == stamps

def test_quickstart_shows_the_results_of_a_real_run():
    "The committed quickstart holds the outputs of its default run (SmolLM2 on HumanEval): the run, the losses, the plot, the scores."
    cells = json.loads(QUICKSTART.read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    text = json.dumps(outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs), "no loss plot stored"
    assert "validation loss, before and after training" in text and "| metric (test) | base | final |" in text
    assert "smollm2-135m-instruct" in text and "loss: first 5 steps" in text and "test perplexity: base" in text
