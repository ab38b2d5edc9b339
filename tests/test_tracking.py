"Tracking: NDJSON rotation and redaction, MLflow and TensorBoard through Accelerate, dependency health, telemetry."
import importlib, importlib.util, json, random, sys, types, warnings
from pathlib import Path
from types import SimpleNamespace
import pytest
from codex_nb.core import ConfigError, DependencyError
from codex_nb.safety import SafetyFilters
from codex_nb import tracking
from codex_nb.tracking import (OPTIONAL_DEPENDENCIES, MissingDependencyWarning, NDJSONTracker, Telemetry, check_backends,
                               finish_trackers, log_artifacts, make_trackers, metric_files, probe_dependencies, read_metrics)

TOKEN = "ghp_" + "Zz9Yy8Xx7W" * 3 + "v6U5t4"  # a GitHub token shape the safety filter knows

# ---- NDJSON rotation ----

def test_rotation_10k_records_none_lost_none_duplicated_order_kept(tmp_path):
    rng = random.Random(0)
    t = NDJSONTracker("r", tmp_path, max_bytes=4096, backup_count=100_000)  # every part kept; ~250 parts
    for s in range(10_000): t.log({"loss": rng.random(), "pad": "x" * rng.randint(0, 80)}, step=s)
    t.finish()
    files = metric_files(tmp_path)
    assert len(files) > 100
    assert all(f.stat().st_size <= 4096 for f in files)
    lines = [l for f in files for l in f.read_text().splitlines()]
    assert all(json.loads(l) for l in lines)  # every line whole: no record split across parts
    assert [r["step"] for r in read_metrics(tmp_path)] == list(range(10_000))
    assert t.dropped_records == 0

def test_rotation_survives_a_resume_with_a_cut_line(tmp_path):
    t = NDJSONTracker("r", tmp_path, max_bytes=1000, backup_count=1000)
    for s in range(500): t.log({"loss": 1.0}, step=s)
    t.finish()
    with open(tmp_path/"metrics.ndjson", "a") as f: f.write('{"step": 500, "lo')  # killed mid-line
    t = NDJSONTracker("r", tmp_path, max_bytes=1000, backup_count=1000)
    for s in range(500, 1000): t.log({"loss": 1.0}, step=s)
    t.finish()
    assert [r["step"] for r in read_metrics(tmp_path)] == list(range(1000))

def test_parts_past_backup_count_are_dropped_and_counted(tmp_path):
    t = NDJSONTracker("r", tmp_path, max_bytes=1024, backup_count=2)
    for s in range(2000): t.log({"loss": 1.0}, step=s)
    t.finish()
    assert [f.name for f in metric_files(tmp_path)] == ["metrics.2.ndjson", "metrics.1.ndjson", "metrics.ndjson"]
    records = read_metrics(tmp_path)
    steps = [r["step"] for r in records if "loss" in r]
    assert steps == list(range(steps[0], 2000)) and steps[0] > 0
    markers = [r for r in records if r.get("event") == "rotated_out"]
    assert markers and markers[-1]["records_dropped"] == steps[0] == t.dropped_records

def test_backup_count_zero_keeps_only_the_current_file(tmp_path):
    t = NDJSONTracker("r", tmp_path, max_bytes=500, backup_count=0)
    for s in range(100): t.log({"loss": 1.0}, step=s)
    t.finish()
    assert metric_files(tmp_path) == [tmp_path/"metrics.ndjson"]
    steps = [r["step"] for r in read_metrics(tmp_path, "loss")]
    assert steps[-1] == 99 and t.dropped_records == steps[0]

def test_rotation_off_and_bad_sizes(tmp_path):
    t = NDJSONTracker("r", tmp_path, max_bytes=0)
    for s in range(2000): t.log({"loss": 1.0}, step=s)
    t.finish()
    assert metric_files(tmp_path) == [tmp_path/"metrics.ndjson"]
    with pytest.raises(ConfigError, match="tracking.max_bytes"): NDJSONTracker("r", tmp_path, max_bytes=-5)
    with pytest.raises(ConfigError, match="tracking.backup_count"): NDJSONTracker("r", tmp_path, backup_count=None)

def test_tracker_creates_nothing_until_it_logs(tmp_path):
    t = NDJSONTracker("r", tmp_path/"run")
    assert not (tmp_path/"run").exists()
    t.start()
    assert (tmp_path/"run"/"metrics.ndjson").exists()

# ---- redaction ----

