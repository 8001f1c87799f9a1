"""Claims of ridge regression and convex classification in high dimensions, from the replica fixed point
(hild.families.batch.glm) against the estimators at finite d.

Ridge (Hastie, Montanari, Rosset, Tibshirani, arXiv 1903.08560; Loureiro et al., arXiv 2102.08127): for isotropic
data the ridgeless excess risk is r (1 - alpha) + noise^2 alpha / (1 - alpha) below alpha = 1 and noise^2 /
(alpha - 1) above, and at alpha = 1 it grows as noise^2 / (2 sqrt(lam)) when lam -> 0 (kappa ~ sqrt(lam) in the
deterministic equivalent); the optimal ridge is lam = noise^2 / r at every alpha (lam_H = noise^2 / (alpha r),
Dobriban & Wager, arXiv 1507.03003) and makes eg decrease with alpha. Classification (Aubin et al., arXiv
2006.06560): logistic regression's fixed point against the exact minimiser (L-BFGS finished by Newton).
"""
from __future__ import annotations

import numpy as np

from hild.analysis import fit_power_law
from hild.claims import Outcome, at_least, at_most, claim
from hild.families.batch.classification import Classification
from hild.families.batch.ridge import Ridge, deterministic_equivalent, power_law
from hild.plot import STYLE, plt

NOISE, R = 0.5, 1.0
RIDGELESS = 1e-7
POWER = 1.5


def _ridgeless(alpha, r=R, noise=NOISE):
    alpha = np.asarray(alpha, float)
    return np.where(alpha < 1, r * (1 - alpha) + noise ** 2 * alpha / (1 - alpha), noise ** 2 / (alpha - 1))


def _curves(kw, alphas, lams):
    """eg over (lam, alpha) from one batched fixed-point call (continuation along alpha); NaN: unconverged."""
    scen = [Ridge(alpha=float(a), lam=float(l), noise=NOISE, **kw) for l in lams for a in alphas]
    ds = Ridge.theory_batch(scen)
    return ds.eg.values.reshape(len(lams), len(alphas)), ds


@claim("batch.ridge_double_descent",
       "Ridge regression on n = alpha d Gaussian samples: the ridgeless excess risk follows r (1 - alpha) + s^2 "
       "alpha / (1 - alpha) below alpha = 1 and s^2 / (alpha - 1) above (fixed point within 1e-4 relative at lam "
       "= 1e-7, alpha away from 1) and diverges at alpha = 1 as lam^-1/2 (exponent within 2%); the fixed point "
       "equals the deterministic equivalent for a power-law spectrum (1e-6); at the optimal ridge the error "
       "decreases monotonically in alpha, isotropic (lam_opt = s^2 / r) and power-law; ridge at finite d "
       "matches the fixed point within 4 standard errors of its seed mean (quick, d = 100; paper, d = 800)",
       ("1903.08560", "2102.08127"))
