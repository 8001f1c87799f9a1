"""Exact learning dynamics of linear networks: Saxe modes, the lambda-balanced Riccati solution and
per-mode imbalances, NTK, the 'get rich quick' minimal model, deeper balanced networks, regularised
linear autoencoders and the conservation laws of Neural Mechanics, each against GD / SGD on the real
networks. Registered models: deep_linear, deep_linear.deep, deep_linear.autoencoder, deep_linear.mechanics."""
from hild.families.deep_linear.autoencoder import LinearAutoencoder
from hild.families.deep_linear.deep import DeepBalanced
from hild.families.deep_linear.figure import figure
from hild.families.deep_linear.measures import ntk, observables
from hild.families.deep_linear.mechanics import NeuralMechanics
from hild.families.deep_linear.modes import learning_time, mode_trajectory, saxe_sigmoid, saxe_time
from hild.families.deep_linear.riccati import flow, flow_batch
from hild.families.deep_linear.rich_quick import kernel, minimal_model, path_deviation, predicted_drift
from hild.families.deep_linear.scenario import DeepLinear, balanced_weights, mode_weights
from hild.families.deep_linear.simulate import simulate, simulate_batch
from hild.families.deep_linear.theory import theory

__all__ = ["DeepBalanced", "DeepLinear", "LinearAutoencoder", "NeuralMechanics", "balanced_weights", "figure", "flow", "flow_batch", "kernel",
           "learning_time", "minimal_model", "mode_trajectory", "mode_weights", "ntk", "observables",
           "path_deviation", "predicted_drift", "saxe_sigmoid", "saxe_time", "simulate", "simulate_batch", "theory"]
