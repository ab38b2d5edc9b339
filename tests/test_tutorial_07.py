"Tutorial 07 (a chat model) runs through papermill with the tiny model on a chat file of the user's, and writes what it says."
import json, math, shutil
import papermill as pm
from conftest import ROOT

NB = ROOT/"nbs"/"tutorials"/"07_chat.ipynb"

def records(path): return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]

def test_parameters_cell_keeps_the_real_defaults():
    cells = json.loads(NB.read_text(encoding="utf-8"))["cells"]
    params = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    source = "".join(params[0]["source"])
    assert len(params) == 1 and 'data_path = "../../examples/chat/bike_repair.jsonl"' in source
    assert (NB.parent/"../../examples/chat/bike_repair.jsonl").resolve() == ROOT/"examples"/"chat"/"bike_repair.jsonl"

def test_chat_tutorial_runs_with_the_tiny_model_on_your_own_file(tmp_path):
    mine = tmp_path/"my chats.jsonl"  # a file of the user's, with a space in its name
    shutil.copy(ROOT/"examples"/"chat"/"bike_repair.jsonl", mine)
    pm.execute_notebook(str(NB), str(tmp_path/"out.ipynb"), progress_bar=False, kernel_name="python3", cwd=str(NB.parent),
                        parameters=dict(model="tiny-llama", data_path=str(mine), max_steps=4, max_new_tokens=16, output_dir=str(tmp_path)))
    result = json.loads((tmp_path/"result.json").read_text())
    assert (result["schema"], result["records"], result["steps"]) == ("messages", 40, 4) and math.isfinite(result["final_loss"])
    assert all(math.isfinite(result[f"{m}_{x}"]) for m in ("base", "final") for x in ("rouge_l", "chrf", "perplexity"))
    run_dir = tmp_path/"chat"
    tested = records(run_dir/"data"/"test.jsonl")
    assert result["test_ids"] == [r["id"] for r in tested] and len(tested) >= 3
    for name in ("base", "final"):
        samples = records(run_dir/"eval"/f"test-{name}.ndjson")
        assert [s["id"] for s in samples] == result["test_ids"]
        assert [s["reference"] for s in samples] == [r["messages"][-1]["content"] for r in tested]
        assert all(s["prompt"].endswith("<|im_start|>assistant\n") and set(s) >= {"output", "rouge_l", "chrf"} for s in samples)
    info = json.loads((run_dir/"run.json").read_text())
    assert info["data_schema"] == {"schema": "messages", "detected": True} and info["status"] == "completed"
    printed = "".join("".join(o.get("text", [])) for c in json.loads((tmp_path/"out.ipynb").read_text())["cells"] for o in c.get("outputs", []))
    assert "data.schema: auto -> messages" in printed and printed.count("  reference: ") == 3
