"""Online SGD on linear regression: teacher y = w* . x / sqrt(d) + sigma zeta, student y_hat = w . x / sqrt(d).

One fresh x ~ N(0, I_d) per step, the update w <- w + (lr / sqrt d) (y - y_hat) x, time t = steps / d.
With Q = w . w / d, R = w . w* / d and |w*|^2 / d = 1 the overlaps obey, as d -> infinity,

    dR/dt = lr (1 - R),    dQ/dt = 2 lr (R - Q) + lr^2 (Q - 2 R + 1 + sigma^2),

and eg = (Q - 2 R + 1) / 2 solves deg/dt = -lr (2 - lr) eg + lr^2 sigma^2 / 2: it decays for 0 < lr < 2
to the floor lr sigma^2 / (2 (2 - lr)) and diverges for lr > 2 (Biehl & Schwarze 1995; the K = M = 1
linear case of Saad & Solla, PRL 74, 4337).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hild.core import Blowup, Scenario, divergence, lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array

diffrax = lazy.module("diffrax")
jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")


@register
@dataclass(frozen=True, kw_only=True)
class OnlineRegression(Scenario):
    """Online SGD on a noisy linear teacher.

    **Arguments:**
    - `lr`: the learning rate (0 < lr; the dynamics diverge for lr > 2).
    - `noise`: the label noise sigma (>= 0).
    - `R0`, `Q0`: the initial overlaps (the student starts with Q0 >= R0^2).
    """

    lr: float = 0.5
    noise: float = 0.0
    R0: float = 0.0
    Q0: float = 0.25

    model = "online_regression"
    axis = "t"
    size = "d"
    sweepable = ("lr", "noise", "R0", "Q0")
    convention = "w <- w + (lr / sqrt d) (y - w.x / sqrt d) x, t = steps / d (Biehl & Schwarze 1995)"
    divergence = Blowup(("Q",), 1e6)
    description = "Online SGD on linear regression (the worked example of docs/adding-a-model.md)"
    papers = ("Biehl & Schwarze, J. Phys. A 28, 643 (1995)",)

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("lr", check.real("lr", self.lr, minimum=0.0, strict_minimum=True))
        set_("noise", check.real("noise", self.noise, minimum=0.0))
        set_("R0", check.real("R0", self.R0))
        set_("Q0", check.real("Q0", self.Q0, minimum=self.R0 ** 2))

    @classmethod
    def example(cls) -> "OnlineRegression":
        return cls(lr=0.5, noise=0.1)

    def theory(self, t_max: float = 10.0, n_points: int = 51) -> xr.Dataset:
        """The overlap ODEs integrated in float64 by diffrax (Tsit5) on n_points times in [0, t_max].

        **Arguments:** `t_max` (> 0); `n_points` (>= 2).

        **Returns:** a Dataset of the order parameters over `t`."""
        t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        ts = np.linspace(0.0, t_max, check.integer("n_points", n_points, 2))

        def field(t, y, args):
            R, Q = y
            return jnp.stack([self.lr * (1 - R), 2 * self.lr * (R - Q) + self.lr ** 2 * (Q - 2 * R + 1 + self.noise ** 2)])

        with jax.enable_x64(True):
            sol = diffrax.diffeqsolve(diffrax.ODETerm(field), diffrax.Tsit5(), 0.0, t_max, None,
                                      jnp.array([self.R0, self.Q0]), saveat=diffrax.SaveAt(ts=ts),
                                      stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
                                      max_steps=100_000, throw=False)
            R, Q = np.asarray(sol.ys).T
        return self._result(R, Q, ts, kind="theory", dtype="float64")

    def simulate(self, d: int = 200, seeds: int = 1, seed: int = 0, t_max: float = 10.0,
                 n_points: int = 51) -> xr.Dataset:
        """Online SGD at input dimension d for seeds seed, seed + 1, ... (float32, one compiled call).

        **Arguments:** `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...; `t_max` (> 0); `n_points` (>= 2).

        **Returns:** a Dataset of the same order parameters over (seed, t)."""
        self.check_simulation(d=d, seeds=seeds, seed=seed, t_max=t_max, n_points=n_points)
        per = max(1, round(d * t_max / (n_points - 1)))
        keys = jax.vmap(jax.random.key)(jnp.arange(seed, seed + seeds, dtype=jnp.uint32))
        R, Q = np.asarray(_sgd(keys, d, per, n_points - 1, self.lr, self.noise, self.R0, self.Q0), dtype=float)
        return self._result(R, Q, np.arange(n_points) * per / d, kind="simulation", dtype="float32",
                            seeds=list(range(seed, seed + seeds)), d=d)

    def check_simulation(self, d=200, seeds=1, seed=0, t_max=10.0, n_points=51) -> None:
        check.integer("d", d, 2)
        check.integer("seeds", seeds, 1)
        check.integer("seed", seed, 0)
        check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        check.integer("n_points", n_points, 2)

    def simulation_needs(self, d, seeds, t_max, n_points, **_) -> list[Need]:
        """Every seed's weights and inputs (vmapped together), the records, and ~4 d operations per step."""
        return [Need("the weights and inputs of every seed", ("seeds", "d"), array(seeds, d, itemsize=4) * 4),
                Need("the recorded overlaps", ("seeds", "n_points"), array(seeds, n_points) * 6, result=True),
                Need("the SGD steps", ("t_max", "d", "seeds"), operations=4.0 * seeds * d * t_max * d)]

    def theory_needs(self, n_points, **_) -> list[Need]:
        return [Need("the recorded overlaps", ("n_points",), array(n_points) * 6, result=True)]

    def _result(self, R, Q, t, kind, dtype, seeds=None, d=None) -> xr.Dataset:
        dims = ("t",) if seeds is None else ("seed", "t")
        ds = xr.Dataset({"R": (dims, R), "Q": (dims, Q), "eg": (dims, (Q - 2 * R + 1) / 2)},
                        coords={"t": t, **({} if seeds is None else {"seed": seeds})})
        ds = divergence.check(ds, "t", self.divergence)
        return ds.assign_attrs(self.provenance(kind, dtype=dtype, seeds=seeds, size=d))


@lazy.jit(static_argnums=(1, 2, 3))
def _sgd(keys, d: int, per: int, records: int, lr, noise, R0, Q0):
    """(R, Q) of each seed at every record; the teacher is e_1 sqrt(d), the student starts at the overlaps."""
    w_star = jnp.zeros(d).at[0].set(jnp.sqrt(d))

    def one(key):
        w0 = jnp.zeros(d).at[0].set(R0 * jnp.sqrt(d)).at[1].set(jnp.sqrt(d * (Q0 - R0 ** 2)))

        def step(w, k):
            kx, kz = jax.random.split(k)
            x = jax.random.normal(kx, (d,))
            error = (w_star - w) @ x / jnp.sqrt(d) + noise * jax.random.normal(kz)
            return w + lr / jnp.sqrt(d) * error * x, None

        def record(w, k):
            w, _ = jax.lax.scan(step, w, jax.random.split(k, per))
            return w, (w @ w_star / d, w @ w / d)

        _, (R, Q) = jax.lax.scan(record, w0, jax.random.split(key, records))
        return jnp.concatenate([jnp.array([R0]), R]), jnp.concatenate([jnp.array([Q0]), Q])

    return jax.vmap(one)(keys)
