"""The task-diversity scenario `icl.task_diversity` (Raventos, Paul, Chen, Ganguli, arXiv 2306.15063): the dMMSE and
ridge estimators' per-position errors on pool tasks and on new tasks.

What is theory and what is simulation (the same variables, `mse_dmmse` and `mse_ridge` over (tasks, k)):

- `theory(samples=)`: the errors as expectations, float64, exact over the query and its label noise
  (sigma^2 + |w - w_hat_k|^2) and, for ridge, over the labels given the design (and over the task on new
  tasks: sigma^2 (1 + tr A^{-1})); the remaining average, over designs (and tasks and labels for dMMSE), is taken
  over `samples` sequences of one fixed stream: deterministic, with a Monte Carlo error well below a simulation's.
- `simulate(sequences=, seeds=, seed=)`: the test error as measured, float32: per seed, `sequences` sampled
  sequences, each estimator's squared error (y_k - w_hat_k . x_k)^2 on the sequence's own k-th pair.

Both use the same pool (drawn from `pool_seed`, nested in M), so that `tasks="pool"` means the same M tasks.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hild.core import Scenario, lazy, register
from hild.core import validation as check
from hild.core.divergence import check as check_divergence
from hild.core.resources import Need, array

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

TASKS = ("pool", "new")
THEORY_STREAM = 2 ** 32 - 1
"""The integer seed of the theory's sequences (simulation seeds stay below it)."""
BATCH_ELEMENTS = 2 ** 21
"""One batch of sequences holds at most this many dMMSE log-likelihoods (batch x K x M), every seed together."""
MAX_SEED = 2 ** 32 - 1


