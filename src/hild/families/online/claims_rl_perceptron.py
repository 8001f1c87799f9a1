"""Claims of the RL perceptron (Patel, Lee, Sarao Mannelli, Goldt, Saxe, arXiv 2306.10404).

The numbers are those of ../shared/research/models.md section 6, measured there with an independent
NumPy reference of the authors' notebook (github.com/nishp99/RL_Perceptron). Every claim runs the
public API: RLPerceptron.theory (the closed-form ODEs) and RLPerceptron.simulate (episodes at finite d).
"""
from __future__ import annotations

import math

import numpy as np

from hild.claims import Check, Outcome, at_most, claim, within
from hild.core import lazy
from hild.families.online.rl_perceptron import RLPerceptron
from hild.plot import STYLE, THEORY_Z, plt, readable_log, simulation_line, source_legend, theory_line

xr = lazy.module("xarray")

PAPERS = ("2306.10404",)


def _mean(da) -> np.ndarray:
    return (da.mean("seed") if "seed" in da.dims else da).values


def _first_crossing(t: np.ndarray, y: np.ndarray, level: float) -> float:
    """The first time y reaches `level` (linear interpolation on the grid); inf if never."""
    above = np.flatnonzero(y >= level)
    if above.size == 0:
        return math.inf
    i = above[0]
    if i == 0:
        return float(t[0])
    return float(t[i - 1] + (level - y[i - 1]) * (t[i] - t[i - 1]) / (y[i] - y[i - 1]))


# --- rl_perceptron.ode_matches_sim --------------------------------------------------------------------------------

MATCH_CASES = {  # (T, n, lr2, R0, t_max, bound on max_t |c_sim - c_ODE| at d = 1000)
    "all-or-nothing T = 1": (1, 1, 0.0, 0.0, 10.0, 0.006),
    "all-or-nothing T = 2": (2, 2, 0.0, 0.0, 12.0, 0.006),
    "all-or-nothing T = 3": (3, 3, 0.0, 0.0, 16.0, 0.006),
    "T = 4, n = 3, lr2 = 0.2, c0 = 0.2": (4, 3, 0.2, 0.2, 12.0, 0.004),
}


@claim("rl_perceptron.ode_matches_sim",
       "The ODEs describe the RL perceptron at d = 1000 (lr1 = 1, ODE from the simulation's own start, seed mean "
       "of 16 seeds): max_t |c_sim - c_ODE| <= 0.006 for all-or-nothing rewards at T = 1, 2, 3 over t <= 10, 12, "
       "16, and <= 0.004 for T = 4, n = 3, lr2 = 0.2 from c0 = 0.2 over t <= 12", PAPERS)
def ode_matches_sim(size: str, progress: bool) -> Outcome:
    # models.md measured these bounds with 4 seeds, where the seed mean's own noise is 0.005-0.01 (hild: 0.0105
    # at T = 2, seeds 0-3); with 16 seeds it is about half that, and over 64 seeds the gap is <= 0.0013.
    d, seeds = 1000, 16
    cases = {"quick": ("all-or-nothing T = 2",), "paper": tuple(MATCH_CASES)}[size]
    checks, data, numbers, runs = [], {}, {}, []
    for k, label in enumerate(cases):
        T, n, lr2, R0, t_max, bound = MATCH_CASES[label]
        scenario = RLPerceptron(T=T, n=n, lr1=1.0, lr2=lr2)
        sim = scenario.simulate(d=d, seeds=seeds, t_max=t_max, seed=100 * k, n_points=101,
                                init={"R": R0, "Q": 1.0}, progress=progress)
        th = scenario.matching_theory(sim)
        deviation = np.abs(_mean(sim.c) - _mean(th.c))
        error = sim.c.std("seed", ddof=1).values / math.sqrt(seeds)
        gap = float(np.max(deviation))
        checks.append(at_most(f"{label}: max_t |c_sim - c_ODE| over t <= {float(sim.t[-1]):g}", gap, bound))
        numbers[f"{label}: max_t standard error of the seed mean of c"] = float(np.max(error))
        numbers[f"{label}: c_ODE(t_max)"] = float(_mean(th.c)[-1])
        key = f"T{T}_n{n}_lr2_{lr2:g}"
        data[f"theory_{key}"], data[f"simulation_{key}"] = th, sim
        runs.append((label, th, sim, error, bound))
    checks.append(at_most("seeds diverged", float(sum(int(run[2].diverged.sum()) for run in runs)), 0))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        for i, (label, th, sim, error, bound) in enumerate(runs):
            color = f"C{i}"
            simulation_line(axes[0], sim.t, sim.c, color, label=f"{label}: simulation, d = {d}, {seeds} seeds")
            theory_line(axes[0], th.t, th.c, "k", lw=1.0)
            axes[1].plot(sim.t, _mean(sim.c) - _mean(th.c), color=color, lw=1.0, label=f"{label} (bound ± {bound:g})")
            axes[1].fill_between(sim.t, -error, error, color=color, alpha=0.15, lw=0)
        axes[0].set(xlabel="t = episodes / d", ylabel="c = R / sqrt(Q)", title="cosine to the teacher")
        axes[1].axhline(0, color="k", lw=0.6)
        axes[1].set(xlabel="t = episodes / d", ylabel=r"$c_{sim} - c_{ODE}$ (seed mean)",
                    title="simulation minus ODE (band: ± 1 standard error)")
        axes[1].legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        source_legend(fig, axes[0])
        fig.suptitle("RL perceptron: ODE (black) vs simulation, lr1 = 1", fontsize=9)
    return Outcome(checks, data, fig, numbers)


