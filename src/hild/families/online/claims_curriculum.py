"""Claims of curriculum learning (Saglietti, Sarao Mannelli & Saxe, arXiv 2106.08068) and of curricula on the
XOR mixture (after Sarao Mannelli et al., arXiv 2406.01589).

The curriculum numbers are those of models.md section 8 (rho 0.25, Delta 0.1 / 2, lr 1, no penalty, half the
examples easy, t_total 8, start R = 0, Q1 = Q2 = 0.01), derived there with an independent reference
integration of the same ODEs; the paper's own figure numbers are not known. The XOR claim states what hild
measures in its own fully specified model (hild.families.online.xor_curriculum): only the paper's abstract is
known.
"""
from __future__ import annotations

import numpy as np

from hild.claims import Check, Outcome, at_most, claim, within
from hild.core import lazy
from hild.families.online.curriculum import PROTOCOLS, Curriculum
from hild.plot import STYLE, plt, simulation_line, theory_line

xr = lazy.module("xarray")

PAPERS = ("2106.08068",)
SETTING = {"rho": 0.25, "delta_easy": 0.1, "delta_hard": 2.0, "lr": 1.0}
START = {"R": 0.0, "Q1": 0.01, "Q2": 0.01}
T_TOTAL = 8.0
COLOURS = {"curriculum": "C0", "random": "C1", "anti": "C2"}
REFERENCE_SIM = (2000, 4, 0.0023, 0.008)
"""(d, seeds, max |eg_hard| deviation, max relative R deviation) of models.md's ODE-vs-simulation check, held at
paper size (with 16 seeds there, not 4: the bounds are the size of a 4-seed mean's own noise). A smaller run's R
bound is scaled by sqrt(d seeds) of the reference over its own, never below the reference's (the deviation of a
seed mean is sampling noise of order 1 / sqrt(d seeds)); its eg_hard deviation is held to 4 standard errors of the
seed mean at every time (the maximum over 40 correlated times of a sampling deviation stays below that)."""


def _scenario(protocol: str, **changes) -> Curriculum:
    return Curriculum(**{**SETTING, **changes}, protocol=protocol)


def _theories(t_max: float = T_TOTAL, n_points: int = 81) -> dict:
    return {p: _scenario(p).theory(t_max=t_max, n_points=n_points, init=START) for p in PROTOCOLS}


def _at(ds, name: str, t: float) -> float:
    da = ds[name].sel(t=t, method="nearest")
    return float(da.mean("seed") if "seed" in da.dims else da)


