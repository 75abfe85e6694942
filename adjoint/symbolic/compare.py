"""Exact checks of derivatives: :func:`check` compares adjoint's with ``sympy.diff``.

Each derivative is built on both paths users meet: nested :func:`adjoint.grad`
(simplified from the third order on) and repeated backward passes (the raw
gradient graphs), so a bug in either, the simplifier's included, fails the
check and the report names the path. Differences are first proved zero
symbolically, else compared in value to 30 digits at the inputs and nearby.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from adjoint import functional
from adjoint.autograd import compute_gradient_of_variables
from adjoint.symbolic.deep import _deep
from adjoint.symbolic.translate import _symbol_array, _Translator
from adjoint.tensor import Tensor

__all__ = ["check", "CheckReport", "Derivative", "PathResult", "PATHS"]


# ------------------------------------------------------------------ arguments


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def _count_arg(value: Any, name: str, what: str, least: int) -> int:
    """An int argument of at least ``least``; bools and floats are refused."""
    if not _is_int(value):
        raise TypeError(
            f"{name}: {what} must be an int >= {least}, got {value!r} ({type(value).__name__}; "
            "bools and floats are not counts)"
        )
    if value < least:
        raise ValueError(f"{name}: {what} must be an int >= {least}, got {value}")
    return int(value)


def _tolerance_arg(value: Any, name: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(
            f"{name}: {what} must be a real number >= 0, got {value!r} ({type(value).__name__})"
        )
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: {what} must be a finite number >= 0, got {value}")
    return value


# ---------------------------------------------------------------- zero proofs


def _drop_deltas(expr: sympy.Expr) -> sympy.Expr:
    deltas = expr.atoms(sympy.DiracDelta)
    return expr.xreplace({d: sympy.Integer(0) for d in deltas}) if deltas else expr


def _heaviside_as_sign(expr: sympy.Expr) -> sympy.Expr:
    """Heaviside(z, h) = (sign(z) + 1)/2 + (h - 1/2)(1 - sign(z)**2): one normal form."""
    steps = expr.atoms(sympy.Heaviside)
    if not steps:
        return expr
    replace = {}
    for h in steps:
        z = h.args[0]
        h0 = h.args[1] if len(h.args) > 1 else sympy.Rational(1, 2)
        s = sympy.sign(z)
        replace[h] = (s + 1) / 2 + (h0 - sympy.Rational(1, 2)) * (1 - s**2)
    return expr.xreplace(replace)


_SIMPLIFY_LIMIT = 200


def _derivative_of(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    return _drop_deltas(sympy.diff(expr, symbol))


def _proved_zero_difference(a: sympy.Expr, b: sympy.Expr) -> bool:
    return _proved_zero(a - b)


def _proved_zero(expr: sympy.Expr) -> bool:
    """True if ``expr`` simplifies to 0 (False means only: not proved)."""
    if expr == 0:
        return True
    expanded = sympy.expand(expr)
    if expanded == 0:
        return True
    normal = sympy.expand(_heaviside_as_sign(expanded))
    if normal == 0:
        return True
    # Piecewise (Max's tie masks) defeats both steps below, and large
    # expressions make them slow: those are left to the comparison of values.
    if normal.has(sympy.Piecewise) or sympy.count_ops(normal) > _SIMPLIFY_LIMIT:
        return False
    # Exact rational arithmetic decides identities of rational functions (of
    # exp(x), sin(x), Max(x, y), ... as atoms), which softmax-like graphs need.
    floats = normal.atoms(sympy.Float)
    exact = normal.xreplace({f: sympy.Rational(f) for f in floats}) if floats else normal
    if sympy.cancel(sympy.together(exact)) == 0:
        return True
    # simplify rewrites Max and Min as Piecewise and can then run for minutes.
    if normal.has(sympy.Max, sympy.Min):
        return False
    return sympy.simplify(normal) == 0


def _evaluate(expr: sympy.Expr, values: Mapping[sympy.Symbol, float]) -> complex:
    point = {s: sympy.Float(v, 40) for s, v in values.items() if s in expr.free_symbols}
    result = sympy.sympify(expr).xreplace(point).evalf(30)
    try:
        return complex(result)
    except TypeError:
        return complex(math.nan)


# ------------------------------------------------------------------------- check


#: The ways :func:`check` builds each derivative, in the order it reports them.
PATHS = ("grad", "backward")
_PATH_TITLES = {"grad": "nested ad.grad", "backward": "repeated backward()"}


@dataclass
class PathResult:
    """One way of building a derivative, compared with sympy by :func:`check`.

    ``name`` is ``"grad"`` (nested :func:`adjoint.grad` with its default
    settings, the way users compute derivatives, simplification from the third
    order on included) or ``"backward"`` (repeated backward passes with one-hot
    cotangents, never simplified). ``expr`` is the graph as sympy, ``value``
    its number at the inputs, ``status`` as for :class:`Derivative`.
    """

    name: str
    expr: sympy.Expr
    value: float
    status: str  # "identical", "equal in value" or "DIFFERENT"

    @property
    def ok(self) -> bool:
        return self.status != "DIFFERENT"


def _worst(statuses: Sequence[str]) -> str:
    for status in ("DIFFERENT", "equal in value"):
        if status in statuses:
            return status
    return "identical"


@dataclass
class Derivative:
    """One derivative compared by :func:`check`: sympy's and adjoint's, as formulas and values.

    ``paths`` holds each way adjoint built it (:data:`PATHS`: ``"grad"`` and
    ``"backward"``, see :class:`PathResult`); ``status`` is the worst of
    theirs, so a derivative is ``ok`` only when every path agrees with sympy.
    ``adjoint_expr`` and ``adjoint_value`` are the backward-built one's.
    """

    label: str
    latex: str
    sympy_expr: sympy.Expr
    adjoint_expr: sympy.Expr
    sympy_value: float
    adjoint_value: float
    status: str  # "identical", "equal in value" or "DIFFERENT"
    paths: dict[str, PathResult] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "DIFFERENT"

    @property
    def failed_paths(self) -> tuple[str, ...]:
        """The names of the paths whose derivative disagrees with sympy's."""
        return tuple(name for name, p in self.paths.items() if not p.ok)

    @property
    def abs_diff(self) -> float:
        """The largest |adjoint - sympy| at the inputs, over the paths."""
        values = [p.value for p in self.paths.values()] or [self.adjoint_value]
        return max(abs(v - self.sympy_value) for v in values)


