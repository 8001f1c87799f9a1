"""hild.signal_prop: the layer map against the real random stack, exact limits, bad input, quick claims, CLI."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import hild.claims.signal_prop  # noqa: F401  (registers the signal_prop claims)
from hild.claims import reproduce
from hild.cli import app
from hild.families.signal_prop import (RandomTransformer, angle_exponent, beta_c, block, critical_residual, entropy, exponents,
                              finite_rem, layer_map, mlp_moments, odds_growth, order_chaos, participation_ratio,
                              rank_entropy, relu_kernel, run_points)
BASE = {"sigma_v2": 0.2, "sigma_w2": 0.2, "sigma_b2": 4e-4, "alpha_A": 1.0, "alpha_M": 1.0}


def test_pre_ln_multi_head_gelu_stack_follows_the_map():
    """Pre-LN, 2 heads, GELU MLP: the cosine, the norm growth and the attention statistics against the map."""
    sc = RandomTransformer(T=32, d=128, L=6, heads=2, mlp="gelu", norm="pre", beta=1.0, **BASE)
    th, sim = sc.theory("finite"), sc.simulate(seeds=3)
    assert not sim.diverged.any() and not bool(th.diverged)
    assert float(np.abs(sim.cos.mean("seed") - th.cos).max()) < 0.05
    assert float(np.abs(sim.q.mean("seed") / th.q - 1).max()) < 0.1
    assert float(np.abs(sim.pr.mean("seed") - th.pr).max()) < 0.03
    assert float(np.abs(sim.entropy_ratio.mean("seed") - th.entropy_ratio).max()) < 0.03
    q = sim.cos_quantile.mean("seed")
    assert bool((q.sel(quantile=0.05) <= q.sel(quantile=0.95)).all())
    again = sc.simulate(seeds=3)
    np.testing.assert_array_equal(sim.cos.values, again.cos.values)  # same seeds, same numbers


def test_uniform_attention_without_residual_makes_tokens_identical():
    """beta = 0: attention is exactly uniform, so without a residual one block maps every token to the same vector."""
    sc = RandomTransformer(T=32, d=128, L=4, beta=0.0, alpha_A=0.0, mlp="none", sigma_b2=0.0)
    out = run_points(sc, {"beta": np.zeros(28)}, seeds=2)  # (the shape of critical_residual's quick runs)
    np.testing.assert_allclose(out["cos"][:, :, 1:], 1.0, atol=1e-5)
    np.testing.assert_allclose(out["pr"], 1 / 32, rtol=1e-5)
    assert float(layer_map(sc.hyper, 32, 1, 0.2, mlp=None)["cos"][1]) == 1.0


def test_map_is_the_authors_recursion_and_the_odds_law_is_exact():
    """The post-LN ReLU map equals the scalar recursion of arXiv 2505.24333 (theory_update_relu.py form);
    without MLP, below freezing and with sigma_b = 0 the odds c / (1 - c) grow exactly by (1 + sigma_v2 / alpha^2)."""
    def authors(p, beta, sv, sw, sb, aa, am):
        bc = np.sqrt(2 / (1 - p))
        q_att = p + (1 - p) * (1 - bc / beta) if beta >= bc else p
        p0 = (sv * p + sb + aa ** 2 * p) / (sv * q_att + sb + aa ** 2)
        q1, p1 = sw + sb, sw * p0 + sb
        pm, qm = sw * q1 / 2 * relu_kernel(p1 / q1) + sb, sw * q1 / 2 + sb
        return (pm + am ** 2 * p0) / (qm + am ** 2)

    for beta in (0.5, 3.0):
        p, ps = 0.2, [0.2]
        for _ in range(20):
            p = authors(p, beta, 0.2, 0.2, 4e-4, 1.0, 1.0)
            ps.append(p)
        np.testing.assert_allclose(layer_map({**BASE, "beta": beta}, 128, 20, 0.2)["cos"], ps, rtol=1e-12)
    alphas = np.array([0.3, 1.0, 3.0])
    c = layer_map({**BASE, "beta": 0.0, "sigma_b2": 0.0, "alpha_A": alphas}, 64, 16, 0.2, mlp=None)["cos"][-1]
    np.testing.assert_allclose(c / (1 - c), 0.25 * odds_growth(alphas, 0.2, 16), rtol=1e-7)  # (round-off in 1 - c)
    a_c = critical_residual(16, 0.2)
    assert odds_growth(a_c, 0.2, 16) == pytest.approx(np.e ** 2, rel=1e-12)


def test_rem_limits_and_kernels():
    assert float(beta_c(0.2)) == pytest.approx(np.sqrt(2.5))
    assert float(participation_ratio(3.0, 0.0)) == pytest.approx(1 - np.sqrt(2) / 3)
    assert float(participation_ratio(1.0, 0.0)) == 0.0
    assert float(entropy(0.5, 0.2, 128)) == pytest.approx(np.log(128) * (1 - 0.25 * 0.8 / 2))
    assert float(entropy(1e6, 0.0, 128)) == pytest.approx(0.0, abs=1e-5)  # frozen on one token
    H, pr, X = finite_rem(0.0, 0.2, 64)  # zero scores: uniform attention
    assert float(H) == pytest.approx(np.log(64))
    assert float(pr) == pytest.approx(1 / 64) and float(X) == pytest.approx(1 / 64)
    assert relu_kernel(1.0) == pytest.approx(1.0) and relu_kernel(0.0) == pytest.approx(1 / np.pi)
    e_ff, e_fg, e_dd, e_dg = mlp_moments("tanh", 2.0, 2.0)  # at c = 1 both pairs coincide
    assert e_fg == pytest.approx(e_ff, rel=1e-10) and e_dg == pytest.approx(e_dd, rel=1e-10)
    e_ff, e_fg, e_dd, e_dg = mlp_moments("gelu", 1.0, 0.0)  # independent: E[phi]^2, E[phi']^2 = 1/4
    assert e_dg == pytest.approx(0.25, rel=1e-8) and e_fg == pytest.approx((1 / np.sqrt(8 * np.pi)) ** 2 * 2, rel=1e-6)


def test_angle_exponent_is_the_slope_of_the_map_at_collapse():
    hp = {**BASE, "beta": 0.5, "alpha_M": 0.0, "sigma_w2": np.array([0.5, 2.0, 4.0])}
    eps = 1e-6
    _, p, _ = block(np.ones(3), np.full(3, 1 - eps), hp, 64, "post", "tanh")
    np.testing.assert_allclose(np.log((1 - p) / eps), angle_exponent(hp, "tanh"), atol=1e-4)
    assert float(angle_exponent({**BASE, "beta": 0.5}, None)) < 0  # attention only: always ordered
    ex = exponents(hp, 64, "tanh")
    assert ex["c_star"][0] == 1.0 and 0 < ex["c_star"][2] < ex["c_star"][1] < 1
    _, p, _ = block(np.ones(2), ex["c_star"][1:], hp | {"sigma_w2": hp["sigma_w2"][1:]}, 64, "post", "tanh")
    np.testing.assert_allclose(p, ex["c_star"][1:], atol=1e-6)  # a fixed point


@pytest.mark.parametrize("kwargs, name", [({"T": 1}, "T"), ({"L": 0}, "L"), ({"d": 64, "heads": 3}, "heads"),
                                          ({"sigma_v2": -0.1}, "sigma_v2"), ({"beta": -1.0}, "beta"),
                                          ({"alpha_A": float("nan")}, "alpha_A"), ({"mlp": "swish"}, "mlp"),
                                          ({"norm": "mid"}, "norm"), ({"p0": 1.0}, "p0")])
def test_bad_input_is_refused(kwargs, name):
    with pytest.raises(ValueError, match=name):
        RandomTransformer(**kwargs)


def test_bad_input_elsewhere_is_refused():
    sc = RandomTransformer()
    with pytest.raises(ValueError, match="rem"):
        sc.theory("exact")
    with pytest.raises(ValueError, match="points"):
        run_points(sc, {"gamma": np.ones(2)})
    with pytest.raises(ValueError, match="sigma_w2"):
        run_points(sc, {"sigma_w2": -np.ones(2)})
    with pytest.raises(ValueError, match="phase axes"):
        order_chaos(sc, "beta", [1, 2], "alpha_M", [1, 2])
    with pytest.raises(ValueError, match="norm"):
        exponents({**BASE, "beta": 0.5}, 32, "relu", norm="pre")


@pytest.mark.parametrize("name", ["signal_prop.layer_map", "signal_prop.two_failure_modes",
                                  "signal_prop.critical_residual", "signal_prop.order_chaos"])
def test_claims_quick(name):
    result = reproduce(name, "quick")
    assert result.holds, [c.as_dict() for c in result.checks if not c.passed]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["signal_prop.layer_map", "signal_prop.two_failure_modes",
                                  "signal_prop.critical_residual", "signal_prop.order_chaos"])
def test_claims_paper(name):
    result = reproduce(name, "paper")
    assert result.holds, [c.as_dict() for c in result.checks if not c.passed]


def test_phase_diagrams_theory_in_seconds_and_cli(tmp_path):
    runner = CliRunner()
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", "signal_prop", "--T", "32", "--d", "128", "--L", "8", "--seeds", "3",
                            "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agreement"]["cos_max_abs"] < 0.05
    assert {p.name for p in out.iterdir()} == {"theory.nc", "simulation.nc", "figure.png", "summary.json"}
    out = tmp_path / "phase"
    r = runner.invoke(app, ["phase", "signal_prop", "--T", "64", "--d", "128", "--L", "6", "--x-range", "0.1:5:24",
                            "--y-range", "log:0.1:10:24", "--sim-points", "2", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output  # (the simulated points share the shapes of two_failure_modes' quick runs)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grid"] == [24, 24] and summary["agreement"]["phase_fraction"] >= 0.75
    assert {p.name for p in out.iterdir()} == {"phase.nc", "simulation.nc", "figure.png", "summary.json"}
    th, _ = rank_entropy(RandomTransformer(T=32, L=6), np.linspace(0.1, 5, 24), np.geomspace(0.1, 10, 24))
    assert set(np.unique(th.phase.values)) == {0, 1, 2}  # all three phases appear
    assert int(th.phase.sel(beta=0.1, alpha_A=0.1)) == 1 and int(th.phase.sel(beta=5, alpha_A=10)) == 2
    out = tmp_path / "chaos"
    r = runner.invoke(app, ["phase", "signal_prop", "--diagram", "order_chaos", "--mlp", "tanh", "--x-range",
                            "0.2:4:12", "--y-range", "0:2:12", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for args, word in ((["run", "signal_prop", "--T", "1"], "T"), (["run", "signal_prop", "--L", "0"], "L"),
                       (["run", "signal_prop", "--sigma-w2", "-1"], "sigma_w2"),
                       (["phase", "signal_prop", "--x-range", "5:1:3"], "x-range")):
        r = runner.invoke(app, args + ["--out", str(tmp_path / "bad")])
        assert r.exit_code == 2 and word in r.output, r.output
        assert not (tmp_path / "bad").exists()
