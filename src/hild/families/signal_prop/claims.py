"""Claims of signal propagation in random transformers at initialisation.

Giorlandino & Goldt, "Two failure modes of deep transformers and how to avoid them" (arXiv 2505.24333) and
Cowsik, Nebabu, Qi & Ganguli, "Geometric dynamics of signal propagation predict trainability of transformers"
(arXiv 2403.02579). Every claim runs the layer map (hild.signal_prop.theory, geometry) and the real random
stack (hild.signal_prop.simulate) through the public API and compares their numbers.
"""
from __future__ import annotations

import numpy as np

from hild.analysis.compare import compare
from hild.claims import Outcome, at_least, at_most, claim
from hild.families.signal_prop import (RandomTransformer, angle_exponent, beta_c, critical_residual as alpha_critical,
                                       entropy, exponents, finite_rem, gradient_exponent, inverse_participation_ratio,
                                       layer_map, run_points)
from hild.families.signal_prop.figure import cosine_axes
from hild.plot import STYLE, plt

PAPERS = ("2505.24333", "2403.02579")
BASE = {"sigma_v2": 0.2, "sigma_w2": 0.2, "sigma_b2": 4e-4, "alpha_A": 1.0, "alpha_M": 1.0}  # the paper's notebook


def _log_slope(y, x=None) -> float:
    """The least-squares slope of ln y against x (default 0, 1, ...)."""
    y = np.asarray(y, dtype=float)
    x = np.arange(len(y)) if x is None else np.asarray(x, dtype=float)
    return float(np.polyfit(x, np.log(y), 1)[0])


# --- signal_prop.layer_map -------------------------------------------------------------------------

@claim("signal_prop.layer_map",
       "The REM layer map of Giorlandino & Goldt (post-LN, its T -> infinity attention) follows the mean token cosine "
       "of a simulated deep random transformer within 0.05 at every layer, for low (beta = 0.5) and high (beta = 3) "
       "query-key variance (sigma_v2 = sigma_w2 = 0.2, sigma_b2 = 4e-4, alpha_A = alpha_M = 1, ReLU MLP, p0 = 0.2; "
       "paper size d = 256, T = 128, L = 30, 5 seeds); the same map with the LayerNorm moved before each branch "
       "(pre-LN) follows its simulation as well", PAPERS)
def layer_map_claim(size: str, progress: bool) -> Outcome:
    """Run the claim registered above at `size`.

    **Arguments:** `size`: 'quick' or 'paper'; `progress`: show progress.

    **Returns:** an `Outcome`: the checks, the datasets `theory_<norm>_beta<beta>`, `simulation_<norm>_beta<beta>`,
    the figure and the measured numbers."""
    T, d, L, seeds = {"quick": (32, 128, 8, 3), "paper": (128, 256, 30, 5)}[size]
    checks, data, numbers, runs = [], {}, {}, {}
    for norm in ("post", "pre"):
        for beta in (0.5, 3.0):
            sc = RandomTransformer(T=T, d=d, L=L, beta=beta, norm=norm, **BASE)
            th, sim = sc.theory(), sc.simulate(d=d, seeds=seeds)
            err = compare(th, sim, ["cos"]).summary["cos"]["max_abs"]
            err_finite = compare(sc.theory(rem="finite"), sim, ["cos"]).summary["cos"]["max_abs"]
            checks.append(at_most(f"{norm}-LN, beta = {beta:g}: max over layers |simulated - theory| mean cosine",
                                   err, 0.05))
            numbers.update({f"{norm} beta={beta:g}: max error": err,
                            f"{norm} beta={beta:g}: max error, finite-T REM map": err_finite,
                            f"{norm} beta={beta:g}: final cosine theory": float(th.cos[-1]),
                            f"{norm} beta={beta:g}: final cosine simulation": float(sim.cos.mean("seed")[-1])})
            checks.append(at_most(f"{norm}-LN, beta = {beta:g}: seeds diverged", float(sim.diverged.sum()), 0.0))
            data.update({f"theory_{norm}_beta{beta:g}": th, f"simulation_{norm}_beta{beta:g}": sim})
            runs[(norm, beta)] = (th, sim)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.3), constrained_layout=True)
        for ax, norm in zip(axes, ("post", "pre")):
            for k, beta in enumerate((0.5, 3.0)):
                cosine_axes(ax, *runs[(norm, beta)], color=f"C{k}", label=f"β = {beta:g}")
            ax.set_title(f"{norm}-LN, d = {d}, T = {T}, {seeds} seeds", fontsize=8)
            ax.legend(fontsize=6)
    return Outcome(checks, data, fig, numbers)


