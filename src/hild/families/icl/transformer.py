"""A small transformer pretrained on in-context linear regression, `icl.transformer` (Raventos, Paul, Chen, Ganguli,
arXiv 2306.15063): its error per context position against the two Bayes references, dMMSE and ridge.

The sequence (x_1, y_1, ..., x_K, y_K) is 2K tokens of width d + 1: x_i as (x_i, 0), y_i as (0, y_i). A GPT-2-like
decoder (learned positional embedding, `layers` pre-LayerNorm blocks of causal multi-head attention and a GELU MLP
of width 4 `width`, a final LayerNorm and a linear readout) predicts y_k from its output at the token x_k, which
sees (x_1, y_1, ..., x_k) only. Pretraining minimises (1/K) sum_k (y_k - y_hat_k)^2 with Adam over `steps` batches
of `batch` fresh sequences, the task of each drawn uniformly from the pool of M tasks (estimators.pool, the same
pool as `icl.task_diversity`); the learning rate rises linearly from 0 to `lr` over the first half of the steps and
falls back to 0 over the second (the paper's "triangle" schedule: 8 layers, width 128, 2 heads, batch 256, lr 1e-3,
500k steps in the authors' configuration).

What is theory and what is simulation:

- `theory(samples=)`: the Bayes references, `mse_dmmse` and `mse_ridge` over (tasks, k), from `TaskDiversity`.
- `simulate(sequences=, seeds=, seed=)`: per seed, a transformer trained from that seed, tested on `sequences`
  fresh sequences on pool tasks and on new tasks w ~ N(0, I_d): its `mse`, and on the same test sequences the
  dMMSE and ridge errors `mse_dmmse`, `mse_ridge` (paired with the transformer's, float32).

`train(...)` trains several pool sizes and seeds in ONE compiled call (vmap over the runs, lax.scan over the
steps); every draw comes from the run's integer seed, so a run is reproducible exactly.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.divergence import check as check_divergence
from hild.core.resources import Need, array

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
optax = lazy.module("optax")
xr = lazy.module("xarray")

TASKS = ("pool", "new")
STREAMS = {"init": 1, "data": 2, "test": 3}
"""The tags folded into a run's seed: the initial weights, the pretraining batches, the test sequences."""
TEST_ELEMENTS = 2 ** 21
"""One test batch holds at most this many dMMSE log-likelihoods (batch x K x M), every run together."""
MAX_SEED = 2 ** 31 - 1


