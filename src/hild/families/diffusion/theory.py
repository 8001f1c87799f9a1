"""Exact theory of DDPM with linear denoisers for one training set (Merger & Goldt, arXiv 2505.24769).

Everything is diagonal in the eigenbasis V of the empirical covariance Sigma_0 (eigenvalues
lam_hat_k, index `mode`), because the training data are centred by mu_0 and GD starts from W = 0.
With A_t = alpha_bar_t Sigma_0 + (1 - alpha_bar_t) I:

  denoiser   the minimiser of L_t = E||eps - W x_t - b||^2 + ridge ||W||_F^2 over the training set:
             W_t* = sqrt(1 - alpha_bar_t) (A_t + ridge I)^-1, b* = 0 (on centred data)
  GD         W <- W - lr grad L_t from W = 0: per mode w(n) = w*(1 - q^n), q = 1 - 2 lr a_k,
             a_k = alpha_bar lam_hat_k + 1 - alpha_bar + ridge (the mean of GD with fresh noise,
             exactly: the noisy gradient is unbiased and linear in W); its EMA with decay rho
             e(n) = w* [(1 - rho^n) - (1 - rho) q (q^n - rho^n) / (q - rho)]
  losses     L_t(W; C, m) = ||I - sqrt(1 - alpha_bar) W||_F^2 + alpha_bar tr(W C W^T) + alpha_bar ||W m||^2,
             train: C = Sigma_0, m = 0; test: C = Sigma, m = mu - mu_0 (the loss without its ridge term)
  sampling   in coordinates v_t = x_t - sqrt(alpha_bar_t) mu_0 (the forward process of the centred data):
             v_{t-1} = c_t v_t + sigma_t z per mode, so the generated law is
             N(mu_0 + V diag(P) m_T, V diag(h) V^T), P = prod_t c_t, h = sum_t sigma_t^2 prod_{s<t} c_s^2 + P^2;
             start 'centred': v_T ~ N(0, I) (m_T = 0, the generated mean is mu_0 exactly);
             start 'raw': the standard DDPM x_T ~ N(0, I), i.e. v_T ~ N(-sqrt(alpha_bar_T) mu_0, I), which
             shifts the generated mean to mu_0 - sqrt(alpha_bar_T) V diag(P) V^T mu_0 (the variance is unchanged).
             Along the way (axis t, the law of x_{t-1} after the reverse step t): variance per mode
             h_t = c_t^2 h_{t+1} + sigma_t^2 (h_{T+1} = 1) and mean V^T E x_{t-1} = sqrt(alpha_bar_{t-1}) V^T mu_0
             + prod_{s>=t} c_s m_T
             DDPM: c_t = (1 - beta_t w_t / sqrt(1 - alpha_bar_t)) / sqrt(1 - beta_t), sigma_t^2 = beta_t
             flow (DDIM, eta = 0): c_t = sqrt(alpha_bar_{t-1} / alpha_bar_t) (1 - sqrt(1 - alpha_bar_t) w_t)
             + sqrt(1 - alpha_bar_{t-1}) w_t, sigma_t = 0 (alpha_bar_0 = 1)
  KL         KL(N(m1, S1) || N(m2, S2)) = 1/2 [tr(S2^-1 S1) - d + ln det S2 / det S1 + (m1 - m2)^T S2^-1 (m1 - m2)]
  E[KL]      over training sets, for the generated law N(mu_0, Sigma_0) (c -> 0) and N > d:
             1/2 sum_{i=1}^d [ln(N/2) - psi((N - i)/2)] = d(d + 3)/(4N) + O(d^3/N^2), the same for every Sigma

At W* the gap is the trace formula of the paper plus the cost of the estimated mean:

    L_test - L_train = alpha_bar (1 - alpha_bar) [tr A^-2 (Sigma - Sigma_0) + (mu - mu_0)^T A^-2 (mu - mu_0)].

Losses are summed over the d components (the paper's L = sum_t <||eps - eps_theta||^2>), per diffusion
step t. Everything is NumPy float64: closed forms and cumulative products, no integrator, no JAX.
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy
from hild.core import validation as check
from hild.families.diffusion.data import Moments, Target
from hild.families.diffusion.schedule import alpha_bar as alpha_bar_of, one_minus_alpha_bar

xr = lazy.module("xarray")
scipy_special = lazy.module("scipy.special")


def denoiser_modes(alpha_bar, one_minus, lam_hat, ridge: float = 0.0):
    """(a, w*) per (t, mode): a = alpha_bar lam_hat + 1 - alpha_bar + ridge, w* = sqrt(1 - alpha_bar) / a.

    **Arguments:** `alpha_bar`, `one_minus` (T,); `lam_hat` (mode,); `ridge` (>= 0).

    **Returns:** (a, w*), arrays (T, mode)."""
    a = alpha_bar[:, None] * lam_hat[None, :] + one_minus[:, None] + ridge
    return a, np.sqrt(one_minus)[:, None] / a


def _geometric_difference(q, rho: float, n):
    """(q^n - rho^n) / (q - rho) = sum_{j<n} q^j rho^(n-1-j), without cancellation when q is close to rho."""
    n = np.asarray(n, dtype=float)
    close = (q > 0) & (np.abs(q - rho) < 1e-3 * rho)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = np.log(np.where(close, q, rho) / rho)
        near = rho ** (n - 1) * n * scipy_special.exprel(n * x) / scipy_special.exprel(x)
        far = (q ** n - rho ** n) / np.where(close, 1.0, q - rho)
    return np.where(close, near, far)


def gd_modes(w_star, a, lr: float, steps, ema: float = 0.0):
    """The mean denoiser after `steps` GD steps from W = 0 (its EMA when ema > 0), per mode.

    steps: an integer or an array, which broadcasts against the leading axes of w_star and a.

    **Arguments:** `w_star`, `a` (..., mode): from `denoiser_modes`; `lr` (> 0); `steps`; `ema` in [0, 1).

    **Returns:** w, of the broadcast shape."""
    q = 1.0 - 2.0 * lr * a
    n = np.asarray(steps)
    n = n.reshape(n.shape + (1,) * np.ndim(a))
    with np.errstate(over="ignore", invalid="ignore"):
        if ema == 0.0:
            return w_star * (1.0 - q ** n)
        return w_star * ((1.0 - ema ** n) - (1.0 - ema) * q * _geometric_difference(q, ema, n))


def losses(alpha_bar, one_minus, w, lam_hat, sigma_kk, mean_kk):
    """(train, test) losses per t of the denoiser V diag(w_t) V^T, b = 0.

    sigma_kk = diag(V^T Sigma V), mean_kk = (V^T (mu - mu_0))^2.

    **Arguments:** `alpha_bar`, `one_minus` (T,); `w` (T, mode); `lam_hat`, `sigma_kk`, `mean_kk` (mode,).

    **Returns:** (train, test): arrays (T,)."""
    common = np.sum((1.0 - np.sqrt(one_minus)[:, None] * w) ** 2, axis=-1)
    train = common + alpha_bar * np.sum(w ** 2 * lam_hat, axis=-1)
    test = common + alpha_bar * np.sum(w ** 2 * (sigma_kk + mean_kk), axis=-1)
    return train, test


def contraction(betas, alpha_bar, one_minus, w, sampler: str):
    """c_t per (t, mode) of one reverse step of the sampler with denoiser eigenvalues w (t, mode).

    **Arguments:** `betas`, `alpha_bar`, `one_minus` (T,); `w` (T, mode); `sampler`: "ddpm" or "flow".

    **Returns:** c, an array (T, mode)."""
    if sampler == "ddpm":
        return (1.0 - (betas / np.sqrt(one_minus))[:, None] * w) / np.sqrt(1.0 - betas)[:, None]
    prev = np.concatenate([[1.0], alpha_bar[:-1]])
    prev_minus = np.concatenate([[0.0], one_minus[:-1]])
    return (np.sqrt(prev / alpha_bar)[:, None] * (1.0 - np.sqrt(one_minus)[:, None] * w)
            + np.sqrt(prev_minus)[:, None] * w)


def noise_variance(betas, sampler: str, final_noise: bool) -> np.ndarray:
    """sigma_t^2 per t: beta_t for DDPM (0 at t = 1 without final noise, Ho et al. Algorithm 2), 0 for the flow.

    **Arguments:** `betas` (T,); `sampler`: "ddpm" or "flow"; `final_noise`: noise at t = 1.

    **Returns:** sigma^2, an array (T,)."""
    s2 = np.asarray(betas, dtype=float).copy() if sampler == "ddpm" else np.zeros(len(betas))
    if not final_noise:
        s2[0] = 0.0
    return s2


def generated_variance(c, sigma2):
    """h per mode from u_{t-1} = c_t u_t + sigma_t z, u_T ~ N(0, 1): sum_t sigma_t^2 prod_{s<t} c_s^2 + prod_s c_s^2.

    c: (..., T, mode), t = 1..T along axis -2.

    **Arguments:** `c` (..., T, mode); `sigma2` (T,): from `noise_variance`.

    **Returns:** h, an array (..., mode)."""
    P = np.cumprod(c ** 2, axis=-2)
    before = np.concatenate([np.ones_like(P[..., :1, :]), P[..., :-1, :]], axis=-2)
    return np.einsum("t,...tk->...k", sigma2, before) + P[..., -1, :]


def sampling_path(c, sigma2, start_mean):
    """The law of v_{t-1} after each reverse step t of v_{t-1} = c_t v_t + sigma_t z, v_T ~ N(start_mean, 1).

    **Arguments:**
    - `c`: (T, mode) contractions, t = 1..T; `sigma2`: (T,) noise variances; `start_mean`: (mode,) E v_T.

    **Returns:** (variance, mean), each (T, mode): h_t = c_t^2 h_{t+1} + sigma_t^2 with h_{T+1} = 1, and
    prod_{s>=t} c_s start_mean; at t = 1 the variance is generated_variance(c, sigma2). Vectorised with the
    suffix products R_t = prod_{s>=t} c_s^2: h_t = R_t + sigma_t^2 + c_t^2 R_{t+1} sum_{s>t} sigma_s^2 / R_s."""
    signed = np.cumprod(c[::-1], axis=0)[::-1]
    R = signed ** 2
    after = np.concatenate([R[1:], np.ones_like(R[:1])])  # R_{t+1}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        terms = np.concatenate([sigma2[1:, None] / R[1:], np.zeros_like(R[:1])])  # sigma_{t+1}^2 / R_{t+1}
        G = np.cumsum(terms[::-1], axis=0)[::-1]  # sum_{s > t} sigma_s^2 / R_s
        variance = R + sigma2[:, None] + c ** 2 * after * G
    return variance, signed * start_mean


def gaussian_kl(m1, S1, m2, S2) -> float:
    """KL(N(m1, S1) || N(m2, S2)) for dense covariances (inf when S1 or S2 is singular).

    **Arguments:** `m1`, `m2` (d,); `S1`, `S2` (d, d).

    **Returns:** the KL (float, nats)."""
    m1, m2, S1, S2 = (np.asarray(x, dtype=float) for x in (m1, m2, S1, S2))
    sign1, logdet1 = np.linalg.slogdet(S1)
    sign2, logdet2 = np.linalg.slogdet(S2)
    if sign1 <= 0 or sign2 <= 0:
        return float("inf")
    diff = m1 - m2
    return 0.5 * float(np.trace(np.linalg.solve(S2, S1)) - len(m1) + logdet2 - logdet1
                       + diff @ np.linalg.solve(S2, diff))


def kl_modes(h, mom: Moments, tgt: Target, mean=None) -> float:
    """KL(N(m, V diag(h) V^T) || N(0, Sigma)), exactly; m = mu_0 unless the generated mean `mean` is given.

    **Arguments:** `h` (mode,); `mom`: the training set's `Moments`; `tgt`: the `Target`; `mean` (d,) or None.

    **Returns:** the KL (float, nats)."""
    if np.any(h <= 0) or np.any(tgt.lam <= 0):
        return float("inf")
    inv_kk = tgt.quadratic(mom.V, -1)
    m = mom.mu0 if mean is None else mean
    return 0.5 * float(np.sum(h * inv_kk) - len(h) + tgt.logdet - np.sum(np.log(h)) + tgt.mahalanobis(m))


def kl_expected(d: int, N) -> np.ndarray:
    """E KL(N(mu_0, Sigma_0) || N(mu, Sigma)) over training sets of N samples: 1/2 sum_i [ln(N/2) - psi((N-i)/2)].

    Exact for N > d (N Sigma^-1/2 Sigma_0 Sigma^-1/2 is Wishart(I, N - 1), mu_0 - mu ~ N(0, Sigma/N)),
    independent of Sigma; inf for N <= d. Also the bias of the KL of a Gaussian fitted to N samples.

    **Arguments:** `d` (>= 1); `N`: sample sizes (array).

    **Returns:** E KL, an array of N's shape (nats)."""
    N = np.asarray(N, dtype=float)
    i = np.arange(1, d + 1)
    with np.errstate(invalid="ignore"):
        out = 0.5 * np.sum(np.log(N[..., None] / 2) - scipy_special.digamma((N[..., None] - i) / 2), axis=-1)
    return np.where(N > d, out, np.inf)


