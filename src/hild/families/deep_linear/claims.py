"""Claims of two-layer linear networks (Saxe et al. 2014; Domine et al. 2024; Kunin et al. 2024).

Every claim runs the exact theory (hild.deep_linear: closed forms and the Riccati flow map) and GD
on the real network through the public API (the scenarios deep_linear and deep_linear.deep), compares
them with hild.compare, and checks the measured numbers against the papers.
"""
from __future__ import annotations

import numpy as np

from hild.analysis.compare import compare
from hild.claims import Check, Outcome, at_least, at_most, claim, within
from hild.families.deep_linear import (DeepLinear, learning_time, minimal_model, mode_trajectory, path_deviation,
                                       predicted_drift, saxe_sigmoid, simulate_batch)
from hild.families.deep_linear.deep import DeepBalanced
from hild.plot import STYLE, plt

SAXE, DOMINE, KUNIN = ("1312.6120",), ("2409.14623",), ("2406.06158", "2012.04728")


def _yes(what: str, ok: bool) -> Check:
    return Check(what + " (1 = yes)", float(ok), "1", bool(ok))


def _crossing(t, u, level) -> float:
    """First time u crosses `level` upwards (linear interpolation)."""
    i = int(np.argmax(u >= level))
    if u[i] < level or i == 0:
        return np.inf
    return float(t[i - 1] + (level - u[i - 1]) * (t[i] - t[i - 1]) / (u[i] - u[i - 1]))


# --- deep_linear.saxe_modes ------------------------------------------------------------------------

@claim("deep_linear.saxe_modes",
       "From an aligned balanced start (u0 = 1e-3, lr = 1e-3) GD mode strengths follow the exact sigmoids "
       "u = s e^{2st}/(e^{2st} - 1 + s/u0) within 1% of s; the s = 3 mode is half-learnt after (1000/6) ln 2999 = "
       "1334 steps; from a small random start modes are learnt in order of s with half-times ∝ 1/s within 15%; "
       "deeper balanced networks (D = 3, 4 layers, u0 = 0.05) follow u' = D u^(2 - 2/D) (s - u) within 1% of s", SAXE)
