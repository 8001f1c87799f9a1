"""Claims of the limiting dynamics of SGD on least squares (Kunin et al., arXiv 2107.09133; the exact stationary
equation is derived in hild.families.implicit.limiting, and models.md section 16 has an independent NumPy check:
trace 0.08509 exact against 0.0611 with the noise frozen, simulated 0.08517 +- 0.00008).

The anomalous-diffusion law is derived here for a quadratic loss (the paper observes it in deep networks and
explains it in linear regression): per mode k of curvature lambda_k, the stationary displacement is
2 S_kk (1 - (1 - lr lambda_k)^l), so with lambda_k ~ k^-p and S_kk ~ lambda_k^gamma the modes with
lr lambda_k l > 1 (k < (lr l)^{1/p}) are saturated and D(l) ~ sum_{k < (lr l)^{1/p}} k^{-p gamma} ~ l^{1/p - gamma}
between l ~ 1 / (lr lambda_1) and 1 / (lr lambda_d); beyond, D saturates at 2 tr S.
"""
from __future__ import annotations

import numpy as np

from hild.analysis import fit_power_law
from hild.claims import Outcome, at_least, at_most, claim, within
from hild.core import lazy
from hild.families.implicit.scenarios import LinearRegressionSGD
from hild.plot import STYLE, plt

xr = lazy.module("xarray")

PAPERS = ("2107.09133",)
CASES = {"sgd": {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0},
         "momentum": {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.05}}
"""Plain minibatch SGD (the models.md setting: lr 0.1, batch 4) and heavy ball with weight decay, on one training
set (n = 64, d = 8, isotropic Gaussian rows, noise 0.5), both at batch 4 (one compilation)."""
RUNS = {"quick": (16, 20000), "paper": (64, 200000)}
"""(seeds, measured steps) of each simulation; burn-in 2000 steps (the slowest mode relaxes in ~ 1 / (lr lambda_min)
~ 50 steps here)."""


def _standard_error(sim) -> float:
    return float(sim.trace.std("seed", ddof=1) / np.sqrt(sim.sizes["seed"]))


@claim("limiting.stationary_covariance",
       "The stationary covariance of minibatch SGD on least squares solves the exact equation with the "
       "iterate-dependent noise, S = J S J^T + lr^2 (Sigma0 + (M4(S) - H S H) / B) (a 2d-state version with momentum): "
       "the simulated tr S agrees with it within 4 standard errors and 1%, and the whole S within 5% (Frobenius), for "
       "plain SGD (lr 0.1, B 4) and heavy ball (lr 0.05, momentum 0.5, weight decay 0.05); the noise frozen at the "
       "minimum misses tr S by more than 10 standard errors (the difference is measurable)", PAPERS)
def stationary_covariance(size: str, progress: bool) -> Outcome:
    seeds, steps = RUNS[size]
    checks, numbers, data = [], {}, {}
    for name, hyper in CASES.items():
        scenario = LinearRegressionSGD.gaussian(n=64, d=8, batch=4, **hyper)
        th = scenario.theory()
        sim = scenario.simulate(steps=steps, seeds=seeds, seed=0, burn_in=2000)
        trace, frozen, se = float(th.trace), float(th.trace_frozen), _standard_error(sim)
        measured = float(sim.trace.mean())
        error = float(np.linalg.norm(sim.S.values - th.S.values) / np.linalg.norm(th.S.values))
        label = ", ".join(f"{k} {v:g}" for k, v in hyper.items())
        checks += [at_most(f"{name} ({label}): |tr S_sim - tr S_exact| / standard error",
                           abs(measured - trace) / se, 4.0),
                   within(f"{name}: simulated tr S against the exact", measured, trace, 0.01),
                   at_most(f"{name}: ||S_sim - S_exact||_F / ||S_exact||_F", error, 0.05),
                   at_least(f"{name}: |tr S_sim - tr S_frozen| / standard error", abs(measured - frozen) / se, 10.0)]
        numbers.update({f"{name}: tr S exact": trace, f"{name}: tr S frozen noise": frozen,
                        f"{name}: tr S continuous-time": float(th.trace_continuous),
                        f"{name}: tr S simulated": measured, f"{name}: its standard error": se,
                        f"{name}: relative Frobenius error of S": error})
        data[f"theory_{name}"], data[f"simulation_{name}"] = th, sim
    return Outcome(checks, data, _covariance_figure(data, seeds, steps), numbers)


def _covariance_figure(data, seeds, steps):
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), constrained_layout=True)
        for ax, name in zip(axes, CASES):
            th, sim = data[f"theory_{name}"], data[f"simulation_{name}"]
            exact = th.S.values.ravel()
            ax.plot(exact, sim.S.values.ravel(), "o", ms=3, color="C0", label="exact (iterate-dependent noise)")
            ax.plot(th.S_frozen.values.ravel(), sim.S.values.ravel(), "x", ms=3, color="C3",
                    label="noise frozen at the minimum")
            ax.plot(th.S_continuous.values.ravel(), sim.S.values.ravel(), "+", ms=4, color="C2",
                    label="small-lr continuous limit")
            low, high = exact.min(), exact.max()
            ax.plot([low, high], [low, high], color="0.5", lw=0.8)
            hyper = ", ".join(f"{k} {v:g}" for k, v in CASES[name].items())
            ax.set(xlabel="predicted S_ij", ylabel="simulated S_ij",
                   title=f"{hyper}\ntr: exact {float(th.trace):.5f}, frozen {float(th.trace_frozen):.5f}, "
                         f"sim {float(sim.trace.mean()):.5f}")
            ax.legend(fontsize=7, loc="upper left")
        fig.suptitle(f"minibatch SGD on least squares (n = 64, d = 8, B = 4): {seeds} seeds x {steps} steps",
                     fontsize=9)
    return fig


