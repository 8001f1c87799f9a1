"""Phase (trainability) diagrams from the layer map, vectorised over a grid, with simulated points on top.

rank_entropy: over (beta, alpha_A) (Giorlandino & Goldt, arXiv 2505.24333): after L blocks of the post-LN map from
cosine p0, a point is in rank collapse when the cosine reaches `collapse` (default 0.9), in entropy collapse when
it is not and the last block's attention entropy is at most `frozen` ln T (finite-T REM at the last block's
input cosine; default 0.5), and propagates the signal otherwise. The asymptotic freezing line beta = beta_c(c_L)
is returned too. Simulated points (`rank_entropy_points`) are classified by the same rules from the measured cosine
and entropy.

order_chaos: over two of (alpha_A, alpha_M, sigma_w2, sigma_v2) (Cowsik et al., arXiv 2403.02579): the angle
exponent lambda_a and gradient exponent lambda_g (hild.signal_prop.geometry); simulated points
(`order_chaos_points`) measure lambda_a by finite differences (4 blocks from cosine 0.99) and lambda_g as the
gradient growth rate from the attractor.

Each diagram is one vectorised call of the layer map over the whole grid (`layer_map` calls `block` L times,
whatever the grid's size); the same theory over any grid of sweepable fields is a theory sweep
(`hild sweep signal_prop --grid beta=... --grid alpha_A=...`, batched by `RandomTransformer.theory_batch`).
Every function returns a Dataset with the grid's axes as dimensions.
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy
from hild.families.signal_prop import rem
from hild.families.signal_prop.geometry import attractor, exponents
from hild.families.signal_prop.simulate import run_points
from hild.families.signal_prop.theory import layer_map

xr = lazy.module("xarray")

PHASES = ("propagates", "rank collapse", "entropy collapse")
AXES = ("alpha_A", "alpha_M", "sigma_w2", "sigma_v2")


def _classify(cos_final, entropy_ratio, collapse, frozen):
    return np.where(cos_final >= collapse, 1, np.where(entropy_ratio <= frozen, 2, 0))


def subgrid(values, n: int) -> np.ndarray:
    """n values of `values`, evenly spread from the first to the last (fewer if values has fewer).

    **Arguments:** `values`: a 1-d sequence; `n` (>= 1): how many to keep.

    **Returns:** a NumPy array of at most n of the values, in their order."""
    values = np.asarray(values)
    return values[np.unique(np.linspace(0, len(values) - 1, n).round().astype(int))]


def rank_entropy(sc, betas, alphas, collapse: float = 0.9, frozen: float = 0.5) -> xr.Dataset:
    """The theory's phases over the (beta, alpha_A) grid of the scenario `sc` (its other hyper-parameters, L, T,
    norm, MLP), in one vectorised call of the layer map.

    **Returns:** a Dataset over (beta, alpha_A): cos_final, entropy_ratio (finite-T REM, last block), beta_c (at
    the last block's input cosine) and phase (an index into PHASES)."""
    B, A = np.meshgrid(np.asarray(betas, float), np.asarray(alphas, float), indexing="ij")
    out = layer_map({**sc.hyper, "beta": B, "alpha_A": A}, sc.T, sc.L, sc.p0, sc.norm, sc.mlp_or_none,
                    gradients=False)
    c_last = out["c_att"][-1]
    H = rem.finite_rem(B, c_last, sc.T)[0] / np.log(sc.T)
    dims, coords = ("beta", "alpha_A"), {"beta": np.asarray(betas, float), "alpha_A": np.asarray(alphas, float)}
    return xr.Dataset({"cos_final": (dims, out["cos"][-1]), "entropy_ratio": (dims, H),
                       "beta_c": (dims, rem.beta_c(c_last)),
                       "phase": (dims, _classify(out["cos"][-1], H, collapse, frozen))},
                      coords=coords, attrs={**sc.provenance("phase theory", dtype="float64"),
                                            "phases": ", ".join(PHASES), "collapse": collapse, "frozen": frozen})


def rank_entropy_points(sc, betas, alphas, collapse: float = 0.9, frozen: float = 0.5, seeds: int = 2,
                        seed: int = 0, d: int | None = None) -> xr.Dataset:
    """The real stack at every (beta, alpha_A) of the crossed grid (use `subgrid` for a few points), classified by
    the rules of `rank_entropy` from the seed means of the measured final cosine and last block's entropy.

    **Returns:** a Dataset over (beta, alpha_A): cos_final, entropy_ratio, phase."""
    bs, als = np.asarray(betas, float), np.asarray(alphas, float)
    Bs, As = np.meshgrid(bs, als, indexing="ij")
    res = run_points(sc, {"beta": Bs.ravel(), "alpha_A": As.ravel()}, seeds=seeds, seed=seed, d=d)
    last = res.isel(layer=-1).mean("seed")
    cos_final = last["cos"].values.reshape(Bs.shape)
    H = last["entropy_ratio"].values.reshape(Bs.shape)
    dims = ("beta", "alpha_A")
    d = sc.d if d is None else d
    return xr.Dataset({"cos_final": (dims, cos_final), "entropy_ratio": (dims, H),
                       "phase": (dims, _classify(cos_final, H, collapse, frozen))}, coords={"beta": bs, "alpha_A": als},
                      attrs={**sc.provenance("phase simulation", dtype="float32", seeds=range(seed, seed + seeds),
                                             size=d), "phases": ", ".join(PHASES)})


def _axes(x: str, y: str) -> None:
    for name in (x, y):
        if name not in AXES:
            raise ValueError(f"phase axes must be two of {', '.join(AXES)}; got {name!r}")
    if x == y:
        raise ValueError(f"phase axes must differ; got {x!r} twice")


def order_chaos(sc, x: str, xs, y: str, ys) -> xr.Dataset:
    """lambda_a, lambda_g and the attractor cosine c_star over the (x, y) grid (post-LN), vectorised.

    **Returns:** a Dataset over (x, y) with lambda_a, lambda_g, c_star."""
    _axes(x, y)
    X, Y = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float), indexing="ij")
    ex = exponents({**sc.hyper, x: X, y: Y}, sc.T, sc.mlp_or_none, sc.norm)
    dims, coords = (x, y), {x: np.asarray(xs, float), y: np.asarray(ys, float)}
    return xr.Dataset({k: (dims, v) for k, v in ex.items()}, coords=coords,
                      attrs=sc.provenance("phase theory", dtype="float64"))


