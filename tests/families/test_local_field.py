"""The local-field engine (hild.families.online: inputs, rule, moments, drift, field_sim, local_field).

Checked against exact results: the committee's closed-form ODEs (the automatic path must reproduce
them), Gaussian orthant integrals (the split cubature), the linear rule in two blocks (whose ODEs are
polynomial and written out here), and finite-d simulation of a rule on a Gaussian mixture.
"""
import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hild
from hild.families.online import Committee
from hild.families.online import drift, moments
from hild.families.online.custom import OnlineRule
from hild.families.online.inputs import Inputs
from hild.families.online.local_field import LocalField
from hild.families.online.rule import Rule


def test_the_automatic_committee_ode_reproduces_the_closed_forms():
    """The standard point (K = M = 2, erf, lr 0.5) over t in [0, 300], through the plateau and out of it
    (from the committee claims' weakly specialised start): to 1e-6."""
    from hild.families.online.claims import NEAR_PLATEAU

    scenario = Committee(K=2, M=2, activation="erf", lr=0.5)
    closed = scenario.theory(t_max=300, n_points=151, init=NEAR_PLATEAU)
    auto = scenario.theory(t_max=300, n_points=151, init=NEAR_PLATEAU, expectations="cubature")
    assert auto.attrs["expectations"] == "cubature"
    assert closed.eg.values[75] > 10 * closed.eg.values[-1]  # the run leaves the plateau within the window
    for name in ("eg", "Q", "R"):
        assert float(np.abs(auto[name] - closed[name]).max()) < 1e-6, name


def test_the_automatic_committee_ode_with_a_trained_second_layer_and_weight_decay():
    scenario = Committee(K=2, M=2, activation="erf", lr=0.5, lr_v=0.3, weight_decay=0.01)
    closed = scenario.theory(t_max=20, n_points=21)
    auto = scenario.theory(t_max=20, n_points=21, expectations="cubature")
    for name in ("eg", "Q", "R", "v"):
        assert float(np.abs(auto[name] - closed[name]).max()) < 1e-6, name


def _indicator(lam, nu, c, aux, theta, p):
    """phi = 1[lam > 0] 1[nu > 0]: its mean is the orthant probability of (lam, nu)."""
    return ((lam > 0) & (nu > 0)).astype(lam.dtype)


def test_split_cubature_integrates_jumps_at_zero_exactly():
    """P(lam > 0, nu > 0) = 1/4 + arcsin(r)/(2 pi) (Sheppard), with a mean shifting the jump off the nodes."""
    r = 0.6 / math.sqrt(1.3 * 0.8)
    with jax.enable_x64(True):
        cov = jnp.array([[1.3, 0.6], [0.6, 0.8]], jnp.float64)
        split = Rule(coefficient=_indicator, K=1, F=1, splits=(0, 1))
        plain = Rule(coefficient=_indicator, K=1, F=1)
        exact = 0.25 + math.asin(r) / (2 * math.pi)
        m = moments.cubature(split, jnp.zeros(2), cov, 0, jnp.zeros(0), {}, 24)
        assert abs(float(m["phi"][0]) - exact) < 1e-12
        rough = moments.cubature(plain, jnp.zeros(2), cov, 0, jnp.zeros(0), {}, 48)
        assert abs(float(rough["phi"][0]) - exact) > 1e-4  # why splits exist
        # a shifted mean: P(lam > 0) P(nu > 0) when uncorrelated
        shifted = moments.cubature(split, jnp.array([0.3, -0.2]), jnp.diag(jnp.array([1.0, 2.0])), 0, jnp.zeros(0),
                                   {}, 24)
        from jax.scipy.stats import norm
        assert abs(float(shifted["phi"][0]) - float(norm.cdf(0.3) * norm.cdf(-0.2 / math.sqrt(2)))) < 1e-12


def _linear(lam, nu, c, aux, theta, p):
    return p["lr"] * (nu[:, :1] - lam)


def test_two_blocks_reproduce_the_polynomial_odes_of_a_linear_student():
    """phi = lr (nu - lam) on blocks of variances Delta_b: E[phi lam^b] = lr Delta_b (S_b - Q_b),
    E[phi nu^b] = lr Delta_b (G_b - S_b), E[phi^2] = lr^2 sum_b Delta_b (G_b - 2 S_b + Q_b)."""
    inputs = Inputs(fractions=(0.3, 0.7), variances=((1.0, 0.4),), gram=(((1.0,),), ((0.5,),)),
                    means=((0.0,),), probs=((1.0,),))
    rule = Rule(coefficient=_linear, K=1, F=1)
    Q, S, G, D, rho = np.array([0.6, 0.2]), np.array([0.3, 0.1]), np.array([1.0, 0.5]), np.array([1.0, 0.4]), np.array([0.3, 0.7])
    lr = 0.7
    with jax.enable_x64(True):
        state = {"Q": jnp.asarray(Q)[:, None, None], "S": jnp.asarray(S)[:, None, None], "theta": jnp.zeros(0)}
        f = drift.vector_field(rule, 0.0, state, {"lr": lr, "inputs": inputs.arrays()}, "cubature", 6)
    second = lr ** 2 * np.sum(D * (G - 2 * S + Q))
    np.testing.assert_allclose(np.asarray(f["S"]).ravel(), lr * D * (G - S), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(f["Q"]).ravel(), 2 * lr * D * (S - Q) + rho * D * second, rtol=1e-10)