# --- signal_prop.two_failure_modes -------------------------------------------------------------------

@claim("signal_prop.two_failure_modes",
       "Below the REM freezing point beta_c = sqrt(2 / (1 - c)) attention averages all tokens: without an attention "
       "residual one block collapses the tokens (cosine >= 0.9 at beta = 0.5), while high query-key variance "
       "(beta = 3 beta_c) keeps them apart for >= 3 blocks (cosine < 0.9); above beta_c attention concentrates on "
       "O(1) tokens (1 / IPR <= 3, IPR = sum_j A_ij^2 the inverse participation ratio of a row, growing at most x1.5 "
       "from the smallest to the largest T, against >= x2.5 at beta = 0.5) with entropy <= 0.3 ln T (entropy "
       "collapse). The REM entropy 1 - beta^2 (1 - c) / 2 (in units of ln T) holds within 0.06 at beta = 0.5 "
       "(0.32 beta_c); a finite-T REM (i.i.d. Gaussian scores) gives the entropy within 0.03 and the IPR within 0.05 "
       "of the simulation at beta = 0.6, 2 and 3 beta_c (input cosine c = 0.2)", PAPERS)
def two_failure_modes(size: str, progress: bool) -> Outcome:
    """Run the claim registered above at `size`.

    **Arguments:** `size`: 'quick' or 'paper'; `progress`: show progress.

    **Returns:** an `Outcome`: the checks, no datasets, the figure and the measured numbers."""
    d, Ts, seeds, L = {"quick": (128, (16, 64), 2, 6), "paper": (256, (32, 128, 512), 4, 12)}[size]
    T = Ts[-1] if size == "quick" else Ts[1]
    checks, numbers = [], {}
    c = 0.2
    bc = float(beta_c(c))
    betas = np.array([0.5, 0.6 * bc, 2.0 * bc, 3.0 * bc])
    stats, deep = {}, {}
    for t in Ts:  # the first block sees tokens of cosine c whatever alpha_A: its attention is the REM at c
        sc = RandomTransformer(T=t, L=L, p0=c, **{**BASE, "alpha_A": 0.0})
        out = run_points(sc, {"beta": betas}, seeds=seeds, d=d).mean("seed")
        first = out.sel(layer=1)  # the first block's attention
        stats[t] = (first["entropy_ratio"].values, first["attention_ipr"].values)
        deep[t] = (out["cos"].values, layer_map({**sc.hyper, "beta": betas}, t, L, c, gradients=False)["cos"].T)
    # rank collapse against preserved signal, no attention residual
    cos, th = deep[T]
    blocks_apart = [int(np.argmax(np.append(row, 2.0) >= 0.9)) for row in cos]
    checks += [at_least("beta = 0.5, alpha_A = 0: simulated cosine after one block (rank collapse)",
                         float(cos[0, 1]), 0.9),
               at_least(f"beta = {betas[3]:.3g}, alpha_A = 0: blocks with simulated cosine below 0.9",
                         blocks_apart[3], 3)]
    for k in (0, 3):
        numbers.update({f"alpha_A=0, beta={betas[k]:.3g}: cosine after one block, simulation": float(cos[k, 1]),
                        f"alpha_A=0, beta={betas[k]:.3g}: cosine after one block, theory": float(th[k, 1]),
                        f"alpha_A=0, beta={betas[k]:.3g}: blocks below cosine 0.9, simulation": blocks_apart[k],
                        f"alpha_A=0, beta={betas[k]:.3g}: blocks below cosine 0.9, theory":
                            int(np.argmax(np.append(th[k], 2.0) >= 0.9))})
    # the REM statistics
    H, ipr = stats[T]
    Hf, iprf, _ = finite_rem(betas, c, T)
    Hf = Hf / np.log(T)
    asym_H, asym_ipr = entropy(betas, c, T) / np.log(T), inverse_participation_ratio(betas, c)
    checks.append(at_most("beta = 0.5: |entropy / ln T - (1 - beta^2 (1 - c) / 2)|", float(abs(H[0] - asym_H[0])),
                           0.06))
    for k in (1, 2, 3):
        checks += [at_most(f"beta = {betas[k]:.3g}: |entropy / ln T - finite-T REM|", float(abs(H[k] - Hf[k])), 0.03),
                   at_most(f"beta = {betas[k]:.3g}: |inverse participation ratio - finite-T REM|",
                           float(abs(ipr[k] - iprf[k])), 0.05)]
    for k in (2, 3):
        checks.append(at_most(f"beta = {betas[k]:.3g}: entropy / ln T (entropy collapse)", float(H[k]), 0.3))
    eff = {t: 1.0 / stats[t][1] for t in Ts}
    high = max(float(eff[t][k]) for t in Ts for k in (2, 3))
    growth_high = max(float(eff[Ts[-1]][k] / eff[Ts[0]][k]) for k in (2, 3))
    growth_low = float(eff[Ts[-1]][0] / eff[Ts[0]][0])
    checks += [at_most("beta >= 2 beta_c: attended tokens 1 / IPR, max over T", high, 3.0),
               at_most(f"beta >= 2 beta_c: growth of 1 / IPR from T = {Ts[0]} to {Ts[-1]}", growth_high, 1.5),
               at_least(f"beta = 0.5: growth of 1 / IPR from T = {Ts[0]} to {Ts[-1]}", growth_low, 2.5)]
    for k, b in enumerate(betas):
        numbers.update({f"beta={b:.3g}, T={T}: entropy/lnT simulation": float(H[k]),
                        f"beta={b:.3g}, T={T}: entropy/lnT finite REM": float(Hf[k]),
                        f"beta={b:.3g}, T={T}: entropy/lnT asymptotic": float(asym_H[k]),
                        f"beta={b:.3g}, T={T}: IPR simulation": float(ipr[k]),
                        f"beta={b:.3g}, T={T}: IPR finite REM": float(iprf[k]),
                        f"beta={b:.3g}, T={T}: IPR asymptotic": float(asym_ipr[k])})
        numbers.update({f"beta={b:.3g}: IPR simulation at T={t}": float(stats[t][1][k]) for t in Ts})
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), constrained_layout=True)
        for k in (0, 3):
            axes[0].plot(cos[k], "o", ms=3, color=f"C{k}", label=f"β = {betas[k]:.2g} simulation")
            axes[0].plot(th[k], "-", color=f"C{k}", lw=1.2, zorder=3, label=f"β = {betas[k]:.2g} theory")
        axes[0].set(xlabel="layer ℓ", ylabel="mean token cosine", title=f"no attention residual, T = {T}, d = {d}")
        axes[0].legend(fontsize=6)
        grid = np.linspace(0.05, 4.0 * bc, 200)
        for ax, (name, asym, j) in zip(axes[1:], (("entropy / ln T", entropy(grid, c, T) / np.log(T), 0),
                                                  ("inverse participation ratio",
                                                   inverse_participation_ratio(grid, c), 1))):
            ax.plot(grid, np.where(asym > 1.05, np.nan, asym), "k-", lw=1, label="REM, T → ∞")
            ax.plot(grid, finite_rem(grid, c, T)[j] / (np.log(T) if j == 0 else 1.0), "k--", lw=1,
                    label=f"finite-T REM, T = {T}")
            ax.plot(betas, (H, ipr)[j], "o", color="C3", label="simulation")
            ax.axvline(bc, color="0.6", lw=0.8, ls=":", label=rf"freezing point $\beta_c$ = {bc:.3g}")
            ax.set(xlabel=r"$\beta$", ylabel=name, ylim=(-0.05, 1.1), title=f"input cosine c = {c:g}")
            ax.legend(fontsize=6)
    return Outcome(checks, {}, fig, numbers)


