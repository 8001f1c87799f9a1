"""The modified flow of gradient descent (hild.implicit.ModifiedFlow; arXiv 2009.11162): GD against the modified and
the plain gradient flow, their orders in lr, an exact limit, bad input."""
import numpy as np
import pytest

import hild.implicit as implicit
from hild.families.implicit import modified_flow as mf


def test_gd_follows_the_modified_flow_to_second_order():
    """Halving lr (0.05 -> 0.025) divides the distance to the modified flow by ~4 and to gradient flow by ~2 (t <= 4;
    the O(lr^2) part of the latter moves its ratio to 2.1 here)."""
    errors = []
    for lr in (0.05, 0.025):
        scenario = implicit.ModifiedFlow(lr=lr)
        sim = scenario.simulate(steps=round(4 / lr), seeds=1, seed=3, n_points=5)
        th = scenario.theory(steps=round(4 / lr), n_points=5, seed=3)
        gd = sim.theta.isel(seed=0).values
        errors.append((np.abs(gd - th.theta.values).max(), np.abs(gd - th.theta_gradient_flow.values).max()))
    (m1, g1), (m2, g2) = errors
    assert 3.5 < m1 / m2 < 4.5 and 1.8 < g1 / g2 < 2.2 and m1 < 0.2 * g1


def test_gradient_flow_conserves_the_balance():
    """The rescaling symmetry (a, b) -> (c a, b / c) of L: |a|^2 - |b|^2 is conserved by gradient flow (to the
    solver's tolerance), not by the modified flow, whose regulariser (a.b - 1)^2 (|a|^2 + |b|^2) is not symmetric."""
    start = mf.initial(4, 0.5, [0])
    ts = np.linspace(0.0, 4.0, 5)
    for modified, conserved in ((False, True), (True, False)):
        theta = mf.flow(start, 1.0, 0.1, ts, modified)[0]
        balance = np.sum(theta[:, :4] ** 2, 1) - np.sum(theta[:, 4:] ** 2, 1)
        assert (np.abs(balance - balance[0]).max() < 1e-9) == conserved


def test_bad_input_names_the_parameter():
    for kwargs, name in [({"K": 0}, "K"), ({"lr": 0.0}, "lr"), ({"scale": -1.0}, "scale"), ({"target": "x"}, "target")]:
        with pytest.raises(ValueError, match=name):
            implicit.ModifiedFlow(**kwargs)
    with pytest.raises(ValueError, match="n_points"):
        implicit.ModifiedFlow(lr=0.1).theory(steps=40, n_points=7)
