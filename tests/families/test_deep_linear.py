"""hild.deep_linear: the scenarios deep_linear and deep_linear.deep: exact theory vs GD, exact limits, conserved
quantities, per-mode imbalances, the size parameter, bad input, claims at quick size."""
import numpy as np
import pytest

import hild
import hild.families.deep_linear.claims  # noqa: F401  (registers the deep_linear claims)
from hild.families.deep_linear import (DeepLinear, kernel, minimal_model, mode_trajectory, saxe_sigmoid, saxe_time,
                                       simulate_batch)
from hild.families.deep_linear.deep import DeepBalanced

S = [2.0, 1.0, 0.5]


def test_lambda_balanced_theory_matches_gd_in_every_variable():
    """Random lambda-balanced starts with unequal layer rates: Riccati solution vs GD at lr 1e-3."""
    nets = [DeepLinear(singular_values=S, d_in=4, d_out=3, width=3, lr=1e-3, lr_scales=(1.0, 2.0), init="lambda",
                       init_scale=0.05, lam=lam) for lam in (0.0, 1.0, -1.0)]
    for net, sim in zip(nets, simulate_batch(nets, seeds=2, t_max=4, n_points=41)):
        th = net.theory(t_max=4, n_points=41, init=sim)
        assert not sim.diverged.any()
        for var in ("function", "W1TW1", "W2W2T", "ntk", "modes", "loss"):
            err = float(np.abs(sim[var] - th[var]).max() / np.abs(th[var]).max())
            assert err < 5e-3, (net.lam, var, err)
        assert set(th.data_vars) <= set(sim.data_vars)


def test_riccati_solves_its_ode_and_matches_the_mode_closed_form():
    t = np.linspace(0, 4, 81)
    for lam in (0.0, 0.3, 5.0, -2.0):
        u = mode_trajectory(t, 2.0, 1e-2, lam)
        du = np.gradient(u, t, edge_order=2)
        rhs = np.sqrt(lam ** 2 + 4 * u ** 2) * (2.0 - u)
        assert np.max(np.abs(du - rhs)[2:-2]) < 2e-2 * np.max(np.abs(rhs)), lam
    net = DeepLinear(singular_values=[3.0, 1.0, 0.0], width=3, init="aligned", init_scale=1e-3, lam=0.5)
    th = net.theory(t_max=6, n_points=61)
    expected = mode_trajectory(th.t.values[:, None], np.array([3.0, 1.0, 0.0]), 1e-3, 0.5)
    assert np.max(np.abs(th.modes.values - expected)) < 1e-12


def test_exact_limits():
    t = np.linspace(0, 8, 201)
    # lambda = 0 is Saxe's sigmoid and its half time
    np.testing.assert_allclose(mode_trajectory(t, 3.0, 1e-3, 0.0), saxe_sigmoid(t, 3.0, 1e-3), rtol=1e-12, atol=0)
    assert abs(saxe_time(3.0, 1e-3, 1.5) - np.log(2999) / 6) < 1e-12
    # |lambda| large: exponential relaxation with rate |lambda|
    lam = 1e4
    relax = 2.0 + (1e-3 - 2.0) * np.exp(-lam * t[:20] / 1e3)
    np.testing.assert_allclose(mode_trajectory(t[:20] / 1e3, 2.0, 1e-3, lam), relax, rtol=1e-6)
    # s = 0 and lambda = 0: u' = -2u^2
    np.testing.assert_allclose(mode_trajectory(t, 0.0, 0.1, 0.0), 0.1 / (1 + 0.2 * t), rtol=1e-12)


def test_conserved_quantities_under_the_exact_theory_and_gd_drift():
    net = DeepLinear(singular_values=S, d_in=3, d_out=4, width=3, lr=1e-2, lr_scales=(0.5, 2.0), init="lambda",
                     init_scale=0.5, lam=0.7)
    th = net.theory(t_max=5, n_points=51)
    assert np.abs(th.imbalance.values - 0.7 * np.eye(3)).max() < 1e-12
    sim = net.simulate(seeds=1, t_max=5, n_points=51)
    drift = float(np.abs(sim.imbalance.isel(seed=0) - sim.imbalance.isel(seed=0, t=0)).max())
    assert 1e-6 < drift < 5e-2  # GD breaks the conservation at O(lr)


