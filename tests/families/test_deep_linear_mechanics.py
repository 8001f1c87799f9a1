"""hild.deep_linear.mechanics (Neural Mechanics, model deep_linear.mechanics) and hild.deep_linear.autoencoder
(regularised LAE, model deep_linear.autoencoder): exact discrete laws, gradient-flow limit, closed forms, the
scenarios' theory against simulation and their size parameters, bad input, claims at quick size."""
import numpy as np
import pytest

import hild
import hild.families.deep_linear.claims_mechanics  # noqa: F401  (registers the claims)
from hild.families.deep_linear import autoencoder as ae
from hild.families.deep_linear.autoencoder import LinearAutoencoder
from hild.families.deep_linear.mechanics import NeuralMechanics, discrete_law, drift_exponent, flow_law, train

SMALL = dict(steps=300, seeds=1, d=6, widths=(5, 4), classes=3, n_samples=64, batch_size=8)


@pytest.fixture(scope="module")
def run():
    return train(lrs=(0.2, 0.1), weight_decays=(0.0, 0.3), **SMALL)


def _q(ds, var, i, j):
    v = ds[var].isel(lr=i, weight_decay=j, seed=0)
    return v.transpose(*[d for d in v.dims if d != "step"], "step").values


@pytest.mark.parametrize("var,gvar,kind", [("scale_norm2", "scale_grad2", "norm"),
                                           ("rescale_unit", "rescale_unit_grad", "norm"),
                                           ("rescale_layer", "rescale_layer_grad", "norm"),
                                           ("translation_bias", "translation_bias", "translation"),
                                           ("translation_columns", "translation_columns", "translation")])
def test_discrete_laws_are_exact_to_rounding(run, var, gvar, kind):
    for i, lr in enumerate(run.lr.values):
        for j, wd in enumerate(run.weight_decay.values):
            q, G = _q(run, var, i, j), _q(run, gvar, i, j)[..., :-1]
            law = discrete_law(q[..., 0], G, lr, wd, kind)
            assert np.max(np.abs(law - q)) < 1e-11 * np.max(np.abs(q)), (var, lr, wd)
            if kind == "norm":  # the eta^2 ||g||^2 term is not negligible: the law is not the trivial one
                trivial = discrete_law(q[..., 0], 0 * G, lr, wd, kind)
                assert np.max(np.abs(trivial - q)) > 1e-4 * np.max(np.abs(q))


def test_scale_gradient_is_orthogonal_and_norm_grows_without_weight_decay(run):
    q = _q(run, "scale_norm2", 0, 0)
    assert np.all(np.diff(q, axis=-1) >= -1e-12)  # ||w||^2 only grows at wd = 0 (g ⟂ w)
    assert np.all(q[:, -1] > q[:, 0] * 1.001)


def test_paper_integral_law_and_modified_flow():
    """At wd = 0 the integral law is the discrete law; at wd > 0 its error is O(lr wd^2 t), smaller with the
    modified rate 2 wd + lr wd^2."""
    rng = np.random.default_rng(0)
    G = rng.random((3, 500))
    q0 = np.array([1.0, 2.0, 0.5])
    assert np.allclose(flow_law(q0, G, 0.05, 0.0), discrete_law(q0, G, 0.05, 0.0), rtol=1e-13)
    ex = discrete_law(q0, G, 0.05, 0.2)
    assert 1e-3 < np.max(np.abs(flow_law(q0, G, 0.05, 0.2) / ex - 1)) < 0.02
    # the decay of the initial value: the modified rate is exact to O(lr^2 wd^3 t), the paper's to O(lr wd^2 t)
    zero = discrete_law(q0, 0 * G, 0.05, 0.2)
    e_paper = np.max(np.abs(flow_law(q0, 0 * G, 0.05, 0.2) / zero - 1))
    e_mod = np.max(np.abs(flow_law(q0, 0 * G, 0.05, 0.2, rate="modified") / zero - 1))
    assert e_mod < e_paper / 20 and e_paper > 1e-2
    tr = flow_law(q0, G, 0.05, 0.2, kind="translation", rate="modified")
    assert np.max(np.abs(tr / discrete_law(q0, G, 0.05, 0.2, kind="translation") - 1)) < 1e-3


def test_gradient_flow_limit_drift_is_proportional_to_lr():
    """Full-batch GD at wd = 0: ||W1 row||^2 and ||W2||^2 - ||W3||^2 drift from their conserved values ∝ lr."""
    lrs = (0.04, 0.02, 0.01)
    ds = train(lrs=lrs, weight_decays=(0.0,), **{**SMALL, "steps": 800, "batch_size": 64})
    T = 0.01 * 800
    for var, tol in (("scale_norm2", 0.05), ("rescale_layer", 0.1)):
        drifts = []
        for i, lr in enumerate(lrs):
            q = _q(ds, var, i, 0)
            k = int(round(T / lr))
            drifts.append(np.sum(q[..., k] - q[..., 0]))
        assert abs(drift_exponent(lrs, drifts) - 1) < tol, (var, drifts)


