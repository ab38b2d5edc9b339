"""Shared helpers for benchmarks: each bench/<name>.py measures side by side in one run and writes bench/results/<name>.json."""
import json, os, platform, sys, time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent/"results"

def machine() -> dict:
    "The facts a reader needs to compare numbers across machines."
    info = dict(cores=os.cpu_count(), python=platform.python_version(), platform=platform.platform(), processor=platform.processor(),
                load_average_1_5_15_min=[round(x, 2) for x in os.getloadavg()])  # figures taken on a busy machine mislead: look here first
    try:
        import torch
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(), cuda=torch.cuda.is_available())
    except ImportError: pass
    return info

def write_result(name:str, figures:dict, notes:str="") -> Path:
    "Write `figures` (each a dict with value and unit, or a plain number) with the machine and the exact command."
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS/f"{name}.json"
    payload = dict(name=name, date=datetime.now(timezone.utc).isoformat(timespec="seconds"), command=" ".join([Path(sys.executable).name, *sys.argv]),
                   machine=machine(), figures=figures, notes=notes)
    out.write_text(json.dumps(payload, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    return out

class Timer:
    "Wall-clock seconds of a `with` block (time.perf_counter)."
    def __enter__(self): self.start = time.perf_counter(); return self
    def __exit__(self, *exc): self.seconds = time.perf_counter() - self.start
