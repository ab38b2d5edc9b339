"Checkpoint retention and resume refusals of the training loop (tiny model, in-process)."
import json, os, signal, subprocess, sys, time
import pytest
from conftest import ROOT
from codex_nb.config import load_config
from codex_nb.core import CheckpointError
from codex_nb.trainer import checkpoint_dirs, prune_checkpoints, train

def smoke(tmp_path, *overrides):
    return load_config([f"output_dir={tmp_path}", *overrides], config_name="smoke")

def test_retention_keeps_newest_and_best(tmp_path):
    result = train(smoke(tmp_path, "training.save_every=1", "training.eval_every=1", "training.save_total_limit=1",
                         "training.keep_best=true"), progress=False)
    val = {r["step"]: r["val_loss"] for r in map(json.loads, (result.run_dir/"metrics.ndjson").read_text().splitlines()) if "val_loss" in r}
    best = min(val, key=val.get)
    kept = [p.name for p in checkpoint_dirs(result.run_dir)]
    assert kept == sorted({f"step_{best:06d}", "step_000006"})

def test_retention_never_deletes_the_resumed_from_checkpoint(tmp_path):
    result = train(smoke(tmp_path, "training.save_every=1", "training.save_total_limit=3"), progress=False)
    names = [p.name for p in checkpoint_dirs(result.run_dir)]
    assert names == ["step_000004", "step_000005", "step_000006"]
    kept = prune_checkpoints(result.run_dir, 1, protect=result.run_dir/"checkpoints"/"step_000004")
    assert kept == ["step_000004", "step_000006"]

def test_resume_refuses_a_different_data_file(tmp_path):
    cfg = smoke(tmp_path)
    train(cfg, progress=False)
    with pytest.raises(CheckpointError, match=r"the train split.s bytes \(data\) was"):
        train(smoke(tmp_path, "data.split_seed=1", "training.resume_from=latest"), progress=False)

def test_resume_from_latest_without_checkpoints_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="holds no complete checkpoint"):
        train(smoke(tmp_path, "training.resume_from=latest"), progress=False)

def test_refused_resume_and_bad_data_write_nothing(tmp_path):
    result = train(smoke(tmp_path), progress=False)
    before = {p: p.read_bytes() for p in result.run_dir.rglob("*") if p.is_file()}
    with pytest.raises(CheckpointError): train(smoke(tmp_path, "data.split_seed=1", "training.resume_from=latest"), progress=False)
    bad = tmp_path/"bad.jsonl"
    bad.write_text('{"prompt": "a"\n')
    from codex_nb.core import DataError
    with pytest.raises(DataError): train(smoke(tmp_path, f"data.path={bad}", "overwrite=true"), progress=False)
    after = {p: p.read_bytes() for p in result.run_dir.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "smoke"]  # no staging directory left behind

def losses_of(run_dir):
    "The loss of every step; for a step logged twice (before a crash and after resuming) the later record wins."
    out = {}
    for line in (run_dir/"metrics.ndjson").read_text().splitlines():
        r = json.loads(line)
        if "loss" in r: out[r["step"]] = r["loss"]
    return [out[k] for k in sorted(out)]

def test_gradient_accumulation_gives_the_same_losses(tmp_path):
    a = train(smoke(tmp_path, "run_name=a", "training.per_device_train_batch_size=4", "training.gradient_accumulation_steps=1"), progress=False)
    b = train(smoke(tmp_path, "run_name=b", "training.per_device_train_batch_size=1", "training.gradient_accumulation_steps=4"), progress=False)
    assert a.losses == pytest.approx(b.losses, abs=1e-5)

CLI = [sys.executable, "-m", "codex_nb.cli"]

def test_two_process_ddp_matches_one_process(tmp_path):
    common = ["train", "--config-name", "smoke", f"output_dir={tmp_path}", "training.gradient_accumulation_steps=2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "codex_nb.cli", *common, "run_name=two",
                          "training.per_device_train_batch_size=1"], capture_output=True, text=True, env=env)
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("trained 6 steps") == 1, two.stdout  # one summary, from the main process
    one = subprocess.run([*CLI, *common, "run_name=one", "training.per_device_train_batch_size=2"], capture_output=True, text=True, env=env)
    assert one.returncode == 0, one.stderr[-3000:]
    records = [json.loads(l) for l in (tmp_path/"two"/"metrics.ndjson").read_text().splitlines()]
    assert sum("loss" in r for r in records) == 6  # written once, by rank 0 only
    assert losses_of(tmp_path/"two") == pytest.approx(losses_of(tmp_path/"one"), abs=1e-4)
    assert json.loads((tmp_path/"two"/"run.json").read_text())["status"] == "completed"
    assert json.loads((tmp_path/"two"/"run.json").read_text())["num_processes"] == 2

