"""Online SGD in high dimensions: soft committee machines, their order-parameter ODEs and simulation."""
from hild.core import lazy
from hild.families.online.committee import Committee

__getattr__, __dir__ = lazy.attach(__name__, {".ode": ["generalisation_error"], ".simulate": ["simulate"],
                                              ".theory": ["linear_closed_form", "theory", "theory_batch"]})

__all__ = ["Committee", "generalisation_error", "linear_closed_form", "simulate", "theory", "theory_batch"]
