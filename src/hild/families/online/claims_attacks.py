"""Claims of online label attacks on a linear learner (Margiotta, Goldt & Sanguinetti, arXiv 2305.11132).

The numbers are those of ../shared/research/models.md section 7, measured there with an independent NumPy
reference of the linear model (the paper's own parameterisation of the attack and its cost is unverified).
Every claim runs the public API: LabelAttack.theory / theory_batch (the engine's ODEs with the rule's closed
-form moments) and LabelAttack.simulate (online SGD at finite d).
"""
from __future__ import annotations

import math

import numpy as np

from hild.claims import Check, Outcome, at_least, at_most, claim, within
from hild.core import lazy
from hild.families.online.label_attack import LabelAttack, optimal_attack, steady_state
from hild.plot import STYLE, plt, simulation_line, source_legend, theory_line

xr = lazy.module("xarray")

PAPERS = ("2305.11132",)
ORDER = ("R", "S", "Q")
STEADY_T = 40.0
"""At lr 0.5 the ODEs relax as e^{-lr (2 - lr) t}: by t = 40 to within e^{-30} of the steady state."""


def _mean(da) -> np.ndarray:
    return (da.mean("seed") if "seed" in da.dims else da).values


# --- attacks.ode_matches_sim ----------------------------------------------------------------------------------------

FLUCTUATION = 2.0
"""The bound on max_t |seed mean - ODE| is FLUCTUATION / sqrt(d seeds): one seed's R, S, Q deviate from the ODE by
a standard deviation of about 0.5 / sqrt(d) (measured at d = 500-2000), so this is about 4 standard errors."""


@claim("attacks.ode_matches_sim",
       "The ODEs of (R, S, Q) describe online SGD under a constant attack (a = 0.3, rho_t = 0.2, lr 0.5, noise 0.5, "
       "from w = 0): max_t<=12 |seed mean - ODE| <= 2 / sqrt(d seeds) for each of R, S, Q (d = 2000, 16 seeds), "
       "and at t = 12 the simulation is within 0.01 of the steady state (0.760, 0.440, 0.705)", PAPERS)
def ode_matches_sim(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (500, 16), "paper": (2000, 16)}[size]
    scenario = LabelAttack(a=0.3, rho_t=0.2, lr=0.5, noise=0.5)
    sim = scenario.simulate(d=d, seeds=seeds, t_max=12.0, n_points=61, progress=progress)
    th = scenario.matching_theory(sim)
    bound = FLUCTUATION / math.sqrt(d * seeds)
    fixed = scenario.steady_state()
    checks, numbers = [], {}
    for name in ORDER:
        gap = float(np.max(np.abs(_mean(sim[name]) - _mean(th[name]))))
        checks.append(at_most(f"max_t |{name}_sim - {name}_ODE| (seed mean), d = {d}, {seeds} seeds", gap, bound))
        final = float(_mean(sim[name])[-1])
        checks.append(Check(f"{name}_sim(t = {float(sim.t[-1]):.3g}) against the steady state {float(fixed[name]):.3f}",
                            final, f"{float(fixed[name]):.4g} +- 0.01", bool(abs(final - fixed[name]) <= 0.01)))
        numbers[f"{name}_ODE(t_max)"] = float(_mean(th[name])[-1])
        numbers[f"{name} steady state"] = float(fixed[name])
    numbers["cubature_error (closed form vs cubature)"] = float(th.attrs["cubature_error"])
    checks.append(at_most("seeds diverged", float(sim.diverged.sum()), 0))
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        for i, name in enumerate(ORDER):
            simulation_line(a, sim.t, sim[name], f"C{i}", label=f"{name}: simulation, d = {d}, {seeds} seeds")
            theory_line(a, th.t, th[name], "k", lw=1.0)
            a.axhline(float(fixed[name]), color=f"C{i}", ls=":", lw=0.8)
            b.plot(sim.t, _mean(sim[name]) - _mean(th[name]), color=f"C{i}", lw=1.0, label=name)
        for sign in (1, -1):
            b.axhline(sign * bound, color="0.5", ls="--", lw=0.8, label="bound 2 / sqrt(d seeds)" if sign > 0 else None)
        a.set(xlabel="t = steps / d", ylabel="overlap", title="R, S, Q (ODE black, steady state dotted)")
        b.axhline(0, color="k", lw=0.6)
        b.set(xlabel="t = steps / d", ylabel="seed mean minus ODE", title="simulation minus ODE")
        b.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4)
        source_legend(fig, a)
        fig.suptitle("Label attack a = 0.3, rho_t = 0.2, lr 0.5, noise 0.5: ODE vs online SGD", fontsize=9)
    return Outcome(checks, {"theory": th, "simulation": sim}, fig, numbers)