def test_minimal_model_kernel_formula_is_the_ntk():
    beta = np.random.default_rng(0).standard_normal(6)
    net = minimal_model(beta, delta=-1.5, eta_w=0.5, eta_a=2.0, init_scale=0.2)
    th = net.theory(t_max=2, n_points=5)
    for k in range(5):
        np.testing.assert_allclose(kernel(th.function.values[k, 0], -1.5, 0.5, 2.0), th.ntk.values[k], atol=1e-12)


def test_random_init_has_no_exact_theory_and_simulates_sgd():
    net = DeepLinear(singular_values=S, width=3, init="random", init_scale=0.1, n_samples=50, batch_size=10, noise=0.1)
    with pytest.raises(ValueError, match="lambda-balanced"):
        net.theory(t_max=1)
    a, b = net.simulate(seeds=2, t_max=1, n_points=11), net.simulate(seeds=2, t_max=1, n_points=11)
    np.testing.assert_array_equal(a.function.values, b.function.values)  # same seeds, same numbers
    assert not a.diverged.any() and a.loss.values[:, -1].max() < a.loss.values[:, 0].min()


def test_divergence_is_flagged():
    net = DeepLinear(singular_values=[3.0], width=1, lr=2.0, init="aligned", init_scale=1.0)
    sim = net.simulate(t_max=200, n_points=3)
    assert bool(sim.diverged.all()) and np.isnan(sim.loss.values[0, -1]) and float(sim.t_diverged[0]) > 0
    assert net.divergence.bound == 1e12 and not bool(net.theory(t_max=1, n_points=3).diverged)


@pytest.mark.parametrize("kwargs, match", [
    (dict(singular_values=[1.0, -0.5], width=2), "singular_values"),
    (dict(singular_values=[1.0], sigma_yx=[[1.0]], width=1), "exactly one"),
    (dict(sigma_yx=[1.0, 2.0], width=1), "sigma_yx"),
    (dict(sigma_yx=np.ones((2, 3)), d_in=2, width=1), "sigma_yx"),
    (dict(singular_values=[1.0, 2.0], d_in=1, width=1), "d_in"),
    (dict(singular_values=[1.0], width=0), "width"),
    (dict(singular_values=[1.0], width=1, lr=0.0), "lr"),
    (dict(singular_values=[1.0], width=1, lr_scales=(1.0, -1.0)), "lr_scales"),
    (dict(singular_values=[1.0], width=1, init="orthogonal"), "init"),
    (dict(singular_values=[1.0], width=1, init_scale=-1.0), "init_scale"),
    (dict(singular_values=[1.0], width=1, lam=float("nan")), "lam"),
    (dict(singular_values=[1.0, 1.0], d_out=2, width=3, lam=1.0), "width > d_out"),
    (dict(singular_values=[1.0, 1.0], d_in=2, d_out=4, width=3, lam=-1.0), "width > d_in"),
    (dict(singular_values=[1.0], width=1, init="random", lam=1.0), "lam applies"),
    (dict(singular_values=[1.0], width=2, init="explicit", weights=(np.ones((2, 1)), np.ones((1, 3)))), "W2"),
    (dict(singular_values=[1.0], width=1, init="explicit"), "weights"),
    (dict(singular_values=[1.0], width=1, n_samples=0), "n_samples"),
    (dict(singular_values=[1.0], width=1, batch_size=0), "batch_size"),
    (dict(singular_values="three", width=1), "singular_values"),
    (dict(singular_values=[1.0], width="4"), "width"),
    (dict(singular_values=[1.0], width=1, lr="fast"), "lr"),
    (dict(singular_values=[1.0], width=1, lam="big"), "lam"),
    (dict(singular_values=[1.0, 1.0], width=2, lam=(1.0, 2.0, 3.0)), "one per hidden unit"),
    (dict(singular_values=[1.0, 1.0], d_out=2, width=3, lam=(0.0, 0.0, 1.0)), "lam\\[2\\] must be <= 0"),
    (dict(singular_values=[1.0], width=1, whiten="no"), "whiten"),
])
def test_bad_input_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DeepLinear(**kwargs)