def _protocol_figure(theories: dict, simulations: dict | None, title: str, marks=()):
    """eg_hard and eg_easy against t for each protocol: theory lines, simulation seed means with bands."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
        for ax, name, what in zip(axes, ("eg_hard", "eg_easy"), ("hard", "easy")):
            for p, th in theories.items():
                if simulations:
                    simulation_line(ax, simulations[p].t, simulations[p][name], COLOURS[p])
                theory_line(ax, th.t, th[name], COLOURS[p], label=f"{p} (ODE)")
            for t in marks:
                ax.axvline(t, color="0.6", lw=0.6, ls=":")
            ax.set(xlabel="t = steps / d", ylabel=f"test error on {what} examples", title=f"{what} examples")
        handles, labels = axes[0].get_legend_handles_labels()
        if simulations:
            first = next(iter(simulations.values()))
            from matplotlib.lines import Line2D

            handles.append(Line2D([], [], color="0.4", lw=0.7, marker="o", ms=2.5))
            labels.append(f"SGD d = {first.attrs.get('d', '?')}, mean ± 1 sd over {first.sizes['seed']} seeds")
        fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncol=4)
        fig.suptitle(title, fontsize=9)
    return fig


@claim("curriculum.ode_matches_sim",
       "The ODEs of the online logistic perceptron with relevant / irrelevant inputs describe SGD for the curriculum, "
       "random and anti-curriculum orders: max |eg_hard,SGD - eg_hard,ODE| <= 0.0023 and max relative |R_SGD - R_ODE| "
       "<= 0.8% at d = 2000 with 16 seeds (rho 0.25, Delta 0.1 / 2, lr 1, t_total 8; models.md's reference used 4 "
       "seeds, whose seed mean alone fluctuates by about these bounds)", PAPERS)
def ode_matches_sim(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (1000, 4), "paper": (2000, 16)}[size]  # at d = 500 the O(1/d) bias exceeds 4 standard errors
    d_ref, seeds_ref, eg_bound, r_bound = REFERENCE_SIM
    # the seed mean's noise scales as 1/sqrt(d seeds): a smaller run gets a proportionally looser bound on R, a
    # larger one keeps the reference's (its O(1/d) bias does not shrink with the seeds)
    scale = max(1.0, np.sqrt(d_ref * seeds_ref / (d * seeds)))
    sims, ths, numbers, checks = {}, {}, {}, []
    for k, p in enumerate(PROTOCOLS):
        s = _scenario(p)
        sims[p] = s.simulate(d=d, seeds=seeds, t_max=T_TOTAL, seed=10 * k, n_points=41, init=START, progress=progress)
        ths[p] = s.matching_theory(sims[p])
        deviation = np.abs(sims[p].eg_hard.mean("seed") - ths[p].eg_hard)
        late = sims[p].t >= 1.0  # R starts at 0: its relative deviation is measured once it is O(0.1)
        r = float((np.abs(sims[p].R.mean("seed") - ths[p].R) / np.abs(ths[p].R)).where(late).max())
        sem = sims[p].eg_hard.std("seed", ddof=1) / np.sqrt(seeds)  # the seed mean's standard error
        z = float((deviation / sem).where(sims[p].t >= 0.5).max())
        eg = float(deviation.max())
        numbers.update({f"{p}: max |eg_hard SGD - ODE|": eg, f"{p}: max relative |R SGD - ODE|, t >= 1": r,
                        f"{p}: max |eg_hard SGD - ODE| / standard error, t >= 0.5": z})
        if size == "paper":
            checks.append(at_most(f"{p}: max_t |eg_hard,SGD - eg_hard,ODE|, d = {d}, {seeds} seeds", eg, eg_bound))
        checks += [at_most(f"{p}: max_(t >= 1) |R_SGD - R_ODE| / R_ODE, d = {d}, {seeds} seeds", r, r_bound * scale),
                   at_most(f"{p}: max_(t >= 0.5) |eg_hard,SGD - eg_hard,ODE| / its standard error over seeds", z, 4.0)]
    checks.append(at_most("seeds diverged", float(sum(int(s.diverged.sum()) for s in sims.values())), 0))
    fig = _protocol_figure(ths, sims, f"Curriculum learning: ODE vs online SGD (d = {d}, rho 0.25, Delta 0.1 / 2, lr 1)")
    data = {**{f"theory_{p}": ths[p] for p in PROTOCOLS}, **{f"simulation_{p}": sims[p] for p in PROTOCOLS}}
    return Outcome(checks, data, fig, numbers)


@claim("curriculum.speed_benefit",
       "A curriculum speeds up learning: at the end of the easy phase (t = 4) the hard-example test error is 0.120 for "
       "the curriculum and 0.198 for random order (ODE; SGD at d = 2000 resolves the gap)", PAPERS)
def speed_benefit(size: str, progress: bool) -> Outcome:
    d, seeds = {"quick": (1000, 2), "paper": (2000, 4)}[size]
    ths = _theories()
    curriculum, random = _at(ths["curriculum"], "eg_hard", 4.0), _at(ths["random"], "eg_hard", 4.0)
    sims = {p: _scenario(p).simulate(d=d, seeds=seeds, t_max=T_TOTAL, seed=100 + k, n_points=41, init=START,
                                     progress=progress) for k, p in enumerate(("curriculum", "random"))}
    gap_sim = _at(sims["random"], "eg_hard", 4.0) - _at(sims["curriculum"], "eg_hard", 4.0)
    checks = [within("eg_hard at t = 4, curriculum (ODE)", curriculum, 0.120, 0.01),
              within("eg_hard at t = 4, random (ODE)", random, 0.198, 0.01),
              within(f"eg_hard gap random - curriculum at t = 4, SGD d = {d} ({seeds} seeds) vs ODE", gap_sim,
                     random - curriculum, 0.15)]
    fig = _protocol_figure({p: ths[p] for p in sims}, sims,
                           f"Curriculum speed-up: easy examples first (t = 4 ends the easy phase; SGD d = {d})",
                           marks=(4.0,))
    return Outcome(checks, {**{f"theory_{p}": th for p, th in ths.items()},
                            **{f"simulation_{p}": s for p, s in sims.items()}}, fig,
                   {"eg_hard(t=4) curriculum": curriculum, "eg_hard(t=4) random": random, "gap SGD": gap_sim})


@claim("curriculum.final_ordering",
       "At the end of training (t = 8) the hard-example test error is 0.1321 (curriculum) < 0.1368 (random) < 0.1443 "
       "(anti-curriculum); the benefit is modest, and the hard phase raises the curriculum's error from 0.120 (t = 4) "
       "to 0.132", PAPERS)
def final_ordering(size: str, progress: bool) -> Outcome:
    ths = _theories()
    final = {p: _at(ths[p], "eg_hard", T_TOTAL) for p in PROTOCOLS}
    ordered = final["curriculum"] < final["random"] < final["anti"]
    rise = final["curriculum"] - _at(ths["curriculum"], "eg_hard", 4.0)
    checks = [within("eg_hard at t = 8, curriculum", final["curriculum"], 0.1321, 0.002),
              within("eg_hard at t = 8, random", final["random"], 0.1368, 0.002),
              within("eg_hard at t = 8, anti-curriculum", final["anti"], 0.1443, 0.002),
              Check("curriculum < random < anti at t = 8 (1 = yes)", float(ordered), "1", bool(ordered)),
              within("rise of the curriculum's eg_hard from t = 4 to t = 8", rise, 0.1321 - 0.120, 0.05)]
    fig = _protocol_figure(ths, None, "Final ordering of the protocols (ODE)", marks=(4.0, 8.0))
    return Outcome(checks, {f"theory_{p}": th for p, th in ths.items()}, fig,
                   {f"eg_hard(t=8) {p}": v for p, v in final.items()})


TRANSIENT = {8.0: 4.7e-3, 40.0: -1.8e-5, 200.0: -1.5e-6}
"""models.md section 8: eg_random - eg_curriculum (hard examples) after the identical first 8 time units and
hard examples only afterwards."""


@claim("curriculum.transient_benefit",
       "The online benefit is transient: continuing both orders on hard examples only after t = 8, the gap "
       "eg_random - eg_curriculum is 4.7e-3 at t = 8, -1.8e-5 at t = 40 and -1.5e-6 at t = 200", PAPERS)
def transient_benefit(size: str, progress: bool) -> Outcome:
    n_points = {"quick": 97, "paper": 193}[size]
    first = {p: _theories()[p] for p in ("curriculum", "random")}
    hard_only = _scenario("random", easy_fraction=0.0)
    later = {}
    for p, th in first.items():
        end = th.sel(t=T_TOTAL)
        cont = hard_only.theory(t_max=200.0 - T_TOTAL, n_points=n_points,
                                init={k: float(end[k]) for k in ("R", "Q1", "Q2")})
        keep = list(Curriculum.variables)  # the trajectories (the divergence flags are per run)
        later[p] = xr.concat([th[keep], cont[keep].assign_coords(t=cont.t + T_TOTAL).isel(t=slice(1, None))], "t")
        later[p].attrs = th.attrs
    gap = later["random"].eg_hard - later["curriculum"].eg_hard
    measured = {t: float(gap.sel(t=t, method="nearest")) for t in TRANSIENT}
    checks = [within(f"gap eg_random - eg_curriculum at t = {t:g}", measured[t], ref, 0.1)
              for t, ref in TRANSIENT.items()]
    checks.append(at_most("|gap(t = 200)| / gap(t = 8)", abs(measured[200.0]) / measured[8.0], 1e-3))
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
        for p, ds in later.items():
            ds = ds.isel(t=ds.t.values > 0)  # a log axis
            theory_line(a, ds.t, ds.eg_hard, COLOURS[p], label=f"{p} for t < 8, then hard only")
        a.set(xscale="log", xlim=(0.1, 200), xlabel="t = steps / d", ylabel="test error on hard examples",
              title="both orders, then hard examples")
        a.legend(fontsize=7)
        g = gap.where(gap.t >= 1.0, drop=True)
        b.plot(g.t, np.abs(g), "k-", lw=1.2, label="|eg_random − eg_curriculum| (ODE)")
        b.plot(list(TRANSIENT), [abs(v) for v in TRANSIENT.values()], "o", mfc="none", color="C3", ms=7,
               label="models.md reference (gap < 0 at t = 40, 200)")
        b.set(xscale="log", yscale="log", xlabel="t = steps / d", ylabel="|gap| in eg_hard", title="the gap fades")
        b.legend(fontsize=7, loc="lower left")
        fig.suptitle("The curriculum's online benefit is transient (ODE)", fontsize=9)
    return Outcome(checks, {f"theory_{p}": ds for p, ds in later.items()}, fig,
                   {f"gap(t={t:g})": v for t, v in measured.items()})


# --- xor_curriculum.overparameterisation ----------------------------------------------------------------------

XOR_PAPERS = ("2406.01589",)
XOR_SETTING = {"lr": 0.2, "lr_v": 0.2}
"""The XOR scenario's defaults otherwise: mean 2, rho 0.5, Delta 0.1 / 2, half the examples easy, init_std 0.3."""
XOR_T = 20.0
XOR_D = 1000
"""The dimension at which each start is drawn (random_start): its O(1/sqrt d) overlaps with the cluster
directions are the lottery that wider networks draw more often."""


