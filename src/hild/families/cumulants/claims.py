"""Claims of learning from higher-order cumulants (arXiv 2503.23896, 2404.08602, 2312.14922).

Each claim measures sample-complexity exponents: success rates over a grid of d (at least three values) and
n = d^e (a neutral grid of exponents e), the threshold n*(d) where a logistic fit crosses 1/2, and the exponent
theta of n* ~ d^theta with a bootstrap 95% interval over seeds (hild.families.cumulants.complexity.fit: the
logistic method of hild.analysis.thresholds.exponent). A check passes only when that interval contains the
paper's value. Small d carry pre-asymptotic (log) corrections; the numbers are
reported as measured.

What hild measures against the papers (their full text was not available to check the experimental setups):
- FastICA iterated with a fresh batch of n samples per iteration escapes the random start at n ~ d^3, not the
  paper's d^4: at paper size theta = 3.05 [2.72, 3.37] (d = 8..24), and with the kurtosis contrast the success
  rate at n = c d^3 is the same for d = 8, 16, 32. The scaled overlap mu = m sqrt(d) obeys
  mu' ~ kappa sqrt(n / d^3) mu^3 + O(1) noise per iteration, so repeated fresh batches escape once n ~ d^3;
  d^4 is what a single step from a typical start needs. cumulants.fastica_d4 therefore does not hold.
- The mixed cumulant model's parametrisation is hild's reconstruction (hild.cumulants.data.mixed_cumulant).
  With correlated latents the neuron's overlap with v plateaus near 0.3, so cumulants.correlated_latents
  uses a success level of 0.2, set after seeing that plateau; with independent latents v is a saddle of the
  neuron's contrast, so "not learnt" there is structural, not a d^3 effect.
"""
from __future__ import annotations

import numpy as np

from hild.claims import Check, Outcome, claim
from hild.families.cumulants import complexity as th
from hild.families.cumulants import figure as cfigure
from hild.families.cumulants.learners import spectral
from hild.families.cumulants.theory import spectral_overlap

BETA = 5.0


def _exponent_check(what: str, fitted, paper: float) -> Check:
    lo, hi, resolved = float(fitted.theta_low), float(fitted.theta_high), int(fitted.d_resolved)
    ok = resolved >= 3 and np.isfinite(lo) and lo <= paper <= hi
    return Check(f"{what}: fitted theta, bootstrap 95% interval [{lo:.3g}, {hi:.3g}], over "
                 f"{resolved} values of d with a threshold", float(fitted.theta),
                 f"interval contains {paper:g}, >= 3 values of d", bool(ok))


def _numbers(prefix: str, fitted) -> dict:
    out = {f"{prefix}: theta": float(fitted.theta), f"{prefix}: theta ci low": float(fitted.theta_low),
           f"{prefix}: theta ci high": float(fitted.theta_high),
           f"{prefix}: theta se (regression)": float(fitted.theta_se)}
    out.update({f"{prefix}: n* at d={int(d)}": float(n) for d, n in zip(fitted.d.values, fitted.n_star.values)})
    return out


# --- cumulants.fastica_d4 ------------------------------------------------------------------------------

@claim("cumulants.fastica_d4",
       "Recovering the non-Gaussian direction of the spiked cumulant model (Rademacher latent, beta = 5, weak "
       "recovery |m| > 1/2 from a random start) needs n ~ d^4 samples per iteration for FastICA (log cosh, fresh "
       "batches, 20 iterations), n ~ d^3 for online spherical SGD (kurtosis contrast, step 0.02/d^2; information "
       "exponent 4) and n ~ d^2 for smoothed online SGD (Hermite contrast He_4/4 averaged exactly over a sphere of "
       "radius d^(1/4), step 0.1/sqrt(d)): each fitted exponent's bootstrap 95% "
       "interval over >= 3 values of d contains the paper's value", ("2503.23896",), holds=False)
def fastica_d4(size: str, progress: bool) -> Outcome:
    cfg = {"quick": {"fastica": ([6, 8, 12], np.arange(2.0, 4.26, 0.25), 8),
                     "sgd": ([6, 8, 12], np.arange(2.5, 5.01, 0.25), 8),
                     "smoothed_sgd": ([8, 16, 32], np.arange(1.25, 3.51, 0.25), 8)},
           "paper": {"fastica": ([8, 12, 16, 24], np.arange(2.5, 4.76, 0.125), 16),
                     "sgd": ([8, 12, 16, 24], np.arange(2.5, 5.01, 0.125), 16),
                     "smoothed_sgd": ([8, 16, 32, 64], np.arange(1.25, 3.51, 0.125), 16)}}[size]
    runs = [("fastica", 4.0, "FastICA (log cosh)", dict(iterations=20, contrast="logcosh")),
            ("sgd", 3.0, "online SGD", dict(contrast="kurtosis", lr_scale=0.02)),
            ("smoothed_sgd", 2.0, "smoothed SGD", dict(contrast="hermite", lr_scale=0.1))]
    checks, data, numbers, panels = [], {}, {}, []
    for learner, paper, label, options in runs:
        ds, grid, seeds = cfg[learner]
        result = th.sweep(learner, ds, grid, beta=BETA, seeds=seeds, progress=progress, **options)
        fitted = th.fit(result)
        checks.append(_exponent_check(label, fitted, paper))
        numbers.update(_numbers(label, fitted))
        numbers[f"{label}: largest success rate"] = float(result.success.mean("seed").max())
        data[learner] = result
        panels.append((result, fitted, paper, label))
    return Outcome(checks, data, cfigure.figure(panels, "spiked cumulant, Rademacher, beta = 5"), numbers)