@dataclass(frozen=True)
class Architecture:
    """The shapes of the decoder: `d`, `K` (2K tokens), `layers`, `width`, `heads` (width divisible by heads)."""

    d: int
    K: int
    layers: int
    width: int
    heads: int

    def init(self, key) -> dict:
        """GPT-2's initialisation: weights N(0, 0.02^2), the residual outputs scaled by 1 / sqrt(2 layers), biases
        0, LayerNorm gains 1. **Returns:** the parameters, a dict (the blocks' stacked over a leading `layers`)."""
        L, W, T = self.layers, self.width, 2 * self.K
        k = jax.random.split(key, 6)
        normal = lambda key, shape, scale=0.02: scale * jax.random.normal(key, shape, jnp.float32)  # noqa: E731
        residual = 0.02 / math.sqrt(2 * L)
        return {"embed": normal(k[0], (self.d + 1, W)), "position": normal(k[1], (T, W)),
                "qkv": normal(k[2], (L, W, 3 * W)), "out": normal(k[3], (L, W, W), residual),
                "up": normal(k[4], (L, W, 4 * W)), "down": normal(k[5], (L, 4 * W, W), residual),
                "b_qkv": jnp.zeros((L, 3 * W)), "b_out": jnp.zeros((L, W)), "b_up": jnp.zeros((L, 4 * W)),
                "b_down": jnp.zeros((L, W)), "ln1": jnp.ones((L, 2, W)) * jnp.array([1.0, 0.0])[:, None],
                "ln2": jnp.ones((L, 2, W)) * jnp.array([1.0, 0.0])[:, None],
                "ln_f": jnp.ones((2, W)) * jnp.array([1.0, 0.0])[:, None], "read": jnp.zeros((W,)),
                "b_read": jnp.zeros(())}

    def apply(self, params: dict, x, y):
        """The predictions y_hat_k, (batch, K), of sequences x (batch, K, d), y (batch, K): y_hat_k from the decoder's
        output at the token x_k, causal attention (token t attends to tokens <= t)."""
        B, K, d = x.shape
        H, W = self.heads, self.width
        tokens = jnp.concatenate([jnp.concatenate([x, jnp.zeros((B, K, 1), x.dtype)], -1),
                                  jnp.concatenate([jnp.zeros((B, K, d), x.dtype), y[..., None]], -1)], -1)
        h = tokens.reshape(B, 2 * K, d + 1) @ params["embed"] + params["position"]
        causal = jnp.tril(jnp.ones((2 * K, 2 * K), bool))

        def block(h, p):
            q, k, v = jnp.split(_norm(h, p["ln1"]) @ p["qkv"] + p["b_qkv"], 3, -1)
            q, k, v = (a.reshape(B, 2 * K, H, W // H) for a in (q, k, v))
            scores = jnp.einsum("bthe,bshe->bhts", q, k) / math.sqrt(W // H)
            attention = jax.nn.softmax(jnp.where(causal, scores, -jnp.inf), -1)
            mixed = jnp.einsum("bhts,bshe->bthe", attention, v).reshape(B, 2 * K, W)
            h = h + mixed @ p["out"] + p["b_out"]
            return h + jax.nn.gelu(_norm(h, p["ln2"]) @ p["up"] + p["b_up"]) @ p["down"] + p["b_down"], None

        blocks = {k: params[k] for k in ("qkv", "out", "up", "down", "b_qkv", "b_out", "b_up", "b_down", "ln1", "ln2")}
        h, _ = jax.lax.scan(block, h, blocks)
        return _norm(h[:, 0::2], params["ln_f"]) @ params["read"] + params["b_read"]


def _norm(h, gain_bias):
    """LayerNorm over the last axis with gain and bias gain_bias (2, width)."""
    mean = h.mean(-1, keepdims=True)
    var = ((h - mean) ** 2).mean(-1, keepdims=True)
    return (h - mean) / jnp.sqrt(var + 1e-5) * gain_bias[0] + gain_bias[1]


def _train_one(arch: Architecture, noise: float, steps: int, batch: int, lr: float, key, M, tasks):
    """The parameters after `steps` Adam steps (triangle schedule peaking at `lr`) from the run's key, on pool tasks
    (the first M of `tasks`), and the training loss at each step."""
    from hild.families.icl import estimators as est

    half = max(1, steps // 2)
    triangle = optax.join_schedules([optax.linear_schedule(0.0, lr, half),
                                     optax.linear_schedule(lr, 0.0, max(1, steps - half))], [half])
    optimiser = optax.adam(triangle)
    params = arch.init(jax.random.fold_in(key, STREAMS["init"]))
    data = jax.random.fold_in(key, STREAMS["data"])

    def loss(params, x, y):
        return jnp.mean((y - arch.apply(params, x, y)) ** 2)

    def step(state, t):
        params, opt = state
        x, _, _, y, _ = est.sequences(jax.random.fold_in(data, t), tasks, batch, arch.K, noise, M)
        value, grad = jax.value_and_grad(loss)(params, x, y)
        updates, opt = optimiser.update(grad, opt, params)
        return (optax.apply_updates(params, updates), opt), value

    (params, _), losses = jax.lax.scan(step, (params, optimiser.init(params)), jnp.arange(steps))
    return params, losses


def _test_one(arch: Architecture, noise: float, sequences: int, test_batch: int, params, key, M, tasks):
    """The mean errors (3, 2, K) over `sequences` test sequences: (transformer, dMMSE, ridge) x (pool, new)."""
    from hild.families.icl import estimators as est

    test = jax.random.fold_in(key, STREAMS["test"])

    def errors(b):
        x, _, _, y_pool, y_new = est.sequences(jax.random.fold_in(test, b), tasks, test_batch, arch.K, noise, M)
        P = est.ridge_system(x, noise)
        out = [[(y - arch.apply(params, x, y)) ** 2 for y in (y_pool, y_new)],
               [est.query_error(x, y, est.dmmse(x, y, tasks, noise, M)) for y in (y_pool, y_new)],
               [est.query_error(x, y, est.ridge(x, y, P)) for y in (y_pool, y_new)]]
        return jnp.stack([jnp.stack(o) for o in out])  # (3, 2, batch, K)

    def scan_step(total, b):
        used = (b * test_batch + jnp.arange(test_batch)) < sequences
        return total + jnp.sum(jnp.where(used[:, None], errors(b), 0.0), axis=2), None

    batches = -(-sequences // test_batch)
    total, _ = jax.lax.scan(scan_step, jnp.zeros((3, 2, arch.K)), jnp.arange(batches))
    return total / sequences


@functools.cache
def _compiled(arch: Architecture, noise: float, steps: int, batch: int, lr: float, sequences: int, test_batch: int):
    """The compiled training and testing of runs (M, seed), vmapped over the runs."""
    def run(key, M, tasks):
        params, losses = _train_one(arch, noise, steps, batch, lr, key, M, tasks)
        return _test_one(arch, noise, sequences, test_batch, params, key, M, tasks), losses

    return jax.jit(jax.vmap(run, in_axes=(0, 0, None)))


def train(arch: Architecture, noise: float, Ms, seeds, *, steps: int, batch: int, lr: float, sequences: int,
          pool_seed: int = 0):
    """Pretrain one transformer per pair (M, seed) of `Ms` x `seeds` and test it, all in one compiled call.

    **Arguments:** `arch`: the shapes; `noise`: sigma; `Ms`: the pool sizes (nested pools: the first M tasks of the
    largest, drawn from `pool_seed`); `seeds`: the integer seeds (the initial weights, the batches and the test
    sequences of a run come from its seed only, the same for every M); `steps`, `batch`, `lr`: Adam's; `sequences`:
    the test sequences per run.

    **Returns:** (errors, losses): errors (len(Ms), len(seeds), 3, 2, K), the mean squared error of (transformer,
    dMMSE, ridge) on (pool, new) tasks at each position k; losses (len(Ms), len(seeds), steps), the training loss.
    """
    from hild.families.icl import estimators as est

    Ms, seeds = np.asarray(Ms, dtype=np.int32), np.asarray(seeds)
    runs_M = np.repeat(Ms, len(seeds))
    keys = jax.vmap(jax.random.key)(jnp.asarray(np.tile(seeds, len(Ms)), dtype=jnp.uint32))
    top = int(Ms.max())
    test_batch = int(max(1, min(sequences, TEST_ELEMENTS // (arch.K * top * len(runs_M)))))
    run = _compiled(arch, float(noise), int(steps), int(batch), float(lr), int(sequences), test_batch)
    errors, losses = run(keys, jnp.asarray(runs_M), est.pool(top, arch.d, pool_seed))
    shape = (len(Ms), len(seeds))
    return np.asarray(errors).reshape(*shape, 3, 2, arch.K), np.asarray(losses).reshape(*shape, -1)


@register
@dataclass(frozen=True, kw_only=True)
class Transformer(Scenario):
    """A transformer pretrained on in-context linear regression with a pool of M tasks (arXiv 2306.15063): its MSE
    at each position k = 1 .. K (label noise included) on pool and new tasks, against dMMSE and ridge.

    Below a task-diversity threshold M* the pretrained transformer behaves like dMMSE (the pool's posterior mean),
    above it like ridge (the Gaussian prior's), although dMMSE is optimal on the training distribution.

    **Arguments:** `d` (>= 1), `K` (>= 1), `noise` (> 0: sigma), `M` (>= 1), `pool_seed` (>= 0): as in
    `TaskDiversity`; `layers` (>= 1), `width` (>= 1, divisible by `heads`), `heads` (>= 1): the decoder;
    `steps` (>= 1), `batch` (>= 1), `lr` (> 0): Adam's pretraining.
    """

    model: ClassVar[str] = "icl.transformer"
    axis: ClassVar[str] = "k"
    size: ClassVar[str] = "sequences"
    sweepable: ClassVar[tuple[str, ...]] = ("M", "noise", "pool_seed", "steps", "lr")
    convention: ClassVar[str] = ("x ~ N(0, I_d), w ~ N(0, I_d), y = w . x + N(0, noise^2); tokens (x, 0), (0, y); "
                                 "y_k predicted at the token x_k; Adam on the mean squared error over positions; "
                                 "MSE with the label noise, not divided by d (arXiv 2306.15063)")
    description: ClassVar[str] = "a small transformer pretrained on in-context regression, against dMMSE and ridge"
    papers: ClassVar[tuple[str, ...]] = ("2306.15063",)
    divergence: ClassVar[Blowup] = Blowup(("mse",), 1e6)

    d: int = 8
    K: int = 16
    noise: float = 0.5
    M: int = 64
    pool_seed: int = 0
    layers: int = 2
    width: int = 64
    heads: int = 2
    steps: int = 2000
    batch: int = 64
    lr: float = 1e-3

    def __post_init__(self):
        for name, minimum in (("d", 1), ("K", 1), ("M", 1), ("pool_seed", 0), ("layers", 1), ("width", 1),
                              ("heads", 1), ("steps", 1), ("batch", 1)):
            object.__setattr__(self, name, check.integer(name, getattr(self, name), minimum))
        if self.width % self.heads:
            raise ValueError(f"width = {self.width} must be divisible by heads = {self.heads}")
        object.__setattr__(self, "noise", check.real("noise", self.noise, 0.0, strict_minimum=True))
        object.__setattr__(self, "lr", check.real("lr", self.lr, 0.0, strict_minimum=True))

    @classmethod
    def example(cls) -> "Transformer":
        return cls(d=2, K=4, M=4, layers=1, width=8, heads=2, steps=20, batch=8)

    @property
    def architecture(self) -> Architecture:
        return Architecture(self.d, self.K, self.layers, self.width, self.heads)

    def parameters_count(self) -> int:
        """The number of trained parameters."""
        W, L = self.width, self.layers
        return (self.d + 1) * W + 2 * self.K * W + L * (12 * W * W + 13 * W) + 3 * W + 1

    def check_theory(self, samples: int = 4096, **extra) -> None:
        super().check_theory(samples=samples, **extra)
        check.integer("samples", samples, 1)

    def theory_needs(self, samples, **_) -> list[Need]:
        return self._references().theory_needs(samples)

    def _references(self):
        from hild.families.icl.task_diversity import TaskDiversity

        return TaskDiversity(d=self.d, K=self.K, noise=self.noise, M=self.M, pool_seed=self.pool_seed)

    def theory(self, samples: int = 4096) -> xr.Dataset:
        """The Bayes references (TaskDiversity's theory, float64). **Returns:** `mse_dmmse`, `mse_ridge` over
        (tasks, k)."""
        ds = self._references().theory(samples=samples)
        ds.attrs.update(self.provenance("theory", dtype="float64", samples=samples))
        return ds

    def check_simulation(self, sequences: int = 1024, seeds: int = 1, seed: int = 0, **extra) -> None:
        super().check_simulation(sequences=sequences, seeds=seeds, seed=seed, **extra)
        if check.integer("sequences", sequences, 1) > MAX_SEED:  # counted in int32 inside the compiled test
            raise ValueError(f"sequences must be an integer in [1, {MAX_SEED}]; got {sequences}")
        check.seeds(seeds, seed, limit=MAX_SEED)

    def simulation_needs(self, sequences, seeds, **_) -> list[Need]:
        """The activations kept for the gradient (about 24 x tokens x width per layer and sequence, every seed),
        the test batch's dMMSE log-likelihoods, and the arithmetic: 6 x parameters x tokens per sequence trained,
        and per test sequence a forward pass (2 x parameters x tokens), dMMSE (K M d) and ridge (K d^3)."""
        T, W = 2 * self.K, self.width
        activations = array(seeds, self.batch, self.layers * T, 24 * W + 2 * self.heads * T, itemsize=4)
        test_batch = max(1, min(sequences, TEST_ELEMENTS // (self.K * self.M * seeds)))
        work = 6.0 * self.parameters_count() * T * self.batch * self.steps * seeds
        return [Need("the pool", ("M",), 2 * array(self.M, self.d)),
                Need("the activations of a training batch", ("batch", "layers", "width", "K", "seeds"),
                     activations + 4 * array(seeds, self.parameters_count(), itemsize=4)),
                Need("the test batch", ("M", "K", "sequences"), 8 * array(seeds, test_batch, self.K,
                                                                          max(self.M, self.d ** 2), itemsize=4)),
                Need("the pretraining", ("steps", "batch", "width", "layers", "seeds"), operations=work),
                Need("the test", ("sequences", "seeds", "M", "K"),
                     operations=float(seeds) * sequences * (2.0 * self.parameters_count() * T
                                                           + self.K * (self.M * self.d + self.d ** 3))),
                Need("the mean errors", ("K", "seeds"), array(seeds, 6, self.K), result=True)]

    def simulate(self, *, sequences: int = 1024, seeds: int = 1, seed: int = 0) -> xr.Dataset:
        """Pretrain a transformer from each integer seed seed, seed + 1, ... (all in one compiled call) and test it
        on `sequences` fresh sequences (float32). **Returns:** `mse` (the transformer), `mse_dmmse`, `mse_ridge` (on
        the same test sequences) over (seed, tasks, k), and `final_loss` (the mean training loss over the last
        tenth of the steps) over seed."""
        seeds_used = list(range(seed, seed + seeds))
        errors, losses = train(self.architecture, self.noise, [self.M], seeds_used, steps=self.steps,
                               batch=self.batch, lr=self.lr, sequences=sequences, pool_seed=self.pool_seed)
        return self.dataset(errors[0], losses[0], seeds_used, sequences)

    def dataset(self, errors, losses, seeds, sequences: int) -> xr.Dataset:
        """The simulation's Dataset from `train`'s errors (seeds, 3, 2, K) and losses (seeds, steps) at this M."""
        dims = ("seed", "tasks", "k")
        coords = {"seed": list(seeds), "tasks": list(TASKS), "k": np.arange(1, self.K + 1)}
        tail = max(1, self.steps // 10)
        ds = xr.Dataset({"mse": (dims, errors[:, 0]), "mse_dmmse": (dims, errors[:, 1]),
                         "mse_ridge": (dims, errors[:, 2]),
                         "final_loss": (("seed",), np.asarray(losses)[:, -tail:].mean(-1))}, coords=coords,
                        attrs=self.provenance("simulation", dtype="float32", seeds=list(seeds), size=sequences,
                                              parameters=self.parameters_count()))
        ds.mse.attrs["long_name"] = "pretrained transformer's MSE at position k (label noise included)"
        ds.mse_dmmse.attrs["long_name"] = "dMMSE estimator's MSE on the same test sequences"
        ds.mse_ridge.attrs["long_name"] = "ridge estimator's MSE on the same test sequences"
        return check_divergence(ds, self.axis, self.divergence)

    def figure(self, theory, simulation, title: str = ""):
        """The transformer's MSE per position over the Bayes references, one panel per task kind."""
        from hild.families.icl.figure import transformer_positions
        from hild.plot import scenario_title

        return transformer_positions(theory, {self.M: simulation} if simulation is not None else {},
                                     title=title or scenario_title(self))
