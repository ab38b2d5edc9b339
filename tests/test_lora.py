"LoRA: defaults and overrides, target detection per architecture, merge equivalence, and what load_adapter refuses."
import pytest
import torch
from codex_nb.core import CheckpointError, ConfigError
from codex_nb.lora import DEFAULT_LORA, TARGETS, apply_lora, load_adapter, lora_config, merge_adapter, save_adapter, target_modules_for
from codex_nb.registry import load_model

def test_task_type_default_and_override():
    model = load_model("tiny-llama")[0]
    assert DEFAULT_LORA["task_type"] == "CAUSAL_LM"
    assert type(apply_lora(load_model("tiny-llama")[0])).__name__ == "PeftModelForCausalLM"
    assert lora_config(model, task_type="SEQ_CLS").task_type == "SEQ_CLS"
    assert type(apply_lora(load_model("tiny-llama")[0], task_type="FEATURE_EXTRACTION")).__name__ == "PeftModelForFeatureExtraction"
    with pytest.raises(ConfigError, match="did you mean CAUSAL_LM"): lora_config(model, task_type="CAUSAL")

def test_llama_targets():
    model = load_model("tiny-llama")[0]
    config = lora_config(model)
    assert sorted(config.target_modules) == ["k_proj", "o_proj", "q_proj", "v_proj"] and not config.fan_in_fan_out
    assert sorted(lora_config(model, include_mlp=True).target_modules) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]

def test_gpt2_targets_use_fan_in_fan_out():
    model = load_model("tiny-gpt2")[0]
    config = lora_config(model)
    assert sorted(config.target_modules) == ["attn.c_proj", "c_attn"] and config.fan_in_fan_out is True
    peft_model = apply_lora(model, include_mlp=True)
    adapted = sorted({n.split(".lora_A")[0].split("h.0.")[-1] for n, _ in peft_model.named_modules() if ".h.0." in n and n.endswith("lora_A")})
    assert adapted == ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]

@pytest.mark.parametrize("model_type", sorted(TARGETS))
def test_every_target_table_entry_names_real_layers(model_type):
    "Each architecture's attention and MLP names match at least one Linear/Conv1D layer of a tiny model of that type."
    from transformers import AutoConfig, AutoModelForCausalLM
    from codex_nb.lora import _adaptable_layers, _matches
    small = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
                 vocab_size=64, pad_token_id=0, bos_token_id=0, eos_token_id=0)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **small))
    layers = _adaptable_layers(model)
    for target in target_modules_for(model, include_mlp=True):
        assert any(_matches(n, target) for n in layers), (model_type, target, sorted(layers))
    assert "lm_head" not in target_modules_for(model, include_mlp=True)

def test_every_default_knob_reaches_peft():
    config = lora_config(load_model("tiny-llama")[0], use_rslora=True, use_dora=True, r=4, lora_alpha=8, lora_dropout=0.1, bias="lora_only")
    assert (config.use_rslora, config.use_dora, config.r, config.lora_alpha, config.lora_dropout, config.bias) == (True, True, 4, 8, 0.1, "lora_only")

def test_config_lora_settings_are_all_accepted():
    "Whatever fields the config's LoraSettings grows, apply_lora must accept them (the trainer passes all but init_from, its own)."
    from codex_nb.config import LoraSettings
    settings = LoraSettings().model_dump(exclude={"init_from"})
    assert lora_config(load_model("tiny-llama")[0], **settings).task_type == "CAUSAL_LM"

def test_refusals():
    model = load_model("tiny-llama")[0]
    with pytest.raises(ConfigError, match=r"unknown LoRA setting\(s\) \['lora_alpah'\]"): lora_config(model, lora_alpah=3)
    with pytest.raises(ConfigError, match="has no layer named 'c_attn'"): lora_config(model, target_modules=["c_attn"])
    with pytest.raises(ConfigError, match="include_mlp=true only applies"): lora_config(model, target_modules=["q_proj"], include_mlp=True)

@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gpt2"])
def test_merge_gives_the_same_logits(tmp_path, name):
    torch.manual_seed(0)
    model = apply_lora(load_model(name)[0], init_lora_weights=False, include_mlp=True)
    x = torch.tensor([[5, 17, 99, 3, 42]])
    with torch.no_grad(): expected = model(input_ids=x).logits
    save_adapter(model, tmp_path/"adapter")
    merge_adapter(load_adapter(load_model(name)[0], tmp_path/"adapter"), tmp_path/"merged", load_model(name)[1])
    assert not (tmp_path/"merged"/"adapter_config.json").exists()  # a plain transformers directory
    merged, _ = load_model(f"dir:{tmp_path/'merged'}")
    with torch.no_grad(): got = merged(input_ids=x).logits
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()

def test_load_adapter_refuses_a_pickle_only_adapter(tmp_path):
    save_adapter(apply_lora(load_model("tiny-llama")[0]), tmp_path/"a")
    (tmp_path/"a"/"adapter_model.safetensors").rename(tmp_path/"a"/"adapter_model.bin")
    with pytest.raises(CheckpointError, match=r"has no adapter_model.safetensors \(only the pickle adapter_model.bin\)"):
        load_adapter(load_model("tiny-llama")[0], tmp_path/"a")

def test_load_adapter_onto_the_wrong_base(tmp_path):
    save_adapter(apply_lora(load_model("tiny-gpt2")[0]), tmp_path/"a")
    with pytest.raises(CheckpointError, match="does not fit LlamaForCausalLM"): load_adapter(load_model("tiny-llama")[0], tmp_path/"a")
