"""Online SGD in high dimensions: soft committee machines, their order-parameter ODEs and simulation."""
from hild.online.committee import Committee
from hild.online.ode import generalisation_error
from hild.online.simulate import simulate
from hild.online.theory import linear_closed_form, theory, theory_batch

__all__ = ["Committee", "generalisation_error", "linear_closed_form", "simulate", "theory", "theory_batch"]
