"""Symbolic truth: graphs to sympy and back, and exact checks of derivatives (being split)."""

from adjoint.symbolic import translate as _translate
from adjoint.symbolic.translate import *  # noqa: F403
from adjoint.symbolic.translate import __all__, __doc__  # noqa: F401
from adjoint.symbolic.translate import _constant, _deep, _number, _Translator  # noqa: F401


def __getattr__(name):
    return getattr(_translate, name)
