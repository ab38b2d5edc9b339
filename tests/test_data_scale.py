"The tokenized store at scale: batched == per-record, byte-identical across processes and chunk sizes, memory-mapped, nothing dropped in silence."
import json
import numpy as np
import pytest
from codex_nb.core import DataError
from codex_nb.data import (IGNORE_INDEX, build_tokenized_store, check_tokenized, humaneval_records, tokenize_batch, tokenize_jsonl,
                           tokenize_record, write_jsonl)
from codex_nb.registry import byte_tokenizer

CHATS = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"},
          {"role": "user", "content": "Und 3+3? Ünïcödé 中文"}, {"role": "assistant", "content": "6, natürlich."}],
         [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}],
         [{"role": "user", "content": "long " * 300}, {"role": "assistant", "content": "cut away"}]]

def edge_records(eos_text):
    return [{"prompt": "", "completion": ""}, {"prompt": "def f():", "completion": " return 1" + eos_text},
            {"prompt": "Ünïcödé 中文 🙂", "completion": " naïve café"}, {"prompt": "x " * 400, "completion": "y " * 400}]

def test_batched_equals_per_record_with_a_real_bpe_tokenizer(smollm2_tokenizer):
    tok = smollm2_tokenizer
    cases = [(humaneval_records(), "prompt_completion", 512), (edge_records(tok.eos_token), "prompt_completion", 256),
             ([{"messages": c} for c in CHATS], "messages", 512), ([{"messages": c} for c in CHATS], "messages", 40),
             ([{"text": "Ünïcödé"}, {"text": ""}, {"text": "word " * 600}], "text", 128)]
    for records, schema, max_length in cases:
        batched = [x for x, _ in tokenize_batch(tok, records, max_length, schema)]
        assert batched == [tokenize_record(tok, r, max_length, schema) for r in records], (schema, max_length)
    one_eos = tokenize_record(tok, edge_records(tok.eos_token)[1], 256)
    assert one_eos["labels"].count(tok.eos_token_id) == 1 and one_eos["labels"][-1] == tok.eos_token_id

def test_two_assistant_turns_are_both_trained(smollm2_tokenizer):
    x = tokenize_record(smollm2_tokenizer, {"messages": CHATS[0]}, 512, "messages")
    trained = smollm2_tokenizer.decode([t for t, l in zip(x["input_ids"], x["labels"]) if l != IGNORE_INDEX])
    assert trained == "4<|im_end|>\n6, natürlich.<|im_end|>\n"

