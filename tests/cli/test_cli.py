"""The hild command line: outputs, bad input (exit 2, one line naming the parameter), divergence, claims."""
import json

import pytest
from typer.testing import CliRunner

from hild.cli import app
from hild.io import read_netcdf

runner = CliRunner()
SMALL = ["--d", "100", "--seeds", "2", "--t-max", "4", "--n-points", "5"]


def test_run_committee_writes_results(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "committee", "--K", "2", "--M", "2", "--lr", "0.5", *SMALL, "--out", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"theory.nc", "simulation.nc", "figure.png", "summary.json"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["params"]["K"] == 2 and summary["agreement"]["variables"]["eg"]["max_abs"] < 0.05
    assert "simulation" in summary["timings_s"] and summary["files"] == ["simulation.nc", "theory.nc", "figure.png",
                                                                         "summary.json"]
    sim = read_netcdf(out / "simulation.nc")
    assert sim.attrs["model"] == "committee" and sim["diverged"].dtype == bool and sim.sizes["seed"] == 2


def test_existing_output_is_not_overwritten(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = runner.invoke(app, ["run", "committee", *SMALL, "--out", str(out)])
    assert result.exit_code == 2 and "out" in result.output and "--overwrite" in result.output
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    result = runner.invoke(app, ["run", "committee", *SMALL, "--out", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["run", "committee", *SMALL, "--no-simulate", "--out", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (out / "mine.txt").read_text() == "keep me" and (out / "theory.nc").exists()
    # an overwritten run holds only what this run wrote: no stale simulation beside the new theory
    assert not (out / "simulation.nc").exists() and "simulation.nc" not in result.output


@pytest.mark.parametrize("args, name", [
    (["--K", "0"], "K"), (["--lr", "-1"], "lr"), (["--lr", "nan"], "lr"), (["--activation", "tanh2"], "activation"),
    (["--t-max", "0"], "t_max"), (["--noise", "-0.1"], "noise"), (["--d", "3"], "d"), (["--seed", "4294967295"], "seed"),
])
def test_bad_input_exits_2_naming_the_parameter(tmp_path, args, name):
    result = runner.invoke(app, ["run", "committee", *SMALL, *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and line.startswith(f"error: {name} ")
    assert not (tmp_path / "x").exists()


def test_divergence_is_reported_with_its_time(tmp_path):
    result = runner.invoke(app, ["run", "committee", "--activation", "linear", "--lr", "1.5", "--d", "100",
                                 "--seeds", "2", "--t-max", "20", "--n-points", "21", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert "theory diverged at t =" in result.output and "simulation diverged at t =" in result.output
    summary = json.loads((tmp_path / "x" / "summary.json").read_text())
    assert 0 < summary["diverged"]["theory"]["t_diverged"] < 20 and summary["diverged"]["simulation"]["runs"] == 2


def test_models_and_claims_are_listed():
    assert "committee" in runner.invoke(app, ["models"]).output
    import hild

    listed = json.loads(runner.invoke(app, ["models", "--json"]).output)
    assert [row["model"] for row in listed] == list(hild.models())
    assert {row["model"]: row["size"] for row in listed}["committee"] == "d"
    claims = json.loads(runner.invoke(app, ["claims", "--json"]).output)
    assert {"committee.ode_matches_sgd", "committee.plateau", "committee.noise_floor", "committee.both_layers",
            "committee.linear_exact"} <= {c["claim"] for c in claims}


def test_reproduce_unknown_claim_or_size_exits_2():
    assert runner.invoke(app, ["reproduce", "committee.nope"]).exit_code == 2
    assert runner.invoke(app, ["reproduce", "committee.plateau", "--size", "huge"]).exit_code == 2


def test_reproduce_runs_a_claim_and_writes_its_figure(tmp_path):
    result = runner.invoke(app, ["reproduce", "committee.ode_matches_sgd", "--out", str(tmp_path / "c"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["holds"] is True and summary["checks"]
    assert (tmp_path / "c" / "figure.png").stat().st_size > 10_000
    assert read_netcdf(tmp_path / "c" / "simulation.nc").sizes["seed"] == 4


SWEEP = ["sweep", "committee", "--grid", "lr=0.2,0.5", "--grid", "K=1,2", "--set", "M=1", "--t-max", "4",
         "--n-points", "5"]


def test_sweep_on_a_local_dask_cluster_then_status_and_plot(tmp_path):
    from hild.sweep import figure

    store = tmp_path / "s"
    result = runner.invoke(app, [*SWEEP, "--d", "64", "--seeds", "2", "--workers", "2", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["points"], report["computed"], report["failed"]) == (4, 4, [])
    status = runner.invoke(app, ["sweep", "status", str(store), "--json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["simulation"]["done"] == 4
    assert runner.invoke(app, ["plot", str(store)]).exit_code == 0 and (store / "figure.png").stat().st_size > 0
    ax = figure(store).axes[0]  # what was drawn: K as separate cells, the size and seeds said
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2"]
    assert "d = 64, 2 seeds" in ax.get_title() and "theory from the simulation's start" in ax.get_title()
    curves = tmp_path / "curves.png"
    assert runner.invoke(app, ["plot", str(store), "--select", "K=2", "--out", str(curves)]).exit_code == 0
    assert curves.exists()


def test_theory_only_sweep_and_bad_sweep_input(tmp_path):
    store = tmp_path / "s"
    result = runner.invoke(app, [*SWEEP, "--theory-only", "--store", str(store), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["theory_written"]
    assert "simulation: not started" in runner.invoke(app, ["sweep", "status", str(store)]).output
    for args, message in [(["--grid", "depth=1,2"], "unknown parameter 'depth'"),
                          (["--grid", "lr=0.1,-1"], "lr must be"),
                          (["--grid", "lr=0.1", "--workers", "2", "--pool", "2"], "choose one of"),
                          (["--grid", "lr=0.1", "--seeds", "0"], "seeds must be")]:
        bad = runner.invoke(app, ["sweep", "committee", *args, "--store", str(tmp_path / "bad")])
        assert bad.exit_code == 2 and message in bad.output, bad.output
    assert not (tmp_path / "bad").exists()
    assert runner.invoke(app, ["sweep", "status", str(tmp_path)]).exit_code == 2
    assert runner.invoke(app, ["plot", str(store)]).exit_code == 0  # a theory-only phase diagram


def test_run_deep_linear_writes_results_and_agrees_with_its_theory(tmp_path):
    out = tmp_path / "dl"
    result = runner.invoke(app, ["run", "deep_linear", "--singular-values", "3,1", "--width", "2", "--init", "lambda",
                                 "--lam", "1", "--init-scale", "0.05", "--seeds", "2", "--t-max", "4",
                                 "--n-points", "41", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"theory.nc", "simulation.nc", "figure.png", "summary.json"}
    agreement = json.loads((out / "summary.json").read_text())["agreement"]["variables"]
    assert agreement["function"]["max_abs"] < 0.01 * 3 and agreement["ntk"]["max_abs"] < 0.05


@pytest.mark.parametrize("args, message", [
    (["--singular-values", "-1,2"], "singular_values must be"), (["--singular-values", "a"], "singular_values must"),
    (["--width", "0"], "width must be"), (["--lr-scales", "1,0"], "lr_scales must be"),
    (["--init", "random"], "the exact theory needs a lambda-balanced start"), (["--seeds", "0"], "seeds must be"),
    (["--lam", "1", "--width", "5"], "lam must be <= 0 when width > d_out"),
])
def test_run_deep_linear_refuses_bad_input(args, message, tmp_path):
    result = runner.invoke(app, ["run", "deep_linear", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "x").exists()


def test_run_diffusion_writes_results_and_agrees_with_its_theory(tmp_path):
    out = tmp_path / "diff"
    result = runner.invoke(app, ["run", "diffusion", "--d", "8", "--N", "24", "--T", "200", "--beta-max", "0.04",
                                 "--seeds", "4", "--n-samples", "20000", "--n-loss", "4000", "--out", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"theory.nc", "simulation.nc", "figure.png", "summary.json"}
    summary = json.loads((out / "summary.json").read_text())
    agreement = summary["agreement"]["variables"]
    assert summary["size"] == {"name": "n_samples", "value": 20000} and not summary["diverged"]["simulation"]["runs"]
    assert agreement["w"]["max_abs"] < 1e-6  # steps none: the exact denoisers
    assert agreement["h_sampling"]["max_rel"] < 0.1 and agreement["loss_train"]["max_rel"] < 0.05


@pytest.mark.parametrize("args, message", [
    (["--N", "0"], "N must be an integer >= 1"),
    (["--d", "2", "--spectrum", "given", "--covariance", "COV"], "covariance must be positive semi-definite"),
    (["--betas", "BETAS", "--T", "none"], r"betas must hold numbers in the open interval (0, 1); got betas[1] = 1.5"),
    (["--beta-max", "1"], "beta_max must be a number in the open interval (0, 1)"),
    (["--spectrum", "given", "--covariance", "MISSING"], "covariance: cannot read"),
    (["--n-samples", "5"], "n_samples must be 0 or > d = 6"),
    (["--seeds", "0"], "seeds must be"),
])
def test_run_diffusion_refuses_bad_input(args, message, tmp_path):
    import numpy as np

    np.save(tmp_path / "cov.npy", np.array([[1.0, 0.0], [0.0, -1.0]]))
    np.savetxt(tmp_path / "betas.txt", [0.1, 1.5])
    files = {"COV": str(tmp_path / "cov.npy"), "BETAS": str(tmp_path / "betas.txt"),
             "MISSING": str(tmp_path / "none.npy")}
    result = runner.invoke(app, ["run", "diffusion", *[files.get(a, a) for a in args], "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "x").exists()
