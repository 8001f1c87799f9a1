"""hild.families.diffusion: theory against the real training and sampling, exact special cases, bad input,
the scenario protocol, quick claims."""
import dataclasses
import json

import numpy as np
import pytest

import hild
from hild.analysis.compare import compare
from hild.core import PROVENANCE
from hild.families.diffusion import (LinearDiffusion, alpha_bar, contraction, denoiser_modes, figure, gaussian_kl,
                                     gd_modes, generated_variance, kl_expected, kl_modes, kl_proportional, linear,
                                     losses, moments, noise_variance, one_minus_alpha_bar, sampling_path)

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
    # the generated law along sampling: variance and mean of x_{t-1} per mode, sd h sqrt(2/n) and sqrt(h/n);
    # a sampled path is smooth in t (its maximum over t is not a normal variable): pointwise at t = T/2, and
    # the root mean square over the whole path
    z_h = (sim.h_sampling - th.h_sampling) / (th.h_sampling * np.sqrt(2 / n))
    z_m = (sim.mean_sampling - th.mean_sampling) / np.sqrt(th.h_sampling / n)
    for z in (z_h, z_m):
        assert float(np.abs(z.sel(t=len(SHORT) // 2)).max()) < 4.5
        assert 0.7 < float(np.sqrt((z ** 2).mean())) < 1.3


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
    c = contraction(betas, ab, om, w, "ddpm")
    var, mean = sampling_path(c, noise_variance(betas, "ddpm", True), np.full(len(lam), 2.0))
    np.testing.assert_allclose(var[0], h, rtol=1e-10, atol=1e-300)  # after the last reverse step: the generated law
    s, m = np.ones_like(lam), np.full(len(lam), 2.0)
    for t in range(len(betas) - 1, len(betas) - 6, -1):  # the first reverse steps, one at a time
        s, m = c[t] ** 2 * s + betas[t], c[t] * m
        np.testing.assert_allclose(var[t], s, rtol=1e-12)
        np.testing.assert_allclose(mean[t], m, rtol=1e-12)
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
    # the Blowup rule: diverged from the first diffusion step at which some |w| > 1e6 (of the mean GD iterate)
    mom = sc.moments(0)
    a, w_star = denoiser_modes(alpha_bar(SHORT), one_minus_alpha_bar(SHORT), mom.lam_hat)
    first = 1 + int(np.argmax((np.abs(gd_modes(w_star, a, sc.lr, sc.steps)) > 1e6).any(1)))
    assert float(th.t_diverged[0]) == first and np.isfinite(sim.t_diverged[0])
    assert np.isnan(th.w.isel(seed=0).sel(t=slice(first, None))).all()
    stable = LinearDiffusion(d=8, N=24, betas=SHORT, lr=0.1, steps=40).theory()
    assert not bool(stable.diverged[0]) and np.isnan(stable.t_diverged[0])


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
    ({"lr": "fast"}, r"lr must be a finite number in \(0, inf\); got 'fast'"),
    ({"d": "2"}, "d must be an integer >= 1; got '2'"),
    ({"start": "zero"}, "start must be one of 'centred', 'raw'"),
    ({"training_seed": -1}, "training_seed must be an integer >= 0"),
    ({"training_set": np.zeros((2, 2))}, r"training_set must be a finite 3x2 matrix; got shape \(2, 2\)"),
    ({"training_set": "missing.npy"}, "training_set: cannot read 'missing.npy'"),
    ({"training_set": [["a", "b"]]}, "training_set must be an array of numbers"),
    ({"training_mean": [0.0, 0.0]}, "training_mean and training_covariance must be given together"),
    ({"N": 2, "training_mean": [0.0, 0.0], "training_covariance": np.eye(2)},
     r"training_covariance must have rank <= N - 1 = 1 \(the covariance of N points\); got rank 2"),
    ({"training_mean": [0.0], "training_covariance": np.eye(2)}, "training_mean must be 2 finite numbers"),
    ({"training_seed": 1, "training_set": np.zeros((3, 2))}, "the training set is given twice"),
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
        with pytest.raises(ValueError, match=match):  # what sweeps and `hild run` call before anything runs
            sc.check_simulation(**kwargs)
    with pytest.raises(ValueError, match="simulate: got an unexpected keyword argument 'd'"):
        sc.check_simulation(d=4)
    with pytest.raises(ValueError, match="d, T: diffusion simulate needs an estimated"):  # (hild.core.resources)
        LinearDiffusion(d=2000, N=3).admit("simulate", n_samples=10 ** 6)
    with pytest.raises(ValueError, match="steps must be an integer to record training"):
        sc.theory(n_points=5)


def test_protocol_example_theory_against_simulation_through_compare():
    """The registered example: theory and simulation share the headline variables on t; the gap to the exact
    theory of the fixed training set shrinks with the size n_samples; provenance; too small a size is refused."""
    cls = hild.models()["diffusion"]
    assert cls is LinearDiffusion and (cls.axis, cls.size) == ("t", "n_samples")
    ex = cls.example()
    th = ex.theory()
    assert "seed" not in th.dims and ex.fixed_training_set
    gaps = []
    for n in (50, 2000):
        sim = ex.simulate(n_samples=n, seeds=4, n_loss=500)
        c = compare(th, sim)
        assert {"loss_train", "loss_test", "gap", "w", "h_sampling", "mean_sampling"} <= set(c.summary)
        gaps.append(c.summary["h_sampling"]["mean_abs"])
        assert c.summary["w"]["max_abs"] < 1e-12  # the exact denoisers themselves
    assert gaps[1] < gaps[0] / 3  # ~ n^-1/2: 6.3 times smaller
    assert set(PROVENANCE) <= set(th.attrs) and set(PROVENANCE) <= set(sim.attrs)
    assert sim.attrs["size"] == "n_samples" and sim.attrs["n_samples"] == 2000 and sim.attrs["seeds"] == [0, 1, 2, 3]
    assert th.attrs["dtype"] == "float64" and sim.attrs["dtype"] == "float32" and sim.attrs["axis"] == "t"
    assert json.loads(sim.attrs["params"])["training_seed"] == 0 and not sim.diverged.any()
    with pytest.raises(ValueError, match=r"n_samples must be 0 or > d = 6 .*; got 5"):
        ex.simulate(n_samples=5)
    assert len(ex.figure(th, sim).axes) == 3


def test_training_set_from_a_seed_points_or_moments_gives_one_theory():
    """The theory depends on the training set only through (mu_0, Sigma_0): the same numbers whether the set is
    drawn by a seed (fixed or per simulated seed), given as points, or given by its moments."""
    base = LinearDiffusion(d=5, N=4, spectrum="power_law", betas=SHORT, ridge=0.05)
    per_seed = base.theory(seeds=1, seed=3).isel(seed=0)
    drawn = dataclasses.replace(base, training_seed=3)
    mom = drawn.moments()
    S0 = mom.V @ np.diag(mom.lam_hat) @ mom.V.T
    points = dataclasses.replace(base, training_set=mom.X)
    given = dataclasses.replace(base, training_mean=mom.mu0, training_covariance=S0)
    assert given.moments().rank == mom.rank == 3  # N - 1
    np.testing.assert_allclose(given.moments().X.mean(0), mom.mu0, atol=1e-12)
    for sc in (drawn, points, given):
        th = sc.theory()
        for name in ("kl", "h", "loss_train", "loss_test", "gap", "memorisation"):
            np.testing.assert_allclose(th[name], per_seed[name], rtol=1e-9, atol=1e-12, err_msg=name)
        # the generated mean in raw coordinates (V is arbitrary within the null space of Sigma_0)
        np.testing.assert_allclose(sc.moments().V @ th["mean_generated"].values, mom.mu0, rtol=1e-9, atol=1e-12)
    sim = given.simulate(n_samples=0, n_loss=2000, seeds=2, denoiser="exact")
    assert np.isfinite(compare(given.theory(), sim, ["loss_train"]).summary["loss_train"]["max_in_sem"])


def test_raw_start_shifts_the_generated_mean_as_the_linear_recursion_says():
    """x_T ~ N(0, I) in raw coordinates: mean mu_0 - sqrt(alpha_bar_T) V diag(prod_t c_t) V^T mu_0, the same
    variance as the centred start (whose mean is mu_0 exactly); sampled with the flow sampler, where the shift
    is largest (prod c ~ sqrt(lambda_hat))."""
    centred = LinearDiffusion(d=4, N=12, betas=SHORT, sampler="flow", training_seed=1)
    raw = dataclasses.replace(centred, start="raw")
    mom = raw.moments()
    shifted = dataclasses.replace(raw, training_seed=None, training_set=mom.X + 3.0)  # a far-off mean: a visible shift
    th_c, th_r, th_s = centred.theory(), raw.theory(), shifted.theory()
    ab, om = alpha_bar(SHORT), one_minus_alpha_bar(SHORT)
    _, w = denoiser_modes(ab, om, mom.lam_hat)
    P = np.prod(contraction(SHORT, ab, om, w, "flow"), axis=0)
    along = mom.V.T @ (mom.mu0 + 3.0)
    np.testing.assert_allclose(th_s.mean_generated, along * (1 - np.sqrt(ab[-1]) * P), rtol=1e-12)
    np.testing.assert_allclose(th_c.mean_generated, mom.V.T @ mom.mu0, rtol=1e-12)
    np.testing.assert_allclose(th_r.h, th_c.h, rtol=1e-12)
    np.testing.assert_allclose(th_s.h_sampling.sel(t=1), th_s.h, rtol=1e-10)
    np.testing.assert_allclose(th_s.mean_sampling.sel(t=1), th_s.mean_generated, rtol=1e-10)
    shift = np.abs(th_s.mean_generated - along)
    assert float(shift.max()) > 0.1  # about sqrt(alpha_bar_T) sqrt(lambda_hat) |mu_0|
    n = 20_000
    sim = shifted.simulate(n_samples=n, seeds=2, n_loss=0)
    z = np.abs(sim.mean_generated - th_s.mean_generated) / np.sqrt(th_s.h / n)
    assert float(z.max()) < 4.5 and float((np.abs(sim.mean_generated - along) / np.sqrt(th_s.h / n)).max()) > 20
    assert float(np.abs((sim.kl - th_s.kl) / sim.kl_sem).max()) < 4.5


# the claims' verdicts at quick and paper size: tests/test_claims.py


def test_run_figure_draws_this_scenario_s_kl_so_that_both_points_show(figure_problems):
    """Panel (c): the theory's KL as an open square around the simulation's point and its error bar."""
    from matplotlib.container import ErrorbarContainer

    sc = LinearDiffusion(d=8, N=24, betas=SHORT)
    fig = sc.figure(sc.theory(), sc.simulate(seeds=1, denoiser="exact", n_samples=4000, n_loss=0))
    assert figure_problems(fig) == []
    c = fig.axes[2]
    (square,) = [line for line in c.lines if line.get_marker() == "s"]
    (bar,) = [b for b in c.containers if isinstance(b, ErrorbarContainer)]
    assert square.get_markerfacecolor() == "none" and square.get_markersize() > bar.lines[0].get_markersize()
