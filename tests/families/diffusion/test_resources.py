"""Resource guards of the linear diffusion model: what is far too large is refused before anything is allocated,
naming its parameter (the schedule and the fixed training set when the scenario is built); the example is
admitted; the estimates hold against measured allocations."""
import numpy as np
import pytest

from hild.families.diffusion import LinearDiffusion

EXAMPLE = LinearDiffusion.example()

TOO_LARGE = {
    "a long schedule": (lambda: LinearDiffusion(d=6, N=12, T=10 ** 9), "T"),
    "a wide target": (lambda: LinearDiffusion(d=10 ** 10, N=12), "d"),
    "a large fixed training set": (lambda: LinearDiffusion(d=6, N=10 ** 10, training_seed=0), "N"),
    "a training set built from given moments": (lambda: LinearDiffusion(
        d=2, N=10 ** 6, training_mean=np.zeros(2), training_covariance=np.eye(2)), "N"),
    "the theory's training sets": (lambda: LinearDiffusion(d=6, N=12).theory(seeds=10 ** 9), "seeds"),
    "the theory's GD path": (lambda: LinearDiffusion(d=6, N=12, steps=10 ** 12).theory(n_points=10 ** 10), "n_points"),
    "seeds": (lambda: EXAMPLE.simulate(seeds=10 ** 9), "seeds"),
    "generated samples": (lambda: EXAMPLE.simulate(n_samples=10 ** 10), "n_samples"),
    "the denoisers of a wide model": (lambda: LinearDiffusion(d=2000, N=3).simulate(n_samples=0, n_loss=0), "d"),
    "GD steps": (lambda: LinearDiffusion(d=6, N=12, steps=10 ** 12, training_seed=0).simulate(), "steps"),
    "the recorded GD path": (lambda: LinearDiffusion(d=6, N=12, steps=10 ** 12).simulate(n_points=10 ** 10),
                             "n_points"),
}


@pytest.mark.parametrize("case", sorted(TOO_LARGE))
def test_what_cannot_fit_is_refused_before_it_is_allocated(refused, case):
    call, name = TOO_LARGE[case]
    refused(call, name)


def test_the_theory_estimate_holds_against_numpy(traced, estimate):
    """Four training sets' (t, mode) variables and GD paths, their stacked copy and one set's working arrays."""
    sc = LinearDiffusion(d=20, N=40, T=2000, steps=100)
    _, peak = traced(lambda: sc.theory(seeds=4, n_points=5))
    assert 0.5 < estimate(sc, "theory", seeds=4, n_points=5) / peak < 2


def test_the_estimated_result_is_the_result(estimate, result_bytes):
    ds = EXAMPLE.simulate(seeds=2)
    assert 0.7 < estimate(EXAMPLE, "simulate", result=True, seeds=2) / result_bytes(ds) < 1.5
