"""Online SGD's speed layout: input blocks sized to the cache, the PRNG per backend, seeds over the CPU cores,
and that none of it changes the numbers (hild.online.simulate)."""
import importlib
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from hild.core import devices
from hild.families.online import Committee

sgd = importlib.import_module("hild.families.online.simulate")

SCENARIO = Committee(K=2, M=2, lr=0.5, noise=0.1)
RUN = dict(d=200, t_max=1.0, n_points=3)


def test_block_limit_fits_block_and_weights_in_the_cache_budget():
    for d, item in ((1000, 4), (10_000, 4), (10_000, 8), (30_000, 4)):
        B = sgd.block_limit(d, 2, 2, item)
        assert (B + 4) * d * item <= sgd.CACHE_BUDGET or B == sgd.MIN_BLOCK
        assert (B + 5) * d * item > sgd.CACHE_BUDGET or B == sgd.MAX_BLOCK
    assert sgd.block_limit(10_000, 2, 2, 4) == 22
    assert sgd.block_limit(10_000, 2, 2, 8) == 9
    assert sgd.block_limit(100, 2, 2, 4) == sgd.MAX_BLOCK
    assert sgd.block_limit(10 ** 6, 2, 2, 4) == sgd.MIN_BLOCK
    assert sgd.block_limit(10_000, 30, 30, 4) < sgd.block_limit(10_000, 2, 2, 4)


def test_steps_between_records_stay_a_multiple_of_a_long_block():
    assert sgd.block_size(1000, 22) == 20
    steps = sgd.steps_between_records(1009, 1.0, 2, 22)  # 1009 is prime
    assert abs(steps - 1009) <= 11 and sgd.block_size(steps, 22) == 22
    assert sgd.steps_between_records(10, 1.0, 2, 22) == 10


def test_simulation_uses_the_cache_sized_block():
    ds = SCENARIO.simulate(d=2000, t_max=0.5, n_points=2)
    assert ds.attrs["steps_per_record"] == 1000 and ds.attrs["block"] == 125  # was 1000 with fixed blocks


def test_prng_per_backend():
    assert sgd.prng_impl("cpu") == "threefry2x32"
    assert sgd.prng_impl("gpu") == "threefry2x32"
    with pytest.raises(ValueError, match="backend"):
        sgd.prng_impl("abacus")


def test_draws_do_not_follow_jax_default_prng_setting():
    before = SCENARIO.simulate(**RUN)
    default = jax.config.jax_default_prng_impl
    jax.config.update("jax_default_prng_impl", "rbg")
    try:
        after = SCENARIO.simulate(**RUN)
    finally:
        jax.config.update("jax_default_prng_impl", default)
    np.testing.assert_array_equal(before.Q.values, after.Q.values)


def test_same_call_twice_and_a_seed_alone_equal_that_seed_in_a_batch():
    batch = SCENARIO.simulate(seeds=3, seed=7, **RUN)
    again = SCENARIO.simulate(seeds=3, seed=7, **RUN)
    alone = SCENARIO.simulate(seeds=1, seed=9, **RUN)
    for name in ("Q", "R", "v", "eg"):
        np.testing.assert_array_equal(batch[name].values, again[name].values)
        np.testing.assert_array_equal(batch[name].sel(seed=9).values, alone[name].sel(seed=9).values)


def cores_equal_sequential() -> None:
    """Three seeds over two CPU devices (the last core padded) equal the same seeds run one after another."""
    assert len(jax.devices("cpu")) >= 2
    spread = SCENARIO.simulate(seeds=3, seed=7, **RUN)
    layout = sgd.seed_layout
    sgd.seed_layout = lambda seeds: (1, 1)
    try:
        sequential = SCENARIO.simulate(seeds=3, seed=7, **RUN)
    finally:
        sgd.seed_layout = layout
    assert layout(3) == (2, 1)
    for name in ("Q", "R", "v", "eg"):
        np.testing.assert_array_equal(spread[name].values, sequential[name].values)


def test_seeds_over_cores_equal_the_sequential_path():
    if len(jax.devices("cpu")) >= 2 and jax.default_backend() == "cpu":
        cores_equal_sequential()
        return
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_NUM_CPU_DEVICES": "2",
                                                                       "JAX_PLATFORMS": "cpu"}
    code = "from tests.families.test_committee_speed import cores_equal_sequential as f; f()"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]


def test_cpu_cores_left_alone_where_the_user_chose(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
    assert devices.user_chose()
    monkeypatch.delenv("XLA_FLAGS")
    monkeypatch.setenv("JAX_NUM_CPU_DEVICES", "1")
    assert devices.user_chose()
