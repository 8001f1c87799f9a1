"""hild: high-dimensional learning dynamics.

One scenario gives the exact asymptotic theory, a fast finite-d simulation of the real
learning algorithm, their comparison, and the headline claims of the papers.
"""
from hild._version import __version__

__all__ = ["__version__"]
