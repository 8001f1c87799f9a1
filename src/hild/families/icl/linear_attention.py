"""In-context regression by linear attention (Lu, Letey, Zavatone-Veth, Maiti, Pehlevan, arXiv 2405.11751):
the reduced model y_hat = x_q^T Gamma h, h = (d / ell) sum_{i <= ell} y_i x_i, with Gamma fitted by ridge over
n = tau d^2 pretraining contexts whose tasks come from a pool of k = kappa d tasks; ell = alpha d.

Convention: x ~ N(0, I_d / d), w ~ N(0, I_d), y = w . x + eps, eps ~ N(0, sigma^2) (sigma = `noise`, rho = sigma^2);
Gamma = argmin (1/n) sum_mu (y_mu - x_mu^T Gamma h_mu)^2 + (lambda / d) |Gamma|_F^2 (lambda = `ridge`). This is the
issue's reduced model: the paper's token also carries (1/ell) sum y_i^2, left out here.

Test errors, exact at finite d given Gamma and the pool (C = (1/k) sum_j w_j w_j^T), label noise included:

    e_icl(Gamma) = sigma^2 + (1/d) [d - 2 tr Gamma + c_ell |Gamma|_F^2],  c_ell = 1 + (d + 1 + sigma^2 d) / ell
    e_idg(Gamma) = sigma^2 + (1/d) [tr C - 2 tr(Gamma C) + tr(Gamma B_ell Gamma^T)],
    B_ell = (1 + 1/ell) C + ((tr C + sigma^2 d) / ell) I

(new tasks w ~ N(0, I_d) for ICL, pool tasks for IDG; from E[S] = I, E[S w w^T S] = (1 + 1/ell) w w^T + |w|^2/ell I
for S = (d/ell) X^T X).

Theory (d -> infinity at fixed alpha, kappa, tau), derived here, not read in the paper: ridge in the d^2 features
z = x_q (x) h with the population covariance (1/d) I (x) B, B = C + b I, b = (1 + sigma^2) / alpha, and C's spectrum
Marchenko-Pastur of ratio 1/kappa (an atom 1 - kappa at 0 when kappa < 1), treated as Gaussian features with
independent noise (the Gaussian-equivalence assumption of random-design ridge). With beta = c + b and <.> the
average over C's spectrum, the effective ridge q solves q - lambda = (q / tau) <beta / (beta + q)>; the mean
predictor is Gamma_bar = C (B + q)^{-1}; with df2 = <beta^2 / (beta + q)^2> / tau, the training noise
s = sigma^2 + <c - c^2 / beta> and the bias <q^2 c^2 / (beta (beta + q)^2)>, V = (s + bias) / (1 - df2):

    e_idg = e_idg(Gamma_bar) + V df2,    e_icl = e_icl(Gamma_bar) + V (c / tau) <beta / (beta + q)^2>,

c = 1 + (1 + sigma^2) / alpha. At alpha, tau -> infinity and lambda -> 0, e_icl = sigma^2 + max(0, 1 - kappa):
the kink at kappa = 1; at small lambda both errors peak at tau = 1 (q -> 0, df2 -> 1 there).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from hild.core import Scenario, lazy, register
from hild.core import validation as check
from hild.core.divergence import check as check_divergence
from hild.core.resources import Need, array

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

NODES = 400
"""Midpoint nodes in theta of the Marchenko-Pastur averages (c = 1 + y + 2 sqrt(y) cos theta)."""
BISECTIONS = 80
"""Bisection steps in log q over [1e-14, 1e6]: 46 / 2^80, well below float64's precision."""
CHUNK = 256
"""Pretraining contexts per step of the finite-d solution's accumulation of the normal equations."""
PARAMETERS = ("alpha", "kappa", "tau", "noise", "ridge")


def marchenko_pastur(kappa):
    """Nodes and weights of the spectrum of C = (1/k) W W^T (W: d x k Gaussian, k / d = kappa) as d -> infinity:
    the continuous part (mass min(1, kappa)) on NODES midpoints, and the atom at 0 (mass max(0, 1 - kappa)).
    **Returns:** (c, weights) with c[0] = 0 carrying the atom."""
    y = 1.0 / kappa
    theta = (jnp.arange(NODES) + 0.5) * jnp.pi / NODES
    c = 1 + y + 2 * jnp.sqrt(y) * jnp.cos(theta)
    weights = (jnp.pi / NODES) * 4 * y * jnp.sin(theta) ** 2 / (2 * jnp.pi * y * c)
    return jnp.concatenate([jnp.zeros(1), c]), jnp.concatenate([jnp.maximum(0.0, 1 - kappa)[None], weights])