def order_chaos_points(sc, x: str, xs, y: str, ys, seeds: int = 2, seed: int = 0, d: int | None = None) -> xr.Dataset:
    """The simulated exponents at every (x, y) of the crossed grid (use `subgrid` for a few points): lambda_a, the
    log slope of 1 - cosine over the first 4 blocks from cosine 0.99, and lambda_g, minus the log slope of the
    gradient ratio over depth started at the theory's attractor (capped at 0.999), in one simulation.

    **Returns:** a Dataset over (x, y) with lambda_a, lambda_g."""
    _axes(x, y)
    px, py = np.asarray(xs, float), np.asarray(ys, float)
    Px, Py = np.meshgrid(px, py, indexing="ij")
    c_star = attractor({**sc.hyper, x: Px, y: Py}, sc.T, sc.mlp_or_none)
    n = Px.size
    points = {x: np.tile(Px.ravel(), 2), y: np.tile(Py.ravel(), 2),
              "p0": np.concatenate([np.full(n, 0.99), np.minimum(c_star.ravel(), 0.999)])}
    res = run_points(sc, points, seeds=seeds, seed=seed, d=d).mean("seed")
    eps = 1 - res["cos"].values[:n, :min(5, sc.L + 1)]
    lam_a = np.array([np.polyfit(np.arange(eps.shape[1]), np.log(e), 1)[0] for e in eps])
    g = res["grad_ratio"].values[n:]
    lam_g = np.array([-np.polyfit(np.arange(sc.L + 1), np.log(r), 1)[0] for r in g])
    d = sc.d if d is None else d
    return xr.Dataset({"lambda_a": ((x, y), lam_a.reshape(Px.shape)), "lambda_g": ((x, y), lam_g.reshape(Px.shape))},
                      coords={x: px, y: py},
                      attrs=sc.provenance("phase simulation", dtype="float32", seeds=range(seed, seed + seeds),
                                          size=d))


def figure(theory: xr.Dataset, simulation: xr.Dataset | None = None, title: str = ""):
    """The phase map: rank_entropy phases with the freezing line, or lambda_a with its zero lines (lambda_a = 0
    solid, lambda_g = 0 dashed); simulated points on top (same colours, or filled by the sign of lambda_a).

    **Arguments:** `theory`: a `rank_entropy` or `order_chaos` Dataset; `simulation`: the matching `*_points`
    Dataset or None; `title`.

    **Returns:** a matplotlib Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from hild.plot import STYLE

    x, y = theory.cos_final.dims if "phase" in theory else theory.lambda_a.dims
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.0, 3.8), constrained_layout=True)
        X, Y = np.meshgrid(theory[x], theory[y], indexing="ij")
        if "phase" in theory:
            cmap = ListedColormap(["#9ecae1", "#fdae6b", "#a1d99b"])
            ax.pcolormesh(X, Y, theory.phase.values, cmap=cmap, vmin=-0.5, vmax=2.5, shading="nearest")
            ax.contour(X, Y, theory[x].values[:, None] - theory.beta_c.values, levels=[0], colors="k",
                       linewidths=1, linestyles="--")
            if simulation is not None:
                Sx, Sy = np.meshgrid(simulation[x], simulation[y], indexing="ij")
                ax.scatter(Sx, Sy, c=simulation.phase.values, cmap=cmap, vmin=-0.5, vmax=2.5, edgecolors="k", s=30)
            handles = [plt.Rectangle((0, 0), 1, 1, facecolor=cmap(k), edgecolor="k", lw=0.5) for k in range(3)]
            ax.legend(handles, PHASES, fontsize=6, loc="upper right", ncol=1, framealpha=0.8)
            ax.set_title(title or r"phases after L blocks; dashed: $\beta = \beta_c(c_L)$", fontsize=8)
        else:
            lim = float(np.nanmax(np.abs(theory.lambda_a)))
            mesh = ax.pcolormesh(X, Y, theory.lambda_a.values, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="nearest")
            fig.colorbar(mesh, ax=ax, label=r"$\lambda_a$")
            for name, style in (("lambda_a", "-"), ("lambda_g", "--")):
                z = theory[name].values
                if np.nanmin(z) < 0 < np.nanmax(z):
                    ax.contour(X, Y, z, levels=[0], colors="k", linewidths=1, linestyles=style)
            if simulation is not None:
                Sx, Sy = np.meshgrid(simulation[x], simulation[y], indexing="ij")
                ax.scatter(Sx, Sy, c=simulation.lambda_a.values, cmap="RdBu_r", vmin=-lim, vmax=lim,
                           edgecolors="k", s=30)
            ax.set_title(title or r"$\lambda_a = 0$ (solid), $\lambda_g = 0$ (dashed); dots: simulation", fontsize=8)
        ax.set(xlabel=x, ylabel=y)
    return fig
