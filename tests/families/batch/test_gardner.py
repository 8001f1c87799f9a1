"""The Gardner capacity: the closed form against quadrature and the published values, the exact finite-d storage
solver against known margins and Cover's count, the RS margin against finite-d medians, and bad input."""
import numpy as np
import pytest

from hild.families.batch.gardner import (Gardner, cover_probability, gardner_capacity, gardner_margin,
                                         largest_margin, largest_margins, rs_stability)


def test_the_closed_form_is_the_gardner_integral_and_the_published_values():
    from scipy.integrate import quad
    from scipy.stats import norm

    for kappa, published in ((0.0, 2.0), (0.5, 0.961205), (1.0, 0.519572), (2.0, 0.200231)):
        integral = quad(lambda t: norm.pdf(t) * (t + kappa) ** 2, -kappa, np.inf, epsabs=1e-14)[0]
        assert gardner_capacity(kappa) == pytest.approx(1 / integral, rel=1e-10)
        assert gardner_capacity(kappa) == pytest.approx(published, rel=1e-6)
    assert gardner_margin(gardner_capacity(0.7)) == pytest.approx(0.7, abs=1e-10)
    assert gardner_margin(2.0) == pytest.approx(0.0, abs=1e-10)
    assert rs_stability(-0.5) < 0 < rs_stability(0.5) and rs_stability(0.0) == pytest.approx(0.0, abs=1e-14)


def test_the_storage_solver_finds_known_margins_and_refuses_what_cannot_be_separated():
    assert largest_margin(np.eye(2)) == pytest.approx(1 / np.sqrt(2), rel=1e-9)  # u = (1, 1) / sqrt 2
    assert largest_margin(np.array([[1.0, 0.0], [-1.0, 0.0]])) == -np.inf  # u.x >= k and -u.x >= k: k <= 0
    A = np.array([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0]])  # the margin of the closest point to 0 of the hull: (2, 2)
    assert largest_margin(A) == pytest.approx(np.sqrt(8), rel=1e-9)


def test_finite_d_storage_follows_cover_s_count_and_the_rs_margin():
    d, seeds = 40, 100
    stored = (largest_margins(d, 2.0, seeds, seed=7) >= 0).mean()
    exact = cover_probability(d, 80)
    assert exact == pytest.approx(0.5, abs=1e-12)
    assert abs(stored - exact) <= 4 * np.sqrt(exact * (1 - exact) / seeds)
    sim = Gardner(alpha=0.96).simulate(d=100, seeds=40, seed=3)
    median = float(np.median(sim.kappa_max))
    se = 1.2533 * float(sim.kappa_max.std(ddof=1)) / np.sqrt(40)
    assert abs(median - float(Gardner(alpha=0.96).theory().kappa_max)) <= 4 * se


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="alpha"):
        Gardner(alpha=0.0)
    with pytest.raises(ValueError, match="kappa must be >= 0 for the simulation"):
        Gardner(kappa=-0.5).simulate(d=20)
    with pytest.raises(ValueError, match="d must be an integer"):
        Gardner().simulate(d=1)
    th = Gardner(alpha=3.0, kappa=-0.5).theory()  # the RS value of a negative margin: given, and flagged unstable
    assert float(th.p_feasible) == 1.0 and float(th.at_eigenvalue) < 0
