"""Claims of the linear-attention theory of in-context regression (Lu, Letey, Zavatone-Veth, Maiti, Pehlevan,
arXiv 2405.11751), with hild's d -> infinity theory (hild.families.icl.linear_attention) against the exact
finite-d ridge solution.

hild's theory is exact at tau = infinity (Gamma = C (B + lambda)^{-1}, C's spectrum Marchenko-Pastur) and a
Gaussian-equivalence result at finite tau, derived here (the paper's own formula could not be read). The finite-d
solution approaches it like 1/d with a large coefficient (at d = 20 the gap is 2-13%): at alpha = 2, noise 0.5,
ridge 0.01, 4 seeds at d = 20, 30, 40 extrapolated as a + b / d (theory in brackets): (kappa, tau) = (2, 2):
e_icl 1.436 +- 0.038 (1.366), e_idg 1.199 +- 0.057 (1.141); (0.5, 2): 1.649 +- 0.069 (1.694), 0.852 +- 0.033
(0.889); (2, 0.5): 1.614 +- 0.069 (1.597), 1.461 +- 0.073 (1.452), all within 1.8 standard errors.
"""
from __future__ import annotations

import numpy as np

from hild.claims import Outcome, at_least, at_most, between, claim
from hild.core import lazy
from hild.families.icl.linear_attention import LinearAttention
from hild.plot import STYLE, plt

xr = lazy.module("xarray")

PAPERS = ("2405.11751",)
POINTS = ({"alpha": 2.0, "kappa": 2.0, "tau": 2.0}, {"alpha": 2.0, "kappa": 0.5, "tau": 2.0},
          {"alpha": 2.0, "kappa": 2.0, "tau": 0.5})
"""The points of the theory-vs-finite-d check (noise 0.5, ridge 0.01): above and below kappa = 1, below tau = 1."""
AGREEMENT = {"quick": ((8, 12, 16), 8), "paper": ((20, 30, 40), 8)}
"""Dimensions and seeds of the finite-d solutions."""


def _finite(scenario, dims, seeds) -> dict:
    """{d: simulation} of a scenario at each d."""
    return {d: scenario.simulate(d=d, seeds=seeds) for d in dims}


def _mean_se(ds, name) -> tuple[float, float]:
    return float(ds[name].mean()), float(ds[name].std(ddof=1) / np.sqrt(ds.sizes["seed"]))


@claim("icl.linear_attention_theory",
       "The d -> infinity ICL and IDG errors match the exact finite-d ridge solution of linear attention: the 1/d "
       "extrapolation of the finite-d means lies within 3 standard errors (or 2%) of the theory, at alpha = 2 and "
       "(kappa, tau) = (2, 2), (0.5, 2), (2, 0.5), noise 0.5, ridge 0.01", PAPERS)
def linear_attention_theory(size: str, progress: bool) -> Outcome:
    dims, seeds = AGREEMENT[size]
    checks, numbers, rows = [], {}, []
    for point in POINTS:
        s = LinearAttention(**point, noise=0.5, ridge=0.01)
        th = s.theory()
        sims = _finite(s, dims, seeds)
        tag = ", ".join(f"{k} {v:g}" for k, v in point.items())
        for name in ("e_icl", "e_idg"):
            theory = float(th[name])
            mean, se = np.array([_mean_se(sims[d], name) for d in dims]).T
            # least squares of mean = a + b / d, weighted by 1 / se^2; a's standard error
            X = np.stack([np.ones(len(dims)), 1 / np.array(dims, float)], 1) / se[:, None]
            cov = np.linalg.inv(X.T @ X)
            a, b = (float(v) for v in cov @ X.T @ (mean / se))
            a_se = float(np.sqrt(cov[0, 0]))
            numbers.update({f"{tag}: {name} theory": theory, f"{tag}: {name} extrapolated to d = inf": a,
                            **{f"{tag}: {name} at d = {d}": float(m) for d, m in zip(dims, mean)}})
            checks.append(at_most(f"{tag}: |{name} extrapolated - theory| / max(3 se, 2% theory)",
                                  abs(a - theory) / max(3 * a_se, 0.02 * theory), 1.0))
            rows.append((tag, name, theory, dims, mean, se, (a, b)))
    return Outcome(checks, figure=_agreement_figure(rows), numbers=numbers)