def kl_proportional(gamma):
    """lim E[KL]/d at d/N -> gamma < 1: 1/2 [1 + ((1 - gamma)/gamma) ln(1 - gamma)] (~ gamma/4 for gamma << 1).

    **Arguments:** `gamma` = d / N in (0, 1) (array).

    **Returns:** the limit, an array of gamma's shape."""
    g = np.asarray(gamma, dtype=float)
    return 0.5 * (1.0 + (1.0 - g) / g * np.log1p(-g))


def start_mean(scenario, mom: Moments, alpha_bar) -> np.ndarray:
    """E v_T per mode: 0 for the centred start, -sqrt(alpha_bar_T) V^T mu_0 for the raw start x_T ~ N(0, I).

    **Arguments:** `scenario`; `mom`; `alpha_bar` (T,).

    **Returns:** E v_T, an array (mode,)."""
    if scenario.start == "centred":
        return np.zeros(scenario.d)
    return -np.sqrt(alpha_bar[-1]) * (mom.V.T @ mom.mu0)


def _one(scenario, mom: Moments, alpha_bar, one_minus, rec, paths: bool = True):
    """Every theory variable of one training set (None entries are left out; the sampling path without `paths`)."""
    tgt = scenario.target
    a, w_star = denoiser_modes(alpha_bar, one_minus, mom.lam_hat, scenario.ridge)
    with np.errstate(over="ignore", invalid="ignore"):
        w = w_star if scenario.steps is None else gd_modes(w_star, a, scenario.lr, scenario.steps, scenario.ema)
        path = None if rec is None else gd_modes(w_star, a, scenario.lr, rec, scenario.ema)
        train, test = losses(alpha_bar, one_minus, w, mom.lam_hat, tgt.quadratic(mom.V, 1), (mom.V.T @ mom.mu0) ** 2)
        c = contraction(scenario.beta, alpha_bar, one_minus, w, scenario.sampler)
        sigma2 = noise_variance(scenario.beta, scenario.sampler, scenario.final_noise)
        h = generated_variance(c, sigma2)
        m0 = start_mean(scenario, mom, alpha_bar)
        h_path, m_path = sampling_path(c, sigma2, m0) if paths else (None, None)
        shift = np.prod(c, axis=0) * m0  # E v_0 = prod_t c_t E v_T
    along = mom.V.T @ mom.mu0
    prev = np.concatenate([[1.0], alpha_bar[:-1]])  # alpha_bar_{t-1}
    mean = along + shift
    finite = bool(np.all(np.isfinite(h)) and np.all(h > 0))
    return {"lambda_hat": mom.lam_hat, "loss_train": train, "loss_test": test, "gap": test - train, "h": h,
            "spectrum_generated": np.sort(h)[::-1], "mean_generated": mean,
            "kl": kl_modes(h, mom, tgt, mom.mu0 + mom.V @ shift) if finite else np.nan,
            "memorisation": float(h[mom.rank:].sum() / h.sum()) if finite else np.nan,
            "null_dims": scenario.d - mom.rank, "w": w, "w_star": w_star, "w_path": path,
            "h_sampling": h_path, "mean_sampling": None if m_path is None else np.sqrt(prev)[:, None] * along + m_path}


