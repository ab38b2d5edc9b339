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
