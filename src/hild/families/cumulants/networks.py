"""Two-layer networks against random features on the spiked cumulant task (Székely, Bardone, Gerace & Goldt,
arXiv 2312.14922): how many samples n each learner needs, as n ~ d^theta.

Task: labels y = +1 or -1 with equal probability; y = +1 draws x from the spiked model
(`spiked_cumulant`: the spike only in the cumulants of order >= 4, Cov x = I; or its contrast
`spiked_wishart`: the spike in the covariance), y = -1 draws x ~ N(0, I_d).
Learner: f(x) = sum_k a_k relu(w_k . x / sqrt(d) + b_k) / sqrt(m) + c with m = width hidden units.
- network: every parameter trained on the logistic loss log(1 + exp(-y f(x))) by Adam (learning rate lr,
  betas 0.9, 0.999) for `steps` mini-batches of `batch` samples drawn with replacement from the n
  training samples (steps * batch / n epochs): the same step budget for every n.
- random_features: (w_k, b_k) frozen at their initial values, the readout (a, c) the ridge regression
  of y on the features phi = (relu(w_k . x / sqrt(d) + b_k), 1):
      (a, c) = (Phi^T Phi / n + ridge I)^-1 Phi^T y / n      (all m + 1 weights penalised).
Initialisation: w_k ~ N(0, I_d), b_k ~ N(0, 1), a_k ~ N(0, 1), c = 0; the same for both learners.
Prediction sign f(x); accuracy on n_test fresh samples.

Expected thresholds (the paper's theory): the spiked cumulant is distinguishable in polynomial time only
from n ~ d^2 samples (low-degree bound), which two-layer networks reach, while random features with
m ~ d features stay at chance there; the spiked Wishart needs n ~ d for both. Samples are nested
(the first n of one training set per seed) and runs are vmapped over seeds and over the n grid:
one compiled call for a whole experiment (all d: inputs zero-padded to the largest d, extra hidden units
switched off, which leaves every network unchanged). Float32.

Experimental choices are hild's, not read from the paper (its experimental section could not be consulted):
width 4 d, ReLU, Adam lr 0.03, batch 128, a fixed budget of Adam steps, ridge 1e-2, beta = 10 (spiked cumulant;
also models.md) and 5 (spiked Wishart). `bayes_accuracy` gives every learner's ceiling: 0.715 and 0.703.
"""
from __future__ import annotations

import functools
import json

import numpy as np

from hild import __version__
from hild.analysis.thresholds import exponent
from hild.core import lazy
from hild.core import validation as check
from hild.families.cumulants.data import check_spike, isotropic, spike, spiked_cumulant, spiked_wishart
from hild.progress import progress_bar

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

TASKS = ("spiked_cumulant", "spiked_wishart")
NETWORK_LEARNERS = ("network", "random_features")
SCALING = {"spiked_cumulant": 2, "spiked_wishart": 1}  # the paper's sample complexity exponent: n ~ d^theta
CONVENTION = ("f(x) = sum_k a_k relu(w_k.x/sqrt(d) + b_k)/sqrt(m) + c; network: logistic loss, Adam(lr, 0.9, 0.999) "
              "on `steps` mini-batches drawn with replacement from the n samples; random_features: (w, b) frozen "
              "at init, ridge readout (Phi^T Phi/n + ridge I)^-1 Phi^T y/n on labels +-1 (arXiv 2312.14922)")


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    return task


@lazy.jit(static_argnames=("task", "n"))
def _labelled(task: str, key, n: int, u, beta):
    k_y, k_spiked, k_null = jax.random.split(key, 3)
    y = jax.random.rademacher(k_y, (n,), jnp.float32)
    sampler = spiked_cumulant if task == "spiked_cumulant" else spiked_wishart
    x = jnp.where(y[:, None] > 0, sampler(k_spiked, n, u, beta), isotropic(k_null, n, len(u)))
    return x, y


