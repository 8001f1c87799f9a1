"""hild.diffusion: theory against the real training and sampling, exact special cases, bad input, quick claims."""
import numpy as np
import pytest

import hild
import hild.claims.diffusion  # noqa: F401  (registers the diffusion claims)
from hild.families.diffusion import (LinearDiffusion, alpha_bar, contraction, denoiser_modes, figure, gaussian_kl, gd_modes,
                            generated_variance, kl_expected, kl_modes, kl_proportional, linear, losses, moments,
                            noise_variance, one_minus_alpha_bar)

SHORT = linear(200, 1e-4, 0.04)  # a user-given schedule, short enough for end-to-end runs in a test


@pytest.mark.parametrize("d, N", [(8, 24), (24, 10)])
def test_theory_matches_gd_and_sampling_end_to_end(d, N):
    """GD with fresh noise (EMA) at every diffusion step, DDPM sampling: every shared variable against the theory."""
    sc = LinearDiffusion(d=d, N=N, betas=SHORT, lr=0.1, steps=600, ema=0.99, draws=4)
    th = sc.theory(seeds=2, n_points=4)
    n = 20_000
    sim = sc.simulate(seeds=2, n_points=4, n_samples=n, n_loss=4000)
    assert not sim.diverged.any() and not th.diverged.any()
    assert set(th.data_vars) - {"w_star", "kl_expected"} <= set(sim.data_vars)
    np.testing.assert_allclose(sim.lambda_hat, th.lambda_hat, rtol=1e-12, atol=1e-12)  # the same training sets
    scale = float(np.sqrt((th.w ** 2).sum("mode")).max())
    assert float(np.abs(sim.w_path - th.w_path).max()) < 0.02 * scale  # the mean GD path, up to SGD noise
    assert float(np.abs((sim.h - th.h) / (th.h * np.sqrt(2 / n))).max()) < 4.5  # sample variances: sd h sqrt(2/n)
    assert float(np.abs((sim.kl - th.kl) / sim.kl_sem).max()) < 4
    for loss in ("loss_train", "loss_test", "gap"):
        assert float(np.abs((sim[loss] - th[loss]) / sim[f"{loss}_sem"]).max()) < 4.5, loss
    assert float(np.abs(sim.memorisation - th.memorisation).max()) < 0.05 * float(th.memorisation.max()) + 1e-4
    assert int(th.null_dims[0]) == max(d - N + 1, 0)


def test_same_seed_same_numbers_and_flow_sampler():
    sc = LinearDiffusion(d=8, N=24, betas=SHORT, sampler="flow")
    a = sc.simulate(seeds=1, denoiser="exact", n_samples=20_000, n_loss=0)
    b = sc.simulate(seeds=1, denoiser="exact", n_samples=20_000, n_loss=0)
    np.testing.assert_array_equal(a.h.values, b.h.values)
    th = sc.theory()
    assert float(np.abs((a.h - th.h) / (th.h * np.sqrt(2 / 20_000))).max()) < 4.5
    assert float(np.abs((a.kl - th.kl) / a.kl_sem).max()) < 4
    assert len(figure(th, a).axes) == 3


