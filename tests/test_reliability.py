"Reproducibility and recovery: resume across process counts, incomplete checkpoints, redaction by `split`, what run.json records."
import json, os, subprocess, sys
import pytest
from conftest import assert_clean_error, run_cli
from codex_nb.config import load_config
from codex_nb.core import CodexWarning
from codex_nb.registry import load_model
from codex_nb.trainer import tokenizer_record, train

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "codex_nb.cli"]

def smoke(out, *overrides):
    return ["train", "--config-name", "smoke", f"output_dir={out}", "training.save_every=2", "training.save_total_limit=null", *overrides]

def test_resume_by_another_process_count_warns_and_records_what_was_not_restored(tmp_path):
    "2 processes -> 1 and 1 -> 2: the run goes on, the console and run.json say the RNG was restored only in part."
    # the same effective batch (4) both ways: 2 processes x 1 x 2 accumulation steps, 1 process x 2 x 2
    two = subprocess.run([*TORCHRUN, *smoke(tmp_path, "run_name=two", "training.per_device_train_batch_size=1",
                                            "training.gradient_accumulation_steps=2")], capture_output=True, text=True, env=ENV)
    assert two.returncode == 0, two.stderr[-3000:]
    assert json.loads((tmp_path/"two"/"checkpoints"/"step_000002"/"trainer_state.json").read_text())["num_processes"] == 2
    cfg = load_config([f"output_dir={tmp_path}", "run_name=two", "training.save_every=2", "training.save_total_limit=null", "training.per_device_train_batch_size=2",
                       "training.gradient_accumulation_steps=2", "training.resume_from=step_000002"], config_name="smoke")
    with pytest.warns(CodexWarning, match=r"step_000002 was saved by 2 process\(es\) and is resumed by 1: the random number generator "
                                          r"states are restored only in part \(the state of process 1 is unused\)"):
        result = train(cfg, progress=False)
    assert result.steps == 6 and len(result.losses) == 4
    notes = json.loads((tmp_path/"two"/"run.json").read_text())["resume_notes"]
    assert len(notes) == 1 and "saved by 2 process(es) and is resumed by 1" in notes[0]

    one = run_cli(*smoke(tmp_path, "run_name=one", "training.per_device_train_batch_size=2", "training.gradient_accumulation_steps=2"))
    assert one.returncode == 0, one.stderr
    assert "RNG only in part" not in one.stdout + one.stderr
    back = subprocess.run([*TORCHRUN, *smoke(tmp_path, "run_name=one", "training.per_device_train_batch_size=1",
                                             "training.gradient_accumulation_steps=2"), "--resume-from", "step_000002"],
                          capture_output=True, text=True, env=ENV)
    assert back.returncode == 0, back.stderr[-3000:]
    assert back.stderr.count("saved by 1 process(es) and is resumed by 2") == 1, back.stderr  # said once, by the main process
    assert "process 1 starts from the run's seed instead" in back.stderr
    assert "adapter, optimizer and data position restored, RNG only in part" in back.stdout
    info = json.loads((tmp_path/"one"/"run.json").read_text())
    assert info["status"] == "completed" and len(info["resume_notes"]) == 1

def test_same_process_count_resume_says_rng_restored(tmp_path):
    first = run_cli(*smoke(tmp_path, "run_name=r"))
    assert first.returncode == 0, first.stderr
    again = run_cli(*smoke(tmp_path, "run_name=r"), "--resume-from", "step_000004")
    assert again.returncode == 0, again.stderr
    assert "adapter, optimizer, data position and RNG restored" in again.stdout and "warning" not in again.stderr
    assert json.loads((tmp_path/"r"/"run.json").read_text())["resume_notes"] == []

