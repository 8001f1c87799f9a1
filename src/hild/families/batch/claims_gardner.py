"""The Gardner capacity claim: the replica-symmetric capacity of the spherical perceptron against its closed form,
the published values, exact finite-d storage (NNLS) and Cover's count, and the RS instability for kappa < 0
(hild.families.batch.gardner; Gardner, J. Phys. A 21, 257 (1988); Gardner & Derrida, J. Phys. A 21, 271 (1988)).

The 50% crossing of storage at fixed load alpha is the median of the samples' largest margins kappa_max. Its
offset from the RS margin was within about 3 standard errors of the median in every run (measured with 40 samples:
+0.033 +- 0.011 at d = 100, alpha = 0.96; +0.006 +- 0.009 at d = 200; -0.001 +- 0.010 at d = 400, alpha = 0.52).
One standard error in kappa is about 1.2% in alpha_c near kappa = 0.5, so the bounds on |alpha_c(median) / alpha - 1|,
5% with 60 samples at d = 100 and 2.5% with 100 samples at d = 400, are about 4 standard errors.
"""
from __future__ import annotations

import numpy as np

from hild.claims import Outcome, at_least, at_most, claim
from hild.core import lazy
from hild.families.batch.gardner import (Gardner, cover_probability, gardner_capacity, gardner_margin,
                                         largest_margins, rs_stability)
from hild.plot import STYLE, plt

xr = lazy.module("xarray")

PAPERS = ("Gardner, J. Phys. A 21, 257 (1988)", "Gardner & Derrida, J. Phys. A 21, 271 (1988)", "2410.06717")
PUBLISHED = {0.0: 2.0, 0.5: 0.961205, 1.0: 0.519572, 2.0: 0.200231}
"""alpha_c(kappa) as tabulated (models.md s15, checked there against an independent NumPy reference)."""
LOADS = (0.52, 0.96, 1.5, 1.8, 2.0, 2.2)
"""The loads at which samples are drawn: near alpha_c(1), alpha_c(0.5), and around Cover's alpha = 2."""
SIZES = {"quick": {"d": (50, 100), "seeds": 60, "bound": 0.05},
         "paper": {"d": (200, 400), "seeds": 100, "bound": 0.025}}


