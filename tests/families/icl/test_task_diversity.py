"""icl.task_diversity: the dMMSE and ridge estimators (arXiv 2306.15063) against exact limits, the theory against
the sampled test error, the batched theory over M, bad input."""
import numpy as np
import pytest

from hild.families.icl import estimators
from hild.icl import TaskDiversity

SMALL = dict(d=4, K=8, noise=0.5)


@pytest.fixture(scope="module")
def small():
    """(scenario at M = 16, its theory, its simulation, the batched theory at M = 1 and 16): the test shapes."""
    s = TaskDiversity(**SMALL, M=16)
    batch = TaskDiversity.theory_batch([TaskDiversity(**SMALL, M=m) for m in (1, 16)], samples=4096)
    return s, s.theory(samples=4096), s.simulate(sequences=2048, seeds=8), batch


def test_theory_matches_the_sampled_test_error(small):
    """The simulation's seed mean (8 x 2048 sequences, float32) within 4 standard errors of the theory, at every
    position, estimator and task kind."""
    _, th, sim, _ = small
    for name in ("mse_dmmse", "mse_ridge"):
        mean, se = sim[name].mean("seed"), sim[name].std("seed") / np.sqrt(sim.sizes["seed"])
        z = np.abs((mean - th[name]) / se).values
        assert z.max() < 4, (name, z.max(), mean.values, th[name].values)
        assert set(th[name].dims) == {"tasks", "k"} and list(th.tasks.values) == ["pool", "new"]


def test_one_task_pool_and_no_context_are_exact(small):
    """M = 1: dMMSE always answers the pool's task, so on pool tasks its MSE is sigma^2 at every position and on
    new tasks sigma^2 + d + |w_1|^2; at k = 1 (no context) ridge answers 0: sigma^2 + d on new tasks, sigma^2 +
    |w_1|^2 on pool tasks."""
    th = small[3].isel(scenario=0)
    w1 = float(np.sum(np.asarray(estimators.pool(1, SMALL["d"], 0)) ** 2))
    s2, d = SMALL["noise"] ** 2, SMALL["d"]
    np.testing.assert_allclose(th.mse_dmmse.sel(tasks="pool"), s2, rtol=1e-12)
    se = np.sqrt(2 * d + 4 * w1) / np.sqrt(4096)  # the Monte Carlo error of the mean of |w - w_1|^2 over new w
    assert np.all(np.abs(th.mse_dmmse.sel(tasks="new") - (s2 + d + w1)) < 4 * se)
    np.testing.assert_allclose(th.mse_ridge.sel(tasks="new", k=1), s2 + d, rtol=1e-12)
    np.testing.assert_allclose(th.mse_ridge.sel(tasks="pool", k=1), s2 + w1, rtol=1e-6)


def test_ridge_reaches_least_squares_at_small_noise():
    """sigma -> 0: ridge's MSE on new tasks is sigma^2 (1 + E tr (X^T X)^-1) = sigma^2 (1 + d / (n - d - 1)) with
    n = k - 1 (the inverse-Wishart mean; d = 2 and n = 6, 7, where tr (X^T X)^-1 has a finite variance)."""
    th = TaskDiversity(d=2, K=8, noise=0.01, M=1).theory(samples=8192)
    n = np.arange(6, 8)
    exact = 0.01 ** 2 * (1 + 2 / (n - 2 - 1))
    np.testing.assert_allclose(th.mse_ridge.sel(tasks="new", k=n + 1), exact, rtol=0.02)


def test_batched_theory_over_m_is_the_theory_of_each(small):
    _, th, _, batch = small
    np.testing.assert_allclose(batch.isel(scenario=1).mse_dmmse, th.mse_dmmse, rtol=1e-9)
    np.testing.assert_allclose(batch.isel(scenario=1).mse_ridge, th.mse_ridge, rtol=1e-9)
    assert batch.sizes["scenario"] == 2


def test_bad_input_is_refused(refused):
    for field, value in (("M", 0), ("noise", 0.0), ("d", 2.5), ("K", 0), ("pool_seed", -1)):
        with pytest.raises(ValueError, match=field):
            TaskDiversity(**{**SMALL, field: value})
    with pytest.raises(ValueError, match="sequences"):
        TaskDiversity(**SMALL).simulate(sequences=0)
    with pytest.raises(ValueError, match="samples"):
        TaskDiversity(**SMALL).theory(samples=0)
    refused(lambda: TaskDiversity(M=2 ** 40).simulate(), "M")
