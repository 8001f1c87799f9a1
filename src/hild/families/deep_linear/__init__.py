"""Exact learning dynamics of two-layer linear networks: Saxe modes, lambda-balanced Riccati solution, NTK,
the 'get rich quick' minimal model, and GD / SGD simulations of the real networks."""
from hild.families.deep_linear.figure import figure
from hild.families.deep_linear.measures import ntk, observables
from hild.families.deep_linear.modes import learning_time, mode_trajectory, saxe_sigmoid, saxe_time
from hild.families.deep_linear.riccati import flow, flow_batch, theory
from hild.families.deep_linear.rich_quick import alignment_at_norm, kernel, minimal_model, path_deviation, predicted_drift
from hild.families.deep_linear.scenario import DeepLinear, balanced_weights, mode_weights
from hild.families.deep_linear.simulate import simulate, simulate_batch

__all__ = ["DeepLinear", "alignment_at_norm", "balanced_weights", "figure", "flow", "flow_batch", "kernel",
           "learning_time", "minimal_model", "mode_trajectory", "mode_weights", "ntk", "observables",
           "path_deviation", "predicted_drift", "saxe_sigmoid", "saxe_time", "simulate", "simulate_batch", "theory"]
