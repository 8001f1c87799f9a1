"""hild: high-dimensional learning dynamics.

One scenario gives the exact asymptotic theory, a fast finite-size simulation of the real
learning algorithm, their comparison, and the headline claims of the papers.

    >>> import hild
    >>> hild.models()                     # model name -> scenario class
    >>> scenario = hild.online.Committee(K=2, M=2, activation="erf", lr=0.5)
    >>> sim = scenario.simulate(d=1000, seeds=4, t_max=100)
    >>> theory = scenario.matching_theory(sim, t_max=100)
    >>> print(hild.compare(theory, sim))

Every public name (the model families `hild.online`, `hild.deep_linear`, `hild.diffusion`,
`hild.signal_prop`, `hild.cumulants`, `hild.batch`, `hild.implicit`, `hild.icl`, and `compare`, `models`,
`report` ...) is imported when first used
(hild.core.lazy), so `import hild` and `hild --help` load no JAX, xarray or Matplotlib.
"""
from hild._version import __version__
from hild.core import lazy

__getattr__, __dir__ = lazy.attach(
    __name__,
    {"hild.analysis.compare": ["Comparison", "FiniteSize", "compare", "finite_size"],
     "hild.core.registry": ["models"]},
    modules={"online": "hild.families.online", "deep_linear": "hild.families.deep_linear",
             "diffusion": "hild.families.diffusion", "signal_prop": "hild.families.signal_prop",
             "cumulants": "hild.families.cumulants", "batch": "hild.families.batch",
             "implicit": "hild.families.implicit", "icl": "hild.families.icl", "sweep": "hild.sweep",
             "claims": "hild.claims", "report": "hild.report"})


def reproduce(name: str, size: str = "quick", progress: bool = False):
    """Run the claim `name` at `size` ('quick' or 'paper'); see hild.claims.reproduce."""
    from hild.claims import reproduce as run

    return run(name, size=size, progress=progress)


__all__ = ["Comparison", "FiniteSize", "__version__", "compare", "finite_size", "models", "reproduce",
           "online", "deep_linear", "diffusion", "signal_prop", "cumulants", "batch", "implicit", "icl", "sweep",
           "claims", "report"]
