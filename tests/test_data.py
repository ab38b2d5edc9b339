"Property and malformed-input tests of codex_nb.data: splits never lose or duplicate a record, never depend on the hash seed; exact error messages."
import collections, gzip, json, os, subprocess, sys, tempfile, warnings
from pathlib import Path
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from codex_nb.core import DataError
from codex_nb.data import (SPLITS, ReadStats, build_manifest, check_ratios, load_records, read_jsonl, record_at, save_manifest,
                           split_jsonl, split_key, tokenize_jsonl, tokenize_records, to_dataset, verify_manifest, write_jsonl)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)  # any Unicode but lone surrogates (not valid UTF-8)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=6)
records = st.dictionaries(text, values, max_size=4)
weights = st.tuples(*[st.integers(0, 5)] * 3).filter(any)

def ratios_of(w): return tuple(x / sum(w) for x in w)
def dumps(r): return json.dumps(r, ensure_ascii=False)
class quiet(warnings.catch_warnings):
    "Silence the warning a read with on_error='skip' gives (the tests check the counts instead)."
    def __enter__(self):
        super().__enter__(); warnings.simplefilter("ignore")

# --- splits: nothing lost, nothing duplicated, keys kept together ---

@SETTINGS
@given(st.lists(records, max_size=25), weights, st.integers(0, 2**64), st.booleans())
def test_split_keeps_every_record_once(recs, w, seed, by_key):
    recs = [dict(r, group=i % 4) for i, r in enumerate(recs)] if by_key else recs
    key = "group" if by_key else None
    with tempfile.TemporaryDirectory() as d:
        src = write_jsonl(recs, Path(d)/"in.jsonl")
        sp = split_jsonl(src, Path(d)/"out", ratios_of(w), seed, key)
        lines = {s: sp[s].read_bytes().decode("utf-8").split("\n")[:-1] for s in SPLITS}  # not splitlines: it splits at U+0085 too
    assert collections.Counter(l for s in SPLITS for l in lines[s]) == collections.Counter(map(dumps, recs))
    assert [sp.counts[s] for s in SPLITS] == [len(lines[s]) for s in SPLITS]
    assert sp.counts["total"] == len(recs) and sp.counts["dropped"] == sp.counts["rejected"] == 0
    bounds = (ratios_of(w)[0], ratios_of(w)[0] + ratios_of(w)[1])
    for s in SPLITS:  # each record sits where its keyed hash puts it, so a key's records are together
        for line in lines[s]:
            u = split_key(json.loads(line), key, seed)
            assert s == ("train" if u < bounds[0] else "val" if u < bounds[1] else "test")
    if w[1] == 0: assert lines["val"] == []

@SETTINGS
@given(st.lists(records, min_size=1, max_size=10), st.integers(0, 2**32), st.integers(1, 12))
def test_split_limit_and_transform_account_for_every_record(recs, seed, limit):
    with tempfile.TemporaryDirectory() as d:
        src = write_jsonl(recs, Path(d)/"in.jsonl")
        drop = lambda r: None if len(r) % 2 else r
        sp = split_jsonl(src, Path(d)/"out", (0.5, 0.25, 0.25), seed, transform=drop, limit=limit)
    used = recs[:limit]
    assert sp.counts["total"] == len(used)
    assert sp.counts["dropped"] == sum(len(r) % 2 == 1 for r in used)
    assert sum(sp.counts[s] for s in SPLITS) + sp.counts["dropped"] == len(used)

@SETTINGS
@given(records, st.integers(0, 2**64))
def test_split_key_ignores_field_order(record, seed):
    assert split_key(dict(reversed(list(record.items()))), None, seed) == split_key(record, None, seed)

@SETTINGS
@given(records, st.integers(0, 2**64), st.booleans())
def test_split_key_is_the_documented_hash(record, seed, by_key):
    "The contract, written out independently: blake2b(f'{seed}\\x00{json.dumps(value, sort_keys=True, ensure_ascii=False)}', 8 bytes) / 2**64."
    import hashlib
    record = dict(record, id=record) if by_key else record
    value = record["id"] if by_key else record
    text = f"{seed}\x00{json.dumps(value, sort_keys=True, ensure_ascii=False)}"
    expected = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") / 2**64
    assert split_key(record, "id" if by_key else None, seed) == expected

