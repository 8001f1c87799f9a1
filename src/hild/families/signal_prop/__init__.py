"""Signal propagation in random transformers at initialisation (Giorlandino & Goldt, arXiv 2505.24333; Cowsik,
Nebabu, Qi & Ganguli, arXiv 2403.02579): the REM layer map, rank and entropy collapse, the critical residual,
the (q, p) token geometry with its fixed points and Lyapunov exponents, phase diagrams, and the real random
stack in JAX."""
from hild.families.signal_prop.figure import cosine_axes, depth_figure, figure
from hild.families.signal_prop.geometry import (angle_exponent, attractor, chi, critical_residual, exponents, gradient_exponent,
                                       odds_growth)
from hild.families.signal_prop.phase import PHASES, order_chaos, rank_entropy
from hild.families.signal_prop.rem import beta_c, entropy, finite_rem, participation_ratio
from hild.families.signal_prop.scenario import MLPS, NORMS, RandomTransformer
from hild.families.signal_prop.simulate import run_points, simulate
from hild.families.signal_prop.theory import (ACTIVATIONS, REMS, attention_overlaps, backward, block, layer_map, mlp_moments,
                                     relu_kernel, theory)

__all__ = ["ACTIVATIONS", "MLPS", "NORMS", "PHASES", "REMS", "RandomTransformer", "angle_exponent",
           "attention_overlaps",
           "attractor", "backward", "beta_c", "block", "chi", "cosine_axes", "critical_residual", "depth_figure",
           "entropy", "exponents", "figure", "finite_rem", "gradient_exponent", "layer_map", "mlp_moments",
           "odds_growth", "order_chaos", "participation_ratio", "rank_entropy", "relu_kernel", "run_points",
           "simulate", "theory"]
