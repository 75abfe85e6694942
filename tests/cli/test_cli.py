"""``python -m adjoint``: the tour and ``diff``, run in-process with captured output."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import types
from typing import NamedTuple

import numpy as np
import pytest
import sympy

from adjoint.cli import diff as cli_diff
from adjoint.cli import main
from adjoint.cli.diff import UsageError, differentiate, parse_formula
from adjoint.symbolic import parse


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class Row(NamedTuple):
    grad: float  # nested ad.grad
    backward: float  # repeated backward()
    sympy: float
    grad_agrees: bool
    backward_agrees: bool


def rows(out):
    """{label: Row} from the derivative table of the tour or of ``diff``."""
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 6 and {parts[4], parts[5]} <= {"yes", "NO"}:
            values = [float(p) for p in parts[1:4]]
            table[parts[0]] = Row(*values, parts[4] == "yes", parts[5] == "yes")
    return table


def test_tour_runs_with_no_arguments(capsys):
    code, out, err = run(capsys)
    assert code == 0 and not err
    table = rows(out)
    assert len(table) == 7 + 5
    assert table["y"].backward == pytest.approx(np.log(2) + 10 - np.sin(5), rel=1e-14)
    assert table["d4f/dx4"].sympy == pytest.approx(1.619306749360434, rel=1e-14)  # issue 16
    assert table["d5f/dx5"].grad == pytest.approx(table["d5f/dx5"].sympy, rel=1e-12)
    assert table["dy/dx1"].backward == pytest.approx(5.5, rel=1e-14)
    assert table["dy/dx2"].backward == pytest.approx(2 - np.cos(5), rel=1e-14)
    assert table["d2y/dx2dx2"].backward == pytest.approx(np.sin(5), rel=1e-14)
    for row in table.values():  # nested ad.grad gives the same numbers
        assert row.grad == pytest.approx(row.sympy, rel=1e-14, abs=1e-15)
        assert row.grad_agrees and row.backward_agrees
    assert "all derivatives agree with sympy" in out


def test_tour_checks_nested_grad_too(capsys, monkeypatch):
    # A broken ad.grad (its results off by 1e-6) must fail the tour in the grad column.
    import adjoint as ad

    grad = ad.grad
    off = lambda f, argnums=0: lambda *xs: grad(f, argnums)(*xs) + 1e-6  # noqa: E731
    monkeypatch.setattr(ad, "grad", off)
    code, out, _ = run(capsys)
    assert code == 1 and "MISMATCH" in out
    table = rows(out)
    assert table["y"].grad_agrees
    assert not any(row.grad_agrees for label, row in table.items() if label != "y")
    assert all(row.backward_agrees for row in table.values())


def test_tour_catches_a_simplifier_that_cuts_a_dependence(capsys, monkeypatch):
    # Issue 16's bug put back: rules looking through the variables grad keeps.
    import sys

    import adjoint as ad

    module = sys.modules["adjoint.rewrite.rebuild"]
    monkeypatch.setattr(module._Builder, "op_of", lambda self, node: node.op)
    with ad.verify_rewrites(False):  # the value check alone, as a user runs the tour
        code, out, _ = run(capsys)
    assert code == 1 and "MISMATCH" in out
    table = rows(out)
    assert not all(row.grad_agrees for row in table.values())
    assert all(row.backward_agrees for row in table.values())


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
        assert table[label].grad == pytest.approx(exact, rel=1e-12)
        assert table[label].backward == pytest.approx(exact, rel=1e-12)
        assert table[label].sympy == pytest.approx(exact, rel=1e-15)
    assert "order 3:" in out


def test_diff_all_mixed_partials_once_each(capsys):
    code, out, _ = run(
        capsys, "diff", "x*y**2 + sin(x)*exp(y)", "--wrt", "x", "y", "--order", "2",
        "--at", "x=0.5", "--at", "y=-1",
    )  # fmt: skip
    assert code == 0
    table = rows(out)
    assert list(table) == ["f", "df/dx", "df/dy", "d^2f/dx^2", "d^2f/dxdy", "d^2f/dy^2"]
    want = 2 * -1 + np.cos(0.5) * np.exp(-1)
    assert table["d^2f/dxdy"].backward == pytest.approx(want, rel=1e-14)
    assert table["d^2f/dxdy"].grad == pytest.approx(want, rel=1e-14)


def test_diff_defaults_to_every_variable_and_accepts_comma_lists(capsys):
    code, out, _ = run(capsys, "diff", "a*b", "--at", "a=2,b=3", "--order", "2")
    assert code == 0
    table = rows(out)
    assert table["df/da"][:2] == (3, 3) and table["df/db"][:2] == (2, 2)
    assert table["d^2f/dadb"][:2] == (1, 1) and table["d^2f/da^2"][:2] == (0, 0)


def test_diff_derivative_in_a_variable_not_in_the_formula_is_zero(capsys):
    code, out, _ = run(capsys, "diff", "x**3", "--wrt", "y", "--order", "2", "--at", "x=1,y=2")
    assert code == 0
    assert rows(out)["d^2f/dy^2"][:3] == (0, 0, 0)


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


def test_diff_draw_of_a_graph_too_large_to_read_is_a_usage_error(capsys, tmp_path):
    argv = ("diff", "tanh(x)*exp(-x**2)", "--order", "6", "--at", "x=0.3", "--draw")
    code, _, err = run(capsys, *argv, str(tmp_path / "g.svg"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "1,017 nodes, more than 400" in err and ".dot" in err
    assert not (tmp_path / "g.svg").exists()
    code, _, _ = run(capsys, *argv, str(tmp_path / "g.dot"))  # DOT text at any size
    assert code == 0 and (tmp_path / "g.dot").stat().st_size > 0


def test_diff_draw_to_an_unwritable_path_is_a_usage_error(capsys, tmp_path):
    path = tmp_path / "no" / "such" / "dir" / "graph.svg"
    code, _, err = run(capsys, "diff", "x", "--at", "x=1", "--draw", str(path))
    assert code == 2 and "--draw" in err and len(err.strip().splitlines()) == 1


def code_blocks(out):
    """The --code blocks: {label: block text}, in the order printed."""
    section = out.split("each block runs on its own.\n", 1)[1]
    blocks = {}
    for block in map(str.strip, section.split("\n\n")):
        heading = re.match(r"# (\S+) on the grad path", block)
        if heading:
            blocks[heading[1]] = block
    return blocks


def run_block(block, *point):
    """Execute a --code block on its own; (function name, its value at ``point``)."""
    namespace = {}
    exec(compile(block, "<--code block>", "exec"), namespace)  # noqa: S102
    name = re.search(r"^def (\w+)\(", block, re.M)[1]
    (value,) = namespace[name](*point)
    return name, value


def test_diff_code_prints_every_derivative_as_source_that_runs(capsys):
    code, out, err = run(
        capsys, "diff", "x*y**2 + sin(x)*exp(y)", "--wrt", "x", "y", "--order", "2",
        "--at", "x=0.5", "--at", "y=-1", "--code",
    )  # fmt: skip
    assert code == 0 and not err
    table = rows(out)
    blocks = code_blocks(out)
    assert list(blocks) == list(table)  # every derivative, mixed partials included, in order
    names = []
    for label, block in blocks.items():
        lines = block.splitlines()
        assert "grad path" in lines[0] and lines[1] == "import numpy as xp"
        name, value = run_block(block, 0.5, -1.0)
        names.append(name)
        assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == np.float64
        assert float(value) == pytest.approx(table[label].grad, rel=1e-15)
        assert "to the last bit" in lines[-1]
        assert float(lines[-1].split(" = ")[1].split()[0]) == float(value)  # printed exactly
        # One assignment per op node (after CSE), as many as the heading says.
        body = [line for line in lines if re.match(r"    \w+ = ", line)]
        assert f"{len(body)} line" in lines[0]
        assert all(re.search(r"# \w+, order \d", line) for line in body)
        assert re.search(rf"^def {name}\(x, y\):$", block, re.M)
    assert names == ["f", "df_dx", "df_dy", "d2f_dx2", "d2f_dxdy", "d2f_dy2"]
    # The mixed partial, by hand: 2y + cos(x) e^y.
    want = 2 * -1 + np.cos(0.5) * np.exp(-1)
    assert float(run_block(blocks["d^2f/dxdy"], 0.5, -1.0)[1]) == pytest.approx(want, rel=1e-14)
    # The source is a function of the variables: another point gives another value.
    x, y = 0.2, 0.7
    want = 2 * y + np.cos(x) * np.exp(y)
    assert float(run_block(blocks["d^2f/dxdy"], x, y)[1]) == pytest.approx(want, rel=1e-14)


def test_diff_code_of_higher_orders_and_constant_derivatives(capsys):
    code, out, _ = run(
        capsys, "diff", "tanh(x)*exp(-x**2)", "--wrt", "x", "z", "--order", "3",
        "--at", "x=0.3,z=2", "--code",
    )  # fmt: skip
    assert code == 0
    table = rows(out)
    blocks = code_blocks(out)
    assert list(blocks) == list(table) and len(blocks) == 10
    for label, block in blocks.items():
        _, value = run_block(block, 0.3, 2.0)
        assert float(value) == pytest.approx(table[label].grad, rel=1e-15, abs=0)
    assert "return (" in blocks["d^3f/dz^3"] and float(run_block(blocks["d^3f/dz^3"], 0, 0)[1]) == 0


def test_diff_code_that_differs_from_nested_grad_is_a_mismatch(capsys, monkeypatch):
    from adjoint.compiler import CompiledGraph

    call = CompiledGraph.__call__
    monkeypatch.setattr(
        CompiledGraph, "__call__", lambda self, *a: [r + 1e-9 for r in call(self, *a)]
    )
    code, out, _ = run(capsys, "diff", "sin(x)", "--at", "x=0.4", "--code")
    assert code == 1
    assert "MISMATCH (--code): the compiled code differs from nested ad.grad at f, df/dx" in out
    assert all(row.grad_agrees and row.backward_agrees for row in rows(out).values())


def test_diff_reports_a_mismatch_with_exit_code_1(capsys, monkeypatch):
    # A deliberately wrong gradient rule for sin: the check must catch it.
    from adjoint.ops import elementwise

    monkeypatch.setattr(elementwise.Sin, "gradient", lambda self, g, node: (g * 2.0,))
    code, out, _ = run(capsys, "diff", "sin(x)", "--at", "x=0.4")
    row = rows(out)["df/dx"]
    assert code == 1 and not row.grad_agrees and not row.backward_agrees
    assert "MISMATCH with sympy (grad): nested ad.grad disagrees at df/dx" in out
    assert "MISMATCH with sympy (backward): repeated backward() disagrees at df/dx" in out


# Issue 16: nested ad.grad (simplified from the 3rd order on) gave 0.0 for the 4th
# derivative of log(1 + x**2) * x at -0.939, and diff, which then built derivatives
# by repeated backward() only, said all was right.
def test_diff_checks_nested_grad_to_the_fifth_order(capsys):
    code, out, _ = run(capsys, "diff", "log(1+x**2)*x", "--order", "5", "--at", "x=-0.939")
    table = rows(out)
    assert list(table) == ["f", "df/dx", *(f"d^{n}f/dx^{n}" for n in range(2, 6))]
    assert table["d^4f/dx^4"].sympy == pytest.approx(1.619306749360434, rel=1e-15)
    for row in table.values():
        assert row.grad == pytest.approx(row.sympy, rel=1e-12)
        assert row.grad_agrees and row.backward_agrees
    assert code == 0 and "all derivatives agree with sympy" in out
    assert re.search(r"order 5: .*; \d+ as nested ad.grad returns them", out)


def _constant_of_same_value(*outputs, keep=(), polynomials=True):
    """A broken simplifier: each output replaced by a constant of the same value."""
    import adjoint as ad

    cut = tuple(ad.Tensor(o.numpy(), requires_grad=False) for o in outputs)
    return types.SimpleNamespace(outputs=cut)


def test_diff_catches_a_simplifier_that_cuts_the_graph(capsys, monkeypatch):
    import adjoint.functional

    monkeypatch.setattr(adjoint.functional, "_simplify_graph", _constant_of_same_value)
    argv = ("diff", "log(1+x**2)*x", "--order", "5", "--at", "x=-0.939")
    code, out, _ = run(capsys, *argv)
    table = rows(out)
    assert code == 1
    # The 3rd derivative is simplified into a constant of the right value: the 4th is 0.
    assert [label for label, row in table.items() if not row.grad_agrees] == [
        "d^4f/dx^4",
        "d^5f/dx^5",
    ]
    assert table["d^4f/dx^4"].grad == 0 and table["d^4f/dx^4"].backward_agrees
    assert all(row.backward_agrees for row in table.values())
    assert "MISMATCH with sympy (grad): nested ad.grad disagrees at d^4f/dx^4, d^5f/dx^5" in out
    assert "(backward)" not in out and "all derivatives agree" not in out


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
        (["(-2)**x", "--at", "x=1"], "needs a base >= 0"),
        (["x/0", "--at", "x=1"], "cannot differentiate"),
        (["x**1000", "--at", "x=10"], "overflows float64"),
        (["x", "--at", "x=nan"], "not a finite real number"),
        (["", "--at", "x=1"], "malformed expression"),
        # issue 17, item 8: a derivative that is no number, overflow, the limits
        (["abs(x)", "--at", "x=0", "--order", "2"], "sympy gives 2.0*DiracDelta(0.0)"),
        (["exp(exp(exp(x)))", "--at", "x=10"], "overflows float64 at x=10: its step exp"),
        (["2**x", "--at", "x=5000"], "its step 2**5000 is infinite"),
        (["10**10**10*x", "--at", "x=0.3"], "exponent 10**10 = 1e+10"),
        (["x*y*z", "--order", "7", "--at", "x=1,y=1,z=1"], "120 derivatives"),
        (["x", "--at", "x=1", "--timeout", "-1"], "--timeout"),
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
    for option in ("--wrt", "--order", "--at", "--draw", "--code", "mixed partials", "tanh"):
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
    assert all(d.agrees_by_path == {"grad": True, "backward": True} for d in derivatives)
    assert derivatives[2].grad_value == pytest.approx(derivatives[2].exact_value, rel=1e-12)


def test_python_m_adjoint_runs_as_a_program():
    result = subprocess.run(
        [sys.executable, "-m", "adjoint", "diff", "exp(x)", "--at", "x=1", "--order", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "all derivatives agree with sympy" in result.stdout


# ------------------------------------------------------------------ limits (issue 17, item 8)

VARS = ",".join(f"{v}=0.5" for v in "abcdefghijk")

# Formulas that hung the command or crashed it with a traceback, and each limit's
# own case: every one must end at once with one line on stderr and exit code 2.
# Run as programs, under a timeout that only guards against a hang.
MALICIOUS = [
    (["10**10**10*x", "--at", "x=0.3"], "the exponent 10**10 = 1e+10"),
    (["2**2**30+x", "--at", "x=0.3"], "the exponent 2**30"),
    (["(x+1)**100000", "--at", "x=0.3", "--formulas"], "the exponent 100000"),
    (["((2**1000)**1000)**1000*x", "--at", "x=0.3"], "limit is 10**±400"),
    (["9" * 900 + "*x", "--at", "x=0.3"], "digits; the limit is 400"),
    (["1e400*x", "--at", "x=0.3"], "beyond float64"),
    (["x" + "+x" * 5000, "--at", "x=0.3"], "10,001 characters"),
    (["(" * 300 + "x" + ")" * 300, "--at", "x=0.3"], "too many nested parentheses"),
    (["sin(" * 150 + "x" + ")" * 150, "--at", "x=0.3"], "nested more than 20 levels"),
    (["x" + "**x" * 300, "--at", "x=0.3"], "nested more than 20 levels"),
    (["+".join("abcdefghijk"), "--at", VARS], "11 variables"),
    (["x*y*z", "--order", "10", "--at", "x=1,y=1,z=1"], "286 derivatives"),
    (["abs(x)", "--at", "x=0", "--order", "2"], "DiracDelta"),
    (["exp(exp(exp(x)))", "--at", "x=10"], "overflows float64"),
    (["sin(sin(sin(sin(sin(x)))))", "--order", "10", "--at", "x=0.3", "--timeout", "2"],
     "gave up"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), MALICIOUS, ids=lambda v: str(v)[:30])
def test_malicious_formulas_end_at_once_with_one_line_and_exit_code_2(argv, message):
    result = subprocess.run(
        [sys.executable, "-m", "adjoint", "diff", *argv],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard, not a speed assertion
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m adjoint: error:"), lines
    assert message in lines[0] and not result.stdout


@pytest.mark.parametrize(
    "text",
    [
        "x" + "+x" * 499 + " ",  # MAX_LENGTH characters
        "sin(" * 20 + "x" + ")" * 20,  # MAX_DEPTH levels
        "sin(" * 19 + "x+y-x+2" + ")" * 19,  # a run of + - is one level
        "-(" * 10 + "x*y/x*y" + ")" * 10,  # so is a run of * /
        "x**1000 + x**-1000 + x**(10**3) + x**(1/3)",
        "2**1000*x + 10**400*x + (1/10)**400*x + 2.5**1000*x + 0**5*x",
        "1" + "0" * 399 + "*x",  # an integer of MAX_CONSTANT_DIGITS digits
        "1e308*x + exp(500)*x + pi**100*x + E**x",
        "x**x**x**x + 2**(2**x)",  # exponents with variables are not bounded
    ],
)
def test_formulas_within_the_limits_parse(text):
    assert isinstance(parse_formula(text), sympy.Expr)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" + "+x" * 500, "1,001 characters (limit 1,000)"),
        ("sin(" * 21 + "x" + ")" * 21, "nested more than 20 levels"),
        ("-" * 21 + "x", "nested more than 20 levels"),
        ("x" + "**x" * 21, "nested more than 20 levels"),
        ("x**1001", "the exponent 1001 = 1001 in 'x**1001' is beyond the limit of ±1000"),
        ("x**-1e4", "the exponent -1e4 = -1e+04"),
        ("x**(2^10)", "the exponent 2**10 = 1024"),
        ("x**(1/0)", "the exponent 1/0 in 'x**(1/0)' is not a real number"),
        ("10**401*x", "the constant 10**401 in '10**401*x' is about 10**401"),
        ("(1/10)**401*x", "about 10**-401"),
        ("exp(1000)**2*x", "the constant exp(1000)**2"),
        ("(10**200*10**201)**1*x", "about 10**401"),
        ("1" + "0" * 400 + "*x", "has about 400 digits; the limit is 400"),
        ("1e309*x", "the number 1e309 in '1e309*x' is beyond float64"),
    ],
)
def test_formulas_beyond_the_limits_are_refused_before_sympy(text, message, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("sympy saw the formula")

    monkeypatch.setattr(parse, "parse_expr", never)
    with pytest.raises(UsageError) as info:
        parse_formula(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("n", "order", "count"),
    [(1, 10, 11), (2, 10, 66), (3, 6, 84), (3, 7, 120), (4, 4, 70), (4, 5, 126), (10, 2, 66),
     (10, 3, 286)],
)  # fmt: skip
def test_derivative_count_is_every_mixed_partial(n, order, count):
    names = [f"v{k}" for k in range(n)]
    at = dict.fromkeys(names, 1.0)
    expr = sympy.Symbol("v0")
    if count <= cli_diff.MAX_DERIVATIVES:
        cli_diff.check_counts(expr, names, at, order)
    else:
        with pytest.raises(UsageError, match=f"asks for {count} derivatives"):
            cli_diff.check_counts(expr, names, at, order)


def test_variables_are_counted_in_the_formula_wrt_and_at_together():
    x = sympy.Symbol("x")
    ten = [f"v{k}" for k in range(9)]
    cli_diff.check_counts(x, ten[:1], dict.fromkeys(["x", *ten], 1.0), 1)
    with pytest.raises(UsageError, match="11 variables"):
        cli_diff.check_counts(x, ["w"], dict.fromkeys(["x", *ten], 1.0), 1)


def test_timeout_gives_up_and_restores_the_alarm(capsys):
    handler = signal.getsignal(signal.SIGALRM)
    argv = ("diff", "sin(sin(sin(sin(sin(x)))))", "--order", "10", "--at", "x=0.3")
    code, out, err = run(capsys, *argv, "--timeout", "0.5")
    assert code == 2 and not out
    assert "gave up on 'sin(sin(sin(sin(sin(x)))))' after 0.5 s (--timeout)" in err
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler


def test_formulas_are_simplified_within_a_budget(capsys, monkeypatch):
    # sympy.simplify of the derivatives of (x+1)**1000 takes it many seconds.
    monkeypatch.setattr(cli_diff, "SIMPLIFY_SECONDS", 0.5)
    code, out, _ = run(capsys, "diff", "(x+1)**1000", "--order", "4", "--at", "x=0.3", "--formulas")
    assert code == 0
    assert "d^4f/dx^4 = 994010994000*(x + 1)**996" in out
    code, out, _ = run(capsys, "diff", "sin(x)*cos(x)", "--at", "x=0.3", "--formulas")
    assert code == 0 and "df/dx = cos(2*x)" in out  # simplified while there is time


def test_help_states_the_limits(capsys):
    with pytest.raises(SystemExit):
        main(["diff", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for limit in (
        f"at most {cli_diff.MAX_LENGTH} characters",
        f"nested at most {cli_diff.MAX_DEPTH} levels",
        f"±{cli_diff.MAX_EXPONENT}",
        f"at most {cli_diff.MAX_CONSTANT_DIGITS} digits",
        f"at most {cli_diff.MAX_VARIABLES} variables",
        f"{cli_diff.MAX_DERIVATIVES} derivatives",
        f"default {cli_diff.DEFAULT_TIMEOUT:g}",
    ):
        assert limit in text