def asymptotic(alpha, kappa, tau, noise, ridge):
    """The d -> infinity errors (e_icl, e_idg) and the effective ridge q (module docstring); float64 scalars,
    vmappable over every argument."""
    c, weight = marchenko_pastur(kappa)
    s2 = noise ** 2
    b = (1 + s2) / alpha
    beta = c + b
    mean = lambda f: jnp.sum(weight * f)

    def excess(log_q):
        q = jnp.exp(log_q)
        return q - ridge - q / tau * mean(beta / (beta + q))

    def bisect(_, bracket):
        low, high = bracket
        mid = (low + high) / 2
        up = excess(mid) > 0
        return jnp.where(up, low, mid), jnp.where(up, mid, high)

    low, high = jax.lax.fori_loop(0, BISECTIONS, bisect, (jnp.log(1e-14), jnp.log(1e6)))
    q = jnp.exp((low + high) / 2)
    df2 = mean(beta ** 2 / (beta + q) ** 2) / tau
    train_noise = s2 + mean(c - c ** 2 / beta)
    bias = mean(q ** 2 * c ** 2 / (beta * (beta + q) ** 2))
    V = (train_noise + bias) / (1 - df2)
    c_icl = 1 + (1 + s2) / alpha
    e_idg = s2 + mean(c - 2 * c ** 2 / (beta + q) + c ** 2 * beta / (beta + q) ** 2) + V * df2
    e_icl = s2 + 1 - 2 * mean(c / (beta + q)) + c_icl * mean(c ** 2 / (beta + q) ** 2) \
        + V * c_icl / tau * mean(beta / (beta + q) ** 2)
    return e_icl, e_idg, q


@functools.cache
def _asymptotic_batch():
    return jax.jit(jax.vmap(asymptotic))


def errors_given(Gamma, C, ell: int, noise):
    """(e_icl, e_idg) of the predictor Gamma (d x d) exact over the test context, for the pool covariance C
    (module docstring)."""
    d = Gamma.shape[-1]
    s2 = noise ** 2
    c_ell = 1 + (d + 1 + s2 * d) / ell
    e_icl = s2 + (d - 2 * jnp.trace(Gamma) + c_ell * jnp.sum(Gamma ** 2)) / d
    B = (1 + 1 / ell) * C + (jnp.trace(C) + s2 * d) / ell * jnp.eye(d, dtype=C.dtype)
    e_idg = s2 + (jnp.trace(C) - 2 * jnp.trace(Gamma @ C) + jnp.trace(Gamma @ B @ Gamma.T)) / d
    return e_icl, e_idg


def pool_rows(k: int, d: int) -> int:
    """The rows drawn for a pool of k tasks at dimension d: max(k, 4 d) rounded up to a power of 2 (the first k are
    the pool, nested in k), so that every kappa <= 4 at one d shares one compilation."""
    return 1 << max(0, max(int(k), 4 * int(d)) - 1).bit_length()


