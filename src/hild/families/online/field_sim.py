"""Any local-field rule (hild.families.online.rule) run as online learning at finite dimension d.

Each step draws a mixture component c ~ probs(t), E inputs x_e = mu_c + sqrt(Delta_c) * z_e (block
by block), the auxiliary normals, and applies the rule's update exactly as the ODEs assume:

    w_k <- w_k + (1/sqrt d) sum_e phi_{e,k} x_e - (decay/d) w_k,        theta <- theta + psi / d.

Inputs are drawn in blocks of steps sized to the cache (as for the committee,
hild.families.online.simulate), a `lax.scan` runs the steps of a block, and the overlaps
Q[b], S[b] and theta are recorded at n_points times. Seeds are spread over the CPU cores
(`shard_map`) or vmapped on an accelerator. The fixed vectors and the start are built per seed
(NumPy PCG64 from the seed) with exactly the block Grams and overlaps of the requested start.
"""
from __future__ import annotations

import functools

import numpy as np

from hild.core import devices, lazy
from hild.families.online.inputs import probabilities
from hild.families.online.simulate import CHUNKS, block_limit, block_size, run_records, seed_keys, seed_layout

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")


def block_sizes(d: int, fractions) -> np.ndarray:
    """The coordinates of each block: rho_b d rounded, summing to d (the last block takes the rest)."""
    sizes = np.floor(np.asarray(fractions) * d + 0.5).astype(int)
    sizes[-1] = d - sizes[:-1].sum()
    return sizes


TIME_SLACK = 0.005
"""The recorded times may be off the even grid by this fraction of a record interval, to give long blocks."""


def steps_between_records(d: int, t_max: float, n_points: int, limit: int) -> int:
    """Whole steps between two recorded times: d t_max / (n_points - 1) rounded; where its longest block (a
    divisor up to `limit`) is under half the limit, the count within TIME_SLACK of it with the longest block, so
    that a prime count does not force blocks of one step."""
    exact = d * t_max / (n_points - 1)
    steps = max(1, round(exact))
    if 2 * block_size(steps, limit) >= min(steps, limit):
        return steps
    slack = int(TIME_SLACK * exact)
    candidates = range(max(1, steps - slack), steps + slack + 1)
    return max(candidates, key=lambda s: (block_size(s, limit), -abs(s - exact)))


def _psd_sqrt(C: np.ndarray) -> np.ndarray:
    s, U = np.linalg.eigh((C + C.T) / 2)
    return (U * np.sqrt(np.clip(s, 0.0, None))) @ U.T


