"""Online SGD of the soft committee machine at finite input dimension d, many seeds in one compiled call.

Each step draws a fresh x ~ N(0, I_d) and label noise zeta ~ N(0, 1) and applies the update in
hild.online.committee (learning-rate convention of arXiv 1906.08632). Inputs are drawn in blocks
of B steps (jax.random, key = (seed, block index)); a `lax.scan` runs the steps of a block,
a loop the blocks between two recorded times. B is sized to the cache (`block_limit`: a block and
the weights fit in CACHE_BUDGET bytes), so the drawn block is still in cache when the steps read it.
The seeds are spread over the CPU cores (one JAX CPU device per core, hild.core.devices; `shard_map`
over the seeds) and, on an accelerator, vmapped together (see `seed_layout`). The run is cut into a
few compiled chunks of records so that a progress bar can advance between them.

The drawn numbers are determined by the seed, d, K, M, the dtype and the steps between records
(which fix B), and the PRNG (`prng_impl`: threefry2x32, named explicitly so that JAX's default
setting does not change them); not by the number of seeds, the chunking or the number of cores.
Teacher and initial weights come from NumPy's PCG64 seeded by the same integer seed: the same call
gives the same numbers, and a seed run alone or on another core equals that seed in a batch
(bitwise on CPU; on an accelerator to the rounding of batched against single matrix products).
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import devices, divergence, lazy
from hild.core import validation as check
from hild.families.online.committee import Committee
from hild.families.online.ode import generalisation_error
from hild.families.online.theory import overlaps_from
from hild.progress import progress_bar

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

MAX_BLOCK = 1024
MIN_BLOCK = 8
CACHE_BUDGET = 1 << 20
"""Bytes of an input block plus the weights (one core's L2 cache): at d = 10^4 blocks of 16-32 steps ran
2.3x faster than blocks of 1024 (40 MB), blocks of 8 slower again (benchmarks/bench_online.py)."""
CHUNKS = 20
PRNG = {"cpu": "threefry2x32", "gpu": "threefry2x32", "tpu": "threefry2x32"}
"""JAX's PRNG per backend. On CPU at d = 10^4, 'rbg' and 'unsafe_rbg' (XLA's RngBitGenerator) draw a block
alone 3-4x faster than threefry2x32 (8-12 against 34 ns per Gaussian), but inside the SGD loop the run was
4-8x slower (also with an optimisation barrier between drawing and stepping), so threefry2x32 it is. On GPU
threefry2x32 is JAX's default, counter-based and vectorised (not yet measured here, benchmarks/bench_gpu.py),
and keeps the CPU's numbers for the same seed. All three give Gaussians of adequate quality for the inputs."""


def _psd_sqrt(C: np.ndarray) -> np.ndarray:
    s, U = np.linalg.eigh(C)
    return (U * np.sqrt(np.clip(s, 0.0, None))) @ U.T


def initial_weights(scenario: Committee, d: int, seed: int, init: dict | None):
    """Student (W, v) and teacher (W*, v*) weights of one seed, in float64.

    The teacher's overlaps W* W*^T / d equal T exactly (orthonormal directions scaled by sqrt d).
    With `init`, the weights have exactly init's overlaps Q, R and T.
    """
    K, M = scenario.K, scenario.M
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, K + M)))
    if init is None:
        Ws = np.sqrt(d) * _psd_sqrt(np.array(scenario.T)) @ basis[:, K:].T
        W = scenario.init_std * rng.standard_normal((K, d))
        return W, np.array(scenario.v), Ws, np.array(scenario.v_teacher)
    C = np.block([[init["Q"], init["R"]], [init["R"].T, init["T"]]])
    rows = np.sqrt(d) * _psd_sqrt(C) @ basis.T
    return rows[:K], init["v"], rows[K:], init["v_teacher"]


