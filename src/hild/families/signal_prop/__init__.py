"""Signal propagation in random transformers at initialisation (Giorlandino & Goldt, arXiv 2505.24333; Cowsik,
Nebabu, Qi & Ganguli, arXiv 2403.02579): the REM layer map, rank and entropy collapse, the critical residual,
the (q, p) token geometry with its fixed points and Lyapunov exponents, phase diagrams, and the real random
stack in JAX. The scenario `RandomTransformer` is the registered model `signal_prop` (axis `layer`, size `d`)."""
from hild.core import lazy
from hild.families.signal_prop.scenario import MLPS, NORMS, RandomTransformer

__getattr__, __dir__ = lazy.attach(
    __name__,
    {"hild.core.gaussian": ["relu_kernel"],
     ".figure": ["cosine_axes", "figure"],
     ".geometry": ["angle_exponent", "attractor", "chi", "critical_residual", "exponents", "gradient_exponent",
                   "odds_growth"],
     ".phase": ["PHASES", "order_chaos", "order_chaos_points", "rank_entropy", "rank_entropy_points", "subgrid"],
     ".rem": ["beta_c", "entropy", "finite_rem", "inverse_participation_ratio", "participation_ratio"],
     ".simulate": ["run_points", "simulate"],
     ".theory": ["ACTIVATIONS", "MLP_ACTIVATIONS", "REMS", "attention_overlaps", "backward", "block", "layer_map",
                 "mlp_moments", "theory", "theory_batch"]})

__all__ = ["ACTIVATIONS", "MLPS", "MLP_ACTIVATIONS", "NORMS", "PHASES", "REMS", "RandomTransformer",
           "angle_exponent", "attention_overlaps", "attractor", "backward", "beta_c", "block", "chi", "cosine_axes",
           "critical_residual", "entropy", "exponents", "figure", "finite_rem", "gradient_exponent",
           "inverse_participation_ratio", "layer_map", "mlp_moments", "odds_growth", "order_chaos",
           "order_chaos_points", "participation_ratio", "rank_entropy", "rank_entropy_points", "relu_kernel",
           "run_points", "simulate", "subgrid", "theory", "theory_batch"]