def _status_text(d: Derivative) -> str:
    """``d.status``, followed by the paths that have it when the paths differ."""
    worst = [p.name for p in d.paths.values() if p.status == d.status]
    if len(worst) == len(d.paths):
        return d.status
    return f"{d.status} ({', '.join(worst)})"


def _short(expr: Any, width: int = 60) -> str:
    text = str(expr)
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass
class CheckReport:
    """The result of :func:`check`: true (``bool(report)``, ``report.ok``) when all agree.

    ``identical`` says that every difference, on every path, simplified to
    zero; ``max_abs_diff`` is the largest difference between adjoint's numbers
    and sympy's (evaluated to 30 digits) at the inputs. ``paths`` says per path
    (``"grad"``, ``"backward"``) whether all its derivatives agree, and
    ``failed_paths`` names those that do not. Prints as a table in a terminal
    and as Markdown with formulas in a notebook.
    """

    name: str
    order: int
    point: dict[str, Any]
    derivatives: list[Derivative]

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.derivatives)

    @property
    def identical(self) -> bool:
        return all(d.status == "identical" for d in self.derivatives)

    @property
    def max_abs_diff(self) -> float:
        return max((d.abs_diff for d in self.derivatives), default=0.0)

    @property
    def paths(self) -> dict[str, bool]:
        """Per path, in the order of :data:`PATHS`: True when all its derivatives agree."""
        names = [n for n in PATHS if any(n in d.paths for d in self.derivatives)]
        return {n: all(d.paths[n].ok for d in self.derivatives if n in d.paths) for n in names}

    @property
    def failed_paths(self) -> tuple[str, ...]:
        """The paths with at least one derivative that disagrees with sympy."""
        return tuple(n for n, ok in self.paths.items() if not ok)

    def __bool__(self) -> bool:
        return self.ok

    def _summary(self) -> str:
        n = len(self.derivatives)
        same = sum(d.status == "identical" for d in self.derivatives)
        bad = sum(not d.ok for d in self.derivatives)
        parts = [f"{same} of {n} identical"]
        if n - same - bad:
            parts.append(f"{n - same - bad} equal in value only")
        if bad:
            parts.append(f"{bad} DIFFERENT")
        paths = self.paths
        if self.ok:
            verdict = "OK" + (f", {' and '.join(paths)} agree" if paths else "")
        else:
            said = [f"{name} {'agrees' if ok else 'DISAGREES'}" for name, ok in paths.items()]
            verdict = ": ".join(["FAILED", ", ".join(said)] if said else ["FAILED"])
        return (
            f"check {self.name}, order {self.order}: {verdict} ({', '.join(parts)}; "
            f"max |adjoint - sympy| at the inputs = {self.max_abs_diff:.3g})"
        )

    def __str__(self) -> str:
        return _deep(self._text)  # printing a formula recurses through it

    def _text(self) -> str:
        lines = [self._summary()]
        width = max((len(d.label) for d in self.derivatives), default=0)
        shown = 0
        for d in self.derivatives:
            if d.ok and shown >= 12:
                continue
            shown += d.ok
            status = _status_text(d)
            lines.append(
                f"  {d.label:<{width}}  {status:<14}  |diff| {d.abs_diff:.2e}  "
                f"{_short(d.sympy_expr)}"
            )
            if not d.ok:
                lines.append(
                    f"  {'':<{width}}    {'sympy':<9}{'':<16}{d.sympy_expr}  = {d.sympy_value!r}"
                )
                for p in d.paths.values():
                    lines.append(
                        f"  {'':<{width}}    {p.name:<9}{p.status:<16}{p.expr}  = {p.value!r}"
                    )
        hidden = sum(d.ok for d in self.derivatives) - shown
        if hidden > 0:
            lines.append(f"  ... and {hidden} more that agree")
        point = ", ".join(
            f"{k} = {np.array2string(np.asarray(v), precision=6)}" for k, v in self.point.items()
        )
        lines.append(f"  at {point}")
        if self.paths:
            titles = (f"{n} = {_PATH_TITLES.get(n, n)}" for n in self.paths)
            lines.append("  paths: " + "; ".join(titles))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CheckReport {self._summary()}>"

    def _repr_markdown_(self) -> str:
        return _deep(self._markdown)

    def _markdown(self) -> str:
        names = list(self.paths)
        rows = [
            f"**{self._summary()}**",
            "",
            "| derivative | sympy | "
            + " | ".join(_PATH_TITLES.get(n, n) for n in names)
            + " | status | \\|diff\\| |",
            "|---|---|" + "---|" * len(names) + "---|---|",
        ]
        for d in self.derivatives:
            cells = []
            for n in names:
                p = d.paths.get(n)
                if p is None:
                    cells.append("")
                elif p.status == "identical":
                    cells.append("(same)")
                else:
                    cells.append(f"${_cell(p.expr)}$ ({p.status})")
            status = _status_text(d)
            rows.append(
                f"| ${d.latex}$ | ${_cell(d.sympy_expr)}$ | {' | '.join(cells)} | {status} "
                f"| {d.abs_diff:.2e} |"
            )
        return "\n".join(rows)