def _xor_theory(K: int, starts: int):
    """The ODEs of the curriculum and the random order from `starts` random starts at width K, in one call:
    loss_hard (2, starts, t)."""
    from hild.families.online.xor_curriculum import XorCurriculum, random_start

    scenarios = [XorCurriculum(K=K, protocol=p, **XOR_SETTING) for p in ("curriculum", "random") for _ in range(starts)]
    inits = [random_start(K, s.rho, d=XOR_D, seed=i % starts, init_std=s.init_std) for i, s in enumerate(scenarios)]
    th = XorCurriculum.theory_batch(scenarios, t_max=XOR_T, n_points=41, inits=inits)
    return th, th.loss_hard.values.reshape(2, starts, -1), inits


@claim("xor_curriculum.overparameterisation",
       "In hild's XOR-mixture model (quadratic two-layer network, mean-field rates lr = lr_v = 0.2, cluster means 2, "
       "rho 0.5, Delta 0.1 / 2, half the examples easy, t_total 20), the curriculum's benefit in the hard-example "
       "loss at the end of the easy phase (t = 10) does not vanish with width: it grows from K = 2 (0.066) to K = 8 "
       "(0.11) and stays there up to K = 32 (0.105); at t = 20 it is small (about 0.01) at every K. The abstract of "
       "2406.01589 reports the benefit vanishing at high overparameterisation: hild's model does not reproduce that",
       XOR_PAPERS)