# --- signal_prop.critical_residual -------------------------------------------------------------------

@claim("signal_prop.critical_residual",
       "Without MLPs and below the freezing point (beta = 0.5, sigma_v2 = 0.2, sigma_b2 = 0), the attention residual "
       "strength at which the token odds c / (1 - c) grow by e^2 over L blocks follows the map's "
       "alpha_c = sqrt(sigma_v2 / (e^{2/L} - 1)) ~ sqrt(sigma_v2 L / 2) within 10% in simulation, and its growth "
       "exponent d ln alpha_c / d ln L matches the map's within 0.05 (-> 1/2: the residual must grow as sqrt(L), "
       "i.e. the attention branch must shrink as 1/sqrt(L), to keep tokens distinct)", PAPERS)
def critical_residual(size: str, progress: bool) -> Outcome:
    """Run the claim registered above at `size`.

    **Arguments:** `size`: 'quick' or 'paper'; `progress`: show progress.

    **Returns:** an `Outcome`: the checks, no datasets, the figure and the measured numbers."""
    T, d, Ls, seeds = {"quick": (32, 128, (4, 16), 2), "paper": (128, 256, (8, 16, 32, 64), 3)}[size]
    sv, growth = 0.2, np.e ** 2
    theory_alpha = alpha_critical(np.array(Ls), sv, growth)
    alphas = np.geomspace(0.4 * theory_alpha.min(), 2.5 * theory_alpha.max(), 28)
    checks, numbers, measured, curves = [], {}, [], {}
    for L in Ls:
        sc = RandomTransformer(T=T, L=L, beta=0.5, mlp="none", sigma_v2=sv, sigma_b2=0.0)
        cos = run_points(sc, {"alpha_A": alphas}, seeds=seeds, d=d)["cos"].mean("seed").values
        cos = np.minimum(cos, 1 - 1e-7)  # float32 collapse at the smallest alphas
        log_growth = np.log(cos[:, -1] / (1 - cos[:, -1])) - np.log(cos[:, 0] / (1 - cos[:, 0]))
        curves[L] = log_growth
        # log_growth falls with alpha: interpolate ln alpha at log_growth = ln(growth)
        measured.append(float(np.exp(np.interp(np.log(growth), log_growth[::-1], np.log(alphas)[::-1]))))
    measured = np.array(measured)
    for L, a_sim, a_th in zip(Ls, measured, theory_alpha):
        checks.append(at_most(f"L = {L}: |alpha_c simulated / alpha_c map - 1|", float(abs(a_sim / a_th - 1)), 0.10))
        numbers.update({f"L={L}: alpha_c simulation": float(a_sim), f"L={L}: alpha_c map": float(a_th),
                        f"L={L}: sqrt(sigma_v2 L / 2)": float(np.sqrt(sv * L / 2))})
    slope_sim = float(np.polyfit(np.log(Ls), np.log(measured), 1)[0])
    slope_th = float(np.polyfit(np.log(Ls), np.log(theory_alpha), 1)[0])
    checks.append(at_most("|d ln alpha_c / d ln L: simulation - map|", abs(slope_sim - slope_th), 0.05))
    numbers.update({"exponent simulation": slope_sim, "exponent map": slope_th})
    from matplotlib.ticker import NullFormatter

    from hild.plot import readable_log

    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), constrained_layout=True)
        for k, L in enumerate(Ls):
            axes[0].plot(alphas, curves[L], "o", ms=2.5, color=f"C{k}", label=f"L = {L} simulation")
            axes[0].plot(alphas, L * np.log1p(sv / alphas ** 2), "-", color=f"C{k}", lw=1.2, zorder=3,
                         label=f"L = {L} map")
        axes[0].axhline(np.log(growth), color="0.5", ls=":", lw=0.8, label=f"ln K = {np.log(growth):g} (defines α_c)")
        axes[0].set(xscale="log", yscale="log", xlabel=r"$\alpha_A$", ylabel=r"$\ln$ odds growth over L blocks")
        readable_log(axes[0])
        axes[0].legend(fontsize=6, loc="lower left")
        Lg = np.geomspace(min(Ls), max(Ls), 50)
        axes[1].plot(Lg, alpha_critical(Lg, sv, growth), "k-", lw=1, label="map")
        axes[1].plot(Lg, np.sqrt(sv * Lg / np.log(growth)), "k:", lw=1, label=r"$\sqrt{\sigma_v^2 L / \ln K}$")
        axes[1].plot(Ls, measured, "o", color="C3", label="simulation")
        axes[1].set(xscale="log", yscale="log", xlabel="depth L", ylabel=r"critical residual $\alpha_c$")
        axes[1].set_xticks(Ls, [f"{v:g}" for v in Ls])  # the depths simulated
        axes[1].xaxis.set_minor_formatter(NullFormatter())
        readable_log(axes[1], "y")
        axes[1].legend(fontsize=6)
    return Outcome(checks, {}, fig, numbers)


