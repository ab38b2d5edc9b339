"""Split a generated JSONL file into train/val/test with `codex_nb.data.split_jsonl` and with
`datasets.load_dataset("json") + train_test_split + to_json`, side by side, at 100k and 1M records.

Each measurement runs in its own subprocess; its peak RSS comes from `os.wait4` (the rusage of that child alone) and
its wall time from the parent, so interpreter start-up and imports count for both. The child also reports the time
of its phases. Both sides read the same file and write three JSONL files (0.8/0.1/0.1).

    python bench/bench_split.py                 # 100k and 1M (generates bench/data/ on first use, ~330 MB)
    python bench/bench_split.py --sizes 100000  # a quick look
"""
import argparse, json, os, random, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result  # noqa: E402

DATA = Path(__file__).resolve().parent/"data"
WORDS = ("the a of to in is for return value list string int float dict key index count sum max min sort filter map "
         "def self node tree graph path edge weight result total number numbers items item text line file open read "
         "write parse token split join strip upper lower check valid error raise").split()

def make_data(n:int) -> Path:
    "A deterministic JSONL file of `n` prompt/completion records (~330 bytes each); reused when present."
    path = DATA/f"split_{n}.jsonl"
    if path.exists(): return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = random.Random(n)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(n):
            words = rng.choices(WORDS, k=rng.randint(30, 60))
            cut = len(words) // 2
            name = "_".join(words[:3])
            record = dict(task_id=f"gen/{i}", prompt=f"def {name}(x):\n    \"\"\"{' '.join(words[3:cut])}\"\"\"\n",
                          completion="    return " + " ".join(words[cut:]) + "\n")
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path

def child_ours(src:Path, out:Path, key:str|None, workers:int=1) -> dict:
    t0 = time.perf_counter()
    from codex_nb.data import split_jsonl
    t1 = time.perf_counter()
    sp = split_jsonl(src, out, (0.8, 0.1, 0.1), seed=0, key=key, workers=workers)
    t2 = time.perf_counter()
    return dict(import_s=t1 - t0, split_s=t2 - t1, work_s=t2 - t1, counts=sp.counts)

def child_datasets(src:Path, out:Path) -> dict:
    t0 = time.perf_counter()
    import datasets
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    t1 = time.perf_counter()
    ds = datasets.load_dataset("json", data_files=str(src), split="train")
    t2 = time.perf_counter()
    first = ds.train_test_split(test_size=0.2, seed=0)
    rest = first["test"].train_test_split(test_size=0.5, seed=0)
    parts = dict(train=first["train"], val=rest["train"], test=rest["test"])
    t3 = time.perf_counter()
    for name, part in parts.items(): part.to_json(out/f"{name}.jsonl", force_ascii=False)
    t4 = time.perf_counter()
    return dict(import_s=t1 - t0, load_s=t2 - t1, split_s=t3 - t2, write_s=t4 - t3, work_s=t4 - t1,
                counts={k: len(v) for k, v in parts.items()})

def tree_rss_mb(pid:int) -> float:
    "Resident memory of a process and all its descendants, in MB (psutil; 0 when it is not installed)."
    try: import psutil
    except ImportError: return 0.0
    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.NoSuchProcess: return 0.0
    total = 0
    for p in procs:
        try: total += p.memory_info().rss
        except psutil.NoSuchProcess: pass
    return total / 2**20

