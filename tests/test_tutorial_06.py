"The export tutorial runs through papermill with the tiny model: every export passes its gates, and result.json agrees with parity.json."
import json
import papermill as pm
from conftest import ROOT

NB = ROOT/"nbs"/"tutorials"/"06_export.ipynb"

def test_export_tutorial_runs_with_the_tiny_model(tmp_path):
    nb = pm.execute_notebook(str(NB), str(tmp_path/"out.ipynb"), cwd=str(NB.parent), progress_bar=False, kernel_name="python3",
                             parameters=dict(model="tiny-llama", max_steps=4, quant="q8_0", max_samples=2, max_new_tokens=4, output_dir=str(tmp_path)))
    result = json.loads((tmp_path/"result.json").read_text())
    assert result["gguf_passed"] and result["hf_passed"] and result["lora_passed"] and result["gates"] == 6
    assert result["merged_max_abs_logit_diff"] <= 1e-4 and abs(result["gguf_perplexity_change"]) <= 0.02
    report = json.loads((tmp_path/"export"/"export"/"gguf-q8_0"/"parity.json").read_text())
    assert report["models"][-1]["perplexity_change"] == result["gguf_perplexity_change"]
    assert result["gguf_bytes"] == report["files"]["export-q8_0.gguf"]["bytes"]
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "llama-quantize" in printed and "--format 'onnx' is not an export format" in printed
    assert "FROM ./export-q8_0.gguf" in printed and "ADAPTER ./export-lora-f32.gguf" in printed
