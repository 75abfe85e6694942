"""The README's code runs as written, and the course notebooks match their sources."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


# The anomaly example differentiates sqrt at 0 on purpose: NumPy warns, then adjoint raises.
@pytest.mark.filterwarnings("ignore:divide by zero encountered in power:RuntimeWarning")
def test_readme_python_blocks_run_in_order(tmp_path, monkeypatch, capsys):
    """Every python block runs, top to bottom, in one namespace (as a reader would paste them)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = blocks("python")
    assert code, "the README has no python blocks"
    namespace: dict = {"__name__": "__readme__"}
    for i, block in enumerate(code):
        exec(compile(block, f"README.md python block {i}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "OK" in out  # the tour's sympy check
    assert "\n0.25\n" in out  # the user-written op's second derivative (sigmoid'(0))
    assert "1.61930674936" in out  # the verified 4th derivative of log(1 + x^2) x


def test_readme_tour_numbers(tmp_path, monkeypatch, capsys):
    """The tour's claims: x.grad is the 2nd derivative, d3 the 3rd, Graph.run evaluates d3."""
    import numpy as np
    import sympy

    import adjoint as ad

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(blocks("python")[0], namespace)
    capsys.readouterr()
    s = sympy.Symbol("s")
    f = sympy.tanh(s) * sympy.exp(-(s**2))
    exact = [float(sympy.diff(f, s, n).subs(s, 0.5)) for n in (2, 3)]
    x, d3, z = namespace["x"], namespace["d3"], namespace["z"]
    assert float(x.grad) == pytest.approx(exact[0], rel=1e-12)
    assert float(d3) == pytest.approx(exact[1], rel=1e-12)
    assert float(z) == pytest.approx(3 * np.sin(0.5), rel=1e-15)
    rerun = ad.Graph(d3).run({x: [0.1, 0.5]})[0]
    expected = [float(sympy.diff(f, s, 3).subs(s, v)) for v in (0.1, 0.5)]
    np.testing.assert_allclose(rerun, expected, rtol=1e-12)


def test_readme_keeps_the_two_commands():
    bash = blocks("bash")
    assert "pip install . && python -m adjoint\n" in bash
    assert 'pip install -e ".[dev]" && python -m pytest\n' in bash


def test_readme_commands_of_the_cli_run(capsys):
    """The `python -m adjoint diff ...` lines of the README exit 0 (run in-process)."""
    import shlex

    from adjoint.cli import main

    lines = [
        line
        for block in blocks("bash")
        for line in block.splitlines()
        if line.startswith("python -m adjoint diff ") and "--help" not in line
    ]
    assert lines
    for line in lines:
        argv = [a for a in shlex.split(line)[3:]]
        if "--draw" in argv:
            argv = argv[: argv.index("--draw")]
        assert main(argv) == 0, line
    capsys.readouterr()


def test_readme_is_short_and_its_links_resolve():
    """A page for newcomers; the details live where it links (benchmarks/README.md ...)."""
    assert len(README.splitlines()) <= 200
    links = re.findall(r"\]\(([^)#]+)\)", README)
    assert "benchmarks/README.md" in links
    for link in links:
        if "://" not in link:
            assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def test_readme_lists_every_notebook():
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"`{path.stem}`" in README, f"{path.name} is not listed in README's course table"


def test_notebooks_match_their_sources():
    """Each notebooks/NN_*.ipynb with a source in notebooks/src/ is what the builder makes of it."""
    pytest.importorskip("nbformat")
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", ROOT / "notebooks" / "build_notebooks.py"
    )
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    sources = sorted(builder.SOURCES.glob("[0-9][0-9]_*.py"))
    assert len(sources) >= 7
    for source in sources:
        target = ROOT / "notebooks" / f"{source.stem}.ipynb"
        assert target.exists(), f"{target.name} missing: run python notebooks/build_notebooks.py"
        assert target.read_text() == builder.render(source), (
            f"{target.name} is stale: run python notebooks/build_notebooks.py"
        )