# --- cumulants.spectral_baseline ------------------------------------------------------------------------

@claim("cumulants.spectral_baseline",
       "The fourth-moment spectral test (top eigenvector of M = (1/n) sum (|x|^2 - d - 2) x x^T) recovers the spike "
       "of the spiked cumulant model (Rademacher, beta = 5; |<v, u>| > 1/2) at n ~ d^2: the fitted exponent's "
       "bootstrap 95% interval over >= 3 values of d contains 2; at n = 8 d^2 the mean overlap matches the BBP "
       "prediction sqrt(1 - 2 d^2 / (n kappa_4^2)) within 0.05 (a light-tailed latent: BBP neglects terms of "
       "relative order E (x.u)^6 / 2d, which for a Laplace latent put it 0.015 above the simulated overlap at d = 30, "
       "n = 16 d^2; hild.families.cumulants.theory.spectral_overlap)", ("2312.14922",))
def spectral_baseline(size: str, progress: bool) -> Outcome:
    ds, grid, seeds = {"quick": ([8, 16, 32], np.arange(1.0, 3.01, 0.125), 16),
                       "paper": ([16, 32, 64, 128], np.arange(1.25, 2.76, 0.0625), 32)}[size]
    result = th.sweep("spectral", ds, grid, beta=BETA, seeds=seeds, progress=progress)
    fitted = th.fit(result)
    d = ds[-1]
    m = spectral(d, 8 * d * d, BETA, seeds=seeds, seed=10_000).m.values
    bbp = float(spectral_overlap(d, 8 * d * d, BETA))
    gap = abs(float(np.abs(m).mean()) - bbp)
    checks = [_exponent_check("spectral test", fitted, 2.0),
              Check(f"d = {d}, n = 8 d^2: |mean overlap - BBP prediction {bbp:.3f}|", gap, "<= 0.05", gap <= 0.05)]
    numbers = _numbers("spectral", fitted)
    numbers.update({f"d={d}, n=8d^2: mean overlap": float(np.abs(m).mean()), f"d={d}, n=8d^2: BBP": bbp,
                    f"d={d}, n=8d^2: BBP with its finite-d terms": float(spectral_overlap(d, 8 * d * d, BETA,
                                                                                          finite_d=True))})
    fig = cfigure.figure([(result, fitted, 2.0, "spectral test")], "fourth-moment matrix, Rademacher, beta = 5")
    return Outcome(checks, {"spectral": result}, fig, numbers)


# --- cumulants.correlated_latents -----------------------------------------------------------------------

@claim("cumulants.correlated_latents",
       "A single neuron trained by online spherical SGD on the mixed cumulant model (covariance spike u, beta_u = 1; "
       "whitened Laplace spike v, beta_v = 5; step 0.02/d) reaches |<w, v>| > 0.2 with n ~ d log d samples when "
       "the latents are correlated (nu = sign(lambda)|nu'|): the exponent theta of n*/ln d ~ d^theta has a bootstrap "
       "95% interval over >= 3 values of d that contains 1 (the exponent of n* itself is reported next to it); "
       "with independent latents, at the budget n = d^2, the success rate is <= 0.1 and "
       "the mean |<w, v>| <= 3/sqrt(d)", ("2404.08602",))
def correlated_latents(size: str, progress: bool) -> Outcome:
    ds, grid, seeds = {"quick": ([64, 128, 256], np.arange(0.75, 2.01, 0.125), 8),
                       "paper": ([64, 128, 256, 512], np.arange(0.75, 2.01, 0.0625), 24)}[size]
    corr = th.sweep("correlated", ds, grid, beta=BETA, seeds=seeds, level=0.2, progress=progress)
    indep = th.sweep("independent", ds, grid, beta=BETA, seeds=seeds, level=0.2, progress=progress)
    fitted, raw = th.fit(corr, log_power=1.0), th.fit(corr)
    rate = float(indep.success.isel(e=-1).mean("seed").max())
    final = indep.m.isel(e=-1).mean("seed")
    excess = float((final * np.sqrt(final.d)).max())
    checks = [_exponent_check("correlated latents, n*/ln d ~ d^theta", fitted, 1.0),
              Check("independent latents: largest success rate over d at the budget n = d^2", rate, "<= 0.1",
                    rate <= 0.1),
              Check("independent latents: max over d of sqrt(d) mean |<w, v>| at n = d^2", excess, "<= 3",
                    excess <= 3)]
    numbers = _numbers("correlated, n*/ln d", fitted)
    numbers.update({"correlated: theta of n* itself": float(raw.theta),
                    "correlated: theta of n* ci low": float(raw.theta_low),
                    "correlated: theta of n* ci high": float(raw.theta_high)})
    numbers["independent: largest success rate"] = rate
    numbers.update({f"independent: mean |<w,v>| at n=d^2, d={int(d)}": float(v) for d, v in
                    zip(final.d.values, final.values)})
    fig = cfigure.figure([(corr, raw, 1.0, "correlated latents"),
                          (indep, th.fit(indep), 1.0, "independent latents")],
                         "mixed cumulant model: overlap with the higher-order spike v")
    return Outcome(checks, {"correlated": corr, "independent": indep}, fig, numbers)