def _quadrature(kappa: float) -> float:
    """alpha_c by direct quadrature of 1 / int_{-kappa}^inf Dt (t + kappa)^2 (an independent check)."""
    from scipy.integrate import quad
    from scipy.stats import norm

    integral = quad(lambda t: norm.pdf(t) * (t + kappa) ** 2, -kappa, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
    return 1.0 / integral


def _median_error(samples: np.ndarray) -> float:
    """The standard error of a sample median, 1.2533 sd / sqrt(n) (its large-n value for a smooth density)."""
    return 1.2533 * samples.std(ddof=1) / np.sqrt(samples.size)


@claim("batch.gardner_capacity",
       "A spherical perceptron stores P = alpha d random patterns with margin kappa up to the replica-symmetric "
       "capacity alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2: 2 at kappa = 0 (Cover), 0.961205 at 0.5, "
       "0.519572 at 1, 0.200231 at 2; at finite d storage crosses 50% there (exact NNLS storage at d = 200-400); "
       "for kappa < 0 the RS solution is unstable and its value is only an upper bound", PAPERS)
def gardner_capacity_claim(size: str, progress: bool) -> Outcome:
    spec = SIZES[size]
    kappas = np.array(sorted(PUBLISHED))
    closed = gardner_capacity(kappas)
    checks = [at_most("closed form against quadrature: max |rel diff| over kappa = -1, 0, 0.5, 1, 2",
                      max(abs(gardner_capacity(k) / _quadrature(k) - 1) for k in (-1.0, *kappas)), 1e-9),
              at_most("alpha_c against the published values: max |rel diff| (kappa = 0, 0.5, 1, 2)",
                      float(np.max(abs(closed / np.array([PUBLISHED[k] for k in kappas]) - 1))), 1e-6)]
    margins = {d: {a: largest_margins(d, a, spec["seeds"], seed=1000 * d) for a in LOADS} for d in spec["d"]}
    numbers, rows = {}, []
    z_cover = 0.0
    for d in spec["d"]:
        for a in LOADS:
            stored = float(np.mean(margins[d][a] >= 0))
            exact = float(cover_probability(d, round(a * d)))
            sd = np.sqrt(max(exact * (1 - exact), 1.0 / spec["seeds"]) / spec["seeds"])
            z_cover = max(z_cover, abs(stored - exact) / sd)
            rows.append((d, a, stored, exact))
    checks.append(at_most(f"kappa = 0: storage probability at d = {', '.join(map(str, spec['d']))} ({spec['seeds']} "
                          f"samples per load) against Cover's exact count: max |z|", z_cover, 4.0))
    d = spec["d"][-1]
    worst = 0.0
    for a in LOADS[:3]:  # loads whose RS margin is positive (alpha < 2)
        median = float(np.median(margins[d][a]))
        load_error = abs(gardner_capacity(median) / a - 1)
        worst = max(worst, load_error)
        numbers[f"d = {d}, alpha = {a:g}: median kappa_max (the 50% crossing)"] = median
        numbers[f"d = {d}, alpha = {a:g}: its standard error"] = _median_error(margins[d][a])
        numbers[f"alpha = {a:g}: RS kappa_max"] = float(gardner_margin(a))
    checks.append(at_most(f"50% crossing at d = {d}: max over alpha = 0.52, 0.96, 1.5 of |alpha_c(median kappa_max) "
                          f"/ alpha - 1|", worst, spec["bound"]))
    negative = rs_stability(np.array([-1.0, -0.5]))
    positive = rs_stability(np.array([0.5, 1.0, 2.0]))
    checks += [at_most("RS stability 1 - alpha_c Phi(kappa) at kappa = -1, -0.5 (max; < 0: RS unstable, an upper "
                       "bound only)", float(negative.max()), -1e-3),
               at_least("RS stability at kappa = 0.5, 1, 2 (min; > 0: RS exact)", float(positive.min()), 1e-3),
               at_most("RS stability at kappa = 0 (marginal): |value|", abs(rs_stability(0.0)), 1e-12)]
    numbers.update({"RS alpha_c(-1) (an upper bound only)": gardner_capacity(-1.0),
                    "RS stability at kappa = -1": float(negative[0])})
    sim = xr.Dataset({"kappa_max": (("d", "alpha", "seed"),
                                    np.array([[margins[n][a] for a in LOADS] for n in spec["d"]]))},
                     coords={"d": list(spec["d"]), "alpha": list(LOADS), "seed": np.arange(spec["seeds"])},
                     attrs=Gardner().provenance("simulation", dtype="float64", seeds=range(spec["seeds"]),
                                                note="kappa_max -inf where the sample is not separable"))
    theory = xr.Dataset({"alpha_c": ("kappa", gardner_capacity(np.linspace(-1, 2, 301)))},
                        coords={"kappa": np.linspace(-1, 2, 301)}, attrs=Gardner().provenance("theory", "float64"))
    return Outcome(checks, {"theory": theory, "simulation": sim}, _figure(theory, margins, rows, spec), numbers)


def _figure(theory, margins, rows, spec):
    """Left: alpha_c(kappa) (dashed where RS is unstable) with the finite-d 50% crossings (median kappa_max at each
    load, +- its standard error). Right: the storage probability at kappa = 0 against Cover's exact count."""
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4), constrained_layout=True)
        k, a = theory.kappa.values, theory.alpha_c.values
        left.plot(k[k >= 0], a[k >= 0], "k-", lw=1.4, label="RS capacity (exact for κ ≥ 0)")
        left.plot(k[k <= 0], a[k <= 0], "k--", lw=1.2, label="RS, unstable for κ < 0: an upper bound")
        for c, d in enumerate(spec["d"]):
            for j, load in enumerate(LOADS[:3]):
                m = margins[d][load]
                left.errorbar(np.median(m), load, xerr=_median_error(m), fmt="o", ms=4, color=f"C{c}", capsize=2,
                              label=f"d = {d}: median κ_max of {spec['seeds']} samples" if j == 0 else None)
        left.plot(list(PUBLISHED), list(PUBLISHED.values()), "s", ms=6, mfc="none", color="k",
                  label="published α_c(κ)")
        left.set(xlabel="margin κ", ylabel="load α = P / d", yscale="log", ylim=(0.1, 20))
        left.legend(fontsize=6)
        for c, d in enumerate(spec["d"]):
            grid = np.linspace(1.4, 2.6, 121)
            right.plot(grid, cover_probability(d, np.round(grid * d)), "-", color=f"C{c}", lw=1.0,
                       label=f"Cover's count, d = {d}")
            mine = [(a, p) for n, a, p, _ in rows if n == d]
            x, p = np.array(mine).T
            right.errorbar(x, p, yerr=np.sqrt(np.maximum(p * (1 - p), 1e-4) / spec["seeds"]), fmt="o", ms=4,
                           color=f"C{c}", capsize=2, label=f"NNLS storage, d = {d}")
        right.axvline(2.0, color="k", lw=0.8, ls=":")
        right.set(xlabel="load α = P / d", ylabel="P(stored) at κ = 0", xlim=(1.4, 2.6))
        right.legend(fontsize=6)
        fig.suptitle("batch.gardner_capacity: spherical perceptron storage", fontsize=9)
    return fig
