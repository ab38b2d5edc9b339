"""Chat end to end: a model trained on `messages` is prompted through its chat template, stops at the end of its turn,
and is evaluated on the last answer of each test chat; with SmolLM2's own template and a tiny Qwen2 saved to a directory."""
import json
import pytest
from conftest import ROOT, assert_clean_error, run_cli, said
from codex_nb.core import CodexWarning, ConfigError, DataError
from codex_nb.config import load_config, quote
from codex_nb.data import detect_schema
from codex_nb.evaluation import (chat_prompt, end_of_turn, evaluate_run, generate, generation_stops, load_conversation,
                                 prompts_and_references, truncate_at_stops)
from codex_nb.trainer import train

BIKES = ROOT/"examples"/"chat"/"bike_repair.jsonl"
TWO_TURNS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "My chain squeaks."},
             {"role": "assistant", "content": "Clean and lube it."}, {"role": "user", "content": "It squeaks again."},
             {"role": "assistant", "content": "Check the pedals."}]

# --- SmolLM2's tokenizer and template (read from its GGUF; no weights) ---------------------------------------------

def test_smollm2_prompt_is_its_template_with_the_generation_prompt(smollm2_tokenizer):
    tok = smollm2_tokenizer
    question = [{"role": "user", "content": "My chain squeaks on every pedal stroke. What should I do?"}]
    text = chat_prompt(tok, question)
    assert text == tok.apply_chat_template(question, tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n") and "You are a helpful AI assistant named SmolLM" in text  # its default system turn
    ids = tok.apply_chat_template(question, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    assert tok(text, add_special_tokens=False)["input_ids"] == ids  # what generate_texts encodes is what the template gives
    assert end_of_turn(tok) == "<|im_end|>"
    assert generation_stops(None, tok, [], chat=True) == ([tok.convert_tokens_to_ids("<|im_end|>")], [])

def test_smollm2_multi_turn_reference_is_the_last_answer(smollm2_tokenizer):
    tok = smollm2_tokenizer
    [(prompt, reference)] = prompts_and_references(tok, [{"messages": TWO_TURNS}], "messages")
    assert reference == "Check the pedals."
    assert prompt == tok.apply_chat_template(TWO_TURNS[:4], tokenize=False, add_generation_prompt=True)
    assert "Clean and lube it." in prompt and "Check the pedals." not in prompt

# --- schema detection in a run -----------------------------------------------------------------------------------------

def test_schema_is_detected_and_an_explicit_mismatch_names_the_schema(tmp_path):
    assert detect_schema(BIKES) == "messages"
    base = ["model=tiny-llama", "training=smoke", "lora=smoke", f"data.path={BIKES}", f"output_dir={tmp_path}", "run_name=r"]
    with pytest.raises(DataError, match=r"bike_repair.jsonl:1: field 'prompt': field required.*fits schema 'messages', not 'prompt_completion'"):
        train(load_config(base + ["data.schema=prompt_completion"]), progress=False)
    with pytest.raises(DataError, match=r"no records to train on \(0 blank lines, 40 rejected.*the first rejected, .*bike_repair.jsonl:1: "
                                         r".*fits schema 'messages'"):
        train(load_config(base + ["data.schema=prompt_completion", "data.on_error=skip"]), progress=False)
    assert not (tmp_path/"r"/"adapter").exists()

# --- a tiny Qwen2 with ChatML special tokens, from a directory ---------------------------------------------------------

def chatml_tokenizer():
    "Byte-level BPE with ChatML: <|im_end|> (id 0) ends a turn, <|endoftext|> is the EOS (as in Qwen2's base tokenizer)."
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from codex_nb.registry import CHATML_TEMPLATE
    specials = ["<|im_end|>", "<|im_start|>", "<|endoftext|>"]  # id 0 first: a model whose logits are all equal picks it
    bpe = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(specials + sorted(pre_tokenizers.ByteLevel.alphabet()))}, merges=[]))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    bpe.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=1024)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tok.chat_template = CHATML_TEMPLATE
    return tok

def save_qwen2(path, silent=False):
    "A 2-layer random Qwen2 and its tokenizer in `path`; `silent`: its final norm is zero, so every logit is equal."
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    tok = chatml_tokenizer()
    config = AutoConfig.for_model("qwen2", vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=True,
                                  eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None,
                                  initializer_range=0.2)  # wider than the default 0.02: greedy answers are not all newlines
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config)
    if silent:
        with torch.no_grad(): model.model.norm.weight.zero_()
    model.save_pretrained(path); tok.save_pretrained(path)
    return path

def chat_data(path):
    "Bike chats plus a two-turn one whose last answer holds an email address (redacted in everything written)."
    lines = BIKES.read_text().splitlines()
    email = "help" + "@" + "bike-shop.example.com"
    extra = {"id": "two-turns", "messages": TWO_TURNS[:4] + [{"role": "assistant", "content": f"Check the pedals, or mail {email}."}]}
    path.write_text("\n".join(lines[:20] + [json.dumps(extra)]) + "\n")
    return path, email

def train_chat(tmp, model_dir, name, steps=3):
    data, email = chat_data(tmp/"chats.jsonl")
    overrides = [f"model.name={quote(f'dir:{model_dir}')}", "model.device=cpu", "model.dtype=float32", "training=smoke", "lora=smoke",
                 f"training.max_steps={steps}", "training.warmup_steps=0", f"data.path={quote(data)}", "data.split_ratios=[0.5,0.1,0.4]", f"output_dir={quote(tmp)}",
                 f"run_name={name}", "eval.max_new_tokens=12"]
    return train(load_config(overrides), progress=False).run_dir, email

@pytest.fixture(scope="module")
def qwen_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qwen")
    return train_chat(tmp, save_qwen2(tmp/"qwen2"), "chat"), tmp/"qwen2"