def initial_vectors(state: dict, inputs: dict, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Students W (K, d) and fixed vectors Fv (F, d) of one seed with, in every block b, exactly
    W^b W^b^T / d = Q[b], W^b Fv^b^T / d = S[b] and Fv^b Fv^b^T / d = gram[b] (random orientation)."""
    Q, S, G = (np.asarray(state["Q"], float), np.asarray(state["S"], float), np.asarray(inputs["gram"], float))
    K, F = S.shape[1:]
    rng = np.random.default_rng(seed)
    rows = []
    for b, size in enumerate(block_sizes(d, inputs["fractions"])):
        gamma = np.block([[Q[b], S[b]], [S[b].T, G[b]]])
        basis, _ = np.linalg.qr(rng.standard_normal((size, K + F)))
        rows.append(np.sqrt(d) * _psd_sqrt(gamma) @ basis.T)
    rows = np.concatenate(rows, axis=1)
    return rows[:K], rows[K:]


def minimum_d(K: int, F: int, fractions) -> int:
    """The smallest d at which every block holds K + F orthogonal directions."""
    d = K + F
    while np.any(block_sizes(d, fractions) < K + F):
        d += 1
    return d


@functools.lru_cache(maxsize=32)
def _chunk_runner(rule, d: int, block: int, records: int, seed_batch: int, cores: int, sizes: tuple):
    """A compiled function advancing every seed by `records` recorded intervals of `blocks_per_record` blocks."""
    sqrt_d = float(np.sqrt(d))
    E, A = rule.episode, rule.n_aux
    owner = np.repeat(np.arange(len(sizes)), sizes)                  # the block of each coordinate

    def observe(W, Fv, theta):
        Wb = [W[:, o:o + n] for o, n in zip(np.cumsum((0,) + sizes[:-1]), sizes)]
        Fb = [Fv[:, o:o + n] for o, n in zip(np.cumsum((0,) + sizes[:-1]), sizes)]
        return {"Q": jnp.stack([w @ w.T for w in Wb]) / d, "S": jnp.stack([w @ f.T for w, f in zip(Wb, Fb)]) / d,
                "theta": theta}

    def one_seed(state, key, first_block, blocks_per_record, p):
        Fv, dtype = state["Fv"], state["Fv"].dtype
        inputs = p["inputs"]
        spread = jnp.sqrt(jnp.asarray(inputs["variances"], dtype))[:, owner]          # (C, d)
        means = jnp.asarray(inputs["means"], dtype) @ Fv / sqrt_d                      # (C, d)

        def step(carry, draw):
            W, theta = carry
            c, z, aux = draw
            x = means[c] + spread[c] * z                                                # (E, d)
            lam, nu = x @ W.T / sqrt_d, x @ Fv.T / sqrt_d
            phi = rule.coefficient(lam, nu, c, aux, theta, p)
            W = W + (phi.T @ x) / sqrt_d - (p.get("decay", 0.0) / d) * W
            if rule.readout is not None:
                theta = theta + rule.readout(lam, nu, c, aux, theta, p) / d
            return (W, theta), None

        def run_block(carry, b):
            kc, kz, ka = jax.random.split(jax.random.fold_in(key, b), 3)
            t = (b * block + jnp.arange(block)) / d
            c = jax.vmap(lambda k, ti: jax.random.choice(k, spread.shape[0], p=probabilities(inputs, ti)))(
                jax.random.split(kc, block), t)
            Z = jax.random.normal(kz, (block, E, d), dtype)
            aux = jax.random.normal(ka, (block, A), dtype)
            carry, _ = jax.lax.scan(step, carry, (c, Z, aux))
            return carry

        def run_record(carry, r):
            first = first_block + r * blocks_per_record
            carry = jax.lax.fori_loop(0, blocks_per_record, lambda b, c: run_block(c, first + b), carry)
            return carry, observe(carry[0], Fv, carry[1])

        (W, theta), out = jax.lax.scan(run_record, (state["W"], state["theta"]), jnp.arange(records))
        return dict(state, W=W, theta=theta), out

    def all_seeds(state, keys, first_block, blocks_per_record, p):
        one = lambda sk: one_seed(*sk, first_block, blocks_per_record, p)  # noqa: E731
        # one seed at a time on each CPU core, all of them at once on an accelerator (seed_layout)
        return jax.lax.map(one, (state, keys)) if seed_batch == 1 else jax.vmap(one)((state, keys))

    if cores == 1:
        return jax.jit(all_seeds), observe
    P = jax.sharding.PartitionSpec
    mesh = jax.sharding.Mesh(np.array(devices.cpu_devices()[:cores]), ("seed",))
    return jax.jit(jax.shard_map(all_seeds, mesh=mesh, in_specs=(P("seed"), P("seed"), P(), P(), P()),
                                 out_specs=(P("seed"), P("seed")))), observe


def run(rule, start: dict, p: dict, d: int, seeds: int, seed: int, t_max: float, n_points: int,
        dtype: str = "float32", progress: bool = False, label: str = "online") -> tuple[dict, np.ndarray, dict]:
    """Online learning of `rule` for seeds seed .. seed + seeds - 1 from the overlaps `start`.

    **Returns:** (records: Q (seeds, n_points, B, K, K), S (seeds, n_points, B, K, F), theta
    (seeds, n_points, P), float64; the recorded times t (n_points,); facts: steps_per_record, block).
    """
    inputs = p["inputs"]
    K, F = rule.K, rule.F
    itemsize = np.dtype(dtype).itemsize
    limit = max(1, block_limit(d, K, F, itemsize) // rule.episode)
    steps_per_record = steps_between_records(d, t_max, n_points, limit)
    block = block_size(steps_per_record, limit)
    records = n_points - 1
    per_chunk = -(-records // min(CHUNKS, records))
    seed_list = list(range(seed, seed + seeds))
    cores, batch = seed_layout(seeds)
    rows = np.minimum(np.arange(-(-seeds // cores) * cores), seeds - 1)
    sizes = tuple(int(n) for n in block_sizes(d, inputs["fractions"]))

    with jax.enable_x64(dtype == "float64"):
        vectors = [initial_vectors(start, inputs, d, s) for s in seed_list]
        state = {"W": jnp.asarray(np.stack([v[0] for v in vectors])[rows], dtype),
                 "Fv": jnp.asarray(np.stack([v[1] for v in vectors])[rows], dtype),
                 "theta": jnp.asarray(np.broadcast_to(np.asarray(start["theta"], float),
                                                      (rows.size, np.size(start["theta"]))), dtype)}
        params = jax.tree.map(lambda a: jnp.asarray(a, dtype), p)
        keys = seed_keys(np.array(seed_list)[rows])
        runner, observe = _chunk_runner(rule, d, block, per_chunk, batch, cores, sizes)
        first = jax.vmap(observe)(state["W"], state["Fv"], state["theta"])
        rec = run_records(runner, state, keys, params, first, records, per_chunk, steps_per_record // block, seeds,
                          f"{label} d={d}, {seeds} seed{'s' * (seeds > 1)}", progress)
    t = np.arange(n_points) * steps_per_record / d
    return rec, t, {"steps_per_record": steps_per_record, "block": block}