def test_store_is_byte_identical_across_processes_and_chunk_sizes(tmp_path):
    "Chats (the schema tokenized in worker processes): 1 process or 3, any chunk size, the same bytes."
    tok = byte_tokenizer()
    tok.chat_template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
    he = humaneval_records()
    chats = [{"messages": [{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": r["completion"]}]} for r in he]
    big = write_jsonl(chats * 70, tmp_path/"big.jsonl")  # 11,480 records, 8.6 MB
    assert big.stat().st_size >= 8 << 20
    one = build_tokenized_store(big, tmp_path/"one", tok, 256, "messages", num_proc=1, chunk_size=1000)
    three = build_tokenized_store(big, tmp_path/"three", tok, 256, "messages", num_proc=3, chunk_size=7)
    for name in ("input_ids.i32", "labels.i32", "offsets.i64", "trained.i32", "records.i64"):
        assert (tmp_path/"one"/name).read_bytes() == (tmp_path/"three"/name).read_bytes(), name
    assert one.counts == three.counts and one.counts["records"] == 11480
    assert not list(tmp_path.glob("three/part*"))  # the parts are joined and removed

def test_store_reads_memory_mapped_arrays(tmp_path):
    tok = byte_tokenizer()
    store = tokenize_jsonl(write_jsonl(humaneval_records()[:20], tmp_path/"he.jsonl"), tok, 512, cache=False)
    assert isinstance(store.input_ids, np.memmap) and isinstance(store.offsets, np.memmap)
    assert store.lengths.dtype == np.int64 and store.trained_counts.dtype == np.int32
    assert int(store.offsets[-1]) == store.counts["tokens"] == int(store.lengths.sum())
    x = store[3]
    assert np.shares_memory(x["input_ids"], store.input_ids)  # a view, not a copy
    assert store.trained_counts[3] == int((x["labels"][1:] != IGNORE_INDEX).sum())
    assert store.record_index.tolist() == list(range(20))

def test_dropped_and_truncated_are_counted_and_named(tmp_path):
    tok = byte_tokenizer()
    tok.chat_template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
    records = ([{"messages": [{"role": "user", "content": "x" * 100}, {"role": "assistant", "content": "late"}]}] * 2
               + [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello " * 20}]}]
               + [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}] * 7)
    path = write_jsonl(records, tmp_path/"chats.jsonl")
    store = build_tokenized_store(path, tmp_path/"s", tok, 64, "messages")
    c = store.counts
    assert (c["records"], c["examples"], c["dropped"]["all_trained_tokens_cut"], c["truncated"]) == (10, 8, 2, 1)
    assert [d["where"] for d in c["dropped_examples"]] == [f"{path}:1", f"{path}:2"]
    assert store.record_index.tolist() == list(range(2, 10))
    with pytest.raises(DataError, match=r"2 of 10 examples \(20.0%\) lose every trained token to data.max_length=64"):
        check_tokenized(store, tok.eos_token_id, 0.01, what="chats.jsonl")
    notice = check_tokenized(store, tok.eos_token_id, 0.5, what="chats.jsonl")
    assert "2 of 10 examples dropped" in notice and "1 cut at data.max_length=64 but still trained (longest 147 tokens)" in notice

def test_an_empty_assistant_mask_fails_the_audit(tmp_path):
    tok = byte_tokenizer()
    tok.chat_template = "{% for m in messages %}{% if m['role'] != 'assistant' %}{{ m['content'] }}{% endif %}{% endfor %}"
    path = write_jsonl([{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}], tmp_path/"c.jsonl")
    store = build_tokenized_store(path, tmp_path/"s", tok, 64, "messages")
    with pytest.raises(DataError, match=r"c.jsonl:1: the example has no token to train on"):
        check_tokenized(store, tok.eos_token_id)

def test_train_records_tokenized_counts(smoke_run):
    info = json.loads((smoke_run/"run.json").read_text())
    train = info["data_counts"]["tokenized"]["train"]
    assert train["records"] == info["data"]["train"]["records"] and train["examples"] + sum(train["dropped"].values()) == train["records"]
    # smoke data: max_length 128 cuts all 32 HumanEval examples, and 20 of them lose their EOS
    assert (train["examples"], train["truncated"], train["eos_trained"]) == (32, 32, 12)

def test_parallel_split_redacts_like_the_serial_one(tmp_path):
    "Redaction travels to the workers of a parallel split: the same files and the same findings as one process."
    from codex_nb.data import split_jsonl
    from codex_nb.safety import SafetyFilters
    rows = [{"prompt": f"ticket {i}: mail user{i}@example.com" if i % 7 == 0 else f"ticket {i}", "completion": "x" * 2000} for i in range(4500)]
    src = write_jsonl(rows, tmp_path/"tickets.jsonl")
    assert src.stat().st_size >= 8 << 20
    out = {}
    for workers in (1, 3):
        redactor, findings = SafetyFilters().record_transform(str(src))
        split_jsonl(src, tmp_path/f"w{workers}", workers=workers, transform=redactor)
        out[workers] = ([(tmp_path/f"w{workers}"/f"{s}.jsonl").read_bytes() for s in ("train", "val", "test")], dict(findings))
    assert out[1] == out[3] and out[1][1] == {"email": 643}
    assert b"@example.com" not in b"".join(out[3][0])

def test_data_inspect_shows_examples_summary_and_audit(tmp_path):
    from conftest import assert_clean_error, run_cli
    data = write_jsonl(humaneval_records()[:30], tmp_path/"he.jsonl")
    ok = run_cli("data", "inspect", data, "model=tiny-llama", "data.max_length=128", "--examples", "1", "--max-tokens", "40")
    assert ok.returncode == 0, ok.stderr
    assert "train example 1 of 23: 128 tokens" in ok.stdout and "... (88 more tokens)" in ok.stdout
    assert "data: 30 records: train 23, val 3, test 4" in ok.stdout and "23 cut at max_length=128" in ok.stdout
    assert ok.stdout.rstrip().endswith("label audit: ok")
    bad = run_cli("data", "inspect", data, "model=tiny-llama", "data.max_length=20", "--examples", "0")
    assert_clean_error(bad, "label audit:", "the EOS token (id 256) is never trained", "(its train split)")
    assert "tokens (train): 23 examples" in bad.stdout  # the summary comes first, then the refusal

def test_data_inspect_reads_your_config_file(tmp_path):
    "`data inspect my_run.yaml`: the data, max_length and model that the config file names, as train would use them."
    from conftest import run_cli
    data = write_jsonl(humaneval_records()[:30], tmp_path/"he.jsonl")
    mine = tmp_path/"my_run.yaml"
    mine.write_text(f"model: tiny-llama\ndata:\n  path: {data}\n  max_length: 128\n")
    ok = run_cli("data", "inspect", mine, "--examples", "1", "--max-tokens", "40")
    assert ok.returncode == 0, ok.stderr
    assert "tokenizer: tiny-llama" in ok.stdout and "data: 30 records: train 23, val 3, test 4" in ok.stdout
    assert "23 cut at max_length=128" in ok.stdout
    assert "23 cut at max_length=64" in run_cli("data", "inspect", mine, "data.max_length=64", "--examples", "0").stdout  # overrides win
