"""The real algorithm at finite d: GD on the denoising score-matching loss with fresh noise, then sampling.

Training (JAX): for every diffusion step t the affine predictor eps = W_t x + b_t starts at 0 and takes
`steps` GD steps on the loss of hild.diffusion.scenario, its gradient taken by jax.grad on N x draws
fresh noise vectors per step (keys folded from (seed, t, step)); a `lax.scan` over steps (records),
vmapped over a chunk of diffusion steps, `lax.map` over the chunks: one compiled call per seed.
Sampling: a `lax.scan` over t = T..1 of the DDPM or DDIM step on n_samples points at once, in the
eigenbasis of the empirical covariance (where the theory's denoisers are diagonal: O(n d) a step),
recording the mean and variance of the points along it after every step (`h_sampling`, `mean_sampling`).
Measurements (float64 on the host): the generated mean and covariance, their KL to the target
corrected for the bias of fitting a Gaussian to n samples (the digamma formula at n), the fraction of
generated variance outside the affine span of the training data, the distance of samples to their
nearest training point (and, for reference, of fresh target samples), and Monte Carlo train and test
losses with fresh noise. Float32 by default: the comparisons with the exact theory hold to its rounding.
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import lazy
from hild.core import validation as check
from hild.families.diffusion.data import REFERENCE, TEST, Moments
from hild.families.diffusion.schedule import alpha_bar, one_minus_alpha_bar
from hild.families.diffusion.theory import (denoiser_modes, gaussian_kl, gd_modes, kl_expected, noise_variance)
from hild.progress import progress_bar

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

DENOISERS = ("trained", "exact")
BUDGET = 2 ** 22  # floats in one step's noise batch across a chunk of diffusion steps

DIMS = {"lambda_hat": ("mode",), "null_dims": (), "w": ("t", "mode"), "w_offdiag": ("t",),
        "b_norm": ("t",), "w_path": ("step", "t", "mode"), "w_offdiag_path": ("step", "t"),
        "b_norm_path": ("step", "t"),
        "loss_train": ("t",), "loss_train_sem": ("t",), "loss_test": ("t",), "loss_test_sem": ("t",), "gap": ("t",),
        "gap_sem": ("t",), "h": ("mode",), "mean_generated": ("mode",), "h_sampling": ("t", "mode"), "mean_sampling": ("t", "mode"),
        "spectrum_generated": ("mode",), "kl_fit": (), "kl": (), "kl_sem": (), "memorisation": (), "mean_error": (),
        "nn_distance": (), "nn_distance_test": ()}


SAMPLE_VARIABLES = ("h", "mean_generated", "h_sampling", "mean_sampling", "spectrum_generated", "kl_fit", "kl", "kl_sem",
                    "memorisation", "mean_error", "nn_distance", "nn_distance_test")


def _chunking(n_t: int, per_t: int) -> tuple[int, int]:
    chunk = int(np.clip(BUDGET // max(per_t, 1), 1, n_t))
    return chunk, -(-n_t // chunk)


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([x, np.repeat(x[-1:], n - len(x), axis=0)]) if n > len(x) else x


def _per_t(x: np.ndarray, chunk: int, n_chunks: int, dtype: str):
    """A per-diffusion-step array, padded and shaped (n_chunks, chunk, ...) for lax.map over vmapped chunks."""
    return jnp.asarray(_pad(x, chunk * n_chunks), dtype).reshape((n_chunks, chunk) + x.shape[1:])


def _keys(seed: int, stream: int, times: np.ndarray, chunk: int, n_chunks: int):
    """One key per diffusion step t, folded from (seed, stream, t), shaped (n_chunks, chunk)."""
    base = jax.random.fold_in(jax.random.key(seed), stream)
    t = jnp.asarray(_pad(times, chunk * n_chunks))
    return jax.vmap(lambda x: jax.random.fold_in(base, x))(t).reshape(n_chunks, chunk)


@functools.lru_cache(maxsize=16)
def _trainer(per: int, n_mid: int, last: int):
    """GD for a chunk of diffusion steps: records at steps 0, per, ..., n_mid * per, n_mid * per + last."""

    def one_t(sab, som, key, X0, V, lr, ridge, ema):
        def loss(params, E):
            W, b = params
            r = E - (sab * X0 + som * E) @ W.T - b
            return jnp.mean(jnp.sum(r ** 2, axis=-1)) + ridge * jnp.sum(W ** 2)

        grad = jax.grad(loss)

        def step(state, n):
            params, avg = state
            E = jax.random.normal(jax.random.fold_in(key, n), X0.shape, X0.dtype)
            params = jax.tree.map(lambda p, g: p - lr * g, params, grad(params, E))
            return (params, jax.tree.map(lambda a, p: ema * a + (1 - ema) * p, avg, params)), None

        def observe(avg):
            W, b = avg
            M = V.T @ W @ V
            diag = jnp.diagonal(M)
            off = jnp.sqrt(jnp.maximum(jnp.sum(M ** 2) - jnp.sum(diag ** 2), 0.0))
            return diag, off, jnp.linalg.norm(b)

        def record(state, r):
            state, _ = jax.lax.scan(step, state, r * per + jnp.arange(per))
            return state, observe(state[1])

        d = X0.shape[1]
        zero = (jnp.zeros((d, d), X0.dtype), jnp.zeros(d, X0.dtype))
        state, mid = jax.lax.scan(record, (zero, zero), jnp.arange(n_mid))
        state, _ = jax.lax.scan(step, state, n_mid * per + jnp.arange(last))
        first, final = observe(zero), observe(state[1])
        path = jax.tree.map(lambda a, m, z: jnp.concatenate([a[None], m, z[None]] if last else [a[None], m]),
                            first, mid, final)
        return state[1], path

    def chunked(sab, som, keys, X0, V, lr, ridge, ema):
        run = jax.vmap(one_t, in_axes=(0, 0, 0, None, None, None, None, None))
        return jax.lax.map(lambda xs: run(*xs, X0, V, lr, ridge, ema), (sab, som, keys))

    return jax.jit(chunked)


def train(scenario, mom: Moments, times: np.ndarray, seed: int, record: np.ndarray, dtype: str):
    """GD with fresh noise for the diffusion steps `times` (1-based) of one training set.

    Returns (W, b) of the trained denoisers (the EMA when ema > 0) and their record at the GD steps
    `record`: diag of V^T W V, its off-diagonal norm and |b|.

    **Arguments:** `scenario`; `mom`; `times` (1-based diffusion steps); `seed`; `record`: GD steps to record;
    `dtype`.

    **Returns:** (W, b, paths): the denoisers (len(times), d, d), (len(times), d) and a tuple of their records
    (diag of V^T W V, its off-diagonal norm, |b|)."""
    ab, om = alpha_bar(scenario.beta)[times - 1], one_minus_alpha_bar(scenario.beta)[times - 1]
    X0 = np.tile(mom.X - mom.mu0, (scenario.draws, 1))
    chunk, n_chunks = _chunking(len(times), X0.size)
    per = int(record[1] - record[0]) if len(record) > 1 else 1
    n_mid = max(len(record) - 2, 0)
    last = int(record[-1] - n_mid * per) if len(record) > 1 else 0
    (W, b), path = _trainer(per, n_mid, last)(
        _per_t(np.sqrt(ab), chunk, n_chunks, dtype), _per_t(np.sqrt(om), chunk, n_chunks, dtype),
        _keys(seed, 1, times, chunk, n_chunks), jnp.asarray(X0, dtype), jnp.asarray(mom.V, dtype),
        scenario.lr, scenario.ridge, scenario.ema)
    flat = lambda x: np.asarray(x, np.float64).reshape((-1,) + x.shape[2:])[:len(times)]  # noqa: E731
    return flat(W), flat(b), tuple(flat(p) for p in path)


@functools.lru_cache(maxsize=16)
def _sampler(kind: str, diagonal: bool):
    """The reverse process in the empirical eigenbasis, p = v V: a scan over t = T..1 recording the mean and
    the mean square of p after each step. diagonal: the denoisers are diagonal there (W: (T, d), O(n d) a step)."""
    def run(p, W, b, coef, key):
        def step(p, x):
            W, b, cf, t = x
            eps = (p * W if diagonal else p @ W.T) + b
            if kind == "ddpm":
                z = jax.random.normal(jax.random.fold_in(key, t), p.shape, p.dtype)
                p = (p - cf[0] * eps) * cf[1] + cf[2] * z
            else:
                p = cf[0] * (p - cf[1] * eps) + cf[2] * eps
            return p, (jnp.mean(p, axis=0), jnp.mean(p ** 2, axis=0))

        return jax.lax.scan(step, p, (W, b, coef, jnp.arange(W.shape[0], 0, -1)))

    return jax.jit(run)


def sample(scenario, W: np.ndarray, b: np.ndarray, n: int, seed: int, dtype: str, mom: Moments | None = None):
    """n samples from the sampler with denoisers W (T, d, d), or (T, d) for V diag(W_t) V^T, and b (T, d) for
    t = 1..T, in the coordinates
    v = x - sqrt(alpha_bar) mu_0 (float64, n x d; the generated points are v + mu_0), started at
    v_T ~ N(0, I) ('centred') or x_T ~ N(0, I) ('raw'). The scan runs in the eigenbasis V of the training
    set's moments `mom` (the standard basis without `mom`), where the noise z V is again N(0, I) and the
    denoisers of the theory are diagonal.

    **Returns:** the samples v_0 and the mean and variance of V^T v_{t-1} after each reverse step t (T x d)."""
    beta, ab, om = scenario.beta, alpha_bar(scenario.beta), one_minus_alpha_bar(scenario.beta)
    if scenario.sampler == "ddpm":
        coef = np.stack([beta / np.sqrt(om), 1 / np.sqrt(1 - beta),
                         np.sqrt(noise_variance(beta, "ddpm", scenario.final_noise))], axis=1)
    else:
        prev, prev_minus = np.r_[1.0, ab[:-1]], np.r_[0.0, om[:-1]]
        coef = np.stack([np.sqrt(prev / ab), np.sqrt(om), np.sqrt(prev_minus)], axis=1)
    V = np.eye(scenario.d) if mom is None else mom.V
    diagonal = W.ndim == 2
    Wv, bv = (W if diagonal else V.T @ W @ V), b @ V
    key = jax.random.fold_in(jax.random.key(seed), 2)
    p = jax.random.normal(jax.random.fold_in(key, 0), (n, scenario.d), dtype)
    if scenario.start == "raw":
        p = p - jnp.asarray(np.sqrt(ab[-1]) * (V.T @ mom.mu0), dtype)
    rev = lambda x: jnp.asarray(x[::-1], dtype)  # noqa: E731  (scan runs t = T, ..., 1)
    p, (m, sq) = _sampler(scenario.sampler, diagonal)(p, rev(Wv), rev(bv), rev(coef), key)
    m, sq = (np.asarray(x, np.float64)[::-1] for x in (m, sq))
    return np.asarray(p, np.float64) @ V.T, m, sq - m ** 2


@functools.lru_cache(maxsize=16)
def _loss_estimator():
    def one_t(W, b, sab, som, key, Xtr, Xte):
        E = jax.random.normal(key, Xtr.shape, Xtr.dtype)
        loss = lambda X0: jnp.sum((E - (sab * X0 + som * E) @ W.T - b) ** 2, axis=-1)  # noqa: E731
        ell = jnp.stack([loss(Xtr), loss(Xte), loss(Xte) - loss(Xtr)])
        return jnp.mean(ell, axis=1), jnp.std(ell, axis=1) / jnp.sqrt(ell.shape[1])

    run = jax.vmap(one_t, in_axes=(0, 0, 0, 0, 0, None, None))
    return jax.jit(lambda W, b, sab, som, keys, Xtr, Xte: jax.lax.map(lambda xs: run(*xs, Xtr, Xte),
                                                                       (W, b, sab, som, keys)))


def mc_losses(scenario, mom: Moments, W, b, times, n_loss: int, seed: int, dtype: str) -> dict:
    """Monte Carlo train and test losses per diffusion step, with fresh noise, and their standard errors.

    n = N ceil(n_loss / N) samples: each training point with ceil(n_loss / N) noise vectors (train) and
    n fresh target points (test) with the same noise vectors, so the gap is a paired estimate.

    **Arguments:** `scenario`; `mom`; `W` (t, d, d), `b` (t, d): the denoisers at the diffusion steps `times`;
    `n_loss` (>= 1); `seed`: the noise's integer seed; `dtype`.

    **Returns:** a dict of arrays (len(times),): loss_train, loss_test, gap and their *_sem."""
    ab, om = alpha_bar(scenario.beta)[times - 1], one_minus_alpha_bar(scenario.beta)[times - 1]
    Xtr = np.tile(mom.X - mom.mu0, (-(-n_loss // scenario.N), 1))
    Xte = scenario.target.sample(len(Xtr), seed, TEST) - mom.mu0
    chunk, n_chunks = _chunking(len(times), 3 * Xtr.size)
    per_t = lambda x: _per_t(x, chunk, n_chunks, dtype)  # noqa: E731
    out = _loss_estimator()(per_t(W), per_t(b), per_t(np.sqrt(ab)), per_t(np.sqrt(om)),
                            _keys(seed, 3, times, chunk, n_chunks), jnp.asarray(Xtr, dtype), jnp.asarray(Xte, dtype))
    mean, sem = (np.asarray(x, np.float64).reshape(-1, 3)[:len(times)].T for x in out)
    return {"loss_train": mean[0], "loss_train_sem": sem[0], "loss_test": mean[1], "loss_test_sem": sem[1],
            "gap": mean[2], "gap_sem": sem[2]}


def _nearest(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Distance of each row of A to its nearest row of B."""
    d2 = (A ** 2).sum(1)[:, None] + (B ** 2).sum(1)[None, :] - 2 * A @ B.T
    return np.sqrt(np.clip(d2.min(1), 0, None))