def test_split_hash_is_pinned():
    "Existing runs depend on these exact values: the hash must never change."
    assert split_key({"task_id": "HumanEval/0", "prompt": "p"}, "task_id", 0) == 0.19161040425337025
    assert split_key({"task_id": "HumanEval/0", "prompt": "p"}, None, 0) == 0.7573105756093698
    assert split_key({"prompt": "é", "completion": "x", "n": [1, {"b": 2, "a": 1}]}, None, 7) == 0.15242030771415468
    assert split_key({"id": 3}, "id", 123456789) == 0.8848683389731118

_CHILD = """
import sys, json
from codex_nb.data import split_jsonl, SPLITS
sp = split_jsonl(sys.argv[1], sys.argv[2], (0.5, 0.3, 0.2), seed=11, key=None)
print(json.dumps({s: sp[s].read_text(encoding="utf-8") for s in SPLITS}))
"""

def test_split_same_in_subprocess_with_other_hash_seed(tmp_path):
    import random
    rng = random.Random(5)
    recs = [{"id": i, "text": "".join(rng.choice("abcé€😀 \n\"\\") for _ in range(rng.randint(0, 12))),
             "tags": {rng.choice("xyz"): rng.random(), "n": None}, "set": sorted(rng.sample(range(50), 3))} for i in range(300)]
    src = write_jsonl(recs, tmp_path/"in.jsonl")
    here = split_jsonl(src, tmp_path/"here", (0.5, 0.3, 0.2), seed=11)
    expected = {s: here[s].read_text(encoding="utf-8") for s in SPLITS}
    assert all(expected.values())
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(src), str(tmp_path/f"out{hash_seed}")], capture_output=True,
                              text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == expected

