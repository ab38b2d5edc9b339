"Checkpoint retention and resume refusals of the training loop (tiny model, in-process)."
import json
import pytest
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
    with pytest.raises(CheckpointError, match="train_sha256 was"):
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
