"""hild.signal_prop: the layer map against the real random stack, exact limits, bad input, divergence, the
protocol (batched theory, sweeps), quick claims, CLI."""
import importlib
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import hild
from hild.cli import app
from hild.core.gaussian import relu_kernel
from hild.families.signal_prop import (RandomTransformer, angle_exponent, beta_c, block, critical_residual, entropy,
                                       exponents, finite_rem, inverse_participation_ratio, layer_map, mlp_moments,
                                       odds_growth, order_chaos, rank_entropy, run_points)

theory_module = importlib.import_module("hild.families.signal_prop.theory")  # (the package's `theory` is a function)
BASE = {"sigma_v2": 0.2, "sigma_w2": 0.2, "sigma_b2": 4e-4, "alpha_A": 1.0, "alpha_M": 1.0}
PRE = {"T": 32, "L": 6, "heads": 2, "mlp": "gelu", "norm": "pre"}  # one compiled shape (at d = 128) for two tests


def test_pre_ln_multi_head_gelu_stack_follows_the_map():
    """Pre-LN, 2 heads, GELU MLP: the cosine (after each block and after its attention sub-block), the norm growth
    and the attention statistics against the map, compared by hild.compare."""
    sc = RandomTransformer(beta=1.0, **PRE, **BASE)
    th, sim = sc.theory(rem="finite"), sc.simulate(d=128, seeds=3)
    assert not sim.diverged.any() and not bool(th.diverged)
    assert sim.attrs["d"] == 128 and sim.attrs["size"] == "d" and sim.attrs["seeds"] == [0, 1, 2]
    errors = hild.compare(th, sim).summary
    assert {"cos", "cos_attn", "q", "attention_ipr", "entropy_ratio", "grad_ratio"} <= set(errors)
    assert errors["cos"]["max_abs"] < 0.05 and errors["cos_attn"]["max_abs"] < 0.05
    assert errors["q"]["max_rel"] < 0.1
    assert errors["attention_ipr"]["max_abs"] < 0.03 and errors["entropy_ratio"]["max_abs"] < 0.03
    assert bool((th.cos_attn[1:] != th.cos[1:]).all())  # the MLP moves the cosine: two different variables
    q = sim.cos_quantile.mean("seed")
    assert bool((q.sel(quantile=0.05) <= q.sel(quantile=0.95)).all())
    again = sc.simulate(d=128, seeds=3)
    np.testing.assert_array_equal(sim.cos.values, again.cos.values)  # same seeds, same numbers


def test_a_blowing_up_stack_is_flagged_diverged():
    """Pre-LN with alpha_A = 1e4: q grows by 1e8 per block, past the rule's 1e15 at layer 2, in theory and in
    the float32 stack (which overflows a few blocks later); the tails are blanked, the gradients everywhere."""
    sc = RandomTransformer(beta=1.0, **PRE, **{**BASE, "alpha_A": 1e4})
    th, sim = sc.theory(), sc.simulate(d=128, seeds=3)  # (the compiled shape of the test above)
    assert bool(th.diverged) and float(th.layer_diverged) == 2
    assert np.isnan(th.cos.sel(layer=slice(2, None))).all() and np.isfinite(th.cos.sel(layer=[0, 1])).all()
    assert bool(sim.diverged.all()) and (sim.layer_diverged.values == 2).all()
    assert np.isnan(sim.cos.sel(layer=slice(2, None))).all() and np.isfinite(sim.q.sel(layer=[0, 1])).all()
    assert np.isnan(th.grad_ratio).all() and np.isnan(sim.grad_ratio).all()
    ok = RandomTransformer(beta=1.0, **PRE, **BASE).theory()
    assert not bool(ok.diverged) and np.isnan(float(ok.layer_diverged))


