"""Resource guards of the random transformer stack: what is far too large is refused before anything is
allocated or run, naming its parameter; the example is admitted; the estimates hold against measured
allocations."""
import numpy as np
import pytest

from hild.families.signal_prop import RandomTransformer, run_points

EXAMPLE = RandomTransformer.example()
POINTS = {"beta": np.ones(10 ** 6)}

TOO_LARGE = {
    "a deep stack's layer map": (lambda: RandomTransformer(L=10 ** 9).theory(), "L"),
    "the finite-T REM table": (lambda: RandomTransformer(T=10 ** 8).theory(rem="finite"), "T"),
    "a wide stack": (lambda: EXAMPLE.simulate(d=10 ** 5), "d"),
    "seeds": (lambda: EXAMPLE.simulate(seeds=10 ** 9), "seeds"),
    "many tokens' cosines": (lambda: RandomTransformer(T=10 ** 5).simulate(), "T"),
    "many hyper-parameter points": (lambda: run_points(EXAMPLE, POINTS), "points"),
}


@pytest.mark.parametrize("case", sorted(TOO_LARGE))
def test_what_cannot_fit_is_refused_before_it_is_allocated(refused, case):
    call, name = TOO_LARGE[case]
    refused(call, name)


def test_the_theory_estimate_holds_against_numpy(traced, estimate):
    """The layer map's records, about 2.5 kB a layer in Python objects."""
    sc = RandomTransformer(T=16, L=500)
    _, peak = traced(lambda: sc.theory())
    assert 0.5 < estimate(sc, "theory") / peak < 2


def test_the_estimated_result_is_the_result(estimate, result_bytes):
    ds = EXAMPLE.simulate(seeds=3)
    assert 0.7 < estimate(EXAMPLE, "simulate", result=True, seeds=3) / result_bytes(ds) < 1.5
