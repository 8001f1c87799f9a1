"""Claims of linear diffusion models (Merger & Goldt, "Generalization dynamics of linear diffusion models").

Every claim runs the exact theory (hild.families.diffusion.theory, one training set at a time) and the
real algorithm at finite d (GD on the denoising score-matching loss with fresh noise, DDPM sampling)
through the public API, on the same training sets (integer seeds), and compares their numbers. Sampled
numbers are compared with hild.compare on replicates: each training set is fixed (`training_seed`) and
simulated with several seeds, which then differ only in their sampling and Monte Carlo noise, so that the
comparison's standard error (`max_in_sem`: the |z| of the worst point) is that noise.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hild.analysis.compare import compare
from hild.claims import Outcome, at_least, at_most, between, claim, within
from hild.core import lazy
from hild.families.diffusion import LinearDiffusion, kl_expected, kl_law_axes
from hild.plot import STYLE, plt, readable_log

xr = lazy.module("xarray")

PAPERS = ("2505.24769",)


def mp_lr(d: int, N: int, ridge: float = 0.0) -> float:
    """0.5 / (lambda_+ + ridge) with lambda_+ = (1 + sqrt(d/N))^2, the Marchenko-Pastur edge of an isotropic
    Sigma_0 (for N < d too): 2 lr a_max ~ 1, well inside GD's stability bound lr < 1 / a_max."""
    return 0.5 / ((1 + np.sqrt(d / N)) ** 2 + ridge)


def replicated(sc: LinearDiffusion, training_seeds, replicates: int, progress: bool, **options) -> list:
    """(theory, simulation) for each training set drawn by the integer seeds `training_seeds`, fixed, and
    simulated with `replicates` seeds (0, 1, ...) that differ only in their sampling and Monte Carlo noise."""
    pairs = []
    for s in training_seeds:
        fixed = dataclasses.replace(sc, training_seed=int(s))
        sim = fixed.simulate(seeds=replicates, progress=progress, **options)
        pairs.append((fixed.theory(denoisers=False), sim))
    return pairs


def sampled_z(pairs: list, variable: str, theories: list | None = None) -> float:
    """max over the pairs of hild.compare's |z| of the worst point of `variable` (optionally against other theories)."""
    return max(compare(th, sim, [variable]).summary[variable]["max_in_sem"]
               for th, (_, sim) in zip(theories or [p[0] for p in pairs], pairs))


def replicate_mean(pairs: list, variable: str) -> np.ndarray:
    """The replicates' mean of `variable`, per training set."""
    return np.array([sim[variable].mean("seed").values for _, sim in pairs])


# --- diffusion.optimal_denoiser ----------------------------------------------------------------------

def relative_error(w, w_star, offdiag, b_norm):
    """||[W - W*, b]||_F / ||W*||_F from the diagonal of W in the eigenbasis of Sigma_0, its off-diagonal
    norm and |b|."""
    return np.sqrt((((w - w_star) ** 2).sum("mode") + offdiag ** 2 + b_norm ** 2) / (w_star ** 2).sum("mode"))


@claim("diffusion.optimal_denoiser",
       "GD on the denoising score-matching loss with fresh noise follows the exact per-eigenmode dynamics "
       "w_k(n) = w_k* (1 - (1 - 2 lr a_k)^n), a_k = alpha_bar lam_hat_k + 1 - alpha_bar, within 5 standard "
       "deviations of its SGD noise (at most sqrt(2 lr / B) with B noise vectors per step); with an EMA of the "
       "iterates the trained denoisers converge to the optimum W_t* = sqrt(1 - alpha_bar_t)(alpha_bar_t Sigma_0 "
       "+ (1 - alpha_bar_t) I)^-1, b* = 0, within 1% (relative Frobenius), for N < d and N > d (paper size d = 50, "
       "N = 25 and 200), at t = 250, 500, 1000", PAPERS)
