"""``python -m adjoint``: the tour and ``diff``, run in-process with captured output."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import sympy

from adjoint.__main__ import main
from adjoint.cli_diff import differentiate, parse_formula


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows(out):
    """{label: (adjoint value, sympy value, agree)} from the derivative table."""
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] in ("yes", "NO"):
            table[parts[0]] = (float(parts[1]), float(parts[2]), parts[3] == "yes")
    return table


def test_tour_runs_with_no_arguments(capsys):
    code, out, err = run(capsys)
    assert code == 0 and not err
    table = rows(out)
    assert table["y"][0] == pytest.approx(np.log(2) + 10 - np.sin(5), rel=1e-14)
    assert table["dy/dx1"][0] == pytest.approx(5.5, rel=1e-14)
    assert table["dy/dx2"][0] == pytest.approx(2 - np.cos(5), rel=1e-14)
    assert table["d2y/dx2dx2"][0] == pytest.approx(np.sin(5), rel=1e-14)
    assert all(agree for _, _, agree in table.values())
    assert "all derivatives agree with sympy" in out


def test_diff_single_variable_to_third_order(capsys):
    code, out, err = run(
        capsys, "diff", "tanh(x)*exp(-x**2)", "--wrt", "x", "--order", "3", "--at", "x=0.3"
    )
    assert code == 0 and not err
    x = sympy.Symbol("x")
    f = sympy.tanh(x) * sympy.exp(-(x**2))
    table = rows(out)
    assert list(table) == ["f", "df/dx", "d^2f/dx^2", "d^3f/dx^3"]
    for label, n in zip(table, range(4)):
        exact = float(sympy.diff(f, x, n).subs(x, 0.3))
        assert table[label][0] == pytest.approx(exact, rel=1e-12)
        assert table[label][1] == pytest.approx(exact, rel=1e-15)
    assert "order 3:" in out


def test_diff_all_mixed_partials_once_each(capsys):
    code, out, _ = run(
        capsys, "diff", "x*y**2 + sin(x)*exp(y)", "--wrt", "x", "y", "--order", "2",
        "--at", "x=0.5", "--at", "y=-1",
    )  # fmt: skip
    assert code == 0
    table = rows(out)
    assert list(table) == ["f", "df/dx", "df/dy", "d^2f/dx^2", "d^2f/dxdy", "d^2f/dy^2"]
    assert table["d^2f/dxdy"][0] == pytest.approx(2 * -1 + np.cos(0.5) * np.exp(-1), rel=1e-14)


def test_diff_defaults_to_every_variable_and_accepts_comma_lists(capsys):
    code, out, _ = run(capsys, "diff", "a*b", "--at", "a=2,b=3", "--order", "2")
    assert code == 0
    table = rows(out)
    assert table["df/da"][0] == 3 and table["df/db"][0] == 2
    assert table["d^2f/dadb"][0] == 1 and table["d^2f/da^2"][0] == 0


def test_diff_derivative_in_a_variable_not_in_the_formula_is_zero(capsys):
    code, out, _ = run(capsys, "diff", "x**3", "--wrt", "y", "--order", "2", "--at", "x=1,y=2")
    assert code == 0
    assert rows(out)["d^2f/dy^2"][0] == 0


def test_diff_graph_sizes_grow_with_order_and_simplify_small(capsys):
    _, out, _ = run(capsys, "diff", "tanh(x)", "--order", "6", "--at", "x=0.1")
    sizes = [tuple(map(int, m)) for m in re.findall(r"order \d+: (\d+).*?(\d+) after", out)]
    raw = [r for r, _ in sizes]
    simplified = [s for _, s in sizes]
    assert len(sizes) == 7 and raw == sorted(raw) and raw[0] == 2
    assert raw[6] > 200 and simplified[6] <= 60  # the target at the 6th derivative


def test_diff_draws_the_graph_of_all_derivatives(capsys, tmp_path):
    path = tmp_path / "graph.svg"
    code, out, _ = run(
        capsys, "diff", "x*exp(x)", "--order", "2", "--at", "x=1", "--draw", str(path)
    )
    assert code == 0 and f"graph drawn to {path}" in out
    svg = path.read_text()
    assert svg.lstrip().startswith(("<svg", "<?xml")) and "</svg>" in svg


def test_diff_draw_to_an_unwritable_path_is_a_usage_error(capsys, tmp_path):
    path = tmp_path / "no" / "such" / "dir" / "graph.svg"
    code, _, err = run(capsys, "diff", "x", "--at", "x=1", "--draw", str(path))
    assert code == 2 and "--draw" in err and len(err.strip().splitlines()) == 1


def test_diff_reports_a_mismatch_with_exit_code_1(capsys, monkeypatch):
    # A deliberately wrong gradient rule for sin: the check must catch it.
    from adjoint.ops import elementwise

    monkeypatch.setattr(elementwise.Sin, "gradient", lambda self, g, node: (g * 2.0,))
    code, out, _ = run(capsys, "diff", "sin(x)", "--at", "x=0.4")
    assert code == 1 and "MISMATCH" in out and not rows(out)["df/dx"][2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sin(x", "--at", "x=1"], "malformed expression"),
        (["x +* 2", "--at", "x=1"], "malformed expression"),
        (["foo(x)", "--at", "x=1"], "unknown function 'foo'"),
        (["x.__class__", "--at", "x=1"], "unsupported syntax"),
        (["(lambda: 1)()", "--at", "x=1"], "unknown function"),
        (["x[0]", "--at", "x=1"], "unsupported syntax"),
        (["'abc'"], "only numbers"),
        (["sin(x, y)", "--at", "x=1,y=2"], "exactly one argument"),
        (["x*y", "--at", "x=1"], "no value for y"),
        (["x", "--at", "x=abc"], "'abc' is not a number"),
        (["x", "--at", "x"], "expects name=value"),
        (["x", "--wrt", "y", "--at", "x=1"], "--wrt y"),
        (["log(x)", "--at", "x=-1"], "not a finite real number"),
        (["1/x", "--at", "x=0"], "not a finite real number"),
        (["x", "--order", "11", "--at", "x=1"], "--order"),
        (["2", "--order", "1"], "no variables"),
        (["x", "--at", "x=1", "--draw", "graph.pdf"], ".svg, .png or .dot"),
        (["(-2)**x", "--at", "x=1"], "positive base"),
        (["x/0", "--at", "x=1"], "cannot differentiate"),
        (["x**1000", "--at", "x=10"], "overflows float64"),
        (["x", "--at", "x=nan"], "not a finite real number"),
        (["", "--at", "x=1"], "malformed expression"),
    ],
)
def test_diff_usage_errors_are_one_line_and_exit_code_2(capsys, argv, message):
    code, out, err = run(capsys, "diff", *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("python -m adjoint: error:")


def test_help_explains_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "diff" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["diff", "--help"])
    text = capsys.readouterr().out
    for option in ("--wrt", "--order", "--at", "--draw", "mixed partials", "tanh"):
        assert option in text


def test_parse_formula_never_evaluates_python():
    # Names that are Python builtins or sympy objects are plain symbols here.
    expr = parse_formula("N*x + I + S + eval")
    assert {str(s) for s in expr.free_symbols} == {"N", "x", "I", "S", "eval"}
    assert parse_formula("x^2 + E + pi") == sympy.Symbol("x", real=True) ** 2 + sympy.E + sympy.pi


def test_every_allowed_function_is_differentiated_to_second_order():
    expr = parse_formula(
        "sin(x)+cos(x)+tan(x)+exp(x)+log(x)+ln(x)+sqrt(x)+tanh(x)+sinh(x)+cosh(x)"
        "+abs(x)+Abs(x)+2**x+x**x+1/x+pi*E"
    )
    derivatives, _ = differentiate(expr, ["x"], 2, {"x": 0.7})
    x = sympy.Symbol("x", real=True)
    assert derivatives[0].value == pytest.approx(float(expr.subs(x, 0.7)), rel=1e-14)
    assert len(derivatives) == 3 and all(d.agrees for d in derivatives)


def test_python_m_adjoint_runs_as_a_program():
    result = subprocess.run(
        [sys.executable, "-m", "adjoint", "diff", "exp(x)", "--at", "x=1", "--order", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "all derivatives agree with sympy" in result.stdout
