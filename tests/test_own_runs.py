"Your own runs: a YAML config file, resuming a run directory, Ctrl-C that saves, val loss before and after, a clamped warmup."
import pytest
import json, signal, subprocess, sys, time
from pathlib import Path
from conftest import assert_clean_error, run_cli

CLI = [sys.executable, "-m", "codex_nb.cli"]

def test_train_from_your_own_yaml_then_resume_the_run_directory(tmp_path):
    mine = tmp_path/"my_run.yaml"
    mine.write_text(f"model: tiny-llama\ndata: smoke\nrun_name: mine\noutput_dir: {tmp_path/'runs'}\n"
                    "training: {max_steps: 4, save_every: 2, warmup_steps: 1}\n")
    first = run_cli("train", mine, "training.max_steps=6")
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith("starting: loading torch, transformers and peft ..."), first.stderr[:500]  # not a silent start
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
    line = next((l for l in err.splitlines() if l.startswith("interrupted at step ")), None)
    assert line, (out[-2000:], err[-3000:])
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
    val = sorted((json.loads(l) for l in (smoke_run/"metrics.ndjson").read_text().splitlines() if '"val_loss"' in l), key=lambda r: r["step"])
    assert val[0]["step"] == 0 and val[0]["val_loss"] == round(info["val_loss_start"], 6)
    assert val[-1]["step"] == 6 and info["val_loss"] == val[-1]["val_loss"] or abs(info["val_loss"] - val[-1]["val_loss"]) < 1e-6

def test_validate_and_doctor_check_the_model_and_data(tmp_path):
    assert_clean_error(run_cli("validate", "model.name=dir:/nonexistent", f"data.path={tmp_path}"),
                       "a run would stop at once", "model.name=dir:/nonexistent: model path /nonexistent does not exist",
                       f"data.path: {tmp_path} is a directory, not a JSONL file")
    bad = tmp_path/"chats.jsonl"
    bad.write_text('{"prompt": "hi"}\n')
    assert_clean_error(run_cli("validate", "model=tiny-llama", f"data.path={bad}", "data.schema=prompt_completion"), f"data.path: {bad}:1:")
    doctor = run_cli("doctor", "model.name=dir:/nonexistent")
    assert doctor.returncode == 1 and "configured feature cannot work: model.name=dir:/nonexistent" in doctor.stdout
    assert "set CODEX_NB_CACHE to move it" in doctor.stdout

def test_cache_lists_and_cleans(tmp_path):
    env = {"CODEX_NB_CACHE": str(tmp_path)}
    (tmp_path/"tokenized"/"abc").mkdir(parents=True); (tmp_path/"tokenized"/"abc"/"input_ids.i32").write_bytes(b"\0" * 4000)
    (tmp_path/"models"/"m-1").mkdir(parents=True); (tmp_path/"models"/"m-1"/"model.safetensors").write_bytes(b"\0" * 1000)
    listed = run_cli("cache", env=env)
    assert listed.returncode == 0 and "tokenized" in listed.stdout and "total: 0.0 MB in 2 entries" in listed.stdout
    cleaned = run_cli("cache", "--clean", env=env)
    assert "removed 2 entries" in cleaned.stdout and not list((tmp_path/"tokenized").iterdir()) and not list((tmp_path/"models").iterdir())

@pytest.mark.slow  # make test-slow; kept out of make test for CI's 25 minutes
def test_runs_of_one_output_dir_share_one_mlflow_store(tmp_path):
    "The MLflow UI compares runs: both runs land in <output_dir>/mlflow.db."
    from mlflow.tracking import MlflowClient
    for name, lr in (("a", "1e-3"), ("b", "5e-4")):
        proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", f"run_name={name}", f"training.learning_rate={lr}",
                       "tracking.backends=[ndjson,mlflow]", "training.max_steps=2", "training.warmup_steps=0")
        assert proc.returncode == 0, proc.stderr
    client = MlflowClient(f"sqlite:///{tmp_path.resolve()}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("codex-nb").experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["a", "b"]
    assert sorted(r.data.params["training.learning_rate"] for r in runs) == ["0.0005", "0.001"]

def test_compare_shows_differing_settings_losses_and_scores(tmp_path):
    for name, lr in (("slow", "5e-05"), ("fast", "0.005")):
        proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", f"run_name={name}", f"training.learning_rate={lr}",
                       "training.max_steps=3", "training.warmup_steps=0", "training.save_every=null")
        assert proc.returncode == 0, proc.stderr
    assert run_cli("evaluate", tmp_path/"fast", "--metrics", "loss", "--max-samples", "2").returncode == 0
    proc = run_cli("compare", tmp_path/"slow", tmp_path/"fast")
    assert proc.returncode == 0, proc.stderr
    lines = {l.split("  ")[0].strip(): l.split() for l in proc.stdout.splitlines()}
    assert lines["training.learning_rate"][-2:] == ["5e-05", "0.005"]
    assert "run_name" not in lines and "steps" in lines and "test loss (final)" in proc.stdout
    assert lines["val loss (start)"][-2] == lines["val loss (start)"][-1]  # the same base model, the same val split
    assert (tmp_path/"compare.png").read_bytes()[:4] == b"\x89PNG"
    assert_clean_error(run_cli("compare", tmp_path/"slow", tmp_path), "is not a run directory")