def _cell(expr: sympy.Expr) -> str:
    """LaTeX for a Markdown table cell: a bare | would end the cell (Abs prints as |x|)."""
    return sympy.latex(expr).replace("|", r"\vert ")


def _input_array(x: Any, k: int) -> np.ndarray:
    """Input ``k`` of :func:`check` as float64: real finite numbers, not bools or strings."""
    data = x.numpy() if isinstance(x, Tensor) else x
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"check: input {k} is not a rectangular array of numbers") from error
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"check: input {k} must be real numbers (int or float), got {type(x).__name__} "
            f"{x!r} of dtype {array.dtype} (bools, complex numbers, strings and objects "
            "are refused)"
        )
    array = np.array(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"check: input {k} holds nan or inf; give finite numbers")
    return array


def _input_names(inputs: Sequence[Any], names: Sequence[str] | None) -> list[str]:
    if names is not None:
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise TypeError(
                f"check: names must be a list of str, one per input, got {type(names).__name__} "
                f"{names!r}"
            )
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"check: each name must be a non-empty str, got {name!r}")
        if len(names) != len(inputs):
            raise ValueError(f"check: {len(names)} names for {len(inputs)} inputs")
        if len(set(names)) != len(names):
            raise ValueError(f"check: the names {list(names)} repeat; give distinct names")
        return list(names)
    given = [x.name if isinstance(x, Tensor) else None for x in inputs]
    taken = {name for name in given if name is not None}
    result = []
    k = 0
    for name in given:
        if name is None:
            while f"x{k}" in taken:
                k += 1
            name = f"x{k}"
            taken.add(name)
        result.append(name)
    if len(set(result)) != len(result):
        raise ValueError(f"check: the inputs' names {result} repeat; give distinct names")
    return result


def _one_hot(output: Tensor, index: tuple[int, ...]) -> Tensor:
    data = np.zeros(output.shape)
    data[index] = 1.0
    return Tensor(data, requires_grad=False, device=output.device)


def _adjoints(output: Tensor, index: tuple[int, ...], leaves: list[Tensor]) -> list[Tensor | None]:
    """Adjoint graphs of ``output[index]`` for each leaf (None: does not depend on it)."""
    if not output.requires_grad:
        return [None] * len(leaves)
    for leaf in leaves:
        leaf.grad = None
    compute_gradient_of_variables(output, _one_hot(output, index))
    grads = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = None
    return grads