def test_uniform_attention_without_residual_makes_tokens_identical():
    """beta = 0: attention is exactly uniform, so without a residual one block maps every token to the same vector,
    already after its attention sub-block."""
    sc = RandomTransformer(T=32, L=4, beta=0.0, alpha_A=0.0, mlp="none", sigma_b2=0.0)
    out = run_points(sc, {"beta": np.zeros(28)}, seeds=2, d=128)  # (the shape of critical_residual's quick runs)
    assert out.sizes == {"point": 28, "seed": 2, "layer": 5}
    blocks = out.sel(layer=slice(1, None))
    np.testing.assert_allclose(blocks["cos"], 1.0, atol=1e-5)
    np.testing.assert_allclose(blocks["cos_attn"], 1.0, atol=1e-5)
    np.testing.assert_allclose(blocks["attention_ipr"], 1 / 32, rtol=1e-5)
    assert np.isnan(out["attention_ipr"].sel(layer=0)).all()  # layer 0 has no block
    assert float(layer_map(sc.hyper, 32, 1, 0.2, mlp=None)["cos"][1]) == 1.0


def test_map_is_the_authors_recursion_and_the_odds_law_is_exact():
    """The post-LN ReLU map equals the scalar recursion of arXiv 2505.24333 (theory_update_relu.py form), with
    the cosine after attention its p0 step; without MLP, below freezing and with sigma_b = 0 the odds c / (1 - c)
    grow exactly by (1 + sigma_v2 / alpha^2)."""
    def authors(p, beta, sv, sw, sb, aa, am):
        bc = np.sqrt(2 / (1 - p))
        q_att = p + (1 - p) * (1 - bc / beta) if beta >= bc else p
        p0 = (sv * p + sb + aa ** 2 * p) / (sv * q_att + sb + aa ** 2)
        q1, p1 = sw + sb, sw * p0 + sb
        pm, qm = sw * q1 / 2 * relu_kernel(p1 / q1) + sb, sw * q1 / 2 + sb
        return (pm + am ** 2 * p0) / (qm + am ** 2), p0

    for beta in (0.5, 3.0):
        p, ps, attn = 0.2, [0.2], []
        for _ in range(20):
            p, p_attn = authors(p, beta, 0.2, 0.2, 4e-4, 1.0, 1.0)
            ps.append(p)
            attn.append(p_attn)
        out = layer_map({**BASE, "beta": beta}, 128, 20, 0.2)
        np.testing.assert_allclose(out["cos"], ps, rtol=1e-12)
        np.testing.assert_allclose(out["cos_attn"], attn, rtol=1e-12)
    alphas = np.array([0.3, 1.0, 3.0])
    c = layer_map({**BASE, "beta": 0.0, "sigma_b2": 0.0, "alpha_A": alphas}, 64, 16, 0.2, mlp=None)["cos"][-1]
    np.testing.assert_allclose(c / (1 - c), 0.25 * odds_growth(alphas, 0.2, 16), rtol=1e-7)  # (round-off in 1 - c)
    a_c = critical_residual(16, 0.2)
    assert odds_growth(a_c, 0.2, 16) == pytest.approx(np.e ** 2, rel=1e-12)
    th = RandomTransformer(T=64, L=5, mlp="none").theory()  # no MLP: the block ends with its attention sub-block
    np.testing.assert_allclose(th.cos_attn[1:], th.cos[1:], rtol=1e-14)


def test_rem_limits_and_kernels():
    assert float(beta_c(0.2)) == pytest.approx(np.sqrt(2.5))
    assert float(inverse_participation_ratio(3.0, 0.0)) == pytest.approx(1 - np.sqrt(2) / 3)
    assert float(inverse_participation_ratio(1.0, 0.0)) == 0.0
    assert float(entropy(0.5, 0.2, 128)) == pytest.approx(np.log(128) * (1 - 0.25 * 0.8 / 2))
    assert float(entropy(1e6, 0.0, 128)) == pytest.approx(0.0, abs=1e-5)  # frozen on one token
    H, ipr, X = finite_rem(0.0, 0.2, 64)  # zero scores: uniform attention
    assert float(H) == pytest.approx(np.log(64))
    assert float(ipr) == pytest.approx(1 / 64) and float(X) == pytest.approx(1 / 64)
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


