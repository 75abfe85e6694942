"""The course notebooks run top to bottom from a clean kernel.

Each notebook asserts its key numbers in its own code cells, so executing it is
the test: a wrong number raises inside the notebook and fails here, with the
failing cell shown. Notebooks run in a scratch directory (whatever they write
stays out of the checkout) with the installed package, as a reader would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))

#: The notebooks of the default run (about 2 s each); the others take 3-6 s each and
#: are marked slow (``python -m pytest -m slow`` runs them; ``.ci/run`` does).
FAST = {"03_building_the_engine", "07_gradients_as_formulas"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p.stem, marks=() if p.stem in FAST else pytest.mark.slow)
        for p in NOTEBOOKS
    ],
)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    """A failing cell (a wrong asserted number included) raises CellExecutionError."""
    notebook = nbformat.read(path, as_version=4)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