def labelled(task: str, key, n: int, u, beta: float) -> tuple[jax.Array, jax.Array]:
    """n samples (x, y): y = +-1 with equal probability, x from the spiked model (y = +1) or N(0, I) (y = -1).

    **Arguments:** `task`; `key`; `n` (>= 1); `u` (d,): the unit spike; `beta` (> 0).

    **Returns:** (x, y): JAX arrays (n, d) and (n,)."""
    beta = check.real("beta", beta, 0.0, strict_minimum=True)
    return _labelled(check_task(task), key, check.integer("n", n, 1), check_spike(u).astype(jnp.float32), beta)


def init(key, d: int, width: int) -> dict:
    """w_k ~ N(0, I_d), b_k ~ N(0, 1), a_k ~ N(0, 1), c = 0."""
    k_w, k_b, k_a = jax.random.split(key, 3)
    return {"w": jax.random.normal(k_w, (width, d)), "b": jax.random.normal(k_b, (width,)),
            "a": jax.random.normal(k_a, (width,)), "c": jnp.zeros(())}


@lazy.jit
def features(params: dict, x: jax.Array, d=None, active=None) -> jax.Array:
    """relu(w_k . x / sqrt(d) + b_k), shape (n, m); d defaults to x.shape[-1]. active: an optional 0/1 mask of
    the hidden units in use (padding: inputs of dimension d zero-padded, hidden units beyond the width off)."""
    d = x.shape[-1] if d is None else d
    phi = jax.nn.relu(x @ params["w"].T / jnp.sqrt(d) + params["b"])
    return phi if active is None else phi * active


@lazy.jit
def forward(params: dict, x: jax.Array, d=None, active=None) -> jax.Array:
    """f(x) = sum_k a_k relu(w_k . x / sqrt(d) + b_k) / sqrt(m) + c, m the number of active hidden units."""
    m = params["a"].shape[0] if active is None else jnp.sum(active)
    return features(params, x, d, active) @ params["a"] / jnp.sqrt(m) + params["c"]


def _adam(params, x, y, n, key, steps: int, batch: int, lr, d=None, active=None):
    """Adam on the logistic loss, mini-batches drawn with replacement from the first n rows of (x, y)."""
    grad = jax.grad(lambda p, x, y: jnp.mean(jax.nn.softplus(-y * forward(p, x, d, active))))
    zeros = jax.tree.map(jnp.zeros_like, params)

    def step(state, t):
        p, m1, m2 = state
        idx = jax.random.randint(jax.random.fold_in(key, t), (batch,), 0, n)
        g = grad(p, x[idx], y[idx])
        m1 = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m1, g)
        m2 = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, m2, g)
        k = (t + 1).astype(jnp.float32)
        p = jax.tree.map(lambda p, m, v: p - lr * (m / (1 - 0.9 ** k)) / (jnp.sqrt(v / (1 - 0.999 ** k)) + 1e-8),
                         p, m1, m2)
        return (p, m1, m2), None

    (params, _, _), _ = jax.lax.scan(step, (params, zeros, zeros), jnp.arange(steps))
    return params


def train_network(params: dict, x: jax.Array, y: jax.Array, key, steps: int = 2000, batch: int = 128,
                  lr: float = 0.03) -> dict:
    """params after `steps` Adam steps (lr, betas 0.9, 0.999) on the logistic loss log(1 + exp(-y f(x))),
    mini-batches of `batch` samples drawn with replacement from the rows of x.

    **Arguments:** `params`: the initial parameters; `x` (n, d), `y` (n,) in {-1, 1}; `key`: the mini-batches';
    `steps`, `batch` (>= 1); `lr` (> 0).

    **Returns:** the trained parameters (a dict)."""
    steps, batch = check.integer("steps", steps, 1), check.integer("batch", batch, 1)
    lr = check.real("lr", lr, 0.0, strict_minimum=True)
    return jax.jit(_adam, static_argnums=(5, 6))(params, x, y, x.shape[0], key, steps, batch, lr)