# --- signal_prop.order_chaos -------------------------------------------------------------------------

@claim("signal_prop.order_chaos",
       "Without MLPs one block never lowers the token cosine (c' >= c on a grid of beta, alpha_A, sigma_v2, c), so "
       "tokens collapse to a line (the map reaches cosine >= 0.99 within 300 blocks; the simulated cosine never falls by more "
       "than 0.01 per block, beta = 0.5 and 4, alpha_A = 0.5, and is within 0.05 of the map at beta = 0.5); with a "
       "tanh MLP (alpha_M = 0) the angle exponent "
       "lambda_a = ln(chi_A chi_M) changes sign with sigma_w2 (order -> chaos), the finite-difference exponent of the "
       "simulated stack (4 blocks from cosine 0.99) matches it within 0.05 with the same sign, and the measured "
       "growth rate of backpropagated gradient norms from the forward attractor matches the gradient exponent "
       "lambda_g within 0.04", PAPERS)
def order_chaos(size: str, progress: bool) -> Outcome:
    """Run the claim registered above at `size`.

    **Arguments:** `size`: 'quick' or 'paper'; `progress`: show progress.

    **Returns:** an `Outcome`: the checks, the simulations `simulation_nomlp_beta<beta>`, the figure and the
    measured numbers."""
    T, d, seeds, L = {"quick": (32, 128, 3, 10), "paper": (64, 256, 4, 20)}[size]
    checks, numbers, data = [], {}, {}
    # (1) attention-only stacks: c' >= c everywhere
    b, a, v, c = np.meshgrid(np.linspace(0, 8, 17), np.linspace(0, 3, 13), np.geomspace(0.05, 4, 9),
                             np.linspace(0, 0.999, 41), indexing="ij")
    hp = {"beta": b, "alpha_A": a, "sigma_v2": v, "sigma_w2": 0.0, "sigma_b2": 4e-4, "alpha_M": 0.0}
    step = layer_map(hp, T, 1, c, mlp=None, gradients=False)["cos"]
    checks.append(at_least("no MLP: min over the grid of c' - c (one block)", float((step[1] - step[0]).min()),
                            -1e-12))
    runs = {}
    for beta in (0.5, 4.0):
        sc = RandomTransformer(T=T, L=L, beta=beta, mlp="none", **{**BASE, "alpha_A": 0.5})
        th, sim = sc.theory(), sc.simulate(d=d, seeds=seeds)
        runs[f"no MLP, β = {beta:g}"] = (th, sim)
        cos = sim.cos.mean("seed").values
        if beta < 1:  # below the freezing point the map is exact as d, T -> infinity
            err = compare(th, sim, ["cos"]).summary["cos"]["max_abs"]
            checks.append(at_most(f"no MLP, beta = {beta:g}: max |simulated - theory| cosine", err, 0.05))
        deep = float(layer_map(sc.hyper, T, 300, sc.p0, mlp=None, gradients=False)["cos"][-1])
        checks += [at_least(f"no MLP, beta = {beta:g}: min over layers of the simulated cosine increment",
                             float(np.diff(cos).min()), -0.01),
                   at_least(f"no MLP, beta = {beta:g}: the map's cosine after 300 blocks", deep, 0.99)]
        numbers[f"no MLP beta={beta:g}: final cosine simulation"] = float(cos[-1])
        numbers[f"no MLP beta={beta:g}: final cosine theory"] = float(th.cos[-1])
        data[f"simulation_nomlp_beta{beta:g}"] = sim
    # (2) the angle exponent with a tanh MLP, against finite differences of the simulated stack, and (3) the
    # gradient growth at the forward attractor: one vectorised simulation
    sw = np.array([0.5, 2.0, 4.0])
    hp = {**BASE, "beta": 0.5, "alpha_M": 0.0, "sigma_w2": sw}
    ex = exponents(hp, T, "tanh")
    grid = np.linspace(0.2, 3.0, 300)
    lam_grid = angle_exponent({**hp, "sigma_w2": grid}, "tanh")
    numbers["sigma_w2 at lambda_a = 0 (theory)"] = float(np.interp(0.0, lam_grid, grid))
    c_star = np.minimum(ex["c_star"], 0.999)
    sc = RandomTransformer(T=T, L=L, beta=0.5, mlp="tanh", **{**BASE, "alpha_M": 0.0})
    out = run_points(sc, {"sigma_w2": np.tile(sw, 2), "p0": np.concatenate([np.full(3, 0.99), c_star])}, seeds=seeds,
                     d=d).mean("seed")
    eps = 1 - out["cos"].values[:3, :5]
    for k, s in enumerate(sw):
        lam_sim = _log_slope(eps[k])
        lam_g = -_log_slope(out["grad_ratio"].values[3 + k])
        checks += [at_most(f"sigma_w2 = {s:g}: |lambda_a simulated - theory|", abs(lam_sim - ex["lambda_a"][k]), 0.05),
                   at_least(f"sigma_w2 = {s:g}: lambda_a simulated x theory (same sign)",
                             float(np.sign(lam_sim) * np.sign(ex["lambda_a"][k])), 1.0),
                   at_most(f"sigma_w2 = {s:g}: |gradient growth rate per block - lambda_g|",
                            abs(lam_g - ex["lambda_g"][k]), 0.04)]
        numbers.update({f"sigma_w2={s:g}: lambda_a theory": float(ex["lambda_a"][k]),
                        f"sigma_w2={s:g}: lambda_a simulation": lam_sim,
                        f"sigma_w2={s:g}: lambda_g theory": float(ex["lambda_g"][k]),
                        f"sigma_w2={s:g}: lambda_g simulation": lam_g, f"sigma_w2={s:g}: c*": float(ex["c_star"][k])})
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), constrained_layout=True)
        for k, (label, (th, sim)) in enumerate(runs.items()):
            cosine_axes(axes[0], th, sim, color=f"C{k}", label=label)
        axes[0].legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        axes[0].set_title("attention only: collapse to a line", fontsize=8)
        shown = np.linspace(grid[0], 1.05 * max(grid[-1], sw.max()), 300)  # the theory past every simulated point
        axes[1].plot(shown, angle_exponent({**hp, "sigma_w2": shown}, "tanh"), "k-", lw=1, label=r"$\lambda_a$ theory")
        axes[1].plot(shown, gradient_exponent({**hp, "sigma_w2": shown}, T, "tanh"), "k--", lw=1,
                     label=r"$\lambda_g$ theory")
        axes[1].plot(sw, [numbers[f"sigma_w2={s:g}: lambda_a simulation"] for s in sw], "o", color="C3",
                     label=r"$\lambda_a$ simulation")
        axes[1].plot(sw, [numbers[f"sigma_w2={s:g}: lambda_g simulation"] for s in sw], "s", color="C2",
                     label=r"$\lambda_g$ simulation")
        axes[1].axhline(0, color="0.6", lw=0.8)
        axes[1].set(xlabel=r"$\sigma_w^2$ (tanh MLP, $\alpha_M$ = 0)", ylabel="exponent per block")
        axes[1].legend(fontsize=6)
    return Outcome(checks, data, fig, numbers)