def plain_greedy(model_dir, run_dir, messages, max_new_tokens):
    "What plain transformers + peft answer on the templated prompt, greedy, stopping at EOS and <|im_end|>."
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), run_dir/"adapter").eval()
    enc = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id,
                             eos_token_id=[tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>")])
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)

def test_greedy_answer_equals_plain_transformers_on_the_templated_prompt(qwen_run):
    (run_dir, _), model_dir = qwen_run
    question = "My chain squeaks on every pedal stroke. What should I do?"
    info = json.loads((run_dir/"run.json").read_text())
    assert info["data_schema"] == {"schema": "messages", "detected": True}
    assert "schema: messages" in (run_dir/"config.yaml").read_text()
    answer = generate(run_dir, question, max_new_tokens=24)
    assert answer.strip() and answer == plain_greedy(model_dir, run_dir, [{"role": "user", "content": question}], 24)
    turns = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}]
    assert generate(run_dir, question, 24, system="Be brief.") == plain_greedy(model_dir, run_dir, turns, 24)
    stops = [answer[3:5], "zzz"]
    assert generate(run_dir, question, 24, stops=stops) == truncate_at_stops(answer, stops) != answer  # cut where a stop begins

def test_evaluation_scores_the_last_answer_of_each_chat(qwen_run):
    (run_dir, email), model_dir = qwen_run
    split = next(s for s in ("train", "val", "test") if '"two-turns"' in (run_dir/"data"/f"{s}.jsonl").read_text())
    result = evaluate_run(run_dir, split, metrics=["exact_match", "f1", "rouge_l", "bleu", "chrf"])
    assert {(r["model"], r["metric"]) for r in result.rows} >= {(m, x) for m in ("base", "final") for x in ("rouge_l", "chrf", "bleu")}
    records = [json.loads(l) for l in (run_dir/"data"/f"{split}.jsonl").read_text().splitlines()]
    samples = [json.loads(l) for l in result.samples["final"].read_text().splitlines()]
    assert [s["id"] for s in samples] == [r["id"] for r in records]  # the record's own id field
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    for s, r in zip(samples, records):
        assert set(s) >= {"id", "prompt", "output", "reference", "exact_match", "f1", "rouge_l", "bleu", "chrf", "nll", "n_tokens"}
        assert s["reference"] == r["messages"][-1]["content"]
        assert s["prompt"] == tok.apply_chat_template(r["messages"][:-1], tokenize=False, add_generation_prompt=True)
    two = next(s for s in samples if s["id"] == "two-turns")
    assert "Clean and lube it." in two["prompt"] and "Check the pedals" not in two["prompt"]  # only earlier turns
    assert email not in result.samples["final"].read_text() and "[REDACTED:email]" in two["reference"]

def test_conversation_file_and_its_errors(qwen_run, tmp_path):
    (run_dir, _), model_dir = qwen_run
    history = tmp_path/"chat.json"
    history.write_text(json.dumps({"messages": TWO_TURNS[:3]}))
    answer = generate(run_dir, "It squeaks again.", 16, messages=load_conversation(history))
    assert answer == plain_greedy(model_dir, run_dir, TWO_TURNS[:4], 16)
    with pytest.raises(ConfigError, match="ends with an assistant turn"): generate(run_dir, None, 8, messages=TWO_TURNS)
    history.write_text('[{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}]')
    with pytest.raises(DataError, match=r"chat.json: messages\[1\]: field 'role'"): load_conversation(history)
    with pytest.raises(DataError, match=r"^messages\[1\]: field 'role'"): generate(run_dir, None, 8, messages=[TWO_TURNS[1], {"role": "robot"}])
    history.write_text('[{"role": "user", "content": "hi"},')
    assert_clean_error(run_cli("generate", run_dir, "--messages", history), f"{history}:1:", "not valid JSON")

def test_empty_answer_says_why(tmp_path):
    "A model that picks <|im_end|> first answers nothing; the command prints the empty answer and a warning saying why."
    run_dir, _ = train_chat(tmp_path, save_qwen2(tmp_path/"silent-qwen2", silent=True), "silent", steps=1)
    with pytest.warns(CodexWarning, match="first token is '<\\|im_end\\|>', which ends an answer; the prompt went through the chat template"):
        assert generate(run_dir, "Hello?", 8) == ""
    with pytest.warns(CodexWarning, match="--raw sent the prompt without the chat template's assistant header"):
        assert generate(run_dir, "<|im_start|>user\nHello?<|im_end|>\n", 8, raw=True) == ""
    proc = run_cli("generate", run_dir, "Hello?", "--max-new-tokens", "8")
    assert proc.returncode == 0 and proc.stdout == "\n" and "Traceback" not in proc.stderr
    assert said(proc.stderr).startswith("warning: the answer is empty: the model's first token is '<|im_end|>'"), proc.stderr

def test_options_a_completion_run_cannot_use(smoke_run):
    with pytest.raises(ConfigError, match="trained on 'prompt_completion' records, not chats: --system and --messages need the chat template"):
        generate(smoke_run, "def f():", 4, system="Be brief.")
    with pytest.raises(ConfigError, match="--raw sends PROMPT as it is"): generate(smoke_run, "x", 4, system="a", raw=True)

def test_data_inspect_detects_the_schema(tmp_path):
    from codex_nb.trainer import inspect_data
    report = inspect_data(load_config(["model=tiny-llama", f"data.path={quote(BIKES)}"]), tmp_path)
    assert report.problem is None and report.tokenized["train"].meta["schema"] == "messages"
    assert report.tokenized["train"].counts["records"] + report.splits.counts["val"] + report.splits.counts["test"] == 40