def kl_standard_error(S: np.ndarray, m: np.ndarray, tgt, n: int) -> float:
    """Standard error of the KL of a Gaussian fitted to n samples, to first order in the fluctuations of (m, S):
    Var = [tr((Sigma^-1 S - I)^2) / 2 + m^T Sigma^-1 S Sigma^-1 m] / n, plus the second-order d(d + 1) / (4 n^2)."""
    d = len(m)
    if np.any(tgt.lam <= 0):
        return float("nan")
    inv = tgt.precision
    B = inv @ S - np.eye(d)
    v = inv @ m
    return float(np.sqrt((0.5 * np.sum(B * B.T) + v @ S @ v) / n + d * (d + 1) / (4 * n ** 2)))


def measure(scenario, mom: Moments, u: np.ndarray, seed: int, n_nn: int) -> dict:
    """Generated law and memorisation from the sampler's output u = x - mu_0 (n x d).

    **Arguments:** `scenario`; `mom`; `u` (n, d): the generated points minus mu_0; `seed`; `n_nn` (>= 1): the
    points for the nearest-neighbour distances.

    **Returns:** a dict of the generated-law variables listed in `simulate`."""
    n, d = u.shape
    x = u + mom.mu0
    m = x.mean(0)
    S = np.cov(x, rowvar=False, bias=True).reshape(d, d)
    h = np.einsum("ik,ij,jk->k", mom.V, S, mom.V)
    kl_fit = gaussian_kl(m, S, np.zeros(d), scenario.target.covariance)
    k = min(n_nn, n)
    reference = scenario.target.sample(k, seed, REFERENCE)
    return {"h": h, "spectrum_generated": np.linalg.eigvalsh(S)[::-1], "mean_generated": mom.V.T @ m, "kl_fit": kl_fit,
            "kl": kl_fit - float(kl_expected(d, n)), "kl_sem": kl_standard_error(S, m, scenario.target, n),
            "memorisation": float(h[mom.rank:].sum() / h.sum()),
            "mean_error": float(np.linalg.norm(m - mom.mu0)),
            "nn_distance": float(_nearest(x[:k], mom.X).mean()),
            "nn_distance_test": float(_nearest(reference, mom.X).mean())}