def optimal_denoiser(size: str, progress: bool) -> Outcome:
    d, batches, seeds, ema, steps = {"quick": (20, {10: 400, 80: 1600}, 2, 0.998, 4000),
                                     "paper": (50, {25: 1000, 200: 2000}, 1, 0.999, 8000)}[size]
    times = [250, 500, 1000]
    checks, data, numbers, runs = [], {}, {}, {}
    for N, batch in batches.items():
        lr, draws = mp_lr(d, N), batch // N
        gd = LinearDiffusion(d=d, N=N, lr=lr, steps=120, draws=draws)
        sim_gd = gd.simulate(seeds=seeds, times=times, n_points=41, n_samples=0, n_loss=0, progress=progress)
        th_gd = gd.theory(seeds=seeds, n_points=41).sel(t=times)
        noise = np.sqrt(2 * lr / (N * draws))
        follow = float(np.abs(sim_gd.w_path - th_gd.w_path).max()) / noise
        sc = LinearDiffusion(d=d, N=N, lr=lr, steps=steps, ema=ema, draws=draws)
        sim = sc.simulate(seeds=seeds, times=times, n_points=41, n_samples=0, n_loss=0, progress=progress)
        th = sc.theory(seeds=seeds, n_points=41).sel(t=times)
        err = relative_error(sim.w_path, th.w_star, sim.w_offdiag_path, sim.b_norm_path)
        final = float(err.isel(step=-1).max())
        checks += [at_most(f"N = {N}: max over GD steps, t, modes, seeds of |w_GD - w_exact| / sqrt(2 lr / B)",
                            follow, 5.0),
                   at_most(f"N = {N}: max over t, seeds of the final ||[W_EMA - W*, b]|| / ||W*||", final, 0.01),
                   at_most(f"N = {N}: seeds diverged", float(sim.diverged.sum() + sim_gd.diverged.sum()), 0.0)]
        numbers.update({f"N={N}: final relative error (EMA), t={t}": float(err.sel(t=t).isel(step=-1).max())
                        for t in times})
        numbers.update({f"N={N}: max |w_GD - w_exact| / sqrt(2 lr/B)": follow, f"N={N}: sqrt(2 lr/B)": noise,
                        f"N={N}: lr": lr, f"N={N}: B": N * draws})
        data.update({f"theory_gd_N{N}": th_gd, f"simulation_gd_N{N}": sim_gd, f"theory_ema_N{N}": th,
                     f"simulation_ema_N{N}": sim})
        runs[N] = (th_gd, sim_gd, relative_error(th.w_path, th.w_star, 0.0, 0.0), err)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, len(batches), figsize=(8.5, 6), constrained_layout=True)
        for col, (N, (th_gd, sim_gd, err_th, err)) in enumerate(runs.items()):
            ax = axes[0, col]
            th0, sim0 = th_gd.isel(seed=0).sel(t=times[0]), sim_gd.isel(seed=0).sel(t=times[0])
            top = min(N, d) - 2  # the smallest non-zero empirical eigenvalue (N <= d) or the last but one
            modes = sorted({0, top // 2, top, d - 1})
            for k, m in enumerate(modes):
                ws = float(th0.w_star.isel(mode=m))
                ax.plot(th0.tau, th0.w_path.isel(mode=m) / ws, color=f"C{k}", lw=1.2,
                        label=rf"$\hat\lambda$ = {float(th0.lambda_hat.isel(mode=m)):.2g}")
                ax.plot(sim0.tau, sim0.w_path.isel(mode=m) / ws, "o", color=f"C{k}", ms=2.5)
            ax.set(xlabel=r"$\tau$ = lr · steps", ylabel=r"$w_k / w_k^*$",
                   title=f"d = {d}, N = {N}, t = {times[0]}: GD (dots) vs exact")
            ax.legend(fontsize=6)
            ax = axes[1, col]
            for k, t in enumerate(times):
                ax.plot(err_th.tau, err_th.sel(t=t).isel(seed=0), color=f"C{k}", lw=1.2, label=f"t = {t}")
                ax.plot(err.tau, err.sel(t=t).mean("seed"), "o", color=f"C{k}", ms=2.5)
            ax.axhline(0.01, color="0.6", lw=0.8, ls=":")
            ax.set(xlabel=r"$\tau$ = lr · steps", yscale="log", ylabel=r"$\|[W-W^*, b]\|_F / \|W^*\|_F$",
                   title=f"EMA {ema:g}: exact (lines), GD (dots)")
            ax.legend(fontsize=6)
    return Outcome(checks, data, fig, numbers)


# --- diffusion.kl_law --------------------------------------------------------------------------------

SPECTRA = (("isotropic", 1.0), ("power_law", 1.0), ("power_law", 2.0))


def _slope(ratios: np.ndarray, kl_per_d: np.ndarray) -> float:
    """Least-squares slope s of KL/d = s d/N (a line through the origin) over the grid of N/d."""
    x = 1.0 / np.asarray(ratios, dtype=float)
    return float(np.sum(x * kl_per_d) / np.sum(x * x))


def _label(spectrum: str, exponent: float) -> str:
    return "isotropic" if spectrum == "isotropic" else f"power law k^-{exponent:g}"


@claim("diffusion.kl_law",
       "For N > d the KL between the generated law (DDPM, exact linear denoisers) and the target, averaged over "
       "training sets, follows the Wishart law E KL = 1/2 sum_i [ln(N/2) - psi((N-i)/2)] within 5% for N/d = 2..32, "
       "decreasing linearly in d/N with the law's slope (within 5%; N KL/d -> (d+3)/4 within 3% at N = 32d); isotropic "
       "and power-law spectra "
       "(k^-1, k^-2; independent training sets) give the same KL within 10%; sampled KLs match the exact ones "
       "within 4 standard errors", PAPERS)
def kl_law(size: str, progress: bool) -> Outcome:
    d, seeds, n, sim_seeds = {"quick": (20, 200, 5000, 1), "paper": (50, 400, 20000, 2)}[size]
    replicates = 10
    ratios = np.array([2, 4, 8, 16, 32])
    sim_ratios = (2, 8, 32)
    Ns = ratios * d
    law = kl_expected(d, Ns)
    mean = {}
    checks, data, numbers, sims = [], {}, {}, {}
    for j, (spectrum, a) in enumerate(SPECTRA):
        label = _label(spectrum, a)
        kls = []
        for N in Ns:
            sc = LinearDiffusion(d=d, N=int(N), spectrum=spectrum, exponent=a)
            th = sc.theory(seeds=seeds, seed=j * seeds, denoisers=False)
            kls.append(th.kl.values)
            if (spectrum, a) in SPECTRA[:2] and int(N) // d in sim_ratios:
                sims[(label, int(N))] = replicated(sc, range(j * seeds, j * seeds + sim_seeds), replicates, progress,
                                                   denoiser="exact", n_samples=n // replicates, n_loss=0)
        kls = np.array(kls)
        mean[label] = kls.mean(1)
        sem = kls.std(1, ddof=1) / np.sqrt(seeds)
        dev = np.abs(mean[label] / law - 1)
        slope = _slope(ratios, mean[label] / d)
        checks += [at_most(f"{label}: max over N of |mean KL / Wishart law - 1|", float(dev.max()), 0.05),
                   within(f"{label}: slope of mean KL/d against d/N (least squares through 0)", slope,
                           _slope(ratios, law / d), 0.05),
                   within(f"{label}: N KL / d at N = {ratios[-1]}d", float(Ns[-1] * mean[label][-1] / d),
                           (d + 3) / 4, 0.03)]
        numbers.update({f"{label}: KL/d at N/d={r}": float(m / d) for r, m in zip(ratios, mean[label])})
        numbers.update({f"{label}: sem of KL/d at N/d={r}": float(s / d) for r, s in zip(ratios, sem)})
        numbers[f"{label}: slope of KL/d against d/N"] = slope
        numbers[f"{label}: log-log slope of KL against N/d"] = float(
            np.polyfit(np.log(ratios), np.log(mean[label]), 1)[0])
        data[f"kl_{spectrum}_{a:g}"] = xr.Dataset({"kl": (("N", "seed"), kls)}, coords={"N": Ns})
    iso = mean["isotropic"]
    for spectrum, a in SPECTRA[1:]:
        label = _label(spectrum, a)
        ratio = mean[label] / iso
        checks.append(at_most(f"max over N of |mean KL({label}) / mean KL(isotropic) - 1|",
                               float(np.abs(ratio - 1).max()), 0.10))
        numbers[f"max |KL({label}) / KL(isotropic) - 1|"] = float(np.abs(ratio - 1).max())
    z = max(sampled_z(pairs, "kl") for pairs in sims.values())
    checks.append(at_most(f"max over N, spectra and training sets of hild.compare's |z| of the KL sampled "
                          f"({replicates} replicates of {n // replicates} samples) against the exact KL", z, 4.0))
    numbers["max |z| of the sampled KL"] = z
    numbers["Wishart law: slope of KL/d against d/N"] = _slope(ratios, law / d)
    numbers["Wishart law: log-log slope of KL against N/d"] = float(np.polyfit(np.log(ratios), np.log(law), 1)[0])
    numbers["(d+3)/(4d)"] = (d + 3) / (4 * d)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 3.6), constrained_layout=True)
        kl_law_axes(ax, d, np.geomspace(1.5, 40, 100))
        for k, label in enumerate(mean):
            ax.plot(ratios * (1 + 0.03 * k), mean[label] / d, "s", color=f"C{k}", ms=4, mfc="none",
                    label=f"exact, {label} (mean of {seeds})")
        for (label, N), pairs in sims.items():
            k, first = list(mean).index(label), N // d == sim_ratios[0]
            x = N / d * (1 + 0.03 * k)
            sampled = [sim.kl.values for _, sim in pairs]
            ax.plot([x], [np.mean([float(th.kl) for th, _ in pairs]) / d], "x", color=f"C{k}", ms=7, zorder=2,
                    label=f"exact, the sampled training set{'s' * (sim_seeds > 1)}" if first and k == 0 else None)
            ax.errorbar([x], [np.mean(sampled) / d], yerr=[np.std(sampled, ddof=1) / np.sqrt(np.size(sampled)) / d],
                        fmt="o", color=f"C{k}", ms=3, capsize=2, zorder=3,
                        label=f"sampled, {label} (± standard error)" if first else None)
        ax.set(title=f"d = {d}: KL(generated || target) for N > d")
        readable_log(ax, "x")
        ax.legend(fontsize=6)
    for (label, N), pairs in sims.items():
        for i, (_, sim) in enumerate(pairs):
            data[f"simulation_{label.replace(' ', '_').replace('^', '')}_N{N}_set{i}"] = sim
    return Outcome(checks, data, fig, numbers)


# --- diffusion.memorisation --------------------------------------------------------------------------

def _null_variance(ds: xr.Dataset) -> np.ndarray:
    """Mean generated variance along the directions absent from the training data, per seed."""
    null = int(ds.null_dims.values[0])
    return ds.h.isel(mode=slice(ds.sizes["mode"] - null, None)).mean("mode").values


@claim("diffusion.memorisation",
       "For N < d (paper size d = 100, N = 50) the exact minimiser's DDPM collapses onto the affine span of the "
       "training data: "
       "the d - N + 1 absent directions keep only the final-step noise beta_1 = 1e-4 of variance (< 5% of the "
       "generated variance outside the span); ridge 0.1 and early stopping (GD, 100 steps) both prevent the collapse, "
       "raising that variance >= 100x and lowering the KL; simulated null-space variances match the exact theory "
       "within 5% and KLs sampled from the exact denoisers within 4 standard errors (hild.compare on replicates)",
       PAPERS)
def memorisation(size: str, progress: bool) -> Outcome:
    d, N, n, seeds = {"quick": (40, 20, 4000, 1), "paper": (100, 50, 20000, 2)}[size]
    lr = mp_lr(d, N, 0.1)
    cases = {"minimiser": (LinearDiffusion(d=d, N=N, lr=lr), "exact"),
             "ridge 0.1": (LinearDiffusion(d=d, N=N, lr=lr, ridge=0.1, steps=400, ema=0.99), "trained"),
             "early stopping": (LinearDiffusion(d=d, N=N, lr=lr, steps=100), "trained")}
    checks, data, numbers, nulls = [], {}, {}, {}
    beta1 = float(cases["minimiser"][0].beta[0])
    replicates = 10
    for name, (sc, denoiser) in cases.items():
        th = sc.theory(seeds=seeds, denoisers=False)
        sim = sc.simulate(seeds=seeds, denoiser=denoiser, n_samples=n, n_loss=0, progress=progress)
        h_th, h_sim = _null_variance(th), _null_variance(sim)
        # the generated law of these denoisers (exact: the minimiser, or the mean GD iterate), sampled
        pairs = replicated(sc, range(seeds), replicates, progress, denoiser="exact", n_samples=n // replicates,
                           n_loss=0)
        z = sampled_z(pairs, "kl")
        nulls[name] = (th, sim)
        checks += [at_most(f"{name}: max |null variance sampled ({denoiser} denoisers) / exact - 1|",
                            float(np.abs(h_sim / h_th - 1).max()), 0.05),
                   at_most(f"{name}: hild.compare |z| of the sampled KL (exact denoisers, {replicates} replicates "
                           f"of {n // replicates} samples per training set)", z, 4.0)]
        numbers.update({f"{name}: null-space variance (exact)": float(h_th.mean()),
                        f"{name}: null-space variance (sampled)": float(h_sim.mean()),
                        f"{name}: KL (exact)": float(th.kl.mean()), f"{name}: KL (sampled)": float(sim.kl.mean()),
                        f"{name}: KL (sampled, replicates of the exact denoisers)": float(
                            replicate_mean(pairs, "kl").mean()),
                        f"{name}: max |z| of the sampled KL": z,
                        f"{name}: generated variance outside the span (exact)": float(th.memorisation.mean()),
                        f"{name}: generated variance outside the span (sampled)": float(sim.memorisation.mean()),
                        f"{name}: nearest-training-point distance, generated / fresh target": float(
                            (sim.nn_distance / sim.nn_distance_test).mean())})
        data[f"theory_{name.replace(' ', '_')}"], data[f"simulation_{name.replace(' ', '_')}"] = th, sim
    th_min, sim_min = nulls["minimiser"]
    checks += [at_most("minimiser: null directions (d - rank Sigma_0) - (d - N + 1)",
                        float(np.abs(th_min.null_dims - (d - N + 1)).max()), 0.0),
               within("minimiser: exact null-space variance (the floor beta_1)", float(_null_variance(th_min).max()),
                       beta1, 0.01),
               at_most("minimiser: sampled fraction of generated variance outside the span",
                        float(sim_min.memorisation.max()), 0.05)]
    for name in ("ridge 0.1", "early stopping"):
        th, sim = nulls[name]
        raised = float((_null_variance(th) / _null_variance(th_min)).min())
        checks += [at_least(f"{name}: exact null-space variance / minimiser's", raised, 100.0),
                   at_most(f"{name}: sampled KL / minimiser's", float((sim.kl / sim_min.kl).max()), 1.0)]
    numbers["target variance outside the span (expected fraction)"] = (d - N + 1) / d
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(8.5, 3.2), constrained_layout=True)
        rank = np.arange(1, d + 1)
        a.plot(rank, th_min.lambda_true, "k--", lw=1.0, label=r"true $\Sigma$")
        empirical = th_min.lambda_hat.isel(seed=0)
        a.plot(rank, empirical.where(empirical > 0), color="0.6", lw=1.0,
               label=r"empirical $\Sigma_0$ (its zeros not drawn)")
        for k, (name, (th, sim)) in enumerate(nulls.items()):
            a.plot(rank, th.spectrum_generated.isel(seed=0), color=f"C{k}", lw=1.2, label=f"{name} (exact)")
            a.plot(rank, sim.spectrum_generated.isel(seed=0), "o", color=f"C{k}", ms=2)
        a.axhline(beta1, color="0.7", lw=0.8, ls=":")
        a.set(xlabel="rank", ylabel="generated eigenvalue", yscale="log",
              title=f"d = {d}, N = {N}: lines exact, dots sampled")
        a.legend(fontsize=6, loc="lower left", bbox_to_anchor=(0.0, 0.12))  # above the collapsed directions
        names = list(nulls)
        b.bar(np.arange(3) - 0.2, [float(nulls[k][0].kl.mean()) for k in names], 0.4, label="exact")
        b.bar(np.arange(3) + 0.2, [float(nulls[k][1].kl.mean()) for k in names], 0.4, label="sampled")
        b.set_xticks(np.arange(3), names)
        b.set(xlabel="denoiser", ylabel="KL(generated || target)", title="collapse costs KL")
        b.legend(fontsize=7)
    return Outcome(checks, data, fig, numbers)