@functools.cache
def _solver(d: int, ell: int, rows: int):
    """The compiled finite-d solution for a batch of seed keys (one compilation per d, ell and pool rows; n and k
    are arguments): pool, n contexts accumulated CHUNK at a time into the normal equations (d^2 x d^2), the ridge
    solve, the exact errors. **Returns:** (e_icl, e_idg) per key."""
    def one(key, n, k, noise, ridge):
        pool_key, data_key = jax.random.split(key)
        tasks = jax.random.normal(pool_key, (rows, d), jnp.float32).astype(jnp.float64)

        def step(i, carry):
            G, r = carry
            pick, draw = jax.random.split(jax.random.fold_in(data_key, i))
            w = tasks[jax.random.randint(pick, (CHUNK,), 0, k)]
            # one float32 draw per chunk (a float64 one inside the loop compiles ~7x slower), used in float64
            g = jax.random.normal(draw, (CHUNK, (ell + 1) * (d + 1)), jnp.float32).astype(jnp.float64)
            x = g[:, :ell * d].reshape(CHUNK, ell, d) / jnp.sqrt(d)
            xq = g[:, ell * d:(ell + 1) * d] / jnp.sqrt(d)
            e = noise * g[:, (ell + 1) * d:]
            y = jnp.einsum("cld,cd->cl", x, w) + e[:, :ell]
            h = d / ell * jnp.einsum("cl,cld->cd", y, x)
            yq = jnp.einsum("cd,cd->c", xq, w) + e[:, ell]
            used = (i * CHUNK + jnp.arange(CHUNK)) < n
            z = jnp.where(used[:, None], (xq[:, :, None] * h[:, None, :]).reshape(CHUNK, d * d), 0.0)
            return G + z.T @ z, r + z.T @ yq

        zero = (jnp.zeros((d * d, d * d)), jnp.zeros(d * d))
        G, r = jax.lax.fori_loop(0, (n + CHUNK - 1) // CHUNK, step, zero)
        Gamma = jnp.linalg.solve(G / n + ridge / d * jnp.eye(d * d), r / n).reshape(d, d)
        kept = jnp.where((jnp.arange(rows) < k)[:, None], tasks, 0.0)
        return errors_given(Gamma, kept.T @ kept / k, ell, noise)

    return jax.jit(jax.vmap(one, in_axes=(0, None, None, None, None)))


@register
@dataclass(frozen=True, kw_only=True)
class LinearAttention(Scenario):
    """In-context regression by the reduced linear-attention model (arXiv 2405.11751) at one point
    (alpha, kappa, tau, noise, ridge): the ICL error on new tasks `e_icl` and the in-distribution error on the
    pool's tasks `e_idg`, label noise included (module docstring for the convention and the formulas).

    Theory: the d -> infinity errors (derived here by Gaussian equivalence, checked against the finite-d solution);
    simulation: the exact finite-d solution, Gamma by ridge over n = round(tau d^2) sampled contexts, k =
    max(1, round(kappa d)) pool tasks, ell = max(1, round(alpha d)), its errors exact over the test context.

    **Arguments:** `alpha`, `kappa`, `tau` (> 0): context length / d, pool size / d, contexts / d^2; `noise`
    (>= 0): the label noise's standard deviation sigma; `ridge` (> 0): lambda.
    """

    model: ClassVar[str] = "icl.linear_attention"
    axis: ClassVar[str | None] = None
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = PARAMETERS
    convention: ClassVar[str] = ("x ~ N(0, I/d), w ~ N(0, I), y = w . x + N(0, noise^2); y_hat = x_q^T Gamma (d/ell) "
                                 "sum y_i x_i; Gamma: ridge (1/n) sum (y - y_hat)^2 + (ridge/d) |Gamma|_F^2 over "
                                 "n = tau d^2 contexts, k = kappa d tasks, ell = alpha d (arXiv 2405.11751)")
    description: ClassVar[str] = "linear attention in-context regression: ICL and IDG errors at (alpha, kappa, tau)"
    papers: ClassVar[tuple[str, ...]] = ("2405.11751",)

    alpha: float = 2.0
    kappa: float = 2.0
    tau: float = 2.0
    noise: float = 0.5
    ridge: float = 0.01

    def __post_init__(self):
        for name in ("alpha", "kappa", "tau", "ridge"):
            object.__setattr__(self, name, check.real(name, getattr(self, name), 0.0, strict_minimum=True))
        object.__setattr__(self, "noise", check.real("noise", self.noise, 0.0))

    @classmethod
    def example(cls) -> "LinearAttention":
        return cls()

    def sizes(self, d: int) -> dict[str, int]:
        """The integer sizes at dimension d: ell, k, n."""
        return {"ell": max(1, round(self.alpha * d)), "k": max(1, round(self.kappa * d)),
                "n": max(1, round(self.tau * d * d))}

    def theory(self) -> xr.Dataset:
        """The d -> infinity `e_icl`, `e_idg` (float64 scalars) and the effective ridge `q`.

        **Returns:** a Dataset of scalars: e_icl, e_idg, q."""
        return self.theory_batch([self]).isel(scenario=0, drop=True).assign_attrs(
            self.provenance("theory", dtype="float64"))

    def batch_key(self):
        return type(self).__name__

    @classmethod
    def theory_batch(cls, scenarios: Sequence["LinearAttention"], **options) -> xr.Dataset:
        """The theory of many points in one compiled call (vmapped), along a dimension `scenario`."""
        scenarios = list(scenarios)
        if not scenarios:
            raise ValueError("scenarios must hold at least one scenario")
        for s in scenarios:
            s.admit("theory", **options)
        with jax.enable_x64(True):
            values = {p: jnp.asarray([getattr(s, p) for s in scenarios], jnp.float64) for p in PARAMETERS}
            e_icl, e_idg, q = (np.asarray(v) for v in _asymptotic_batch()(*(values[p] for p in PARAMETERS)))
        ds = xr.Dataset({"e_icl": ("scenario", e_icl), "e_idg": ("scenario", e_idg), "q": ("scenario", q)},
                        coords={"scenario": np.arange(len(scenarios)),
                                **{p: ("scenario", np.asarray(values[p])) for p in PARAMETERS}},
                        attrs=scenarios[0].provenance("theory", dtype="float64"))
        ds.e_icl.attrs["long_name"] = "ICL error on new tasks (label noise included)"
        ds.e_idg.attrs["long_name"] = "in-distribution error on the pool's tasks (label noise included)"
        ds.q.attrs["long_name"] = "effective ridge of the d^2-feature regression"
        return check_divergence(ds.drop_vars(list(PARAMETERS)), None, None) if len(scenarios) == 1 else \
            check_divergence(ds, None, None)

    def check_simulation(self, d: int = 10, seeds: int = 1, seed: int = 0, **extra) -> None:
        super().check_simulation(d=d, seeds=seeds, seed=seed, **extra)
        check.integer("d", d, 2)
        check.seeds(seeds, seed)

    def simulation_needs(self, d, seeds, **_) -> list[Need]:
        """Per seed the normal equations (d^2 x d^2, with the solve's copy), a chunk of contexts (CHUNK x ell x d),
        and n d^4 + d^6 / 3 operations (the accumulation and the solve)."""
        size = self.sizes(d)
        return [Need("the normal equations of every seed (d^2 x d^2)", ("d", "seeds"), 3 * array(seeds, d ** 4)),
                Need("a chunk of contexts of every seed", ("alpha", "d", "seeds"),
                     4 * array(seeds, CHUNK, size["ell"] + d, d)),
                Need("the pool of every seed", ("kappa", "d", "seeds"), array(seeds, pool_rows(size["k"], d), d)),
                Need("the accumulation and the ridge solve", ("tau", "d", "seeds"),
                     operations=float(seeds) * (2.0 * size["n"] * (d ** 4 + size["ell"] * d) + d ** 6 / 3))]

    def simulate(self, *, d: int = 10, seeds: int = 1, seed: int = 0) -> xr.Dataset:
        """The exact finite-d solution (float64; the Gaussian inputs drawn in float32) for the integer seeds seed,
        seed + 1, ...: pool, pretraining contexts and Gamma per seed, its `e_icl` and `e_idg` exact over the test
        context. **Returns:** both over `seed`.

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...."""
        size = self.sizes(d)
        seeds_used = list(range(seed, seed + seeds))
        with jax.enable_x64(True):
            keys = jax.vmap(jax.random.key)(jnp.asarray(seeds_used, dtype=jnp.uint32))
            run = _solver(d, size["ell"], pool_rows(size["k"], d))
            e_icl, e_idg = run(keys, jnp.asarray(size["n"]), jnp.asarray(size["k"]), jnp.asarray(self.noise),
                               jnp.asarray(self.ridge))
        ds = xr.Dataset({"e_icl": ("seed", np.asarray(e_icl)), "e_idg": ("seed", np.asarray(e_idg))},
                        coords={"seed": seeds_used},
                        attrs=self.provenance("simulation", dtype="float64", seeds=seeds_used, size=d, **size))
        return check_divergence(ds, None, None)

    def figure(self, theory, simulation, title: str = ""):
        """The two errors at the point: theory against the finite-d seeds (plot.at_point)."""
        from hild.plot import at_point, scenario_title

        return at_point(theory, simulation, variables=["e_icl", "e_idg"], title=title or scenario_title(self))