# --- rl_perceptron.sparse_reward_delay ----------------------------------------------------------------------------

@claim("rl_perceptron.sparse_reward_delay",
       "With all-or-nothing rewards (n = T, lr1 = 1, R0 = 0, Q0 = 1) learning starts at the rate dR/dt = "
       "2^{1-T}/sqrt(2 pi) and the time to reach c = 0.1 grows like 2^T: log-slope 0.662 per unit T over "
       "T = 4..10 (ln 2 = 0.693); t(c = 0.5) = 10.4, 17.7, 30.3, 52.7, 92.3 for T = 4..8 (log-slope 0.545)", PAPERS)
def sparse_reward_delay(size: str, progress: bool) -> Outcome:
    Ts = {"quick": (4, 5, 6), "paper": tuple(range(4, 11))}[size]  # one compilation per T (the episode's shape)
    slope_target = {"quick": 0.6600, "paper": 0.662}[size]  # quick: over T = 4..6 (models.md's ODEs)
    half_targets = {4: 10.4, 5: 17.7, 6: 30.3, 7: 52.7, 8: 92.3}
    tenth, half, rates, curves = [], {}, [], []
    for T in Ts:
        ds = RLPerceptron(T=T, n=T, lr1=1.0).theory(t_max=1.5 * 2.0 ** T, n_points=4001)  # past t(c = 0.5)
        t, R, c = ds.t.values, ds.R.values, ds.c.values
        rates.append(float((4 * R[1] - R[2]) / (2 * t[1])))  # dR/dt(0), Richardson from the first two steps
        tenth.append(_first_crossing(t, c, 0.1))
        if T in half_targets:
            half[T] = _first_crossing(t, c, 0.5)
        curves.append(ds.c.assign_coords(T=T).sel(t=slice(0, 3 * tenth[-1])))
    Ts_arr, tenth = np.array(Ts), np.array(tenth)
    slope = float(np.polyfit(Ts_arr, np.log(tenth), 1)[0])
    exact = 2.0 ** (1 - Ts_arr) / math.sqrt(2 * math.pi)
    rate_error = float(np.max(np.abs(np.array(rates) / exact - 1)))
    checks = [at_most("max_T |dR/dt(0) / (2^{1-T}/sqrt(2 pi)) - 1|", rate_error, 1e-4),
              within(f"log-slope of t(c = 0.1) over T = {Ts[0]}..{Ts[-1]}", slope, slope_target, 0.01),
              within("the same log-slope against ln 2 (2^T growth)", slope, math.log(2), 0.06)]
    numbers = {f"t(c = 0.1), T = {T}": float(x) for T, x in zip(Ts, tenth)}
    for T, x in half.items():
        checks.append(within(f"t(c = 0.5) at T = {T}", x, half_targets[T], 0.01))
        numbers[f"t(c = 0.5), T = {T}"] = x
    if len(half) > 2:
        numbers["log-slope of t(c = 0.5)"] = float(np.polyfit(list(half), np.log(list(half.values())), 1)[0])
    numbers["log-slope of t(c = 0.1)"] = slope
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.4), constrained_layout=True)
        for curve in curves:
            a.plot(curve.t[1:], curve[1:], lw=1.2, label=f"T = {int(curve['T'])}")  # t > 0 on the log axis
        a.axhline(0.1, color="k", ls=":", lw=0.8)
        a.set(xscale="log", xlabel="t = episodes / d", ylabel="c = R / sqrt(Q)", title="ODE, n = T, lr1 = 1")
        a.legend(fontsize=6)
        b.plot(Ts_arr, tenth, "o", mfc="none", label="t(c = 0.1), ODE")
        fit = np.polyfit(Ts_arr, np.log(tenth), 1)
        b.plot(Ts_arr, np.exp(np.polyval(fit, Ts_arr)), "-", lw=0.8, label=f"fit: log-slope {slope:.3f}")
        b.plot(Ts_arr, tenth[0] * 2.0 ** (Ts_arr - Ts[0]), "--", lw=0.8, color="0.4", label="2^T (ln 2 = 0.693)")
        if half:
            b.plot(list(half), list(half.values()), "s", mfc="none", label="t(c = 0.5), ODE")
        b.set(yscale="log", xlabel="decisions per episode T", ylabel="time to reach c", title="delay of learning",
              xticks=list(Ts))
        readable_log(b, "y")
        b.legend(fontsize=6)
        fig.suptitle("Sparse rewards delay learning exponentially in T", fontsize=9)
    data = {"theory": xr.concat(curves, "T", join="outer").to_dataset(name="c")}
    return Outcome(checks, data, fig, numbers)


