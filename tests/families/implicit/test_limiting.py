"""The limiting dynamics of minibatch SGD on least squares (hild.implicit.LinearRegressionSGD; arXiv 2107.09133):
the exact stationary solve against a brute-force iteration of the second-moment recursion and a 1D closed form,
its small-lr limit, theory against SGD, unstable points, bad input."""
import numpy as np
import pytest

import hild.implicit as implicit
from hild.families.implicit.limiting import minimum, stationary


def _data(n=7, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)


@pytest.mark.parametrize("lr, batch, momentum, wd", [(0.1, 2, 0.0, 0.0), (0.05, 3, 0.6, 0.1)])
def test_stationary_solve_is_the_fixed_point_of_the_second_moment_recursion(lr, batch, momentum, wd):
    """Iterate C <- A C A^T + b Sigma(C_dd) b^T on the whole (2d x 2d) phase-space moment, with M4 summed sample
    by sample, to convergence: S and the displacement A^l C agree with the reduced solve to 1e-12."""
    X, y = _data()
    n, d = X.shape
    lags = [1, 5, 50]
    out = stationary(X, y, lr, batch, momentum, wd, lags)
    w, H, K = minimum(X, y, wd)
    A = np.block([[np.eye(d) - lr * K, -lr * momentum * np.eye(d)], [K, momentum * np.eye(d)]])
    b = np.vstack([-lr * np.eye(d), np.eye(d)])
    E = X * (X @ w - y)[:, None] + wd * w
    Sigma0 = E.T @ E / n / batch
    C = np.zeros((2 * d, 2 * d))
    for _ in range(5000):
        S = C[:d, :d]
        M4 = sum(float(x @ S @ x) * np.outer(x, x) for x in X) / n
        C = A @ C @ A.T + b @ (Sigma0 + (M4 - H @ S @ H) / batch) @ b.T
    assert np.abs(C[:d, :d] - out["S"]).max() < 1e-12 * np.abs(out["S"]).max() + 1e-17
    msd = [2 * np.trace(C[:d, :d]) - 2 * np.trace((np.linalg.matrix_power(A, lag) @ C)[:d, :d]) for lag in lags]
    assert np.allclose(out["msd"], msd, rtol=1e-10)
    assert out["stable"] and out["radius"] < 1 and out["feedback"] < 1


def test_one_dimensional_closed_form():
    """d = 1, no momentum: S = lr^2 Sigma0 / (1 - (1 - lr h)^2 - lr^2 (m4 - h^2) / B), m4 = mean x^4."""
    X, y = _data(n=9, d=1, seed=3)
    lr, batch = 0.2, 2
    out = stationary(X, y, lr, batch)
    w, H, _ = minimum(X, y, 0.0)
    x = X[:, 0]
    h, m4 = float(H[0, 0]), float(np.mean(x ** 4))
    e = x * (x * w[0] - y)
    S = lr ** 2 * np.mean(e * e) / batch / (1 - (1 - lr * h) ** 2 - lr ** 2 * (m4 - h * h) / batch)
    assert float(out["S"][0, 0]) == pytest.approx(S, rel=1e-12)
    assert float(out["S_frozen"][0, 0]) == pytest.approx(lr ** 2 * np.mean(e * e) / batch / (1 - (1 - lr * h) ** 2),
                                                         rel=1e-12)


def test_small_lr_limit_is_the_continuous_lyapunov_solution():
    """lr -> 0 with momentum 0.5 and weight decay: S / S_continuous - 1 = O(lr), and S_continuous solves
    K S + S K = lr Sigma0 / (1 - momentum)."""
    scenario = implicit.LinearRegressionSGD.gaussian(n=32, d=4, lr=1e-4, batch=4, momentum=0.5, weight_decay=0.1)
    th = scenario.theory(max_lag=10, n_lags=2)
    assert np.abs(th.S.values / th.S_continuous.values - 1).max() < 2e-3
    w, _, K = minimum(scenario.X, scenario.y, 0.1)
    E = scenario.X * (scenario.X @ w - scenario.y)[:, None] + 0.1 * w
    Sigma0 = E.T @ E / scenario.X.shape[0] / 4
    Sc = th.S_continuous.values
    assert np.allclose(K @ Sc + Sc @ K, 1e-4 * Sigma0 / 0.5, rtol=1e-10, atol=1e-12 * np.abs(Sigma0).max())
    assert float(th.trace_continuous) < float(th.trace)


def test_theory_matches_sgd_and_the_frozen_noise_does_not():
    """n = 64, d = 8, lr 0.1, B 4 (16 seeds x 20000 steps): tr S within 4 standard errors of the exact, more than
    10 from the frozen-noise solution; the displacement within 3% at every lag."""
    scenario = implicit.LinearRegressionSGD.gaussian(n=64, d=8, lr=0.1, batch=4)
    th = scenario.theory()
    sim = scenario.simulate(steps=20000, seeds=16, burn_in=2000)
    se = float(sim.trace.std(ddof=1)) / 4
    assert abs(float(sim.trace.mean()) - float(th.trace)) < 4 * se
    assert abs(float(sim.trace.mean()) - float(th.trace_frozen)) > 10 * se
    assert np.abs(sim.msd.mean("seed").values / th.msd.values - 1).max() < 0.03
    assert th.msd.values[-1] == pytest.approx(2 * float(th.trace), rel=1e-3)
    assert set(th.S.dims) == {"i", "j"} and set(sim.S.dims) == {"i", "j"} and sim.msd.dims == ("seed", "lag")


def test_unstable_learning_rate_is_unconverged():
    th = implicit.LinearRegressionSGD.gaussian(n=32, d=4, lr=3.0, batch=1).theory(max_lag=10, n_lags=2)
    assert not bool(th.converged) and np.isnan(th.S.values).all() and float(th.radius) > 1


def test_bad_input_names_the_parameter(refused):
    X, y = _data()
    for kwargs, name in [({"X": X[0]}, "X"), ({"y": y[:-1]}, "y"), ({"momentum": 1.0}, "momentum"),
                         ({"lr": -1.0}, "lr"), ({"batch": 0}, "batch"), ({"weight_decay": -0.1}, "weight_decay")]:
        with pytest.raises(ValueError, match=name):
            implicit.LinearRegressionSGD(**{"X": X, "y": y, **kwargs})
    with pytest.raises(ValueError, match="X, weight_decay"):
        implicit.LinearRegressionSGD(X=X[:2], y=y[:2])  # n < d: no unique minimum
    scenario = implicit.LinearRegressionSGD(X=X, y=y)
    with pytest.raises(ValueError, match="steps"):
        scenario.simulate(steps=1500)
    with pytest.raises(ValueError, match="burn_in"):
        scenario.simulate(burn_in=500)
    big = implicit.LinearRegressionSGD(X=np.ones((200000, 1)), y=np.ones(200000))
    refused(lambda: big.theory(), "X")
