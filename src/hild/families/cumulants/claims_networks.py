"""Claim of the spiked cumulant model (Székely, Bardone, Gerace & Goldt, arXiv 2312.14922): two-layer networks
learn from the fourth cumulant at n ~ d^2 samples, random features do not; both learn the spiked Wishart at n ~ d.

The claim runs the real learners (hild.cumulants.networks: Adam on a two-layer ReLU network of width 4 d,
and the same network frozen at initialisation with a ridge readout) on fresh data at three or more d,
and fits the exponent theta of the threshold n*(d) ~ d^theta with a bootstrap interval over seeds.

The spiked Wishart half of the paper's statement (both learners need n ~ d) is not checked. Under the
spiked Wishart model |x|^2 alone separates the classes: the best norm-only test reaches accuracy 0.637,
0.624, 0.613, 0.601, 0.591 at d = 8, 12, 16, 24, 32 (Monte Carlo), against the optimal test's 0.703. So at
these d an accuracy threshold is reached without finding u. Measured at paper size, random features need
n*/d growing from 16 to 53 (theta 1.81 [1.45, 2.09]), as expected of a readout on m ~ d random features
for a quadratic signal. The network's best unit keeps its initial overlap with u and its accuracy stays
near 0.62 (theta 0.38 [-0.23, 1.06]). Both exponents are reported in the claim's numbers.
"""
from __future__ import annotations

import numpy as np

from hild.claims import Check, Outcome, claim
from hild.families.cumulants.networks import SCALING, bayes_accuracy, classification, fit_exponent
from hild.plot import STYLE, plt

PAPERS = ("2312.14922",)
LEVEL = 0.6       # threshold accuracy: about halfway from chance to the best test that knows u (0.715 / 0.703)
CHANCE = 0.55     # random features "at chance": seed-mean accuracy at most this at the largest n
BETA = {"spiked_cumulant": 10.0, "spiked_wishart": 5.0}
SIZES = {"quick": {"d": (6, 12, 24), "seeds": 4, "steps": 1500, "n_test": 2000,
                   "c": {"spiked_cumulant": (1, 4, 16, 48), "spiked_wishart": (2, 8, 32, 128)}},
         "paper": {"d": (8, 12, 16, 24, 32), "seeds": 8, "steps": 3000, "n_test": 4000,
                   "c": {"spiked_cumulant": (1, 2, 4, 8, 16, 32),
                         "spiked_wishart": (1, 2, 4, 8, 16, 32, 64, 128)}}}


def _contains(what: str, fit, value: float) -> Check:
    low, high = float(fit.theta_low), float(fit.theta_high)
    return Check(what, float(fit.theta), f"95% interval [{low:.3g}, {high:.3g}] contains {value:g}",
                 bool(low <= value <= high))


@claim("cumulants.nn_vs_random_features",
       "Spiked cumulant model (beta = 10, Rademacher latent, whitened) against N(0, I) inputs: a two-layer ReLU "
       "network of width 4d trained by Adam reaches test accuracy 0.6 at n*(d) ~ d^theta samples with theta = 2 "
       "inside the 95% bootstrap interval over seeds and theta = 1 outside it (paper size d = 8..32, 8 seeds), "
       "while random features (the same network frozen at initialisation, ridge readout) stay at chance "
       "(accuracy <= 0.55) up to the largest n ~ d^2 tried. The spiked Wishart contrast (beta = 5) is run and its "
       "exponents are reported, not checked: at d <= 32 the input norm alone reaches accuracy ~0.6, so the "
       "threshold does not measure learning of the spike there (see the module docstring)", PAPERS)
def nn_vs_random_features(size: str, progress: bool) -> Outcome:
    cfg = SIZES[size]
    checks, data, numbers, fits = [], {}, {}, {}
    for task in SCALING:
        ds = classification(task, d=cfg["d"], c=cfg["c"][task], seeds=cfg["seeds"], beta=BETA[task],
                            steps=cfg["steps"], n_test=cfg["n_test"], progress=progress)
        data[task] = ds
        for learner in ds.learner.values:
            fit = fit_exponent(ds.accuracy.sel(learner=learner), LEVEL)
            fits[task, learner] = fit
            numbers.update({f"{task}, {learner}: theta": float(fit.theta),
                            f"{task}, {learner}: theta 95% low": float(fit.theta_low),
                            f"{task}, {learner}: theta 95% high": float(fit.theta_high),
                            f"{task}, {learner}: bootstrap samples with n* off the grid": float(fit.unresolved)})
            for d in fit.d.values:
                numbers[f"{task}, {learner}: n*(d={d}) / d^{SCALING[task]}"] = float(
                    fit.n_star.sel(d=d)) / d ** SCALING[task]
                numbers[f"{task}, {learner}: accuracy at n = {ds.c.values[-1]:g} d^{SCALING[task]}, d={d}"] = float(
                    ds.accuracy.sel(learner=learner, d=d).isel(c=-1).mean("seed"))
        numbers[f"{task}: accuracy of the optimal test knowing u"] = bayes_accuracy(task, BETA[task])
        for d in ds.d.values:
            numbers[f"{task}, network: best-unit overlap |cos(w_k, u)| at the largest n, d={d}"] = float(
                ds.overlap.sel(learner="network", d=d).isel(c=-1).mean("seed"))
        checks.append(Check(f"{task}: diverged runs", float(ds.diverged.sum()), "0", bool(ds.diverged.sum() == 0)))
    cumulant = data["spiked_cumulant"]
    last = cumulant.accuracy.isel(c=-1).mean("seed")
    rf, nn = float(last.sel(learner="random_features").max()), float(last.sel(learner="network").min())
    nn_fit = fits["spiked_cumulant", "network"]
    checks += [_contains("spiked cumulant, network: theta of n* ~ d^theta", nn_fit, 2.0),
               Check("spiked cumulant, network: lower end of the 95% interval of theta", float(nn_fit.theta_low),
                     "> 1 (n ~ d samples are not enough)", bool(nn_fit.theta_low > 1.0)),
               Check(f"spiked cumulant, network: min over d of accuracy at n = {cumulant.c.values[-1]:g} d^2", nn,
                     f">= {LEVEL}", bool(nn >= LEVEL)),
               Check(f"spiked cumulant, random features: max over d of accuracy at n = {cumulant.c.values[-1]:g} d^2",
                     rf, f"<= {CHANCE}", bool(rf <= CHANCE))]
    return Outcome(checks, data, _figure(data, fits), numbers)