def test_planted_secret_in_a_logged_prompt_never_reaches_disk(tmp_path):
    filters = SafetyFilters.from_policy()
    t = NDJSONTracker("r", tmp_path, redact=filters.redact_obj, max_bytes=400, backup_count=1000)
    t.store_init_configuration({"data": {"path": "x.jsonl", "note": TOKEN}})
    for s in range(50): t.log({"loss": 0.5, "prompt": f"def f():\n    return '{TOKEN}'\n", "nested": [{"k": TOKEN}]}, step=s)
    t.finish()
    assert len(metric_files(tmp_path)) > 5
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert TOKEN.encode() not in blob
    assert blob.count(b"[REDACTED:github_token]") == 101
    assert len(read_metrics(tmp_path, "prompt")) == 50

# ---- MLflow and TensorBoard through Accelerate ----

@pytest.fixture(scope="module")
def tracked_run(tmp_path_factory):
    "A 5-step run logged through Accelerate to ndjson + mlflow + tensorboard, with a planted secret (built once)."
    pytest.importorskip("mlflow"); pytest.importorskip("tensorboard")
    from accelerate import Accelerator
    run_dir = tmp_path_factory.mktemp("tracked")/"run"
    cfg = SimpleNamespace(backends=["mlflow", "tensorboard"], max_bytes=10_000, backup_count=5)
    trackers = make_trackers(cfg, run_dir, "t1", redact=SafetyFilters.from_policy().redact_obj)
    accelerator = Accelerator(cpu=True, log_with=trackers, project_dir=run_dir)
    accelerator.init_trackers("codex-nb", config={"training": {"learning_rate": 0.002, "max_steps": 5},
                                                 "tracking": {"backends": ["ndjson", "mlflow"]}, "data": {"note": TOKEN}})
    for step in range(1, 6): accelerator.log({"loss": 1.0 / step, "tokens_per_s": 100.0 + step}, step=step)
    accelerator.log({"event": "sample", "prompt": f"key={TOKEN}"}, step=5)
    run_id = accelerator.get_tracker("mlflow").tracker.info.run_id
    (run_dir/"config.yaml").write_text("run_name: t1\n")
    tracking.plot_loss(run_dir)
    added = log_artifacts(accelerator.trackers, run_dir)
    finish_trackers(accelerator.trackers)
    return SimpleNamespace(run_dir=run_dir, run_id=run_id, added=added)

def test_mlflow_run_reads_back_with_mlflow_client(tracked_run):
    from mlflow.tracking import MlflowClient
    client = MlflowClient(f"sqlite:///{tracked_run.run_dir.resolve().parent}/mlflow.db")
    run = client.get_run(tracked_run.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "t1"
    assert run.data.params["training.learning_rate"] == "0.002"
    assert run.data.params["tracking.backends"] == '["ndjson", "mlflow"]'
    assert run.data.params["data.note"] == "[REDACTED:github_token]"
    assert [(m.step, m.value) for m in client.get_metric_history(tracked_run.run_id, "loss")] == [(s, 1.0 / s) for s in range(1, 6)]
    assert [m.step for m in client.get_metric_history(tracked_run.run_id, "tokens_per_s")] == [1, 2, 3, 4, 5]
    assert "prompt" not in run.data.metrics and "event" not in run.data.metrics
    assert tracked_run.added == ["config.yaml", "loss.png", "metrics.ndjson"]
    assert sorted(a.path for a in client.list_artifacts(tracked_run.run_id)) == ["config.yaml", "loss.png", "metrics.ndjson"]
    local = Path(client.download_artifacts(tracked_run.run_id, "metrics.ndjson", str(tracked_run.run_dir/"dl")))
    assert [json.loads(l).get("step") for l in local.read_text().splitlines()][-1] == 5

def test_tensorboard_event_files_are_readable(tracked_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tracked_run.run_dir/"tensorboard"/"t1")).Reload()
    assert [(e.step, e.value) for e in events.Scalars("loss")] == [(s, pytest.approx(1.0 / s)) for s in range(1, 6)]
    assert "tokens_per_s" in events.Tags()["scalars"]
    text = events.Tensors("prompt/text_summary")[0].tensor_proto.string_val[0].decode()
    assert text == "key=[REDACTED:github_token]"

