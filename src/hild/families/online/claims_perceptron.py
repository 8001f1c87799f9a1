"""Claims of the classic online perceptron rules (Engel & Van den Broeck, Statistical Mechanics of Learning
(2001), ch. 9; Biehl & Riegler, Europhys. Lett. 28, 525 (1994)).

The asymptotic laws are derived from the rules' closed-form ODEs (hild.families.online.perceptron): eg ~
1/sqrt(2 pi t) for Hebb, (2/3)^{1/3} / pi t^{-1/3} for the perceptron rule and 3 / (lr (3 - lr) t) for AdaTron
(smallest, 4 / (3 t), at lr = 3/2); the exponents 1/2, 1/3 and 1 are those of Biehl & Riegler's abstract.
"""
from __future__ import annotations

import math

import numpy as np

from hild.analysis import fit_power_law
from hild.claims import Check, Outcome, at_most, claim, within
from hild.core import lazy
from hild.families.online.perceptron import Perceptron, asymptote
from hild.plot import STYLE, plt

xr = lazy.module("xarray")

PAPERS = ("Engel & Van den Broeck, Statistical Mechanics of Learning (2001), ch. 9",
          "Biehl & Riegler, Europhys. Lett. 28, 525 (1994)")
CLASSIC = {"hebb": 0.01, "perceptron": 1.0, "adatron": 1.5}
"""The three classic rules at the learning rates of the claim: AdaTron at its optimal constant rate 3/2; Hebb
from w = 0, where its eg does not depend on lr, at lr 0.01, which keeps |w|^2 / d ~ (2/pi) lr^2 t^2 below the
engine's blow-up cap (local_field.BLOWUP) up to t = 10^4."""
STARTS = {"hebb": {"R": 0.0, "Q": 0.0}}
"""Hebb from w = 0 (the textbook's tabula rasa); the others from the model's default, a random unit-norm student
(w = 0 is a fixed point of AdaTron)."""
T_MAX, WINDOW = 1e4, (1e3, 1e4)
TOLERANCES = {"rtol": 1e-10, "atol": 1e-13}
"""AdaTron's angle closes like 1/t: at t = 10^4 1 - R / sqrt(Q) ~ 1e-7, so the default rtol 1e-8 on R and Q would
put a 25% error on eg (measured); 1e-10 keeps it below 1e-3."""
ADATRON_LRS = (0.5, 1.0, 1.5, 2.0, 2.5)


def _fit(ds) -> tuple[float, float]:
    """(exponent x, its standard error) of eg ~ A t^-x fitted over the late WINDOW of a theory run."""
    late = ds.eg.sel(t=slice(*WINDOW))
    gamma, se, _ = fit_power_law(late.t.values, late.values)
    return -gamma, se


def _prefactor(ds, exponent: float) -> float:
    """eg t^x at t = T_MAX with the exact exponent x: a free fit's prefactor trades off against its exponent
    (at AdaTron lr 2.5 by 3%, from the O(1/t) corrections), this one is off by < 0.2% (measured)."""
    return float(ds.eg.values[-1] * ds.t.values[-1] ** exponent)


@claim("perceptron.online_rules",
       "Learning a sign teacher online, eg decays as t^-1/2 for Hebb, t^-1/3 for the perceptron rule and t^-1 for "
       "AdaTron: exponents within 1% and prefactors 1/sqrt(2 pi) = 0.399, (2/3)^{1/3}/pi = 0.278 and 4/3 (AdaTron "
       "at its optimal lr 3/2; 3/(lr (3 - lr)) at other lr) within 2% (exponents fitted over t in [10^3, 10^4] of "
       "the ODEs, prefactors eg t^x at t = 10^4); "
       "online learning at d = 2000 follows the ODEs within 5% of eg over t <= 20", PAPERS)