def test_lae_closed_form_is_the_global_minimum():
    s = np.array([4.0, 3.0, 2.0, 0.8, 0.5, 0.1])
    X = ae.data_with_spectrum(s, 100, seed=3)
    cov = X @ X.T / 100
    assert np.allclose(np.linalg.eigvalsh(cov)[::-1], s)
    lam, k = 0.5, 3
    gm = ae.global_minimum(cov, lam, k)
    assert np.allclose(gm["W1"], gm["W2"].T)
    assert np.allclose(gm["singular_values"], np.sqrt(1 - lam / s[:3]))
    assert abs(ae.loss(gm["W1"], gm["W2"], cov, lam) - gm["loss"]) < 1e-12
    assert abs(gm["loss"] - (s.sum() - np.sum((s[:3] - lam) ** 2 / s[:3]))) < 1e-12
    g1, g2 = ae.gradients(gm["W1"], gm["W2"], cov, lam)
    assert np.max(np.abs(g1)) < 1e-12 and np.max(np.abs(g2)) < 1e-12
    rng = np.random.default_rng(1)
    O, _ = np.linalg.qr(rng.standard_normal((k, k)))
    W1, W2 = ae.critical_point(cov, lam, k, rotation=O)
    assert abs(ae.loss(W1, W2, cov, lam) - gm["loss"]) < 1e-12  # the O(k) orbit
    for _ in range(20):
        d1, d2 = 1e-3 * rng.standard_normal(W1.shape), 1e-3 * rng.standard_normal(W2.shape)
        assert ae.loss(W1 + d1, W2 + d2, cov, lam) > gm["loss"]
    # a direction with s_i < lam gets a zero column
    z = ae.global_minimum(cov, 1.0, 5)
    assert np.allclose(z["singular_values"][3:], 0) and np.allclose(z["W2"][:, 3:], 0)
    # another index set: a critical point with higher loss and a negative curvature direction
    W1s, W2s = ae.critical_point(cov, lam, k, subset=[0, 1, 3])
    assert np.max(np.abs(np.concatenate([g.ravel() for g in ae.gradients(W1s, W2s, cov, lam)]))) < 1e-12
    assert ae.loss(W1s, W2s, cov, lam) > gm["loss"] + 0.1
    assert ae.hessian_min_eigenvalue(W1s, W2s, cov, lam) < -0.1


def test_lae_gd_converges_to_the_closed_form():
    s = np.array([4.0, 3.0, 0.8, 0.5, 0.1])
    X = ae.data_with_spectrum(s, 50, seed=0)
    cov, lam, k = X @ X.T / 50, 0.3, 2
    sim = ae.simulate(cov, lam, k, lr=0.02, steps=1500, seeds=2, seed=4)
    assert sim.transpose_gap.values[:, 0].min() > 1e-2  # unbalanced starts
    for j in range(2):
        m = ae.measures(sim.W1.values[j], sim.W2.values[j], cov, lam, k)
        assert m["transpose_gap"] < 1e-8 and m["singular_value_error"] < 1e-8 and m["principal_angle_deg"] < 1e-6
        assert abs(m["loss_gap"]) < 1e-10


def test_bad_input():
    with pytest.raises(ValueError, match="lrs"):
        train(lrs=(-0.1,))
    with pytest.raises(ValueError, match="weight_decays"):
        train(weight_decays=(float("nan"),))
    with pytest.raises(ValueError, match="batch_size"):
        train(n_samples=10, batch_size=20)
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        discrete_law(1.0, np.ones(3), 2.0, 0.5)
    with pytest.raises(ValueError, match="kind"):
        flow_law(1.0, np.ones(3), 0.1, 0.0, kind="spin")
    with pytest.raises(ValueError, match="rate"):
        flow_law(1.0, np.ones(3), 0.1, 0.0, rate="fast")
    cov = np.eye(4)
    with pytest.raises(ValueError, match="k must"):
        ae.global_minimum(cov, 0.1, 5)
    with pytest.raises(ValueError, match="lam"):
        ae.global_minimum(cov, -0.1, 2)
    with pytest.raises(ValueError, match="positive semi-definite"):
        ae.global_minimum(-cov, 0.1, 2)
    with pytest.raises(ValueError, match="spectrum"):
        ae.data_with_spectrum([1.0, -1.0], 10)
    with pytest.raises(ValueError, match="subset"):
        ae.critical_point(cov, 0.1, 2, subset=[0, 0])
    with pytest.raises(ValueError, match="init_scale"):
        ae.simulate(cov, 0.1, 2, init_scale=0.0)


