"""Rewriting graphs into smaller equivalent ones: :func:`simplify`."""

from adjoint.rewrite.rebuild import (
    MAX_CONSTANT_SIZE,
    MAX_DEGREE,
    MAX_TERMS,
    Census,
    RewriteError,
    Simplified,
    census,
    simplify,
    verify_rewrites,
)

__all__ = [
    "simplify",
    "Simplified",
    "RewriteError",
    "verify_rewrites",
    "census",
    "Census",
    "MAX_CONSTANT_SIZE",
    "MAX_TERMS",
    "MAX_DEGREE",
]
