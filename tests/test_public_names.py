"""The names earlier versions exported keep working from their old module paths (users' scripts call them).

The lists are every name the families exported in hild 0.1.0, less the three unused ones issue 11 removed
(alignment_at_norm, depth_figure, spectral_threshold)."""
import importlib

import pytest

OLD = {
    "hild.online": ["Committee", "generalisation_error", "linear_closed_form", "simulate", "theory", "theory_batch"],
    "hild.deep_linear": ["DeepLinear", "balanced_weights", "figure", "flow", "flow_batch", "kernel", "learning_time",
                        "minimal_model", "mode_trajectory", "mode_weights", "ntk", "observables", "path_deviation",
                        "predicted_drift", "saxe_sigmoid", "saxe_time", "simulate", "simulate_batch", "theory"],
    "hild.diffusion": ["LinearDiffusion", "Moments", "SAMPLERS", "SPECTRA", "Target", "alpha_bar", "check_betas",
                      "contraction", "denoiser_modes", "exact_denoisers", "figure", "gaussian_kl", "gd_modes",
                      "generated_variance", "kl_expected", "kl_law_axes", "kl_modes", "kl_proportional", "linear", "losses",
                      "mc_losses", "measure", "moments", "noise_variance", "one_minus_alpha_bar", "power_law", "sample",
                      "simulate", "target", "theory", "train"],
    "hild.signal_prop": ["ACTIVATIONS", "MLPS", "NORMS", "PHASES", "REMS", "RandomTransformer", "angle_exponent",
                        "attention_overlaps", "attractor", "backward", "beta_c", "block", "chi", "cosine_axes",
                        "critical_residual", "entropy", "exponents", "figure", "finite_rem", "gradient_exponent", "layer_map",
                        "mlp_moments", "odds_growth", "order_chaos", "participation_ratio", "rank_entropy", "relu_kernel",
                        "run_points", "simulate", "theory"],
    "hild.cumulants": ["CONTRASTS", "EXPONENTS", "KURTOSIS", "LATENTS", "LEARNERS", "contrast_sign", "correlation",
                      "fastica", "fit", "ica", "isotropic", "kurtosis_along_spike", "latent", "mixed_cumulant", "mixed_sgd",
                      "online_sgd", "orthonormal_pair", "overlap_ode", "population", "quartic_coefficient", "sgd_exponent",
                      "spectral", "spectral_overlap", "spike", "spiked_cumulant", "spiked_wishart", "sweep", "threshold",
                      "whiten", "SCALING", "TASKS", "bayes_accuracy", "classification", "fit_exponent", "labelled",
                      "ridge_readout", "train_network"],
    "hild.store": ["SweepStore"], "hild.executors": ["Dask", "InProcess", "LocalProcesses"],
    "hild.compare": ["compare", "Comparison", "FiniteSize", "finite_size"],
    "hild.gaussian": ["activation", "Activation", "ACTIVATIONS", "gauss_hermite", "hermite_points"],
    "hild.validation": ["integer", "real", "vector", "matrix", "covariance"],
    "hild.sweep": ["Axis", "Grid", "Sizes", "SweepReport", "figure", "parse_axis", "point_key", "run_sweep",
                   "simulate_point", "sweep_spec", "theory_sweep"],
}


@pytest.mark.parametrize("module", sorted(OLD))
def test_old_module_paths_export_their_names(module):
    loaded = importlib.import_module(module)
    assert [name for name in OLD[module] if not hasattr(loaded, name)] == []


def test_hild_compare_stays_the_function_after_its_old_module_is_imported():
    import hild
    import hild.compare  # noqa: F401

    assert callable(hild.compare) and hild.compare.__name__ == "compare"
