"""Exact learning dynamics of linear networks: Saxe modes, the lambda-balanced Riccati solution and
per-mode imbalances, NTK, the 'get rich quick' minimal model, deeper balanced networks, regularised
linear autoencoders and the conservation laws of Neural Mechanics, each against GD / SGD on the real
networks. Registered models: deep_linear, deep_linear.deep, deep_linear.autoencoder, deep_linear.mechanics."""
from hild.core import lazy
from hild.families.deep_linear.autoencoder import LinearAutoencoder
from hild.families.deep_linear.deep import DeepBalanced
from hild.families.deep_linear.mechanics import NeuralMechanics
from hild.families.deep_linear.scenario import DeepLinear, balanced_weights, mode_weights

__getattr__, __dir__ = lazy.attach(
    __name__,
    {".figure": ["figure"],
     ".measures": ["ntk", "observables"],
     ".modes": ["learning_time", "mode_trajectory", "saxe_sigmoid", "saxe_time"],
     ".riccati": ["flow", "flow_batch"],
     ".rich_quick": ["kernel", "minimal_model", "path_deviation", "predicted_drift"],
     ".simulate": ["simulate", "simulate_batch"],
     ".theory": ["theory"]})

__all__ = ["DeepBalanced", "DeepLinear", "LinearAutoencoder", "NeuralMechanics", "balanced_weights", "figure", "flow", "flow_batch", "kernel",
           "learning_time", "minimal_model", "mode_trajectory", "mode_weights", "ntk", "observables",
           "path_deviation", "predicted_drift", "saxe_sigmoid", "saxe_time", "simulate", "simulate_batch", "theory"]