def test_bad_inputs_and_rules_are_refused_by_name():
    with pytest.raises(ValueError, match="fractions"):
        Inputs(fractions=(0.5, 0.6), variances=((1, 1),), gram=np.ones((2, 1, 1)), means=((0.0,),), probs=((1.0,),))
    with pytest.raises(ValueError, match="variances"):
        Inputs(fractions=(1.0,), variances=((-1.0,),), gram=((((1.0,),)),), means=((0.0,),), probs=((1.0,),))
    with pytest.raises(ValueError, match="probs"):
        Inputs(fractions=(1.0,), variances=((1.0,),), gram=(((1.0,),),), means=((0.0,),), probs=((0.5,),))
    with pytest.raises(ValueError, match="gram"):
        Inputs.isotropic([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="splits"):
        Rule(coefficient=_linear, K=1, F=1, splits=(2,))
    with pytest.raises(ValueError, match="loss, coefficient"):
        OnlineRule(K=1)
    with pytest.raises(ValueError, match="expectations"):
        OnlineRule.example().theory(expectations="closed")
    with pytest.raises(ValueError, match="nodes"):
        Committee(K=4, M=4, lr=0.5).theory(expectations="cubature", nodes=30)


def test_a_user_rule_in_a_few_lines_matches_its_simulation():
    """The README's example: the logistic perceptron learning a sign teacher, theory against d = 1000."""
    scenario = OnlineRule.example()
    th = scenario.theory(t_max=10, n_points=21)
    sim = scenario.simulate(d=1000, seeds=4, t_max=10, n_points=21)
    assert th.attrs["cubature_error"] < 1e-8
    np.testing.assert_allclose(sim.Q.isel(t=0).values, 1.0, rtol=1e-5)  # the start is built exactly
    c = hild.compare(th, sim)
    assert c.summary["R"]["max_abs"] < 0.01 and c.summary["eg"]["max_abs"] < 0.005, str(c)
    assert th.eg.values[-1] < 0.5 * th.eg.values[2]  # it learns


def _label(lam, nu, c, aux, theta, p):
    """The cluster's label (+1 for component 0, -1 for 1) minus the student's output, times lr."""
    return p["lr"] * ((1.0 - 2.0 * c) - lam)


@dataclasses.dataclass(frozen=True)
class Mixture(LocalField):
    """A linear student on a two-cluster mixture at +-mu along one direction, noise variance 0.5."""

    model = "test_mixture"
    variables = ("M", "Q")
    init_names = ("M", "Q")

    def rule(self):
        return Rule(coefficient=_label, K=1, F=1)

    def inputs(self, t_max):
        return Inputs(fractions=(1.0,), variances=((0.5,), (0.5,)), gram=(((1.0,),),), means=((1.5,), (-1.5,)),
                      probs=((0.5, 0.5),))

    def parameters(self):
        return {"lr": 0.4}

    def start(self, init):
        init = init or {"M": 0.0, "Q": 0.2}
        return {"Q": np.array([[[init["Q"]]]]), "S": np.array([[[init["M"]]]]), "theta": np.zeros(0)}

    def observe(self, state, p):
        return {"M": state["S"][0, 0, 0], "Q": state["Q"][0, 0, 0]}


def test_a_gaussian_mixture_theory_matches_its_simulation_at_two_sizes():
    """Cluster means enter through E[phi] (the means of the fields): the student's overlap with the mean
    direction M converges to 1.5 / (1.5^2 + 0.5) (least squares on the mixture), at d = 400 and 1600."""
    scenario = Mixture()
    th = scenario.theory(t_max=8, n_points=17)
    np.testing.assert_allclose(th.M.values[-1], 1.5 / (1.5 ** 2 + 0.5), rtol=2e-3)
    gaps = []
    for d in (400, 1600):
        sim = scenario.simulate(d=d, seeds=4, t_max=8, n_points=17)
        gaps.append(float(np.abs(sim.M.mean("seed") - th.M).max()))
    assert gaps[1] < 0.03 and gaps[1] < gaps[0], gaps


def test_a_theory_batch_is_one_call_and_equals_the_single_runs():
    scenarios = [dataclasses.replace(OnlineRule.example(), lr=lr) for lr in (0.5, 1.0, 2.0)]
    batch = OnlineRule.theory_batch(scenarios, t_max=5, n_points=6)
    assert batch.sizes["scenario"] == 3
    for i, s in enumerate(scenarios):
        np.testing.assert_allclose(batch.R.isel(scenario=i).values, s.theory(t_max=5, n_points=6).R.values,
                                   rtol=1e-12, atol=1e-14)


def test_the_public_names_of_the_online_models():
    """The names and defaults external checks call (issue 14)."""
    import inspect

    from hild.online import Curriculum, LabelAttack, RLPerceptron

    def defaults(cls):
        return {k: p.default for k, p in inspect.signature(cls).parameters.items()}

    assert defaults(RLPerceptron) == {"T": inspect.Parameter.empty, "n": inspect.Parameter.empty,
                                      "lr1": inspect.Parameter.empty, "lr2": 0.0}
    assert defaults(Curriculum)["weight_decay"] == 0.0 and defaults(Curriculum)["easy_fraction"] == 0.5
    assert set(defaults(Curriculum)) >= {"rho", "delta_easy", "delta_hard", "lr", "protocol"}
    assert defaults(LabelAttack)["noise"] == 0.0 and set(defaults(LabelAttack)) >= {"a", "rho_t", "lr"}
    for cls, names in ((RLPerceptron, {"R", "Q", "c", "eg"}), (Curriculum, {"R", "Q1", "Q2", "eg_easy", "eg_hard"}),
                       (LabelAttack, {"R", "S", "Q", "accuracy"})):
        assert names <= set(cls.variables)
    for cls, names in ((RLPerceptron, ("R", "Q")), (Curriculum, ("R", "Q1", "Q2")), (LabelAttack, ("R", "S", "Q"))):
        assert set(names) <= set(cls.init_names)
