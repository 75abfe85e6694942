"""``python -m adjoint --version`` and the progress bars of long loops (tqdm optional)."""

from __future__ import annotations

import importlib.metadata
import io
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

import adjoint
from adjoint.cli import main
from adjoint.progress import progress

ROOT = Path(__file__).resolve().parents[2]


def test_version_option_prints_the_versions_and_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out == (
        f"adjoint {adjoint.__version__} (Python {platform.python_version()}, "
        f"numpy {np.__version__}, sympy {sympy.__version__})\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "adjoint", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout == out


def test_the_version_is_the_one_in_pyproject():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert adjoint.__version__ == project["version"]
    assert importlib.metadata.version("adjoint") == project["version"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _hide_tqdm(monkeypatch):
    for name in ("tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError


def test_progress_is_silent_off_a_terminal_and_passes_items_through():
    items = [3, 1, 2]
    assert progress(items, enabled=False) is items
    stream = io.StringIO()
    assert list(progress(iter(items), desc="x", file=stream)) == items
    assert stream.getvalue() == ""


def test_progress_uses_tqdm_when_installed():
    pytest.importorskip("tqdm")
    stream = Terminal()
    assert list(progress(range(4), desc="epochs", file=stream)) == [0, 1, 2, 3]
    assert "epochs" in stream.getvalue() and "/4 [" in stream.getvalue()  # tqdm's bar


def test_progress_falls_back_to_a_plain_bar_without_tqdm(monkeypatch):
    _hide_tqdm(monkeypatch)
    stream = Terminal()
    assert list(progress(range(4), desc="epochs", file=stream)) == [0, 1, 2, 3]
    text = stream.getvalue()
    assert "\repochs [#####               ] 1/4" in text
    assert "\repochs [####################] 4/4" in text
    assert text.endswith("\r" + " " * len("\repochs [####################] 4/4") + "\r")
    stream = Terminal()
    assert list(progress((k for k in "ab"), file=stream, enabled=True)) == ["a", "b"]
    assert "\r1" in stream.getvalue() and "\r2" in stream.getvalue()


@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_diff_shows_progress_on_a_terminal_only(monkeypatch, capsys, tqdm_installed):
    if not tqdm_installed:
        _hide_tqdm(monkeypatch)
    argv = ["diff", "sin(x)*x", "--order", "3", "--at", "x=0.5"]
    assert main(argv) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(argv) == 0
    assert capsys.readouterr().out == quiet.out  # the table is the same
    shown = terminal.getvalue()
    assert "orders" in shown and ("/3 [" if tqdm_installed else "] 3/3") in shown
