"""Training throughput, codex-nb vs TRL's SFTTrainer, measured side by side in one run.

Same model (SmolLM2-135M-Instruct, float32 weights from the same cached copy), same LoRA (r=8, alpha=16, dropout 0.05,
q_proj and v_proj), same data, max_length 512, 4 rows per step, learning rate 2e-4. Data (`--data`): `humaneval`,
HumanEval's train split from codex-nb's keyed split (seed 0); or `mixed`, 400 synthetic records, half about 64
tokens and half about 512 tokens long, seeded: the case packing is for. Each trainer runs in its own subprocess; the first `--skip` steps (warm-up) are
not counted. The figure is input tokens per second: non-padding tokens (prompt and completion) fed through the model.

Variants:
- codex: `codex_nb.trainer.train` with its defaults (length-grouped batches, completion-only loss, labelled-only logits).
- codex_packed: the same with `data.packing=true` (several examples per 512-token row, attention kept per example).
- trl_best: SFTTrainer tuned for this CPU: bf16=False (no native bf16 here), gradient_checkpointing=False.
- trl_packed: as trl_best with packing (packing_strategy="wrapped": no padding at all, examples share windows).
- trl_defaults: SFTTrainer's defaults on CPU (use_cpu=True: bf16 autocast and gradient checkpointing on); fewer steps.
- bare: a bare forward/backward/AdamW loop over full-length random 4 x 512 batches with the same LoRA: the practical
  limit of this machine (no padding, no data pipeline, no logging).
codex and trl_best alternate (A B A B) and each keeps its best repeat, so load on the machine affects both alike.

Usage: python bench/bench_trainer_throughput.py [--steps 6] [--skip 1] [--default-steps 3] [--repeats 2]
"""
import argparse, json, os, subprocess, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result

LORA = dict(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["q_proj", "v_proj"])

CODEX = """
import json, sys
from codex_nb.config import load_config
from codex_nb.trainer import train
out, steps, data, packing = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
cfg = load_config([f"output_dir={out}", "run_name=codex", f"data.packing={packing}",
                   *([f"data.path={data}", "data.split_ratios=[0.9,0.05,0.05]"] if data != "humaneval" else []), "lora.r=8", "lora.lora_alpha=16", "lora.lora_dropout=0.05",
                   "lora.target_modules=[q_proj,v_proj]", "data.max_length=512", "training.per_device_train_batch_size=4",
                   "training.gradient_accumulation_steps=1", f"training.max_steps={steps}", "training.warmup_steps=0",
                   "training.learning_rate=2e-4", "training.eval_every=null", "training.save_every=null", "model.device=cpu"])
train(cfg, progress=False)
rows = [json.loads(l) for l in open(f"{out}/codex/metrics.ndjson") if '"step_time_s"' in l]
print("RESULT " + json.dumps([dict(tokens=r["input_tokens_per_s"] * r["step_time_s"], seconds=r["step_time_s"],
                                   padding=r["padding_fraction"]) for r in rows]))
"""

TRL = """
import json, sys, time
from codex_nb.data import load_records
from codex_nb.registry import load_model
import datasets
from peft import LoraConfig
from transformers import TrainerCallback
from trl import SFTConfig, SFTTrainer
train_path, out, steps, variant = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
model, tok = load_model("smollm2-135m-instruct", device="cpu", dtype="float32")
records = [dict(prompt=r["prompt"], completion=r["completion"]) for r in load_records(train_path)]
common = dict(output_dir=out, use_cpu=True, per_device_train_batch_size=4, max_length=512, max_steps=steps, logging_steps=1,
              save_strategy="no", report_to=[], learning_rate=2e-4, dataset_num_proc=1, seed=0)
extra = {"trl_best": dict(bf16=False, gradient_checkpointing=False),
         "trl_packed": dict(bf16=False, gradient_checkpointing=False, packing=True, packing_strategy="wrapped"),
         "trl_defaults": {}}[variant]
times, tokens, padded = [], [], []
class Clock(TrainerCallback):
    def on_step_begin(self, args, state, control, **kw): self.t = time.perf_counter()
    def on_step_end(self, args, state, control, **kw): times.append(time.perf_counter() - self.t)
trainer = SFTTrainer(model=model, args=SFTConfig(**common, **extra), train_dataset=datasets.Dataset.from_list(records),
                     processing_class=tok, peft_config=LoraConfig(task_type="CAUSAL_LM", **%s), callbacks=[Clock()])
collate = trainer.data_collator
def counting(examples):
    batch = collate(examples)
    mask = batch.get("attention_mask")
    real = int(mask.sum()) if mask is not None else int(batch["input_ids"].numel())
    tokens.append(real); padded.append(int(batch["input_ids"].numel()))
    return batch
trainer.data_collator = counting
trainer.train()
print("RESULT " + json.dumps([dict(tokens=t, seconds=s, padding=1 - t / p) for t, s, p in zip(tokens, times, padded)]))
""" % (LORA,)

