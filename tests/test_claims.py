"""Every committee claim at quick size, through its real code path (hild.reproduce); the other
families' claims are run in their own test modules, named in ELSEWHERE."""
import math

import pytest

import hild
from hild.claims import all_claims

# committee.ode_matches_sgd runs through the CLI in test_cli.py
QUICK = ["committee.plateau", "committee.noise_floor", "committee.both_layers", "committee.linear_exact"]
ELSEWHERE = {"committee.ode_matches_sgd": "test_cli.py",
             "deep_linear.saxe_modes": "test_deep_linear.py", "deep_linear.lambda_balanced": "test_deep_linear.py",
             "deep_linear.get_rich_quick": "test_deep_linear.py",
             "deep_linear.conservation_laws": "test_deep_linear_mechanics.py",
             "deep_linear.linear_autoencoder": "test_deep_linear_mechanics.py",
             **{f"diffusion.{n}": "test_diffusion.py"
                for n in ("optimal_denoiser", "kl_law", "memorisation", "transition", "train_test_gap")},
             **{f"signal_prop.{n}": "test_signal_prop.py"
                for n in ("layer_map", "two_failure_modes", "critical_residual", "order_chaos")},
             **{f"cumulants.{n}": "test_cumulants.py" for n in ("fastica_d4", "spectral_baseline", "correlated_latents")},
             "cumulants.nn_vs_random_features": "test_cumulants_networks.py"}


@pytest.mark.parametrize("name", QUICK)
def test_claim_holds_at_quick_size(name, tmp_path):
    result = hild.reproduce(name, size="quick")
    assert result.checks and all(math.isfinite(c.measured) for c in result.checks)
    assert result.holds, result.summary()
    written = {p.name for p in result.save(tmp_path)}
    assert {"summary.json", "figure.png"} <= written


def test_every_registered_claim_is_tested():
    assert {c.name for c in all_claims()} == set(QUICK) | set(ELSEWHERE)


@pytest.mark.slow
@pytest.mark.parametrize("name", QUICK + ["committee.ode_matches_sgd"])
def test_claim_holds_at_paper_size(name):
    assert hild.reproduce(name, size="paper").holds