def _agreement_figure(rows):
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(7, 3.2), constrained_layout=True)
        for i, (tag, name, theory, dims, mean, se, (a, b)) in enumerate(rows):
            ax = axes[0 if name == "e_icl" else 1]
            color = f"C{i // 2}"
            ax.errorbar(1 / np.array(dims), mean, yerr=se, fmt="o", color=color, ms=4, label=f"finite d: {tag}")
            ax.plot([0], [theory], "*", color=color, ms=10)
            ax.plot([0, 1 / dims[0]], [a, a + b / dims[0]], ":", color=color, lw=1)
            ax.set(xlabel="1 / d", ylabel=name, xlim=(-0.005, None))
        axes[0].set_title("ICL error (new tasks); star: theory, dotted: fit a + b / d", fontsize=8)
        axes[1].set_title("IDG error (pool tasks)", fontsize=8)
        axes[0].legend(fontsize=6)
    return fig


TRANSITION = {"quick": (12, 4), "paper": (32, 8)}
"""(d, seeds) of the finite-d points on the crossover curve."""
KAPPAS = np.round(np.linspace(0.2, 2.0, 19), 3)
LONG = {"alpha": 1e4, "tau": 1e12, "ridge": 1e-6}
"""Long contexts and unlimited pretraining, tau -> infinity first: the variance of the fit in the directions no
task spans grows like alpha / tau (they carry the feature variance b = (1 + sigma^2) / alpha only), so alpha = tau
-> infinity does not give the kink (at alpha = tau = 10^6 e_icl exceeds it by 0.2 (1 - kappa), measured)."""
CROSSOVER = {"alpha": 4.0, "tau": 4.0, "ridge": 0.01}


def _slope(kappa, e, low, high) -> float:
    inside = (kappa >= low) & (kappa <= high)
    return float(np.polyfit(kappa[inside], e[inside], 1)[0])


@claim("icl.task_diversity_transition",
       "With long contexts and unlimited pretraining (tau = 10^12, then alpha = 10^4; ridge 10^-6) the ICL error is "
       "sigma^2 + "
       "max(0, 1 - kappa): slope -1 below kappa = 1, flat above (a kink at kappa = 1); at alpha = tau = 4 it is a "
       "smooth crossover around kappa = 1, and the finite-d solution crosses over too (its drop per unit kappa over "
       "[0.5, 1] at least twice that over [1, 2])", PAPERS)
def task_diversity_transition(size: str, progress: bool) -> Outcome:
    d, seeds = TRANSITION[size]
    noise = 0.5
    limit = LinearAttention.theory_batch([LinearAttention(kappa=k, noise=noise, **LONG) for k in KAPPAS])
    smooth = LinearAttention.theory_batch([LinearAttention(kappa=k, noise=noise, **CROSSOVER) for k in KAPPAS])
    kink = noise ** 2 + np.maximum(0, 1 - KAPPAS)
    e_limit, e_smooth = limit.e_icl.values, smooth.e_icl.values
    sample = (0.5, 1.0, 2.0)
    sims = {k: LinearAttention(kappa=k, noise=noise, **CROSSOVER).simulate(d=d, seeds=seeds) for k in sample}
    finite = {k: _mean_se(sims[k], "e_icl") for k in sample}
    at = {k: float(e_smooth[np.argmin(abs(KAPPAS - k))]) for k in sample}
    curvature = np.diff(e_smooth, 2)
    checks = [at_most("long contexts: max_kappa |e_icl - (sigma^2 + max(0, 1 - kappa))|",
                      float(np.max(abs(e_limit - kink))), 0.01),
              between("long contexts: slope of e_icl over kappa in [0.3, 0.9]", _slope(KAPPAS, e_limit, 0.3, 0.9),
                      -1.05, -0.95),
              at_most("long contexts: |slope| of e_icl over kappa in [1.1, 2]",
                      abs(_slope(KAPPAS, e_limit, 1.1, 2.0)), 0.02),
              between("alpha = tau = 4: kappa of the largest curvature of e_icl (the crossover)",
                      float(KAPPAS[1 + np.argmax(curvature)]), 0.7, 1.4)]
    e = {k: finite[k][0] for k in sample}
    checks.append(at_least(f"d = {d}, alpha = tau = 4: (e(0.5) - e(1)) / 0.5 over (e(1) - e(2)) / 1",
                           (e[0.5] - e[1.0]) / 0.5 / max(e[1.0] - e[2.0], 1e-12), 2.0))
    numbers = {f"kappa = {k:g}: e_icl at d = {d}": finite[k][0] for k in sample}
    numbers.update({f"kappa = {k:g}: (e_icl(d = {d}) - theory) / theory (O(1/d))": (e[k] - at[k]) / at[k]
                    for k in sample})
    numbers.update({f"kappa = {k:g}: e_icl theory at alpha = tau = 4": at[k] for k in sample})
    data = {"theory_long": limit, "theory_crossover": smooth}
    return Outcome(checks, data=data, figure=_transition_figure(kink, e_limit, e_smooth, finite, d), numbers=numbers)