BARE = """
import json, sys, time, torch
from peft import LoraConfig, get_peft_model
from codex_nb.registry import load_model
steps = int(sys.argv[1])
torch.manual_seed(0)
model, tok = load_model("smollm2-135m-instruct", device="cpu", dtype="float32")
model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **%s)).train()
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
rows = []
for _ in range(steps):  # full-length random batches: no padding, no data pipeline, nothing but the model
    x = torch.randint(0, model.config.vocab_size, (4, 512))
    t = time.perf_counter()
    model(input_ids=x, labels=x).loss.backward(); optimizer.step(); optimizer.zero_grad()
    rows.append(dict(tokens=x.numel(), seconds=time.perf_counter() - t, padding=0.0))
print("RESULT " + json.dumps(rows))
""" % (LORA,)

def run(code, *args, timeout=3600):
    env = {**os.environ, "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    if proc.returncode or not lines: return dict(error=(proc.stderr.strip().splitlines() or ["no output"])[-1][:300])
    return dict(steps=json.loads(lines[-1][7:]))

def throughput(result, skip):
    if "error" in result: return None
    steps = result["steps"][skip:]
    return dict(tokens_per_s=round(sum(s["tokens"] for s in steps) / sum(s["seconds"] for s in steps), 1),
                padding_fraction=round(sum(s["padding"] for s in steps) / len(steps), 4),
                seconds_per_step=round(sum(s["seconds"] for s in steps) / len(steps), 2), steps_counted=len(steps))

def mixed_corpus(path:Path, n:int=400, seed:int=0) -> Path:
    "`n` prompt/completion records, half of about 64 tokens and half of about 512 (SmolLM2 tokens), seeded."
    import random
    words = ("the a of to in is for return value list string int float dict key index count sum max min sort filter map "
             "def self node tree graph path edge weight result total number items text line file open read write").split()
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            size = 45 if i % 2 else 380  # words; about 1.35 tokens each
            w = rng.choices(words, k=size)
            f.write(json.dumps(dict(id=i, prompt=" ".join(w[:size // 3]), completion=" " + " ".join(w[size // 3:]))) + "\n")
    return path

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--skip", type=int, default=1)
    ap.add_argument("--default-steps", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--variants", default="codex,codex_packed,trl_best,trl_packed,trl_defaults,bare")
    ap.add_argument("--data", default="humaneval", choices=["humaneval", "mixed"])
    ap.add_argument("--name", default="trainer_throughput", help="Result file name under bench/results/")
    args = ap.parse_args()
    from codex_nb.data import humaneval_records, split_jsonl, write_jsonl
    work = Path(tempfile.mkdtemp(prefix="bench_train_"))
    if args.data == "humaneval":
        source, data = write_jsonl(humaneval_records(), work/"he.jsonl"), "humaneval"
        splits = split_jsonl(source, work/"splits", seed=0, key="task_id")
    else:  # the same split codex makes from data.path with split_ratios 0.9/0.05/0.05 and no key
        source = data = mixed_corpus(work/"mixed.jsonl")
        splits = split_jsonl(source, work/"splits", (0.9, 0.05, 0.05), seed=0)
    variants = args.variants.split(",")
    best, errors = {}, {}
    def record(name, result):
        t = throughput(result, args.skip)
        if t is None: errors[name] = result["error"]; return
        if name not in best or t["tokens_per_s"] > best[name]["tokens_per_s"]: best[name] = t
    for rep in range(args.repeats):  # alternate so that load on the machine hits both alike
        if "codex" in variants: record("codex", run(CODEX, work/f"codex{rep}", args.steps, data, "false"))
        if "codex_packed" in variants: record("codex_packed", run(CODEX, work/f"codexp{rep}", args.steps, data, "true"))
        if "trl_best" in variants: record("trl_best", run(TRL, splits.train, work/f"trl{rep}", args.steps, "trl_best"))
        if "bare" in variants: record("bare", run(BARE, args.steps))
    for name, steps in (("trl_packed", args.steps), ("trl_defaults", args.default_steps)):
        if name in variants: record(name, run(TRL, splits.train, work/name, steps, name))
    figures = {name: t for name, t in best.items()}
    trl = [best[n]["tokens_per_s"] for n in ("trl_best", "trl_packed", "trl_defaults") if n in best]
    for ours in ("codex", "codex_packed"):
        if ours in best and trl:
            figures[f"{ours}_vs_best_trl"] = {"value": round(best[ours]["tokens_per_s"] / max(trl), 3), "unit": "x (goal >= 2)"}
            for n in ("trl_best", "trl_packed", "trl_defaults"):
                if n in best: figures[f"{ours}_vs_{n}"] = {"value": round(best[ours]["tokens_per_s"] / best[n]["tokens_per_s"], 3), "unit": "x"}
    if "codex" in best and "bare" in best:
        figures["codex_vs_bare_loop"] = {"value": round(best["codex"]["tokens_per_s"] / best["bare"]["tokens_per_s"], 3), "unit": "x (goal >= 0.9)"}
    if errors: figures["errors"] = errors
    figures["data"], figures["load_average"] = args.data, os.getloadavg()
    write_result(args.name, figures, notes=__doc__.split("Usage:")[0].strip())

if __name__ == "__main__":
    main()
