"""The docs site: nbdev's notebook processors (what `nbdev-docs` runs before Quarto) succeed on every notebook, every
public function and class gets its documentation there, and the custom sidebar lists each page once, in order."""
import importlib, json, re, warnings
import pytest, yaml
from conftest import ROOT

NBS = ROOT/"nbs"
PAGES = sorted(str(p.relative_to(NBS)) for p in NBS.rglob("*.ipynb")
               if not any(part.startswith(("_", ".")) for part in p.relative_to(NBS).parts))

def test_sidebar_lists_every_page_once_in_order():
    sidebar = yaml.safe_load((NBS/"sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    assert [s["section"] for s in sidebar] == ["Getting started", "Tutorials", "API"]
    listed = [p for s in sidebar for p in s["contents"]]
    assert sorted(listed) == PAGES and len(listed) == len(set(listed))
    start, tutorials, api = (s["contents"] for s in sidebar)
    assert start[0] == "index.ipynb" and all(p.startswith("explanations/") for p in start[1:])
    assert tutorials == sorted(p for p in PAGES if p.startswith("tutorials/"))
    assert api == sorted(p for p in PAGES if re.match(r"\d\d\w*_", p))
    quarto = yaml.safe_load((NBS/"_quarto.yml").read_text())
    assert "sidebar.yml" in quarto["metadata-files"]
    assert re.search(r"^custom_sidebar = true$", (ROOT/"pyproject.toml").read_text(), re.M)  # nbdev leaves it alone

def exported_module(nb:dict) -> str|None:
    for c in nb["cells"]:
        m = re.match(r"#\|\s*default_exp\s+(\S+)", "".join(c["source"]))
        if c["cell_type"] == "code" and m: return m.group(1)

def markdown_outputs(nb:dict) -> str:
    return "\n".join("".join(o["data"]["text/markdown"]) for c in nb["cells"] for o in c.get("outputs", []) if "text/markdown" in o.get("data", {}))

def test_doc_processors_run_over_every_notebook(tmp_path, monkeypatch):
    from nbdev.processors import FilterDefaults
    from nbdev.serve_drv import exec_nb
    monkeypatch.chdir(ROOT)
    for page in PAGES:
        src, dst = NBS/page, tmp_path/page
        dst.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec_nb(src, dst, FilterDefaults)
        nbdev_warnings = [str(w.message) for w in caught if "nbdev" in w.filename]
        assert not nbdev_warnings, f"{page}: {nbdev_warnings}"
        nb = json.loads(dst.read_text())
        sources = "\n".join("".join(c["source"]) for c in nb["cells"])
        assert not re.search(r"^#\|\s*(export|hide|default_exp)", sources, re.M), f"{page}: a directive survived processing"
        module = exported_module(json.loads(src.read_text()))
        if module is None: continue
        mod = importlib.import_module(f"codex_nb.{module}")
        documented = set(re.findall(r"^#+\s+(\w+)", markdown_outputs(nb), re.M))
        public = [n for n in mod.__all__ if callable(getattr(mod, n)) and getattr(getattr(mod, n), "__module__", "") == mod.__name__]
        missing = sorted(set(public) - documented)
        assert not missing, f"{page}: no documentation rendered for {missing}"

@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_a_title_and_subtitle(page):
    first = next(c for c in json.loads((NBS/page).read_text())["cells"] if c["cell_type"] == "markdown")
    lines = "".join(first["source"]).splitlines()
    assert lines[0].startswith("# "), page
    assert any(l.startswith("> ") for l in lines[1:4]), f"{page}: no '> subtitle' under the title (nbdev frontmatter)"
