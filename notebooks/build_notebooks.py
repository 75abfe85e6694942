"""Build the course notebooks from their sources in ``notebooks/src/``.

Each notebook is written as a plain Python file in the "percent" format that
jupytext and VS Code understand, so it can be reviewed, diffed and grepped as
code:

    # %% [markdown]
    # # A title
    # Some text.

    # %%
    x = 1 + 1

This script turns ``src/NN_name.py`` into ``NN_name.ipynb`` without outputs
(the test suite executes the notebooks; outputs belong to the reader's run).
Cell ids are derived from the file name and cell number, so rebuilding an
unchanged source gives a byte-identical notebook.

    python notebooks/build_notebooks.py           # (re)write every notebook
    python notebooks/build_notebooks.py --check   # exit 1 if a notebook is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def parse_cells(text: str) -> list[tuple[str, str]]:
    """The (kind, source) cells of a percent-format file; kind is 'code' or 'markdown'."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' cell marker: {line!r}")
    result = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        source = "\n".join(lines).strip("\n")
        if source:
            result.append((kind, source))
    return result


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    if line.rstrip() in ("#", ""):
        return ""
    raise ValueError(f"markdown lines must start with '# ': {line!r}")


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook (no outputs, deterministic cell ids) for one source file."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = KERNELSPEC
    notebook.metadata["language_info"] = {"name": "python"}
    for i, (kind, text) in enumerate(parse_cells(source.read_text())):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(text)
        cell["id"] = f"{source.stem[:2]}-{i:03d}"
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def render(source: Path) -> str:
    return nbformat.writes(build(source), version=4) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted(SOURCES.glob("[0-9][0-9]_*.py")):
        target = HERE / f"{source.stem}.ipynb"
        text = render(source)
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target.name)
        if not args.check:
            target.write_text(text)
    if args.check and stale:
        print("stale notebooks (run python notebooks/build_notebooks.py):", *stale, file=sys.stderr)
        return 1
    for name in stale if not args.check else []:
        print("wrote", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