def measure(tool:str, src:Path, key:str|None=None, workers:int=1) -> dict:
    "Run one side in a fresh subprocess; wall time, peak RSS (MB) and the child's own phase timings."
    with tempfile.TemporaryDirectory(prefix="bench_split_") as tmp:
        env = {**os.environ, "HF_DATASETS_CACHE": str(Path(tmp)/"hf_cache"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
        report = Path(tmp)/"report.json"
        cmd = [sys.executable, __file__, "--child", tool, str(src), str(Path(tmp)/"out"), str(report), key or "", str(workers)]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env)
        tree_peak = 0.0
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:  # sample until it exits, leave it to wait4
            tree_peak = max(tree_peak, tree_rss_mb(proc.pid))
            time.sleep(0.05)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0: raise SystemExit(f"{tool} on {src} failed with exit code {proc.returncode}")
        inner = json.loads(report.read_text())
    return dict(wall_s=round(wall, 2), work_s=round(inner["work_s"], 2), peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
                peak_rss_all_processes_mb=round(tree_peak, 1),
                phases={k: round(v, 2) for k, v in inner.items() if k.endswith("_s")}, counts=inner["counts"])

def best_of(runs:list[dict]) -> dict:
    "The fastest run's figures (the least disturbed on a shared machine), every run's wall time, and the highest peak RSS."
    best = min(runs, key=lambda r: r["wall_s"])
    return dict(best, wall_s_runs=[r["wall_s"] for r in runs], peak_rss_mb=max(r["peak_rss_mb"] for r in runs),
                peak_rss_all_processes_mb=max(r["peak_rss_all_processes_mb"] for r in runs))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side, interleaved; the fastest is reported")
    ap.add_argument("--child", nargs=6, metavar=("TOOL", "SRC", "OUT", "REPORT", "KEY", "WORKERS"))
    args = ap.parse_args()
    if args.child:
        tool, src, out, report, key, workers = args.child
        out = Path(out); out.mkdir(parents=True, exist_ok=True)
        result = child_ours(Path(src), out, key or None, int(workers)) if tool == "ours" else child_datasets(Path(src), out)
        Path(report).write_text(json.dumps(result))
        return
    figures, rows = {}, []
    for n in (int(s) for s in args.sizes.split(",")):
        src = make_data(n)
        size_mb = src.stat().st_size / 2**20
        runs = dict(key=[], nokey=[], key2=[], hf=[])
        for _ in range(args.repeat):  # interleaved, so a busy spell on the machine hits every side alike
            runs["key"].append(measure("ours", src, "task_id"))
            runs["nokey"].append(measure("ours", src, None))
            runs["key2"].append(measure("ours", src, "task_id", workers=2))
            runs["hf"].append(measure("datasets", src))
        ours_key, ours_nokey, ours_key2, hf = (best_of(runs[k]) for k in ("key", "nokey", "key2", "hf"))
        figures[str(n)] = dict(
            records=n, file_mb=round(size_mb, 1),
            ours_key_task_id=ours_key, ours_key_none=ours_nokey, ours_key_task_id_workers_2=ours_key2, datasets=hf,
            wall_ratio_datasets_over_ours_key=round(hf["wall_s"] / ours_key["wall_s"], 2),
            wall_ratio_datasets_over_ours_nokey=round(hf["wall_s"] / ours_nokey["wall_s"], 2),
            wall_ratio_datasets_over_ours_key_workers_2=round(hf["wall_s"] / ours_key2["wall_s"], 2),
            work_ratio_datasets_over_ours_key=round(hf["work_s"] / ours_key["work_s"], 2))
        rows.append(f"{n:>8} records ({size_mb:.0f} MB): ours(key) {ours_key['wall_s']}s {ours_key['peak_rss_mb']} MB | "
                    f"ours(no key) {ours_nokey['wall_s']}s {ours_nokey['peak_rss_mb']} MB | "
                    f"ours(key, 2 workers) {ours_key2['wall_s']}s {ours_key2['peak_rss_all_processes_mb']} MB all processes | "
                    f"datasets {hf['wall_s']}s {hf['peak_rss_mb']} MB")
    notes = ("wall_s: whole subprocess incl. interpreter start and imports; work_s: the split itself (for datasets: "
             "load_dataset + two train_test_split + to_json of the three parts). peak_rss_mb: ru_maxrss of that subprocess "
             "via os.wait4, highest over the runs (with workers: the largest single process); peak_rss_all_processes_mb: "
             "the sum over the process and its workers, sampled every 50 ms with psutil. ratio > 1 means split_jsonl is "
             "faster. ours_key_task_id hashes the task_id field; ours_key_none hashes each record's canonical JSON "
             "(sort_keys); ours_key_task_id_workers_2 is split_jsonl(workers=2). Each side ran --repeat times, interleaved, "
             "on a 2-core machine shared with other jobs; the fastest run is reported and wall_s_runs lists all of them.")
    write_result("bench_split", figures, notes)
    print("\n".join(rows))

if __name__ == "__main__": main()