# --- attacks.label_flip_jump ----------------------------------------------------------------------------------------

FLIP_POINTS = {0.0: (0.45, 0.55), 0.3: (0.4, 0.6)}
"""The attack strengths simulated at each label noise (models.md section 7)."""


def _accuracy_curves(strengths, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """The clean accuracy at t = 12 and at STEADY_T over a grid of attack strengths (label flipping, lr 0.5), in one
    compiled call (t = 12 is on the grid of 11 times up to STEADY_T)."""
    scenarios = [LabelAttack(a=float(a), rho_t=-1.0, lr=0.5, noise=noise) for a in strengths]
    accuracy = LabelAttack.theory_batch(scenarios, t_max=STEADY_T, n_points=11).accuracy
    return accuracy.sel(t=12.0).values, accuracy.isel(t=-1).values


def _at(grid, values, a: float) -> float:
    return float(values[int(np.argmin(np.abs(grid - a)))])


def _steepest(strengths, values) -> float:
    return float(np.max(np.abs(np.diff(values) / np.diff(strengths))))


@claim("attacks.label_flip_jump",
       "Under label flipping (rho_t = -1, lr 0.5) the clean accuracy jumps at a_c = 1/2 without label noise: "
       "steady accuracy 1 below and 0 above; at t = 12 the ODE gives 0.997 and 0.003 at a = 0.45, 0.55 and "
       "simulation agrees within 0.01. Label noise 0.3 smooths the jump to a finite slope "
       "4 / (pi sqrt(g)) = 7.35, g = lr noise^2 / (2 - lr): accuracy 0.847 at a = 0.4 and 0.106 at a = 0.6 (t = 12)",
       PAPERS)
def label_flip_jump(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (500, 4), "paper": (2000, 8)}[size]
    grid = np.union1d(np.linspace(0.0, 1.0, 101), [0.499, 0.501])  # one compiled call for every curve
    checks, numbers, data, sims = [], {}, {}, {}
    curves = {}
    for noise, points in FLIP_POINTS.items():
        at_12, steady = _accuracy_curves(grid, noise)
        curves[noise] = (at_12, steady)
        data[f"theory_noise_{noise:g}"] = xr.Dataset({"accuracy_t12": ("a", at_12), "accuracy_steady": ("a", steady)},
                                                     coords={"a": grid})
        for a in points:
            scenario = LabelAttack(a=a, rho_t=-1.0, lr=0.5, noise=noise)
            sim = scenario.simulate(d=d, seeds=seeds, t_max=12.0, n_points=25, seed=int(1000 * a), progress=progress)
            th = scenario.matching_theory(sim)
            sims[(noise, a)] = (sim, th)
            data[f"simulation_noise_{noise:g}_a_{a:g}"] = sim
            acc_sim, acc_th = float(_mean(sim.accuracy)[-1]), float(_mean(th.accuracy)[-1])
            checks.append(at_most(f"noise {noise:g}, a = {a:g}: |accuracy_sim - accuracy_ODE| at t = 12, d = {d}",
                                  abs(acc_sim - acc_th), 0.01))
            numbers[f"noise {noise:g}, a = {a:g}: accuracy ODE at t = 12"] = acc_th
            numbers[f"noise {noise:g}, a = {a:g}: accuracy simulation at t = 12"] = acc_sim
    below, above = (_at(grid, curves[0.0][0], a) for a in (0.45, 0.55))
    checks += [at_least("noise 0: accuracy_ODE(t = 12) at a = 0.45", below, 0.99),
               at_most("noise 0: accuracy_ODE(t = 12) at a = 0.55", above, 0.01)]
    near = [_at(grid, curves[0.0][1], a) for a in (0.499, 0.501)]
    checks.append(at_least("noise 0: steady accuracy(a = 0.499) - accuracy(a = 0.501) (a jump of 1)",
                           near[0] - near[1], 0.999))
    g = 0.5 * 0.3 ** 2 / 1.5
    slope = _steepest(grid, curves[0.3][1])
    checks.append(within("noise 0.3: steepest |d accuracy / da| of the steady state (secant a = 0.499 .. 0.501)", slope,
                         4 / (math.pi * math.sqrt(g)), 0.02))
    for a, target in ((0.4, 0.847), (0.6, 0.106)):
        value = _at(grid, curves[0.3][0], a)
        checks.append(within(f"noise 0.3: accuracy_ODE(t = 12) at a = {a:g}", value, target, 0.01))
    numbers["noise 0.3: steepest steady slope"] = slope
    with plt.rc_context(STYLE):
        fig, (a_ax, b_ax) = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        for i, noise in enumerate(FLIP_POINTS):
            at_12, steady = curves[noise]
            a_ax.plot(grid, steady, color=f"C{i}", lw=1.4, zorder=3, label=f"noise {noise:g}: steady state (ODE)")
            a_ax.plot(grid, at_12, color=f"C{i}", ls="--", lw=1.0, zorder=3, label=f"noise {noise:g}: ODE at t = 12")
            for a in FLIP_POINTS[noise]:
                sim, _ = sims[(noise, a)]
                final = sim.accuracy.isel(t=-1)
                a_ax.errorbar([a], [float(final.mean())], yerr=[float(final.std())], fmt="s", ms=3.5, capsize=3,
                              color=f"C{i}", zorder=4, label=f"noise {noise:g}: simulation t = 12, d = {d}"
                              if a == FLIP_POINTS[noise][0] else None)
        a_ax.axvline(0.5, color="k", ls=":", lw=0.8)
        a_ax.set(xlabel="attack strength a", ylabel="clean accuracy", title="label flipping, lr 0.5")
        a_ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        for i, ((noise, a), (sim, th)) in enumerate(sims.items()):
            simulation_line(b_ax, sim.t, sim.accuracy, f"C{i}", label=f"noise {noise:g}, a = {a:g}")
            theory_line(b_ax, th.t, th.accuracy, "k", lw=1.0)
        b_ax.set(xlabel="t = steps / d", ylabel="clean accuracy",
                 title=f"simulation (d = {d}, {seeds} seeds), ODE black")
        b_ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        fig.suptitle("The clean accuracy jumps at a = 1/2 without label noise", fontsize=9)
    return Outcome(checks, data, fig, numbers)


# --- attacks.optimal_strength ---------------------------------------------------------------------------------------

COSTS = (3.0, 3.9, 4.1, 5.0)
PAPER_OPTIMA = (0.5714, 0.5063, 0.4938, 0.4444)
"""a* = 2 (1 - rho_t) / (2 (1 - rho_t) + C) at rho_t = -1 for COSTS (models.md section 7)."""


@claim("attacks.optimal_strength",
       "The optimal constant attack under the cost C a^2 / 2 + |w_inf - w_target|^2 / (2 d) is a* = 2 (1 - rho_t) / "
       "(2 (1 - rho_t) + C): a* = 0.5714, 0.5063, 0.4938, 0.4444 for C = 3, 3.9, 4.1, 5 at rho_t = -1 (minimising "
       "the cost over the ODEs' steady states), so the learner's steady accuracy jumps from 0 to 1 as C crosses 4",
       PAPERS)
def optimal_strength(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (500, 2), "paper": (2000, 4)}[size]
    spacing = {"quick": 2e-3, "paper": 2.5e-4}[size]
    grid = np.arange(0.3, 0.7 + spacing / 2, spacing)
    scenarios = [LabelAttack(a=float(a), rho_t=-1.0, lr=0.5) for a in grid]
    steady = LabelAttack.theory_batch(scenarios, t_max=STEADY_T, n_points=2).isel(t=-1)
    distance = 0.5 * (steady.Q.values - 2 * steady.S.values + 1.0)        # |w - w_target|^2 / (2 d)
    checks, numbers, costs = [], {}, {}
    formula = optimal_attack(np.array(COSTS), -1.0)
    for C, paper, exact in zip(COSTS, PAPER_OPTIMA, formula):
        G = C * grid ** 2 / 2 + distance
        best = float(grid[np.argmin(G)])
        costs[C] = G
        checks.append(Check(f"C = {C:g}: argmin_a G over the ODE steady states (grid {spacing:g})", best,
                            f"{paper:.4f} +- {spacing:g}", bool(abs(best - paper) <= spacing)))
        numbers[f"C = {C:g}: a* formula"] = float(exact)
        numbers[f"C = {C:g}: a* measured"] = best
    accuracy = {}
    for C, exact in zip(COSTS, formula):
        acc = float(steady_state(exact, -1.0, 0.5)["accuracy"])
        accuracy[C] = acc
        expected = 0.0 if C < 4 else 1.0
        checks.append(Check(f"C = {C:g}: steady accuracy at a*", acc, f"{expected:g} +- 1e-6",
                            bool(abs(acc - expected) <= 1e-6)))
    near = {C: LabelAttack(a=float(optimal_attack(C, -1.0)), rho_t=-1.0, lr=0.5) for C in (3.9, 4.1)}
    sims = {C: s.simulate(d=d, seeds=seeds, t_max=30.0, n_points=31, seed=int(10 * C), progress=progress)
            for C, s in near.items()}
    for C, sim in sims.items():
        value = float(_mean(sim.accuracy)[-1])
        numbers[f"C = {C:g}: simulated accuracy at a*, t = 30, d = {d}"] = value
        checks.append(Check(f"C = {C:g}: simulated accuracy at a*, t = 30, d = {d}", value,
                            f"{0.0 if C < 4 else 1.0:g} +- 0.05", bool(abs(value - (0.0 if C < 4 else 1.0)) <= 0.05)))
    with plt.rc_context(STYLE):
        fig, (a_ax, b_ax) = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        for i, (C, G) in enumerate(costs.items()):
            a_ax.plot(grid, G, color=f"C{i}", lw=1.2, label=f"C = {C:g}")
            k = int(np.argmin(G))
            a_ax.plot([grid[k]], [G[k]], "o", mfc="none", color=f"C{i}", zorder=4)
        a_ax.axvline(0.5, color="k", ls=":", lw=0.8)
        a_ax.set(xlabel="attack strength a", ylabel="attacker's steady cost G(a)",
                 title="G over the ODE steady states (minima circled)")
        a_ax.legend(fontsize=6)
        Cs = np.linspace(2.0, 6.0, 201)
        b_ax.plot(Cs, optimal_attack(Cs, -1.0), "k-", lw=1.0, label="a* = 4 / (4 + C)")
        b_ax.plot(COSTS, [numbers[f"C = {C:g}: a* measured"] for C in COSTS], "o", mfc="none", ms=7,
                  label="argmin of G (ODE)")
        b_ax.plot(Cs, steady_state(optimal_attack(Cs, -1.0), -1.0, 0.5)["accuracy"], "C3--", lw=1.0,
                  label="steady accuracy at a*")
        b_ax.plot(list(sims), [float(_mean(s.accuracy)[-1]) for s in sims.values()], "s", color="C3", ms=4,
                  label=f"simulated accuracy at a* (t = 30, d = {d})")
        b_ax.set(xlabel="cost weight C", ylabel="a* / accuracy", title="label flipping (rho_t = -1), lr 0.5")
        b_ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        fig.suptitle("The optimal constant attack crosses a = 1/2 at C = 4", fontsize=9)
    data = {"theory_steady": steady.assign_coords(a=("scenario", grid)),
            **{f"simulation_C{C:g}": s for C, s in sims.items()}}
    return Outcome(checks, data, fig, numbers)