def test_bad_run_arguments_are_refused():
    net = DeepLinear(singular_values=[1.0, 2.0], width=1)
    for kwargs, match in ((dict(t_max=0.0), "t_max"), (dict(n_points=1), "n_points"), (dict(seeds=0), "seeds"),
                          (dict(dtype="float16"), "dtype"), (dict(n_samples=1), "n_samples must be an integer >= 2"),
                          (dict(n_samples="many"), "n_samples")):
        with pytest.raises(ValueError, match=match):
            net.check_simulation(**kwargs)
        with pytest.raises(ValueError, match=match):
            net.simulate(**kwargs)
    with pytest.raises(ValueError, match="t_max"):
        net.theory(t_max=-1.0)
    with pytest.raises(ValueError, match="batch_size needs n_samples"):
        DeepLinear(singular_values=[1.0], width=1, batch_size=4).simulate()
    with pytest.raises(ValueError, match="noise must be 0"):
        DeepLinear(singular_values=[1.0], width=1, noise=0.1).check_simulation()
    DeepLinear(singular_values=[1.0], width=1, noise=0.1).check_simulation(n_samples=8)  # a data set: allowed


def test_figure_draws_theory_and_simulation():
    net = DeepLinear(singular_values=S, width=3, init="aligned", init_scale=1e-2, lr=1e-2)
    fig = hild.deep_linear.figure(net.theory(t_max=3, n_points=31), net.simulate(seeds=2, t_max=3, n_points=31))
    assert len(fig.axes) == 3


# the claims' verdicts at quick and paper size: tests/test_claims.py


def test_per_mode_imbalances_are_exact_against_gd():
    """An aligned start with one lambda per mode: the closed form per mode against GD, in every variable; at
    equal lambdas the per-mode closed form is the lambda-balanced Riccati solution (an exact limit)."""
    from hild.families.deep_linear.aligned import aligned_flow, aligned_strengths

    lam = (0.0, 0.5, 2.0, -1.0)
    net = DeepLinear(singular_values=[3.0, 2.0, 1.0, 0.5], width=4, lr=1e-3, lr_scales=(1.0, 2.0), init="aligned",
                     init_scale=1e-2, lam=lam)
    sim = net.simulate(seeds=2, t_max=4, n_points=41)
    th = net.matching_theory(sim, t_max=4, n_points=41)
    assert th.attrs["method"].startswith("closed form per aligned mode")
    np.testing.assert_allclose(np.sort(th.attrs["lam"]), np.sort(lam), atol=1e-12)
    c = hild.compare(th, sim)
    for var in ("function", "W1TW1", "W2W2T", "ntk", "modes", "loss", "imbalance"):
        assert c.summary[var]["max_abs"] < 5e-3 * float(np.abs(th[var]).max()), (var, c.summary[var])
    balanced = DeepLinear(singular_values=[3.0, 2.0, 1.0, 0.5], width=4, lr_scales=(1.0, 2.0), init="aligned",
                          init_scale=1e-2, lam=0.5)
    riccati = balanced.theory(t_max=4, n_points=41)
    assert riccati.attrs["method"].startswith("closed-form Riccati")
    # the per-mode solution is not the scalar one: the modes with lam = 0 and -1 learn at other speeds
    assert float(np.abs(riccati.modes - th.modes.isel(seed=0)).max()) > 0.1
    U, s, V = balanced.svd()
    function, R1, R2 = aligned_flow(*aligned_strengths(*balanced.initial_weights(3), U, V), s, riccati.t.values,
                                    balanced.lr_scales, U, V)
    for name, value in (("function", function), ("W1TW1", R1), ("W2W2T", R2)):
        np.testing.assert_allclose(value, riccati[name].values, atol=1e-10, rtol=0)
    rng = np.random.default_rng(0)
    assert aligned_strengths(rng.standard_normal((4, 4)), rng.standard_normal((4, 4)), U, V) is None


def test_per_mode_lambda_needs_an_aligned_start_for_the_theory():
    net = DeepLinear(singular_values=[2.0, 1.0], width=2, init="lambda", init_scale=0.1, lam=(0.5, 1.0))
    with pytest.raises(ValueError, match="not aligned"):
        net.theory(t_max=1)
    assert not bool(net.simulate(t_max=0.1, n_points=3).diverged.any())


