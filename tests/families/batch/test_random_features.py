"""batch.random_features: the Hermite coefficients (models.md section 15), the Marchenko-Pastur quadrature, the
Gaussian-equivalent fixed point against real random features at two d, bad input."""
import math

import numpy as np
import pytest

from hild.families.batch import RandomFeatures, hermite_coefficients, marchenko_pastur


def test_hermite_coefficients():
    reference = {"relu": (0.398942, 0.5, 0.301405), "erf": (0.0, 0.651470, 0.200364),
                 "tanh": (0.0, 0.605706, 0.165576)}
    for name, ref in reference.items():
        np.testing.assert_allclose(hermite_coefficients(name), ref, atol=1e-6)
    relu = hermite_coefficients("relu")
    assert abs(relu[0] - 1 / math.sqrt(2 * math.pi)) < 1e-12
    assert abs(relu[2] - math.sqrt(0.25 - 1 / (2 * math.pi))) < 1e-12
    mu0, mu1, mu_star = hermite_coefficients(lambda x: x ** 2)  # He_2 + 1: mu0 = 1, mu1 = 0, mu_star = sqrt 2
    np.testing.assert_allclose([mu0, mu1, mu_star], [1.0, 0.0, math.sqrt(2)], atol=1e-10)
    with pytest.raises(ValueError, match="activation"):
        hermite_coefficients("softplus")


@pytest.mark.parametrize("psi", [0.5, 2.0])
def test_marchenko_pastur_moments(psi):
    s, p = marchenko_pastur(psi)
    assert abs(p.sum() - 1) < 1e-12
    assert abs(p @ s - 1) < 1e-6  # E s = 1
    assert abs(p @ s ** 2 - (1 + psi)) < 1e-6  # E s^2 = 1 + psi


def test_fixed_point_matches_random_features_at_two_d():
    sc = RandomFeatures(activation="tanh", psi=1.5, alpha=1.0, lam=0.1, noise=0.3)
    th = sc.theory()
    assert bool(th.converged)
    for d in (40, 80):
        sim = sc.simulate(d=d, seeds=8, n_test=1000)
        for v in ("eg", "train_error"):
            mean, se = float(sim[v].mean()), float(sim[v].std(ddof=1)) / np.sqrt(8)
            assert abs(mean - float(th[v])) < 4 * se + 0.02 * float(th[v]), (d, v, mean, se, float(th[v]))


def test_bad_input():
    with pytest.raises(ValueError, match="psi"):
        RandomFeatures(psi=0.0)
    with pytest.raises(ValueError, match="activation"):
        RandomFeatures(activation="gelu")
    with pytest.raises(ValueError, match="n_test"):
        RandomFeatures().simulate(n_test=0)