def _label(name: str, out_index: tuple, out_ndim: int, syms: list[sympy.Symbol]) -> tuple:
    target = name + (f"[{', '.join(map(str, out_index))}]" if out_ndim else "")
    n = len(syms)
    power = "" if n == 1 else str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    text = f"∂{power}{target}/" + "".join(f"∂{s}" for s in syms)
    latex_target = sympy.latex(sympy.Symbol(name)) + (
        f"_{{{','.join(map(str, out_index))}}}" if out_ndim else ""
    )
    top = r"\partial" + (f"^{{{n}}}" if n > 1 else "") + " " + latex_target
    bottom = r"\,".join(r"\partial " + sympy.latex(s) for s in syms)
    return text, rf"\frac{{{top}}}{{{bottom}}}"


def _output_element(f: Callable[..., Tensor], index: tuple[int, ...]) -> Callable[..., Tensor]:
    """``f``'s output element ``index`` as a scalar function (``f`` itself for a 0-d output)."""
    if not index:
        return f
    return lambda *xs: f(*xs)[index]


def _partial(h: Callable[..., Tensor], j: int, index: tuple[int, ...]) -> Callable[..., Tensor]:
    """The derivative of the scalar function ``h`` in element ``index`` of argument ``j``,
    as users write it: ``ad.grad(h, argnums=j)``, indexed (default settings)."""
    g = functional.grad(h, argnums=j)
    if not index:
        return g
    return lambda *xs: g(*xs)[index]


