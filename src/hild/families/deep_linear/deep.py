"""Deeper balanced linear networks: D layers W_D ... W_1 from an aligned, balanced start (Saxe et al.,
arXiv 1312.6120, section on deeper networks).

With whitened inputs, Sigma_yx = U diag(s) V^T and every layer carrying the same strength a_alpha on mode
alpha (W_1 = O_1 diag(a) V^T, W_l = O_l diag(a) O_{l-1}^T, W_D = U diag(a) O_{D-1}^T), gradient flow on
L = 1/2 ||Sigma_yx - W_D ... W_1||_F^2 keeps the modes decoupled and balanced, a' = a^{D-1} (s - a^D), so the
mode strength u = a^D obeys

    u' = D u^{2 - 2/D} (s - u)        (t = lr * steps)

which is Saxe's sigmoid for D = 2. `mode_trajectory_deep` integrates it (diffrax, float64); GD on the
real D-layer network (a `lax.scan` over steps, seeds vmapped) records the same modes. The scenario
`DeepBalanced` (model `deep_linear.deep`) compares the two; its size parameter is `steps_per_time`,
1/lr: GD approaches the flow as it grows (the gap is O(lr)). `simulate_deep` is the earlier free function.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array
from hild.core.divergence import check as check_divergence

diffrax = lazy.module("diffrax")
jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

CONVENTION = "W_l <- W_l - lr dL/dW_l, L = 1/2 ||Sigma_yx - W_D ... W_1||_F^2; t = lr * steps (Saxe et al., arXiv 1312.6120)"


def mode_trajectory_deep(t, s, u0: float, depth: int) -> np.ndarray:
    """u(t) of the modes of a balanced, aligned depth-D network, u' = D u^(2 - 2/D) (s - u), from u(0) = u0.

    **Arguments:** `t`: increasing times from 0; `s`: the singular values (>= 0); `u0` > 0; `depth`: D >= 2.

    **Returns:** u, a float64 array (len(t), len(s))."""
    depth = check.integer("depth", depth, 2)
    t, s = np.asarray(t, float), np.atleast_1d(np.asarray(s, float))
    u0 = check.real("u0", u0, minimum=0.0, strict_minimum=True)
    with jax.enable_x64(True):
        ys = _mode_solver(depth)(jnp.full(s.shape, u0 ** (1 / depth)), jnp.asarray(s), jnp.asarray(t))
        return np.asarray(ys) ** depth


@functools.lru_cache(maxsize=8)
def _mode_solver(depth: int):
    """The compiled solve of the layer strength's flow a' = a^{D-1} (s - a^D) (smooth at small a; u = a^D)."""
    field = diffrax.ODETerm(lambda _, a, s: a ** (depth - 1) * (s - a ** depth))

    @jax.jit
    def solve(a0, s, ts):
        return diffrax.diffeqsolve(field, diffrax.Tsit5(), t0=0.0, t1=ts[-1], dt0=None, y0=a0, args=s,
                                   saveat=diffrax.SaveAt(ts=ts),
                                   stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-14),
                                   max_steps=1_000_000).ys

    return solve


def _product(Ws):
    out = Ws[0]
    for W in Ws[1:]:
        out = W @ out
    return out


@functools.lru_cache(maxsize=8)
def _gd(depth: int, per: int, n_rec: int):
    def loss(Ws, sigma):
        return 0.5 * jnp.sum((sigma - _product(Ws)) ** 2)

    def run(Ws, sigma, lr, U, V):
        def step(Ws, _):
            g = jax.grad(loss)(Ws, sigma)
            return [W - lr * gW for W, gW in zip(Ws, g)], None

        def record(Ws, _):
            Ws, _ = jax.lax.scan(step, Ws, None, length=per)
            return Ws, jnp.diagonal(U.T @ _product(Ws) @ V)

        _, modes = jax.lax.scan(record, Ws, None, length=n_rec)
        return jnp.concatenate([jnp.diagonal(U.T @ _product(Ws) @ V)[None], modes])

    return jax.jit(jax.vmap(run, in_axes=(0, None, None, None, None)))


def _singular_values(value) -> np.ndarray:
    try:
        s = np.atleast_1d(np.asarray(value, float))
    except (TypeError, ValueError):
        s = np.array([np.nan])
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError(f"singular_values must be finite numbers >= 0; got {value!r}")
    return s


def _gd_modes(s, depth: int, lr: float, u0: float, per: int, n_rec: int, seeds: int, seed: int):
    """(t, modes (seed, t, mode)) of GD from the balanced, aligned start, recorded every `per` steps."""
    n = s.size
    a = u0 ** (1 / depth)
    starts = []
    for k in range(seed, seed + seeds):
        rng = np.random.default_rng(k)
        O = [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(depth - 1)]
        bases = [np.eye(n)] + O + [np.eye(n)]  # V = U = I: Sigma_yx = diag(s)
        starts.append([a * bases[l + 1] @ bases[l].T for l in range(depth)])
    with jax.enable_x64(True):
        Ws = [jnp.asarray(np.stack([w[l] for w in starts])) for l in range(depth)]
        modes = np.asarray(_gd(depth, per, n_rec)(Ws, jnp.diag(jnp.asarray(s)), lr, jnp.eye(n), jnp.eye(n)))
    return lr * per * np.arange(n_rec + 1), modes


def simulate_deep(singular_values, depth: int, lr: float = 1e-3, u0: float = 1e-3, t_max: float = 10.0,
                  n_points: int = 101, seeds: int = 1, seed: int = 0) -> xr.Dataset:
    """GD on a D-layer linear network (width = number of modes) from the balanced, aligned start with mode
    strengths u0; the seed draws the hidden bases O_l, which leave the modes unchanged. (The earlier free
    function; `DeepBalanced.simulate` is the scenario's.)

    **Arguments:** `singular_values` (>= 0); `depth` (>= 2); `lr` (> 0, default 1e-3); `u0` (> 0, default 1e-3);
    `t_max` (> 0, default 10); `n_points` (>= 2, default 101); `seeds` (>= 1), `seed` (>= 0).

    **Returns:** a Dataset with `modes` (seed, t, mode), float64."""
    s = _singular_values(singular_values)
    depth = check.integer("depth", depth, 2)
    lr = check.real("lr", lr, minimum=0.0, strict_minimum=True)
    u0 = check.real("u0", u0, minimum=0.0, strict_minimum=True)
    t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
    n_points, seeds = check.integer("n_points", n_points, 2), check.integer("seeds", seeds, 1)
    seed = check.integer("seed", seed, 0)
    per = max(1, int(round(t_max / lr / (n_points - 1))))
    t, modes = _gd_modes(s, depth, lr, u0, per, n_points - 1, seeds, seed)
    return xr.Dataset({"modes": (("seed", "t", "mode"), modes)},
                      coords={"seed": np.arange(seed, seed + seeds), "t": t},
                      attrs={"model": "deep_linear.deep", "kind": "simulation", "depth": depth, "lr": lr, "u0": u0})


@register
@dataclass(frozen=True, kw_only=True)
class DeepBalanced(Scenario):
    """A depth-D linear network W_D ... W_1 from a balanced start aligned with the task, trained by GD.

    singular_values: the task's s (Sigma_yx = diag(s), width = number of modes); depth: D >= 2;
    u0: every mode's initial strength u = a^D > 0. Theory: the mode ODE u' = D u^(2 - 2/D) (s - u)
    (Saxe et al., arXiv 1312.6120); simulation: GD at lr = 1 / steps_per_time on the real network.

    Axis `t` (= lr * steps); size `steps_per_time`; variables `modes` (t, mode) and `loss` (t).

    **Arguments:** `singular_values` (finite numbers >= 0, default (3, 2, 1, 0.5)); `depth` (integer >= 2,
    default 3); `u0` (> 0, default 0.05).
    """

    singular_values: Any = (3.0, 2.0, 1.0, 0.5)
    depth: int = 3
    u0: float = 0.05

    model = "deep_linear.deep"
    axis = "t"
    size = "steps_per_time"
    units = ("mode",)
    sweepable = ("depth", "u0")
    convention = CONVENTION
    divergence = Blowup(("modes", "loss"), 1e12)
    description = "Deeper balanced linear networks: the mode ODE u' = D u^(2-2/D) (s - u) vs GD"
    papers = ("1312.6120",)

    def __post_init__(self):
        object.__setattr__(self, "singular_values", tuple(_singular_values(self.singular_values).tolist()))
        object.__setattr__(self, "depth", check.integer("depth", self.depth, 2))
        object.__setattr__(self, "u0", check.real("u0", self.u0, minimum=0.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "DeepBalanced":
        """Three layers, modes s = 3, 2, 1, 0.5 from u0 = 0.05. **Arguments:** none. **Returns:** a `DeepBalanced`."""
        return cls(singular_values=(3.0, 2.0, 1.0, 0.5), depth=3, u0=0.05)

    def unit_sizes(self) -> dict[str, int]:
        return {"mode": len(self.singular_values)}

    def min_steps_per_time(self) -> int:
        """The smallest steps_per_time (1/lr) below GD's stability limit lr D s^(2 - 2/D) < 2 at the fixed point."""
        rate = self.depth * max(self.singular_values) ** (2 - 2 / self.depth)
        return max(1, int(np.floor(rate / 2)) + 1)

    def _dataset(self, t, modes, dims) -> xr.Dataset:
        s = np.asarray(self.singular_values)
        coords = {"t": t, "mode": np.arange(1, s.size + 1)}
        return xr.Dataset({"modes": (dims + ("mode",), modes),
                           "loss": (dims, 0.5 * np.sum((s - modes) ** 2, axis=-1))}, coords=coords)

    def theory(self, t_max: float = 10.0, n_points: int = 101) -> xr.Dataset:
        """The mode ODE integrated on t = 0 .. t_max (n_points times; diffrax Tsit5, rtol 1e-10, float64).

        **Arguments:** `t_max` (> 0, default 10); `n_points` (>= 2, default 101).

        **Returns:** a Dataset: `modes` (t, mode), `loss` = 1/2 sum (s - u)^2 (t), `diverged`, `t_diverged`."""
        t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        n_points = check.integer("n_points", n_points, 2)
        t = np.linspace(0.0, t_max, n_points)
        ds = self._dataset(t, mode_trajectory_deep(t, self.singular_values, self.u0, self.depth), ("t",))
        return check_divergence(ds, "t", self.divergence).assign_attrs(
            self.provenance("theory", dtype="float64", method="diffrax Tsit5, rtol 1e-10"))

    def check_simulation(self, **arguments) -> None:
        super().check_simulation(**arguments)
        self._run_arguments(**arguments)

    def _run_arguments(self, steps_per_time: int = 1000, seeds: int = 1, seed: int = 0, t_max: float = 10.0,
                       n_points: int = 101):
        low = self.min_steps_per_time()
        q = check.integer("steps_per_time", steps_per_time, low)
        seeds, seed = check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
        t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        n_points = check.integer("n_points", n_points, 2)
        steps = max(1, int(round(t_max * q)))
        return q, seeds, seed, steps, n_points

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        check.real("t_max", options["t_max"], minimum=0.0, strict_minimum=True)
        check.integer("n_points", options["n_points"], 2)

    def theory_needs(self, n_points, **_) -> list[Need]:
        """The modes and loss at n_points times, diffrax's saved states and the copies of the records (the
        adaptive solve's number of steps is not known in advance; it is at most 10^6)."""
        n = len(self.singular_values)
        return [Need("the recorded modes, loss and times", ("n_points",), array(n_points, n + 2), result=True),
                Need("the solver's saved states and the copies of the records", ("n_points",),
                     3 * array(n_points, n + 2))]

    def simulation_needs(self, steps_per_time, seeds, t_max, n_points, **_) -> list[Need]:
        """Every seed's depth hidden bases and layers (host list, stacked copy, device), the recorded modes and
        loss; GD costs about 6 depth n^3 operations per step and seed (the product and its gradient, n modes)."""
        n, depth = len(self.singular_values), self.depth
        steps = max(1.0, float(t_max) * steps_per_time)
        records = min(float(n_points), steps + 1)
        return [Need("every seed's layers and hidden bases", ("seeds", "depth"), 4 * array(seeds, depth, n, n)),
                Need("the recorded modes and loss", ("seeds", "n_points"), array(seeds, records, n + 1), result=True),
                Need("the copies of the records (device, divergence check)", ("seeds", "n_points"),
                     2 * array(seeds, records, n + 1)),
                Need("the GD steps", ("t_max", "steps_per_time", "seeds", "depth"),
                     operations=6.0 * depth * n ** 3 * steps * seeds)]

    def simulate(self, *, steps_per_time: int = 1000, seeds: int = 1, seed: int = 0, t_max: float = 10.0,
                 n_points: int = 101) -> xr.Dataset:
        """GD at lr = 1 / steps_per_time for t_max * steps_per_time steps, float64.

        **Arguments:** `steps_per_time` (the size parameter, 1/lr; at least the stability bound
        `min_steps_per_time()`), `seeds`, `seed` (the seed draws the hidden bases, which leave the
        modes unchanged), `t_max`, `n_points` (records at most n_points times, every
        steps // (n_points - 1) steps, so that they stay in [0, t_max]).

        **Returns:** `modes` (seed, t, mode) and `loss` = 1/2 ||Sigma_yx - W_D ... W_1||^2 restricted to
        the modes (seed, t), with `diverged`, `t_diverged`."""
        q, seeds, seed, steps, n_points = self._run_arguments(steps_per_time, seeds, seed, t_max, n_points)
        per = max(1, steps // (n_points - 1))
        t, modes = _gd_modes(np.asarray(self.singular_values), self.depth, 1.0 / q, self.u0, per, steps // per,
                             seeds, seed)
        seed_list = list(range(seed, seed + seeds))
        ds = self._dataset(t, modes, ("seed", "t")).assign_coords(seed=seed_list)
        return check_divergence(ds, "t", self.divergence).assign_attrs(
            self.provenance("simulation", dtype="float64", seeds=seed_list, size=q, lr=1.0 / q, steps=per * (steps // per)))

    def figure(self, theory, simulation, title: str = ""):
        """Mode strengths u_a(t): ODE lines, GD seed means as dots."""
        from hild.families.deep_linear.figure import modes_figure
        return modes_figure(theory, simulation, title=title or f"deep linear, depth {self.depth}, u0 = {self.u0:g}")
