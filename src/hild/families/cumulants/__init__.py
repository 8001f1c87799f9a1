"""Learning from higher-order cumulants (arXiv 2312.14922, 2404.08602, 2503.23896): data models whose signal
hides beyond the covariance (spiked cumulant, spiked Wishart, mixed cumulant, ICA), the learners that look for it
(FastICA, online and smoothed spherical SGD, the fourth-moment spectral test), their theory (thresholds, the
single neuron's overlap ODE, the spectral test's BBP overlap) and sample-complexity experiments (exponents)."""
from hild.families.cumulants.data import (KURTOSIS, LATENTS, correlation, ica, isotropic, kurtosis_along_spike, latent,
                                 mixed_cumulant, orthonormal_pair, spike, spiked_cumulant, spiked_wishart, whiten)
from hild.families.cumulants.learners import CONTRASTS, contrast_sign, fastica, mixed_sgd, online_sgd, spectral
from hild.families.cumulants.theory import (EXPONENTS, overlap_ode, population, quartic_coefficient, sgd_exponent,
                                   spectral_overlap, spectral_threshold, threshold)
from hild.families.cumulants.networks import (SCALING, TASKS, bayes_accuracy, classification, fit_exponent, labelled,
                                     ridge_readout, train_network)
from hild.families.cumulants.threshold import LEARNERS, fit, sweep

__all__ = ["CONTRASTS", "EXPONENTS", "KURTOSIS", "LATENTS", "LEARNERS", "contrast_sign", "correlation", "fastica",
           "fit", "ica", "isotropic", "kurtosis_along_spike", "latent", "mixed_cumulant", "mixed_sgd", "online_sgd",
           "orthonormal_pair", "overlap_ode", "population", "quartic_coefficient", "sgd_exponent", "spectral",
           "spectral_overlap", "spectral_threshold", "spike", "spiked_cumulant", "spiked_wishart", "sweep",
           "threshold", "whiten",
           # two-layer networks and random features (arXiv 2312.14922)
           "SCALING", "TASKS", "bayes_accuracy", "classification", "fit_exponent", "labelled", "ridge_readout",
           "train_network"]