# the claims' verdicts at quick and paper size: tests/test_claims.py


def test_mechanics_scenario_approaches_the_gradient_flow_laws_as_lr_falls():
    """Full-batch GD against the gradient-flow laws from each seed's start: the gap shrinks like lr =
    1 / steps_per_time; at weight decay 0 the translation sums are conserved exactly (the law is exact at every lr)."""
    net = NeuralMechanics(weight_decay=0.0, d=6, widths=(5, 4), classes=3, n_samples=32, batch_size=32)
    gaps = []
    for q in (10, 40):
        sim = net.simulate(steps_per_time=q, seeds=2, t_max=2, n_points=5)
        c = hild.compare(net.matching_theory(sim, t_max=2, n_points=5), sim)
        gaps.append(c.summary["scale_norm2"]["max_abs"])
        assert c.summary["translation_bias"]["max_abs"] < 1e-12 * max(1.0, float(np.abs(sim.translation_bias).max()))
        assert sim.attrs["steps_per_time"] == q and sim.attrs["size"] == "steps_per_time"
    assert 3 < gaps[0] / gaps[1] < 5, gaps  # ∝ lr: a factor 4
    with pytest.raises(ValueError, match="steps_per_time must be an integer >= 5"):
        net.check_simulation(steps_per_time=2)
    for kwargs, match in ((dict(weight_decay=-1.0), "weight_decay"), (dict(widths=(4,)), "widths"),
                          (dict(batch_size=100), "batch_size"), (dict(d="six"), "d")):
        with pytest.raises(ValueError, match=match):
            NeuralMechanics(**kwargs)


def test_autoencoder_scenario_reaches_the_closed_form_and_the_gap_shrinks_with_n_samples():
    net = LinearAutoencoder.example()
    th = net.theory()
    exact = hild.compare(th, net.simulate(seeds=2))  # the population covariance: GD reaches the closed form
    assert exact.summary["singular_value"]["max_abs"] < 1e-8 and exact.summary["product_eigenvalue"]["max_abs"] < 1e-8
    gap = [hild.compare(th, net.simulate(n_samples=n, seeds=4)).summary["singular_value"]["mean_abs"] for n in (20, 2000)]
    assert gap[1] < gap[0] / 3, gap
    with pytest.raises(ValueError, match="n_samples must be an integer >= 6"):
        net.check_simulation(n_samples=3)
    for kwargs, match in ((dict(k=7), "k must"), (dict(lam=-0.1), "lam"), (dict(spectrum=[1.0, -1.0]), "spectrum"),
                          (dict(lr="big"), "lr")):
        with pytest.raises(ValueError, match=match):
            LinearAutoencoder(**kwargs)


def test_autoencoder_figure_draws_discrete_modes_with_error_bars():
    """The mode axis is discrete: closed form as bars, GD as seed means with error bars, integer ticks."""
    from matplotlib.container import ErrorbarContainer

    net = LinearAutoencoder.example()
    fig = net.figure(net.theory(), net.simulate(seeds=2, steps=200))
    for ax in fig.axes:
        assert any(isinstance(c, ErrorbarContainer) for c in ax.containers)
        lo, hi = ax.get_xlim()
        assert all(float(t).is_integer() for t in ax.get_xticks() if lo <= t <= hi)
        assert ax.get_ylabel() not in ("singular_value", "product_eigenvalue")  # said in words


def test_mechanics_figure_bands_are_the_spread_about_each_seed_s_own_law():
    """A law started from each seed's own state (theory with a seed dimension, on a slightly different time
    grid): the band is the spread of the simulation about it, not the spread of the starts."""
    import xarray as xr
    from matplotlib.collections import PolyCollection

    t_th, t_sim = np.linspace(0, 10, 101), np.linspace(0, 10, 126)
    start = np.array([0.5, 1.0, 1.5])[:, None]
    theory = xr.Dataset({"rescale_layer": (("seed", "t"), start * np.exp(-0.1 * t_th))},
                        coords={"seed": [0, 1, 2], "t": t_th})
    noise = 1e-3 * np.random.default_rng(0).standard_normal((3, t_sim.size))
    simulation = xr.Dataset({"rescale_layer": (("seed", "t"), start * np.exp(-0.1 * t_sim) + noise)},
                            coords={"seed": [0, 1, 2], "t": t_sim},
                            attrs={"size": "steps_per_time", "steps_per_time": 25})
    fig = NeuralMechanics(weight_decay=0.05).figure(theory, simulation)
    ax = fig.axes[1]
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    upper_minus_lower = np.ptp(band.get_paths()[0].vertices[:, 1])
    assert upper_minus_lower < np.ptp(simulation.rescale_layer.mean("seed").values) + 0.01  # not +-0.4 of the starts
    assert "each seed's own theory" in " ".join(t.get_text() for t in fig.legends[0].get_texts())