def _peak_rss_mb(src, out) -> float:
    code = ("import resource, sys\nfrom codex_nb.data import split_jsonl\nsplit_jsonl(sys.argv[1], sys.argv[2], key='id')\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    proc = subprocess.run([sys.executable, "-c", code, str(src), str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return float(proc.stdout)

def test_split_memory_does_not_grow_with_file_size(tmp_path):
    def make(n):
        return write_jsonl(({"id": i, "prompt": "p" * 400, "completion": str(i)} for i in range(n)), tmp_path/f"{n}.jsonl")
    small, large = _peak_rss_mb(make(5_000), tmp_path/"s"), _peak_rss_mb(make(50_000), tmp_path/"l")  # 2 MB vs 21 MB of data
    assert large - small < 8, (small, large)

# --- ratios: exact messages ---

finite = st.floats(-2, 2, allow_nan=False)

@SETTINGS
@given(st.tuples(finite, finite, finite))
def test_ratio_errors_are_exact(r):
    as_read = tuple(float(x) for x in r)
    if any(x < 0 for x in r): expected = f"ratios {as_read}: a ratio is negative\n  hint: each ratio must be >= 0"
    elif abs(sum(r) - 1) > 1e-6: expected = f"ratios {as_read} sum to {sum(as_read):g}, not 1\n  hint: make them add up to 1"
    else:
        assert check_ratios(r) == as_read
        return
    with pytest.raises(DataError) as e: check_ratios(r)
    assert str(e.value) == expected

@SETTINGS
@given(st.lists(finite, max_size=6).filter(lambda r: len(r) != 3))
def test_ratio_count_error_is_exact(r):
    with pytest.raises(DataError) as e: check_ratios(r)
    assert str(e.value) == f"ratios {tuple(r)}: need three numbers (train, val, test)\n  hint: e.g. --ratios 0.8,0.1,0.1"

@pytest.mark.parametrize("r, shown", [((float("nan"), 0.5, 0.5), "(nan, 0.5, 0.5)"), ((float("inf"), 0, 0), "(inf, 0.0, 0.0)")])
def test_ratio_not_finite(r, shown):
    with pytest.raises(DataError) as e: check_ratios(r)
    assert str(e.value) == f"ratios {shown}: a ratio is not a finite number\n  hint: each ratio must be a number between 0 and 1"

def test_ratios_not_numbers():
    with pytest.raises(DataError) as e: check_ratios(["a", "b", "c"])
    assert str(e.value) == "ratios ['a', 'b', 'c']: need three numbers (train, val, test)\n  hint: e.g. --ratios 0.8,0.1,0.1"

def test_split_rejects_bad_ratios_before_writing(tmp_path):
    src = write_jsonl([{"a": 1}], tmp_path/"in.jsonl")
    with pytest.raises(DataError, match=r"sum to 1.1, not 1"): split_jsonl(src, tmp_path/"out", (0.8, 0.1, 0.2))
    assert not (tmp_path/"out").exists()

# --- malformed input: one case each, exact message ---

HINT = ("\n  hint: fix or delete that line (each line must be one JSON object), or skip bad lines: data.on_error=skip (train), "
        "--on-error skip (split), on_error='skip' (Python)")
MALFORMED = [
    (b'{"a": 1}\n{"a" 2}\n', "2:6: not valid JSON (Expecting ':' delimiter); the line starts: '{\"a\" 2}'"),
    (b'{"a": 1}\n{"a": "\xc3\xa9\xff"}\n', "2:9: not valid UTF-8; the line starts: '{\"a\": \"é\ufffd\"}'"),
    (b'"just a string"\n', "1:1: expected a JSON object, got str; the line starts: '\"just a string\"'"),
    (b'{"a": 1}\r\n\r\n{"a": 1} {"b": 2}\r\n', "3:10: not valid JSON (Extra data); the line starts: '{\"a\": 1} {\"b\": 2}'"),
    (b'{"a": 1}\n\xef\xbb\xbf{"a": 2}\n', "2:1: not valid JSON (Unexpected UTF-8 BOM (decode using utf-8-sig)); the line starts: '\\ufeff{\"a\": 2}'"),
    (b'{"k": "' + b"y" * 100 + b'"}\n{"k": ' + b"z" * 100 + b'}\n',
     "2:7: not valid JSON (Expecting value); the line starts: '{\"k\": " + "z" * 74 + "'"),
]

@pytest.mark.parametrize("content, message", MALFORMED)
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_malformed_line_message(tmp_path, content, message, suffix):
    p = tmp_path/f"bad{suffix}"
    p.write_bytes(gzip.compress(content) if suffix.endswith(".gz") else content)
    with pytest.raises(DataError) as e: list(read_jsonl(p))
    assert str(e.value) == f"{p}:{message}{HINT}"

def test_schema_violation_messages(tmp_path):
    p = write_jsonl([{"prompt": "a", "completion": "b"}, {"prompt": 1, "completion": "b", "x": 2}], tmp_path/"pc.jsonl")
    with pytest.raises(DataError) as e: load_records(p)
    assert str(e.value) == f"{p}:2: field 'prompt': input should be a valid string\n  hint: each record needs string fields 'prompt' and 'completion'"
    chat = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant"}]}]
    with pytest.raises(DataError) as e: load_records(write_jsonl(chat, tmp_path/"m.jsonl"), schema="messages")
    assert str(e.value).startswith(f"{tmp_path/'m.jsonl'}:1: field 'messages.1.content': field required\n  hint: each record needs 'messages'")
    with pytest.raises(DataError) as e: load_records(write_jsonl([{"text": None}], tmp_path/"t.jsonl"), schema="text")
    assert str(e.value) == f"{tmp_path/'t.jsonl'}:1: field 'text': input should be a valid string\n  hint: each record needs a string field 'text'"

def test_gzip_bom_crlf_blank(tmp_path):
    p = tmp_path/"x.jsonl.gz"
    p.write_bytes(gzip.compress(b'\xef\xbb\xbf{"prompt": "a", "completion": "b"}\r\n \t\r\n\r\n{"prompt": "\xc3\xa9", "completion": "c"}'))
    stats = ReadStats()
    assert [r["prompt"] for r in load_records(p, stats=stats)] == ["a", "é"]
    assert (stats.lines, stats.records, stats.blank, stats.rejected) == (4, 2, 2, 0)

@SETTINGS
@given(st.lists(st.one_of(records.map(lambda r: dumps(r).encode()), st.sampled_from([b"", b"  ", b"{", b"[1]", b"\xff", b'{"a": nul}'])),
                max_size=20))
def test_skip_accounts_for_every_line(lines):
    with tempfile.TemporaryDirectory() as d, quiet():
        p = Path(d)/"in.jsonl"
        p.write_bytes(b"".join(l + b"\n" for l in lines))
        stats = ReadStats()
        good = list(read_jsonl(p, on_error="skip", stats=stats))
        rejected = [json.loads(l) for l in stats.rejects.read_bytes().decode("utf-8").split("\n")[:-1]]
    assert stats.lines == len(lines) == stats.records + stats.blank + stats.rejected
    assert len(rejected) == stats.rejected and len(good) == stats.records
    assert stats.blank == sum(not l.strip() for l in lines)
    assert [r["where"].split(":")[-2] for r in rejected] == [str(i + 1) for i, l in enumerate(lines)
                                                             if l.strip() and l not in {dumps(x).encode() for x in good}]

def test_split_skip_writes_rejects_and_counts(tmp_path):
    src = tmp_path/"in.jsonl"
    src.write_text('{"id": 1, "prompt": "a", "completion": "b"}\nnot json\n{"id": 2, "prompt": "a"}\n{"prompt": "a", "completion": "b"}\n')
    with pytest.raises(DataError, match="in.jsonl:2:1: not valid JSON"): split_jsonl(src, tmp_path/"a", key="id", schema="prompt_completion")
    with quiet(): sp = split_jsonl(src, tmp_path/"a", key="id", schema="prompt_completion", on_error="skip")
    assert (sp.counts["total"], sp.counts["rejected"]) == (1, 3)
    rejects = [json.loads(l) for l in (tmp_path/"a"/"rejects.jsonl").read_text().splitlines()]
    assert [(r["where"], r["reason"]) for r in rejects] == [
        (f"{src}:2:1", "not valid JSON (Expecting value)"), (f"{src}:3", "field 'completion': field required"),
        (f"{src}:4", "record has no field 'id' to split by")]

def test_skip_warns_with_the_count(tmp_path):
    p = tmp_path/"in.jsonl"
    p.write_text('{"a": 1}\n{\n')
    with pytest.warns(UserWarning, match=r"skipped 1 bad line\(s\), written to .*in.jsonl.rejects.jsonl"):
        assert list(read_jsonl(p, on_error="skip")) == [{"a": 1}]

# --- manifests ---

@SETTINGS
@given(st.data())
def test_verify_manifest_detects_any_byte_change(data):
    with tempfile.TemporaryDirectory() as d:
        p = write_jsonl([{"prompt": "p" * i, "completion": "c"} for i in range(5)], Path(d)/"m.jsonl")
        save_manifest(build_manifest(p))
        content = bytearray(p.read_bytes())
        i = data.draw(st.integers(0, len(content) - 1))
        new = data.draw(st.integers(0, 255))
        assume(new != content[i])
        content[i] = new
        p.write_bytes(bytes(content))
        with pytest.raises(DataError, match="changed since its manifest was written"): verify_manifest(p)

@SETTINGS
@given(st.integers(1, 30), st.integers(1, 8), st.data())
def test_record_at_with_sparse_offsets(n, every, data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)/"m.jsonl"
        p.write_bytes(b"".join(b'{"i": %d}\r\n' % i + (b"\n" if i % 3 == 0 else b"") for i in range(n)))
        m = build_manifest(p, offset_every=every)
        assert (m.records, len(m.offsets), m.blank_lines) == (n, -(-n // every), -(-n // 3))
        i = data.draw(st.integers(0, n - 1))
        assert record_at(m, i) == {"i": i}

# --- tokenized cache and datasets ---

def test_tokenized_cache_is_never_stale(tmp_path, monkeypatch):
    from codex_nb.registry import byte_tokenizer
    monkeypatch.setenv("CODEX_NB_CACHE", str(tmp_path/"cache"))
    tok = byte_tokenizer()
    p = write_jsonl([{"prompt": "ab", "completion": "cd"}], tmp_path/"d.jsonl")
    first = tokenize_jsonl(p, tok, 64)
    stat = p.stat()
    write_jsonl([{"prompt": "ab", "completion": "ce"}], p)  # same size...
    os.utime(p, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ...and same mtime: only the content differs
    second = tokenize_jsonl(p, tok, 64)
    assert second.to_list() != first.to_list() and second.to_list() == tokenize_records([{"prompt": "ab", "completion": "ce"}], tok, 64)
    assert len([d for d in (tmp_path/"cache"/"tokenized").iterdir() if (d/"meta.json").exists()]) == 2
    assert tokenize_jsonl(p, tok, 8).to_list() == tokenize_records([{"prompt": "ab", "completion": "ce"}], tok, 8)

def test_messages_with_smollm2_template(smollm2_tokenizer):
    from codex_nb.data import IGNORE_INDEX, chat_segments, tokenize_messages
    tok = smollm2_tokenizer
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"},
            {"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}]
    segments, every_turn = chat_segments(tok, chat)
    assert every_turn and [s for s, t in segments if t] == ["4<|im_end|>\n", "6<|im_end|>\n"]
    x = tokenize_messages(tok, chat)
    assert x["input_ids"] == tok.apply_chat_template(chat, tokenize=True, return_dict=True)["input_ids"]  # segment-wise == whole here
    trained = [i for i, l in zip(x["input_ids"], x["labels"]) if l != IGNORE_INDEX]
    assert tok.decode(trained) == "4<|im_end|>\n6<|im_end|>\n"

def test_dataset_round_trip(tmp_path):
    recs = [{"prompt": "a", "completion": "b"}, {"prompt": "c", "completion": "d", "meta": {"k": 1}}]
    ds = to_dataset(recs)
    assert ds.column_names == ["prompt", "completion", "meta"]
    p = write_jsonl(ds, tmp_path/"out.jsonl")
    assert list(read_jsonl(p)) == [{"prompt": "a", "completion": "b", "meta": None}, recs[1]]
    sp = split_jsonl(p, tmp_path/"splits", seed=0)
    assert sum(to_dataset(sp[s]).num_rows if sp.counts[s] else 0 for s in SPLITS) == 2

# --- parallel split: byte for byte the sequential one ---

def test_parallel_split_is_identical(tmp_path, monkeypatch):
    import codex_nb.data as data
    monkeypatch.setattr(data, "_PARALLEL_MIN_BYTES", 0)
    lines = [dumps({"id": i % 50, "t": "é€\u2028" * (i % 5)}).encode() for i in range(2000)]
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    lines[700], lines[701], lines[1500], lines[1800] = b"", b"  \t", b'{"id": ', b'{"other": 2}'
    src = tmp_path/"in.jsonl"
    src.write_bytes(b"\r\n".join(lines))  # CRLF, no final line end
    def run(workers, **kw):
        out = tmp_path/f"out{workers}{sorted(kw)}"
        with quiet(): sp = split_jsonl(src, out, (0.5, 0.3, 0.2), 9, on_error="skip", workers=workers, **kw)
        return [sp[s].read_bytes() for s in SPLITS], sp.counts, (out/"rejects.jsonl").read_bytes()
    for kw in ({}, {"key": "id"}):
        expected = run(1, **kw)
        assert expected[1]["rejected"] == (2 if kw else 1) and expected[1]["blank"] == 2
        for workers in (2, 3, 7): assert run(workers, **kw) == expected
    assert len(data._line_ranges(src, 7)) == 7
    with pytest.raises(DataError) as e: split_jsonl(src, tmp_path/"raise", key="id", workers=3)
    assert str(e.value).startswith(f"{src}:1501:8: not valid JSON (Expecting value)")
