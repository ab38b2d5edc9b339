"Evaluation scores reach the run's trackers: metrics.ndjson always, MLflow when the run was tracked there."
import json
import pytest
from conftest import run_cli

@pytest.mark.slow  # make test-slow; kept out of make test for CI's 25 minutes
def test_eval_scores_reach_mlflow(tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=r", "tracking.backends=[ndjson,mlflow]")
    assert proc.returncode == 0, proc.stderr
    run = tmp_path/"r"
    assert run_cli("evaluate", run, "--split", "train", "--max-samples", "2", "--no-base").returncode == 0
    info = json.loads((run/"run.json").read_text())
    client = MlflowClient(tracking_uri=f"sqlite:///{run.resolve().parent/'mlflow.db'}")
    history = client.get_metric_history(info["mlflow_run_id"], "eval/train/final/perplexity")
    assert len(history) == 1 and history[0].step == 6 and history[0].value > 1
    assert [m.step for m in client.get_metric_history(info["mlflow_run_id"], "loss")] == [1, 2, 3, 4, 5, 6]

def test_the_base_model_of_a_run_that_trained_biases_is_the_base_model(tmp_path):
    "lora.bias=all trains the base layers' own biases in place (GPT-2 has them): evaluate's base column must stay the base model."
    from codex_nb.config import load_config
    from codex_nb.evaluation import evaluate_run
    from codex_nb.trainer import train
    base = {}
    for bias in ("none", "all"):
        cfg = load_config([f"output_dir={tmp_path}", f"run_name={bias}", f"lora.bias={bias}", "model=tiny-gpt2", "training.max_steps=3",
                           "training.warmup_steps=0", "training.learning_rate=0.05"], config_name="smoke")
        train(cfg, progress=False)
        result = evaluate_run(tmp_path/bias, "val", metrics=["loss"])
        base[bias], final = result.value("base", "loss"), result.value("final", "loss")
        assert final != base[bias]
    assert abs(base["all"] - base["none"]) < 1e-6, base  # the same tiny-gpt2, the same val split
