"""The registered scenarios of hild.families.cumulants: the protocol, theory against simulation at moderate d,
exact limits of the theories, bad input, and `hild run` / `hild sweep` with the defaults."""
import json

import numpy as np
import pytest
import xarray as xr

import hild
from hild.core import PROVENANCE
from hild.families.cumulants import data, scenarios, theory

MODELS = {"cumulants.spectral": scenarios.SpectralTest, "cumulants.fastica": scenarios.FastICA,
          "cumulants.sgd": scenarios.OnlineSGD, "cumulants.mixed": scenarios.MixedCumulant}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_protocol(name):
    cls = hild.models()[name]
    assert cls is MODELS[name] and cls.size == "d"
    ex = cls.example()
    th, sim = ex.theory(), ex.simulate(d=8, seeds=2)
    for ds, kind in ((th, "theory"), (sim, "simulation")):
        assert set(PROVENANCE) <= set(ds.attrs) and ds.attrs["kind"] == kind and ds.attrs["axis"] == cls.axis
        assert cls.axis in ds.coords and "diverged" in ds and f"{cls.axis}_diverged" in ds
    assert sim.attrs["d"] == 8 and sim.attrs["seeds"] == [0, 1] and sim.sizes["seed"] == 2
    assert not bool(sim.diverged.any())
    assert set(hild.compare(th, sim).summary) == ({"m_u", "m_v"} if name == "cumulants.mixed" else {"m"})
    assert json.loads(th.attrs["params"]) == ex.params


def _agrees(th, sim, tol, variable="m"):
    """|seed mean - theory| <= 4 standard errors + tol at every point of the axis."""
    c = hild.compare(th, sim, [variable])
    err, sem = c.errors[variable].values, c.errors[f"{variable}_sem"].values
    assert np.all(err <= 4 * sem + tol), (err, sem)


def test_fastica_follows_its_overlap_map():
    ex = scenarios.FastICA.example()
    th = ex.theory()
    assert th.m.values[1] < 0.8 < 0.99 < th.m.values[-1]  # the run escapes: the map is not trivially flat
    _agrees(th, ex.simulate(d=128, seeds=4), 0.01)


def test_sgd_follows_the_overlap_ode():
    """From m0 = 0.6 (kurtosis contrast, lr = 0.02) the mean overlap at d = 128 follows the ODE, including its
    noise-limited plateau below 1."""
    ex = scenarios.OnlineSGD.example()
    th = ex.theory()
    assert th.m.values[0] == 0.6 and 0.95 < th.m.values[-1] < 0.99
    sim = ex.simulate(d=128, seeds=4)
    np.testing.assert_allclose(sim.t, th.t)
    _agrees(th, sim, 0.01)


@pytest.mark.parametrize("correlated", [True, False])
def test_mixed_cumulant_neuron_follows_its_two_overlap_ode(correlated):
    """From <w0, u> = 0.3: with correlated latents m_v rises to its plateau near 0.3, with independent ones it
    stays at 0 (up to its O(d^-1/2) start); d = 128 follows the ODE in both."""
    ex = scenarios.MixedCumulant(correlated=correlated)
    th = ex.theory()
    assert (0.25 < float(th.m_v[-1]) < 0.35) if correlated else float(abs(th.m_v).max()) == 0
    sim = ex.simulate(d=128, seeds=4)
    _agrees(th, sim, 0.01, "m_u")
    _agrees(th, sim, 0.03, "m_v")


def test_spectral_test_follows_bbp_above_the_transition():
    """Away from the transition (alpha >= 4 alpha_c) the d = 48 test is within 0.03 of BBP; near it the finite-d
    smearing is larger (the scenario's docstring)."""
    ex = scenarios.SpectralTest(latent="laplace")
    options = dict(alpha_min=2.0, alpha_max=16.0, n_points=4)
    th = ex.theory(**options)
    assert 4 * float(th.alpha_c) < 2.0
    _agrees(th, ex.simulate(d=48, seeds=4, **options), 0.03)


def test_exact_limits():
    # BBP: zero up to alpha_c = 2 / kappa_4^2, -> 1 as alpha -> infinity
    th = scenarios.SpectralTest().theory(alpha_min=0.1, alpha_max=1e6, n_points=40)
    alpha_c = 2 / data.kurtosis_along_spike(5.0) ** 2
    assert float(th.alpha_c) == pytest.approx(alpha_c)
    assert np.all(th.m.where(th.alpha <= alpha_c, drop=True) == 0) and float(th.m[-1]) > 1 - 1e-5
    # FastICA with the kurtosis contrast: h(m) = kappa_4 m^3 and C(m) = E s^6 exactly
    m = np.linspace(0.1, 1, 5)
    p = theory.population(m, 5.0, "rademacher", "kurtosis")
    np.testing.assert_allclose(p["h"], data.kurtosis_along_spike(5.0) * m ** 3, atol=1e-12)
    np.testing.assert_allclose(p["C"][-1], theory.spike_moments(5.0)[1], rtol=1e-12)
    # ... so with infinitely many samples per iteration one step reaches m = 1 from any start
    assert float(theory.fastica_map(0.2, 1e12, 1, 5.0, contrast="kurtosis").m[-1]) == pytest.approx(1.0)
    # SGD: m = 1 is not a fixed point at finite lr (the noise term), its limit as lr -> 0 is
    t = np.linspace(0, 2000, 3)
    assert float(theory.overlap_ode(0.9, 1e-3, t, 5.0).m[-1]) > float(theory.overlap_ode(0.9, 0.05, t, 5.0).m[-1])


