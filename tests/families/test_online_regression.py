"""Online linear regression, the worked example of docs/adding-a-model.md: theory against its closed form and
against SGD at several d, divergence beyond lr = 2, bad input (the protocol itself: tests/test_contract.py)."""
import numpy as np
import pytest

import hild
from hild.families.online_regression import OnlineRegression


def closed_form_eg(sc: OnlineRegression, t):
    """eg(t) = E_inf + (E_0 - E_inf) exp(-lr (2 - lr) t), halved; E_inf = lr sigma^2 / (2 - lr)."""
    c = sc.lr * (2 - sc.lr)
    e0, e_inf = sc.Q0 - 2 * sc.R0 + 1, sc.lr * sc.noise ** 2 / (2 - sc.lr)
    return 0.5 * (e_inf + (e0 - e_inf) * np.exp(-c * np.asarray(t)))


def test_theory_matches_the_closed_form():
    sc = OnlineRegression(lr=1.2, noise=0.5, R0=0.1, Q0=0.3)
    th = sc.theory(t_max=20, n_points=41)
    np.testing.assert_allclose(th.eg.values, closed_form_eg(sc, th.t.values), rtol=1e-8)
    np.testing.assert_allclose(th.R.values, 1 - 0.9 * np.exp(-1.2 * th.t.values), rtol=1e-8)


def test_simulation_approaches_the_theory_as_d_grows():
    sc = OnlineRegression.example()
    th = sc.theory()
    c = hild.compare(th, sc.simulate(d=800, seeds=16))
    assert c.summary["eg"]["max_in_sem"] < 4 and c.summary["eg"]["max_abs"] < 0.01
    fs = hild.finite_size(th, sc, sizes=[50, 200, 800], seeds=16)
    assert fs.size == "d" and fs.gap.sel(d=800) < fs.gap.sel(d=50) and fs.exponent < -0.2


def test_learning_rates_above_two_diverge_in_theory_and_simulation():
    sc = OnlineRegression(lr=2.5)
    th, sim = sc.theory(t_max=40), sc.simulate(d=100, seeds=2, t_max=40)
    assert bool(th.diverged) and 0 < float(th.t_diverged) < 40
    assert bool(sim.diverged.all()) and np.isnan(sim.eg.isel(t=-1)).all()
    with pytest.raises(ValueError, match="every seed of the simulation diverged"):
        hild.compare(th, sim)


@pytest.mark.parametrize("arguments, name", [({"lr": 0}, "lr"), ({"noise": -1}, "noise"),
                                             ({"R0": 0.6, "Q0": 0.25}, "Q0"), ({"lr": "fast"}, "lr")])
def test_bad_parameters_are_refused_by_name(arguments, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        OnlineRegression(**arguments)
    with pytest.raises(ValueError, match="^d must be"):
        OnlineRegression.example().simulate(d=1)
