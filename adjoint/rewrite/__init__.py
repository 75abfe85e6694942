"""Rewriting graphs into smaller equivalent ones: :func:`simplify`.

* :mod:`~adjoint.rewrite.rebuild`: the pass, one loop over the topological
  order; hash-consing (equal op, attributes and inputs: one node; equal
  constants: one leaf), constant folding, and :class:`Simplified`;
* :mod:`~adjoint.rewrite.rules`: the local rules, small named functions in a
  table keyed by op class (``x + 0``, ``-(-x)``, chains of scalar ops folded,
  like terms collected, canonical order of commutative inputs, ...); an op
  class outside the table that declares ``commutative`` gets canonical order;
* :mod:`~adjoint.rewrite.polynomial`: the polynomial normal form of the ops
  that declare ``polynomial``, which makes the n-th derivative of tanh a
  polynomial in tanh(x) of a few nodes;
* :mod:`~adjoint.rewrite.verify`: ``verify=True``, every rewrite checked for
  value and dependence (:func:`verify_rewrites`, :class:`RewriteError`);
* :mod:`~adjoint.rewrite.active`: the variables of running functional calls,
  which every pass keeps.

The pass builds on the other four; ``rules`` and ``verify`` build on
``polynomial`` only, which like ``active`` builds on none (all of them on the
engine and the ops). :mod:`adjoint.functional` imports this package, never the
other way round.
"""

from adjoint.rewrite.active import active_variables
from adjoint.rewrite.polynomial import MAX_DEGREE, MAX_TERMS
from adjoint.rewrite.rebuild import MAX_CONSTANT_SIZE, Simplified, simplify
from adjoint.rewrite.verify import RewriteError, verify_rewrites

__all__ = [
    "simplify",
    "Simplified",
    "RewriteError",
    "verify_rewrites",
    "active_variables",
    "MAX_CONSTANT_SIZE",
    "MAX_TERMS",
    "MAX_DEGREE",
]
