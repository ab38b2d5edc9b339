"README.md is generated from nbs/index.ipynb; it must match, and every README command must be a real one."
import re, sys
from conftest import ROOT, run_cli
sys.path.insert(0, str(ROOT/"tools"))
import render_readme

def test_readme_matches_index_notebook():
    assert (ROOT/"README.md").read_text(encoding="utf-8") == render_readme.render(), \
        "README.md is stale: run python tools/render_readme.py"

def test_readme_names_the_two_commands():
    text = (ROOT/"README.md").read_text()
    assert "make demo" in text and "make test" in text
    makefile = (ROOT/"Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT/".ci"/"run").read_text()

def test_readme_cli_lines_parse():
    "Every `codex-nb CMD ...` line in the README names a real subcommand."
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", (ROOT/"README.md").read_text(), re.S))
    cmds = set(re.findall(r"(?:^|; )codex-nb ([a-z]+)", blocks, re.M))
    assert cmds >= {"train", "evaluate", "generate", "validate", "split", "data", "models", "doctor"}
    for cmd in cmds: assert run_cli(cmd, "--help").returncode == 0, cmd

def test_readme_links_resolve():
    "Every relative link in the README points at a file of the repository."
    links = re.findall(r"\]\((?!https?://|#)([^)\s]+)\)", (ROOT/"README.md").read_text())
    assert len(links) >= 6, links
    for link in links: assert (ROOT/link.split("#")[0]).exists(), link
