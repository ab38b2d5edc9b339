"Bad inputs found by trying to break the command line: each gets one message, and nothing already written is lost."
import json, os
from conftest import assert_clean_error, run_cli

SMOKE = ["train", "--config-name", "smoke"]

def snapshot(root):
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

def test_run_name_must_be_a_plain_name(tmp_path):
    (tmp_path/"keep.txt").write_text("precious")
    for bad in ["", "..", "../escape", "a/b", str(tmp_path)]:
        assert_clean_error(run_cli(*SMOKE, f"output_dir={tmp_path}/runs", f"run_name={bad}", "overwrite=true"), "must be a plain directory name")
    assert (tmp_path/"keep.txt").read_text() == "precious" and not (tmp_path/"escape").exists()

def test_refused_resume_changes_nothing(tmp_path):
    assert run_cli(*SMOKE, f"output_dir={tmp_path}", "run_name=r").returncode == 0
    before = snapshot(tmp_path/"r")
    assert_clean_error(run_cli(*SMOKE, f"output_dir={tmp_path}", "run_name=r", "training.max_steps=9", "--resume-from", "latest"), "total steps (training.max_steps; the learning-rate schedule depends on it) was 6, now 9")
    assert_clean_error(run_cli(*SMOKE, f"output_dir={tmp_path}", "run_name=r", "lora.r=8", "--resume-from", "latest"), "lora.r was 4, now 8")
    assert snapshot(tmp_path/"r") == before

def test_empty_input_never_replaces_existing_splits(tmp_path):
    good, empty = tmp_path/"good.jsonl", tmp_path/"empty.jsonl"
    good.write_text("".join(json.dumps(dict(prompt=f"p{i}", completion=f"c{i}")) + "\n" for i in range(20)))
    empty.write_text("\n\n")
    assert run_cli("split", good, tmp_path/"s").returncode == 0
    before = snapshot(tmp_path/"s")
    assert_clean_error(run_cli("split", empty, tmp_path/"s"), "holds no records")
    assert snapshot(tmp_path/"s") == before
    assert_clean_error(run_cli(*SMOKE, f"output_dir={tmp_path}/runs", f"data.path={empty}"), "no records to train on")

def test_failed_attempt_does_not_block_a_retry(tmp_path):
    assert_clean_error(run_cli(*SMOKE, f"output_dir={tmp_path}", "run_name=r", "model.name=gguf:/nonexistent.gguf"), "does not exist")
    assert run_cli(*SMOKE, f"output_dir={tmp_path}", "run_name=r").returncode == 0

def test_data_humaneval_does_not_overwrite(tmp_path):
    (tmp_path/"mine.jsonl").write_text("mine\n")
    assert_clean_error(run_cli("data", "humaneval", tmp_path/"mine.jsonl"), "already exists", "--force")
    assert (tmp_path/"mine.jsonl").read_text() == "mine\n"
    assert_clean_error(run_cli("data", "humaneval", tmp_path), "already exists")

def test_policy_file_paths_and_overrides(tmp_path):
    policy = tmp_path/"policy.yaml"
    policy.write_text("banned_phrases: [Project Bluebird]\n")
    assert run_cli("validate", f"safety={policy}").returncode == 0  # an absolute path works
    assert_clean_error(run_cli("validate", f"safety={policy}", "safety.policy.actions.email=drop"), "cannot be combined")
    policy.write_text("banned_phrasez: [x]\n")
    assert_clean_error(run_cli("validate", f"safety={policy}"), "banned_phrases")
    assert_clean_error(run_cli("validate", f"safety={tmp_path}/missing.yaml"), "not found")
    assert_clean_error(run_cli("validate", "model.dtype=float99"), "model.dtype")
    assert_clean_error(run_cli("validate", "model.device=banana"), "model.device")

def test_generate_and_evaluate_arguments(tmp_path):
    assert run_cli(*SMOKE, f"output_dir={tmp_path}", "run_name=r").returncode == 0
    run = tmp_path/"r"
    assert run_cli("generate", run, "x", "--max-new-tokens", "0").returncode == 2
    assert_clean_error(run_cli("generate", run, " "), "the prompt is empty")
    email = "alice" + "@" + "corp-example.io"
    out = run_cli("generate", run, f"mail {email} now", "--max-new-tokens", "2")
    assert out.returncode == 0 and email not in out.stdout and "[REDACTED:email]" in out.stdout
    assert run_cli("evaluate", run, "--max-samples", "0").returncode == 2
    for empty in ["", " , "]: assert_clean_error(run_cli("evaluate", run, "--metrics", empty), "--metrics is empty")

def test_batch_refuses_unknown_parameters(tmp_path):
    from conftest import ROOT
    grid = tmp_path/"grid.yaml"
    grid.write_text("lora_rank: [2]\n")
    assert_clean_error(run_cli("batch", ROOT/"nbs"/"tutorials"/"01_quickstart.ipynb", grid, tmp_path/"out"), "did you mean 'lora_r'?")

def test_unwritable_output_is_a_clean_error(tmp_path):
    blocker = tmp_path/"file"
    blocker.write_text("x")
    proc = run_cli(*SMOKE, f"output_dir={blocker}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "internal error" not in proc.stderr

def tiny_notebook(path, tagged=True):
    "A two-cell notebook: parameters x, y, output_dir; writes result.json with len(str(y))."
    import nbformat
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('x = 1\ny = "a"\noutput_dir = "."')
    if tagged: params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        'import json, pathlib\npathlib.Path(output_dir, "result.json").write_text(json.dumps({"n": len(str(y))}))')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    nbformat.write(nb, str(path))
    return path