@lazy.jit
def ridge_readout(params: dict, x: jax.Array, y: jax.Array, ridge, n=None, d=None, active=None) -> dict:
    """params with (a, c) replaced by the ridge regression of y on phi = (features, 1) over the first n rows
    (default all): (Phi^T Phi / n + ridge I)^-1 Phi^T y / n, a rescaled by sqrt(m) so that forward() = Phi (a, c).

    **Arguments:** `params`: the network's; `x` (N, d), `y` (N,); `ridge` (> 0); `n`: the rows used (default
    all); `d`, `active`: the padded problem's live dimension and units (default all).

    **Returns:** the new parameters (a dict)."""
    n = x.shape[0] if n is None else n
    phi = jnp.concatenate([features(params, x, d, active), jnp.ones((x.shape[0], 1), x.dtype)], axis=1)
    mask = (jnp.arange(x.shape[0]) < n).astype(x.dtype)
    gram = (phi * mask[:, None]).T @ phi / n + ridge * jnp.eye(phi.shape[1], dtype=x.dtype)
    theta = jnp.linalg.solve(gram, phi.T @ (mask * y) / n)
    m = params["a"].shape[0] if active is None else jnp.sum(active)
    return {**params, "a": theta[:-1] * jnp.sqrt(m), "c": theta[-1]}


@functools.lru_cache(maxsize=16)
def _runner(steps: int, batch: int):
    """One compiled call for the whole experiment: over d (lax.map; inputs zero-padded to the largest d, hidden
    units beyond width_factor d switched off), vmapped over seeds and the n grid. Returns accuracy, overlap and
    finite, each (learner, d, seed, n): both learners from the same initialisation."""

    def evaluate(params, u, x_test, y_test, d, active):
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(params)]))
        accuracy = jnp.mean(jnp.sign(forward(params, x_test, d, active)) == y_test)
        overlap = jnp.max(active * jnp.abs(params["w"] @ u) / jnp.linalg.norm(params["w"], axis=1))
        return accuracy, overlap, finite

    def per_seed(key, x, y, u, x_test, y_test, n, d, active, lr, ridge):
        params = init(jax.random.fold_in(key, 2), x.shape[1], active.shape[0])
        params["w"] = params["w"] * (jnp.arange(x.shape[1]) < d)  # padded input coordinates carry no weight
        adam = jax.vmap(lambda n: _adam(params, x, y, n, jax.random.fold_in(key, 3), steps, batch, lr, d, active))
        ridge_fit = lambda n: ridge_readout(params, x, y, ridge, n, d, active)  # noqa: E731
        score = jax.vmap(lambda p: evaluate(p, u, x_test, y_test, d, active))
        # the network vmapped over n; the readouts one n at a time (each holds an n_max x m feature matrix)
        return jax.tree.map(lambda a, b: jnp.stack([a, b]), score(adam(n)), score(jax.lax.map(ridge_fit, n)))

    over_seeds = jax.vmap(per_seed, in_axes=(0,) * 6 + (None,) * 5, out_axes=-2)

    def over_d(keys, x, y, u, x_test, y_test, n, d, active, lr, ridge):  # one d at a time: memory / len(d)
        out = jax.lax.map(lambda a: over_seeds(*a, lr, ridge), (keys, x, y, u, x_test, y_test, n, d, active))
        return jax.tree.map(lambda v: jnp.moveaxis(v, 0, 1), out)

    return jax.jit(over_d)


def check_grid(name: str, values, kind: str) -> np.ndarray:
    """An increasing 1-d grid of positive numbers (integers when kind is 'iu')."""
    arr = np.atleast_1d(np.asarray(values))
    if (arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in kind or not np.all(np.isfinite(arr))
            or arr.min() <= 0 or np.any(np.diff(arr) <= 0)):
        what = "integers >= 1" if kind == "iu" else "positive numbers"
        raise ValueError(f"{name} must be increasing {what}; got {np.asarray(values).tolist()!r}")
    return arr