def test_gd_modes_solve_the_gd_recursion_and_converge_to_the_minimiser():
    mom = moments(np.random.default_rng(0).standard_normal((6, 10)) * np.linspace(2, 0.5, 10))
    ab, om = alpha_bar(SHORT), one_minus_alpha_bar(SHORT)
    t, lr, ridge, ema = 40, 0.07, 0.3, 0.9
    A = mom.V @ np.diag(ab[t] * mom.lam_hat + om[t]) @ mom.V.T + ridge * np.eye(10)
    W, avg, path = np.zeros((10, 10)), np.zeros((10, 10)), []
    for _ in range(50):  # GD on the noise-averaged loss, matrix form, and its EMA
        W = W - lr * 2 * (W @ A - np.sqrt(om[t]) * np.eye(10))
        avg = ema * avg + (1 - ema) * W
        path.append(np.diag(mom.V.T @ avg @ mom.V))
    a, w_star = denoiser_modes(ab, om, mom.lam_hat, ridge)
    np.testing.assert_allclose(gd_modes(w_star, a, lr, np.arange(1, 51), ema)[:, t], path, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(np.linalg.inv(A) * np.sqrt(om[t]), mom.V @ np.diag(w_star[t]) @ mom.V.T, atol=1e-12)
    for rho in (0.0, 0.99):
        np.testing.assert_allclose(gd_modes(w_star, a, lr, 10 ** 6, rho), w_star, rtol=1e-12)  # tau -> infinity
        assert np.all(gd_modes(w_star, a, lr, 0, rho) == 0)
    q_near_rho = 1 - 2 * lr * a[t, :1]  # the EMA formula where q = rho exactly
    np.testing.assert_allclose(gd_modes(w_star[t, :1], a[t, :1], lr, 7, float(q_near_rho[0])),
                               gd_modes(w_star[t, :1], a[t, :1], lr, 7, float(q_near_rho[0]) + 1e-7), rtol=1e-5)


def test_sampling_recursion_with_the_minimiser_reproduces_the_empirical_spectrum_plus_beta_1():
    """h(lambda) = lambda + c with c = beta_1 for the standard schedule (lambda <= 1, DDPM with final noise)."""
    betas = linear()
    ab, om = alpha_bar(betas), one_minus_alpha_bar(betas)
    lam = np.array([0.0, 1e-3, 0.01, 0.1, 0.3, 1.0])
    _, w = denoiser_modes(ab, om, lam)
    h = generated_variance(contraction(betas, ab, om, w, "ddpm"), noise_variance(betas, "ddpm", True))
    assert np.all(np.abs(h - lam - 1e-4) < 6e-4) and abs(h[0] - 1e-4) < 1e-12 and abs(h[-1] - 1) < 1e-12
    h0 = generated_variance(contraction(betas, ab, om, w, "ddpm"), noise_variance(betas, "ddpm", False))
    assert h0[0] < 1e-20  # without the last step's noise a direction absent from the data collapses exactly
    s = np.ones_like(lam)  # the same recursion, one step at a time
    for t in range(len(betas) - 1, -1, -1):
        s = ((1 - betas[t] * w[t] / np.sqrt(om[t])) / np.sqrt(1 - betas[t])) ** 2 * s + betas[t]
    np.testing.assert_allclose(h, s, rtol=1e-12)
    flow = generated_variance(contraction(betas, ab, om, w, "flow"), noise_variance(betas, "flow", True))
    np.testing.assert_allclose(flow[3:], lam[3:], rtol=0.01)  # DDIM is a discretisation: 13% low at lambda = 1e-3
    assert flow[0] < 1e-20


def test_kl_formulas():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((5, 5))
    S, m = B @ B.T + np.eye(5), rng.standard_normal(5)
    assert abs(gaussian_kl(m, S, m, S)) < 1e-12
    assert gaussian_kl(m, S, 0 * m, np.eye(5)) > 0
    sc = LinearDiffusion(d=6, N=15, spectrum="power_law", exponent=1.5)
    mom = sc.moments(3)
    h = mom.lam_hat + 0.01
    dense = gaussian_kl(mom.mu0, mom.V @ np.diag(h) @ mom.V.T, np.zeros(6), sc.target.covariance)
    assert abs(kl_modes(h, mom, sc.target) - dense) < 1e-10
    # the proportional limit of the Wishart law
    assert abs(kl_expected(2000, 8000) / 2000 - kl_proportional(0.25)) < 2e-3
    assert np.isinf(kl_expected(10, 10)) and np.isinf(kl_modes(np.r_[h[:5], 0.0], mom, sc.target))


def test_expected_kl_digamma_formula_against_training_sets():
    """E KL(N(mu_0, Sigma_0) || N(0, Sigma)) over 4000 training sets of N = 12 points in d = 5 (power law)."""
    d, N, sets = 5, 12, 4000
    sc = LinearDiffusion(d=d, N=N, spectrum="power_law", exponent=2.0)
    cov = sc.target.covariance
    kls = [gaussian_kl(mom.mu0, mom.V @ np.diag(mom.lam_hat) @ mom.V.T, np.zeros(d), cov)
           for mom in (sc.moments(s) for s in range(sets))]
    assert abs(np.mean(kls) - kl_expected(d, N)) < 3 * np.std(kls) / np.sqrt(sets)


def test_loss_and_gap_formulas_at_the_minimiser():
    """Per-mode losses against dense matrices; the gap is the trace formula plus the estimated-mean term."""
    sc = LinearDiffusion(d=7, N=5, spectrum="power_law", betas=SHORT)
    mom = sc.moments(2)
    ab, om = alpha_bar(SHORT), one_minus_alpha_bar(SHORT)
    _, w = denoiser_modes(ab, om, mom.lam_hat)
    Sigma = sc.target.covariance
    Sigma0 = mom.V @ np.diag(mom.lam_hat) @ mom.V.T
    train, test = losses(ab, om, w, mom.lam_hat, sc.target.quadratic(mom.V, 1), (mom.V.T @ mom.mu0) ** 2)
    for t in (0, 50, 199):
        A = ab[t] * Sigma0 + om[t] * np.eye(7)
        Ai2 = np.linalg.matrix_power(np.linalg.inv(A), 2)
        lt = ab[t] ** 2 * np.trace(Sigma0 @ Sigma0 @ Ai2) + ab[t] * om[t] * np.trace(Ai2 @ Sigma0)
        gap = ab[t] * om[t] * (np.trace(Ai2 @ (Sigma - Sigma0)) + mom.mu0 @ Ai2 @ mom.mu0)
        # (the dense A^-2 at t = 1 has condition number 1e8: the per-mode formula is the more accurate one)
        assert abs(train[t] - lt) < 1e-7 * lt and abs(test[t] - train[t] - gap) < 1e-7 * gap


def test_divergence_is_detected_in_theory_and_simulation():
    sc = LinearDiffusion(d=8, N=24, betas=SHORT, lr=2.0, steps=40)
    th = sc.theory()
    sim = sc.simulate(n_samples=100, n_loss=100)
    assert bool(th.diverged[0]) and bool(sim.diverged[0])
    assert np.isnan(th.kl[0]) and np.isnan(sim.kl[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"d": 0}, "d must be an integer >= 1"),
    ({"N": 0}, "N must be an integer >= 1; got 0"),
    ({"N": 2.5}, "N must be an integer"),
    ({"spectrum": "cauchy"}, "spectrum must be one of"),
    ({"exponent": -1.0}, "exponent must be"),
    ({"spectrum": "given", "covariance": [[1.0, 0.0], [0.0, -1.0]]}, "covariance must be positive semi-definite"),
    ({"spectrum": "given", "covariance": np.eye(3)}, r"covariance must be a finite 2x2 matrix"),
    ({"spectrum": "given"}, "covariance must be given exactly when spectrum is 'given'"),
    ({"covariance": np.eye(2)}, "covariance must be given exactly when spectrum is 'given'"),
    ({"T": 0}, "T must be an integer >= 1; got 0"),
    ({"beta_min": 0.0}, r"beta_min must be a number in the open interval \(0, 1\); got 0.0"),
    ({"beta_max": 1.0}, r"beta_max must be a number in the open interval \(0, 1\); got 1.0"),
    ({"beta_min": 0.1, "beta_max": 0.01}, "beta_max must be >= beta_min"),
    ({"betas": [0.1, 1.5]}, r"betas must hold numbers in the open interval \(0, 1\); got betas\[1\] = 1.5"),
    ({"betas": [0.1, 0.2], "T": 3}, "T must be None or len"),
    ({"ridge": -0.1}, "ridge must be"),
    ({"lr": 0.0}, r"lr must be a finite number in \(0, inf\)"),
    ({"steps": -1}, "steps must be an integer >= 0"),
    ({"ema": 1.0}, r"ema must be a finite number in \[0, 1\)"),
    ({"draws": 0}, "draws must be an integer >= 1"),
    ({"sampler": "ddim"}, "sampler must be one of"),
    ({"final_noise": "yes"}, "final_noise must be True or False"),
])
def test_bad_input_is_refused_naming_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearDiffusion(**{"d": 2, "N": 3, **kwargs})


