"""Resource guards of the deep linear models (deep_linear, deep_linear.deep, deep_linear.autoencoder,
deep_linear.mechanics): what is far too large is refused before anything is allocated, naming its parameter; the
examples are admitted; the estimates hold against measured allocations."""
import numpy as np
import pytest

import hild
from hild.families.deep_linear.autoencoder import LinearAutoencoder
from hild.families.deep_linear.deep import DeepBalanced
from hild.families.deep_linear.mechanics import NeuralMechanics
from hild.families.deep_linear.scenario import DeepLinear

MODELS = ("deep_linear", "deep_linear.deep", "deep_linear.autoencoder", "deep_linear.mechanics")

TOO_LARGE = {
    "the task matrix of a wide network": (lambda: DeepLinear(singular_values=(1.0,), d_in=10 ** 6, d_out=10 ** 6,
                                                             width=4), "d_in"),
    "the identity task of a huge width": (lambda: DeepLinear(width=10 ** 10), "width"),
    "the SVD bases of a long input": (lambda: DeepLinear(singular_values=(1.0,), d_in=10 ** 5, d_out=1,
                                                         width=1).theory(), "d_in"),
    "the theory's times": (lambda: DeepLinear.example().theory(n_points=10 ** 10), "n_points"),
    "seeds": (lambda: DeepLinear.example().simulate(seeds=10 ** 9), "seeds"),
    "GD steps": (lambda: DeepLinear.example().simulate(t_max=1e12), "t_max"),
    "recorded times": (lambda: DeepLinear.example().simulate(n_points=10 ** 10), "n_points"),
    "training samples": (lambda: DeepLinear.example().simulate(n_samples=10 ** 10), "n_samples"),
    "deep: depth": (lambda: DeepBalanced(depth=10 ** 9).simulate(steps_per_time=5 * 10 ** 9, t_max=1e-8), "depth"),
    "deep: seeds": (lambda: DeepBalanced().simulate(seeds=10 ** 10), "seeds"),
    "deep: GD steps": (lambda: DeepBalanced().simulate(t_max=1e10), "t_max"),
    "deep: the theory's times": (lambda: DeepBalanced().theory(n_points=10 ** 10), "n_points"),
    "autoencoder: a long spectrum": (lambda: LinearAutoencoder(spectrum=np.ones(10 ** 5)).theory(), "spectrum"),
    "autoencoder: seeds": (lambda: LinearAutoencoder().simulate(seeds=10 ** 9), "seeds"),
    "autoencoder: steps": (lambda: LinearAutoencoder().simulate(steps=10 ** 15), "steps"),
    "autoencoder: samples": (lambda: LinearAutoencoder().simulate(n_samples=10 ** 11), "n_samples"),
    "mechanics: the task of the theory": (lambda: NeuralMechanics(n_samples=10 ** 10).theory(), "n_samples"),
    "mechanics: the theory's times": (lambda: NeuralMechanics().theory(n_points=10 ** 10), "n_points"),
    "mechanics: seeds": (lambda: NeuralMechanics().simulate(seeds=10 ** 8), "seeds"),
    "mechanics: SGD steps": (lambda: NeuralMechanics().simulate(t_max=1e12), "t_max"),
}


@pytest.mark.parametrize("case", sorted(TOO_LARGE))
def test_what_cannot_fit_is_refused_before_it_is_allocated(refused, case):
    call, name = TOO_LARGE[case]
    refused(call, name)


def test_the_deep_linear_theory_estimate_holds_against_numpy(traced, estimate):
    """The NTK ((d_in d_out)^2 per time) and its factors dominate; the estimate is within a factor of 2."""
    sc = DeepLinear(singular_values=tuple(range(1, 9)), width=8)
    _, peak = traced(lambda: sc.theory())
    assert 0.5 < estimate(sc, "theory") / peak < 2


def test_the_autoencoder_and_mechanics_theory_estimates_hold_against_numpy(traced, estimate):
    """The d x d covariance and eigenvectors of the closed form; the task drawn to read the initial weights."""
    for sc in (LinearAutoencoder(spectrum=tuple(1 / np.arange(1, 301)), k=4), NeuralMechanics(n_samples=20000, d=50)):
        _, peak = traced(lambda: sc.theory())
        assert 0.5 < estimate(sc, "theory") / peak < 2, type(sc).__name__


@pytest.mark.parametrize("model", MODELS)
def test_the_estimated_result_is_the_result(estimate, result_bytes, model):
    sc = hild.models()[model].example()
    assert 0.7 < estimate(sc, "simulate", result=True, seeds=3) / result_bytes(sc.simulate(seeds=3)) < 1.5