def _transition_figure(kink, e_limit, e_smooth, finite, d):
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 3.4), constrained_layout=True)
        ax.plot(KAPPAS, kink, "--", color="0.5", lw=1, label=r"$\sigma^2 + \max(0, 1 - \kappa)$")
        ax.plot(KAPPAS, e_limit, "k", lw=1.4, label=r"theory, $\tau = 10^{12}, \alpha = 10^4$")
        ax.plot(KAPPAS, e_smooth, "C0", lw=1.4, label=r"theory, $\alpha = \tau = 4$")
        ks = sorted(finite)
        ax.errorbar(ks, [finite[k][0] for k in ks], yerr=[finite[k][1] for k in ks], fmt="o", color="C0", ms=4,
                    label=f"finite d = {d}" + r", $\alpha = \tau = 4$")
        ax.axvline(1.0, color="0.8", lw=0.8)
        ax.set(xlabel=r"task diversity $\kappa = k / d$", ylabel="ICL error (new tasks)")
        ax.legend(fontsize=7)
    return fig


TAUS = np.geomspace(0.1, 10, 41)
DOUBLE = {"alpha": 2.0, "kappa": 2.0, "noise": 0.5, "ridge": 1e-3}
DESCENT = {"quick": (12, 4), "paper": (24, 8)}
"""(d, seeds) of the finite-d points."""


@claim("icl.pretraining_double_descent",
       "At small ridge (10^-3) the ICL error over the number of pretraining contexts tau = n / d^2 peaks near tau = 1 "
       "(theory's peak in [0.8, 1.25], at least twice its value at tau = 10; alpha = kappa = 2), and the finite-d "
       "solution's error at tau = 1 exceeds that at tau = 0.5 and tau = 2", PAPERS)
def pretraining_double_descent(size: str, progress: bool) -> Outcome:
    d, seeds = DESCENT[size]
    th = LinearAttention.theory_batch([LinearAttention(tau=float(t), **DOUBLE) for t in TAUS])
    e = th.e_icl.values
    peak = float(TAUS[np.argmax(e)])
    sample = (0.5, 1.0, 2.0)
    finite = {t: _mean_se(LinearAttention(tau=t, **DOUBLE).simulate(d=d, seeds=seeds), "e_icl") for t in sample}
    checks = [between("theory: tau of the peak of e_icl", peak, 0.8, 1.25),
              at_least("theory: e_icl at the peak / e_icl at tau = 10", float(e.max() / e[-1]), 2.0),
              at_least(f"d = {d}: e_icl(tau = 1) / max(e_icl(tau = 0.5), e_icl(tau = 2))",
                       finite[1.0][0] / max(finite[0.5][0], finite[2.0][0]), 1.0)]
    numbers = {"theory: peak e_icl": float(e.max()), "theory: e_icl at tau = 10": float(e[-1]),
               "theory: e_idg at its peak": float(th.e_idg.values.max()),
               **{f"d = {d}: e_icl at tau = {t:g}": finite[t][0] for t in sample}}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 3.4), constrained_layout=True)
        ax.plot(TAUS, e, "k", lw=1.4, label="theory: ICL (new tasks)")
        ax.plot(TAUS, th.e_idg.values, "k--", lw=1.0, label="theory: IDG (pool tasks)")
        ax.errorbar(list(sample), [finite[t][0] for t in sample], yerr=[finite[t][1] for t in sample], fmt="o",
                    color="C0", ms=4, label=f"finite d = {d}, ICL")
        ax.set(xscale="log", yscale="log", xlabel=r"pretraining contexts $\tau = n / d^2$", ylabel="error",
               title=r"$\alpha = \kappa = 2$, ridge $10^{-3}$, $\sigma = 0.5$")
        ax.legend(fontsize=7)
    return Outcome(checks, data={"theory": th}, figure=fig, numbers=numbers)