def saxe_modes(size: str, progress: bool) -> Outcome:
    """Run the claim registered above at `size`.

    **Arguments:** `size`: 'quick' or 'paper'; `progress`: show progress.

    **Returns:** an `Outcome`: the checks, the datasets `theory`, `simulation`, `simulation_random`, the figure and
    the measured numbers."""
    d, seeds = {"quick": (5, 4), "paper": (10, 8)}[size]
    s = np.zeros(d)
    s[:4] = (3.0, 2.0, 1.0, 0.5)
    aligned = DeepLinear(singular_values=s, width=d, lr=1e-3, init="aligned", init_scale=1e-3)
    random = DeepLinear(singular_values=s, width=d, lr=1e-3, init="random", init_scale=1e-3)
    sim, sim_rand = simulate_batch([aligned, random], seeds=seeds, t_max=22, n_points=881)
    t = sim.t.values
    th = aligned.theory(t_max=22, n_points=881)
    exact = mode_trajectory(t[:, None], s[None, :], 1e-3, 0.0)  # = saxe_sigmoid for s > 0, u0/(1 + 2 u0 t) at s = 0
    sigmoid_gap = float(np.abs(exact[:, :4] - saxe_sigmoid(t[:, None], s[None, :4], 1e-3)).max())
    gd = sim.modes.mean("seed").values
    mode_err = compare(th, sim, ["modes"]).errors["modes"].values  # |seed mean - theory| (t, mode)
    rel = np.max(mode_err[:, :4] / s[:4], axis=0)
    zero_modes = float(np.max(mode_err[:, 4:]))
    t_half_steps = _crossing(t, gd[:, 0], 1.5) / 1e-3
    halves = np.array([[_crossing(t, sim_rand.modes.values[j, :, k], s[k] / 2) for k in range(4)]
                       for j in range(seeds)]).mean(0)
    scaled = s[:4] * halves
    nets = {D: DeepBalanced(singular_values=s[:4], depth=D, u0=0.05) for D in (3, 4)}
    deep = {D: net.simulate(steps_per_time=1000, seeds=2, t_max=12, n_points=241) for D, net in nets.items()}
    deep_theory = {D: net.theory(t_max=12, n_points=241) for D, net in nets.items()}
    deep_exact = {D: th_D.modes.values for D, th_D in deep_theory.items()}
    deep_err = {D: float(np.max(compare(deep_theory[D], deep[D], ["modes"]).errors["modes"].values / s[:4]))
                for D in nets}
    checks = [
        at_most("max_t |u_GD - u_sigmoid| / s, worst of s = 3, 2, 1, 0.5", float(rel.max()), 0.01),
        at_most("max_t |u_GD - u_exact| of the s = 0 modes", zero_modes, 0.01 * 0.5),
        at_most("max_t |closed form (lambda = 0) - Saxe sigmoid|", sigmoid_gap, 1e-12),
        within("half-learning time of the s = 3 mode (steps, GD)", t_half_steps, 1000 / 6 * np.log(2999), 0.01),
        _yes("random start: half-times increase as s decreases", bool(np.all(np.diff(halves) > 0))),
        at_most("random start: spread of s * t_half (max / min - 1)", float(scaled.max() / scaled.min() - 1), 0.15),
        *[at_most(f"depth {D}: max_t |u_GD - u_ODE| / s", err, 0.01) for D, err in deep_err.items()],
    ]
    with plt.rc_context(STYLE):
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(11, 3.2), constrained_layout=True)
        for D, ls in ((3, "-"), (4, "--")):
            for k in range(4):
                c.plot(deep[D].t, deep_exact[D][:, k], ls, color=f"C{k}", lw=1.0, label=f"D = {D}" if k == 0 else None)
                c.plot(deep[D].t[::12], deep[D].modes.mean("seed").values[::12, k], "o", color=f"C{k}", ms=2)
        c.set(xlabel="t = lr · steps", ylabel=r"$u_\alpha$", title="deeper balanced nets: ODE (lines) vs GD")
        c.legend(fontsize=7)
        for k in range(4):
            a.plot(t, exact[:, k], color=f"C{k}", lw=1.2, label=f"sigmoid s = {s[k]:g}")
            a.plot(t[::16], gd[::16, k], "o", color=f"C{k}", ms=2.5)
            b.plot(t, sim_rand.modes.mean("seed").values[:, k], color=f"C{k}", label=f"s = {s[k]:g}")
            b.axvline(halves[k], color=f"C{k}", ls=":", lw=0.8)
        a.set(xlabel="t = lr · steps", ylabel=r"$u_\alpha$", title="aligned balanced: GD (dots) vs sigmoid")
        b.set(xlabel="t = lr · steps", ylabel=r"$u_\alpha$", title=f"small random start ({seeds} seeds), t_half dotted")
        a.legend(fontsize=7)
        b.legend(fontsize=7)
    numbers = {"max_t |u_GD - u| / s": float(rel.max()), "t_half s=3 (steps, GD)": t_half_steps,
               **{f"depth {D}: max_t |u_GD - u_ODE| / s": err for D, err in deep_err.items()},
               **{f"random start s * t_half, s = {s[k]:g}": float(scaled[k]) for k in range(4)}}
    return Outcome(checks, {"theory": th, "simulation": sim, "simulation_random": sim_rand}, fig, numbers)


# --- deep_linear.lambda_balanced -------------------------------------------------------------------

LAMS = (0.0, 0.1, 1.0, 10.0)


@claim("deep_linear.lambda_balanced",
       "GD (lr 1e-3) from lambda-balanced starts, lambda in {0, 0.1, 1, 10}, matches the exact solution within 1%: "
       "the aligned mode (s = 2, u0 = 1e-3) and, from random lambda-balanced starts, the function, the "
       "representations W1^T W1, W2 W2^T and the NTK; the relative NTK movement decreases monotonically with |lambda|; "
       "the half-time falls with |lambda|, towards ln 2 / |lambda| in the lazy limit", DOMINE)