def ridge_double_descent(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (100, 16), "paper": (800, 16)}[size]
    checks, numbers, data = [], {}, {}
    alphas = np.unique(np.round(np.concatenate([np.linspace(0.1, 3.0, 30), [0.5, 2.0]]), 4))
    small = np.array([RIDGELESS, 1e-6, 1e-5, 1e-4])
    lam_opt = NOISE ** 2 / R
    lams = np.concatenate([small, np.unique(np.append(np.geomspace(1e-2, 10.0, {"quick": 16, "paper": 31}[size]),
                                                      lam_opt))])
    spec = power_law(d, POWER)
    teacher = np.sqrt(R) * np.ones(d)
    variants = {"isotropic": {}, "power law": {"spectrum": tuple(spec), "teacher": tuple(teacher)}}
    curves, sims, zs, gaps = {}, {}, [], []
    for name, kw in variants.items():
        eg, ds = _curves(kw, alphas, lams)  # one compiled call: every lam row, continuation along alpha
        data[f"theory_{name.replace(' ', '_')}"] = ds
        checks.append(at_least(f"{name}: converged fixed points of the (lam, alpha) grid (fraction)",
                               float(ds.converged.mean()), 1.0))
        grid = eg[len(small):]
        best = np.nanmin(grid, axis=0)
        lam_best = lams[len(small):][np.nanargmin(grid, axis=0)]
        checks.append(at_most(f"{name}: largest increase of min_lam eg between neighbouring alpha",
                              float(np.nanmax(np.diff(best))), 0.0))
        numbers[f"{name}: eg at alpha = 1, lam = {RIDGELESS:g}"] = float(eg[0, alphas == 1.0][0])
        curves[name] = (eg[0], best, lam_best, eg[np.argmin(abs(lams - 1e-2))])
        if name == "isotropic":
            away = abs(alphas - 1) > 0.15
            err = float(np.nanmax(abs(eg[0][away] / _ridgeless(alphas[away]) - 1)))
            checks.append(at_most(f"isotropic, lam = {RIDGELESS:g}: max |eg / ridgeless closed form - 1|, "
                                  "|alpha - 1| > 0.15", err, 1e-4))
            step = np.log(1e3) / ({"quick": 16, "paper": 31}[size] - 1)  # the geometric grid's spacing
            checks.append(at_most(f"isotropic: max_alpha |ln(grid argmin lam / (s^2 / r))| (grid step ln "
                                  f"{np.exp(step):.3g})", float(np.max(abs(np.log(lam_best / lam_opt)))),
                                  step / 2 + 1e-9))
            slope, _, _ = fit_power_law(small, eg[:len(small), alphas == 1.0][:, 0])
            numbers["isotropic: exponent of eg(alpha = 1) in lam"] = float(slope)
            checks.append(at_most("isotropic: |exponent x of eg(alpha = 1) ~ lam^x + 1/2|, lam = 1e-7 .. 1e-4",
                                  float(abs(slope + 0.5)), 0.01))
        else:
            pts = [(0.5, 1e-2), (1.0, 1e-2), (2.0, lams[-1]), (1.0, 1e-4)]
            fp = np.array([eg[np.argmin(abs(lams - l)), alphas == a][0] for a, l in pts])
            de = np.array([deterministic_equivalent(a, float(lams[np.argmin(abs(lams - l))]), NOISE, spec, teacher)
                           for a, l in pts])
            checks.append(at_most("power law: max |eg_fixed point / eg_deterministic equivalent - 1| at 4 points",
                                  float(np.max(abs(fp / de - 1))), 1e-6))
        for a, l in [(0.5, 1e-2), (2.0, 1e-2), (0.5, lam_opt), (2.0, lam_opt)][: {"quick": 2, "paper": 4}[size]]:
            sim = Ridge(alpha=a, lam=l, noise=NOISE, **kw).simulate(d=d, seeds=seeds)
            th = float(ds.eg.values[_where(ds, a, l)])
            mean, se = float(sim.eg.mean()), float(sim.eg.std(ddof=1)) / np.sqrt(seeds)
            sims[(name, a, l)] = (mean, se, th)
            zs.append(abs(mean - th) / se)
            gaps.append(abs(mean / th - 1))
            numbers[f"{name}, alpha {a:g}, lam {l:g}: eg sim / theory - 1"] = mean / th - 1
            numbers[f"{name}, alpha {a:g}, lam {l:g}: (eg sim - theory) / s.e."] = (mean - th) / se
            data[f"simulation_{name.replace(' ', '_')}_alpha{a:g}_lam{l:g}"] = sim
    checks.append(at_most(f"max |eg_sim - eg_theory| / (standard error of the {seeds}-seed mean), d = {d}",
                          float(max(zs)), 4.0))
    numbers[f"max |eg_sim / eg_theory - 1|, d = {d}"] = float(max(gaps))
    fig = _figure(alphas, curves, sims, d, seeds)
    return Outcome(checks, data, fig, numbers)


def _where(ds, alpha, lam) -> int:
    """The index along `scenario` of the point (alpha, lam) of a theory_batch result."""
    import json

    params = [json.loads(p) for p in ds.attrs["points"]]
    for i, p in enumerate(params):
        if abs(p["alpha"] - alpha) < 1e-12 and abs(p["lam"] / lam - 1) < 1e-9:
            return i
    raise ValueError(f"no point alpha = {alpha}, lam = {lam}")


def _figure(alphas, curves, sims, d, seeds):
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        for ax, (name, (eg0, best, _, eg_sim)) in zip(axes, curves.items()):
            ax.plot(alphas, eg0, "k-", lw=1.3, label=f"fixed point, lam = {RIDGELESS:g}")
            ax.plot(alphas, eg_sim, "C0--", lw=1.0, label="fixed point, lam = 0.01")
            ax.plot(alphas, best, "C1-", lw=1.3, label="fixed point, optimal lam")
            if name == "isotropic":
                for k, part in enumerate((np.linspace(0.05, 0.98, 200), np.linspace(1.02, 3.0, 200))):
                    ax.plot(part, _ridgeless(part), "k:", lw=0.8, label="ridgeless closed form" if k else None)
            for (n, a, l), (mean, se, _) in sims.items():
                if n == name:
                    c = "C1" if l > 0.1 else "C0"  # lam = s^2 / r or lam = 0.01
                    ax.errorbar([a], [mean], yerr=[se], fmt="o", ms=4, color=c, capsize=2)
            ax.plot([], [], "o", color="C0", label=f"ridge at d = {d}, lam = 0.01 ({seeds} seeds)")
            if any(l > 0.1 for (_, _, l) in sims):
                ax.plot([], [], "o", color="C1", label=f"ridge at d = {d}, lam = s^2 / r")
            ax.axvline(1.0, color="0.7", ls=":", lw=0.8)
            ax.set(yscale="log", ylim=(0.05, 30), xlabel=r"$\alpha = n / d$", ylabel="excess risk eg",
                   title=f"{name} data, noise s = {NOISE}")
            ax.legend(fontsize=6)
        fig.suptitle("Ridge regression: double descent at alpha = 1, removed by the optimal ridge", fontsize=9)
    return fig


