"""The RL perceptron (Patel et al., arXiv 2306.10404) on the local-field engine: closed-form moments against
Monte Carlo and the engine's cubature, theory against simulation, exact limits, bad input. The claims run
at quick size in tests/test_claims.py."""
import math

import numpy as np
import pytest

from hild.families.online.rl_perceptron import RLPerceptron, coefficient, rule_of


def _state(R, Q):
    return {"Q": np.array([[[Q]]]), "S": np.array([[[R]]]), "theta": np.zeros(0)}


def _p(n, lr1, lr2):
    return {"n": float(n), "lr1": lr1, "lr2": lr2, "decay": 0.0}


def _monte_carlo(T, n, lr1, lr2, R, Q, episodes=200_000, seed=0):
    """sum_e E[phi_e (lam_e, nu_e)] and sum_e E[phi_e^2] over episodes drawn in NumPy, phi from the rule."""
    import jax
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(np.array([[Q, R], [R, 1.0]]))
    fields = rng.standard_normal((episodes, T, 2)) @ L.T
    lam, nu = fields[..., :1], fields[..., 1:]
    phi = np.asarray(jax.vmap(lambda a, b: coefficient(a, b, 0, None, None, _p(n, lr1, lr2)))(lam, nu))
    return (np.einsum("pek,pen->n", phi, fields) / episodes, np.sum(phi ** 2) / episodes,
            np.std(np.sum(phi * fields, 1), 0) / math.sqrt(episodes))


@pytest.mark.parametrize("T,n", [(1, 1), (2, 1), (2, 2), (3, 2), (4, 3), (4, 4)])
def test_closed_form_moments_equal_monte_carlo(T, n):
    """E[phi lam] carries sqrt(Q) (lam has variance Q); E[phi nu] and E[phi^2] from the binomial tails."""
    import jax
    R, Q, lr1, lr2 = 0.4, 1.7, 1.0, 0.3
    with jax.enable_x64(True):
        closed = rule_of(T).moments(_state(R, Q), _p(n, lr1, lr2), 0)
    field_moments, square, sem = _monte_carlo(T, n, lr1, lr2, R, Q)
    np.testing.assert_allclose(np.asarray(closed["phi_y"])[0], field_moments, atol=5 * sem.max())
    np.testing.assert_allclose(float(closed["phiphi"][0, 0]), square, rtol=5e-3)
    assert float(closed["phi"][0]) == 0.0 and closed["psi"].shape == (0,)


def test_initial_rate_of_sparse_rewards_is_two_to_the_one_minus_T():
    """n = T, lr2 = 0, c = 0: dR/dt = P^{T-1} (1 + c) / sqrt(2 pi) = 2^{1-T} / sqrt(2 pi)."""
    import jax
    for T in (1, 3, 6):
        with jax.enable_x64(True):
            closed = rule_of(T).moments(_state(0.0, 1.0), _p(T, 1.0, 0.0), 0)
        assert float(closed["phi_y"][0, 1]) == pytest.approx(2.0 ** (1 - T) / math.sqrt(2 * math.pi), rel=1e-12)


def test_one_decision_with_equal_penalty_is_the_hebb_rule_in_closed_form():
    """T = n = 1, lr2 = lr1: phi = lr1 sign(nu), so R = R0 + lr1 sqrt(2/pi) t and
    Q = Q0 + 2 lr1 sqrt(2/pi) (R0 t + lr1 sqrt(2/pi) t^2 / 2) + lr1^2 t (Hebb's exact solution)."""
    lr, R0, Q0 = 0.7, 0.1, 1.3
    ds = RLPerceptron(T=1, n=1, lr1=lr, lr2=lr).theory(t_max=4.0, n_points=9, init={"R": R0, "Q": Q0}, nodes=40,
                                                       rtol=1e-7)  # the compiled solve of the cubature test
    t, g = ds.t.values, math.sqrt(2 / math.pi)
    np.testing.assert_allclose(ds.R.values, R0 + lr * g * t, rtol=1e-7)
    np.testing.assert_allclose(ds.Q.values, Q0 + 2 * lr * g * (R0 * t + lr * g * t ** 2 / 2) + lr ** 2 * t, rtol=1e-7)
    c = ds.R.values / np.sqrt(ds.Q.values)
    np.testing.assert_allclose(ds.c.values, c)
    np.testing.assert_allclose(ds.eg.values, np.arccos(c) / np.pi)