def online_rules(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (500, 8), "paper": (2000, 8)}[size]
    extra = {"quick": (), "paper": ("hinge", "logistic")}[size]  # measured, not checked: no closed law
    checks, numbers, data, curves, fits = [], {}, {}, {}, {}
    for rule, lr in [*CLASSIC.items(), *((r, 1.0) for r in extra)]:
        scenario = Perceptron(algorithm=rule, lr=lr)
        options = {"nodes": 24} if rule == "logistic" else {}  # smooth off its split: 24 nodes, error reported
        ds = scenario.theory(t_max=T_MAX, n_points=1001, init=STARTS.get(rule), **TOLERANCES, **options)
        curves[rule], fits[rule] = ds, _fit(ds)
        data[f"theory_{rule}"] = ds
        x, se = fits[rule]
        A = _prefactor(ds, asymptote(rule, lr)[0] if rule in CLASSIC else x)
        numbers[f"{rule} (lr {lr:g}): exponent"] = x
        numbers[f"{rule} (lr {lr:g}): prefactor"] = A
        numbers[f"{rule}: {ds.attrs['expectations']} moments, cubature_error"] = float(ds.attrs["cubature_error"])
        if rule in CLASSIC:
            x_exact, A_exact = asymptote(rule, lr)
            checks += [within(f"{rule} (lr {lr:g}): exponent of eg over t in [1e3, 1e4]", x, x_exact, 0.01),
                       within(f"{rule} (lr {lr:g}): prefactor eg t^x at t = 1e4", A, A_exact, 0.02)]
    scan = Perceptron.theory_batch([Perceptron(algorithm="adatron", lr=lr) for lr in ADATRON_LRS], t_max=T_MAX,
                                   n_points=1001, **TOLERANCES)
    prefactors = np.array([_prefactor(scan.isel(scenario=i), 1.0) for i in range(len(ADATRON_LRS))])
    exact = np.array([asymptote("adatron", lr)[1] for lr in ADATRON_LRS])
    checks.append(at_most("AdaTron: max_lr |A(lr) / (3 / (lr (3 - lr))) - 1|, lr = 0.5 .. 2.5",
                          float(np.max(np.abs(prefactors / exact - 1))), 0.02))
    best = ADATRON_LRS[int(np.argmin(prefactors))]
    checks.append(Check("AdaTron: the lr of the smallest prefactor", best, "1.5", best == 1.5))
    data["theory_adatron_lr"] = scan.assign_coords(lr=("scenario", list(ADATRON_LRS)))
    sims = {}
    for k, (rule, lr) in enumerate(CLASSIC.items()):
        scenario = Perceptron(algorithm=rule, lr=lr)
        sim = scenario.simulate(d=d, seeds=seeds, t_max=20.0, n_points=1001, seed=100 * k, init=STARTS.get(rule),
                                progress=progress)
        th = scenario.matching_theory(sim, **TOLERANCES)  # n_points as the long runs: no new compilation
        mean, ode = sim.eg.mean("seed").values[1:], th.eg.values[1:]
        gap = float(np.max(np.abs(mean - ode) / ode))
        checks.append(at_most(f"{rule}: max_t |eg_sim - eg_ODE| / eg_ODE over t <= 20, d = {d}, {seeds} seeds",
                              gap, 0.05))
        sims[rule] = (sim, th)
        data[f"simulation_{rule}"] = sim
    fig = _figure(curves, fits, sims, prefactors, exact, d, seeds)
    return Outcome(checks, data, fig, numbers)


def _figure(curves, fits, sims, prefactors, exact, d, seeds):
    with plt.rc_context(STYLE):
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(12.0, 3.6), constrained_layout=True)
        for i, (rule, ds) in enumerate(curves.items()):
            t, eg = ds.t.values[1:], ds.eg.values[1:]
            x, _ = fits[rule]
            a.plot(t, eg, color=f"C{i}", lw=1.3, zorder=3, label=f"{rule}: ODE, fit t^-{x:.3f}")
            if rule in sims:
                sim, th = sims[rule]
                a.plot(th.t.values[50:], th.eg.values[50:], color=f"C{i}", lw=1.3, zorder=3)
                a.plot(sim.t.values[50::50], sim.eg.mean("seed").values[50::50], "s", ms=3, color=f"C{i}", zorder=4,
                       label=f"{rule}: simulation d = {d}, {seeds} seeds")
            x_exact, A_exact = asymptote(rule, CLASSIC.get(rule, 1.0))
            if math.isfinite(x_exact):
                late = t[t >= 10]
                a.plot(late, A_exact * late ** -x_exact, ls=":", color="k", lw=0.8, zorder=2)
            local = -np.diff(np.log(eg)) / np.diff(np.log(t))
            b.plot(np.sqrt(t[1:] * t[:-1]), local, color=f"C{i}", lw=1.2, label=rule)
        a.set(xscale="log", yscale="log", xlabel="t = examples / d", ylabel=r"$\epsilon_g$",
              title="learning curves (asymptotes dotted)")
        a.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        for level in (1 / 2, 1 / 3, 1.0):
            b.axhline(level, color="0.5", ls=":", lw=0.8)
        b.axvspan(*WINDOW, color="0.9", lw=0, zorder=0, label="fit window")
        b.set(xscale="log", xlabel="t = examples / d", ylabel=r"$-d\ln\epsilon_g / d\ln t$", ylim=(0, 1.2),
              title="local decay exponent (ODE)")
        b.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
        lrs = np.linspace(0.3, 2.7, 100)
        c.plot(lrs, 3 / (lrs * (3 - lrs)), "k-", lw=1.0, label="3 / (lr (3 - lr))")
        c.plot(ADATRON_LRS, prefactors, "o", mfc="none", ms=7, color="C2", label="t eg(t) of the ODE at t = 1e4")
        c.set(xlabel="AdaTron learning rate lr", ylabel=r"prefactor A of $\epsilon_g \approx A / t$",
              title="AdaTron: best at lr = 3/2")
        c.legend(fontsize=6)
        fig.suptitle("Online perceptron rules on a sign teacher: decay exponents", fontsize=9)
    return fig
