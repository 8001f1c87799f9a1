"""Claims of the modified flow of gradient descent (implicit gradient regularisation, Barrett & Dherin,
arXiv 2009.11162): GD follows the flow of L + (lr/4)|grad L|^2 to O(lr^2), plain gradient flow only to O(lr)."""
from __future__ import annotations

import numpy as np

from hild.analysis import fit_power_law
from hild.claims import Outcome, at_most, claim, within
from hild.core import lazy
from hild.families.implicit.scenarios import ModifiedFlow
from hild.plot import STYLE, plt

xr = lazy.module("xarray")

PAPERS = ("2009.11162",)
SIZES = {"quick": ((0.2, 0.1, 0.05, 0.025), 2), "paper": ((0.2, 0.1, 0.05, 0.025, 0.0125), 8)}
"""(learning rates, seeds): the starts theta0 = 0.5 z of the seeds, K = 4, target 1, up to t = lr x steps = 4."""
T_MAX = 4.0


@claim("modified_flow.second_order",
       "Gradient descent on a two-layer linear factorisation (K = 4, L = (a.b - 1)^2/2) stays within O(lr^2) of the "
       "modified flow of L + (lr/4)|grad L|^2 and only within O(lr) of gradient flow: the largest distance "
       "max_{t <= 4, seeds} |theta_GD - theta_flow| fitted against lr has exponent 2 +- 0.15 for the modified flow and "
       "1 +- 0.1 for gradient flow, and the modified flow is closer at every lr", PAPERS)
def second_order(size: str, progress: bool) -> Outcome:
    lrs, seeds = SIZES[size]
    rows = []
    data = {}
    for lr in lrs:
        scenario = ModifiedFlow(K=4, target=1.0, lr=lr, scale=0.5)
        steps = round(T_MAX / lr)
        sim = scenario.simulate(steps=steps, seeds=seeds, n_points=5)
        modified, plain = [], []
        for s in sim.seed.values:
            th = scenario.theory(steps=steps, n_points=5, seed=int(s))
            gd = sim.theta.sel(seed=s).values
            modified.append(np.abs(gd - th.theta.values).max())
            plain.append(np.abs(gd - th.theta_gradient_flow.values).max())
        rows.append((max(modified), max(plain)))
        data[f"simulation_lr{lr:g}"] = sim
    errors = np.array(rows)
    slope_mf, se_mf, _ = fit_power_law(lrs, errors[:, 0])
    slope_gf, se_gf, _ = fit_power_law(lrs, errors[:, 1])
    checks = [within("exponent of max |theta_GD - theta_modified| in lr", slope_mf, 2.0, 0.075),
              within("exponent of max |theta_GD - theta_gradient_flow| in lr", slope_gf, 1.0, 0.1),
              at_most("max over lr of error_modified / error_gradient_flow", float(np.max(errors[:, 0] / errors[:, 1])),
                      1.0)]
    numbers = {"exponent, modified flow": slope_mf, "exponent, modified flow: standard error": se_mf,
               "exponent, gradient flow": slope_gf, "exponent, gradient flow: standard error": se_gf}
    for lr, (m, g) in zip(lrs, errors):
        numbers[f"lr {lr:g}: error modified flow"] = float(m)
        numbers[f"lr {lr:g}: error gradient flow"] = float(g)
    data["errors"] = xr.Dataset({"error_modified": ("lr", errors[:, 0]), "error_gradient_flow": ("lr", errors[:, 1])},
                                coords={"lr": list(lrs)}, attrs={"dtype": "float64", "seeds": seeds, "t_max": T_MAX})
    return Outcome(checks, data, _figure(lrs, errors, slope_mf, slope_gf, seeds), numbers)


def _figure(lrs, errors, slope_mf, slope_gf, seeds):
    lrs = np.asarray(lrs)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 3.6), constrained_layout=True)
        ax.plot(lrs, errors[:, 1], "o-", color="C0", label=f"gradient flow (fit lr^{slope_gf:.2f})")
        ax.plot(lrs, errors[:, 0], "s-", color="C3", label=f"modified flow (fit lr^{slope_mf:.2f})")
        ax.plot(lrs, errors[0, 1] * lrs / lrs[0], ":", color="0.5", lw=0.8, label="lr^1, lr^2 guides")
        ax.plot(lrs, errors[0, 0] * (lrs / lrs[0]) ** 2, ":", color="0.5", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="max |theta_GD - theta_flow|, t <= 4",
               title=f"GD on (a.b - 1)^2 / 2, K = 4, {seeds} starts")
        ax.set_xticks(lrs, [f"{lr:g}" for lr in lrs])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.legend(fontsize=7)
    return fig
