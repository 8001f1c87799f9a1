"""Implicit biases of SGD (arXiv 2306.04251, 2107.09133): the scenarios and functions of `hild.families.implicit`."""
from hild.families.implicit import *  # noqa: F401,F403
from hild.families.implicit import __all__  # noqa: F401