def test_theory_batch_is_one_vectorised_map_and_equals_the_single_theories(monkeypatch):
    """Scenarios sharing a batch key go through one call of the layer map (block called L times, whatever their
    number); the batch equals the scenarios' own theories, in order, also across batch keys."""
    calls = []
    real = theory_module.block
    monkeypatch.setattr(theory_module, "block", lambda *a, **k: calls.append(1) or real(*a, **k))
    scs = [RandomTransformer(T=32, L=6, beta=b, alpha_A=a) for b in (0.5, 3.0) for a in (0.3, 1.0, 3.0)]
    batch = RandomTransformer.theory_batch(scs)
    assert len(calls) == 6 and batch.sizes["scenario"] == 6
    mixed = scs[:2] + [RandomTransformer(T=64, L=6, mlp="tanh", beta=4.0)] + scs[2:3]
    batch = RandomTransformer.theory_batch(mixed, rem="finite")
    for k, sc in enumerate(mixed):
        one = sc.theory(rem="finite")
        for name in ("cos", "cos_attn", "attention_ipr", "entropy_ratio", "grad_ratio"):
            np.testing.assert_array_equal(batch[name].isel(scenario=k).values, one[name].values)
    calls.clear()
    th = rank_entropy(RandomTransformer(T=32, L=6), np.linspace(0.1, 5, 24), np.geomspace(0.1, 10, 24))
    assert len(calls) == 6  # the whole 24 x 24 diagram: one vectorised map, one block call per layer
    assert set(np.unique(th.phase.values)) == {0, 1, 2}  # all three phases appear
    assert int(th.phase.sel(beta=0.1, alpha_A=0.1)) == 1 and int(th.phase.sel(beta=5, alpha_A=10)) == 2


def test_theory_sweep_batches_the_grid(monkeypatch):
    """A theory sweep over (beta, sigma_v2) calls theory_batch once and matches the scenarios' theories."""
    from hild.sweep import Grid, parse_axis, theory_sweep

    assert hild.models()["signal_prop"] is RandomTransformer
    calls = []
    real = RandomTransformer.theory_batch.__func__
    monkeypatch.setattr(RandomTransformer, "theory_batch",
                        classmethod(lambda cls, s, **o: calls.append(len(s)) or real(cls, s, **o)))
    grid = Grid("signal_prop", (parse_axis("beta=0.5,3"), parse_axis("sigma_v2=0.1:1:4")), fixed={"T": 32, "L": 6})
    ds = theory_sweep(grid)
    assert calls == [8] and ds.cos.dims == ("beta", "sigma_v2", "layer")
    one = RandomTransformer(T=32, L=6, beta=3.0, sigma_v2=0.4).theory()
    np.testing.assert_allclose(ds.cos.sel(beta=3.0, sigma_v2=0.4), one.cos, rtol=1e-14)


@pytest.mark.parametrize("kwargs, name", [({"T": 1}, "T"), ({"L": 0}, "L"), ({"d": 64, "heads": 3}, "heads"),
                                          ({"sigma_v2": -0.1}, "sigma_v2"), ({"beta": -1.0}, "beta"),
                                          ({"alpha_A": float("nan")}, "alpha_A"), ({"mlp": "swish"}, "mlp"),
                                          ({"norm": "mid"}, "norm"), ({"p0": 1.0}, "p0"), ({"beta": "high"}, "beta"),
                                          ({"T": 2.5}, "T"), ({"mlp": 3}, "mlp"), ({"p0": None}, "p0")])
def test_bad_input_is_refused(kwargs, name):
    with pytest.raises(ValueError, match=name):
        RandomTransformer(**kwargs)