LOGISTIC_POINTS = ((0.5, 0.01), (1.0, 0.1), (2.0, 0.01), (2.0, 1.0), (4.0, 0.05))


@claim("batch.logistic_matches_erm",
       "Logistic regression on a sign teacher: the replica fixed point's test error eg = arccos(m / sqrt(q)) / pi "
       "matches the exact minimiser (L-BFGS, Newton) at d = 500 within 0.01 (paper, 8 seeds) and at d = 100 within "
       "0.01 sqrt(500 / 100) (quick, 8 seeds, 3 of the 5 points) at alpha from 0.5 to 4 and lam from 0.01 to 1; "
       "the fixed point's training loss and test loss match within 4 standard errors of the seed mean; every "
       "fixed point converges",
       ("2006.06560",))
def logistic_matches_erm(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (100, 8), "paper": (500, 8)}[size]
    bound = 0.01 * np.sqrt(500 / d)
    checks, numbers, data = [], {}, {}
    points = LOGISTIC_POINTS if size == "paper" else LOGISTIC_POINTS[::2]
    th = Classification.theory_batch([Classification(alpha=a, lam=l) for a, l in points])
    data["theory"] = th
    checks.append(at_least("converged fixed points (fraction)", float(th.converged.mean()), 1.0))
    rows = []
    for i, (a, l) in enumerate(points):
        sim = Classification(alpha=a, lam=l).simulate(d=d, seeds=seeds, seed=10 * i)
        data[f"simulation_alpha{a:g}_lam{l:g}"] = sim
        row = {}
        for v in ("eg", "train_loss", "test_loss"):
            row[v] = (float(sim[v].mean()), float(sim[v].std(ddof=1)) / np.sqrt(seeds), float(th[v].values[i]))
            numbers[f"alpha {a:g}, lam {l:g}: {v} ERM - fixed point"] = row[v][0] - row[v][2]
        numbers[f"alpha {a:g}, lam {l:g}: the minimiser's largest gradient norm"] = float(sim.solver_residual.max())
        rows.append(row)
    gap = max(abs(r["eg"][0] - r["eg"][2]) for r in rows)
    checks.append(at_most(f"max |eg_ERM - eg_fixed point| over {len(rows)} (alpha, lam), d = {d}, {seeds} seeds",
                          float(gap), float(bound)))
    for v in ("train_loss", "test_loss"):  # their seed spread is larger than eg's: bounded in standard errors
        z = max(abs(r[v][0] - r[v][2]) / r[v][1] for r in rows)
        checks.append(at_most(f"max |{v}_ERM - {v}_fixed point| / s.e. over {len(rows)} (alpha, lam), d = {d}, "
                              f"{seeds} seeds", float(z), 4.0))
    fig = _logistic_figure(points, rows, d, seeds)
    return Outcome(checks, data, fig, numbers)


def _logistic_figure(points, rows, d, seeds):
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(10.0, 3.2), constrained_layout=True)
        for ax, v in zip(axes, ("eg", "train_loss", "test_loss")):
            th = np.array([r[v][2] for r in rows])
            lo, hi = th.min() * 0.9, th.max() * 1.1
            ax.plot([lo, hi], [lo, hi], "k-", lw=0.8, label="ERM = fixed point")
            for (a, l), r in zip(points, rows):
                ax.errorbar([r[v][2]], [r[v][0]], yerr=[r[v][1]], fmt="o", ms=4, capsize=2,
                            label=f"alpha {a:g}, lam {l:g}")
            ax.set(xlabel=f"{v}: replica fixed point", ylabel=f"{v}: ERM at d = {d} ({seeds} seeds)")
        axes[0].legend(fontsize=6)
        fig.suptitle("Logistic regression on a sign teacher: fixed point against the exact minimiser", fontsize=9)
    return fig


RF_ALPHA, RF_SMALL = 3.0, 1e-5
HERMITE = {"relu": (0.398942, 0.5, 0.301405), "erf": (0.0, 0.651470, 0.200364), "tanh": (0.0, 0.605706, 0.165576)}
"""models.md section 15, checked with an independent NumPy reference (six decimals)."""


