"""Online SGD in high dimensions: soft committee machines, their order-parameter ODEs and simulation."""
from hild.families.online.committee import Committee
from hild.families.online.ode import generalisation_error
from hild.families.online.simulate import simulate
from hild.families.online.theory import linear_closed_form, theory, theory_batch

__all__ = ["Committee", "generalisation_error", "linear_closed_form", "simulate", "theory", "theory_batch"]
