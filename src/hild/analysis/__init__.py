"""Analysis shared by every model: theory against simulation, finite-size scaling, power-law fits."""
from hild.analysis.compare import Comparison, FiniteSize, comparison_axis, compare, finite_size
from hild.analysis.fits import fit_power_law

__all__ = ["Comparison", "FiniteSize", "compare", "comparison_axis", "finite_size", "fit_power_law"]
