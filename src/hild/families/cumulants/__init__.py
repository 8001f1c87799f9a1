"""Learning from higher-order cumulants (arXiv 2312.14922, 2404.08602, 2503.23896): data models whose signal
hides beyond the covariance (spiked cumulant, spiked Wishart, mixed cumulant, ICA), the learners that look for it
(FastICA, online and smoothed spherical SGD, the fourth-moment spectral test), their theory (thresholds, the
single neuron's overlap ODEs, FastICA's overlap map, the spectral test's BBP overlap), the registered
scenarios (`cumulants.fastica`, `cumulants.sgd`, `cumulants.mixed`, `cumulants.spectral`) and
sample-complexity experiments (exponents)."""
from hild.core import lazy
from hild.families.cumulants.scenarios import FastICA, MixedCumulant, OnlineSGD, SpectralTest

__getattr__, __dir__ = lazy.attach(
    __name__,
    {".complexity": ["COMPLEXITY_LEARNERS", "PAPER_EXPONENTS", "fit", "sweep"],
     ".data": ["KURTOSIS", "LATENTS", "correlation", "ica", "isotropic", "kurtosis_along_spike", "latent",
               "mixed_cumulant", "orthonormal_pair", "spike", "spiked_cumulant", "spiked_wishart", "whiten"],
     ".learners": ["CONTRASTS", "contrast_sign", "fastica", "mixed_sgd", "online_sgd", "spectral"],
     ".networks": ["NETWORK_LEARNERS", "SCALING", "TASKS", "bayes_accuracy", "classification", "fit_exponent",
                   "labelled", "ridge_readout", "train_network"],
     ".theory": ["EXPONENTS", "fastica_map", "mixed_ode", "overlap_ode", "population", "quartic_coefficient",
                 "sample_scaling", "sgd_exponent", "spectral_overlap"]},
    # the old names of COMPLEXITY_LEARNERS (networks' learners: NETWORK_LEARNERS) and of theory.sample_scaling
    aliases={"LEARNERS": "COMPLEXITY_LEARNERS", "threshold": "sample_scaling"})

__all__ = ["COMPLEXITY_LEARNERS", "CONTRASTS", "EXPONENTS", "KURTOSIS", "LATENTS", "LEARNERS", "PAPER_EXPONENTS",
           "contrast_sign", "correlation", "fastica", "fastica_map", "fit", "ica", "isotropic", "mixed_ode",
           "kurtosis_along_spike", "latent", "mixed_cumulant", "mixed_sgd", "online_sgd", "orthonormal_pair",
           "overlap_ode", "population", "quartic_coefficient", "sample_scaling", "sgd_exponent", "spectral",
           "spectral_overlap", "spike", "spiked_cumulant", "spiked_wishart", "sweep", "threshold", "whiten",
           # the registered scenarios
           "FastICA", "MixedCumulant", "OnlineSGD", "SpectralTest",
           # two-layer networks and random features (arXiv 2312.14922)
           "NETWORK_LEARNERS", "SCALING", "TASKS", "bayes_accuracy", "classification", "fit_exponent", "labelled",
           "ridge_readout", "train_network"]
