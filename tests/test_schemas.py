"The main job on the other record schemas (text, chat messages) and on messy data with on_error=skip."
import csv, json
from conftest import assert_clean_error, run_cli

def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path

def train_and_evaluate(tmp_path, data, *extra):
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=r", f"data.path={data}", "data.limit=null", *extra)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("evaluate", tmp_path/"r", "--split", "train", "--max-samples", "3")
    assert proc.returncode == 0, proc.stderr
    return {(r["model"], r["metric"]) for r in csv.DictReader(open(tmp_path/"r"/"eval"/"summary.csv"))}, proc.stderr

def test_text_schema(tmp_path):
    data = write(tmp_path/"text.jsonl", [dict(id=i, text=f"def f{i}(x):\n    return x * {i}\n") for i in range(30)])
    rows, stderr = train_and_evaluate(tmp_path, data, "data.split_key=id")  # the schema is detected
    assert "warning: eval.metrics exact_match skipped: this run's 'text' records have no reference answers" in stderr
    assert ("final", "perplexity") in rows and not any(m == "exact_match" for _, m in rows)  # nothing to complete
    assert json.loads((tmp_path/"r"/"run.json").read_text())["data_schema"] == {"schema": "text", "detected": True}
    proc = run_cli("evaluate", tmp_path/"r", "--metrics", "exact_match")
    assert_clean_error(proc, "--metrics exact_match compare generated answers with reference answers", "'text' records")

def test_messages_schema(tmp_path):
    rows = [dict(id=i, messages=[dict(role="user", content=f"What is {i} + 1?"), dict(role="assistant", content=str(i + 1))])
            for i in range(30)]
    data = write(tmp_path/"chat.jsonl", rows)
    assert ("final", "loss") in train_and_evaluate(tmp_path, data, "data.schema=messages", "data.split_key=id")[0]

def test_on_error_skip_keeps_going_and_keeps_the_bad_lines(tmp_path):
    good = [json.dumps(dict(task_id=f"t{i}", prompt=f"p{i}", completion=f"c{i}")) for i in range(30)]
    data = tmp_path/"messy.jsonl"
    data.write_text("\n".join(good[:10] + ['{"prompt": "broken"', "", '{"prompt": "no completion"}'] + good[10:]) + "\n")
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=r", f"data.path={data}", "data.limit=null")
    assert_clean_error(proc, f"{data}:11:")
    proc = run_cli("train", "--config-name", "smoke", f"output_dir={tmp_path}", "run_name=r", f"data.path={data}", "data.limit=null",
                   "data.on_error=skip")
    assert proc.returncode == 0, proc.stderr
    info = json.loads((tmp_path/"r"/"run.json").read_text())
    assert info["data_counts"]["rejected"] == 2 and info["data_counts"]["blank"] == 1 and info["data_counts"]["total"] == 30
    rejects = [json.loads(l) for l in (tmp_path/"r"/"data"/"rejects.jsonl").read_text().splitlines()]
    assert [r["where"].split(":")[1] for r in rejects] == ["11", "13"]

def test_split_cli_schema_and_skip(tmp_path):
    data = tmp_path/"messy.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": 1}\n\n{"prompt": "c", "completion": "d"}\n')
    assert_clean_error(run_cli("split", data, tmp_path/"s", "--schema", "prompt_completion"), f"{data}:2")
    proc = run_cli("split", data, tmp_path/"s", "--schema", "prompt_completion", "--on-error", "skip")
    assert proc.returncode == 0, proc.stderr
    assert "rejected: 1 lines" in proc.stdout and "1 blank lines" in proc.stdout
    assert run_cli("manifest", tmp_path/"s"/"train.jsonl", "--verify").returncode == 0
