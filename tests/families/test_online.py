"""Online SGD in soft committee machines: theory, simulation, their agreement, exact limits, bad input."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hild import compare
from hild.families.online import Committee, linear_closed_form, theory_batch
from hild.families.online.simulate import initial_weights
from hild.families.online.theory import overlaps_from

START = {"Q": 0.05 * np.eye(2), "R": np.array([[0.05, 0.01], [0.0, 0.02]])}


@pytest.fixture(scope="module")
def erf_pair():
    scenario = Committee(K=2, M=2, lr=0.5)
    sim = scenario.simulate(d=400, seeds=4, t_max=40, n_points=21, init=START)
    return scenario, sim, scenario.theory(t_max=40, n_points=21, init=sim)


def test_theory_matches_simulation_erf(erf_pair):
    scenario, sim, th = erf_pair
    c = compare(th, sim)
    assert c.summary["eg"]["max_rel"] < 0.05
    assert c.summary["R"]["max_abs"] < 0.03
    assert c.summary["Q"]["max_abs"] < 0.03
    # and the error is within a few standard errors of the seed mean: no visible bias at d = 400
    assert c.summary["eg"]["max_in_sem"] < 5


def test_simulation_dataset_conventions(erf_pair):
    _, sim, th = erf_pair
    assert dict(sim.sizes) == {"seed": 4, "t": 21, "k": 2, "k2": 2, "m": 2, "m2": 2}
    for key in ("model", "params", "hild_version", "d", "seeds", "convention", "dtype", "axis", "size"):
        assert key in sim.attrs
    assert sim.attrs["model"] == "committee" and sim.attrs["d"] == 400 and sim.attrs["size"] == "d"
    assert list(sim.attrs["seeds"]) == [0, 1, 2, 3] and sim.attrs["dtype"] == "float32"
    np.testing.assert_allclose(sim.t.values, np.linspace(0, 40, 21))
    # the simulation starts exactly at the requested overlaps, and T is the identity
    np.testing.assert_allclose(sim.Q.isel(t=0).values, np.broadcast_to(START["Q"], (4, 2, 2)), atol=1e-6)
    np.testing.assert_allclose(sim.T.values, np.broadcast_to(np.eye(2), (4, 2, 2)), atol=1e-6)
    assert "seed" in th.dims and th.attrs["kind"] == "theory"


def test_same_seed_same_numbers_alone_or_in_a_batch():
    scenario = Committee(K=2, M=1, lr=0.3, noise=0.1)
    a = scenario.simulate(d=100, seeds=2, seed=5, t_max=2, n_points=5)
    again = scenario.simulate(d=100, seeds=2, seed=5, t_max=2, n_points=5)
    np.testing.assert_array_equal(a.Q.values, again.Q.values)
    # the same draws alone or in a batch: equal up to float32 rounding of batched vs single matmuls
    b = scenario.simulate(d=100, seeds=1, seed=6, t_max=2, n_points=5)
    np.testing.assert_allclose(a.Q.sel(seed=6).values, b.Q.sel(seed=6).values, rtol=1e-5, atol=1e-7)
    c = scenario.simulate(d=100, seeds=1, seed=7, t_max=2, n_points=5)
    assert not np.allclose(c.Q.isel(seed=0).values[-1], b.Q.isel(seed=0).values[-1])


def test_held_out_error_estimates_eg():
    scenario = Committee(K=2, M=2, lr=0.5)
    sim = scenario.simulate(d=200, seeds=2, t_max=5, n_points=6, init=START, n_test=20_000)
    # eg_test is a Monte Carlo estimate of eg over 20,000 inputs: relative error ~ 1 / sqrt(20000) * O(1)
    np.testing.assert_allclose(sim.eg_test.values, sim.eg.values, rtol=0.05)


def test_linear_ode_equals_closed_form():
    scenario = Committee(K=3, M=2, activation="linear", lr=0.3, noise=0.4, v=[1.0, 0.5, -0.2],
                         v_teacher=[1.0, 2.0], T=[[1.0, 0.3], [0.3, 0.8]], init_std=0.5)
    start = {"Q": 0.25 * np.eye(3), "R": np.array([[0.1, 0.0], [0.0, 0.2], [0.1, 0.1]])}
    th = scenario.theory(t_max=30, n_points=31, init=start)
    closed = linear_closed_form(scenario, th.t.values, init=start)
    np.testing.assert_allclose(th.eg.values, closed, rtol=1e-6)  # global error of a 1e-8 local tolerance
    # and the asymptote is the exact floor lr |v|^2 sigma^2 / (2 - lr |v|^2) / 2
    a = 0.3 * (1 + 0.25 + 0.04)
    assert closed[-1] == pytest.approx(0.5 * a * 0.4 ** 2 / (2 - a), rel=1e-6)


def test_linear_simulation_matches_closed_form():
    scenario = Committee(K=2, M=2, activation="linear", lr=0.2, noise=0.5, init_std=0.3)
    sim = scenario.simulate(d=1000, seeds=8, t_max=6, n_points=13)
    starts, _ = overlaps_from(scenario, sim)
    closed = np.mean([linear_closed_form(scenario, sim.t.values, init=s) for s in starts], axis=0)
    np.testing.assert_allclose(sim.eg.mean("seed").values, closed, rtol=0.04)


def test_batch_equals_individual_runs_including_padded_K():
    scenarios = [Committee(K=K, M=2, lr=lr, noise=0.2, weight_decay=0.01, lr_v=lr_v)
                 for K, lr, lr_v in [(1, 0.3, 0.0), (2, 0.5, 0.1), (3, 0.2, 0.05)]]
    starts = []
    for s in scenarios:
        W, _, Ws, _ = initial_weights(s, 500, 1, None)
        starts.append({"Q": W @ W.T / 500 + 0.1 * np.eye(s.K), "R": W @ Ws.T / 500 + 0.05, "T": np.eye(2),
                       "v": np.ones(s.K), "v_teacher": np.ones(2)})
    batch = theory_batch(scenarios, t_max=20, inits=starts, n_points=11)
    for i, (s, start) in enumerate(zip(scenarios, starts)):
        alone = s.theory(t_max=20, n_points=11, init=start)
        # equal to the integrator's tolerance (rtol 1e-8 per step): padding changes the error norm and so the steps
        np.testing.assert_allclose(batch.eg.isel(scenario=i).values, alone.eg.values, rtol=1e-6)
        np.testing.assert_allclose(batch.Q.isel(scenario=i).values[:, : s.K, : s.K], alone.Q.values, rtol=1e-6)
        assert np.all(np.isnan(batch.Q.isel(scenario=i).values[:, s.K:, :]))
    assert list(batch.K.values) == [1, 2, 3] and list(batch.lr.values) == [0.3, 0.5, 0.2]


def test_weight_decay_in_theory_and_simulation():
    scenario = Committee(K=2, M=2, lr=0.5, weight_decay=0.2)
    sim = scenario.simulate(d=400, seeds=4, t_max=20, n_points=11, init=START)
    th = scenario.theory(t_max=20, n_points=11, init=sim)
    assert compare(th, sim).summary["eg"]["max_rel"] < 0.05
    # decay shrinks the student: a weaker student than without it
    plain = Committee(K=2, M=2, lr=0.5).theory(t_max=20, n_points=11, init=sim)
    assert float(th.Q.isel(t=-1).mean()) < float(plain.Q.isel(t=-1).mean())


def test_second_layer_learning_matches_simulation():
    scenario = Committee(K=3, M=2, lr=0.3, lr_v=0.3, noise=0.3, v=[0.5, 0.5, 0.5])
    start = {"Q": 0.3 * np.eye(3), "R": np.array([[0.2, 0.0], [0.0, 0.1], [0.05, 0.05]])}
    sim = scenario.simulate(d=400, seeds=4, t_max=30, n_points=11, init=start)
    th = scenario.theory(t_max=30, n_points=11, init=sim)
    c = compare(th, sim)
    assert c.summary["v"]["max_abs"] < 0.03 and c.summary["eg"]["max_rel"] < 0.06
    assert float(abs(th.v.isel(t=-1) - th.v.isel(t=0)).max()) > 0.1  # the second layer did move


def test_relu_and_custom_activation_agree_with_simulation():
    start = {"Q": 0.5 * np.eye(2), "R": np.array([[0.3, 0.0], [0.1, 0.2]])}
    for act in ("relu", jnp.tanh):
        scenario = Committee(K=2, M=2, lr=0.2, activation=act)
        sim = scenario.simulate(d=400, seeds=4, t_max=10, n_points=6, init=start)
        th = scenario.theory(t_max=10, n_points=6, init=sim)
        assert compare(th, sim).summary["eg"]["max_rel"] < 0.05, act


def test_custom_erf_function_reproduces_the_closed_forms():
    erf = lambda x: jax.scipy.special.erf(x / jnp.sqrt(2.0))  # noqa: E731
    a = Committee(K=2, M=2, lr=0.5, activation=erf).theory(t_max=10, n_points=6, init=START)
    b = Committee(K=2, M=2, lr=0.5).theory(t_max=10, n_points=6, init=START)
    np.testing.assert_allclose(a.eg.values, b.eg.values, rtol=1e-6)


def test_divergence_is_detected_and_timed():
    scenario = Committee(K=2, M=2, activation="linear", lr=1.5)  # lr |v|^2 = 3 > 2: exponential blow-up
    th = scenario.theory(t_max=20, n_points=21)
    assert bool(th.diverged) and 0 < float(th.t_diverged) < 20
    assert np.isnan(th.eg.values[-1]) and np.isfinite(th.eg.values[0])
    sim = scenario.simulate(d=100, seeds=2, t_max=20, n_points=21)
    assert sim.diverged.all() and np.all(sim.t_diverged.values < 20)
    assert np.isnan(sim.eg.values[:, -1]).all()
    # erf at lr 5: the student's norm grows without bound (Saad & Solla's maximal learning rate is exceeded);
    # from the symmetric start it stays symmetric and passes the bound at t = 343.9 (the reduced ODE agrees)
    erf = Committee(K=2, M=2, lr=5.0).theory(t_max=400, n_points=41)
    assert bool(erf.diverged) and 300 < float(erf.t_diverged) < 400


@pytest.mark.parametrize("kwargs, name", [
    ({"K": 0}, "K"), ({"M": -1}, "M"), ({"K": 2.5}, "K"), ({"lr": -0.1}, "lr"), ({"lr": float("nan")}, "lr"),
    ({"lr_v": float("inf")}, "lr_v"), ({"noise": -1}, "noise"), ({"weight_decay": -1}, "weight_decay"),
    ({"activation": "sigmoid"}, "activation"), ({"T": [[1, 2], [2, 1]]}, "T"), ({"v_teacher": [1, 2, 3]}, "v_teacher"),
])
def test_bad_parameters_are_refused_by_name(kwargs, name):
    base = {"K": 2, "M": 2, "lr": 0.5}
    with pytest.raises(ValueError, match=rf"^{name}"):
        Committee(**{**base, **kwargs})


def test_bad_run_arguments_are_refused_by_name():
    scenario = Committee(K=2, M=2, lr=0.5)
    with pytest.raises(ValueError, match="^t_max"):
        scenario.theory(t_max=0)
    with pytest.raises(ValueError, match="^d"):
        scenario.simulate(d=3)
    with pytest.raises(ValueError, match="^seeds"):
        scenario.simulate(d=10, seeds=0)
    with pytest.raises(ValueError, match="init"):
        scenario.theory(t_max=1, init={"Q": np.eye(3)})
    with pytest.raises(ValueError, match="init"):
        scenario.theory(t_max=1, init={"P": np.eye(2)})
    with pytest.raises(ValueError, match="^inits"):
        theory_batch([scenario, scenario], t_max=1, inits=[{"Q": np.eye(2)}])


@pytest.mark.slow  # a real SGD run and ODE (the drawing itself: tests/test_plot.py, in the default run)
def test_a_run_that_diverges_at_once_draws_its_start_and_where_it_blew_up():
    """lr 100: SGD and the ODE blow up before the first recorded step after t = 0. The figure keeps the point
    at t = 0 in finite axes that reach the blow-up, marked by a dashed line and a text per result."""
    scenario = Committee(K=2, M=2, lr=100.0)
    sim = scenario.simulate(d=50, seeds=2, t_max=1, n_points=11)
    th = scenario.matching_theory(sim, t_max=1, n_points=11)
    assert bool(sim.diverged.all()) and bool(th.diverged.all())
    fig = scenario.figure(th, sim)
    first = min(float(sim.t_diverged.min()), float(th.t_diverged.min()))
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "simulation diverged at t = " in texts and "theory diverged at t = " in texts
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        assert np.isfinite([lo, hi]).all() and lo <= 0 < first <= hi and hi - lo > 0.05
        assert np.isfinite(ax.get_ylim()).all()
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(dashed) == 2  # one mark per result
    assert np.isfinite(fig.axes[0].lines[0].get_ydata()[0])  # the simulation's start is drawn


def test_plateau_figure_gives_the_sgd_height_its_standard_error_and_hides_no_theory(quick_claim):
    """Heights against lr: the ODE's as open circles, the SGD height filled and smaller, drawn above them with its
    error bar (standard error over seeds, said in the legend); the zoom at lr 0.5 shows both again."""
    from matplotlib.container import ErrorbarContainer

    result = quick_claim("committee.plateau")
    heights = result.figure.axes[1]
    for ax in (heights, *heights.child_axes):
        (bar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        sgd = bar.lines[0]
        ode = [line for line in ax.lines if line.get_marker() == "o"]
        assert ode and all(line.get_markerfacecolor() == "none" for line in ode)
        assert all(line.get_markersize() > sgd.get_markersize() and line.get_zorder() < sgd.get_zorder()
                   for line in ode)
        (segment,) = bar.lines[2][0].get_segments()
        assert segment[1, 1] > segment[0, 1]  # a bar of positive length
    legend = " ".join(t.get_text() for t in heights.get_legend().get_texts())
    assert "standard error over 2 seeds" in legend
    sim = result.data["simulation"]
    window = (sim.t >= 40) & (sim.t <= 100)
    assert sgd.get_ydata()[0] == pytest.approx(float(sim.eg.sel(t=window).mean()), rel=1e-6)


@pytest.mark.parametrize("name", ["committee.noise_floor", "committee.both_layers"])
def test_floor_figures_give_sgd_points_error_bars_over_open_theory_markers(name, quick_claim):
    from matplotlib.container import ErrorbarContainer

    (ax,) = quick_claim(name).figure.axes
    (bar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    theory = [line for line in ax.lines if line.get_marker() not in ("None", "", "_") and line is not bar.lines[0]]
    assert theory and all(line.get_markerfacecolor() == "none" and line.get_zorder() < bar.lines[0].get_zorder()
                          for line in theory)
    assert "standard error" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
