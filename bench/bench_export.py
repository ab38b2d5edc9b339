"""Export of the demo run (SmolLM2-135M-Instruct after `make demo`): time, peak memory and size per format and
quantisation, the parity numbers, and llama.cpp's view of the files when llama-cpp-python is importable (greedy tokens
from the same prompt ids, token ids of the same texts). With --llama-cpp-src (an unpacked llama.cpp source tree, e.g.
vendor/llama.cpp of llama-cpp-python's source distribution), llama.cpp's own convert_hf_to_gguf.py converts the merged
hf export too, side by side: time, size, and whether llama.cpp generates the same tokens from both files.

Each export runs in a fresh process (its peak resident memory is that process's, ru_maxrss).
Run: python bench/bench_export.py [--run runs/demo] [--llama-cpp-src DIR]"""
import argparse, json, os, resource, subprocess, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, write_result

EXPORTS = [("hf", "f32"), ("gguf", "f32"), ("gguf", "f16"), ("gguf", "bf16"), ("gguf", "q8_0"), ("gguf-lora", "f32")]

CHILD = """
import json, resource, sys, time
from codex_nb.export import export_run
start = time.perf_counter()
result = export_run(sys.argv[1], sys.argv[2], sys.argv[3], out=sys.argv[4], force=True, log=lambda table: None)
print(json.dumps(dict(seconds=time.perf_counter() - start, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

def export_in_fresh_process(run:Path, fmt:str, quant:str, out:Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(run), fmt, quant, str(out)], capture_output=True, text=True)
    if proc.returncode != 0: sys.exit(f"export {fmt} {quant} failed:\n{proc.stderr[-3000:]}")
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    report = json.loads((out/"parity.json").read_text())
    size = sum(f["bytes"] for f in report["files"].values())
    row = report["models"][-1] if len(report["models"]) > 2 else report["models"][1]
    return dict(seconds=round(measured["seconds"], 2), peak_rss_mb=round(measured["peak_rss_mb"]), bytes=size, passed=report["passed"],
                perplexity=round(row["perplexity"], 5), perplexity_change=row["perplexity_change"],
                max_abs_logit_diff=row["max_abs_logit_diff"], greedy_identical=row["greedy_identical"],
                merged_max_abs_logit_diff=report["models"][1]["max_abs_logit_diff"],
                gates={g["gate"]: g["passed"] for g in report["gates"]})

def llama_cpp_view(run:Path, gguf:Path, reference_tokens:list, lora:Path|None=None) -> dict:
    "Greedy tokens llama.cpp generates from the parity prompts' ids, compared with the merged model's; token ids of the texts."
    import llama_cpp
    from codex_nb.evaluation import run_config
    from codex_nb.export import llama_cpp_greedy, parity_data
    from codex_nb.registry import load_model
    tok = load_model(run_config(run).model.name, device="cpu")[1]
    data = parity_data(tok, run_config(run), run)
    llm = llama_cpp.Llama(str(gguf), lora_path=str(lora) if lora else None, n_ctx=4096, verbose=False, n_threads=os.cpu_count())
    same = [llama_cpp_greedy(llm, ids, len(want), tok.eos_token_id) == want for ids, want in zip(data.prompts, reference_tokens)]
    ids = [llm.tokenize(t.encode(), add_bos=False, special=True) == tok(t, add_special_tokens=False)["input_ids"] for t in data.texts]
    return dict(greedy_identical=sum(same) / len(same), tokenizer_identical=sum(ids) / len(ids), prompts=len(same), texts=len(ids))

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default="runs/demo")
    parser.add_argument("--llama-cpp-src", default=None)
    args = parser.parse_args()
    run = Path(args.run)
    if not (run/"adapter"/"adapter_config.json").exists(): sys.exit(f"{run} has no final adapter: run make demo first")
    load_before = os.getloadavg()[0]
    figures, notes = {}, []
    with tempfile.TemporaryDirectory() as d:
        outs = {}
        for fmt, quant in EXPORTS:
            outs[fmt, quant] = Path(d)/f"{fmt}-{quant}"
            figures[f"{fmt}_{quant}"] = export_in_fresh_process(run, fmt, quant, outs[fmt, quant])
        reference = json.loads((outs["gguf", "q8_0"]/"parity.json").read_text())["models"][1]["greedy_tokens"]
        try:
            import llama_cpp  # noqa: F401
            for quant in ("f16", "q8_0"):
                gguf = next(outs["gguf", quant].glob("*.gguf"))
                figures[f"llama_cpp_gguf_{quant}"] = llama_cpp_view(run, gguf, reference)
            base = json.loads((outs["gguf-lora", "f32"]/"parity.json").read_text())["base_model"]["path"]
            if base and base.endswith(".gguf"):
                figures["llama_cpp_lora_over_base"] = llama_cpp_view(run, Path(base), reference, next(outs["gguf-lora", "f32"].glob("*.gguf")))
        except ImportError: notes.append("llama-cpp-python is not installed: no llama.cpp figures (pip install llama-cpp-python builds it with cmake).")
        except ValueError as e: notes.append(f"llama.cpp could not load a file ({e}); a vocabulary without BPE merges (the tiny test models') is one it refuses.")
        if args.llama_cpp_src:
            script = Path(args.llama_cpp_src)/"convert_hf_to_gguf.py"
            converted = Path(d)/"llama-cpp-converted-f16.gguf"
            with Timer() as t:
                proc = subprocess.run([sys.executable, str(script), str(outs["hf", "f32"]), "--outtype", "f16", "--outfile", str(converted)],
                                      capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
            if proc.returncode == 0:
                figures["llama_cpp_convert_f16"] = dict(seconds=round(t.seconds, 2), bytes=converted.stat().st_size,
                                                        codex_nb_gguf_f16_bytes=figures["gguf_f16"]["bytes"])
                try: figures["llama_cpp_convert_f16"]["llama_cpp"] = llama_cpp_view(run, converted, reference)
                except ImportError: pass
            else: notes.append(f"convert_hf_to_gguf.py failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
        else: notes.append("no --llama-cpp-src: llama.cpp's convert_hf_to_gguf.py not run side by side.")
    figures["load_average_1min"] = dict(before=round(load_before, 2), after=round(os.getloadavg()[0], 2), cores=os.cpu_count(),
                                        what="other work on the machine inflates the times")
    notes.insert(0, f"{run}: each export in a fresh process, forced past failed gates so every row is measured (see gates). "
                    "Parity rows: the exported model read back by transformers against the adapter on its base, float32. "
                    f"peak_rss_mb: the exporting process's maximum resident memory (ru_maxrss); children: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} MB.")
    write_result("export", figures, " ".join(notes))

if __name__ == "__main__": main()
