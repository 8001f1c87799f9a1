"""Stochastic collapse in 1D (hild.implicit.StochasticCollapse, collapse_window; arXiv 2306.04251): the exact
Lyapunov exponent against an independent closed form and textbook limits, the window of models.md section 10,
theory against SGD, bad input."""
import math

import numpy as np
import pytest

import hild.implicit as implicit
from hild.families.implicit import collapse


@pytest.mark.parametrize("lr, m, s", [(0.05, 0.25, 2.0), (0.2, 0.25, 2.0), (1.2, 0.25, 2.0), (0.5, 1.0, 2.0),
                                      (4.0, -0.25, 1.0), (3.0, -0.3, 0.5)])
def test_lyapunov_matches_the_noncentral_chi_square_series(lr, m, s):
    """The quadrature (log singularity integrated exactly) against the Poisson mixture of chi-squares, including
    1 + lr m = 0 (lr 4, m -0.25) where the mass sits on the singularity."""
    assert abs(float(collapse.lyapunov(lr, m, s)) - collapse.lyapunov_series(lr, m, s)) < 1e-10


def test_lyapunov_exact_limits():
    """1 + lr m = 0: E ln|sigma z| = ln sigma - (gamma_E + ln 2) / 2; s = 0: ln|1 + lr m|; small lr:
    lr m - lr^2 (m^2 + s^2) / 2 + lr^3 (m^3 + 3 m s^2) / 3 + O(lr^4)."""
    assert abs(float(collapse.lyapunov(4.0, -0.25, 1.0)) - (math.log(4.0) - (np.euler_gamma + math.log(2)) / 2)) < 1e-12
    assert float(collapse.lyapunov(0.3, 0.5, 0.0)) == pytest.approx(math.log(1.15), abs=1e-15)
    lr, m, s = 1e-2, 0.25, 2.0
    series = lr * m - lr ** 2 * (m * m + s * s) / 2 + lr ** 3 * (m ** 3 + 3 * m * s * s) / 3
    assert abs(float(collapse.lyapunov(lr, m, s)) - series) < 2 * lr ** 4 * 3 * s ** 4 / 4


def test_collapse_window_of_the_paper_model():
    low, high = implicit.collapse_window(0.25, 2.0)
    assert low == pytest.approx(0.1186, abs=1e-4) and high == pytest.approx(0.6788, abs=1e-4)
    for edge in (low, high):
        assert abs(float(collapse.lyapunov(edge, 0.25, 2.0))) < 1e-10
    assert implicit.collapse_window(1.0, 2.0) is None  # models.md: Lambda > 0 at every lr, though the SDE collapses
    low, high = implicit.collapse_window(-0.1, 1.0)
    assert low == 0.0 and high > 1.0


def test_sde_rate_is_the_small_lr_limit():
    """sde_rate = m - lr s^2 / 2 (Ito); (Lambda / lr - sde_rate) / lr = -m^2 / 2 + lr E xi^3 / 3 + O(lr^2), the
    O(lr^2) term -E xi^4 / 4 = -12.4 here."""
    m, s = 0.25, 2.0
    assert float(implicit.sde_rate(0.3, m, s)) == pytest.approx(m - 0.3 * s * s / 2)
    for lr in (1e-2, 1e-3):
        gap = (float(implicit.lyapunov(lr, m, s)) / lr - float(implicit.sde_rate(lr, m, s))) / lr
        assert abs(gap - (-m * m / 2 + lr * (m ** 3 + 3 * m * s * s) / 3)) < 14 * lr ** 2


def test_theory_matches_sgd():
    """At lr 0.2 (Lambda = -0.0503) from theta0 = 1e-4, 400 runs: the mean of ln|theta| at step 1000 within 4
    standard errors of ln theta0 + 1000 Lambda, every run collapsed; at lr 0.05 (Lambda > 0) none."""
    scenario = implicit.StochasticCollapse(m=0.25, s=2.0, lr=0.2)
    th = scenario.theory(steps=1000, every=10, theta0=1e-4)
    sim = scenario.simulate(seeds=400, steps=1000, every=10, theta0=1e-4)
    assert float(th.lyapunov) == pytest.approx(-0.05026, abs=1e-5) and float(th.sde_rate) == pytest.approx(-0.15)
    last = sim.log_theta.isel(step=-1)
    se = float(last.std()) / math.sqrt(400)
    assert abs(float(last.mean()) - float(th.log_theta.isel(step=-1))) < 4 * se
    assert sim.collapsed.dtype == bool and bool(sim.collapsed.all()) and not bool(sim.diverged.any())
    escaping = implicit.StochasticCollapse(m=0.25, s=2.0, lr=0.05).simulate(seeds=400, steps=1000, every=10,
                                                                           theta0=1e-4)
    assert not bool(escaping.collapsed.any())


def test_blown_up_runs_are_marked_diverged():
    sim = implicit.StochasticCollapse(m=0.25, s=2.0, lr=1.2).simulate(seeds=400, steps=1000, every=10)  # shapes shared
    assert bool(sim.diverged.all()) and not bool(sim.collapsed.any())
    assert np.isnan(sim.log_theta.isel(step=-1)).all()


def test_bad_input_names_the_parameter(refused):
    for kwargs, name in [({"lr": 0.0}, "lr"), ({"s": -1.0}, "s"), ({"m": math.nan}, "m"), ({"lr": "big"}, "lr")]:
        with pytest.raises(ValueError, match=name):
            implicit.StochasticCollapse(**kwargs)
    scenario = implicit.StochasticCollapse()
    with pytest.raises(ValueError, match="every"):
        scenario.simulate(steps=1000, every=3)
    with pytest.raises(ValueError, match="theta0"):
        scenario.theory(theta0=0.0)
    with pytest.raises(ValueError, match="s"):
        implicit.collapse_window(0.25, 0.0)
    refused(lambda: scenario.simulate(seeds=10 ** 9, steps=1000), "seeds")