@pytest.mark.parametrize("cls, kwargs, match", [
    (scenarios.SpectralTest, {"beta": 0.0}, "beta must be"),
    (scenarios.SpectralTest, {"beta": "five"}, "beta must be"),
    (scenarios.SpectralTest, {"latent": "gaussian"}, "latent must be non-Gaussian"),
    (scenarios.SpectralTest, {"latent": "cauchy"}, "latent must be one of"),
    (scenarios.SpectralTest, {"latent": 3}, "latent must be one of"),
    (scenarios.FastICA, {"alpha": 0.0}, "alpha must be"),
    (scenarios.FastICA, {"alpha": "many"}, "alpha must be"),
    (scenarios.FastICA, {"init_overlap": 0.0}, "init_overlap must be"),
    (scenarios.FastICA, {"contrast": "tanh"}, "contrast must be one of"),
    (scenarios.OnlineSGD, {"lr": -1.0}, "lr must be"),
    (scenarios.OnlineSGD, {"init_overlap": 1.5}, "init_overlap must be"),
    (scenarios.OnlineSGD, {"contrast": None}, "contrast must be one of"),
    (scenarios.MixedCumulant, {"beta_u": 0.0}, "beta_u must be"),
    (scenarios.MixedCumulant, {"beta_v": "x"}, "beta_v must be"),
    (scenarios.MixedCumulant, {"correlated": "yes"}, "correlated must be true or false"),
    (scenarios.MixedCumulant, {"init_overlap": -0.2}, "init_overlap must be"),
])
def test_bad_parameters_are_refused(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("cls, kwargs, match", [
    (scenarios.SpectralTest, {"d": 2}, "d must be an integer >= 4"),
    (scenarios.SpectralTest, {"d": 16.5}, "d must be an integer"),
    (scenarios.SpectralTest, {"alpha_min": 0.0}, "alpha_min must be"),
    (scenarios.SpectralTest, {"d": 4, "n_points": 50}, "repeated sample sizes"),
    (scenarios.FastICA, {"iterations": 0}, "iterations must be"),
    (scenarios.FastICA, {"seeds": 0}, "seeds must be"),
    (scenarios.OnlineSGD, {"t_max": 0.0}, "t_max must be"),
    (scenarios.OnlineSGD, {"n_points": 1}, "n_points must be"),
    (scenarios.MixedCumulant, {"d": 1}, "d must be an integer >= 4"),
])
def test_bad_simulation_arguments_are_refused(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls.example().simulate(**kwargs)
    with pytest.raises(ValueError, match=match):
        cls.example().check_simulation(**kwargs)


def test_unknown_simulation_arguments_are_refused():
    with pytest.raises(ValueError, match="simulate.*steps"):
        scenarios.OnlineSGD.example().check_simulation(steps=10)


def test_hild_run_and_sweep_with_the_defaults(tmp_path):
    from typer.testing import CliRunner

    from hild.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "cumulants.fastica", "--d", "16", "--seeds", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"theory.nc", "simulation.nc", "figure.png", "summary.json"}
    assert json.loads((out / "summary.json").read_text())["model"] == "cumulants.fastica"
    th, sim = (xr.open_dataset(out / name).load() for name in ("theory.nc", "simulation.nc"))
    assert th.m.dims == ("iteration",) and sim.m.dims == ("seed", "iteration") and sim.attrs["d"] == 16
    assert hild.compare(th, sim).summary["m"]["max_abs"] < 0.5  # d = 16: plumbing; agreement is tested at d = 128
    store = tmp_path / "sweep"
    result = CliRunner().invoke(app, ["sweep", "cumulants.fastica", "--grid", "alpha=200,500", "--d", "16",
                                      "--seeds", "2", "--store", str(store)])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(app, ["run", "cumulants.spectral", "--beta", "-1", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "beta" in bad.output


def test_spectral_figure_draws_bbp_finely_marks_alpha_c_and_reads_plainly(figure_problems):
    """BBP is drawn on a fine grid (its kink at alpha_c falls between the run's points) above the simulation's
    band, alpha_c is marked, the log axis is labelled in plain numbers and the legend sits off the data."""
    ex = scenarios.SpectralTest.example()
    th, sim = ex.theory(), ex.simulate(d=8, seeds=2)
    fig = ex.figure(th, sim)
    (ax,) = fig.axes
    assert figure_problems(fig) == []
    bbp = max(ax.lines, key=lambda line: len(line.get_xdata()))
    assert len(bbp.get_xdata()) > 10 * th.sizes["alpha"]
    assert all(bbp.get_zorder() > line.get_zorder() for line in ax.lines if line.get_marker() == "o")
    assert any(np.allclose(line.get_xdata(), float(th.alpha_c)) for line in ax.lines)
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().x0 >= ax.bbox.x1  # beside the panel, not on it
    assert "d = 8, 2 seeds" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "n / d^2" in ax.get_xlabel()