def test_batch_reruns_edited_and_corrupt_points(tmp_path):
    import csv
    nb, grid, out = tiny_notebook(tmp_path/"nb.ipynb"), tmp_path/"grid.yaml", tmp_path/"out"
    grid.write_text('y: ["a b", "{x}"]\n')  # braces once broke papermill's output path
    assert run_cli("batch", nb, grid, out).returncode == 0
    assert [r["n"] for r in csv.DictReader(open(out/"results.csv"))] == ["3", "3"]
    grid.write_text('y: ["ab", "{x}"]\n')  # same directory name once: the old result was reused
    assert run_cli("batch", nb, grid, out).returncode == 0
    rows = list(csv.DictReader(open(out/"results.csv")))
    assert [(r["y"], r["n"]) for r in rows] == [("ab", "2"), ("{x}", "3")]
    second = next(p for p in (out/"points").glob("001-*/status.json"))
    second.write_text('{"status": "ok", "y": "{x}"')  # cut short: the point runs again, the batch goes on
    proc = run_cli("batch", nb, grid, out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(second.read_text())["n"] == 3
    assert "point 1/2 (y=ab): finished earlier, kept" in proc.stdout  # a line per point, also in a log file
    assert "point 2/2 (y={x}): running" in proc.stdout and "point 2/2 (y={x}): ok in " in proc.stdout

def test_batch_refuses_bad_grids_and_notebooks(tmp_path):
    nb, grid = tiny_notebook(tmp_path/"nb.ipynb"), tmp_path/"grid.yaml"
    for text, fragment in [("output_dir: [a, b]\n", "'output_dir' cannot be a grid parameter"),
                           ("1: [2]\n", "1 cannot be a grid parameter"), ("status: [a]\n", "'status' cannot be a grid parameter")]:
        grid.write_text(text)
        assert_clean_error(run_cli("batch", nb, grid, tmp_path/"out"), fragment)
    grid.write_text("x: [1]\n")
    assert_clean_error(run_cli("batch", tiny_notebook(tmp_path/"untagged.ipynb", tagged=False), grid, tmp_path/"out"), "has no cell tagged 'parameters'")
    (tmp_path/"broken.ipynb").write_text("{not json")
    assert_clean_error(run_cli("batch", tmp_path/"broken.ipynb", grid, tmp_path/"out"), "cannot be read as a notebook")

def test_split_rejects_never_overwrite_data(tmp_path):
    good = json.dumps(dict(prompt="p", completion="c"))
    data = tmp_path/"data.jsonl"
    data.write_text(f"{good}\n{{bad\n")
    before = data.read_bytes()
    assert_clean_error(run_cli("split", data, tmp_path/"s", "--on-error", "skip", "--rejects", data), "is the input or one of the split files")
    assert_clean_error(run_cli("split", data, tmp_path/"s", "--on-error", "skip", "--rejects", tmp_path/"s"/"train.jsonl"), "would be overwritten")
    assert data.read_bytes() == before and not (tmp_path/"s").exists()

def test_split_rejects_are_kept_and_never_stale(tmp_path):
    good = json.dumps(dict(prompt="p", completion="c"))
    data, out = tmp_path/"data.jsonl", tmp_path/"s"
    data.write_text("{bad\n[1]\n")
    assert_clean_error(run_cli("split", data, out, "--on-error", "skip"), "holds no records", "the rejected lines are in")
    assert len((out/"rejects.jsonl").read_text().splitlines()) == 2  # kept, although no split was written
    data.write_text(f"{good}\n")
    assert run_cli("split", data, out).returncode == 0
    assert not (out/"rejects.jsonl").exists()  # the earlier split's rejects do not linger beside the new split

def test_split_lone_surrogate_is_a_bad_line(tmp_path):
    data = tmp_path/"data.jsonl"
    data.write_text('{"prompt": "\\ud83d", "completion": "x"}\n{"prompt": "\\ud83d\\ude00", "completion": "x"}\n')
    assert_clean_error(run_cli("split", data, tmp_path/"s"), "data.jsonl:1:1: a \\uD800-\\uDFFF escape without its pair")
    proc = run_cli("split", data, tmp_path/"s", "--on-error", "skip", "--key", "completion")
    assert proc.returncode == 0, proc.stderr
    assert "rejected: 1 lines" in proc.stdout and "total:        1 records" in proc.stdout

def test_batch_resumes_after_a_kill(tmp_path):
    "SIGKILL during the second point: rerunning skips the first (untouched) and runs the second to the end."
    import csv, signal, subprocess, sys, time
    import nbformat
    nb = tiny_notebook(tmp_path/"nb.ipynb")
    doc = nbformat.read(str(nb), as_version=4)
    doc.cells.insert(1, nbformat.v4.new_code_cell("import time, pathlib\nif x == 2 and not pathlib.Path(output_dir, 'slept').exists():\n"
                                                  "    pathlib.Path(output_dir, 'slept').touch(); time.sleep(120)"))
    nbformat.write(doc, str(nb))
    grid, out = tmp_path/"grid.yaml", tmp_path/"out"
    grid.write_text("x: [1, 2]\n")
    proc = subprocess.Popen([sys.executable, "-m", "codex_nb.cli", "batch", str(nb), str(grid), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("points/001-*/slept")): time.sleep(0.2)
    first = next(out.glob("points/000-*/status.json"))
    stamp = first.stat().st_mtime_ns
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()  # the batch and its kernel
    assert not list(out.glob("points/001-*/status.json"))
    again = run_cli("batch", nb, grid, out)
    assert again.returncode == 0, again.stderr
    assert first.stat().st_mtime_ns == stamp  # finished before the kill: not run again
    assert [(r["x"], r["status"]) for r in csv.DictReader(open(out/"results.csv"))] == [("1", "ok"), ("2", "ok")]