def classification(task: str, d=(8, 12, 16), c=(1, 2, 4, 8, 16, 32), seeds: int = 4, seed: int = 0,
                   beta: float = 10.0, width_factor: int = 4, steps: int = 2000, batch: int = 128, lr: float = 0.03,
                   ridge: float = 1e-2, n_test: int = 4000, progress: bool = False) -> xr.Dataset:
    """The sample-complexity experiment: both learners at every d, trained on n = round(c d^p) samples,
    p = SCALING[task] (2 for the spiked cumulant, 1 for the spiked Wishart), width = width_factor d, the same
    Adam step budget for every n and d. Seeds are integers seed, seed + 1, ...: the spike u = spike(d, s), the
    data (nested: the first n of one training set), the initialisation and the mini-batches all follow from
    (s, d), independent across d. One compiled call for the whole grid.

    Variables (learner, d, c, seed): accuracy (on n_test fresh samples; NaN when diverged), overlap
    (max_k |w_k . u| / |w_k|: the best hidden unit's alignment with the spike; at initialisation for random
    features), diverged. Coordinate n (d, c).

    **Arguments:** `task`: "spiked_cumulant" or "spiked_wishart"; `d`: the dimensions; `c`: the sample
    multipliers; `seeds` (>= 1), `seed` (>= 0); `beta` (> 0); `width_factor` (>= 1); `steps`, `batch` (>= 1), `lr`
    (> 0): Adam's; `ridge` (> 0): the random features' readout; `n_test` (>= 1); `progress`.

    **Returns:** the Dataset described above."""
    check_task(task)
    ds = check_grid("d", d, "iu")
    cs = check_grid("c", c, "iuf").astype(float)
    if ds.min() < 2:
        raise ValueError(f"d must be integers >= 2; got {ds.tolist()!r}")
    seeds, seed = check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
    beta = check.real("beta", beta, 0.0, strict_minimum=True)
    width_factor = check.integer("width_factor", width_factor, 1)
    steps, batch = check.integer("steps", steps, 1), check.integer("batch", batch, 1)
    lr = check.real("lr", lr, 0.0, strict_minimum=True)
    ridge = check.real("ridge", ridge, 0.0, strict_minimum=True)
    n_test = check.integer("n_test", n_test, 1)
    power = SCALING[task]
    n = np.maximum(np.round(cs[None, :] * ds[:, None].astype(float) ** power), 1).astype(int)
    if np.any(np.diff(n, axis=1) <= 0):
        raise ValueError(f"c must give distinct sample sizes n = round(c d^{power}) at every d; got n = {n.tolist()}")
    d_max, n_max = int(ds[-1]), int(n.max())
    keys, u, x, y = [], [], [], []
    with progress_bar(f"{task}: data", len(ds) * seeds, enabled=progress) as advance:
        for dim in ds:
            pad = (jnp.arange(d_max) < dim).astype(jnp.float32)
            for s in range(seed, seed + seeds):
                # sampled in d_max dimensions with the spike padded by zeros, then the padded coordinates zeroed:
                # exactly the d-dimensional model (its whitening acts on span(u) only)
                key = jax.random.fold_in(jax.random.key(s), int(dim))  # independent runs at every (d, seed)
                us = jnp.zeros(d_max).at[:dim].set(spike(int(dim), s))
                xs, ys = labelled(task, jax.random.fold_in(key, 0), n_max + n_test, us, beta)
                keys.append(key)
                u.append(us)
                x.append(xs * pad)
                y.append(ys)
                advance(1)
    shape = (len(ds), seeds)
    keys, u, x, y = (jnp.stack(a).reshape(shape + a[0].shape) for a in (keys, u, x, y))
    active = (jnp.arange(width_factor * d_max)[None, :] < width_factor * jnp.asarray(ds)[:, None]).astype(jnp.float32)
    acc, overlap, finite = _runner(steps, batch)(keys, x[:, :, :n_max], y[:, :, :n_max], u, x[:, :, n_max:],
                                                 y[:, :, n_max:], jnp.asarray(n, jnp.int32),
                                                 jnp.asarray(ds, jnp.float32), active, jnp.float32(lr),
                                                 jnp.float32(ridge))
    finite = np.asarray(finite)
    data = {"accuracy": np.where(finite, np.asarray(acc, np.float64), np.nan),
            "overlap": np.where(finite, np.asarray(overlap, np.float64), np.nan), "diverged": ~finite}
    dims = ("learner", "d", "c", "seed")
    params = {"task": task, "beta": beta, "width_factor": width_factor, "steps": steps, "batch": batch, "lr": lr,
              "ridge": ridge, "n_test": n_test, "scaling": power}
    return xr.Dataset({k: (dims, v.transpose(0, 1, 3, 2)) for k, v in data.items()},
                      coords={"learner": list(NETWORK_LEARNERS), "d": ds, "c": cs,
                              "seed": np.arange(seed, seed + seeds),
                              "n": (("d", "c"), n)}).assign_attrs(
        model="cumulants.classification", params=json.dumps(params), hild_version=__version__,
        convention=CONVENTION, dtype="float32", seeds=list(range(seed, seed + seeds)))