def test_the_size_parameter_n_samples_controls_the_gap():
    """GD on n unwhitened samples approaches the population flow as n grows; the field is the default."""
    ex = DeepLinear.example()
    th = ex.theory(t_max=4, n_points=41)
    gaps = hild.finite_size(th, ex, sizes=[16, 256], variable="function", seeds=2, t_max=4, n_points=41)
    assert gaps.gap.values[1] < gaps.gap.values[0] / 2, gaps.gap.values
    population = hild.compare(th, ex.simulate(seeds=2, t_max=4, n_points=41)).summary["function"]["max_abs"]
    assert population < gaps.gap.values[1] / 4  # n -> infinity leaves the O(lr) gap of GD alone
    sim = ex.simulate(n_samples=16, seeds=2, t_max=4, n_points=41)
    assert sim.attrs["size"] == "n_samples" and sim.attrs["n_samples"] == 16 and sim.attrs["seeds"] == [0, 1]
    assert set(("model", "kind", "params", "hild_version", "dtype", "convention", "axis")) <= set(sim.attrs)
    field = DeepLinear(**{**{k: getattr(ex, k) for k in ("singular_values", "width", "lr", "init", "init_scale",
                                                         "whiten")}, "n_samples": 16})
    np.testing.assert_array_equal(field.simulate(seeds=2, t_max=4, n_points=41).function.values, sim.function.values)


def test_deeper_balanced_networks_follow_their_mode_ode():
    from hild.families.deep_linear.deep import mode_trajectory_deep, simulate_deep

    t = np.linspace(0, 6, 61)
    np.testing.assert_allclose(mode_trajectory_deep(t, [3.0, 1.0], 1e-3, 2), saxe_sigmoid(t[:, None], [3.0, 1.0], 1e-3),
                               rtol=1e-7, atol=1e-12)
    net = DeepBalanced(singular_values=[3.0, 2.0, 1.0, 0.5], depth=3, u0=0.05)  # the shapes of saxe_modes
    sim, th = net.simulate(steps_per_time=1000, seeds=2, t_max=12, n_points=241), net.theory(t_max=12, n_points=241)
    fine = hild.compare(th, sim).summary["modes"]["max_abs"]
    assert fine < 0.01
    np.testing.assert_allclose(simulate_deep([3.0, 2.0, 1.0, 0.5], 3, lr=1e-3, u0=0.05, t_max=12, n_points=241,
                                             seeds=2).modes, sim.modes, rtol=0, atol=1e-14)  # the same GD
    coarse = net.simulate(steps_per_time=100, seeds=1, t_max=12, n_points=241)
    assert hild.compare(th, coarse).summary["modes"]["max_abs"] > 5 * fine  # the gap is O(1 / steps_per_time)
    with pytest.raises(ValueError, match="depth must be an integer >= 2"):
        simulate_deep([1.0], 1)
    with pytest.raises(ValueError, match="singular_values must be"):
        simulate_deep([-1.0], 3)
    for kwargs, match in ((dict(depth=1), "depth"), (dict(u0=0.0), "u0"), (dict(singular_values="x"), "singular_values"),
                          (dict(depth="3"), "depth")):
        with pytest.raises(ValueError, match=match):
            DeepBalanced(**kwargs)
    with pytest.raises(ValueError, match="steps_per_time must be an integer >= 7"):
        net.check_simulation(steps_per_time=3)


def test_figure_draws_theory_above_each_mode_s_seed_band():
    """Modes, loss and NTK movement: each simulated series as its seed mean (sparse markers) over a band, the
    theory line above it, and the size and seeds in the legend."""
    from matplotlib.collections import PolyCollection

    net = DeepLinear(singular_values=S, width=3, init="aligned", init_scale=1e-2, lr=1e-2)
    sim = net.simulate(seeds=2, t_max=3, n_points=31)
    fig = hild.deep_linear.figure(net.theory(t_max=3, n_points=31), sim)
    for ax, series in zip(fig.axes, (len(S), 1, 1)):
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        means = [line for line in ax.lines if line.get_markevery() not in (None, 1)]
        theory = [line for line in ax.lines if line not in means]
        assert len(bands) == len(means) == len(theory) == series
        assert min(line.get_zorder() for line in theory) > max(line.get_zorder() for line in means) > \
            max(band.get_zorder() for band in bands)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "n_samples = population, 2 seeds" in legend and "sd" in legend
