"""Online label attacks (hild.families.online.label_attack): ODE against online SGD, the exact solution of the
linear ODEs and their steady state, the optimal constant attack, bad input."""
import math

import numpy as np
import pytest

from hild.families.online.label_attack import LabelAttack, optimal_attack, steady_state

EXAMPLE = dict(a=0.3, rho_t=0.2, lr=0.5, noise=0.5)


@pytest.fixture(scope="module")
def example_theory():
    return LabelAttack(**EXAMPLE).theory(t_max=40.0, n_points=13)  # the simulation test's grid size: one compile


def test_theory_matches_simulation():
    """The seed mean of R, S, Q stays within 2 / sqrt(d seeds) of the ODE (about 4 standard errors: one seed's
    deviation has a standard deviation of about 0.5 / sqrt(d))."""
    scenario = LabelAttack(**EXAMPLE)
    sim = scenario.simulate(d=400, seeds=8, t_max=6.0, n_points=13, seed=3)
    th = scenario.matching_theory(sim)
    for name in ("R", "S", "Q", "accuracy"):
        gap = np.max(np.abs(sim[name].mean("seed").values - th[name].values))
        assert gap <= 2 / math.sqrt(400 * 8), (name, gap)
    assert not bool(sim.diverged.any())


def test_theory_is_the_exact_solution_and_reaches_the_steady_state(example_theory):
    """From w = 0, R and S solve linear ODEs: X(t) = X_inf (1 - e^{-lr t}); Q relaxes to its steady state; the
    closed-form moments agree with the engine's cubature."""
    th, fixed = example_theory, steady_state(**EXAMPLE)
    decay = 1 - np.exp(-EXAMPLE["lr"] * th.t.values)
    for name in ("R", "S"):
        np.testing.assert_allclose(th[name].values, fixed[name] * decay, rtol=1e-6, atol=1e-9)
    for name in ("R", "S", "Q", "accuracy"):
        assert abs(float(th[name][-1]) - float(fixed[name])) < 1e-8, name
    assert th.attrs["expectations"] == "closed" and th.attrs["cubature_error"] < 1e-8
    assert (float(fixed["R"]), float(fixed["S"]), float(fixed["Q"])) == pytest.approx((0.76, 0.44, 0.7048333), abs=1e-6)


def test_label_flipping_steady_accuracy_jumps_at_one_half():
    a = np.array([0.3, 0.49, 0.51, 0.7])
    assert steady_state(a, -1.0, 0.5)["accuracy"] == pytest.approx([1, 1, 0, 0], abs=1e-12)
    noisy = steady_state(a, -1.0, 0.5, noise=0.3)["accuracy"]
    assert np.all(np.diff(noisy) < 0) and 0.5 < noisy[1] < 0.9 and 0.1 < noisy[2] < 0.5


def test_optimal_attack_minimises_the_steady_cost():
    """a* of the formula is the minimum of C a^2 / 2 + |w_inf - w_target|^2 / (2d) over the steady states, with and
    without label noise; the numbers of models.md section 7 at rho_t = -1."""
    assert optimal_attack(np.array([3.0, 3.9, 4.1, 5.0]), -1.0) == pytest.approx([0.5714, 0.5063, 0.4938, 0.4444],
                                                                               abs=1e-4)
    grid = np.linspace(0, 1, 200001)
    for C, rho_t, lr, noise in ((4.1, -1.0, 0.5, 0.0), (1.0, 0.3, 1.2, 0.7)):
        fixed = steady_state(grid, rho_t, lr, noise)
        cost = C * grid ** 2 / 2 + (fixed["Q"] - 2 * fixed["S"] + 1) / 2
        assert float(optimal_attack(C, rho_t, lr, noise)) == pytest.approx(grid[np.argmin(cost)], abs=1e-5)


@pytest.mark.parametrize("arguments, name", [
    (dict(a=1.5, rho_t=0.0, lr=0.5), "a"), (dict(a=-0.1, rho_t=0.0, lr=0.5), "a"),
    (dict(a=0.3, rho_t=-1.5, lr=0.5), "rho_t"), (dict(a=0.3, rho_t=0.0, lr=2.0), "lr"),
    (dict(a=0.3, rho_t=0.0, lr=0.0), "lr"), (dict(a=0.3, rho_t=0.0, lr=0.5, noise=-1.0), "noise"),
    (dict(a="0.3", rho_t=0.0, lr=0.5), "a")])
def test_bad_input_names_the_parameter(arguments, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        LabelAttack(**arguments)


def test_lr_message_says_why_and_init_is_checked():
    with pytest.raises(ValueError, match="steady state needs 0 < lr < 2"):
        LabelAttack(a=0.3, rho_t=0.0, lr=2.5)
    with pytest.raises(ValueError, match="init takes R, S, Q"):
        LabelAttack(**EXAMPLE).theory(t_max=1.0, init={"T": 1.0})
    with pytest.raises(ValueError, match="^init .* positive semi-definite"):
        LabelAttack(**EXAMPLE).theory(t_max=1.0, init={"R": 1.0, "S": 0.0, "Q": 0.5})
