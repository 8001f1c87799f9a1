"""hild: high-dimensional learning dynamics.

One scenario gives the exact asymptotic theory, a fast finite-d simulation of the real
learning algorithm, their comparison, and the headline claims of the papers.

    >>> import hild
    >>> scenario = hild.online.Committee(K=2, M=2, activation="erf", lr=0.5)
    >>> sim = scenario.simulate(d=1000, seeds=4, t_max=100)
    >>> theory = scenario.theory(t_max=100, init=sim)
    >>> print(hild.compare(theory, sim))
"""
from hild._version import __version__
from hild import online
from hild.claims import reproduce
from hild.compare import Comparison, FiniteSize, compare, finite_size

__all__ = ["Comparison", "FiniteSize", "__version__", "compare", "finite_size", "online", "reproduce"]
