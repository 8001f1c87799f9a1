"""L2-regularised linear autoencoders (Kunin, Bloom, Goeva, Seed, arXiv 1901.08168).

Data X (d x n), encoder W1 (k x d), decoder W2 (d x k), and (normalisation used throughout)

    L(W1, W2) = ||X - W2 W1 X||_F^2 / n + lam (||W1||_F^2 + ||W2||_F^2)
              = tr[(I - W2 W1) S (I - W2 W1)^T] + lam (||W1||^2 + ||W2||^2),   S = X X^T / n = U diag(s) U^T,

so s_i here is the paper's sigma_i^2 divided by n (the paper has no 1/n). Gradients:
dL/dW1 = -2 W2^T (I - W2 W1) S + 2 lam W1, dL/dW2 = -2 (I - W2 W1) S W1^T + 2 lam W2. At every critical point
W1 W1^T = W2^T W2 (subtract W1 (dL/dW1)^T from (dL/dW2)^T W2) and in fact W1 = W2^T (the paper's transpose
theorem). Critical points: W2 = U_I diag(sqrt(1 - lam/s_i)) O^T, W1 = W2^T for an index set I of at most k
directions with s_i > lam (zero columns otherwise), O orthogonal; the global minimum takes the top k,

    W2 W1 = U_k diag(1 - lam / s_i)_+ U_k^T,   L* = tr S - sum_{i <= k, s_i > lam} (s_i - lam)^2 / s_i,

and the other critical points are saddles. Per mode with W1 = W2^T and singular value x: s (1 - x^2)^2 + 2 lam x^2,
minimal at x^2 = 1 - lam / s [derived here]. `simulate` runs full-batch gradient descent on L in a `lax.scan`,
vmapped over seeds (float64).

The scenario `LinearAutoencoder` (model `deep_linear.autoencoder`) compares, along the axis `mode`
(i = 1 .. k), the singular values of W2 and the eigenvalues of W2 W1 after GD with the closed-form
minimum of the population covariance diag(spectrum); its size parameter is `n_samples`, the number of
Gaussian samples GD trains on (None: the population covariance itself), whose empirical minimum
approaches the population one as O(n_samples^-1/2).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array
from hild.core.divergence import check as check_divergence

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")
scipy_linalg = lazy.module("scipy.linalg")

CONVENTION = "W <- W - lr dL/dW, L with the 1/n normalisation; t = lr * step (Kunin et al., arXiv 1901.08168)"


def data_with_spectrum(spectrum, n_samples: int, seed: int = 0) -> np.ndarray:
    """X (d x n) with X X^T / n = U diag(spectrum) U^T exactly, U a seeded random orthogonal matrix.

    **Arguments:** `spectrum`: d finite numbers >= 0; `n_samples`: n (an integer >= d); `seed` (>= 0, default 0).

    **Returns:** X, a float64 array (d, n_samples)."""
    s = np.asarray(spectrum, float)
    if s.ndim != 1 or s.size < 1 or not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError(f"spectrum must be a vector of finite numbers >= 0; got {np.asarray(spectrum).tolist()!r}")
    d = s.size
    n_samples = check.integer("n_samples", n_samples, d)
    seed = check.integer("seed", seed, 0)
    rng = np.random.default_rng([seed, 1901])
    U, _ = np.linalg.qr(rng.standard_normal((d, d)))
    V, _ = np.linalg.qr(rng.standard_normal((n_samples, d)))
    return U @ np.diag(np.sqrt(n_samples * s)) @ V.T


def _cov(cov) -> np.ndarray:
    cov = np.asarray(cov, float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square matrix; got shape {cov.shape}")
    return check.covariance("cov", cov, cov.shape[0])


def _args(cov, lam, k):
    cov = _cov(cov)
    lam = check.real("lam", lam, minimum=0.0)
    k = check.integer("k", k, 1)
    if k > cov.shape[0]:
        raise ValueError(f"k must be an integer in [1, d = {cov.shape[0]}]; got {k}")
    return cov, lam, k


def loss(W1, W2, cov, lam: float) -> float:
    """L = tr[(I - W2 W1) S (I - W2 W1)^T] + lam (||W1||^2 + ||W2||^2).

    **Arguments:** `W1` (k, d), `W2` (d, k); `cov`: S (d, d); `lam`: the weight decay. **Returns:** L, a float."""
    R = np.eye(cov.shape[0]) - np.asarray(W2) @ np.asarray(W1)
    return float(np.trace(R @ cov @ R.T) + lam * (np.sum(np.asarray(W1) ** 2) + np.sum(np.asarray(W2) ** 2)))


def gradients(W1, W2, cov, lam: float):
    """(dL/dW1, dL/dW2) = (-2 W2^T (I - W2 W1) S + 2 lam W1, -2 (I - W2 W1) S W1^T + 2 lam W2).

    **Arguments:** `W1` (k, d), `W2` (d, k): arrays; `cov`: S (d, d); `lam`. **Returns:** two arrays shaped as
    W1, W2."""
    R = np.eye(cov.shape[0]) - W2 @ W1
    return -2 * W2.T @ R @ cov + 2 * lam * W1, -2 * R @ cov @ W1.T + 2 * lam * W2


def critical_point(cov, lam: float, k: int, subset=None, rotation=None):
    """(W1, W2) of the critical point on eigen-directions `subset` (indices into the eigenvalues sorted
    descending; default the top k: the global minimum), W2 = U_I diag(sqrt((1 - lam/s_i)_+)) O^T, W1 = W2^T,
    with O = `rotation` (k x k orthogonal, default I).

    **Arguments:** `cov`: S (d, d), symmetric PSD; `lam` (>= 0); `k` (in [1, d]); `subset`: at most k distinct
    indices in [0, d); `rotation`: None or an orthogonal (k, k) matrix.

    **Returns:** (W1 (k, d), W2 (d, k)), float64."""
    cov, lam, k = _args(cov, lam, k)
    s, U = np.linalg.eigh(cov)
    s, U = s[::-1], U[:, ::-1]
    idx = list(range(k)) if subset is None else [int(i) for i in subset]
    if len(idx) > k or len(set(idx)) != len(idx) or any(i < 0 or i >= s.size for i in idx):
        raise ValueError(f"subset must be at most k = {k} distinct indices in [0, {s.size - 1}]; got {list(subset)!r}")
    W2 = np.zeros((s.size, k))
    for col, i in enumerate(idx):
        if s[i] > lam:
            W2[:, col] = U[:, i] * np.sqrt(1 - lam / s[i])
    if rotation is not None:
        O = check.matrix("rotation", rotation, (k, k))
        if not np.allclose(O.T @ O, np.eye(k), atol=1e-10):
            raise ValueError("rotation must be an orthogonal k x k matrix")
        W2 = W2 @ O.T
    return W2.T.copy(), W2


def global_minimum(cov, lam: float, k: int) -> dict:
    """The closed-form global minimum: W1, W2 (O = I), the product W2 W1, the singular values
    sqrt((1 - lam/s_i)_+) of W2, the principal directions U_k and L*.

    **Arguments:** `cov`: S (d, d), symmetric PSD; `lam` (>= 0); `k` (in [1, d]).

    **Returns:** a dict: `W1` (k, d), `W2` (d, k), `product` (d, d), `singular_values` (k,), `directions` (d, k),
    `eigenvalues` (d,, descending), `loss` (a float)."""
    cov, lam, k = _args(cov, lam, k)
    W1, W2 = critical_point(cov, lam, k)
    s, U = np.linalg.eigh(cov)
    s, U = s[::-1], U[:, ::-1]
    top = s[:k]
    shrink = np.sqrt(np.clip(1 - lam / np.where(top > 0, top, np.inf), 0, None)) * (top > lam)
    L_star = float(np.trace(cov) - np.sum(np.where(top > lam, (top - lam) ** 2 / np.where(top > 0, top, 1), 0)))
    return {"W1": W1, "W2": W2, "product": W2 @ W1, "singular_values": shrink, "directions": U[:, :k],
            "eigenvalues": s, "loss": L_star}


def measures(W1, W2, cov, lam: float, k: int) -> dict:
    """How far (W1, W2) is from the global minimum: ||W1 - W2^T|| / ||W2||, the worst relative error of the
    singular values of W2 against sqrt(1 - lam/s_i), the largest principal angle (degrees) between the left
    singular subspace of W2 and the top-k PCA subspace, ||W2 W1 - U_k diag(1 - lam/s) U_k^T|| / ||.||, and
    L - L*.

    **Arguments:** `W1` (k, d), `W2` (d, k); `cov`, `lam`, `k`: as in `global_minimum`.

    **Returns:** a dict of floats: `transpose_gap`, `singular_value_error`, `principal_angle_deg`,
    `product_error`, `loss_gap`."""
    gm = global_minimum(cov, lam, k)
    W1, W2 = np.asarray(W1, float), np.asarray(W2, float)
    Ul, sv, _ = np.linalg.svd(W2, full_matrices=False)
    live = gm["singular_values"] > 0
    return {"transpose_gap": float(np.linalg.norm(W1 - W2.T) / np.linalg.norm(W2)),
            "singular_value_error": float(np.max(np.abs(sv[live] - gm["singular_values"][live])
                                                 / gm["singular_values"][live])),
            "principal_angle_deg": float(np.degrees(scipy_linalg.subspace_angles(Ul[:, live],
                                                                                 gm["directions"][:, live]).max())),
            "product_error": float(np.linalg.norm(W2 @ W1 - gm["product"]) / np.linalg.norm(gm["product"])),
            "loss_gap": loss(W1, W2, cov, lam) - gm["loss"]}


def _one(W1, W2, cov, lam, lr, per: int, n_rec: int):
    eye = jnp.eye(cov.shape[0])

    def step(carry, _):
        W1, W2 = carry
        R = eye - W2 @ W1
        g1, g2 = -2 * W2.T @ R @ cov + 2 * lam * W1, -2 * R @ cov @ W1.T + 2 * lam * W2
        return (W1 - lr * g1, W2 - lr * g2), None

    def record(carry, _):
        carry, _ = jax.lax.scan(step, carry, None, length=per)
        W1, W2 = carry
        R = eye - W2 @ W1
        L = jnp.trace(R @ cov @ R.T) + lam * (jnp.sum(W1 ** 2) + jnp.sum(W2 ** 2))
        return carry, (L, jnp.linalg.norm(W1 - W2.T) / jnp.linalg.norm(W2))

    (W1, W2), (Ls, gaps) = jax.lax.scan(record, (W1, W2), None, length=n_rec)
    return W1, W2, Ls, gaps


@functools.lru_cache(maxsize=8)
def _runner(per: int, n_rec: int):
    return jax.jit(jax.vmap(functools.partial(_one, per=per, n_rec=n_rec), in_axes=(0, 0, 0, None, None)))


def simulate(cov, lam: float, k: int, lr: float = 0.01, steps: int = 5000, seeds: int = 1, seed: int = 0,
             init_scale: float = 0.1, n_points: int = 101) -> xr.Dataset:
    """Full-batch GD on L from independent Gaussian starts W1, W2 ~ init_scale N(0, 1/d) (NumPy PCG64 seeded by
    each integer seed seed, seed + 1, ...). Records the loss and ||W1 - W2^T|| / ||W2|| at n_points times
    t = lr * step, and the final W1 (seed, k, i), W2 (seed, i, k).

    **Arguments:** `cov` (d, d), symmetric PSD; `lam` (>= 0); `k` (in [1, d]); `lr` (> 0, default 0.01); `steps`
    (>= 1, default 5000); `seeds` (>= 1), `seed` (>= 0); `init_scale` (> 0, default 0.1); `n_points` (>= 2).

    **Returns:** a Dataset: `loss`, `transpose_gap` (seed, t), `W1` (seed, k, i), `W2` (seed, i, k), `diverged`
    (seed)."""
    cov, lam, k = _args(cov, lam, k)
    lr = check.real("lr", lr, minimum=0.0, strict_minimum=True)
    steps = check.integer("steps", steps, 1)
    seeds = check.integer("seeds", seeds, 1)
    seed = check.integer("seed", seed, 0)
    init_scale = check.real("init_scale", init_scale, minimum=0.0, strict_minimum=True)
    n_points = check.integer("n_points", n_points, 2)
    seed_list = list(range(seed, seed + seeds))
    ds = _gd(np.stack([cov] * seeds), lam, k, lr, steps, seed_list, init_scale, n_points)
    from hild import __version__
    return ds.assign_attrs(model="deep_linear.autoencoder", kind="simulation", hild_version=__version__,
                           params=json.dumps({"lam": lam, "k": k, "lr": lr, "steps": int(ds.attrs["steps"]),
                                              "d": cov.shape[0], "init_scale": init_scale}),
                           convention=CONVENTION, seeds=seed_list, dtype="float64", paper="arXiv 1901.08168")


def _gd(covs, lam, k, lr, steps, seed_list, init_scale, n_points) -> xr.Dataset:
    """GD from each seed's Gaussian start on its own covariance covs[j]: loss and transpose gap over t, final W1, W2."""
    d = covs.shape[-1]
    per = max(1, steps // (n_points - 1))
    n_rec = max(1, steps // per)
    inits = [np.random.default_rng([s, 1901]).standard_normal((2, k, d)) * init_scale / np.sqrt(d) for s in seed_list]
    with jax.enable_x64(True):
        W1, W2, Ls, gaps = _runner(per, n_rec)(jnp.asarray(np.stack([w[0] for w in inits])),
                                             jnp.asarray(np.stack([w[1].T for w in inits])),
                                             jnp.asarray(covs), lam, lr)
        W1, W2, Ls, gaps = (np.asarray(a, np.float64) for a in (W1, W2, Ls, gaps))
    ts = lr * per * np.arange(1, n_rec + 1)
    return xr.Dataset({"loss": (("seed", "t"), Ls), "transpose_gap": (("seed", "t"), gaps),
                       "W1": (("seed", "k", "i"), W1), "W2": (("seed", "i", "k"), W2),
                       "diverged": (("seed",), ~np.isfinite(Ls).all(axis=1))},
                      coords={"seed": seed_list, "t": ts}, attrs={"steps": per * n_rec})


def hessian_min_eigenvalue(W1, W2, cov, lam: float) -> float:
    """Smallest eigenvalue of the Hessian of L in (W1, W2) (float64, by jax.hessian): < 0 at a saddle.

    **Arguments:** `W1` (k, d), `W2` (d, k); `cov`: S (d, d); `lam`. **Returns:** the eigenvalue, a float."""
    cov = _cov(cov)
    W1, W2 = np.asarray(W1, float), np.asarray(W2, float)
    k, d = W1.shape
    with jax.enable_x64(True):
        S = jnp.asarray(cov)

        def f(p):
            A, B = p[:k * d].reshape(k, d), p[k * d:].reshape(d, k)
            R = jnp.eye(d) - B @ A
            return jnp.trace(R @ S @ R.T) + lam * (jnp.sum(A ** 2) + jnp.sum(B ** 2))

        H = np.asarray(jax.hessian(f)(jnp.concatenate([jnp.ravel(W1), jnp.ravel(W2)])))
    return float(np.linalg.eigvalsh((H + H.T) / 2).min())


@register
@dataclass(frozen=True, kw_only=True)
class LinearAutoencoder(Scenario):
    """An L2-regularised linear autoencoder x -> W2 W1 x (d -> k -> d) trained by full-batch GD.

    spectrum: the eigenvalues of the population covariance S = diag(spectrum) (d values >= 0);
    k: the bottleneck width (1 .. d); lam: the weight decay (>= 0); lr: GD's learning rate;
    init_scale: the starts W1, W2 ~ init_scale N(0, 1/d). Theory: the closed-form global minimum
    (Kunin et al., arXiv 1901.08168) along the axis `mode`; simulation: GD after `steps` steps.

    Axis `mode` (1 .. k); size `n_samples`; variables `singular_value` (mode), `product_eigenvalue` (mode),
    `loss`, `transpose_gap`.

    **Arguments:** `spectrum` (d finite numbers >= 0, default (4, 3, 2, 1, 0.5, 0.25)); `k` (integer in [1, d],
    default 2); `lam` (>= 0, default 0.2); `lr` (> 0, default 0.02); `init_scale` (> 0, default 0.1).
    """

    spectrum: Any = (4.0, 3.0, 2.0, 1.0, 0.5, 0.25)
    k: int = 2
    lam: float = 0.2
    lr: float = 0.02
    init_scale: float = 0.1

    model = "deep_linear.autoencoder"
    axis = "mode"
    size = "n_samples"
    units = ()
    sweepable = ("lam", "lr", "init_scale")  # not k: it sets the length of the axis
    convention = CONVENTION
    divergence = Blowup(("singular_value", "product_eigenvalue"), 1e6)
    description = "Regularised linear autoencoders: closed-form minimum (shrunk PCA) vs GD"
    papers = ("1901.08168",)

    def __post_init__(self):
        try:
            s = np.atleast_1d(np.asarray(self.spectrum, float))
        except (TypeError, ValueError):
            raise ValueError(f"spectrum must be finite numbers >= 0; got {self.spectrum!r}") from None
        if s.ndim != 1 or s.size < 1 or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError(f"spectrum must be finite numbers >= 0; got {self.spectrum!r}")
        object.__setattr__(self, "spectrum", tuple(s.tolist()))
        k = check.integer("k", self.k, 1)
        if k > s.size:
            raise ValueError(f"k must be an integer in [1, d = {s.size}]; got {k}")
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "lam", check.real("lam", self.lam, minimum=0.0))
        object.__setattr__(self, "lr", check.real("lr", self.lr, minimum=0.0, strict_minimum=True))
        object.__setattr__(self, "init_scale", check.real("init_scale", self.init_scale, minimum=0.0,
                                                          strict_minimum=True))

    @classmethod
    def example(cls) -> "LinearAutoencoder":
        """d = 6, k = 2, lam = 0.2, lr = 0.02. **Arguments:** none. **Returns:** a `LinearAutoencoder`."""
        return cls(spectrum=(4.0, 3.0, 2.0, 1.0, 0.5, 0.25), k=2, lam=0.2, lr=0.02, init_scale=0.1)

    @property
    def cov(self) -> np.ndarray:
        """The population covariance diag(spectrum)."""
        return np.diag(self.spectrum)

    def _dataset(self, sv, eig, loss, gap, run_dims) -> xr.Dataset:
        dims = run_dims + ("mode",)
        return xr.Dataset({"singular_value": (dims, sv), "product_eigenvalue": (dims, eig),
                           "loss": (run_dims, loss), "transpose_gap": (run_dims, gap)},
                          coords={"mode": np.arange(1, self.k + 1)})

    def theory(self) -> xr.Dataset:
        """The global minimum of the population loss: singular values sqrt((1 - lam/s_i)_+) of W2, eigenvalues
        (1 - lam/s_i)_+ of W2 W1 (i = 1 .. k, s sorted descending), L* and ||W1 - W2^T|| / ||W2|| = 0.

        **Arguments:** none.

        **Returns:** a Dataset over `mode`: `singular_value`, `product_eigenvalue` (mode), `loss`, `transpose_gap`
        (scalars), with `diverged`, `mode_diverged` (never set)."""
        gm = global_minimum(self.cov, self.lam, self.k)
        sv = gm["singular_values"]
        ds = self._dataset(sv, sv ** 2, gm["loss"], 0.0, ())
        return check_divergence(ds, "mode", self.divergence).assign_attrs(
            self.provenance("theory", dtype="float64", method="closed form (Kunin et al. 2019)"))

    def theory_needs(self, **_) -> list[Need]:
        """The covariance diag(spectrum) and the d x d eigenvector matrices and products of the closed form
        (d = len(spectrum)); two eigendecompositions of about 10 d^3 operations."""
        d = len(self.spectrum)
        return [Need("the d x d covariance, eigenvectors and products", ("spectrum",), 3 * array(d, d),
                     operations=20.0 * d ** 3)]

    def check_simulation(self, **arguments) -> None:
        super().check_simulation(**arguments)
        self._run_arguments(**arguments)

    def simulation_needs(self, n_samples, seeds, steps, **_) -> list[Need]:
        """Every seed's covariance (host and device) and GD state, one seed's n_samples x d draw; each GD step
        costs about 2 (d^3 + 4 k d^2) operations per seed (R S is d x d times d x d)."""
        d, k = len(self.spectrum), self.k
        n = 0 if n_samples is None else n_samples
        return [Need("every seed's covariance (host and device) and the GD state d x d", ("seeds", "spectrum"),
                     6 * array(seeds, d, d)),
                Need("one seed's training inputs", ("n_samples", "spectrum"), 2 * array(d, n)),
                Need("the final weights and measures", ("seeds",), array(seeds, 2 * k * d + 2 * k + 4), result=True),
                Need("the GD steps", ("steps", "seeds", "spectrum"),
                     operations=2.0 * seeds * steps * (d ** 3 + 4 * k * d * d)),
                Need("the covariances of the training inputs", ("n_samples", "seeds"),
                     operations=2.0 * seeds * n * d * d)]

    def _run_arguments(self, n_samples=None, seeds=1, seed=0, steps=2000):
        d = len(self.spectrum)
        n = None if n_samples is None else check.integer("n_samples", n_samples, d)
        return n, check.integer("seeds", seeds, 1), check.integer("seed", seed, 0), check.integer("steps", steps, 1)

    def covariances(self, n_samples: int | None, seed_list) -> np.ndarray:
        """Each seed's covariance X X^T / n of n_samples Gaussian samples x ~ N(0, S) (PCG64 seeded by
        [seed, 1901, 1]), or S itself for n_samples None; (seeds, d, d)."""
        S = self.cov
        if n_samples is None:
            return np.stack([S] * len(seed_list))
        root = np.sqrt(np.asarray(self.spectrum))[:, None]
        out = []
        for s in seed_list:
            X = root * np.random.default_rng([s, 1901, 1]).standard_normal((len(self.spectrum), n_samples))
            out.append(X @ X.T / n_samples)
        return np.stack(out)

    def simulate(self, *, n_samples: int | None = None, seeds: int = 1, seed: int = 0,
                 steps: int = 2000) -> xr.Dataset:
        """Full-batch GD for `steps` steps on the loss of n_samples Gaussian samples (None: the population
        covariance), from seeded Gaussian starts (as `simulate` of this module), float64.

        **Arguments:** `n_samples` (the size parameter: None or an integer >= d), `seeds` (>= 1), `seed` (>= 0),
        `steps` (>= 1, default 2000).

        **Returns:** per seed, the singular values of W2 and the top-k eigenvalues of the symmetric part
        of W2 W1 (seed, mode), and the final loss on the population covariance and ||W1 - W2^T|| / ||W2||
        (seed), the final `W1` (seed, k, i) and `W2` (seed, i, k), with `diverged`, `mode_diverged`."""
        n, seeds, seed, steps = self._run_arguments(n_samples, seeds, seed, steps)
        seed_list = list(range(seed, seed + seeds))
        run = _gd(self.covariances(n, seed_list), self.lam, self.k, self.lr, steps, seed_list, self.init_scale, 2)
        W1, W2 = run.W1.values, run.W2.values
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(W1).all(axis=(1, 2)) & np.isfinite(W2).all(axis=(1, 2))
            sv = np.full((seeds, self.k), np.nan)
            eig = np.full((seeds, self.k), np.nan)
            for j in np.flatnonzero(finite):
                sv[j] = np.linalg.svd(W2[j], compute_uv=False)
                P = W2[j] @ W1[j]
                eig[j] = np.linalg.eigvalsh((P + P.T) / 2)[::-1][:self.k]
            loss_pop = np.array([loss(W1[j], W2[j], self.cov, self.lam) for j in range(seeds)])
            gap = np.linalg.norm(W1 - np.swapaxes(W2, 1, 2), axis=(1, 2)) / np.linalg.norm(W2, axis=(1, 2))
        ds = self._dataset(sv, eig, loss_pop, gap, ("seed",)).assign_coords(seed=seed_list)
        ds["W1"], ds["W2"] = run.W1, run.W2
        size = {} if n is None else {"size": n}
        attrs = self.provenance("simulation", dtype="float64", seeds=seed_list, steps=int(run.attrs["steps"]), **size)
        if n is None:
            attrs.update(size=self.size, n_samples="population")
        return check_divergence(ds, "mode", self.divergence).assign_attrs(attrs)

    def figure(self, theory, simulation, title: str = ""):
        """Singular values of W2 and eigenvalues of W2 W1 per mode: closed form as bars, GD seed means with +-1 sd."""
        from hild.families.deep_linear.figure import lines_figure
        return lines_figure(theory, simulation, {"singular_value": r"singular value of $W_2$",
                                                 "product_eigenvalue": r"eigenvalue of $W_2 W_1$"}, "mode",
                            title=title or f"linear autoencoder d = {len(self.spectrum)}, k = {self.k}, λ = {self.lam:g}")
