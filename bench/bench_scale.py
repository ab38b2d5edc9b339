"""The data path at scale: 10k, 100k and 1M synthetic prompt/completion records (seeded, 30-320 words each).

For each size, every measurement runs in its own subprocess (peak RSS from `os.wait4`, which covers the process and
the workers it waited for; wall time from the parent, so start-up and imports count for everyone):

- tokenize: `data.tokenize_jsonl` (no cache) vs `datasets.load_dataset("json") + .map(batched=True)` with the same
  tokenizer (SmolLM2's), the same number of processes and the same work (prompt and completion ids), vs TRL
  `SFTTrainer`'s own dataset preparation (the constructor tokenizes; model load is timed apart and subtracted).
- train: `codex-nb train data.path=FILE training.max_steps=10` with SmolLM2, cold (an empty tokenized cache; the
  converted model is already cached, a one-time step of installation) and warm (the same data again). Time to the
  first optimizer step is the time of metrics.ndjson's step-1 record minus the start of the process; the peak RSS at
  that step is the process's VmHWM read from /proc when the record appears. The final validation loss is on 100 examples.

Load average is recorded before and after: numbers taken on a busy machine are not comparable.

Usage: python bench/bench_scale.py [--sizes 10000,100000,1000000] [--num-proc 2] [--skip trl,datasets]
"""
import argparse, json, os, random, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result  # noqa: E402

DATA = Path(__file__).resolve().parent/"data"
ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the a of to in is for return value list string int float dict key index count sum max min sort filter map "
         "def self node tree graph path edge weight result total number numbers items item text line file open read "
         "write parse token split join strip upper lower check valid error raise when how why what which model data "
         "train loss step batch learning rate memory cache store offline device cpu gpu chat answer question please").split()

def make_corpus(n:int, seed:int=0) -> Path:
    "`n` prompt/completion records of 30-320 words (a quarter to a half of them prompt), seeded; reused when present."
    path = DATA/f"scale_{n}.jsonl"
    if path.exists(): return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng, tmp = random.Random(seed * 1_000_003 + n), path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(n):
            words = rng.choices(WORDS, k=rng.randint(30, 320))
            cut = rng.randint(len(words) // 4, len(words) // 2)
            f.write(json.dumps(dict(id=i, prompt=" ".join(words[:cut]).capitalize() + "?", completion=" " + " ".join(words[cut:]) + ".")) + "\n")
    os.replace(tmp, path)
    return path

OURS = """
import sys, time
t0 = time.perf_counter()
from codex_nb.data import tokenize_jsonl
from codex_nb.registry import load_tokenizer
tok = load_tokenizer("smollm2-135m-instruct")
t1 = time.perf_counter()
store = tokenize_jsonl(sys.argv[1], tok, 512, cache=False, num_proc=int(sys.argv[2]))
print("RESULT", dict(setup_s=t1 - t0, tokenize_s=time.perf_counter() - t1, examples=len(store), tokens=store.counts["tokens"]))
"""

DATASETS = """
import sys, time
t0 = time.perf_counter()
import datasets
from codex_nb.registry import load_tokenizer
datasets.disable_progress_bars(); datasets.logging.set_verbosity_error()
tok = load_tokenizer("smollm2-135m-instruct")
t1 = time.perf_counter()
ds = datasets.load_dataset("json", data_files=sys.argv[1], split="train", cache_dir=sys.argv[3])
def encode(batch):
    return dict(prompt_ids=tok(batch["prompt"], add_special_tokens=False)["input_ids"],
                completion_ids=tok(batch["completion"], add_special_tokens=False)["input_ids"])
out = ds.map(encode, batched=True, num_proc=int(sys.argv[2]), remove_columns=ds.column_names)
print("RESULT", dict(setup_s=t1 - t0, tokenize_s=time.perf_counter() - t1, examples=len(out)))
"""

TRL = """
import sys, time
t0 = time.perf_counter()
import datasets
from peft import LoraConfig
from trl import SFTConfig, SFTTrainer
from codex_nb.registry import load_model
datasets.disable_progress_bars(); datasets.logging.set_verbosity_error()
model, tok = load_model("smollm2-135m-instruct", device="cpu", dtype="float32")
ds = datasets.load_dataset("json", data_files=sys.argv[1], split="train", cache_dir=sys.argv[3]).remove_columns(["id"])
t1 = time.perf_counter()
trainer = SFTTrainer(model=model, processing_class=tok, train_dataset=ds, peft_config=LoraConfig(task_type="CAUSAL_LM", r=8),
                     args=SFTConfig(output_dir=sys.argv[3], use_cpu=True, max_length=512, dataset_num_proc=int(sys.argv[2]),
                                    report_to=[], max_steps=1, bf16=False))
print("RESULT", dict(setup_s=t1 - t0, tokenize_s=time.perf_counter() - t1, examples=len(trainer.train_dataset)))
"""

def child(code:str, *args) -> dict:
    "Run `code` in a fresh interpreter: its RESULT dict, wall seconds and peak RSS (MB; os.wait4: the largest process of its tree)."
    import ast
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall, proc.returncode = time.perf_counter() - start, os.waitstatus_to_exitcode(status)
        out.seek(0); text = out.read()
    lines = [l for l in text.splitlines() if l.startswith("RESULT ")]
    if proc.returncode or not lines: return dict(error=(text.strip().splitlines() or ["no output"])[-1][:300])
    result = dict(ast.literal_eval(lines[-1][7:]), wall_s=wall, peak_rss_mb=usage.ru_maxrss / 1024)
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}

