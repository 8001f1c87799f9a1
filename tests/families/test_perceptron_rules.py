"""The classic online perceptron rules (hild.families.online.perceptron): closed-form moments against Monte Carlo
and the engine's cubature, exact solutions (Hebb from w = 0, AdaTron's conserved norm at lr = 2), theory against
simulation, bad input."""
import math

import numpy as np
import pytest

from hild.families.online import drift
from hild.families.online import moments as cubature
from hild.families.online.inputs import Inputs
from hild.families.online.perceptron import RULES, Perceptron, rule_of

STATE = (1.7, 0.9)  # Q, R
CLOSED = ("hebb", "perceptron", "adatron", "hinge")
POINTS = 11
"""Every theory here records 11 times: the compiled ODE of a rule is shared by its tests."""


def _engine(Q, R, lr=0.7, margin=1.0):
    import jax.numpy as jnp

    inputs = {k: jnp.asarray(v) for k, v in Inputs.isotropic([[1.0]]).arrays().items()}
    state = {"Q": jnp.array([[[Q]]]), "S": jnp.array([[[R]]]), "theta": jnp.zeros(0)}
    return state, {"lr": jnp.asarray(lr), "margin": jnp.asarray(margin), "decay": jnp.asarray(0.0), "inputs": inputs}


def _flat(m):
    return np.r_[np.asarray(m["phi_y"]).ravel(), float(m["phi"][0]), float(m["phiphi"][0, 0])]


@pytest.mark.parametrize("name", CLOSED)
def test_closed_moments_match_monte_carlo(name):
    """E[phi lam], E[phi nu], E[phi], E[phi^2] at Q = 1.7, R = 0.9 against 2 x 10^6 samples (5 standard errors)."""
    import jax

    Q, R = STATE
    rng = np.random.default_rng(7)
    lam_nu = rng.standard_normal((2_000_000, 2)) @ np.linalg.cholesky([[Q, R], [R, 1.0]]).T
    lam, nu = lam_nu[:, :1], lam_nu[:, 1:]
    with jax.enable_x64(True):
        state, p = _engine(Q, R)
        phi = np.asarray(rule_of(name).coefficient(lam, nu, 0, np.zeros(0), np.zeros(0), p))[:, 0]
        closed = _flat(rule_of(name).moments(state, p, 0))
    samples = np.stack([phi * lam[:, 0], phi * nu[:, 0], phi, phi ** 2])
    se = samples.std(1) / math.sqrt(phi.size)
    assert np.all(np.abs(samples.mean(1) - closed) <= 5 * se + 1e-9), (samples.mean(1), closed)


@pytest.mark.parametrize("name", ("hebb", "perceptron", "adatron", "logistic"))
def test_cubature_matches_closed_moments(name):
    """The engine's split cubature reproduces the closed forms (logistic: two node counts agree)."""
    import jax
    import jax.numpy as jnp

    rule = rule_of(name)
    with jax.enable_x64(True):
        state, p = _engine(*STATE)
        mean, cov, _, _ = drift.field_statistics(state, p["inputs"], 0)
        fine = _flat(cubature.cubature(rule, mean, cov, 0, jnp.zeros(0), p, 32))
        other = _flat(rule.moments(state, p, 0)) if rule.moments else _flat(
            cubature.cubature(rule, mean, cov, 0, jnp.zeros(0), p, 20))
    np.testing.assert_allclose(fine, other, atol=1e-6)


def test_hinge_without_margin_is_the_perceptron():
    import jax

    with jax.enable_x64(True):
        state, p = _engine(*STATE, margin=0.0)
        np.testing.assert_allclose(_flat(rule_of("hinge").moments(state, p, 0)),
                                   _flat(rule_of("perceptron").moments(state, p, 0)), atol=1e-12)


@pytest.fixture(scope="module")
def hebb_from_zero():
    return Perceptron(algorithm="hebb", lr=0.5).theory(t_max=50.0, n_points=POINTS, init={"R": 0.0, "Q": 0.0})


def test_hebb_from_zero_is_exact(hebb_from_zero):
    """R = lr sqrt(2/pi) t and Q = lr^2 (2 t^2 / pi + t) exactly, so eg -> 1 / sqrt(2 pi t)."""
    th, t, lr = hebb_from_zero, hebb_from_zero.t.values, 0.5
    np.testing.assert_allclose(th.R.values, lr * math.sqrt(2 / math.pi) * t, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(th.Q.values, lr ** 2 * (2 * t ** 2 / math.pi + t), rtol=1e-7, atol=1e-12)
    assert float(th.eg[-1]) == pytest.approx(1 / math.sqrt(2 * math.pi * 50), rel=0.02)


def test_adatron_at_lr_two_conserves_the_norm():
    """dQ/dt = lr (lr - 2) E[lam^2 Theta(-y lam)] vanishes at lr = 2 while R grows."""
    th = Perceptron(algorithm="adatron", lr=2.0).theory(t_max=50.0, n_points=POINTS)
    np.testing.assert_allclose(th.Q.values, 1.0, atol=1e-9)
    assert float(th.R[-1]) > 0.9 and np.all(np.diff(th.eg.values) < 0)


@pytest.mark.parametrize("rule, lr", [("perceptron", 1.0), ("adatron", 1.5)])
def test_theory_matches_simulation(rule, lr):
    """The seed mean of eg within 5% of the ODE from the same start (d = 500, 8 seeds, t <= 10)."""
    scenario = Perceptron(algorithm=rule, lr=lr)
    sim = scenario.simulate(d=500, seeds=8, t_max=10.0, n_points=POINTS, seed=11)
    th = scenario.matching_theory(sim)
    gap = np.abs(sim.eg.mean("seed").values[1:] / th.eg.values[1:] - 1)
    assert gap.max() < 0.05, gap


def test_logistic_runs_on_the_cubature_with_its_error_reported():
    th = Perceptron(algorithm="logistic", lr=1.0).theory(t_max=10.0, n_points=POINTS, nodes=16)
    assert th.attrs["expectations"] == "cubature" and 0 <= th.attrs["cubature_error"] < 1e-4
    assert np.all(np.diff(th.eg.values) < 0)


def test_the_algorithm_names_the_engine_rule():
    scenario = Perceptron(algorithm="hebb", lr=0.5)
    assert scenario.rule() is rule_of("hebb")
    assert scenario.params["algorithm"] == "hebb" and set(RULES) == {"hebb", "perceptron", "adatron", "logistic", "hinge"}


@pytest.mark.parametrize("arguments, name", [
    (dict(algorithm="oja"), "algorithm"), (dict(algorithm="hebb", lr=0.0), "lr"),
    (dict(algorithm="adatron", lr=3.0), "lr"), (dict(algorithm="hinge", margin=-1.0), "margin")])
def test_bad_input_names_the_parameter(arguments, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        Perceptron(**arguments)


@pytest.mark.parametrize("init, name", [({"R": 0.0, "Q": -1.0}, "Q"), ({"R": 2.0, "Q": 1.0}, "R")])
def test_bad_start_names_the_order_parameter(init, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        Perceptron(algorithm="perceptron").theory(t_max=1.0, init=init)