def test_ddp_cpu_launch_config_starts_two_processes(tmp_path):
    "configs/accelerate/ddp_cpu.yaml, as the README shows it: two gloo processes, not one that passes for two."
    proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ROOT/"configs"/"accelerate"/"ddp_cpu.yaml"),
                           "-m", "codex_nb.cli", "train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=acc",
                           "training.max_steps=2", "training.per_device_train_batch_size=1"],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((tmp_path/"acc"/"run.json").read_text())
    assert info["num_processes"] == 2 and info["status"] == "completed"
    assert proc.stdout.count("trained 2 steps") == 1

def test_gpu_launch_config_on_a_cpu_machine_is_a_clear_error(tmp_path):
    "FSDP (Accelerate) needs GPUs: on CPU each process says so and which config to use, and nothing is written."
    proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ROOT/"configs"/"accelerate"/"fsdp.yaml"),
                           "-m", "codex_nb.cli", "train", "--config-name", "smoke", f"output_dir={tmp_path}"],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.count("error: the launch configuration needs GPUs") == 2, proc.stderr[-2000:]
    assert "hint: on CPU, launch with configs/accelerate/ddp_cpu.yaml" in proc.stderr and "internal error" not in proc.stderr
    assert list(tmp_path.iterdir()) == []

def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_losses(tmp_path):
    args = ["train", "--config-name", "smoke", f"output_dir={tmp_path}", "training.max_steps=40", "training.save_every=5",
            "training.eval_every=null", "training.save_total_limit=3", "lora.lora_dropout=0.1"]  # dropout: RNG state must be restored
    full = subprocess.run([*CLI, *args, "run_name=full"], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    proc = subprocess.Popen([*CLI, *args, "run_name=killed"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = tmp_path/"killed"/"metrics.ndjson"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and '"step": 12,' in metrics.read_text(): break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    done = [p.name for p in checkpoint_dirs(tmp_path/"killed")]
    assert done and done[-1] != "step_000040"
    report = subprocess.run([*CLI, "report", str(tmp_path/"killed")], capture_output=True, text=True)
    assert "status stopped without finishing (killed?)" in report.stdout, report.stdout + report.stderr
    started = json.loads((tmp_path/"killed"/"run.json").read_text())["started"]
    resumed = subprocess.run([*CLI, *args, "run_name=killed", "--resume-from", "latest"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    info = json.loads((tmp_path/"killed"/"run.json").read_text())
    assert info["started"] == started and len(info["resumed"]) == 1  # the run's start is kept; the resume is added
    k = int(done[-1][5:])
    assert f"trained {40 - k} steps (step {k + 1} to 40); loss" in resumed.stdout, resumed.stdout
    assert losses_of(tmp_path/"killed") == losses_of(tmp_path/"full")  # bitwise on CPU fp32
    from codex_nb.tracking import read_metrics  # the reader drops the interrupted attempt's steps after the checkpoint
    assert [(r["step"], r["loss"]) for r in read_metrics(tmp_path/"killed", "loss")] == list(enumerate(losses_of(tmp_path/"full"), 1))
    assert json.loads((tmp_path/"killed"/"run.json").read_text())["final_loss"] == pytest.approx(losses_of(tmp_path/"full")[-1], abs=1e-6)

KILL_DURING_SAVE = """
import os, signal, sys
from pathlib import Path
import accelerate
original, calls = accelerate.Accelerator.save_state, []
def save_state(self, output_dir=None, **kw):
    calls.append(output_dir)
    if len(calls) == 2:  # the second checkpoint: write part of it, then die
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        (Path(output_dir) / "optimizer.bin").write_bytes(b"partial")
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, output_dir, **kw)
accelerate.Accelerator.save_state = save_state
from codex_nb.cli import main
main(sys.argv[1:])
"""

def test_kill_during_checkpoint_write_resumes_from_the_last_complete_one(tmp_path):
    args = ["train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=r", "training.eval_every=null"]
    proc = subprocess.run([sys.executable, "-c", KILL_DURING_SAVE, *args], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL
    assert [p.name for p in checkpoint_dirs(tmp_path/"r")] == ["step_000003"]  # the half-written one is not listed
    assert list((tmp_path/"r"/"checkpoints").glob(".step_*.tmp"))
    resumed = subprocess.run([*CLI, *args, "--resume-from", "latest"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout + resumed.stderr and "step_000003" in resumed.stdout + resumed.stderr
    assert not list((tmp_path/"r"/"checkpoints").glob(".step_*.tmp"))
    assert [p.name for p in checkpoint_dirs(tmp_path/"r")] == ["step_000003", "step_000006"]

def test_gradient_checkpointing_gives_the_same_losses(tmp_path):
    plain = train(smoke(tmp_path, "run_name=plain"), progress=False)
    checkpointed = train(smoke(tmp_path, "run_name=gc", "training.gradient_checkpointing=true"), progress=False)
    assert checkpointed.losses == pytest.approx(plain.losses, abs=1e-5)