def test_incomplete_checkpoints_are_named_when_skipped_and_removed(tmp_path):
    done = run_cli(*smoke(tmp_path, "run_name=k", "training.max_steps=8"))
    assert done.returncode == 0, done.stderr
    ckpts = tmp_path/"k"/"checkpoints"
    (ckpts/"step_000008"/"trainer_state.json").unlink()   # a checkpoint whose save was cut before its last file
    (ckpts/".step_000010.tmp").mkdir()                    # a save killed mid-write
    proc = run_cli(*smoke(tmp_path, "run_name=k", "training.max_steps=8"), "--resume-from", "latest")
    assert proc.returncode == 0, proc.stderr
    assert "warning: " + str(ckpts/"step_000008") + ": skipped, no trainer_state.json" in proc.stderr
    assert "warning: " + str(ckpts/".step_000010.tmp") + ": skipped, a save that did not finish" in proc.stderr
    assert "resuming from step_000006" in proc.stderr
    assert str(ckpts/".step_000010.tmp") + ": removed" in proc.stderr
    assert "resumed from" in proc.stdout and "step 6," in proc.stdout
    assert sorted(p.name for p in ckpts.iterdir()) == ["step_000002", "step_000004", "step_000006", "step_000008"]  # 8 saved again

def test_run_json_records_the_tokenizer(smoke_run):
    info = json.loads((smoke_run/"run.json").read_text())
    _, tok = load_model("tiny-llama")
    assert info["tokenizer"] == tokenizer_record(tok)
    assert info["tokenizer"]["pad_token_id"] == tok.pad_token_id and len(info["tokenizer"]["chat_template_sha256"]) == 64

LEAKY = [{"prompt": "Write to alice@example.com", "completion": " key = 'sk-proj-" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z" + "'"},
         {"prompt": "def f():", "completion": ' k = "AKIAIOSFODNN" + \\\n     "7EXAMPLE"'},
         {"prompt": "clean", "completion":   "nothing to hide"}]

def test_split_redacts_like_train(tmp_path):
    data = tmp_path/"d.jsonl"
    clean_line = '{"prompt":"clean",   "completion": "nothing to hide"}'  # spacing a re-encoding would change
    data.write_text("".join(json.dumps(r) + "\n" for r in LEAKY[:2]) + clean_line + "\n" + '{"bad": alice@example.com\n')
    proc = run_cli("split", data, tmp_path/"s", "--ratios", "0.34,0.33,0.33", "--on-error", "skip")
    assert proc.returncode == 0, proc.stderr
    written = "".join((tmp_path/"s"/f"{s}.jsonl").read_text() for s in ("train", "val", "test"))
    for secret in ("alice@example.com", "sk-proj-", "AKIAIOSFODNN", "7EXAMPLE"): assert secret not in written
    assert written.count("[REDACTED:") == 3 and clean_line in written.splitlines()  # a clean record keeps its bytes
    assert "alice@example.com" not in (tmp_path/"s"/"rejects.jsonl").read_text()
    assert "redacted: 1 aws_access_key, 1 email, 1 openai_key" in proc.stdout
    manifest = json.loads((tmp_path/"s"/"train.jsonl.manifest.json").read_text())
    assert manifest["params"]["safety"]["redacted"] is True
    assert manifest["params"]["safety"]["findings"] == {"aws_access_key": 1, "email": 1, "openai_key": 1}

def test_split_bypass_is_recorded(tmp_path):
    data = tmp_path/"d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in LEAKY))
    proc = run_cli("split", data, tmp_path/"s", "--unsafe-no-redaction", "synthetic test data")
    assert proc.returncode == 0, proc.stderr
    assert "alice@example.com" in "".join((tmp_path/"s"/f"{s}.jsonl").read_text() for s in ("train", "val", "test"))
    safety = json.loads((tmp_path/"s"/"test.jsonl.manifest.json").read_text())["params"]["safety"]
    assert safety["redacted"] is False and safety["bypass"]["reason"] == "synthetic test data"
    assert "not redacted: --unsafe-no-redaction 'synthetic test data'" in proc.stdout
    assert_clean_error(run_cli("split", data, tmp_path/"t", "--unsafe-no-redaction", " "), "--unsafe-no-redaction needs a reason")
    assert not (tmp_path/"t").exists()

def test_split_help_says_it_redacts():
    proc = run_cli("split", "--help")
    assert "Secrets and PII are redacted" in " ".join(proc.stdout.split())