def _figure(data, fits):
    """Per task: test accuracy against n / d^p (network filled circles and solid lines, random features open
    squares and dashed lines, one color per d, +- 1 sd over seeds), and n*(d) with the fitted exponents; one
    legend below for the styles, the d and the reference lines."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    from hild.plot import readable_log

    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 2, figsize=(8.5, 6.6), constrained_layout=True)
        for row, (task, ds) in enumerate(data.items()):
            p = SCALING[task]
            ax = axes[row, 0]
            for k, d in enumerate(ds.d.values):
                for learner, style in (("network", "o-"), ("random_features", "s--")):
                    acc = ds.accuracy.sel(learner=learner, d=d)
                    ax.errorbar(ds.c.values, acc.mean("seed"), yerr=acc.std("seed"), fmt=style, color=f"C{k}", ms=3,
                                lw=1, capsize=1.5, mfc="none" if learner == "random_features" else None)
            ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
            ax.axhline(LEVEL, color="0.3", lw=0.8, ls="-.")
            ax.axhline(bayes_accuracy(task, BETA[task]), color="k", lw=0.8)
            ax.set(xscale="log", xlabel="n / d" if p == 1 else f"n / $d^{p}$", ylabel="test accuracy",
                   title=f"{task.replace('_', ' ')} (β = {BETA[task]:g})")
            ax = axes[row, 1]
            for j, learner in enumerate(("network", "random_features")):
                fit = fits[task, learner]
                d = fit.d.values.astype(float)
                ok = np.isfinite(fit.n_star.values)
                theta = (f"θ = {float(fit.theta):.2f} [{float(fit.theta_low):.2f}, {float(fit.theta_high):.2f}]"
                         if np.isfinite(float(fit.theta)) else
                         f"accuracy {LEVEL} reached at {int(ok.sum())} of {ok.size} d: no exponent")
                ax.plot(d[ok], fit.n_star.values[ok], "o" if j == 0 else "s", color=f"C{j}", mfc="none" if j else None,
                        label=f"{learner.replace('_', ' ')}: {theta}")
                if ok.sum() >= 2:
                    ax.plot(d, np.exp(np.mean(np.log(fit.n_star.values[ok]) - fit.theta.values * np.log(d[ok])))
                            * d ** float(fit.theta), "-", color=f"C{j}", lw=1)
            ref = ds.n.values[:, len(ds.c) // 2]
            ax.plot(ds.d.values, ref, ":", color="0.5", lw=1, label=f"n ~ $d^{p}$ (paper)")
            ax.set(xscale="log", yscale="log", xlabel="d", ylabel=f"n* (accuracy {LEVEL})",
                   title="n* and its exponent θ (95% bootstrap)")
            ax.set_xticks(ds.d.values, [f"{v:g}" for v in ds.d.values])
            ax.xaxis.set_minor_formatter(NullFormatter())
            readable_log(ax, "y")
            ax.legend(fontsize=6)
        ds = next(iter(data.values()))
        handles = [Line2D([], [], color=f"C{k}", lw=3) for k in range(ds.sizes["d"])] + [
            Line2D([], [], color="0.3", marker="o", ls="-", ms=3), Line2D([], [], color="0.3", marker="s", mfc="none",
                                                                           ls="--", ms=3),
            Line2D([], [], color="k", lw=0.8), Line2D([], [], color="0.3", lw=0.8, ls="-."),
            Line2D([], [], color="0.6", lw=0.8, ls=":")]
        labels = [f"d = {d}" for d in ds.d.values] + ["network (± 1 sd over seeds)", "random features",
                                                      "optimal test knowing u", f"level {LEVEL} (n*)", "chance"]
        fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=7)
    return fig