def test_bad_input_elsewhere_is_refused():
    sc = RandomTransformer()
    with pytest.raises(ValueError, match="rem"):
        sc.theory(rem="exact")
    for kwargs, word in (({"d": 1}, "d"), ({"d": "wide"}, "d"), ({"seeds": 0}, "seeds"), ({"seed": -1}, "seed"),
                         ({"dtype": "float16"}, "dtype")):
        with pytest.raises(ValueError, match=word):
            sc.check_simulation(**kwargs)
        with pytest.raises(ValueError, match=word):
            sc.simulate(**kwargs)
    with pytest.raises(ValueError, match="d, seeds, L: signal_prop simulate needs an estimated"):  # too large
        sc.simulate(d=100_000)
    with pytest.raises(ValueError, match="heads"):
        RandomTransformer(heads=4).simulate(d=30)
    with pytest.raises(ValueError, match="points"):
        run_points(sc, {"gamma": np.ones(2)})
    with pytest.raises(ValueError, match="sigma_w2"):
        run_points(sc, {"sigma_w2": -np.ones(2)})
    with pytest.raises(ValueError, match="phase axes"):
        order_chaos(sc, "beta", [1, 2], "alpha_M", [1, 2])
    with pytest.raises(ValueError, match="norm"):
        exponents({**BASE, "beta": 0.5}, 32, "relu", norm="pre")


# the claims' verdicts at quick and paper size: tests/test_claims.py


def test_cli_run_and_phase(tmp_path):
    """`hild run signal_prop` (the generic command, d as its size option) and `hild phase signal_prop`: files,
    agreement, the theory grid, the simulated points; bad input exits 2 naming the parameter, writing nothing."""
    runner = CliRunner()
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", "signal_prop", "--T", "32", "--d", "128", "--L", "8", "--seeds", "3",
                            "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["size"] == {"name": "d", "value": 128} and summary["params"]["T"] == 32
    assert summary["agreement"]["variables"]["cos"]["max_abs"] < 0.05
    assert {p.name for p in out.iterdir()} == {"theory.nc", "simulation.nc", "figure.png", "summary.json"}
    out = tmp_path / "phase"
    r = runner.invoke(app, ["phase", "signal_prop", "--T", "64", "--d", "128", "--L", "6", "--x-range", "0.1:5:24",
                            "--y-range", "0.1:10:24:log", "--sim-points", "2", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output  # (the simulated points share the shapes of two_failure_modes' quick runs)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grid"] == [24, 24] and summary["agreement"]["phase_fraction"] >= 0.75
    assert {p.name for p in out.iterdir()} == {"phase.nc", "simulation.nc", "figure.png", "summary.json"}
    out = tmp_path / "chaos"
    r = runner.invoke(app, ["phase", "signal_prop", "--diagram", "order_chaos", "--mlp", "tanh", "--x-range",
                            "0.2:4:12", "--y-range", "log:0.1:2:12", "--out", str(out), "--json"])  # the earlier log form
    assert r.exit_code == 0, r.output
    assert json.loads((out / "summary.json").read_text())["grid"] == [12, 12]
    for args, word in ((["run", "signal_prop", "--T", "1"], "T"), (["run", "signal_prop", "--L", "0"], "L"),
                       (["run", "signal_prop", "--sigma-w2", "-1"], "sigma_w2"), (["run", "signal_prop", "--d", "1"], "d"),
                       (["phase", "signal_prop", "--x-range", "5:1:3"], "x-range")):
        r = runner.invoke(app, args + ["--out", str(tmp_path / "bad")])
        assert r.exit_code == 2 and word in r.output, r.output
        assert not (tmp_path / "bad").exists()


def test_run_figure_draws_theory_on_top_with_integer_layers(figure_problems):
    """Theory lines above the simulation's seed means, the size and seeds in the legend, integer layer ticks and
    a readable gradient axis (a ratio near 1 on a log axis)."""
    ex = RandomTransformer.example()
    sim = ex.simulate(d=32, seeds=2)
    fig = ex.figure(ex.matching_theory(sim), sim)
    assert figure_problems(fig) == []
    for ax in fig.axes:
        lines = [line for line in ax.lines if line.get_linestyle() in ("-", ":")]
        markers = [line for line in ax.lines if line.get_linestyle() == "None"]
        assert min(line.get_zorder() for line in lines) > max(line.get_zorder() for line in markers)
        lo, hi = ax.get_xlim()
        assert all(float(t).is_integer() for t in ax.get_xticks() if lo <= t <= hi)
    assert "d = 32, 2 seeds" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
