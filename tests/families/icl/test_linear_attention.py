"""icl.linear_attention (arXiv 2405.11751): the finite-d error formulas against Monte Carlo, the Marchenko-Pastur
averages against their moments, the theory's limits, theory against the finite-d solution, bad input."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hild.families.icl import linear_attention as la
from hild.icl import LinearAttention


def test_error_formulas_match_sampled_test_contexts():
    """e_icl(Gamma), e_idg(Gamma) of a random Gamma and pool at d = 6, ell = 9 against 2 x 10^5 sampled test
    contexts (x ~ N(0, I/d), h = (d/ell) sum y_i x_i, query error with label noise), within 4 standard errors."""
    d, ell, k, noise, n = 6, 9, 4, 0.5, 200_000
    rng = np.random.default_rng(0)
    Gamma, tasks = rng.normal(size=(d, d)) * 0.3 + np.eye(d), rng.normal(size=(k, d))
    with jax.enable_x64(True):
        e_icl, e_idg = (float(v) for v in la.errors_given(jnp.asarray(Gamma), jnp.asarray(tasks.T @ tasks / k), ell,
                                                          noise))
    for w, exact in ((rng.normal(size=(n, d)), e_icl), (tasks[rng.integers(0, k, n)], e_idg)):
        x = rng.normal(size=(n, ell + 1, d)) / np.sqrt(d)
        y = np.einsum("nld,nd->nl", x, w) + noise * rng.normal(size=(n, ell + 1))
        h = d / ell * np.einsum("nl,nld->nd", y[:, :ell], x[:, :ell])
        err = (y[:, ell] - np.einsum("nd,de,ne->n", x[:, ell], Gamma, h)) ** 2
        assert abs(err.mean() - exact) < 4 * err.std() / np.sqrt(n), (err.mean(), exact)


@pytest.mark.parametrize("kappa", [0.5, 1.0, 3.0])
def test_marchenko_pastur_averages_have_the_exact_moments(kappa):
    """Mass 1, mean 1 and second moment 1 + 1/kappa of the spectrum of C = (1/k) W W^T (atom included)."""
    with jax.enable_x64(True):
        c, w = la.marchenko_pastur(jnp.asarray(kappa))
        moments = [float(jnp.sum(w * c ** p)) for p in (0, 1, 2)]
    np.testing.assert_allclose(moments, [1, 1, 1 + 1 / kappa], rtol=1e-6 if kappa != 1 else 1e-3)


def test_long_contexts_and_unlimited_pretraining_give_the_kink():
    """tau -> infinity, then alpha -> infinity, ridge -> 0: e_icl = sigma^2 + max(0, 1 - kappa), e_idg = sigma^2."""
    kappas = (0.25, 0.5, 0.75, 1.5, 3.0)
    th = LinearAttention.theory_batch([LinearAttention(alpha=1e6, tau=1e12, kappa=k, ridge=1e-9, noise=0.5)
                                       for k in kappas])
    np.testing.assert_allclose(th.e_icl, 0.25 + np.maximum(0, 1 - np.array(kappas)), atol=2e-3)
    np.testing.assert_allclose(th.e_idg, 0.25, atol=2e-3)
    single = LinearAttention(alpha=1e6, tau=1e12, kappa=0.5, ridge=1e-9, noise=0.5).theory()
    assert float(single.e_icl) == pytest.approx(float(th.e_icl[1]), rel=1e-12) and "diverged" in single


def test_theory_matches_the_finite_d_solution():
    """alpha = kappa = tau = 2: the finite-d means (4 seeds at d = 8 and 12) extrapolated as a + b / d lie within
    max(3 standard errors, 2%) of the theory (the gap itself is O(1/d) with a large coefficient: ~10% at d = 12)."""
    s = LinearAttention()
    th = s.theory()
    sims = {d: s.simulate(d=d, seeds=4) for d in (8, 12)}
    assert sims[12].attrs["n"] == 288 and sims[12].attrs["k"] == 24 and sims[12].attrs["ell"] == 24
    for name in ("e_icl", "e_idg"):
        mean = np.array([float(sims[d][name].mean()) for d in (8, 12)])
        se = np.array([float(sims[d][name].std(ddof=1)) / 2 for d in (8, 12)])
        a = (12 * mean[1] - 8 * mean[0]) / 4  # the line through (1/8, m8) and (1/12, m12) at 1/d = 0
        a_se = np.sqrt((12 * se[1]) ** 2 + (8 * se[0]) ** 2) / 4
        assert abs(a - float(th[name])) < max(3 * a_se, 0.02 * float(th[name])), (name, a, a_se, float(th[name]))


def test_bad_input_is_refused(refused):
    for field, value in (("alpha", 0.0), ("kappa", -1.0), ("tau", float("inf")), ("ridge", 0.0), ("noise", -0.1)):
        with pytest.raises(ValueError, match=field):
            LinearAttention(**{field: value})
    with pytest.raises(ValueError, match="d"):
        LinearAttention().simulate(d=1)
    refused(lambda: LinearAttention().simulate(d=2000), "d")