def exact_denoisers(scenario, mom: Moments) -> tuple[np.ndarray, np.ndarray]:
    """The theory's denoisers W_t = V diag(w_t) V^T (the minimiser, or the mean GD iterate after `steps`), b = 0.

    **Arguments:** `scenario`: a LinearDiffusion; `mom`: the training set's `Moments`.

    **Returns:** (W, b): arrays (T, d, d) and (T, d)."""
    ab, om = alpha_bar(scenario.beta), one_minus_alpha_bar(scenario.beta)
    a, w_star = denoiser_modes(ab, om, mom.lam_hat, scenario.ridge)
    w = w_star if scenario.steps is None else gd_modes(w_star, a, scenario.lr, scenario.steps, scenario.ema)
    return (mom.V * w[:, None, :]) @ mom.V.T, np.zeros((scenario.T, scenario.d))


def check_run(scenario, *, n_samples, seeds, seed, times, n_points, n_loss, n_nn, denoiser, dtype):
    """simulate's arguments validated (ValueError naming the argument), before anything is allocated.

    **Returns:** (seeds, seed, times, record, n_samples, n_loss, n_nn, denoiser) with the defaults resolved."""
    seeds, seed = check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
    if denoiser is None:
        denoiser = "exact" if scenario.steps is None else "trained"
    if denoiser not in DENOISERS:
        raise ValueError(f"denoiser must be one of {', '.join(map(repr, DENOISERS))}; got {denoiser!r}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    if times is None:
        times = np.arange(1, scenario.T + 1)
    else:
        arr = np.unique(np.atleast_1d(np.asarray(times)))
        if arr.size == 0 or arr.dtype.kind not in "iu" or arr.min() < 1 or arr.max() > scenario.T:
            raise ValueError(f"times must be diffusion steps, integers in [1, {scenario.T}]; "
                             f"got {np.asarray(times).tolist()!r}")
        times = arr.astype(int)
    n_samples = check.integer("n_samples", n_samples, 0)
    n_loss = n_samples if n_loss is None else check.integer("n_loss", n_loss, 0)
    n_nn = check.integer("n_nn", n_nn, 0)
    if n_samples and len(times) != scenario.T:
        raise ValueError(f"n_samples must be 0 when times trains only some of the {scenario.T} diffusion steps "
                         "(sampling needs every denoiser)")
    if 0 < n_samples <= scenario.d:
        raise ValueError(f"n_samples must be 0 or > d = {scenario.d} (the generated covariance is estimated from the "
                         f"samples); got {n_samples}")
    if denoiser == "trained" and scenario.steps is None:
        raise ValueError("steps must be an integer number of GD steps to simulate training (steps=None is the "
                         "minimiser: simulate it with denoiser='exact')")
    record = None
    if denoiser == "trained":
        record = scenario.record_steps(2 if n_points is None else n_points)
    elif n_points is not None:
        check.integer("n_points", n_points, 2)
    return seeds, seed, times, record, n_samples, n_loss, n_nn, denoiser


def simulate(scenario, n_samples: int = 1000, seeds: int = 1, seed: int = 0, times=None, n_points: int | None = None,
             n_loss: int | None = None, n_nn: int = 1_000, denoiser: str | None = None, dtype: str = "float32",
             progress: bool = False) -> xr.Dataset:
    """Simulate `seeds` seeds (integer seeds seed, seed + 1, ...): each trains on its own training set
    (the theory's) unless the scenario's training set is fixed, with its own GD and sampling noise.

    denoiser: 'trained' (GD with fresh noise, scenario.steps steps, at the diffusion steps `times`,
    default all) or 'exact' (the theory's denoisers, to test the sampler alone); None: 'trained' when
    scenario.steps is set, 'exact' for the minimiser (steps None), which GD reaches only as steps -> inf.
    n_points: record the GD path (w_path, w_offdiag_path, b_norm_path) at scenario.record_steps(n_points). n_samples
    generated points (needs every diffusion step), n_loss Monte Carlo samples per loss (None: n_samples;
    0: none), n_nn samples for the nearest-neighbour distances. A seed that breaks the scenario's Blowup
    rule is marked diverged (hild.core.divergence) and its generated law is NaN.

    Variables (seed first; those of hild.families.diffusion.theory under the same names): lambda_hat,
    null_dims, diverged, t_diverged; w (t, mode: diag of V^T W_t V), w_offdiag (its off-diagonal Frobenius
    norm), b_norm, and their paths over `step` (of the EMA when ema > 0); loss_train, loss_test, gap (t)
    with standard errors *_sem; h (generated variance along the empirical eigenvectors), mean_generated (the
    generated mean along them), h_sampling and mean_sampling (t, mode: the same for x_{t-1} after the
    reverse step t), spectrum_generated, kl (bias-corrected), kl_fit (raw), kl_sem, memorisation,
    mean_error (|generated mean - mu_0|), nn_distance and nn_distance_test.

    **Arguments:** as above; `n_samples` (>= 1); `seeds` (>= 1), `seed` (>= 0); `times`: diffusion steps
    (1-based); `dtype`: "float32" or "float64"; `progress`.

    **Returns:** the Dataset described above."""
    from hild.core.divergence import check as check_divergence
    from hild.families.diffusion.theory import blank_diverged

    seeds, seed, times, record, n_samples, n_loss, n_nn, denoiser = check_run(
        scenario, n_samples=n_samples, seeds=seeds, seed=seed, times=times, n_points=n_points, n_loss=n_loss,
        n_nn=n_nn, denoiser=denoiser, dtype=dtype)
    seed_list = list(range(seed, seed + seeds))
    prev = np.sqrt(np.r_[1.0, alpha_bar(scenario.beta)[:-1]])  # sqrt(alpha_bar_{t-1})
    rows = []
    with jax.enable_x64(dtype == "float64"), progress_bar(f"diffusion d={scenario.d} N={scenario.N}", seeds,
                                                          enabled=progress) as advance:
        for s in seed_list:
            mom = scenario.moments(s)
            row = {"lambda_hat": mom.lam_hat, "null_dims": scenario.d - mom.rank}
            if denoiser == "trained":
                W, b, path = train(scenario, mom, times, s, record, dtype)
                Wt, bt = W, b
                row.update(w_path=path[0].transpose(1, 0, 2), w_offdiag_path=path[1].T, b_norm_path=path[2].T)
            else:
                W, b = exact_denoisers(scenario, mom)
                Wt, bt = W[times - 1], b[times - 1]
            M = mom.V.T @ Wt @ mom.V
            diag = np.einsum("tkk->tk", M)
            finite = np.isfinite(Wt).all((1, 2)) & np.isfinite(bt).all(1)
            row.update(w=np.where(finite[:, None], diag, np.nan), b_norm=np.linalg.norm(bt, axis=1),
                       w_offdiag=np.sqrt(np.clip((M ** 2).sum((1, 2)) - (diag ** 2).sum(1), 0, None)))
            bad = bool(scenario.divergence.bad(xr.Dataset({"w": (("t", "mode"), row["w"])}), "t").any())
            if n_loss and not bad:
                row.update(mc_losses(scenario, mom, Wt, bt, times, n_loss, s, dtype))
            if n_samples and not bad:  # (n_samples > 0: every diffusion step, times = 1..T)
                u, m, var = sample(scenario, diag if denoiser == "exact" else W, b, n_samples, s, dtype, mom)
                row.update(measure(scenario, mom, u, s, n_nn), h_sampling=var,
                           mean_sampling=prev[:, None] * (mom.V.T @ mom.mu0) + m)
            rows.append(row)
            advance(1)
    ds = _dataset(scenario, rows, seed_list, times, record, n_samples, n_loss)
    ds = blank_diverged(check_divergence(ds, "t", scenario.divergence))
    return ds.assign_attrs(scenario.provenance("simulation", dtype=dtype, seeds=seed_list, size=n_samples,
                                               denoiser=denoiser, n_loss=n_loss))


def _dataset(scenario, rows, seed_list, times, record, n_samples, n_loss) -> xr.Dataset:
    d = scenario.d
    shapes = {"mode": d, "t": len(times), "step": 0 if record is None else len(record)}
    wanted = set(DIMS) - (set() if record is not None else {n for n in DIMS if n.endswith("_path")})
    wanted -= set() if n_loss else {n for n in DIMS if n.startswith(("loss", "gap"))}
    wanted -= set() if n_samples else set(SAMPLE_VARIABLES)
    data = {}
    for name in DIMS:
        if name not in wanted:
            continue
        if name == "null_dims":
            data[name] = (("seed",), np.array([r[name] for r in rows]))
            continue
        nan = np.full(tuple(shapes[k] for k in DIMS[name]), np.nan)
        data[name] = (("seed",) + DIMS[name], np.stack([np.asarray(r.get(name, nan), dtype=float) for r in rows]))
    coords = {"seed": seed_list, "t": times, "mode": np.arange(d)}
    if record is not None:
        coords.update(step=record, tau=("step", scenario.lr * record))
    ds = xr.Dataset(data, coords=coords)
    return ds.assign_coords(beta=("t", scenario.beta[times - 1]), alpha_bar=("t", alpha_bar(scenario.beta)[times - 1]),
                            lambda_true=("mode", scenario.target.lam))