def test_no_backend_persists_the_planted_secret(tracked_run):
    leaks = [p for p in tracked_run.run_dir.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert leaks == []
    assert (tracked_run.run_dir.parent/"mlflow.db").exists() and (tracked_run.run_dir/"mlruns").is_dir() and list((tracked_run.run_dir/"tensorboard"/"t1").glob("events.out.tfevents.*"))

def test_a_second_run_in_the_same_process_gets_its_own_store_and_can_fail(tracked_run, tmp_path):
    import mlflow
    from accelerate import Accelerator
    trackers = make_trackers(SimpleNamespace(backends=["mlflow"]), tmp_path/"second", "t2")
    accelerator = Accelerator(cpu=True, log_with=trackers, project_dir=tmp_path/"second")
    accelerator.init_trackers("codex-nb")
    accelerator.log({"loss": 9.0}, step=1)
    finish_trackers(accelerator.trackers, failed=True)
    assert mlflow.get_tracking_uri() == f"sqlite:///{(tmp_path/'second').resolve().parent}/mlflow.db"
    client = mlflow.tracking.MlflowClient(f"sqlite:///{tracked_run.run_dir.resolve().parent}/mlflow.db")
    assert [r.info.run_name for r in client.search_runs([client.get_experiment_by_name("codex-nb").experiment_id])] == ["t1"]
    second = mlflow.tracking.MlflowClient(mlflow.get_tracking_uri())
    (run,) = second.search_runs([second.get_experiment_by_name("codex-nb").experiment_id])
    assert (run.info.run_name, run.info.status, run.data.metrics["loss"]) == ("t2", "FAILED", 9.0)

def test_mlflow_tracking_uri_config_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    t = make_trackers(SimpleNamespace(backends=["mlflow"], mlflow_tracking_uri="http://mlflow.example:5000"), tmp_path, "r")[1]
    assert (t.tracking_uri, t.store) == ("http://mlflow.example:5000", None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/mlflow.db")
    t = make_trackers(SimpleNamespace(backends=["mlflow"]), tmp_path, "r")[1]
    assert t.tracking_uri == "sqlite:////elsewhere/mlflow.db"

@pytest.mark.skipif(not hasattr(importlib.import_module("codex_nb.trainer"), "make_trackers"),
                    reason="the trainer does not build its trackers with tracking.make_trackers yet (issue 9 wiring)")
def test_mlflow_run_after_train(tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from codex_nb.config import load_config
    from codex_nb.trainer import train
    result = train(load_config([f"output_dir={tmp_path}", "tracking.backends=[ndjson,mlflow]"], config_name="smoke"), progress=False)
    client = MlflowClient(f"sqlite:///{result.run_dir.resolve().parent}/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name("codex-nb").experiment_id])
    assert run.data.params["run_name"] == "smoke"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [r["step"] for r in read_metrics(result.run_dir, "loss")]
    assert {"loss.png", "metrics.ndjson"} <= {a.path for a in client.list_artifacts(run.info.run_id)}

# ---- dependency health ----

def _hide(monkeypatch, module):
    "Make `module` look uninstalled to importlib.util.find_spec, as on a machine without it."
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a, **k: None if name == module else real(name, *a, **k))

@pytest.mark.parametrize("dep", OPTIONAL_DEPENDENCIES, ids=lambda d: d.name)
def test_each_missing_dependency_gives_one_structured_warning(monkeypatch, dep):
    _hide(monkeypatch, dep.name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = {r["dependency"]: r for r in probe_dependencies(gpu=True)}
    ours = [w.message for w in caught if issubclass(w.category, MissingDependencyWarning) and w.message.dependency == dep.name]
    assert len(ours) == 1
    assert str(ours[0]) == f"{dep.name} is not installed, so {dep.feature} is off; install it with: pip install {dep.package}"
    assert (ours[0].feature, ours[0].install) == (dep.feature, f"pip install {dep.package}")
    assert rows[dep.name]["status"] == "missing" and rows[dep.name]["warning"] == str(ours[0]) and rows[dep.name]["version"] is None

def test_warning_texts_name_feature_and_install_command(monkeypatch):
    for m in ("psutil", "pynvml", "mlflow", "tensorboard", "wandb"): monkeypatch.setitem(sys.modules, m, None)
    rows = {r["dependency"]: r["warning"] for r in probe_dependencies(gpu=True, warn=False)}
    assert rows == {
        "psutil": "psutil is not installed, so CPU and memory telemetry (cpu_percent, rss_mib, host_memory_*) is off; install it with: pip install psutil",
        "pynvml": "pynvml is not installed, so GPU telemetry (gpu_utilization_percent, gpu_memory_*_mib) is off; install it with: pip install nvidia-ml-py",
        "mlflow": "mlflow is not installed, so the MLflow tracker (tracking.backends=[mlflow]) is off; install it with: pip install mlflow",
        "tensorboard": "tensorboard is not installed, so the TensorBoard tracker (tracking.backends=[tensorboard]) is off; install it with: pip install tensorboard",
        "wandb": "wandb is not installed, so the W&B tracker (tracking.backends=[wandb]) is off; install it with: pip install wandb"}

def test_pynvml_is_not_needed_without_a_gpu(monkeypatch):
    _hide(monkeypatch, "pynvml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = {r["dependency"]: r for r in probe_dependencies(gpu=False)}
    assert rows["pynvml"]["status"] == "not needed" and "warning" not in rows["pynvml"]
    assert not [w for w in caught if getattr(w.message, "dependency", None) == "pynvml"]

@pytest.mark.parametrize("backend,package", [("mlflow", "mlflow"), ("tensorboard", "tensorboard"), ("wandb", "wandb")])
def test_configured_backend_without_its_package_is_an_error(monkeypatch, tmp_path, backend, package):
    _hide(monkeypatch, package)
    with pytest.raises(DependencyError, match=f"tracking.backends includes {backend}, but {package} is not installed") as e:
        make_trackers(SimpleNamespace(backends=[backend]), tmp_path, "r")
    assert f"pip install {package}" in str(e.value)
    check_backends(["ndjson"])  # the NDJSON tracker needs nothing

def test_local_mlflow_store_needs_sqlalchemy(monkeypatch, tmp_path):
    pytest.importorskip("mlflow")
    _hide(monkeypatch, "sqlalchemy")
    with pytest.raises(DependencyError, match="needs SQLAlchemy"): make_trackers(SimpleNamespace(backends=["mlflow"]), tmp_path, "r")
    make_trackers(SimpleNamespace(backends=["mlflow"], mlflow_tracking_uri="http://server:5000"), tmp_path, "r")

# ---- telemetry ----

def _fake_pynvml():
    m = types.ModuleType("pynvml")
    class NVMLError(Exception): pass
    m.NVMLError = NVMLError
    m.calls = []
    m.nvmlInit = lambda: m.calls.append("init")
    m.nvmlShutdown = lambda: m.calls.append("shutdown")
    m.nvmlDeviceGetHandleByIndex = lambda i: m.calls.append(("handle", i)) or f"gpu{i}"
    m.nvmlDeviceGetUtilizationRates = lambda h: SimpleNamespace(gpu=41, memory=5)
    m.nvmlDeviceGetMemoryInfo = lambda h: SimpleNamespace(used=3 * 2**30, total=80 * 2**30, free=77 * 2**30)
    return m

def test_telemetry_samples_cpu_memory_and_gpu(monkeypatch):
    pytest.importorskip("psutil")
    fake = _fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5"); monkeypatch.setenv("LOCAL_RANK", "1")
    t = Telemetry(every=2)
    assert t.sources == ["psutil", "pynvml"] and ("handle", 5) in fake.calls
    assert t(1) == {}
    s = t(2)
    assert s["gpu_utilization_percent"] == 41 and s["gpu_memory_used_mib"] == 3072.0 and s["gpu_memory_total_mib"] == 81920.0
    assert s["rss_mib"] > 10 and 0 <= s["host_memory_used_percent"] <= 100 and s["cpu_percent"] >= 0
    t.close()
    assert fake.calls[-1] == "shutdown" and "gpu_utilization_percent" not in t.sample()

def test_telemetry_without_psutil_or_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)
    monkeypatch.setitem(sys.modules, "pynvml", None)
    t = Telemetry(every=1)
    assert t.sources == [] and t(1) == {}
    assert Telemetry(every=0)(10) == {}

def test_wandb_tracker_is_offline_under_the_run_directory(monkeypatch, tmp_path):
    real = tracking.is_installed
    monkeypatch.setattr(tracking, "is_installed", lambda m: True if m == "wandb" else real(m))
    monkeypatch.delenv("WANDB_MODE", raising=False)
    ndjson, wandb = make_trackers(SimpleNamespace(backends=["wandb"]), tmp_path, "r1")
    assert (wandb.name, wandb.run_name) == ("wandb", "codex-nb")
    assert wandb.init_kwargs == {"name": "r1", "dir": str(tmp_path), "mode": "offline"}
