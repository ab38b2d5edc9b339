"Your own runs: a YAML config file, resuming a run directory, Ctrl-C that saves, val loss before and after, a clamped warmup."
import json, signal, subprocess, sys, time
from conftest import assert_clean_error, run_cli

CLI = [sys.executable, "-m", "codex_nb.cli"]

def test_train_from_your_own_yaml_then_resume_the_run_directory(tmp_path):
    mine = tmp_path/"my_run.yaml"
    mine.write_text(f"model: tiny-llama\ndata: smoke\nrun_name: mine\noutput_dir: {tmp_path/'runs'}\n"
                    "training: {max_steps: 4, save_every: 2, warmup_steps: 1}\n")
    first = run_cli("train", mine, "training.max_steps=6")
    assert first.returncode == 0, first.stderr
    assert "trained 6 steps" in first.stdout and "val loss " in first.stdout and " -> " in first.stdout.split("val loss ")[1]
    run = tmp_path/"runs"/"mine"
    config = (run/"config.yaml").read_text()
    assert "max_steps: 6" in config and "name: tiny-llama" in config
    again = run_cli("train", run)  # the run's own settings; nothing left to do
    assert again.returncode == 0, again.stderr
    assert "nothing left to train: the run had finished its 6 steps" in again.stdout
    assert_clean_error(run_cli("train", tmp_path/"nowhere.yaml"), "config file", "not found")
    assert_clean_error(run_cli("train", "not-a-thing"), "'not-a-thing' is neither a config file, a run directory nor an override")
    assert_clean_error(run_cli("train", tmp_path), "is not a run directory (no config.yaml in it)")

def test_ctrl_c_saves_a_checkpoint_and_says_how_to_continue(tmp_path):
    args = ["train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=cc", "training.max_steps=400", "training.save_every=1000"]
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics, deadline = tmp_path/"cc"/"metrics.ndjson", time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and '"step": 3,' in metrics.read_text(): break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    line = next(l for l in err.splitlines() if l.startswith("interrupted at step "))
    step = int(line.split()[3].rstrip(":"))
    assert 3 <= step < 400 and (tmp_path/"cc"/"checkpoints"/f"step_{step:06d}"/"trainer_state.json").exists()
    assert f"continue with: codex-nb train {tmp_path/'cc'} --resume-from latest" in err
    assert "stopping after this optimizer step to save a checkpoint" in err and "Traceback" not in err
    assert json.loads((tmp_path/"cc"/"run.json").read_text())["status"] == "interrupted"
    resumed = run_cli("train", tmp_path/"cc", "training.max_steps=400")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from {tmp_path/'cc'/'checkpoints'/f'step_{step:06d}'}: step {step}," in resumed.stdout
    assert f"trained {400 - step} steps (step {step + 1} to 400)" in resumed.stdout

def test_val_loss_before_and_after_in_run_json_and_metrics(smoke_run):
    info = json.loads((smoke_run/"run.json").read_text())
    val = [json.loads(l) for l in (smoke_run/"metrics.ndjson").read_text().splitlines() if '"val_loss"' in l]
    assert val[0]["step"] == 0 and val[0]["val_loss"] == round(info["val_loss_start"], 6)
    assert val[-1]["step"] == 6 and info["val_loss"] == val[-1]["val_loss"] or abs(info["val_loss"] - val[-1]["val_loss"]) < 1e-6