def seed_layout(seeds: int) -> tuple[int, int]:
    """(devices, batch): the seeds are split over `devices` JAX devices (the CPU cores, hild.core.devices), each
    advancing `batch` seeds together (vmap): all of them on an accelerator; one at a time on a CPU, where a
    batched step costs 3-4x more per seed than a single one (benchmarks/bench_online.py)."""
    cores = len(devices.cpu_devices())
    return (min(cores, seeds), 1) if cores else (1, seeds)


def prng_impl(backend: str) -> str:
    """The PRNG implementation (PRNG) that draws the inputs on `backend` ('cpu', 'gpu', 'tpu')."""
    if backend not in PRNG:
        raise ValueError(f"backend must be one of {sorted(PRNG)}; got {backend!r}")
    return PRNG[backend]


def block_limit(d: int, K: int, M: int, itemsize: int) -> int:
    """The most steps in an input block: B d + (K + M) d numbers of `itemsize` bytes within CACHE_BUDGET,
    clipped to [MIN_BLOCK, MAX_BLOCK]."""
    return int(np.clip(CACHE_BUDGET // (d * itemsize) - (K + M), MIN_BLOCK, MAX_BLOCK))


def block_size(steps: int, limit: int) -> int:
    """The largest divisor of `steps` up to `limit`: the steps in an input block."""
    return max(b for b in range(1, min(steps, limit) + 1) if steps % b == 0)


def steps_between_records(d: int, t_max: float, n_points: int, limit: int) -> int:
    """Whole steps between two recorded times, d t_max / (n_points - 1) rounded; where that has no divisor near
    the block limit (e.g. a prime), rounded to a multiple of min(64, limit) steps so that blocks stay long."""
    steps = max(1, round(d * t_max / (n_points - 1)))
    unit = min(64, limit)
    if steps > unit and block_size(steps, limit) < unit:
        steps = unit * round(steps / unit)
    return steps


def _observe(act, d, W, v, state):
    """Order parameters (and the held-out error) of the current weights."""
    out = {"Q": W @ W.T / d, "R": W @ state["Ws"].T / d, "v": v}
    if "X_test" in state:
        sqrt_d = np.sqrt(d)
        student = act.g(state["X_test"] @ W.T / sqrt_d) @ v
        teacher = act.g(state["X_test"] @ state["Ws"].T / sqrt_d) @ state["vs"]
        out["eg_test"] = 0.5 * jnp.mean((student - teacher) ** 2)
    return out


@functools.lru_cache(maxsize=32)
def _chunk_runner(act, d: int, block: int, records: int, seed_batch: int, cores: int):
    """A compiled function advancing every seed by `records` recorded intervals of `blocks_per_record` blocks (an
    argument, so that runs differing only in t_max share the compiled code): the seeds split evenly over the
    first `cores` CPU devices (shard_map), `seed_batch` seeds at a time on each."""
    sqrt_d = float(np.sqrt(d))

    def one_seed(state, key, first_block, blocks_per_record, hyper):
        Ws, vs = state["Ws"], state["vs"]
        dtype = Ws.dtype

        def step(carry, xz):
            W, v = carry
            x, z, teacher = xz
            lam = W @ x / sqrt_d
            delta = teacher + hyper["noise"] * z - v @ act.g(lam)
            W = (W + (hyper["lr"] / sqrt_d) * (v * act.dg(lam) * delta)[:, None] * x[None, :]
                 - (hyper["weight_decay"] / d) * W)
            v = v + (hyper["lr_v"] / d) * act.g(lam) * delta
            return (W, v), None

        def run_block(carry, b):
            kx, kz = jax.random.split(jax.random.fold_in(key, b))
            X = jax.random.normal(kx, (block, d), dtype)
            Z = jax.random.normal(kz, (block,), dtype)
            teacher = act.g(X @ Ws.T / sqrt_d) @ vs
            carry, _ = jax.lax.scan(step, carry, (X, Z, teacher))
            return carry, None

        def run_record(carry, r):
            first = first_block + r * blocks_per_record
            carry = jax.lax.fori_loop(0, blocks_per_record, lambda b, c: run_block(c, first + b)[0], carry)
            return carry, _observe(act, d, *carry, state)

        (W, v), out = jax.lax.scan(run_record, (state["W"], state["v"]), jnp.arange(records))
        return dict(state, W=W, v=v), out

    def all_seeds(state, keys, first_block, blocks_per_record, hyper):
        return jax.lax.map(lambda sk: one_seed(*sk, first_block, blocks_per_record, hyper), (state, keys),
                           batch_size=seed_batch)

    if cores == 1:
        return jax.jit(all_seeds)
    P = jax.sharding.PartitionSpec
    mesh = jax.sharding.Mesh(np.array(devices.cpu_devices()[:cores]), ("seed",))
    return jax.jit(jax.shard_map(all_seeds, mesh=mesh, in_specs=(P("seed"), P("seed"), P(), P(), P()),
                                 out_specs=(P("seed"), P("seed"))))


def seed_keys(seeds) -> jax.Array:
    """The PRNG keys of integer seeds (`prng_impl` of the backend), one per seed."""
    impl = prng_impl(jax.default_backend())
    return jax.vmap(lambda s: jax.random.key(s, impl=impl))(jnp.asarray(seeds, dtype=jnp.uint32))


def run_records(run, state, keys, hyper, first: dict, records: int, per_chunk: int, blocks_per_record: int,
                seeds: int, label: str, progress: bool) -> dict:
    """Advance a compiled chunk runner (`_chunk_runner`, or the engine's) over `records` recorded intervals, chunk by
    chunk with a progress bar. **Returns:** the records of the first `seeds` rows, `first` (at t = 0) then one per
    interval, as float64 NumPy arrays (seeds, records + 1, ...)."""
    chunks = [jax.tree.map(lambda a: np.asarray(a)[:seeds, None], first)]
    with progress_bar(label, total=records, enabled=progress) as advance:
        done = 0
        while done < records:
            state, out = run(state, keys, done * blocks_per_record, blocks_per_record, hyper)
            take = min(per_chunk, records - done)
            chunks.append(jax.tree.map(lambda a: np.asarray(a)[:seeds, :take], out))
            done += take
            advance(take)
    return {name: np.concatenate([c[name] for c in chunks], axis=1).astype(np.float64) for name in chunks[0]}


def check_run(scenario: Committee, d, seeds, seed, t_max, n_points, n_test=0) -> tuple:
    """Validate a simulation's size arguments; returns them as (d, seeds, seed, t_max, n_points, n_test)."""
    d = check.integer("d", d, scenario.K + scenario.M)
    seeds, seed = check.seeds(seeds, seed)
    t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
    return d, seeds, seed, t_max, check.integer("n_points", n_points, 2), check.integer("n_test", n_test, 0)


def simulate(scenario: Committee, d: int = 500, seeds: int = 1, t_max: float = 10.0, seed: int = 0,
             n_points: int = 101, init=None, n_test: int = 0, dtype: str = "float32",
             progress: bool = False) -> xr.Dataset:
    """Online SGD for `seeds` seeds; records Q, R, v, eg (and eg_test) at n_points times in [0, t_max].

    The recorded times are multiples of (steps between records) / d, as close to the even grid
    as whole steps allow. A seed whose weights stop being finite or whose Q_ii passes the
    divergence bound is marked `diverged`, with `t_diverged` the first recorded time it was.

    **Arguments:** `scenario`; `d` (>= 1); `seeds` (>= 1), `seed` (>= 0): the integer seeds seed, seed + 1, ...;
    `t_max` (> 0); `n_points` (>= 2); `init`: a dict of overlaps Q, R (T, v, v_teacher) to start from, or None;
    `n_test` (>= 0): test samples for `eg_test`; `dtype`: "float32" or "float64"; `progress`.

    **Returns:** a Dataset over (seed, t, k, k2, m) with Q, R, v, eg (eg_test), `diverged`, `t_diverged`.
    """
    d, seeds, seed, t_max, n_points, n_test = check_run(scenario, d, seeds, seed, t_max, n_points, n_test)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    if init is not None and not isinstance(init, dict):  # (no isinstance on xarray: it loads before the first step)
        raise ValueError(f"simulate's init must be None or a dict of overlaps Q, R (T, v, v_teacher); "
                         f"got {type(init).__name__}")
    start = None if init is None else overlaps_from(scenario, init)[0][0]

    limit = block_limit(d, scenario.K, scenario.M, np.dtype(dtype).itemsize)
    steps_per_record = steps_between_records(d, t_max, n_points, limit)
    block = block_size(steps_per_record, limit)
    records = n_points - 1
    per_chunk = -(-records // min(CHUNKS, records))
    seed_list = list(range(seed, seed + seeds))
    cores, batch = seed_layout(seeds)
    rows = np.minimum(np.arange(-(-seeds // cores) * cores), seeds - 1)  # the last seed repeated to fill the cores

    with jax.enable_x64(dtype == "float64"):
        weights = [initial_weights(scenario, d, s, start) for s in seed_list]
        test_inputs = [np.random.default_rng([s, 1]).standard_normal((n_test, d)) for s in seed_list] if n_test else []
        state = {name: jnp.asarray(np.stack([w[i] for w in weights])[rows], dtype)
                 for i, name in enumerate(("W", "v", "Ws", "vs"))}
        if n_test:
            state["X_test"] = jnp.asarray(np.stack(test_inputs)[rows], dtype)
        keys = seed_keys(np.array(seed_list)[rows])
        hyper = {name: jnp.asarray(getattr(scenario, name), dtype) for name in ("lr", "lr_v", "noise", "weight_decay")}
        run = _chunk_runner(scenario.act, d, block, per_chunk, batch, cores)
        first = jax.vmap(lambda W, v, st: _observe(scenario.act, d, W, v, st))(state["W"], state["v"], state)
        rec = run_records(run, state, keys, hyper, first, records, per_chunk, steps_per_record // block, seeds,
                          f"SGD d={d}, {seeds} seed{'s' * (seeds > 1)}", progress)
    return _dataset(scenario, rec, weights, seed_list, d, steps_per_record, block, dtype, n_test)


def _dataset(scenario, rec, weights, seed_list, d, steps_per_record, block, dtype, n_test) -> xr.Dataset:
    K, M = scenario.K, scenario.M
    t = np.arange(rec["Q"].shape[1]) * steps_per_record / d
    T = np.stack([w[2] @ w[2].T / d for w in weights])
    vt = np.stack([w[3] for w in weights])
    with jax.enable_x64(True):
        eg = np.asarray(generalisation_error(scenario.act, jnp.asarray(rec["Q"]), jnp.asarray(rec["R"]),
                                             jnp.asarray(T)[:, None], jnp.asarray(rec["v"]), jnp.asarray(vt)[:, None]))
    data = {"eg": (("seed", "t"), eg),
            "Q": (("seed", "t", "k", "k2"), rec["Q"]),
            "R": (("seed", "t", "k", "m"), rec["R"]),
            "v": (("seed", "t", "k"), rec["v"]),
            "T": (("seed", "m", "m2"), T),
            "v_teacher": (("seed", "m"), vt)}
    if n_test:
        data["eg_test"] = (("seed", "t"), rec["eg_test"])
    ds = xr.Dataset(data, coords={"seed": seed_list, "t": t, "k": np.arange(K), "k2": np.arange(K),
                                  "m": np.arange(M), "m2": np.arange(M)})
    ds = divergence.check(ds, "t", scenario.divergence)
    ds.attrs.update(scenario.provenance("simulation", dtype=dtype, seeds=seed_list, size=d,
                                        steps_per_record=steps_per_record, block=block, n_test=n_test))
    return ds
