"""The task-diversity threshold of a pretrained transformer (Raventos, Paul, Chen, Ganguli, arXiv 2306.15063):
`icl.transformer_threshold`, at d = 8, K = 16, sigma^2 = 0.25.

Transformers are pretrained at pool sizes M = 2^j (several seeds, one compiled call: `transformer.train`) and
tested on new tasks; the distance of their error to each Bayes reference is
D_ref(M) = (1/K) sum_k |log(MSE_k / MSE_ref,k)|, with dMMSE and ridge measured on the same test sequences. M* is
where D_dMMSE - D_ridge turns from negative (dMMSE-like) to positive (ridge-like), interpolated in log2 M, per seed.

The paper's transformer (the authors' configuration: 8 layers, width 128, 2 heads, batch 256, Adam lr 1e-3 with a
triangle schedule over 500k steps) crosses over at M* of order 2^13 at this setting (read from the paper's figures,
not from a table: a coarse value). That is 1.3 10^8 sequences per run; hild's paper size is that configuration,
for a GPU machine (hild's nominal estimate about 9 10^17 operations for the grid of 11 M x 2 seeds; not run here).

What the CPU quick size reaches (2 layers, width 32, 1500 steps of 64 sequences: 10^5 sequences per run, about
3 minutes on one core for 5 M x 2 seeds) is far short of the pretraining the threshold needs: the claim checks the
dMMSE-like side and reports its distances, rather than locating a threshold it cannot see.
"""
from __future__ import annotations

import numpy as np

from hild.claims import Outcome, at_least, at_most, between, claim
from hild.core import lazy
from hild.families.icl.task_diversity import TaskDiversity
from hild.families.icl.transformer import Transformer, train

xr = lazy.module("xarray")

SETTING = {"d": 8, "K": 16, "noise": 0.5}
SIZES = {"quick": {"exponents": (0, 3, 6, 9, 12), "seeds": (0, 1), "sequences": 1024,
                   "model": {"layers": 2, "width": 32, "heads": 2, "steps": 1500, "batch": 64, "lr": 2e-3}},
         "paper": {"exponents": tuple(range(0, 21, 2)), "seeds": (0, 1), "sequences": 4096,
                   "model": {"layers": 8, "width": 128, "heads": 2, "steps": 500_000, "batch": 256, "lr": 1e-3}}}
"""Pool sizes M = 2^j, seeds, test sequences per run, and the transformer at each size."""
PAPER_M_STAR = 2.0 ** 13
"""The paper's threshold at d = 8, K = 16, sigma^2 = 0.25 (order of magnitude, from its figures)."""


def distances(errors) -> tuple[np.ndarray, np.ndarray]:
    """D_dMMSE and D_ridge on new tasks, (seeds, M), from `train`'s errors (M, seeds, 3, 2, K)."""
    new = errors[:, :, :, 1]  # (M, seeds, 3, K)
    to = lambda ref: np.mean(np.abs(np.log(new[:, :, 0] / new[:, :, ref])), -1).T  # noqa: E731
    return to(1), to(2)


def crossover(log2_M, gap) -> float | None:
    """The first log2 M where `gap` = D_dMMSE - D_ridge turns from < 0 to >= 0, linearly interpolated; None if it
    never does on the grid (or starts ridge-like)."""
    for i in range(len(gap) - 1):
        if gap[i] < 0 <= gap[i + 1]:
            return float(log2_M[i] + (log2_M[i + 1] - log2_M[i]) * -gap[i] / (gap[i + 1] - gap[i]))
    return None


@claim("icl.transformer_threshold",
       "A transformer pretrained on in-context regression with M tasks (d = 8, K = 16, sigma^2 = 0.25) behaves like "
       "dMMSE on new tasks below a task-diversity threshold M* (of order 2^13 in the paper) and like ridge above it. "
       "At hild's CPU quick size (10^5 pretraining sequences, 1300 times fewer than the paper) the transformer "
       "learns the one-task posterior mean at M = 1 (dMMSE) but, for M >= 8, no in-context regression at all: its "
       "error on new tasks stays at the error of predicting 0 (E y^2 = d + sigma^2), so the threshold is beyond a CPU "
       "budget, and the quick size checks and reports exactly that; the paper size (the authors' configuration, "
       "GPU) checks M* in [2^11, 2^15]",
       ("2306.15063",))
