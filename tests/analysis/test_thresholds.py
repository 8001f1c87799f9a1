"""hild.analysis.thresholds: both locating methods recover a known threshold and exponent from synthetic data,
the bootstrap interval covers it, unresolved grids give NaN, and bad input is refused."""
import numpy as np
import pytest
import xarray as xr

from hild.analysis.thresholds import exponent, first_crossing, logistic_crossing


def _successes(theta=2.5, prefactor=3.0, noise=0.5, seeds=64, seed=1):
    """Runs that succeed when n > prefactor d^theta e^(noise g), on n = round(d^e)."""
    rng = np.random.default_rng(seed)
    ds, grid = np.array([10, 20, 40, 80]), np.arange(1.5, 4.01, 0.0625)
    n = np.stack([np.round(float(d) ** grid) for d in ds])
    star = prefactor * ds[:, None, None] ** theta * np.exp(noise * rng.standard_normal((len(ds), 1, seeds)))
    return xr.DataArray((n[:, :, None] > star).astype(float), dims=("d", "e", "seed"),
                        coords={"d": ds, "e": grid, "n": (("d", "e"), n)})


def test_logistic_method_recovers_a_known_exponent():
    fit = exponent(_successes(), 0.5, "logistic", boot=300)
    assert fit.theta_low < 2.5 < fit.theta_high and abs(float(fit.theta) - 2.5) < 0.15
    assert fit.theta_high - fit.theta_low < 0.5 and int(fit.d_resolved) == 4 and float(fit.unresolved) == 0
    np.testing.assert_allclose(fit.n_star, 3.0 * fit.d.values ** 2.5, rtol=0.35)  # the median run's threshold
    assert float(fit.theta_se) > 0


def test_log_power_fits_a_polylog_threshold():
    """n* = 3 d ln d: theta of n* / ln d is 1, of n* itself visibly more."""
    rng = np.random.default_rng(2)
    ds, grid = np.array([16, 64, 256, 1024]), np.arange(0.5, 3.01, 0.03125)
    n = np.stack([np.round(float(d) ** grid) for d in ds])
    star = 3 * ds * np.log(ds)
    star = star[:, None, None] * np.exp(0.3 * rng.standard_normal((len(ds), 1, 48)))
    rate = xr.DataArray((n[:, :, None] > star).astype(float), dims=("d", "e", "seed"),
                        coords={"d": ds, "e": grid, "n": (("d", "e"), n)})
    polylog, plain = exponent(rate, boot=200, log_power=1.0), exponent(rate, boot=200)
    assert abs(float(polylog.theta) - 1.0) < 0.05 and polylog.theta_low < 1.0 < polylog.theta_high
    assert float(plain.theta) > 1.15


def test_crossing_method_recovers_a_known_exponent():
    """Synthetic logistic accuracy curves in ln n with n*(d) = 3 d^1.5 and seed noise: the fit recovers 1.5."""
    rng = np.random.default_rng(0)
    d, c = np.array([8, 16, 32]), np.geomspace(0.25, 64, 12)
    n = c[None, :] * d[:, None] ** 1.5
    mean = 0.5 + 0.2 / (1 + np.exp(-2 * np.log(n / (3 * d[:, None] ** 1.5))))
    acc = mean[:, :, None] + 0.01 * rng.standard_normal((3, 12, 20))
    da = xr.DataArray(acc, dims=("d", "c", "seed"), coords={"d": d, "c": c, "n": (("d", "c"), n)})
    fit = exponent(da, 0.6, "crossing", boot=400)
    assert np.allclose(fit.n_star, 3 * d ** 1.5, rtol=0.1)
    assert abs(float(fit.theta) - 1.5) < 0.05 and fit.theta_low < 1.5 < fit.theta_high
    assert fit.theta_high - fit.theta_low < 0.2 and float(fit.unresolved) == 0


def test_locators_at_the_edges_of_the_grid():
    assert np.isnan(first_crossing(np.array([0.5, 0.55, 0.58]), np.array([1, 2, 4]), 0.6))  # never reached
    assert np.isnan(first_crossing(np.array([0.7, 0.8]), np.array([1, 2]), 0.6))  # reached before the grid
    assert first_crossing(np.array([0.5, 0.7]), np.array([1, 4]), 0.6) == pytest.approx(2.0)
    grid = np.linspace(1, 3, 9)
    assert np.isnan(logistic_crossing(np.zeros((1, 9)), grid)[0])
    assert np.isnan(logistic_crossing(np.ones((1, 9)), grid)[0])
    step = (grid > 2.1).astype(float)  # separated: the crossing lies between the last failure and first success
    assert 2.0 < logistic_crossing(step, grid) < 2.25


def test_unresolved_bootstrap_gives_no_interval():
    """A d whose success rate barely crosses 1/2 loses its threshold in many resamples: no interval."""
    rate = _successes(seeds=8)
    values = rate.values.copy()
    values[0] = 0.0
    values[0, -6:, :5] = 1.0  # d = 10: 5 of 8 seeds succeed, at the last 6 grid points (rate 0.625)
    fit = exponent(rate.copy(data=values), boot=200)
    assert float(fit.unresolved) > 0.025 and np.isnan(float(fit.theta_low)) and np.isnan(float(fit.theta_high))
    assert np.isfinite(float(fit.theta)) and int(fit.d_resolved) == 4
    assert np.isfinite(float(exponent(rate.copy(data=values), boot=200, max_unresolved=0.5).theta_low))


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "median"}, "method must be one of"),
    ({"level": 1.5}, "level must be"),
    ({"boot": 0}, "boot must be an integer >= 1"),
    ({"confidence": 0.0}, "confidence must be"),
    ({"log_power": -1.0}, "log_power must be"),
    ({"max_unresolved": 2.0}, "max_unresolved must be"),
])
def test_bad_input_is_refused_naming_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exponent(_successes(seeds=4), **kwargs)


def test_bad_rates_are_refused():
    with pytest.raises(ValueError, match="coordinate n"):
        exponent(xr.DataArray(np.zeros((3, 4, 2)), dims=("d", "e", "seed")))
    with pytest.raises(ValueError, match="at least 2 values of d"):
        exponent(_successes(seeds=4).isel(d=[0]))