@pytest.mark.parametrize("T,n,lr2,nodes,tol", [(1, 1, 0.2, 40, 1e-7), (2, 1, 0.2, 12, 3e-4), (2, 2, 0.0, 12, 3e-4)])
def test_engine_cubature_over_the_episode_reproduces_the_closed_form(T, n, lr2, nodes, tol):
    """The automatic path integrates the 2T fields of an episode (split at lam = 0 and nu = 0); at T = 2 (four
    split axes) 12 Gauss-Legendre nodes per panel bring the drift within 2e-4 of the closed form (8: 1e-2)."""
    scenario = RLPerceptron(T=T, n=n, lr1=1.0, lr2=lr2)
    init = {"R": 0.2, "Q": 1.0}
    run = dict(t_max=2.0, n_points=9, init=init, nodes=nodes, rtol=1e-7)
    closed, cubature = scenario.theory(expectations="closed", **run), scenario.theory(expectations="cubature", **run)
    for name in ("R", "Q", "c"):
        np.testing.assert_allclose(cubature[name].values, closed[name].values, rtol=tol, atol=tol)
    assert cubature.attrs["expectations"] == "cubature" and closed.attrs["expectations"] == "closed"


@pytest.mark.parametrize("T,n,lr2,R0", [(2, 2, 0.0, 0.0), (2, 1, 0.2, 0.2)])
def test_theory_matches_simulation(T, n, lr2, R0):
    """d = 1000, 4 seeds, theory from the simulation's own start: the seed mean of c within 0.01 of the ODE
    (models.md measured <= 0.006 at this size for all-or-nothing T = 1..3)."""
    scenario = RLPerceptron(T=T, n=n, lr1=1.0, lr2=lr2)
    sim = scenario.simulate(d=1000, seeds=4, t_max=8.0, seed=3, n_points=17, init={"R": R0, "Q": 1.0})
    th = scenario.matching_theory(sim, nodes=4)  # nodes: only the cubature cross-check of the closed form
    assert set(sim.data_vars) >= {"R", "Q", "c", "eg"} and sim.attrs["model"] == "rl_perceptron"
    mean = lambda da: (da.mean("seed") if "seed" in da.dims else da).values  # noqa: E731
    gap = np.abs(mean(sim.c) - mean(th.c))
    assert gap.max() < 0.01, gap
    assert np.abs(mean(sim.Q) / mean(th.Q) - 1).max() < 0.03
    assert sim.c.values[:, -1].min() > 0.3  # it learned


@pytest.mark.parametrize("kwargs,name", [
    ({"T": 0, "n": 1, "lr1": 1.0}, "T"), ({"T": 2.0, "n": 1, "lr1": 1.0}, "T"),
    ({"T": 3, "n": 0, "lr1": 1.0}, "n"), ({"T": 3, "n": 4, "lr1": 1.0}, "n"), ({"T": 3, "n": 1.5, "lr1": 1.0}, "n"),
    ({"T": 3, "n": 2, "lr1": 0.0}, "lr1"), ({"T": 3, "n": 2, "lr1": 1.0, "lr2": -0.1}, "lr2"),
    ({"T": 3, "n": 2, "lr1": float("nan")}, "lr1"),
])
def test_bad_parameters_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        RLPerceptron(**kwargs)


@pytest.mark.parametrize("init,name", [({"R": 0.0, "Q": 0.0}, "Q"), ({"R": 1.1, "Q": 1.0}, "R"),
                                       ({"R": 0.0, "Q": 1.0, "S": 1.0}, "init")])
def test_bad_starts_are_refused_by_name(init, name):
    with pytest.raises(ValueError, match=rf"^{name}"):
        RLPerceptron.example().theory(t_max=1.0, init=init)