def transformer_threshold(size: str, progress: bool) -> Outcome:
    spec = SIZES[size]
    M = np.array([2 ** j for j in spec["exponents"]])
    seeds, sequences = list(spec["seeds"]), spec["sequences"]
    largest = Transformer(**SETTING, M=int(M.max()), **spec["model"])
    largest.admit("simulate", sequences=sequences, seeds=len(M) * len(seeds))  # refuses what cannot run here
    errors, losses = train(largest.architecture, SETTING["noise"], M, seeds, steps=spec["model"]["steps"],
                           batch=spec["model"]["batch"], lr=spec["model"]["lr"], sequences=sequences)
    to_dmmse, to_ridge = distances(errors)
    log2_M = np.log2(M)
    per_seed = [crossover(log2_M, g) for g in to_dmmse - to_ridge]
    found = [m for m in per_seed if m is not None]
    mean_gap = (to_dmmse - to_ridge).mean(0)
    m_star = crossover(log2_M, mean_gap)
    new = errors[:, :, 0, 1]  # the transformer on new tasks (M, seeds, K)
    null = SETTING["d"] + SETTING["noise"] ** 2  # the error of predicting 0: E |w|^2 + sigma^2
    numbers = {f"D_dMMSE at M = 2^{j}": float(a) for j, a in zip(spec["exponents"], to_dmmse.mean(0))}
    numbers.update({f"D_ridge at M = 2^{j}": float(b) for j, b in zip(spec["exponents"], to_ridge.mean(0))})
    numbers.update({f"transformer MSE / predict-zero MSE, new tasks, k = K, M = 2^{j}": float(v)
                    for j, v in zip(spec["exponents"], new[:, :, -1].mean(1) / null)})
    numbers.update({f"final training loss at M = 2^{j}": float(v)
                    for j, v in zip(spec["exponents"], losses[:, :, -max(1, losses.shape[-1] // 10):].mean((1, 2)))})
    numbers["log2 M* (seed mean of the distances)"] = float("nan") if m_star is None else m_star
    numbers["seeds with a crossover on the grid"] = float(len(found))
    if found:
        numbers["log2 M*: spread over seeds (max - min)"] = float(max(found) - min(found))
    numbers["log2 M* of the paper (order of magnitude)"] = float(np.log2(PAPER_M_STAR))
    numbers["parameters"] = float(largest.parameters_count())
    numbers["pretraining sequences per run"] = float(spec["model"]["steps"] * spec["model"]["batch"])
    checks = [at_most("M = 1: D_dMMSE (the transformer learned the one-task posterior mean)",
                      float(to_dmmse[:, 0].max()), 0.1),
              at_least("M = 1: D_ridge - D_dMMSE (dMMSE-like at the smallest M)",
                       float((to_ridge - to_dmmse)[:, 0].min()), 0.5)]
    if size == "quick":
        checks.append(at_least("quick size: transformer MSE / predict-zero MSE on new tasks at k = K, min over "
                               "M >= 8 (no in-context learning at this budget)",
                               float((new[1:, :, -1].mean(1) / null).min()), 0.9))
    else:
        checks.append(between("log2 M* (seed mean)", float("nan") if m_star is None else m_star, 11.0, 15.0))
        checks.append(at_least("largest M: D_dMMSE - D_ridge (ridge-like)", float(mean_gap[-1]), 0.0))
    theories = TaskDiversity.theory_batch([TaskDiversity(**SETTING, M=int(m)) for m in M], samples=1024)
    sims = {int(m): Transformer(**SETTING, M=int(m), **spec["model"]).dataset(errors[i], losses[i], seeds, sequences)
            for i, m in enumerate(M)}
    data = {"simulation": xr.concat(list(sims.values()), "M", coords="minimal", compat="override",
                                    combine_attrs="override").assign_coords(M=M),
            "references": theories.assign_coords(M=("scenario", M)),
            "distances": xr.Dataset({"D_dmmse": (("seed", "M"), to_dmmse), "D_ridge": (("seed", "M"), to_ridge)},
                                    coords={"seed": seeds, "M": M})}
    return Outcome(checks, data=data, figure=_figure(M, sims, theories, to_dmmse, to_ridge, m_star, found, size),
                   numbers=numbers)


def _figure(M, sims, theories, to_dmmse, to_ridge, m_star, found, size):
    from hild.families.icl.figure import reference_distances, transformer_positions
    from hild.plot import STYLE, plt

    shown = [int(m) for m in M[:: max(1, len(M) // 3)]]
    refs = {m: theories.isel(scenario=int(np.flatnonzero(M == m)[0])) for m in shown}
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(11.5, 3.6), constrained_layout=True)
    transformer_positions(refs, {m: sims[m] for m in shown}, axes=axes[:2],
                          title=f"d = 8, K = 16, $\\sigma^2$ = 0.25, {size} size: transformer (solid), dMMSE (dashed), "
                                "ridge (dotted)")
    null = SETTING["d"] + SETTING["noise"] ** 2
    for ax in axes[:2]:
        ax.axhline(null, color="0.5", lw=0.8, ls="-.", zorder=0)
        ax.annotate("predicting 0", (1, null), xytext=(0, 2), textcoords="offset points", fontsize=6, color="0.4")
        ax.xaxis.get_major_locator().set_params(integer=True)
    band = (2.0 ** min(found), 2.0 ** max(found)) if len(found) > 1 else None
    reference_distances(M, to_dmmse, to_ridge, None if m_star is None else 2.0 ** m_star, band, ax=axes[2],
                        title="new tasks" + ("" if m_star is not None else ": no crossover on the grid"))
    return fig
