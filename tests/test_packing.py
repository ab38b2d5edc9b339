"Packing in the training loop: labels as unpacked, same losses across process counts and on resume, SmolLM2 without cross-talk."
import json, os, subprocess, sys
import numpy as np
import pytest
import torch
from codex_nb.config import load_config
from codex_nb.data import IGNORE_INDEX, tokenize_jsonl
from codex_nb.packing import collate_packed, pack_examples, packed_nll
from codex_nb.trainer import epoch_units, train
from codex_nb.registry import byte_tokenizer

def smoke(tmp_path, *overrides):
    return load_config([f"output_dir={tmp_path}", "data.packing=true", "data.max_length=256", *overrides], config_name="smoke")

def test_packed_labels_are_the_unpacked_labels(smoke_run):
    "Every trained label of every example is trained in its pack, and nothing else is: the first token's was never scored."
    store = tokenize_jsonl(smoke_run/"data"/"train.jsonl", byte_tokenizer(), 48)  # examples of 48 tokens: 5 to a row of 256
    units = epoch_units(store, True, 256, seed=0, epoch=0)
    assert sorted(i for p in units.packs for i in p) == list(range(len(store)))
    batch = collate_packed([[store[i] for i in p] for p in units.packs], 256)
    for row, pack in enumerate(units.packs):
        expected = np.concatenate([np.r_[IGNORE_INDEX, store[i]["labels"][1:]] for i in pack])
        assert batch["labels"][row, :len(expected)].tolist() == expected.tolist()
        assert (batch["labels"][row, len(expected):] == IGNORE_INDEX).all()
    assert units.trained.tolist() == [int(store.trained_counts[p].sum()) for p in units.packs]
    assert units.lengths.max() <= 256 and len(units.packs) == 7  # 32 examples

def test_packed_resume_gives_the_uninterrupted_losses(tmp_path):
    full = train(smoke(tmp_path, "training.save_every=3"), progress=False)
    resumed = train(smoke(tmp_path, "training.save_every=3", "training.resume_from=step_000003"), progress=False)
    assert resumed.losses == pytest.approx(full.losses[3:], abs=1e-6)

def test_resume_refuses_to_switch_packing(tmp_path):
    from codex_nb.core import CheckpointError
    train(smoke(tmp_path, "training.save_every=3"), progress=False)
    before = {name: (tmp_path/"smoke"/name).read_bytes() for name in ("run.json", "config.yaml")}
    with pytest.raises(CheckpointError, match="packing was True, now False"):
        train(smoke(tmp_path, "training.save_every=3", "data.packing=false", "training.resume_from=step_000003"), progress=False)
    # refused before anything in the run directory is rewritten: the finished run is not marked failed
    assert {name: (tmp_path/"smoke"/name).read_bytes() for name in before} == before

def test_packed_two_process_ddp_matches_one_process(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    common = ["train", "--config-name", "smoke", f"output_dir={tmp_path}", "data.packing=true", "data.max_length=256",
              "training.gradient_accumulation_steps=2", "training.save_every=null"]
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "codex_nb.cli", *common,
                          "run_name=two", "training.per_device_train_batch_size=1"], capture_output=True, text=True, env=env)
    assert two.returncode == 0, two.stderr[-3000:]
    one = subprocess.run([sys.executable, "-m", "codex_nb.cli", *common, "run_name=one", "training.per_device_train_batch_size=2"],
                         capture_output=True, text=True, env=env)
    assert one.returncode == 0, one.stderr[-3000:]
    losses = lambda run: [json.loads(l)["loss"] for l in (tmp_path/run/"metrics.ndjson").read_text().splitlines() if '"loss"' in l]
    assert len(losses("two")) == 6 and losses("two") == pytest.approx(losses("one"), abs=1e-4)

@pytest.mark.slow
def test_smollm2_packed_has_no_cross_talk():
    "The real model (Llama architecture, SDPA): each example's loss in a packed row equals its loss alone."
    from codex_nb.data import collate, humaneval_records, token_nll, tokenize_records
    from codex_nb.registry import load_model
    model, tok = load_model("smollm2-135m-instruct")
    model.eval()
    examples = tokenize_records(humaneval_records()[:8], tok, 256)
    packs = pack_examples([len(x["input_ids"]) for x in examples], 1024, seed=0)
    with torch.no_grad():
        packed = dict(zip((i for p in packs for i in p), (s for row in packed_nll(model, [[examples[i] for i in p] for p in packs], tok.pad_token_id) for s in row)))
        for i, x in enumerate(examples):
            b = collate([x], tok.pad_token_id)
            alone = token_nll(model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits, b["labels"])[0].item()
            assert packed[i] == pytest.approx(alone, rel=1e-5), i