# --- rl_perceptron.stringency_tradeoff ----------------------------------------------------------------------------

@claim("rl_perceptron.stringency_tradeoff",
       "Stringency trades speed for accuracy (T = 8, lr1 = 1, no penalty, from c = 0): c(5) = 0.289 for n = 6 vs "
       "0.016 for n = 8, c(400) = 0.872 for n = 6 vs 0.989 for n = 8; the curves cross", PAPERS)
def stringency_tradeoff(size: str, progress: bool) -> Outcome:
    runs = {n: RLPerceptron(T=8, n=n, lr1=1.0).theory(t_max=400.0, n_points=4001) for n in (6, 8)}
    targets = {(6, 5): 0.289, (8, 5): 0.016, (6, 400): 0.872, (8, 400): 0.989}
    at = lambda n, t: float(np.interp(t, runs[n].t.values, runs[n].c.values))  # noqa: E731
    t = runs[6].t.values
    later = t >= 5
    crossing = _first_crossing(t[later], (runs[8].c.values - runs[6].c.values)[later], 0.0)
    crossed = bool(at(6, 5) > at(8, 5) and at(6, 400) < at(8, 400))
    checks = [within(f"c(t = {t}) at n = {n}", at(n, t), v, 0.01) for (n, t), v in targets.items()]
    checks.append(Check("n = 6 ahead at t = 5 and behind at t = 400 (1 = yes)", float(crossed), "1", crossed))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 3.4), constrained_layout=True)
        for k, (n, ds) in enumerate(runs.items()):
            ax.plot(ds.t[1:], ds.c[1:], lw=1.3, color=f"C{k}", label=f"n = {n} of T = 8 (ODE)")  # t > 0: log axis
            ax.plot([5, 400], [at(n, 5), at(n, 400)], "o", ms=5, mfc="none", color=f"C{k}")
        if math.isfinite(crossing):
            ax.axvline(crossing, color="0.5", ls=":", lw=0.8, label=f"crossing at t = {crossing:.3g}")
        ax.set(xscale="log", xlim=(0.1, 400), xlabel="t = episodes / d", ylabel="c = R / sqrt(Q)",
               title="stringency: speed against accuracy (o: checked)")
        ax.legend(fontsize=7)
    data = {"theory": xr.concat([ds.assign_coords(n=n) for n, ds in runs.items()], "n", join="exact")}
    return Outcome(checks, data, fig, {"crossing time": crossing})


# --- rl_perceptron.penalty_bistability ----------------------------------------------------------------------------

@claim("rl_perceptron.penalty_bistability",
       "A penalty makes learning bistable (T = n = 8, lr1 = 1, lr2 = 0.1): from c0 = 0, Q0 = 1 the norm collapses "
       "(Q(50) = 1.6e-4); from c0 = 0.2 learning is fast, c(50) = 0.980 (0.651 without the penalty from c0 = 0.2, "
       "0.208 from c0 = 0). Simulation at d = 1000 follows both branches to t = 10: on the learning branch "
       "c_sim - c_ODE, averaged over t, is within 3 standard errors of 0 over 32 seeds (models.md's max_t "
       "|c_sim - c_ODE| <= 0.004 with 4 seeds lies within the seed noise: hild measures 0.0047 with a standard "
       "error of 0.0024 over 32 seeds); Q(10) = 0.066 on the collapsing branch, which the simulation follows "
       "within 5% (Q, not c: c = R / sqrt(Q) means nothing as Q -> 0)",
       PAPERS)
