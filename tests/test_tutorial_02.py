"Tutorial 02 (your own data) runs through papermill with the tiny model, and what it writes is what it says."
import hashlib, json, math
import papermill as pm
from conftest import ROOT

NB = ROOT/"nbs"/"tutorials"/"02_custom_data.ipynb"

def sha256(path): return hashlib.sha256(path.read_bytes()).hexdigest()

def records(path): return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]

def test_parameters_cell_keeps_the_real_defaults():
    cells = json.loads(NB.read_text(encoding="utf-8"))["cells"]
    params = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1 and not any("injected-parameters" in c["metadata"].get("tags", []) for c in cells)
    source = "".join(params[0]["source"])
    assert 'model = "smollm2-135m-instruct"' in source and 'output_dir = "runs"' in source and 'data_path = "../../examples/' in source

def test_custom_data_runs_with_the_tiny_model(tmp_path):
    mine = (ROOT/"examples"/"custom_data"/"data.jsonl").read_text(encoding="utf-8").replace("the sum of a and b.", "the sum of a and b (mine).")
    (tmp_path/"mine.jsonl").write_text(mine, encoding="utf-8")  # your own file, by the data_path parameter
    data_path = str(tmp_path/"mine.jsonl")
    pm.execute_notebook(str(NB), str(tmp_path/"out.ipynb"), parameters=dict(model="tiny-llama", max_steps=4, output_dir=str(tmp_path), data_path=data_path),
                        cwd=str(NB.parent), progress_bar=False, kernel_name="python3")
    result = json.loads((tmp_path/"result.json").read_text())
    # 30 shipped tasks + 3 second solutions; split 80/10/10 by task_id with split_seed 0 (the pinned keyed hash)
    assert (result["records"], result["train_records"], result["val_records"], result["test_records"]) == (33, 25, 3, 5)
    assert result["rejected"] == 3 and result["steps"] == 4 and math.isfinite(result["final_loss"]) and math.isfinite(result["val_loss"])

    data = tmp_path/"my_data"
    rejects = records(data/"broken.jsonl.rejects.jsonl")
    assert [r["where"].rsplit("broken.jsonl:", 1)[1] for r in rejects] == ["4:2", "9", "34:35"]
    assert rejects[1]["reason"] == "field 'completion': field required"

    splits = data/"splits"
    for s in ("train", "val", "test"):  # the hand-made split, its saved manifest (test.jsonl restored after the edit) and its copy
        manifest = json.loads((splits/f"{s}.jsonl.manifest.json").read_text())
        assert manifest["sha256"] == sha256(splits/f"{s}.jsonl") and manifest["params"] == {"seed": 0, "key": "task_id", "split": s}
        assert (splits/f"{s}.jsonl").read_bytes() == (data/"splits_again"/f"{s}.jsonl").read_bytes()

    run_dir = tmp_path/"custom-data"
    info = json.loads((run_dir/"run.json").read_text())
    assert info["status"] == "completed" and info["data_counts"]["total"] == 33
    for s in ("train", "val", "test"):  # run.json holds each split's manifest sha256, and the run made the same split
        assert info["data"][s]["sha256"] == sha256(run_dir/"data"/f"{s}.jsonl") == sha256(splits/f"{s}.jsonl")
    assert result["train_sha256"] == info["data"]["train"]["sha256"]
    split_of = {}
    for s in ("train", "val", "test"):
        for r in records(run_dir/"data"/f"{s}.jsonl"): split_of.setdefault(r["task_id"], set()).add(s)
    assert len(split_of) == 30 and all(len(found) == 1 for found in split_of.values())
    assert (run_dir/"adapter"/"adapter_model.safetensors").exists()
    assert sum("(mine)" in (run_dir/"data"/f"{s}.jsonl").read_text() for s in ("train", "val", "test")) == 1  # trained on data_path
