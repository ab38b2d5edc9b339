"""Generation throughput of the evaluation runner, side by side in one process, same prompts, same max_new_tokens:

- one prompt at a time with plain `model.generate` (greedy, KV cache),
- plain batched `model.generate` at batch 16 (left padding),
- the runner's `generate_texts` at batch 16, without stop sequences (the same work as plain batched) and with
  HumanEval's stop sequences (what `codex-nb evaluate` does).

Figures: wall seconds for the whole job (the fastest of --repeats interleaved repeats) and generated tokens per second
(tokens up to and including EOS).
Usage: python bench/bench_generation.py [--prompts 16] [--max-new-tokens 64]
"""
import argparse, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, write_result

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    import torch
    from codex_nb.data import humaneval_records
    from codex_nb.evaluation import CODE_STOPS, generate_texts
    from codex_nb.registry import load_model
    model, tok = load_model("smollm2-135m-instruct", device="cpu")
    prompts = [r["prompt"] for r in humaneval_records()[:args.prompts]]
    n = args.max_new_tokens

    def count(ids):  # generated tokens up to and including the first EOS
        ids = ids.tolist()
        return ids.index(tok.eos_token_id) + 1 if tok.eos_token_id in ids else len(ids)

    def plain(batch):
        tok.padding_side = "left"
        outs, tokens = [], 0
        for i in range(0, len(prompts), batch):
            enc = tok(prompts[i:i + batch], return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id)
            new = gen[:, enc["input_ids"].shape[1]:]
            tokens += sum(count(row) for row in new)
            outs += tok.batch_decode(new, skip_special_tokens=True)
        return outs, tokens

    model(**tok(prompts[:2], return_tensors="pt", padding=True))  # warm-up
    best = {}
    def timed(name, fn):  # the fastest of the repeats: the machine's load hits every variant alike
        with Timer() as t: value = fn()
        if name not in best or t.seconds < best[name][0].seconds: best[name] = (t, value)
    for _ in range(args.repeats):  # interleaved, so that load on the machine affects every variant alike
        timed("one", lambda: plain(1))
        timed("batched", lambda: plain(args.batch_size))
        timed("runner", lambda: generate_texts(model, tok, prompts, n, args.batch_size, stops=[]))
        timed("runner_stops", lambda: generate_texts(model, tok, prompts, n, args.batch_size, stops=CODE_STOPS))
    (one, (one_out, one_tokens)), (batched, (batched_out, batched_tokens)) = best["one"], best["batched"]
    (runner, runner_out), (runner_stops, _) = best["runner"], best["runner_stops"]
    figures = {
        "one_at_a_time_s": {"value": round(one.seconds, 2), "unit": "s"},
        "plain_batched_s": {"value": round(batched.seconds, 2), "unit": "s"},
        "runner_s": {"value": round(runner.seconds, 2), "unit": "s"},
        "runner_with_stops_s": {"value": round(runner_stops.seconds, 2), "unit": "s"},
        "one_at_a_time_tok_per_s": {"value": round(one_tokens / one.seconds, 1), "unit": "generated tokens/s"},
        "plain_batched_tok_per_s": {"value": round(batched_tokens / batched.seconds, 1), "unit": "generated tokens/s"},
        "runner_tok_per_s": {"value": round(batched_tokens / runner.seconds, 1), "unit": "generated tokens/s"},
        "runner_vs_one_at_a_time": {"value": round(one.seconds / runner.seconds, 2), "unit": "x (goal >= 4)"},
        "runner_vs_plain_batched": {"value": round(batched.seconds / runner.seconds, 2), "unit": "x (goal >= 1.0)"},
        "runner_with_stops_vs_plain_batched": {"value": round(batched.seconds / runner_stops.seconds, 2), "unit": "x"},
        "runner_outputs_equal_plain_batched": runner_out == [o for o in batched_out],
        "one_at_a_time_outputs_equal_batched": one_out == batched_out,
    }
    write_result("generation", figures, notes=f"SmolLM2-135M-Instruct fp32 on CPU, {len(prompts)} HumanEval prompts, "
                 f"max_new_tokens={n}, batch {args.batch_size}, greedy")

if __name__ == "__main__":
    main()
