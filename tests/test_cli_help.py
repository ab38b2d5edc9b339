"""CLI help: every subcommand has a purpose line, every option and argument a help text, and at least two examples;
every example runs, with the tiny model.

The examples are what a user copies, so they run verbatim (in a scratch directory laid out like the repository root).
The tiny model comes from the config tree instead of the command line: the tests point $CODEX_NB_CONFIG_DIR at a copy
of configs/ whose defaults are the smoke groups (tiny random Llama, 40 HumanEval records), keeping the default 40
steps so that `--checkpoint step_000020` exists."""
import json, shlex, shutil
import pytest, typer
from typer.testing import CliRunner
from conftest import ROOT
from codex_nb.cli import app

def leaf_commands(cmd=None, path=()) -> dict:
    "`{('data', 'humaneval'): command, ...}` for every runnable subcommand."
    cmd = cmd or typer.main.get_command(app)
    if hasattr(cmd, "commands"):  # a group (typer ships its own copy of click, so no isinstance)
        return {k: v for name, sub in cmd.commands.items() for k, v in leaf_commands(sub, path + (name,)).items()}
    return {path: cmd}

def examples(cmd) -> list[list[str]]:
    "The example command lines of a command's epilog, as argument lists (program name and trailing comments dropped)."
    lines = [l.strip() for l in (cmd.epilog or "").splitlines() if l.strip().startswith("codex-nb ")]
    return [shlex.split(l, comments=True)[1:] for l in lines]

COMMANDS = leaf_commands()
# the order the examples run in: each may use what an earlier one wrote (data.jsonl, runs/demo, runs/smoke)
ORDER = [("data", "humaneval"), ("data", "inspect"), ("train",), ("validate",), ("split",), ("manifest",), ("evaluate",), ("generate",), ("export",), ("cache",),
         ("report",), ("compare",), ("models",), ("doctor",), ("batch",)]

def test_every_subcommand_is_documented():
    assert sorted(COMMANDS) == sorted(ORDER), "a new subcommand needs a place in ORDER"
    for path, cmd in COMMANDS.items():
        name = " ".join(path)
        assert cmd.help and len(cmd.help.splitlines()[0]) > 20, f"{name}: no purpose line"
        for p in cmd.params:
            if p.name == "help": continue
            assert getattr(p, "help", None), f"codex-nb {name}: {p.name} has no help text"
        assert len(examples(cmd)) >= 2, f"codex-nb {name}: fewer than two examples"

def test_help_keeps_examples_verbatim():
    "Long example lines are not rewrapped, so they can be copied from a narrow terminal."
    out = CliRunner().invoke(app, ["train", "--help"], terminal_width=60).output
    assert "  codex-nb train model=tiny-llama training=smoke lora.r=16 output_dir=experiments run_name=try1\n" in out

@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    "A scratch repository root: tiny-model config tree, examples/ copied, nbs/ linked, a messy JSONL file."
    root = tmp_path_factory.mktemp("cli_examples")
    shutil.copytree(ROOT/"configs", root/"tiny_configs")
    cfg = (root/"tiny_configs"/"config.yaml").read_text()
    for group in ("model", "data", "lora", "eval"): cfg = cfg.replace(f"  - {group}: default", f"  - {group}: smoke")
    (root/"tiny_configs"/"config.yaml").write_text(cfg)
    shutil.copytree(ROOT/"examples", root/"examples")
    (root/"nbs").symlink_to(ROOT/"nbs", target_is_directory=True)
    good = json.dumps(dict(task_id="t/0", prompt="def f():\n", completion="    return 1\n"))
    (root/"messy.jsonl").write_text(f"{good}\n{{not json\n\n{good.replace('t/0', 't/1')}\n")
    # runs/chat, which the chat examples of generate and evaluate use, as its help says it is made (with the tiny model)
    from codex_nb.config import load_config
    from codex_nb.trainer import train
    train(load_config(["model=tiny-llama", "training=smoke", "lora=smoke", "eval=smoke", f"output_dir={root/'runs'}", "run_name=chat",
                       f"data.path={root/'examples'/'chat'/'bike_repair.jsonl'}"]), progress=False)
    return root

def test_every_example_runs(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("CODEX_NB_CONFIG_DIR", str(workspace/"tiny_configs"))
    monkeypatch.setenv("CODEX_NB_CACHE", str(workspace/"cache"))  # `codex-nb cache --clean` empties this one, not the user's
    runner, outputs = CliRunner(), {}
    for path in ORDER:
        for args in examples(COMMANDS[path]):
            r = runner.invoke(app, args)
            assert r.exit_code == 0, f"codex-nb {shlex.join(args)} exited {r.exit_code}: {r.output[-2000:]}\n{r.exception!r}"
            outputs[shlex.join(args)] = r.stdout
    # what the examples wrote is what their help says
    info = json.loads((workspace/"runs"/"demo"/"run.json").read_text())
    assert info["model"] == "tiny-llama" and info["status"] == "completed"
    assert info["steps"] == 40 and isinstance(info["final_loss"], float)  # kept when resuming a finished run
    assert (workspace/"runs"/"demo"/"checkpoints"/"step_000020").is_dir()
    assert (workspace/"experiments"/"try1"/"adapter"/"adapter_config.json").exists()
    assert json.loads((workspace/"experiments"/"try1"/"adapter"/"adapter_config.json").read_text())["r"] == 16
    assert "nothing left to train: the run had finished its 40 steps" in outputs["train run_name=demo --resume-from latest"]
    assert "nothing left to train" in outputs["train runs/demo"]
    assert (workspace/"runs"/"my_run"/"adapter").is_dir() and json.loads((workspace/"runs"/"my_run"/"run.json").read_text())["steps"] == 10
    assert len(info["resumed"]) == 2 and info["started"] < info["resumed"][0]  # train runs/demo, then run_name=demo --resume-from latest
    assert "rejected: 1 lines" in outputs["split messy.jsonl splits/ --schema prompt_completion --on-error skip"]
    assert "unchanged since its manifest" in outputs["manifest runs/demo/data/train.jsonl --verify"]
    assert "pass@1" in outputs["evaluate runs/demo --metrics perplexity,exact_match,pass@1 --allow-code-execution"]
    chat = outputs["evaluate runs/chat --metrics rouge_l,chrf"]
    assert "rouge_l" in chat and "chrf" in chat and "base" in chat  # a chat run gets the text metrics, base and adapter side by side
    assert outputs["generate runs/demo 'def fib(n):'"].startswith("def fib(n):")  # a completion run prints prompt + completion
    assert "<|im_start|>" not in outputs["generate runs/chat 'My chain squeaks on every pedal stroke. What should I do?'"]
    assert {m["name"] for m in json.loads(outputs["models --json"])} >= {"smollm2-135m-instruct", "tiny-llama", "tiny-gpt2"}
    assert json.loads(outputs["doctor --json"])["healthy"] is True
    assert "2 of 2 points ok" in outputs["batch nbs/tutorials/01_quickstart.ipynb examples/grid.yaml out/batch"]
    assert "lora.r" in outputs["compare runs/demo experiments/try1"] and (workspace/"runs"/"compare.png").exists()
    assert (workspace/"out"/"batch"/"comparison.png").read_bytes()[:4] == b"\x89PNG"