def penalty_bistability(size: str, progress: bool) -> Outcome:
    # the seed mean of c carries noise 0.002-0.005 at 8-32 seeds: its time average is the one statistic tested
    d, seeds, t_sim = 1000, {"quick": 8, "paper": 32}[size], {"quick": 4.0, "paper": 10.0}[size]
    penalty, plain = RLPerceptron(T=8, n=8, lr1=1.0, lr2=0.1), RLPerceptron(T=8, n=8, lr1=1.0)
    th = {key: s.theory(t_max=50.0, n_points=501, init={"R": R0, "Q": 1.0})
          for key, (s, R0) in {"collapse": (penalty, 0.0), "learn": (penalty, 0.2), "plain_0.2": (plain, 0.2),
                               "plain_0": (plain, 0.0)}.items()}
    at50 = {key: ds.isel(t=-1) for key, ds in th.items()}
    checks = [within("Q(50) from c0 = 0 with the penalty", float(at50["collapse"].Q), 1.6e-4, 0.02),
              within("c(50) from c0 = 0.2 with the penalty", float(at50["learn"].c), 0.980, 0.005),
              within("c(50) from c0 = 0.2 without the penalty", float(at50["plain_0.2"].c), 0.651, 0.005),
              within("c(50) from c0 = 0 without the penalty", float(at50["plain_0"].c), 0.208, 0.01)]
    sims, matched = {}, {}
    for k, (key, R0) in enumerate((("collapse", 0.0), ("learn", 0.2))):
        sims[key] = penalty.simulate(d=d, seeds=seeds, t_max=t_sim, seed=100 * k, n_points=101,
                                     init={"R": R0, "Q": 1.0}, progress=progress)
        matched[key] = penalty.matching_theory(sims[key])
    deviation = np.abs(_mean(sims["learn"].c) - _mean(matched["learn"].c))
    error = sims["learn"].c.std("seed", ddof=1).values / math.sqrt(seeds)
    gap = float(np.max(deviation))
    per_seed = (sims["learn"].c.values - matched["learn"].c.values).mean(-1)  # each seed's time-averaged gap
    average, average_error = float(per_seed.mean()), float(per_seed.std(ddof=1) / math.sqrt(seeds))
    q_sim, q_th = float(_mean(sims["collapse"].Q)[-1]), float(_mean(matched["collapse"].Q)[-1])
    t_end = float(sims["collapse"].t[-1])  # the simulation's last recorded time
    checks += [at_most(f"learning branch: |time average of c_sim - c_ODE| over t <= {t_end:g}, in standard errors",
                       abs(average) / average_error, 3.0),
               within("collapsing branch: Q(10), ODE", float(th["collapse"].Q.sel(t=10.0, method="nearest")),
                      0.066, 0.02),
               within(f"collapsing branch: Q(t = {t_end:g}), simulation against its ODE", q_sim, q_th, 0.05)]
    with plt.rc_context(STYLE):
        fig, (a, b, z) = plt.subplots(1, 3, figsize=(12.0, 3.4), constrained_layout=True)
        styles = {"learn": ("C0", "c0 = 0.2, lr2 = 0.1"), "plain_0.2": ("C2", "c0 = 0.2, no penalty"),
                  "plain_0": ("C1", "c0 = 0, no penalty")}
        for key, (color, label) in styles.items():
            a.plot(th[key].t, th[key].c, color=color, lw=1.3, zorder=THEORY_Z, label=f"{label} (ODE)")
        a.set(xlabel="t = episodes / d", ylabel="c = R / sqrt(Q)", title="the cosine: learning or not")
        a.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        for key, color, label in (("collapse", "C3", "c0 = 0, lr2 = 0.1"), ("learn", "C0", "c0 = 0.2, lr2 = 0.1")):
            b.plot(th[key].t, th[key].Q, color=color, lw=1.3, label=f"{label} (ODE)")
        b.set(yscale="log", xlabel="t = episodes / d", ylabel="Q = |w|^2 / d", title="the norm: collapse or growth")
        readable_log(b, "y")
        b.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        z.axhline(0, color="k", lw=0.6)
        for key, name, color, label in (("learn", "c", "C0", "c_sim - c_ODE, learning branch"),
                                        ("collapse", "Q", "C3", "Q_sim / Q_ODE - 1, collapsing branch")):
            sim, ode = sims[key][name], matched[key][name]
            deviation = sim.copy(data=sim.values - ode.values if name == "c" else sim.values / ode.values - 1)
            simulation_line(z, sims[key].t, deviation, color, label=label)
        z.set(xlabel="t = episodes / d", ylabel="simulation against its ODE",
              title=f"d = {d}, {seeds} seeds (± 1 sd over seeds)")
        z.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        fig.suptitle("Penalty bistability: T = n = 8, lr1 = 1", fontsize=9)
    data = {**{f"theory_{k}": v for k, v in th.items()}, **{f"simulation_{k}": v for k, v in sims.items()}}
    numbers = {"c(50) learning branch": float(at50["learn"].c), "Q(50) collapsing branch": float(at50["collapse"].Q),
               f"Q(t = {t_end:g}) simulation, collapsing branch": q_sim,
               f"Q(t = {t_end:g}) ODE from the simulation's start": q_th, "max_t |c_sim - c_ODE|, learning branch": gap,
               "time average of c_sim - c_ODE, learning branch": average,
               "its standard error over seeds": average_error,
               "max_t standard error of the seed mean of c, learning branch": float(np.max(error))}
    return Outcome(checks, data, fig, numbers)