def lambda_balanced(size: str, progress: bool) -> Outcome:
    """Run the claim registered above at `size`.

    **Arguments:** `size`: 'quick' or 'paper'; `progress`: show progress.

    **Returns:** an `Outcome`: the checks, the theories `theory_lam<lambda>`, the figure and the measured numbers."""
    seeds = {"quick": 2, "paper": 8}[size]
    dims = {"quick": (4, 3, 3), "paper": (8, 6, 6)}[size]
    modes = [DeepLinear(singular_values=[2.0], width=1, lr=1e-3, init="aligned", init_scale=1e-3, lam=lam)
             for lam in LAMS]
    sims = simulate_batch(modes, seeds=1, t_max=5, n_points=201)
    t = sims[0].t.values
    exact = np.stack([mode_trajectory(t, 2.0, 1e-3, lam) for lam in LAMS])
    mode_err = np.array([np.max(np.abs(sm.modes.values[0, :, 0] - ex)) / 2.0 for sm, ex in zip(sims, exact)])
    halves = np.array([learning_time(2.0, 1e-3, lam, 1.0, t_max=50.0) for lam in LAMS])

    din, dout, h = dims
    s = np.linspace(2.0, 0.5, min(din, dout))
    nets = [DeepLinear(singular_values=s, d_in=din, d_out=dout, width=h, lr=1e-3, init="lambda", init_scale=0.05,
                       lam=lam) for lam in LAMS]
    msims = simulate_batch(nets, seeds=seeds, t_max=5, n_points=101)
    errors, movement, theories = {}, [], []
    for lam, net, ms in zip(LAMS, nets, msims):
        th = net.matching_theory(ms, t_max=5, n_points=101)
        theories.append(th)
        for var in ("function", "W1TW1", "W2W2T", "ntk"):  # every seed against its own exact solution
            worst = max(compare(th.sel(seed=[k]), ms.sel(seed=[k]), [var]).summary[var]["max_abs"]
                        for k in ms.seed.values)
            errors[(lam, var)] = float(worst / np.abs(th[var]).max())
        movement.append(float(th.ntk_movement.isel(t=-1).mean()))
    worst = max(errors, key=errors.get)
    movement = np.array(movement)
    checks = [
        at_most("aligned mode: max_lambda max_t |u_GD - u_exact| / s", float(mode_err.max()), 0.01),
        at_most(f"matrix: max over lambda and variables of max|GD - exact| / max|exact| (worst {worst})",
                 errors[worst], 0.01),
        _yes("relative NTK movement at t = 5 decreases with |lambda|", bool(np.all(np.diff(movement) < 0))),
        _yes("half-time to u = s/2 decreases with |lambda|", bool(np.all(np.diff(halves) < 0))),
        within("lambda = 10: |lambda| t_half (lazy limit ln 2 - O(s^2/lambda^2))", float(10 * halves[-1]), np.log(2), 0.05),
    ]
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True)
        for k, (lam, sm) in enumerate(zip(LAMS, sims)):
            a.plot(t, exact[k], color=f"C{k}", label=f"λ = {lam:g}")
            a.plot(t[::8], sm.modes.values[0, ::8, 0], "o", color=f"C{k}", ms=2.5)
        a.set(xlabel="t = lr · steps", ylabel="u (s = 2)", title="exact (lines) vs GD (dots)")
        a.set_xscale("symlog", linthresh=0.1)  # linear up to t = 0.1, where lambda = 10 is already fast
        ticks = [v for v in (0, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if v <= t[-1]]
        a.set_xticks(ticks, [f"{v:g}" for v in ticks])
        a.legend(fontsize=7)
        b.plot(LAMS, movement, "o-")
        b.set_xscale("symlog", linthresh=0.1)  # lambda = 0 drawn at 0
        b.set_xticks(LAMS, [f"{v:g}" for v in LAMS])
        b.set(yscale="log", xlabel="λ", ylabel=r"$\|\Theta(5)-\Theta(0)\|/\|\Theta(0)\|$",
              title="NTK movement, random λ-balanced starts")
    data = {f"theory_lam{lam:g}": th for lam, th in zip(LAMS, theories)}
    data.update({f"simulation_lam{lam:g}": ms for lam, ms in zip(LAMS, msims)})
    numbers = {**{f"mode error lambda={lam:g}": float(e) for lam, e in zip(LAMS, mode_err)},
               **{f"{var} error lambda={lam:g}": v for (lam, var), v in errors.items()},
               **{f"NTK movement lambda={lam:g}": float(m) for lam, m in zip(LAMS, movement)},
               **{f"t_half lambda={lam:g}": float(x) for lam, x in zip(LAMS, halves)}}
    return Outcome(checks, data, fig, numbers)


# --- deep_linear.get_rich_quick --------------------------------------------------------------------

DELTAS = (-10.0, -1.0, 0.0, 1.0, 10.0)


@claim("deep_linear.get_rich_quick",
       "Minimal model f = a w^T x: delta = eta_w a^2 - eta_a ||w||^2 is conserved by gradient flow (1e-10) and drifts "
       "under GD by the predicted lr * int(||g_a||^2 eta_a - ||g_w||^2 eta_w) dt within 5% (halving lr halves it "
       "within 5%); GD follows the exact function-space path within 1%; delta = 10 (lazy) paths are straight lines "
       "(deviation < 1e-2), delta = 0 (rich) paths deviate at least 10x more; feature learning (NTK movement) is fastest at "
       "balance and falls with |delta| on both sides", KUNIN)
def get_rich_quick(size: str, progress: bool) -> Outcome:
    """Run the claim registered above at `size`.

    **Arguments:** `size`: 'quick' or 'paper'; `progress`: show progress.

    **Returns:** an `Outcome`: the checks, the theories `theory_delta<delta>`, the figure and the measured numbers."""
    d = {"quick": 20, "paper": 100}[size]
    beta = np.random.default_rng(7).standard_normal(d)
    beta /= np.linalg.norm(beta)
    lrs = (1e-2, 5e-3)
    rich = [minimal_model(beta, delta=0.0, init_scale=1e-2, lr=lr) for lr in lrs]
    drift_sims = [sc.simulate(seeds=1, t_max=10, n_points=101) for sc in rich]
    drifts, preds = [], []
    for sc, sm in zip(rich, drift_sims):
        th = sc.theory(t_max=10, n_points=101, init=sm).isel(seed=0)
        tr = np.trace(sm.imbalance.isel(seed=0).values, axis1=1, axis2=2)
        drifts.append(float(tr[-1] - tr[0]))
        preds.append(float(predicted_drift(th, sc.sigma, sc.lr, sc.lr_scales)[-1]))
        conserved = float(np.abs(th.imbalance - th.imbalance.isel(t=0)).max())
    paths = [minimal_model(beta, delta=delta, init_scale=0.3, lr=1e-3) for delta in DELTAS]
    psims = simulate_batch(paths, seeds=1, t_max=10, n_points=201)
    pths = [sc.matching_theory(sm, t_max=10, n_points=201).isel(seed=0) for sc, sm in zip(paths, psims)]
    path_err = max(compare(th, sm, ["function"]).summary["function"]["max_abs"] for sm, th in zip(psims, pths))
    dev = {delta: path_deviation(th.function.values[:, 0], beta) for delta, th in zip(DELTAS, pths)}
    small = [minimal_model(beta, delta=delta, init_scale=1e-2) for delta in DELTAS]
    movement = np.array([float(sc.theory(t_max=10, n_points=201).ntk_movement[-1]) for sc in small])
    i0 = DELTAS.index(0.0)
    checks = [
        at_most("max_t |delta(t) - delta(0)| under the exact gradient flow", conserved, 1e-10),
        within(f"GD drift of delta at lr {lrs[0]:g} vs predicted", drifts[0], preds[0], 0.05),
        within(f"GD drift ratio lr {lrs[0]:g} / lr {lrs[1]:g}", drifts[0] / drifts[1], 2.0, 0.05),
        at_most("max_t |beta_hat_GD - beta_hat_exact| / ||beta||, all delta", path_err, 0.01),
        at_most("delta = 10: path deviation from a straight line", dev[10.0], 1e-2),
        at_least("path deviation from a straight line, delta = 0 over delta = 10", dev[0.0] / dev[10.0], 10.0),
        _yes("NTK movement is largest at delta = 0 and falls with |delta| on both sides",
             bool(np.all(np.diff(movement[:i0 + 1]) > 0) and np.all(np.diff(movement[i0:]) < 0))),
    ]
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True)
        bb = beta / np.linalg.norm(beta)
        for k, (delta, th, sm) in enumerate(zip(DELTAS, pths, psims)):
            f = th.function.values[:, 0]
            e2 = f[0] - (f[0] @ bb) * bb
            e2 /= np.linalg.norm(e2)
            a.plot(f @ bb, f @ e2, color=f"C{k}", label=f"δ = {delta:g}")
            g = sm.function.values[0, ::10, 0]
            a.plot(g @ bb, g @ e2, "o", color=f"C{k}", ms=2)
        a.plot([1], [0], "k*")
        a.set(xlabel=r"$\hat\beta \cdot \beta$", ylabel=r"$\hat\beta \cdot e_\perp$", title="function-space paths")
        a.legend(fontsize=7)
        b.plot(DELTAS, movement, "o-")
        b.set(yscale="log", xlabel="δ", ylabel="NTK movement at t = 10", title="feature learning vs imbalance")
    numbers = {"drift lr=1e-2": drifts[0], "predicted lr=1e-2": preds[0], "drift lr=5e-3": drifts[1],
               "predicted lr=5e-3": preds[1], "path error": path_err,
               **{f"path deviation delta={k:g}": v for k, v in dev.items()},
               **{f"NTK movement delta={k:g}": float(m) for k, m in zip(DELTAS, movement)}}
    data = {f"theory_delta{k:g}": th for k, th in zip(DELTAS, pths)}
    return Outcome(checks, data, fig, numbers)
