"""batch.ridge: the fixed point against the ridgeless closed form and the deterministic equivalent, the generic
Gauss-Hermite channel against the closed form, the fixed point against ridge at finite d, bad input."""
import numpy as np
import pytest

from hild.families.batch import Ridge, Spectrum, deterministic_equivalent, fixed_points, power_law
from hild.families.batch.prox import loss


def test_isotropic_ridgeless_closed_form_and_deterministic_equivalent():
    alphas = [0.3, 0.6, 1.6, 3.0]
    ds = Ridge.theory_batch([Ridge(alpha=a, lam=1e-8, noise=0.5) for a in alphas])
    a = np.array(alphas)
    exact = np.where(a < 1, (1 - a) + 0.25 * a / (1 - a), 0.25 / (a - 1))
    np.testing.assert_allclose(ds.eg.values, exact, rtol=1e-5)
    s = power_law(50, 1.2)
    th = np.random.default_rng(1).normal(size=50)
    for alpha, lam in [(0.5, 0.05), (1.0, 0.01), (2.5, 1.0)]:
        r = Ridge(alpha=alpha, lam=lam, noise=0.3, spectrum=tuple(s), teacher=tuple(th)).theory()
        assert bool(r.converged)
        assert abs(float(r.eg) / deterministic_equivalent(alpha, lam, 0.3, s, th) - 1) < 1e-7


def test_the_generic_channel_sums_reproduce_the_square_loss_closed_form():
    spectrum = Spectrum.isotropic(1.0)
    grid = dict(alpha=np.array([[0.5, 2.0]]), lam=0.1, noise=0.5)
    closed = fixed_points(loss("square"), "linear", spectrum, **grid)
    generic = fixed_points(loss(lambda y, z: 0.5 * (y - z) ** 2), "linear", spectrum, **grid)
    for v in ("m", "q", "V", "eg", "train_error"):
        np.testing.assert_allclose(generic[v], closed[v], rtol=1e-7)


def test_fixed_point_matches_ridge_at_finite_d():
    sc = Ridge(alpha=0.7, lam=0.05, noise=0.5)
    th, sim = sc.theory(), sc.simulate(d=200, seeds=8)
    for v in ("m", "q", "eg", "train_error"):
        mean, se = float(sim[v].mean()), float(sim[v].std(ddof=1)) / np.sqrt(8)
        assert abs(mean - float(th[v])) < 4 * se + 0.01 * abs(float(th[v])), (v, mean, se, float(th[v]))


def test_bad_input():
    with pytest.raises(ValueError, match="lam"):
        Ridge(lam=0.0)
    with pytest.raises(ValueError, match="alpha"):
        Ridge(alpha=-1.0)
    with pytest.raises(ValueError, match="spectrum"):
        Ridge(spectrum=(1.0, -2.0))
    with pytest.raises(ValueError, match="teacher"):
        Ridge(spectrum=(1.0, 2.0), teacher=(1.0,))
    with pytest.raises(ValueError, match="d"):
        Ridge(spectrum=(1.0, 2.0)).simulate(d=10)
    with pytest.raises(ValueError, match="max_iter"):
        Ridge().theory(max_iter=0)
