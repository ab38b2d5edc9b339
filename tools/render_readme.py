"""Render README.md from nbs/index.ipynb without Quarto.

`nbdev-readme` renders index.ipynb with Quarto, which is not installable everywhere. This does the same job for the
cells an index notebook uses: hidden cells (`#| hide`) are dropped, directives are stripped, markdown is copied, code
goes in ```python fences and text outputs in plain fences. tests/test_readme.py checks README.md is up to date.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIRECTIVE = re.compile(r"^\s*#\|\s*(.*)$")

def directives(source:str) -> list[str]:
    return [m.group(1).strip() for line in source.splitlines() if (m := DIRECTIVE.match(line))]

def strip_directives(source:str) -> str:
    return "\n".join(l for l in source.splitlines() if not DIRECTIVE.match(l)).strip("\n")

def output_text(output:dict) -> str:
    if output.get("output_type") == "stream": return "".join(output.get("text", ""))
    data = output.get("data", {})
    if "text/markdown" in data: return None
    return "".join(data.get("text/plain", ""))

def render(nb_path=ROOT/"nbs"/"index.ipynb") -> str:
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if any(d.split()[0] in ("hide", "hide_input") for d in directives(source) if d): continue
        if cell["cell_type"] == "markdown": parts.append(source.strip("\n"))
        elif cell["cell_type"] == "code":
            code = strip_directives(source)
            if code: parts.append(f"```python\n{code}\n```")
            texts = [t for o in cell.get("outputs", []) if (t := output_text(o))]
            if texts: parts.append("```\n" + "".join(texts).rstrip("\n") + "\n```")
    header = "<!-- Generated from nbs/index.ipynb by tools/render_readme.py: edit the notebook, not this file. -->\n\n"
    return header + "\n\n".join(parts) + "\n"

if __name__ == "__main__":
    out = ROOT/"README.md"
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if out.exists() and out.read_text(encoding="utf-8") == text else 1)
    out.write_text(text, encoding="utf-8")