@claim("batch.random_features_peak",
       "Random-features ridge regression (relu features, n = 3 d samples): the Hermite coefficients (mu0, mu1, "
       "mu_star) of relu, erf and tanh match their reference values to 1e-6; at small ridge (lam = 1e-5) the "
       "test error, against psi = N / d, peaks at N = n (argmax within 10% of psi = alpha); the optimal ridge "
       "removes the peak (min over lam non-increasing in psi); real random features at finite d show the peak "
       "at N = n and follow the Gaussian-equivalent fixed point away from it within 4 standard errors",
       ("1908.05355", "2002.09339"))
def random_features_peak(size: str, progress: bool) -> Outcome:
    from hild.families.batch.hermite import hermite_coefficients
    from hild.families.batch.random_features import RandomFeatures

    d, seeds = {"quick": (40, 8), "paper": (100, 16)}[size]
    checks, numbers, data = [], {}, {}
    err = max(abs(a - b) for name, ref in HERMITE.items() for a, b in zip(hermite_coefficients(name), ref))
    checks.append(at_most("max |Hermite coefficient - reference| over relu, erf, tanh (reference rounded to 1e-6)",
                          float(err), 1e-6))
    psis = np.unique(np.round(np.concatenate([np.geomspace(0.3, 30.0, {"quick": 21, "paper": 41}[size]),
                                              [RF_ALPHA]]), 6))
    lams = np.geomspace(1e-4, 10.0, {"quick": 6, "paper": 11}[size])
    points = [(p, RF_SMALL) for p in psis] + [(p, l) for l in lams for p in psis]
    ds = RandomFeatures.theory_batch([RandomFeatures(psi=float(p), alpha=RF_ALPHA, lam=float(l)) for p, l in points])
    data["theory"] = ds
    checks.append(at_least("converged fixed points (fraction)", float(ds.converged.mean()), 1.0))
    eg = ds.eg.values
    small, grid = eg[:psis.size], eg[psis.size:].reshape(lams.size, psis.size)
    peak = float(psis[np.nanargmax(small)])
    numbers["theory: psi of the largest eg at lam = 1e-5"] = peak
    checks.append(at_most("theory, lam = 1e-5: |psi_peak / alpha - 1|", abs(peak / RF_ALPHA - 1), 0.1))
    best = np.nanmin(grid, axis=0)
    checks.append(at_most("optimal lam: largest increase of min_lam eg between neighbouring psi",
                          float(np.nanmax(np.diff(best))), 0.0))
    sim_psis = (RF_ALPHA / 3, RF_ALPHA, RF_ALPHA * 3)
    sims = {}
    for p in sim_psis:
        sim = RandomFeatures(psi=p, alpha=RF_ALPHA, lam=RF_SMALL).simulate(d=d, seeds=seeds)
        data[f"simulation_psi{p:g}"] = sim
        th = float(small[np.argmin(abs(psis - p))])
        mean, se = float(sim.eg.mean()), float(sim.eg.std(ddof=1)) / np.sqrt(seeds)
        sims[p] = (mean, se, th)
        numbers[f"psi {p:g}: eg simulation (seed mean)"] = mean
        numbers[f"psi {p:g}: eg simulation (standard error)"] = se
        numbers[f"psi {p:g}: eg theory"] = th
    middle = sims[RF_ALPHA][0]
    checks.append(at_least(f"simulation d = {d}: eg(N = n) / max(eg(N = n / 3), eg(N = 3 n))",
                           middle / max(sims[sim_psis[0]][0], sims[sim_psis[2]][0]), 2.0))
    z = max(abs(sims[p][0] - sims[p][2]) / sims[p][1] for p in (sim_psis[0], sim_psis[2]))
    checks.append(at_most(f"|eg_sim - eg_theory| / s.e. at N = n / 3 and 3 n, d = {d}, {seeds} seeds", float(z), 4.0))
    fig = _rf_figure(psis, small, best, sims, d, seeds)
    return Outcome(checks, data, fig, numbers)


def _rf_figure(psis, small, best, sims, d, seeds):
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.0, 3.4), constrained_layout=True)
        ax.plot(psis, small, "k-", lw=1.3, label=f"fixed point, lam = {RF_SMALL:g}")
        ax.plot(psis, best, "C1-", lw=1.3, label="fixed point, optimal lam")
        for p, (mean, se, _) in sims.items():
            ax.errorbar([p], [mean], yerr=[se], fmt="o", ms=4, color="C0", capsize=2)
        ax.plot([], [], "o", color="C0", label=f"relu random features, d = {d} ({seeds} seeds)")
        ax.axvline(RF_ALPHA, color="0.7", ls=":", lw=0.8, label="N = n")
        ax.set(xscale="log", yscale="log", xlabel=r"$\psi = N / d$", ylabel="test error eg (noiseless)",
               title=rf"random features ridge, $\alpha = n / d = {RF_ALPHA:g}$")
        ax.legend(fontsize=6)
    return fig