DIMS = {"lambda_hat": ("mode",), "loss_train": ("t",), "loss_test": ("t",), "gap": ("t",), "h": ("mode",),
        "spectrum_generated": ("mode",), "mean_generated": ("mode",), "kl": (), "memorisation": (), "null_dims": (),
        "w": ("t", "mode"), "w_star": ("t", "mode"), "w_path": ("step", "t", "mode"), "h_sampling": ("t", "mode"),
        "mean_sampling": ("t", "mode")}
PER_T_MODE = ("w", "w_star", "h_sampling", "mean_sampling")
"""The (t, mode) variables, left out with denoisers=False (large for many training sets)."""
SAMPLED = ("h", "spectrum_generated", "mean_generated", "kl", "memorisation", "h_sampling", "mean_sampling")
"""The variables of the generated law: every one depends on every denoiser, so a diverged run loses them all."""


def blank_diverged(ds: xr.Dataset) -> xr.Dataset:
    """NaN in every variable of the generated law of a diverged run (hild.core.divergence blanks the
    per-t variables from the first diverged step on; sampling passes through every step)."""
    ok = ~ds["diverged"]
    return ds.assign({k: ds[k].where(ok) for k in SAMPLED if k in ds})


def theory(scenario, seeds=(0,), n_points: int | None = None, denoisers: bool = True) -> xr.Dataset:
    """The exact theory (float64) for the training sets of the integer seeds `seeds` (hild.families.diffusion.scenario).

    Variables (seed first, where the training set is drawn by the seed): lambda_hat (mode); w and w_star
    (t, mode); with n_points, w_path (step, t, mode: the mean denoiser along training, the EMA when
    ema > 0); loss_train, loss_test, gap (t); h, spectrum_generated and mean_generated (mode: the generated
    variance and mean along the empirical eigenvectors V); h_sampling and mean_sampling (t, mode: the
    same for x_{t-1} after the reverse step t; at t = 1 they are h and mean_generated); kl; memorisation (the
    fraction of generated variance outside the affine span of the training data); null_dims (d - rank
    Sigma_0: the directions absent from the training data); diverged and t_diverged (the scenario's
    Blowup rule on w); kl_expected (the Wishart law of E KL at this d and N); coordinates beta,
    alpha_bar (t) and lambda_true (mode, the target's spectrum). denoisers=False leaves out the (t, mode)
    variables (w, w_star, h_sampling, mean_sampling) after the divergence check.

    **Arguments:** `scenario`: a LinearDiffusion; `seeds`: the integer seeds of the training sets;
    `n_points`: GD steps recorded along `step` (None: none); `denoisers`.

    **Returns:** the Dataset described above."""
    from hild.core.divergence import flag

    rec = None if n_points is None else scenario.record_steps(n_points)
    if rec is not None and not denoisers:
        raise ValueError("n_points needs denoisers=True (w_path is a per-(t, mode) variable)")
    ab, om = alpha_bar_of(scenario.beta), one_minus_alpha_bar(scenario.beta)
    fixed = scenario.fixed_training_set
    seed_list = [0] if fixed else [check.integer("seed", s, 0) for s in seeds]
    per_seed, w_max = [], []
    for s in seed_list:
        one = _one(scenario, scenario.moments(s), ab, om, rec, paths=denoisers)
        w_max.append(np.max(np.abs(one["w"]), axis=-1))  # NaN where any mode is NaN: the rule sees it
        per_seed.append({k: v for k, v in one.items() if v is not None and (denoisers or k not in PER_T_MODE)})
    lead = () if fixed else ("seed",)
    pick = (lambda x: x[0]) if fixed else (lambda x: x)  # noqa: E731
    data = {k: (lead + DIMS[k], pick(np.stack([np.asarray(p[k]) for p in per_seed]))) for k in per_seed[0]}
    coords = {"t": np.arange(1, scenario.T + 1), "mode": np.arange(scenario.d)}
    if not fixed:
        coords["seed"] = seed_list
    if rec is not None:
        coords.update(step=rec, tau=("step", scenario.lr * rec))
    ds = xr.Dataset(data, coords=coords)
    ds = ds.assign_coords(beta=("t", scenario.beta), alpha_bar=("t", ab), lambda_true=("mode", scenario.target.lam))
    # the Blowup rule watches w; max_k |w_k| is over the bound exactly where some w_k is
    watched = xr.Dataset({"w": (lead + ("t",), pick(np.stack(w_max)))}, coords={k: coords[k] for k in lead + ("t",)})
    ds = blank_diverged(flag(ds, "t", scenario.divergence.bad(watched, "t")))
    ds["kl_expected"] = ((), float(kl_expected(scenario.d, scenario.N)))
    return ds.assign_attrs(scenario.provenance("theory", dtype="float64"))