def bayes_accuracy(task: str, beta: float) -> float:
    """Accuracy of the optimal test that knows the spike u (Rademacher latent for the spiked cumulant): the
    likelihood ratio depends on s = x . u only, so it is (1/2) int max(p_+(s), p_-(s)) ds with p_- = N(0, 1) and
    p_+ = N(0, 1 + beta) (spiked Wishart) or (1/2)[N(mu, 1/(1+beta)) + N(-mu, 1/(1+beta))], mu^2 = beta/(1+beta)
    (spiked cumulant). The ceiling of every learner, at every n and d.

    **Arguments:** `task`: "spiked_cumulant" or "spiked_wishart"; `beta` (> 0).

    **Returns:** the accuracy (float, in [1/2, 1])."""
    check_task(task)
    beta = check.real("beta", beta, 0.0, strict_minimum=True)
    s = np.linspace(-12.0, 12.0, 200_001) * np.sqrt(1.0 + beta)
    normal = lambda s, mean, var: np.exp(-(s - mean) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)  # noqa: E731
    if task == "spiked_wishart":
        spiked = normal(s, 0.0, 1.0 + beta)
    else:
        mu, var = np.sqrt(beta / (1 + beta)), 1 / (1 + beta)
        spiked = 0.5 * (normal(s, mu, var) + normal(s, -mu, var))
    return float(0.5 * np.trapezoid(np.maximum(spiked, normal(s, 0.0, 1.0)), s))


def fit_exponent(accuracy: xr.DataArray, level: float, n_boot: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> xr.Dataset:
    """theta in n*(d) ~ d^theta from accuracies (d, c, seed) with coordinate n (d, c): hild.analysis.thresholds.
    exponent with the crossing method (n* where the seed-mean accuracy first reaches `level`, linear in log n),
    theta the least-squares slope of ln n* against ln d, its interval the percentile bootstrap over seeds.

    **Returns:** the Dataset of `exponent`: n_star (d), theta, theta_low, theta_high, unresolved (the fraction of
    resamples that lose a threshold; the interval is NaN when it exceeds (1 - confidence) / 2), ..."""
    level = check.real("level", level, 0.0, 1.0)
    have = accuracy.sizes.get("d", 0)
    if have < 3:
        raise ValueError(f"accuracy must hold at least 3 values of d to fit an exponent; got {have}")
    return exponent(accuracy, level, "crossing", boot=n_boot, confidence=confidence, seed=seed)