def vm_hwm_mb(pid:int) -> float|None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"): return round(int(line.split()[1]) / 1024, 1)
    except OSError: return None

def train_run(data:Path, out:Path, cache:Path, run_name:str, steps:int=10, timeout=7200) -> dict:
    "`codex-nb train` on `data`: time and peak RSS at the first optimizer step, total wall time, and its summary."
    env = {**os.environ, "CODEX_NB_CACHE": str(cache), "OMP_NUM_THREADS": str(os.cpu_count())}
    args = [sys.executable, "-m", "codex_nb.cli", "train", f"data.path={data}", f"training.max_steps={steps}", "training.warmup_steps=1",
            "training.save_every=null", "training.eval_every=null", "training.eval_max_examples=100", f"output_dir={out}",
            f"run_name={run_name}"]
    start, wall0 = time.perf_counter(), time.time()
    log = open(out.parent/f"{out.name}-{run_name}.log", "w+")  # a file, not a pipe: progress bars at 1M records fill a pipe and block the run
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    metrics, first, rss_first, rss_peak = out/run_name/"metrics.ndjson", None, None, None
    while proc.poll() is None:
        rss_peak = max(rss_peak or 0, vm_hwm_mb(proc.pid) or 0)
        if first is None and metrics.exists():
            for line in metrics.read_text().splitlines():
                if '"loss"' in line and json.loads(line)["step"] == 1:
                    first, rss_first = json.loads(line)["time"] - wall0, vm_hwm_mb(proc.pid); break
        if time.perf_counter() - start > timeout: proc.kill(); break
        time.sleep(0.2)
    log.seek(0); output = log.read(); log.close()
    result = dict(wall_s=round(time.perf_counter() - start, 1), first_step_s=round(first, 1) if first else None,
                  peak_rss_at_first_step_mb=rss_first, peak_rss_mb=rss_peak, exit=proc.returncode)
    if proc.returncode: result["error"] = output.strip().splitlines()[-3:]
    else: result["summary"] = [l for l in output.splitlines() if l.startswith(("data:", "tokens (train)", "trained", "val loss")) or ": done in " in l]
    return result

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--num-proc", type=int, default=os.cpu_count())
    ap.add_argument("--skip", default="", help="comma-separated: datasets, trl, train")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--name", default="bench_scale")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    work = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    models = Path(os.environ.get("CODEX_NB_CACHE") or Path.home()/".cache"/"codex_nb")/"models"
    figures = dict(load_before=os.getloadavg(), num_proc=args.num_proc)
    for n in map(int, args.sizes.split(",")):
        data = make_corpus(n)
        row = dict(file_mb=round(data.stat().st_size / 1e6, 1))
        row["ours"] = child(OURS, data, args.num_proc)
        if "datasets" not in skip: row["datasets"] = child(DATASETS, data, args.num_proc, work/f"hf{n}")
        if "trl" not in skip: row["trl_sft_prepare"] = child(TRL, data, args.num_proc, work/f"trl{n}")
        if "datasets" not in skip and "tokenize_s" in row["ours"] and "tokenize_s" in row.get("datasets", {}):
            row["ours_vs_datasets_speed"] = round(row["datasets"]["tokenize_s"] / row["ours"]["tokenize_s"], 2)
        if "train" not in skip:
            cache = work/f"cache{n}"; cache.mkdir()
            (cache/"models").symlink_to(models, target_is_directory=True)  # the converted model: installed once, not part of "cold"
            row["train_cold"] = train_run(data, work/f"runs{n}", cache, "cold", args.steps)
            row["train_warm"] = train_run(data, work/f"runs{n}", cache, "warm", args.steps)
        figures[f"{n}"] = row
        print(json.dumps({n: row}, indent=1), flush=True)
    sizes = [k for k in figures if k.isdigit()]
    if len(sizes) > 1 and "train" not in skip:
        small, large = figures[sizes[0]], figures[sizes[-1]]
        for kind in ("train_cold", "train_warm"):
            a, b = small[kind].get("peak_rss_at_first_step_mb"), large[kind].get("peak_rss_at_first_step_mb")
            if a and b: figures[f"rss_ratio_{sizes[-1]}_vs_{sizes[0]}_{kind}"] = {"value": round(b / a, 3), "unit": "x (goal <= 1.5)"}
    figures["load_after"] = os.getloadavg()
    write_result(args.name, figures, notes=__doc__.split("Usage:")[0].strip())

if __name__ == "__main__":
    main()