def test_bad_run_arguments_are_refused():
    sc = LinearDiffusion(d=2, N=3, betas=SHORT)
    assert sc.simulate(n_samples=100, n_loss=0).attrs["denoiser"] == "exact"  # steps None: the minimiser
    for kwargs, match in [({"denoiser": "trained"}, "steps must be an integer number of GD steps"),
                          ({"denoiser": "optimal"}, "denoiser must be one of"),
                          ({"denoiser": "exact", "dtype": "float16"}, "dtype must be"),
                          ({"denoiser": "exact", "seeds": 0}, "seeds must be an integer >= 1"),
                          ({"denoiser": "exact", "times": [0, 3]},
                           r"times must be diffusion steps, integers in \[1, 200\]"),
                          ({"denoiser": "exact", "times": [3]}, "n_samples must be 0 when times"),
                          ({"denoiser": "exact", "n_samples": 2}, "n_samples must be 0 or > d = 2")]:
        with pytest.raises(ValueError, match=match):
            sc.simulate(**kwargs)
    with pytest.raises(ValueError, match="steps must be an integer to record training"):
        sc.theory(n_points=5)


@pytest.mark.parametrize("name", ["diffusion.optimal_denoiser", "diffusion.kl_law", "diffusion.memorisation",
                                  "diffusion.transition", "diffusion.train_test_gap"])
def test_claim_holds_at_quick_size(name, tmp_path):
    result = hild.reproduce(name, size="quick")
    assert result.checks and all(np.isfinite(c.measured) for c in result.checks)
    assert result.holds, result.summary()
    assert {"summary.json", "figure.png"} <= {p.name for p in result.save(tmp_path)}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["diffusion.optimal_denoiser", "diffusion.kl_law", "diffusion.memorisation",
                                  "diffusion.transition", "diffusion.train_test_gap"])
def test_claim_holds_at_paper_size(name):
    result = hild.reproduce(name, size="paper")
    assert result.holds, result.summary()