# --- diffusion.transition ----------------------------------------------------------------------------

def steepest(ratios: np.ndarray, kl_per_d: np.ndarray) -> float:
    """N/d (geometric midpoint) of the steepest log-log descent of KL/d between neighbouring grid points."""
    slopes = np.diff(np.log(kl_per_d)) / np.diff(np.log(ratios))
    i = int(np.argmin(slopes))
    return float(np.sqrt(ratios[i] * ratios[i + 1]))


@claim("diffusion.transition",
       "Sweeping N/d from 1/8 to 8 (DDPM, exact linear denoisers, final-step noise beta_1): KL/d falls from the "
       "collapse cost ~ (1 - N/d) ln(1/beta_1)/2 to the Wishart law ~ d/(4N), steepest at N/d in [1/2, 2] in theory "
       "and in simulation; the training data leave exactly max(d - N + 1, 0) directions absent; sampled KLs match "
       "the exact ones within 4 standard errors", PAPERS)
def transition(size: str, progress: bool) -> Outcome:
    d, seeds, n, sim_seeds = {"quick": (16, 50, 4000, 1), "paper": (50, 100, 20000, 2)}[size]
    fine = 2.0 ** (np.arange(-6, 7) / 2)
    coarse = 2.0 ** np.arange(-3, 4)
    N_of = lambda r: max(1, int(round(r * d)))  # noqa: E731
    th_mean, th_sem, nulls_ok = [], [], True
    for r in fine:
        th = LinearDiffusion(d=d, N=N_of(r)).theory(seeds=seeds, denoisers=False)
        th_mean.append(float(th.kl.mean()) / d)
        th_sem.append(float(th.kl.std(ddof=1)) / np.sqrt(seeds) / d)
        nulls_ok &= bool(np.all(th.null_dims.values == max(d - N_of(r) + 1, 0)))
    th_mean, th_sem = np.array(th_mean), np.array(th_sem)
    replicates = 10
    sims, z = [], []
    for r in coarse:
        pairs = replicated(LinearDiffusion(d=d, N=N_of(r)), range(sim_seeds), replicates, progress,
                           denoiser="exact", n_samples=n // replicates, n_loss=0)
        sims.append(pairs)
        z.append(sampled_z(pairs, "kl"))
    sim_mean = np.array([float(replicate_mean(pairs, "kl").mean()) / d for pairs in sims])
    ratio_nn = np.array([float(np.mean([(s.nn_distance / s.nn_distance_test).mean() for _, s in pairs]))
                         for pairs in sims])
    at_th, at_sim = steepest(fine, th_mean), steepest(coarse, sim_mean)
    checks = [between("theory: N/d of the steepest log-log descent of KL/d", at_th, 0.5, 2.0),
              between("simulation: N/d of the steepest log-log descent of KL/d", at_sim, 0.5, 2.0),
              at_most("absent directions differ from max(d - N + 1, 0) (1 = yes)", float(not nulls_ok), 0.0),
              at_most(f"max over N of hild.compare's |z| of the sampled KL ({replicates} replicates of "
                      f"{n // replicates} samples per training set)", float(max(z)), 4.0)]
    numbers = {**{f"KL/d exact, N/d={r:.3g}": float(m) for r, m in zip(fine, th_mean)},
               **{f"KL/d sampled, N/d={r:.3g}": float(m) for r, m in zip(coarse, sim_mean)},
               **{f"nearest-training-point distance generated / fresh, N/d={r:.3g}": float(x)
                  for r, x in zip(coarse, ratio_nn)},
               "steepest descent N/d (theory)": at_th, "steepest descent N/d (simulation)": at_sim,
               "max |z| of the sampled KL": float(max(z))}
    with plt.rc_context(STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(8.5, 3.2), constrained_layout=True)
        a.fill_between(fine, th_mean - 2 * th_sem, th_mean + 2 * th_sem, color="C0", alpha=0.3, lw=0)
        a.plot(fine, th_mean, "-", color="C0", label=f"exact (mean of {seeds} training sets)")
        a.plot(coarse, sim_mean, "o", color="C1", ms=4, label="sampled")
        kl_law_axes(a, d, np.geomspace(1 + 1 / d, 8, 100))
        a.axvline(1.0, color="0.6", lw=0.8, ls=":")
        a.axvline(at_th, color="C0", lw=0.8, ls="--", label=f"steepest descent (exact), N/d = {at_th:.2g}")
        a.set(title=f"d = {d}: memorisation to generalisation")
        readable_log(a, "x")
        a.legend(fontsize=6)
        b.plot(coarse, ratio_nn, "o-", color="C1", ms=4, label="nearest training point: generated / fresh")
        b.plot(fine, [max(d - N_of(r) + 1, 0) / d for r in fine], "-", color="C0", label="absent directions / d")
        b.axvline(1.0, color="0.6", lw=0.8, ls=":")
        b.set(xscale="log", xlabel="N / d", ylabel="ratio", title="simulation: distance to the training set")
        readable_log(b, "x")
        b.legend(fontsize=6)
    data = {"theory_kl": xr.Dataset({"kl_per_d": ("ratio", th_mean), "kl_per_d_sem": ("ratio", th_sem)},
                                    coords={"ratio": fine}),
            **{f"simulation_N{N_of(r)}_set{i}": s for r, pairs in zip(coarse, sims) for i, (_, s) in enumerate(pairs)}}
    return Outcome(checks, data, fig, numbers)


# --- diffusion.train_test_gap ------------------------------------------------------------------------

def gap_without_mean(th: xr.Dataset, sc: LinearDiffusion) -> xr.DataArray:
    """The trace formula without the estimated-mean term, alpha_bar (1 - alpha_bar) tr A^-2 (Sigma - Sigma_0) at W*,
    for the fixed training set of `sc` (th: its theory)."""
    mom = sc.moments()
    ab = th.alpha_bar.values[:, None]
    A = ab * mom.lam_hat + 1 - ab
    sig = sc.target.quadratic(mom.V, 1)
    return xr.DataArray((ab[:, 0] * (1 - ab[:, 0])) * np.sum((sig - mom.lam_hat) / A ** 2, axis=1), dims="t",
                        coords={"t": th.t})


@claim("diffusion.train_test_gap",
       "The train/test gap of the minimiser, measured by Monte Carlo with fresh noise, follows the exact trace formula "
       "alpha_bar(1 - alpha_bar)[tr A^-2 (Sigma - Sigma_0) + mu_0^T A^-2 mu_0] (4 standard errors at every t, "
       "hild.compare on replicates; 2% summed over t), for N < d and N > d; without the estimated-mean term the "
       "formula misses it at N < d; the relative gap at t = 1 is >= 1000x larger for N < d", PAPERS)
def train_test_gap(size: str, progress: bool) -> Outcome:
    d, Ns, n_loss, seeds = {"quick": (20, (10, 80), 20000, 2), "paper": (100, (50, 400), 100000, 2)}[size]
    replicates = 20
    times = np.unique(np.round(np.geomspace(1, 1000, 13)).astype(int))
    checks, data, numbers, runs, relative_gap = [], {}, {}, {}, {}
    for N in Ns:
        sc = LinearDiffusion(d=d, N=N)
        th = sc.theory(seeds=seeds, denoisers=False)
        pairs = replicated(sc, range(seeds), replicates, progress, denoiser="exact", times=times, n_samples=0,
                           n_loss=n_loss // replicates)
        z = sampled_z(pairs, "gap")
        summed = max(float(abs(sim.gap.mean("seed").sum("t") / th_s.gap.sel(t=times).sum("t") - 1))
                     for th_s, sim in pairs)
        checks += [at_most(f"N = {N}: max over t and training sets of hild.compare's |z| of the measured gap "
                           f"({replicates} replicates of {n_loss // replicates} samples) against the formula", z, 4.0),
                   at_most(f"N = {N}: max over training sets of |sum_t measured gap / sum_t formula - 1|", summed,
                           0.02)]
        relative_gap[N] = float((th.gap.sel(t=1) / th.loss_train.sel(t=1)).mean())
        numbers.update({f"N={N}: max |z|": z, f"N={N}: summed gap relative error": summed,
                        f"N={N}: gap / train loss at t=1": relative_gap[N]})
        if N < d:
            old = [th_s.assign(gap=gap_without_mean(th_s, dataclasses.replace(sc, training_seed=s)))
                   for s, (th_s, _) in enumerate(pairs)]
            z_old = sampled_z(pairs, "gap", old)
            checks.append(at_least(f"N = {N}: hild.compare's |z| of the measured gap against the formula without "
                                   "the mean term", z_old, 4.0))
            numbers[f"N={N}: formula without mean term, max |z|"] = z_old
            numbers[f"N={N}: formula without mean term, summed relative error"] = max(
                float(abs(sim.gap.mean("seed").sum("t") / o.gap.sel(t=times).sum("t") - 1))
                for o, (_, sim) in zip(old, pairs))
        runs[N] = pairs[0]
        data[f"theory_N{N}"] = th
        data.update({f"simulation_N{N}_set{i}": sim for i, (_, sim) in enumerate(pairs)})
    lo, hi = min(Ns), max(Ns)
    checks.append(at_least(f"gap / train loss at t = 1: N = {lo} over N = {hi}", relative_gap[lo] / relative_gap[hi],
                            1000.0))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(Ns), figsize=(8.5, 3.2), constrained_layout=True)
        for ax, N in zip(axes, Ns):
            th, sim = runs[N]
            sem = sim.gap.std("seed", ddof=1) / np.sqrt(sim.sizes["seed"])
            ax.plot(th.t, th.gap, color="C0", lw=1.2, zorder=3, label=r"$L_{test} - L_{train}$: trace formula")
            ax.plot(th.t, th.loss_train, color="0.6", lw=1.0, label=r"$L_{train}$ (exact)")
            ax.errorbar(sim.t, sim.gap.mean("seed"), yerr=2 * sem, fmt="o", color="C1", ms=3, capsize=1.5, zorder=2,
                        label=f"Monte Carlo, {sim.sizes['seed']} replicates (± 2 standard errors)")
            ax.set(xscale="log", yscale="log", xlabel="diffusion step t", ylabel="loss",
                   title=f"d = {d}, N = {N}, training set 0")
        axes[0].legend(fontsize=7)
    return Outcome(checks, data, fig, numbers)
