"Every config in configs/ validates; overrides, files and error messages behave as documented."
import pytest, yaml
from codex_nb.config import RunConfig, config_hash, load_config, load_config_file, save_config, validate
from codex_nb.core import ConfigError
from conftest import ROOT

CONFIGS = ROOT/"configs"
GROUPS = sorted(p.name for p in CONFIGS.iterdir() if p.is_dir() and p.name != "accelerate")
OPTIONS = [(g, f.stem) for g in GROUPS for f in sorted((CONFIGS/g).glob("*.yaml"))]

@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_validates(group, option):
    cfg = load_config([f"{group}={option}"])
    assert isinstance(cfg, RunConfig)

@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIGS.glob("*.yaml")))
def test_every_top_level_config_validates(name):
    assert isinstance(load_config([], config_name=name), RunConfig)

def test_accelerate_launch_configs_parse():
    for f in (CONFIGS/"accelerate").glob("*.yaml"):
        data = yaml.safe_load(f.read_text())
        assert data["compute_environment"] == "LOCAL_MACHINE" and "distributed_type" in data, f

def test_round_trip_through_a_file(tmp_path):
    cfg = load_config(["training=smoke", "lora.r=16", "lora.target_modules=[q_proj,v_proj]"])
    again = load_config_file(save_config(cfg, tmp_path/"config.yaml"))
    assert again == cfg and config_hash(again) == config_hash(cfg)
    assert again.lora.target_modules == ["q_proj", "v_proj"]

def test_every_problem_is_listed_with_its_key():
    with pytest.raises(ConfigError) as e:
        validate({"lora": {"rr": 16, "lora_alpha": -1}, "training": {"learning_rat": 1e-4}, "data": {"split_ratios": [0.5, 0.5, 0.5]}})
    msg = str(e.value)
    assert "4 problem(s)" in msg
    for part in ["lora.rr: unknown key (did you mean lora.r?)", "lora.lora_alpha: Input should be greater than 0 (got -1)",
                 "training.learning_rat: unknown key (did you mean training.learning_rate?)", "sum to 1.5, not 1"]:
        assert part in msg, part

@pytest.mark.parametrize("overrides,message", [
    (["training.max_steps=null", "training.num_epochs=null"], "set training.max_steps or training.num_epochs"),
    (["training.keep_best=true", "training.eval_every=null"], "keep_best=true needs eval_every"),
    (["safety.enabled=false"], "needs safety.bypass_reason"),
    (["lora.lora_dropout=1.5"], "lora.lora_dropout: Input should be less than 1"),
    (["data.split_ratios=[0.9,0.1]"], "split_ratios needs three numbers"),
    (["micro_batch_size=8"], "did you mean training.per_device_train_batch_size?"),
    (["schema_version=7"], "written for schema_version 7"),
])
def test_checks_have_exact_messages(overrides, message):
    with pytest.raises(ConfigError, match=None) as e: load_config(overrides)
    assert message in str(e.value)

def test_bad_yaml_names_line_and_column(tmp_path):
    bad = tmp_path/"bad.yaml"
    bad.write_text("lora:\n  r: 8\n  lora_alpha: [16\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:4:1: not valid YAML"): load_config_file(bad)

def test_warmup_as_long_as_the_run_is_clamped_with_a_notice(tmp_path):
    "training.max_steps=5 with the default warmup of 5 steps runs (warming up for 4) instead of being refused."
    from conftest import run_cli
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "training.max_steps=5", "training.warmup_steps=5")
    assert proc.returncode == 0, proc.stderr
    assert "warning: training.warmup_steps=5 is not below the run's 5 steps: warming up for 4" in proc.stderr

def test_configs_list_every_setting_with_its_default():
    "configs/ is where the README sends a user for every setting: each key of the schema is in a default file, with the schema's default."
    from codex_nb.config import _schema_keys
    top = yaml.safe_load((CONFIGS/"config.yaml").read_text())
    groups = {name: yaml.safe_load((CONFIGS/name/"default.yaml").read_text()) or {} for name in GROUPS}
    listed = {k for k in top if k != "defaults"} | set(groups) | {f"{g}.{k}" for g, d in groups.items() for k in d}
    missing = [k for k in _schema_keys() if k not in listed and not k.startswith("safety.policy.")]
    assert not missing, f"keys with no line in configs/*/default.yaml: {missing}"
    schema = RunConfig.model_validate({}).to_dict()
    for g, d in groups.items():
        for k, v in d.items():
            if (g, k) in (("data", "dataset"), ("model", "name"), ("model", "path"), ("safety", "policy")): continue  # set by the files
            assert schema[g][k] == v, f"configs/{g}/default.yaml: {k}: {v!r}, but the schema's default is {schema[g][k]!r}"