def _batching(sequences: int, K: int, M: int, copies: int = 1) -> tuple[int, int]:
    """(batch, batches): sequences per batch (per seed and pool size) and the number of batches covering
    `sequences`; `copies`: the seeds times the pool sizes computed together."""
    batch = int(max(1, min(sequences, BATCH_ELEMENTS // (K * M * copies))))
    return batch, -(-sequences // batch)


def _errors(key, tasks, M, noise, batch: int, K: int, exact: bool):
    """The errors of one batch, (4, batch, K): dMMSE pool, dMMSE new, ridge pool, ridge new, with the pool the
    first M of `tasks`; `exact`: the theory's conditional expectations, else the errors on the sampled queries."""
    from hild.families.icl import estimators as est

    x, w_pool, w_new, y_pool, y_new = est.sequences(key, tasks, batch, K, noise, M)
    P = est.ridge_system(x, noise)
    d_pool, d_new = est.dmmse(x, y_pool, tasks, noise, M), est.dmmse(x, y_new, tasks, noise, M)
    if exact:
        out = [est.task_error(w_pool, d_pool, noise), est.task_error(w_new, d_new, noise),
               est.ridge_error(w_pool, P, noise), est.ridge_error(None, P, noise)]
    else:
        out = [est.query_error(x, y_pool, d_pool), est.query_error(x, y_new, d_new),
               est.query_error(x, y_pool, est.ridge(x, y_pool, P)), est.query_error(x, y_new, est.ridge(x, y_new, P))]
    return jnp.stack(out)


@functools.cache
def _runner(sequences: int, batch: int, batches: int, K: int, exact: bool):
    """The compiled mean errors over `sequences` sequences per key and pool size, in `batches` batches:
    (pool sizes, keys, 4, K)."""
    def run(key, tasks, M, noise):
        def step(total, b):
            errors = _errors(jax.random.fold_in(key, b), tasks, M, noise, batch, K, exact)
            used = (b * batch + jnp.arange(batch)) < sequences
            return total + jnp.sum(jnp.where(used[None, :, None], errors, 0.0), axis=1), None

        total, _ = jax.lax.scan(step, jnp.zeros((4, K), tasks.dtype), jnp.arange(batches))
        return total / sequences

    over_seeds = jax.vmap(run, in_axes=(0, None, None, None))
    return jax.jit(jax.vmap(over_seeds, in_axes=(None, None, 0, None)))


def pool_groups(Ms, floor: int = 1024) -> list[np.ndarray]:
    """Indices of `Ms` in groups computed together, each padded to its largest M: greedy from the largest, a group
    grows while its padded cost stays within twice its own (a pool below `floor` costs as much as `floor`: the
    batch's other work), so that a geometric grid of M does not pay the largest M at every point."""
    order = np.argsort(Ms)[::-1]
    groups, current = [], []
    for i in order:
        cost = [max(int(Ms[j]), floor) for j in current + [i]]
        if current and len(cost) * cost[0] > 2 * sum(cost):
            groups.append(np.array(current))
            current = []
        current.append(i)
    return groups + [np.array(current)]


def mean_errors(d: int, K: int, noise: float, pool_seed: int, Ms, seeds, sequences: int, exact: bool) -> np.ndarray:
    """The four mean errors (pool sizes, seeds, 4, K) over `sequences` sequences per integer seed for every pool
    size in `Ms`, pool sizes of similar cost in one compiled call (`pool_groups`; the pools nested: the first M
    tasks of the largest; the same sequences for every M but the choice of pool task)."""
    from hild.families.icl import estimators as est

    Ms = np.asarray(Ms, dtype=np.int32)
    dtype = jnp.float64 if exact else jnp.float32
    keys = jax.vmap(jax.random.key)(jnp.asarray(seeds, dtype=jnp.uint32))
    out = np.empty((len(Ms), len(seeds), 4, K))
    for group in pool_groups(Ms):
        top = int(Ms[group].max())
        batch, batches = _batching(sequences, K, top, len(seeds) * len(group))
        tasks = est.pool(top, d, pool_seed, dtype)
        run = _runner(sequences, batch, batches, K, exact)
        out[group] = np.asarray(run(keys, tasks, jnp.asarray(Ms[group]), jnp.asarray(noise, dtype)))
    return out


@register
@dataclass(frozen=True, kw_only=True)
class TaskDiversity(Scenario):
    """The dMMSE and ridge estimators of in-context linear regression with a pool of M pretraining tasks
    (arXiv 2306.15063): their MSE at each context position k = 1 .. K, label noise included, on pool tasks and on
    new tasks w ~ N(0, I_d).

    dMMSE is Bayes-optimal for the pool: on pool tasks it beats ridge at small M; on new tasks its error falls
    towards ridge's as M grows. Ridge's error does not depend on M: sigma^2 (1 + E tr (X^T X + sigma^2 I)^{-1})
    over the (k - 1) x d design X.

    **Arguments:** `d` (>= 1): the dimension; `K` (>= 1): the positions; `noise` (> 0): the label noise's standard
    deviation sigma (0.5: the paper's sigma^2 = 0.25); `M` (>= 1): the pool size; `pool_seed` (>= 0): the pool's seed.
    """

    model: ClassVar[str] = "icl.task_diversity"
    axis: ClassVar[str] = "k"
    size: ClassVar[str] = "sequences"
    sweepable: ClassVar[tuple[str, ...]] = ("M", "noise", "pool_seed")
    convention: ClassVar[str] = ("x ~ N(0, I_d), w ~ N(0, I_d), y = w . x + N(0, noise^2); position k predicts y_k "
                                 "from the k - 1 earlier pairs; MSE with the label noise, not divided by d "
                                 "(arXiv 2306.15063)")
    description: ClassVar[str] = "in-context linear regression: dMMSE vs ridge per position, on pool and new tasks"
    papers: ClassVar[tuple[str, ...]] = ("2306.15063",)

    d: int = 8
    K: int = 16
    noise: float = 0.5
    M: int = 64
    pool_seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "d", check.integer("d", self.d, 1))
        object.__setattr__(self, "K", check.integer("K", self.K, 1))
        object.__setattr__(self, "noise", check.real("noise", self.noise, 0.0, strict_minimum=True))
        object.__setattr__(self, "M", check.integer("M", self.M, 1))
        object.__setattr__(self, "pool_seed", check.integer("pool_seed", self.pool_seed, 0))

    @classmethod
    def example(cls) -> "TaskDiversity":
        return cls(d=4, K=8, M=16)

    def _needs(self, sequences: int, seeds: int, what: str, name: str) -> list[Need]:
        """A batch's arrays (the log-likelihoods and estimates, 8 copies of batch x K x M at most, every seed),
        and the arithmetic: per sequence and position 6 M d for dMMSE (two task kinds) and d^3 for the ridge
        system."""
        K, M, d = self.K, self.M, self.d
        batch, _ = _batching(sequences, K, M, seeds)
        work = float(seeds) * sequences * K * (6.0 * M * d + 10.0 * d ** 3)
        return [Need("the pool", ("M",), 2 * array(M, d)),
                Need(f"the batch of {what}", ("M", "K", name), 8 * array(seeds, batch, K, max(M, d * d))),
                Need(f"the estimators on {what}", ("M", name, "seeds"), operations=work),
                Need("the mean errors", ("K", "seeds"), array(seeds, 4, K), result=True)]

    def check_theory(self, samples: int = 4096, **extra) -> None:
        super().check_theory(samples=samples, **extra)
        check.integer("samples", samples, 1)

    def theory_needs(self, samples, **_) -> list[Need]:
        return self._needs(samples, 1, "theory sequences", "samples")

    def theory(self, samples: int = 4096) -> xr.Dataset:
        """The estimators' expected errors (float64) over `samples` sequences of a fixed stream, exact over the
        queries and label noise (module docstring). **Returns:** `mse_dmmse`, `mse_ridge` over (tasks, k)."""
        with jax.enable_x64(True):
            errors = mean_errors(self.d, self.K, self.noise, self.pool_seed, [self.M], [THEORY_STREAM], samples,
                                 exact=True)[0, 0]
        return self._dataset(errors, None, "theory", "float64", samples=samples)

    def batch_key(self):
        """Scenarios that differ only in M share one compiled theory call (the pools nested)."""
        return (type(self).__name__, self.d, self.K, self.noise, self.pool_seed)

    @classmethod
    def theory_batch(cls, scenarios, samples: int = 4096) -> xr.Dataset:
        """The theory of scenarios that share a `batch_key` (differing in M) in one compiled call, along a new
        dimension `scenario`; others run one by one."""
        scenarios = list(scenarios)
        if not scenarios or len({s.batch_key() for s in scenarios}) > 1:
            return super().theory_batch(scenarios, samples=samples)
        for s in scenarios:
            s.admit("theory", samples=samples)
        first = scenarios[0]
        with jax.enable_x64(True):
            errors = mean_errors(first.d, first.K, first.noise, first.pool_seed, [s.M for s in scenarios],
                                 [THEORY_STREAM], samples, exact=True)[:, 0]
        out = xr.concat([s._dataset(e, None, "theory", "float64", samples=samples) for s, e in zip(scenarios, errors)],
                        "scenario", coords="minimal", compat="override", join="override", combine_attrs="override")
        return out.assign_coords(scenario=np.arange(len(scenarios)))

    def check_simulation(self, sequences: int = 1024, seeds: int = 1, seed: int = 0, **extra) -> None:
        super().check_simulation(sequences=sequences, seeds=seeds, seed=seed, **extra)
        check.integer("sequences", sequences, 1)
        check.seeds(seeds, seed, limit=MAX_SEED)

    def simulation_needs(self, sequences, seeds, **_) -> list[Need]:
        return self._needs(sequences, seeds, "sampled sequences", "sequences")

    def simulate(self, *, sequences: int = 1024, seeds: int = 1, seed: int = 0) -> xr.Dataset:
        """Each estimator's squared error on `sequences` sampled sequences per seed (float32), for the integer seeds
        seed, seed + 1, ... **Returns:** `mse_dmmse`, `mse_ridge` over (seed, tasks, k)."""
        seeds_used = list(range(seed, seed + seeds))
        errors = mean_errors(self.d, self.K, self.noise, self.pool_seed, [self.M], seeds_used, sequences,
                             exact=False)[0]
        return self._dataset(errors, seeds_used, "simulation", "float32", size=sequences)

    def _dataset(self, errors, seeds, kind: str, dtype: str, size=None, **extra) -> xr.Dataset:
        dims = ("tasks", "k") if seeds is None else ("seed", "tasks", "k")
        lead = (slice(None),) if seeds is not None else ()
        coords = {"tasks": list(TASKS), "k": np.arange(1, self.K + 1)}
        if seeds is not None:
            coords["seed"] = seeds
        ds = xr.Dataset({"mse_dmmse": (dims, errors[(*lead, slice(0, 2))]),
                         "mse_ridge": (dims, errors[(*lead, slice(2, 4))])}, coords=coords,
                        attrs=self.provenance(kind, dtype=dtype, seeds=seeds, size=size, **extra))
        ds.mse_dmmse.attrs["long_name"] = "dMMSE estimator's MSE at position k (label noise included)"
        ds.mse_ridge.attrs["long_name"] = "ridge estimator's MSE at position k (label noise included)"
        return check_divergence(ds, self.axis, None)

    def figure(self, theory, simulation, title: str = ""):
        """The per-position MSE of both estimators, one panel per task kind."""
        from hild.families.icl.figure import positions
        from hild.plot import scenario_title

        return positions(theory, simulation, title=title or scenario_title(self))
