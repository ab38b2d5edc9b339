"The evaluation tutorial runs through papermill with the tiny model; its table, files and result.json agree."
import csv, json, math
import papermill as pm
import pytest
from conftest import ROOT

NB = ROOT/"nbs"/"tutorials"/"03_evaluation.ipynb"
TINY = dict(model="tiny-llama", max_steps=4, save_every=1, save_total_limit=3, eval_max_samples=2, max_new_tokens=8,
            num_samples=2)
MODELS = ["base", "step_000002", "step_000003", "final"]
METRICS = ["loss", "perplexity", "exact_match", "f1", "rouge_l", "bleu", "chrf", "pass@1", "pass@2"]

@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("tutorial_03")
    nb = pm.execute_notebook(str(NB), str(out/"out.ipynb"), parameters=dict(TINY, output_dir=str(out)),
                             cwd=str(NB.parent), progress_bar=False, kernel_name="python3")
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    return out, json.loads((out/"result.json").read_text()), printed

def test_result_and_summary_agree(executed):
    out, result, _ = executed
    assert (result["kept_checkpoints"], result["checkpoints_compared"], result["models_compared"]) == (3, 2, 4)
    assert result["harness_pass_at_1"] == 0.5  # canonical solution passes, `return None` fails
    assert sorted(p.name for p in (out/"evaluation"/"checkpoints").iterdir()) == ["step_000002", "step_000003", "step_000004"]
    rows = list(csv.DictReader(open(out/"evaluation"/"eval"/"summary.csv")))
    assert len(rows) == len(MODELS) * len(METRICS)  # the refused calls wrote nothing
    assert list(dict.fromkeys(r["model"] for r in rows)) == MODELS
    value = {(r["model"], r["metric"]): float(r["value"]) for r in rows}
    assert {m for _, m in value} == set(METRICS) and all(r["n"] == "2" for r in rows)
    assert math.isclose(value["final", "perplexity"], result["final_perplexity"])
    assert math.isclose(value["base", "perplexity"], result["base_perplexity"])
    assert math.isclose(value["final", "perplexity"], math.exp(value["final", "loss"]), rel_tol=1e-9)
    assert value["final", "pass@1"] == result["final_pass_at_1"] and 0 <= result["final_pass_at_2"] <= 1

def test_per_sample_files_and_refusals(executed):
    out, _, printed = executed
    eval_dir = out/"evaluation"/"eval"
    assert sorted(p.name for p in eval_dir.iterdir()) == ["summary.csv"] + sorted(f"test-{m}.ndjson" for m in MODELS)
    for model in MODELS:
        samples = [json.loads(line) for line in (eval_dir/f"test-{model}.ndjson").read_text().splitlines()]
        assert len(samples) == 2
        for s in samples:
            assert len(s["outputs"]) == 2 and s["output"] == s["outputs"][0] and 0 <= s["passed"] <= 2
            assert s["n_tokens"] > 0 and s["reference"] and s["id"].startswith("HumanEval/")
    assert "ConfigError: pass@k runs the generated code, which is off by default" in printed
    assert "pass@3 needs num_samples >= 3" in printed
    assert "choose one of ['final', 'step_000002', 'step_000003', 'step_000004']" in printed