def check(
    f: Callable[..., Tensor],
    *inputs: Any,
    order: int = 1,
    names: Sequence[str] | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    samples: int = 3,
    seed: int = 0,
) -> CheckReport:
    """Compare adjoint's derivatives of ``f`` of exactly ``order`` with ``sympy.diff``.

    ``f`` is applied to Tensors made from ``inputs`` (named by ``names``, a
    Tensor input's own name, or ``x0``, ``x1``, ...) and its graph becomes
    sympy with :func:`to_sympy`. Every ``order``-th partial derivative of every
    output element, mixed ones included and each order of differentiation
    separately, is built by adjoint as a graph in two ways (the *paths*,
    :data:`PATHS`), converted with :func:`to_sympy`, and compared with
    ``sympy.diff`` of the forward formula:

    * ``"grad"``: nested :func:`adjoint.grad` with its default settings, as
      users call it: ``ad.grad(ad.grad(f, argnums=j), argnums=i)``, each level
      indexed to the element it differentiates (and ``f``'s output to one
      element). From the third order on this path runs the simplifier, so
      ``check`` tests :func:`adjoint.simplify` where users meet it.
    * ``"backward"``: backward passes with one-hot cotangents, repeated on the
      gradient graphs, never simplified: the engine's own rules.

    Each path's derivative is

    * ``identical``: the difference simplifies to 0;
    * ``equal in value``: simplify could not prove it, but the difference is 0
      to ``rtol``/``atol`` at the inputs and at ``samples`` points nearby,
      evaluated to 30 digits;
    * ``DIFFERENT`` otherwise.

    Adjoint's numbers (the gradient graphs' values) are compared with sympy's
    at the inputs too (``max_abs_diff``). The report is true when nothing, on
    either path, is DIFFERENT; ``report.failed_paths`` names the paths that
    disagree and each :class:`Derivative` holds both results in ``paths``.
    The cost grows as (number of input elements) ** order: meant for small
    inputs. It grows with depth too: sympy's differentiation of a chain of
    ``h = sin(h)`` takes 2.6 s at 150 steps (where it needs more than the
    default recursion limit, see :func:`to_sympy`) and 5.5 s at 200, and of
    ``h = sin(h) * 1.0001`` 27 s at 165 steps, nearly all of it in sympy,
    which sorts each product's deeply nested factors by comparing them.

    >>> import adjoint as ad
    >>> report = ad.symbolic.check(lambda x, y: ad.sin(x * y), 0.5, 2.0, order=2)
    >>> report.ok, report.identical, report.paths
    (True, True, {'grad': True, 'backward': True})
    """
    if not callable(f):
        raise TypeError(
            f"check: f must be a function of Tensors (a callable), got {type(f).__name__}"
        )
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        error = ValueError if _is_int(order) else TypeError
        raise error(f"check: order must be a positive int, got {order!r}")
    if not inputs:
        raise ValueError("check: give at least one input")
    rtol = _tolerance_arg(rtol, "check", "rtol")
    atol = _tolerance_arg(atol, "check", "atol")
    samples = _count_arg(samples, "check", "samples", 0)
    seed = _count_arg(seed, "check", "seed", 0)
    labels = _input_names(inputs, names)
    arrays = [_input_array(x, k) for k, x in enumerate(inputs)]
    # A Tensor input's leaf lives on its device (its values are read from a host copy).
    devices = [x.device if isinstance(x, Tensor) else None for x in inputs]
    leaves = [Tensor(a, name=n, device=d) for a, n, d in zip(arrays, labels, devices)]
    symbols = {leaf: _symbol_array(n, leaf.shape) for leaf, n in zip(leaves, labels)}
    translate = _Translator(symbols)
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"check: f must return a Tensor, got {type(out).__name__}")
    forward = translate(out)
    variables = [(j, idx) for j, leaf in enumerate(leaves) for idx in np.ndindex(leaf.shape)]
    point = {symbols[leaves[j]][idx]: float(arrays[j][idx]) for j, idx in variables}

    # The backward path. items: (out_index, path of variables, tensor or None, element index)
    items = [(e, (), out, e) for e in np.ndindex(out.shape)]
    for _ in range(order):
        extended = []
        for e, path, tensor, index in items:
            grads = _adjoints(tensor, index, leaves) if tensor is not None else None
            for v, (j, idx) in enumerate(variables):
                extended.append((e, path + (v,), None if grads is None else grads[j], idx))
        items = extended

    rng = np.random.default_rng(seed)
    # Nearby points keep each coordinate's sign (and zeros), so domains such as
    # log's are kept; points where either side is not a finite real are skipped.
    nearby = [
        {s: v * (1 + 0.05 * rng.standard_normal()) for s, v in point.items()}
        for _ in range(samples)
    ]
    exact: dict[tuple, sympy.Expr] = {}

    def sympy_derivative(e: tuple, path: tuple) -> sympy.Expr:
        # Each prefix of ``path`` differentiated once, in a loop: a recursive
        # closure would refer to itself (a reference cycle).
        expr = forward[e]
        for k in range(1, len(path) + 1):
            key = (e, path[:k])
            found = exact.get(key)
            if found is None:
                j, idx = variables[path[k - 1]]
                found = exact[key] = _deep(_derivative_of, expr, symbols[leaves[j]][idx])
            expr = found
        return expr

    # Both paths often give the same formula: compare each pair of formulas once.
    compared: dict[tuple[sympy.Expr, sympy.Expr], str] = {}

    def compare(got: sympy.Expr, want: sympy.Expr) -> str:
        status = compared.get((got, want))
        if status is not None:
            return status
        if _deep(_proved_zero_difference, got, want):
            status = "identical"
        else:
            status = "equal in value"
            for k, values in enumerate([point, *nearby]):
                a, b = _deep(_evaluate, got, values), _deep(_evaluate, want, values)
                if k and not all(np.isfinite([a.real, b.real]) & ([a.imag, b.imag] == [0, 0])):
                    continue
                if not np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                    status = "DIFFERENT"
                    break
        compared[(got, want)] = status
        return status

    def result(name: str, got: sympy.Expr, got_value: float, want: sympy.Expr, want_value: float):
        status = compare(got, want)
        if not np.isclose(got_value, want_value, rtol=1e-7, atol=1e-10, equal_nan=True):
            status = "DIFFERENT"
        return PathResult(name, got, got_value, status)

    name = getattr(f, "__name__", "f")
    name = name if name.isidentifier() else "f"
    derivatives = []
    for e, path, tensor, index in items:
        want = sympy_derivative(e, path)
        want_value = _deep(_evaluate, want, point).real
        if tensor is None:
            got, got_value = sympy.Integer(0), 0.0
        else:
            got = translate(tensor)[index]
            got_value = float(tensor.numpy()[index])
        backward = result("backward", got, got_value, want, want_value)
        # The grad path: nested ad.grad, one level per variable of the path.
        h = _output_element(f, e)
        for v in path:
            h = _partial(h, *variables[v])
        nested = h(*leaves)
        grad = result("grad", translate(nested)[()], float(nested.numpy()), want, want_value)
        syms = [symbols[leaves[variables[v][0]]][variables[v][1]] for v in path]
        text, latex = _label(name, e, out.ndim, syms)
        status = _worst([grad.status, backward.status])
        paths = {"grad": grad, "backward": backward}
        derivatives.append(Derivative(text, latex, want, got, want_value, got_value, status, paths))
    return CheckReport(name, order, dict(zip(labels, arrays)), derivatives)