def overparameterisation(size: str, progress: bool) -> Outcome:
    from hild.families.online.xor_curriculum import XorCurriculum, random_start

    Ks, starts, sim_K, seeds = {"quick": ((2, 8), 2, (2,), 2), "paper": ((2, 4, 8, 16, 32), 4, (2, 8), 4)}[size]
    benefit, spread, data, curves = {}, {}, {}, {}
    for K in Ks:
        th, loss, inits = _xor_theory(K, starts)
        gap = loss[1] - loss[0]                                               # (starts, t)
        benefit[K], spread[K] = gap.mean(0), gap.std(0, ddof=1) / np.sqrt(starts)
        curves[K] = loss.mean(1)
        data[f"theory_K{K}"] = th
    t = data[f"theory_K{Ks[0]}"].t.values
    mid, end = int(np.argmin(np.abs(t - XOR_T / 2))), len(t) - 1
    sims, th_first = {}, {}
    for K in sim_K:  # SGD from the first start (seed 0) of the theory runs
        base = XorCurriculum(K=K, **XOR_SETTING)
        start = random_start(K, base.rho, d=XOR_D, seed=0, init_std=base.init_std)
        runs = {p: XorCurriculum(K=K, protocol=p, **XOR_SETTING).simulate(d=XOR_D, seeds=seeds, t_max=XOR_T, n_points=41,
                                                                          init=start, seed=50, progress=progress)
                for p in ("curriculum", "random")}
        sims[K], th_first[K] = runs, data[f"theory_K{K}"].loss_hard.values.reshape(2, starts, -1)[:, :1]
        data.update({f"simulation_K{K}_{p}": r for p, r in runs.items()})
    checks = [Check(f"benefit at t = {t[mid]:g} > 0 at every K = {list(Ks)} (min)", float(min(b[mid] for b in
                    benefit.values())), "> 0", bool(min(b[mid] for b in benefit.values()) > 0)),
              Check("benefit(t = 10) at the widest K / at K = 2", float(benefit[Ks[-1]][mid] / benefit[Ks[0]][mid]),
                    ">= 1 (does not vanish)", bool(benefit[Ks[-1]][mid] >= benefit[Ks[0]][mid]))]
    numbers = {f"benefit(t=10) K={K}": float(benefit[K][mid]) for K in Ks}
    numbers.update({f"benefit(t=20) K={K}": float(benefit[K][end]) for K in Ks})
    for K, runs in sims.items():
        b_sim = float(runs["random"].loss_hard.mean("seed")[mid] - runs["curriculum"].loss_hard.mean("seed")[mid])
        b_th = float(th_first[K][1, 0, mid] - th_first[K][0, 0, mid])
        numbers[f"benefit(t=10) K={K} SGD d={XOR_D}"] = b_sim
        checks.append(within(f"benefit at t = 10, K = {K}: SGD (d = {XOR_D}, {seeds} seeds) vs ODE from the same start",
                             b_sim, b_th, 0.2))
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
        for K, colour in ((Ks[0], "C0"), (Ks[-1], "C3")):
            first = data[f"theory_K{K}"].loss_hard.values.reshape(2, starts, -1)[:, 0]
            a.plot(t, first[0], "-", color=colour, lw=1.3, label=f"K = {K}, curriculum (ODE)")
            a.plot(t, first[1], "--", color=colour, lw=1.3, label=f"K = {K}, random (ODE)")
        K0 = sim_K[0]
        for p, style in (("curriculum", "o"), ("random", "s")):
            r = sims[K0][p]
            a.plot(r.t, r.loss_hard.mean("seed"), style, ms=3, mfc="none", color="0.3",
                   label=f"K = {K0}, {p}, SGD d = {XOR_D}, {seeds} seeds")
        a.axvline(XOR_T / 2, color="0.6", lw=0.6, ls=":")
        a.set(xlabel="t = steps / d", ylabel="loss on hard examples", title="the first random start")
        a.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        for i, colour, label in ((mid, "C0", f"t = {t[mid]:g} (end of the easy phase)"), (end, "C1", f"t = {t[end]:g}")):
            b.errorbar(Ks, [benefit[K][i] for K in Ks], yerr=[spread[K][i] for K in Ks], fmt="-o", color=colour,
                       ms=4, capsize=3, label=f"ODE, {label}, mean ± standard error over {starts} starts")
        b.plot(list(sims), [numbers[f"benefit(t=10) K={K} SGD d={XOR_D}"] for K in sims], "kD", ms=5, mfc="none",
               label=f"SGD at t = {t[mid]:g}, the first start")
        b.set(xscale="log", xlabel="hidden units K", ylabel="loss_hard(random) − loss_hard(curriculum)",
              title="the curriculum's benefit against width", xticks=list(Ks), xticklabels=[str(K) for K in Ks])
        b.minorticks_off()
        b.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        fig.suptitle("Curricula on the XOR mixture: benefit against overparameterisation (hild's model)", fontsize=9)
    return Outcome(checks, data, fig, numbers)
