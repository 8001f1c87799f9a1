"""Linear diffusion models (Merger & Goldt, arXiv 2505.24769): DDPM with a linear noise predictor per
diffusion step, trained on N Gaussian samples in d dimensions; exact theory of training, losses,
generated law and KL, and the real training and sampling at finite d."""
from hild.core import lazy
from hild.families.diffusion.scenario import BLOWUP, SAMPLERS, STARTS, LinearDiffusion

__getattr__, __dir__ = lazy.attach(
    __name__,
    {".data": ["SPECTRA", "Moments", "Target", "from_moments", "moments", "power_law", "target"],
     ".figure": ["figure", "kl_law_axes"],
     ".schedule": ["alpha_bar", "check_betas", "linear", "one_minus_alpha_bar"],
     ".simulate": ["exact_denoisers", "mc_losses", "measure", "sample", "simulate", "train"],
     ".theory": ["contraction", "denoiser_modes", "gaussian_kl", "gd_modes", "generated_variance", "kl_expected",
                 "kl_modes", "kl_proportional", "losses", "noise_variance", "sampling_path", "start_mean", "theory"]})

__all__ = ["BLOWUP", "LinearDiffusion", "Moments", "SAMPLERS", "SPECTRA", "STARTS", "Target", "alpha_bar", "check_betas", "contraction",
           "denoiser_modes", "exact_denoisers", "figure", "from_moments", "gaussian_kl", "gd_modes", "generated_variance",
           "kl_expected", "kl_law_axes", "kl_modes", "kl_proportional", "linear", "losses", "mc_losses", "measure",
           "moments", "noise_variance", "one_minus_alpha_bar", "power_law", "sample", "sampling_path", "simulate",
           "start_mean", "target", "theory",
           "train"]