def test_ready_made_splits_are_used_as_they_are(tmp_path):
    "data.train_path/val_path/test_path: each file read, checked and redacted like one to split, in its own order."
    rec = lambda i: json.dumps(dict(id=i, prompt=f"What is {i} plus one?", completion=f" {i + 1}")) + "\n"
    (tmp_path/"train.jsonl").write_text("".join(rec(i) for i in range(30, 0, -1)) + "{not json\n")
    (tmp_path/"val.jsonl").write_text(rec(100) + json.dumps(dict(prompt="Mail me", completion=" at jane.doe@example.com")) + "\n")
    args = ["model=tiny-llama", f"data.train_path={tmp_path/'train.jsonl'}", f"data.val_path={tmp_path/'val.jsonl'}",
            "data.on_error=skip", "training.max_steps=2", "training.warmup_steps=1", f"output_dir={tmp_path/'runs'}", "run_name=ready"]
    proc = run_cli("train", *args)
    assert proc.returncode == 0, proc.stderr
    assert "data: 32 records: train 30, val 2, test 0 (0 blank lines skipped, 1 rejected" in proc.stdout
    assert "redacted: 1 email" in proc.stdout
    data = tmp_path/"runs"/"ready"/"data"
    assert [json.loads(l)["id"] for l in (data/"train.jsonl").read_text().splitlines()] == list(range(30, 0, -1))  # not reshuffled
    assert "jane.doe@example.com" not in (data/"val.jsonl").read_text() and (data/"test.jsonl").read_text() == ""
    assert (data/"rejects.jsonl").read_text().count("\n") == 1
    manifest = json.loads((data/"val.jsonl.manifest.json").read_text())
    assert manifest["params"] == dict(source=str(tmp_path/"val.jsonl"), ready_made=True, split="val")
    other = tmp_path/"copy"; other.mkdir()  # the same bytes elsewhere: prepared data from the cache, manifests naming these files
    for name in ("train.jsonl", "val.jsonl"): (other/name).write_bytes((tmp_path/name).read_bytes())
    again = run_cli("train", *[a.replace(str(tmp_path/"train.jsonl"), str(other/"train.jsonl")).replace(str(tmp_path/"val.jsonl"), str(other/"val.jsonl"))
                                for a in args], "run_name=again")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path/"runs"/"again"/"data"/"val.jsonl.manifest.json").read_text())["params"]["source"] == str(other/"val.jsonl")
    assert (tmp_path/"runs"/"again"/"data"/"train.jsonl").read_bytes() == (data/"train.jsonl").read_bytes()
    config = (tmp_path/"runs"/"ready"/"config.yaml").read_text()
    assert f"train_path: {tmp_path/'train.jsonl'}" in config and "test_path: null" in config
    inspect = run_cli("data", "inspect", *args[1:4], "model=tiny-llama")  # the splits by their keys, no FILE argument
    assert inspect.returncode == 0, inspect.stderr
    assert "train 30, val 2, test 0" in inspect.stdout and "tokenizer: tiny-llama" in inspect.stdout
    kept = inspect.stdout.split("1 rejected (see ")[1].split(")")[0]
    assert "train.jsonl:31:" in json.loads(Path(kept).read_text())["where"]  # the rejected line (file:line:column), kept to be read
    assert_clean_error(run_cli("evaluate", tmp_path/"runs"/"ready"), "split 'test' of", "is empty")
    assert_clean_error(run_cli("train", "model=tiny-llama", f"data.val_path={tmp_path/'val.jsonl'}"), "data.val_path and data.test_path need data.train_path")
    assert_clean_error(run_cli("train", "model=tiny-llama", f"data.path={tmp_path/'val.jsonl'}", f"data.train_path={tmp_path/'train.jsonl'}"),
                       "data.path (one file, split by split_ratios) and data.train_path (ready-made splits) are both set")
    assert_clean_error(run_cli("validate", f"data.train_path={tmp_path/'missing.jsonl'}"), f"data.train_path: {tmp_path/'missing.jsonl'} does not exist")

def test_a_new_run_starts_from_a_saved_adapter(tmp_path):
    "lora.init_from: the new run's step 0 is where the old one ended; other LoRA settings are refused with the ones to set."
    common = ["--config-name", "smoke", f"output_dir={tmp_path}", "training.max_steps=4", "training.warmup_steps=0"]
    first = run_cli("train", *common, "run_name=first")
    assert first.returncode == 0, first.stderr
    refused = run_cli("train", tmp_path/"first", "--resume-from", "latest", "training.max_steps=8")  # another schedule: not a resume
    assert_clean_error(refused, "cannot resume", f"lora.init_from={tmp_path/'first'/'checkpoints'/'step_000004'}")
    more = run_cli("train", *common, "run_name=more", f"lora.init_from={tmp_path/'first'}")
    assert more.returncode == 0, more.stderr
    before, after = (json.loads((tmp_path/name/"run.json").read_text()) for name in ("first", "more"))
    assert after["lora_init_from"]["path"] == str(tmp_path/"first"/"adapter")
    assert abs(after["val_loss_start"] - before["val_loss"]) < 1e-6  # it starts where the first run ended
    assert after["val_loss_start"] != before["val_loss_start"]
    assert_clean_error(run_cli("train", *common, "run_name=other", f"lora.init_from={tmp_path/'first'}", "lora.r=8"),
                       "was trained with other LoRA settings: r was 4, now 8", "hint: set lora.r=4")
    # checked before anything is replaced: neither the run's own adapter nor a typo costs the run overwrite=true names
    assert_clean_error(run_cli("train", *common, "run_name=more", "overwrite=true", f"lora.init_from={tmp_path/'more'}"),
                       f"is inside {tmp_path/'more'}, the run directory this run would replace")
    assert_clean_error(run_cli("train", *common, "run_name=more", "overwrite=true", f"lora.init_from={tmp_path/'mroe'}"), "holds no adapter")
    assert (tmp_path/"more"/"adapter"/"adapter_model.safetensors").exists() and (tmp_path/"more"/"checkpoints").exists()