DIFFUSION = {"n": 128, "d": 64, "p": 3.0, "lr": 0.5, "batch": 4}
"""A training Hessian exactly diag(k^-3), k = 1 .. 64 (exact_spectrum): the power law spans lags from
~ 1 / (lr lambda_1) = 2 to ~ 1 / (lr lambda_64) = 5e5."""
FIT = (20.0, 5e4)
"""The fit window: ten times inside both ends of the power-law range 1 / (lr lambda_1) .. 1 / (lr lambda_d)."""
DIFFUSION_RUNS = {"quick": (8, 20000), "paper": (32, 200000)}


@claim("limiting.anomalous_diffusion",
       "At stationarity minibatch SGD keeps moving: the mean squared displacement D(l) = E|w(t + l) - w(t)|^2 "
       "saturates at 2 tr S (within 2% at l = 10^7 steps) and, for a Hessian spectrum lambda_k ~ k^-p, grows as a "
       "power law l^c at intermediate lags with c = 1/p - gamma, gamma the exponent of S_kk ~ lambda_k^gamma (derived "
       "here): at p = 3 the exponent fitted over l in [20, 5e4] is within 0.02 of 1/p - gamma; simulated SGD follows "
       "the exact D(l) within 5% at l = 1 .. 1000", PAPERS)
def anomalous_diffusion(size: str, progress: bool) -> Outcome:
    seeds, steps = DIFFUSION_RUNS[size]
    scenario = LinearRegressionSGD.gaussian(exact_spectrum=True, **DIFFUSION)
    th = scenario.theory(max_lag=10 ** 7, n_lags=57)
    lam, U = np.linalg.eigh(scenario.X.T @ scenario.X / scenario.X.shape[0])
    gamma, gamma_se, _ = fit_power_law(lam, np.diag(U.T @ th.S.values @ U))
    lag, msd = th.lag.values, th.msd.values
    window = (lag >= FIT[0]) & (lag <= FIT[1])
    c, c_se, _ = fit_power_law(lag[window], msd[window])
    saturation = float(msd[-1] / (2 * th.trace))
    sim = scenario.simulate(steps=steps, seeds=seeds, seed=0, burn_in=5000, max_lag=1000, n_lags=13)
    short = scenario.theory(max_lag=1000, n_lags=13)
    gap = float(np.max(np.abs(sim.msd.mean("seed").values / short.msd.values - 1)))
    checks = [within("D(10^7) / (2 tr S)", saturation, 1.0, 0.02),
              at_most("|c_fit - (1/p - gamma)|, c fitted over l in [20, 5e4]", abs(c - (1 / DIFFUSION["p"] - gamma)),
                      0.02),
              at_most(f"max_l |D_sim / D_exact - 1| over l = 1 .. 1000 ({seeds} seeds x {steps} steps)", gap, 0.05)]
    numbers = {"c fitted": c, "its standard error": c_se, "gamma (S_kk ~ lambda_k^gamma)": gamma,
               "gamma standard error": gamma_se, "1/p - gamma": 1 / DIFFUSION["p"] - gamma, "1/p": 1 / DIFFUSION["p"],
               "D(1e7) / (2 tr S)": saturation, "tr S": float(th.trace)}
    return Outcome(checks, {"theory": th, "theory_short": short, "simulation": sim},
                   _diffusion_figure(th, short, sim, c, gamma), numbers)


def _diffusion_figure(th, short, sim, c, gamma):
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.6), constrained_layout=True)
        lag = th.lag.values
        a.plot(lag, th.msd, "k", lw=1.3, label="exact stationary D(l)")
        a.plot(lag, th.msd_continuous, "C2--", lw=1.0, label="small-lr continuous limit")
        a.plot(short.lag, sim.msd.mean("seed"), "o", ms=3, color="C0", label="simulated SGD")
        a.axhline(2 * float(th.trace), color="0.5", lw=0.8, ls=":", label="2 tr S")
        ref = th.msd.values[(lag >= FIT[0])][0] * (lag / lag[lag >= FIT[0]][0]) ** c
        keep = (lag >= FIT[0]) & (lag <= FIT[1])
        a.plot(lag[keep], 1.3 * ref[keep], color="C3", lw=1, label=f"fit l^{c:.3f} (x1.3)")
        a.set(xscale="log", yscale="log", xlabel="lag l (steps)", ylabel="D(l) = E|w(t+l) - w(t)|^2",
              title=f"p = {DIFFUSION['p']:g}, d = {DIFFUSION['d']}, lr = {DIFFUSION['lr']:g}, B = {DIFFUSION['batch']}")
        a.legend(fontsize=7)
        local = np.diff(np.log(th.msd.values)) / np.diff(np.log(lag))
        b.plot(np.sqrt(lag[1:] * lag[:-1]), local, "k", lw=1.2, label="local exponent d ln D / d ln l")
        predicted = 1 / DIFFUSION["p"] - gamma
        b.axhline(predicted, color="C3", ls="--", lw=1, label=f"1/p - gamma = {predicted:.3f}")
        b.axvspan(*FIT, color="C0", alpha=0.1, label="fit window")
        b.set(xscale="log", xlabel="lag l (steps)", ylabel="local exponent", ylim=(0, 1.05))
        b.legend(fontsize=7)
    return fig
