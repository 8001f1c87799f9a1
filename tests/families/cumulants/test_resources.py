"""Resource guards of the cumulant learners (cumulants.spectral, .fastica, .sgd, .mixed): what is far too large
is refused before anything is allocated or run, naming its parameter; the examples are admitted; the estimates
hold against measured allocations."""
import pytest

import hild
from hild.families.cumulants.scenarios import FastICA, MixedCumulant, OnlineSGD, SpectralTest

MODELS = ("cumulants.spectral", "cumulants.fastica", "cumulants.sgd", "cumulants.mixed")

TOO_LARGE = {
    "spectral: d x d matrices": (lambda: SpectralTest().simulate(d=10 ** 5), "d"),
    "spectral: seeds": (lambda: SpectralTest().simulate(seeds=10 ** 9), "seeds"),
    "spectral: alpha d^2 samples": (lambda: SpectralTest().simulate(d=3000), "d"),
    "spectral: the grid of sample sizes": (lambda: SpectralTest().simulate(n_points=10 ** 10), "n_points"),
    "spectral: the theory's grid": (lambda: SpectralTest().theory(n_points=10 ** 10), "n_points"),
    "fastica: iterations": (lambda: FastICA().simulate(iterations=10 ** 12), "iterations"),
    "fastica: chunks of a wide input": (lambda: FastICA().simulate(d=10 ** 9), "d"),
    "fastica: the theory's iterations": (lambda: FastICA().theory(iterations=10 ** 12), "iterations"),
    "sgd: a long run's sample blocks": (lambda: OnlineSGD().simulate(t_max=1e9), "t_max"),
    "sgd: seeds": (lambda: OnlineSGD().simulate(seeds=10 ** 9), "seeds"),
    "sgd: the theory's times": (lambda: OnlineSGD().theory(n_points=10 ** 10), "n_points"),
    "mixed: a long run's sample blocks": (lambda: MixedCumulant().simulate(t_max=1e9), "t_max"),
    "mixed: the theory's times": (lambda: MixedCumulant().theory(n_points=10 ** 10), "n_points"),
}


@pytest.mark.parametrize("case", sorted(TOO_LARGE))
def test_what_cannot_fit_is_refused_before_it_is_allocated(refused, case):
    call, name = TOO_LARGE[case]
    refused(call, name)


def test_the_sgd_theory_estimate_holds_against_numpy(traced, estimate):
    """The population averages on the ODE's 4001-point grid of overlaps dominate."""
    sc = OnlineSGD()
    _, peak = traced(lambda: sc.theory())
    assert 0.5 < estimate(sc, "theory") / peak < 2


@pytest.mark.parametrize("model", MODELS)
def test_the_estimated_result_is_the_result(estimate, result_bytes, model):
    sc = hild.models()[model].example()
    assert 0.7 < estimate(sc, "simulate", result=True, seeds=3) / result_bytes(sc.simulate(seeds=3)) < 1.7
