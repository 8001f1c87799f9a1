"""Two-layer networks and random features on the spiked cumulant task (arXiv 2312.14922)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import hild
import hild.families.cumulants.claims_networks  # noqa: F401  (registers cumulants.nn_vs_random_features)
from hild.families.cumulants.data import spike
from hild.families.cumulants.networks import (bayes_accuracy, classification, features, fit_exponent, forward, init,
                                              labelled, ridge_readout, train_network)


def _log_likelihood_ratio(task, s, beta):
    """ln p_+(s) / p_-(s) along the spike, s = x . u (the optimal test knowing u)."""
    if task == "spiked_wishart":
        return -0.5 * np.log1p(beta) + 0.5 * beta / (1 + beta) * s ** 2
    mu = np.sqrt(beta / (1 + beta))
    return (0.5 * np.log1p(beta) - 0.5 * (1 + beta) * (s ** 2 + mu ** 2) + np.log(np.cosh(mu * (1 + beta) * s))
            + s ** 2 / 2)


@pytest.mark.parametrize("task, beta", [("spiked_wishart", 5.0), ("spiked_cumulant", 10.0)])
def test_network_reaches_the_bayes_accuracy_at_large_n(task, beta):
    """At d = 8 with n = 8192 >> d^2 samples Adam finds the spike: the best hidden unit aligns with u and the test
    accuracy comes within 0.03 of the optimal test that knows u, whose Monte Carlo accuracy matches the integral."""
    d, u = 8, spike(8, 3)
    x, y = labelled(task, jax.random.key(0), 8192, u, beta)
    x_test, y_test = labelled(task, jax.random.key(1), 8000, u, beta)
    params = train_network(init(jax.random.key(2), d, 4 * d), x, y, jax.random.key(3), steps=3000, lr=0.03)
    accuracy = float(jnp.mean(jnp.sign(forward(params, x_test)) == y_test))
    bayes = bayes_accuracy(task, beta)
    llr = _log_likelihood_ratio(task, np.asarray(x_test @ u, np.float64), beta)
    assert abs(np.mean(np.sign(llr) == np.asarray(y_test)) - bayes) < 3 * np.sqrt(0.25 / 8000)
    assert bayes - 0.03 <= accuracy <= bayes + 3 * np.sqrt(0.25 / 8000)
    w = np.asarray(params["w"])  # the best of 32 random units in d = 8 has overlap about 0.75 at initialisation
    assert np.max(np.abs(w @ np.asarray(u)) / np.linalg.norm(w, axis=1)) > 0.9


def test_bayes_accuracy_known_values():
    """beta -> 0: chance; the spiked Wishart ceiling in closed form: the two variances cross at s^2 = s0^2 =
    (1 + beta) ln(1 + beta) / beta, accuracy = (1/2)[P(|z| < s0) + P(|z| sqrt(1 + beta) > s0)]."""
    from math import erf, sqrt, log
    assert abs(bayes_accuracy("spiked_cumulant", 1e-6) - 0.5) < 1e-4
    for beta in (0.5, 5.0, 20.0):
        s0 = sqrt((1 + beta) * log(1 + beta) / beta)
        exact = 0.5 * (erf(s0 / sqrt(2)) + 1 - erf(s0 / sqrt(2 * (1 + beta))))
        assert abs(bayes_accuracy("spiked_wishart", beta) - exact) < 1e-7


def test_random_features_readout_is_the_closed_form_ridge_solution():
    """ridge_readout against the dual form a = Phi^T (Phi Phi^T + n ridge I)^-1 y in float64, on the first n rows."""
    d, m, n, ridge = 8, 12, 40, 0.05
    params = init(jax.random.key(0), d, m)
    x, y = labelled("spiked_wishart", jax.random.key(1), 8000, spike(d, 0), 5.0)  # the shape of the test above
    x, y = x[:60, :d], y[:60]
    fit = ridge_readout(params, x, y, ridge, n=n)
    phi = np.concatenate([np.asarray(features(params, x[:n]), np.float64), np.ones((n, 1))], axis=1)
    dual = phi.T @ np.linalg.solve(phi @ phi.T + n * ridge * np.eye(n), np.asarray(y[:n], np.float64))
    got = np.r_[np.asarray(fit["a"]) / np.sqrt(m), float(fit["c"])]
    assert np.allclose(got, dual, rtol=2e-3, atol=2e-4 * np.abs(dual).max())
    out = np.concatenate([np.asarray(features(params, x), np.float64), np.ones((60, 1))], axis=1) @ dual
    assert np.allclose(forward(fit, x), out, atol=1e-3 * np.abs(out).max())  # forward() is Phi (a, c) on every row


def test_padding_leaves_the_network_unchanged():
    """Inputs zero-padded to a larger d with the extra hidden units switched off give the same features and output."""
    d, m, d_pad, m_pad = 5, 7, 9, 12
    params = init(jax.random.key(0), d_pad, m_pad)
    params["w"] = params["w"] * (jnp.arange(d_pad) < d)
    small = {"w": params["w"][:m, :d], "b": params["b"][:m], "a": params["a"][:m], "c": jnp.asarray(0.3)}
    params["c"] = jnp.asarray(0.3)
    x = jax.random.normal(jax.random.key(1), (20, d))
    padded = jnp.concatenate([x, jnp.zeros((20, d_pad - d))], axis=1)
    active = (jnp.arange(m_pad) < m).astype(jnp.float32)
    assert np.allclose(features(params, padded, d, active)[:, :m], features(small, x), atol=1e-6)
    assert np.allclose(forward(params, padded, d, active), forward(small, x), atol=1e-5)


def test_exponent_fit_recovers_a_known_exponent():
    """Synthetic logistic accuracy curves in ln n with n*(d) = 3 d^1.5 and seed noise: fit_exponent (the crossing
    method of hild.analysis.thresholds) recovers 1.5."""
    rng = np.random.default_rng(0)
    d, c = np.array([8, 16, 32]), np.geomspace(0.25, 64, 12)
    n = c[None, :] * d[:, None] ** 1.5
    mean = 0.5 + 0.2 / (1 + np.exp(-2 * np.log(n / (3 * d[:, None] ** 1.5))))
    acc = mean[:, :, None] + 0.01 * rng.standard_normal((3, 12, 20))
    da = xr.DataArray(acc, dims=("d", "c", "seed"), coords={"d": d, "c": c, "n": (("d", "c"), n)})
    fit = fit_exponent(da, 0.6, n_boot=400)
    assert np.allclose(fit.n_star, 3 * d ** 1.5, rtol=0.1)
    assert abs(float(fit.theta) - 1.5) < 0.05 and fit.theta_low < 1.5 < fit.theta_high
    assert fit.theta_high - fit.theta_low < 0.2 and float(fit.unresolved) == 0
    assert fit.attrs["method"] == "crossing" and fit.attrs["level"] == 0.6


@pytest.mark.parametrize("kwargs, match", [
    ({"task": "spiked_tensor"}, "task must be one of"),
    ({"beta": 0.0}, r"beta must be a finite number in \(0, inf\); got 0"),
    ({"beta": -1.0}, "beta must be"),
    ({"d": (8, 8, 12)}, "d must be increasing integers"),
    ({"d": (1, 4, 8)}, "d must be integers >= 2"),
    ({"c": (1, 0.5)}, "c must be increasing positive numbers"),
    ({"c": (0.001, 0.002)}, "c must give distinct sample sizes"),
    ({"seeds": 0}, "seeds must be an integer >= 1; got 0"),
    ({"steps": 0}, "steps must be an integer >= 1"),
    ({"lr": 0.0}, "lr must be"),
    ({"ridge": 0.0}, "ridge must be"),
    ({"n_test": 0}, "n_test must be an integer >= 1"),
    ({"width_factor": 0}, "width_factor must be an integer >= 1"),
])
def test_bad_input_is_refused_naming_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        classification(**{"task": "spiked_cumulant", **kwargs})


def test_bad_samples_and_fits_are_refused():
    u = spike(4, 0)
    with pytest.raises(ValueError, match="n must be an integer >= 1; got 0"):
        labelled("spiked_cumulant", jax.random.key(0), 0, u, 10.0)
    with pytest.raises(ValueError, match="beta must be"):
        labelled("spiked_wishart", jax.random.key(0), 5, u, -2.0)
    da = xr.DataArray(np.full((2, 3, 2), 0.7), dims=("d", "c", "seed"),
                      coords={"d": [8, 16], "c": [1, 2, 4], "n": (("d", "c"), np.ones((2, 3)))})
    with pytest.raises(ValueError, match="at least 3 values of d"):
        fit_exponent(da, 0.6)
    with pytest.raises(ValueError, match="level must be"):
        fit_exponent(da, 1.5)


def test_claim_at_quick_size(quick_claim, tmp_path):
    result = quick_claim("cumulants.nn_vs_random_features")
    assert len(result.checks) == 6 and all(np.isfinite(c.measured) for c in result.checks)
    assert result.holds, result.summary()
    assert {"summary.json", "figure.png"} <= {p.name for p in result.save(tmp_path)}


@pytest.mark.slow
def test_claim_at_paper_size():
    result = hild.claims.reproduce("cumulants.nn_vs_random_features", size="paper")
    assert result.holds, result.summary()
