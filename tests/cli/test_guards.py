"""The command line under inputs too large, resource limits, file permissions and progress without a terminal."""
import json
import os
import stat
import sys

import pytest
from typer.testing import CliRunner

from hild.cli import app

runner = CliRunner()
SMALL = ["--d", "100", "--seeds", "2", "--t-max", "4", "--n-points", "5"]


@pytest.mark.parametrize("args, name", [
    (["--d", "10000000000"], "d"),
    (["--K", "100000", "--d", "200000"], "seeds"),
    (["--seeds", "1000000000", "--d", "100", "--t-max", "1"], "seeds"),
    (["--t-max", "1e12"], "t_max"),
    (["--no-simulate", "--t-max", "1e12"], "t_max"),
    (["--n-points", "1000000000"], "n_points"),
])
def test_run_refuses_work_too_large_with_exit_2_and_no_output_folder(tmp_path, args, name):
    result = runner.invoke(app, ["run", "committee", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and line.startswith("error: ") and name in line.split(":")[1]
    assert ("estimated" in line and "limit" in line) or "step budget" in line
    assert not (tmp_path / "x").exists()


def test_max_memory_lowers_the_limit_and_a_bad_value_is_named(tmp_path):
    result = runner.invoke(app, ["run", "committee", *SMALL, "--max-memory", "1K", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "above the limit of 1 KiB" in result.output
    result = runner.invoke(app, ["run", "committee", *SMALL, "--max-memory", "lots", "--out", str(tmp_path / "y")])
    assert result.exit_code == 2 and result.output.startswith("error: max_memory must be")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.parametrize("grid", ["lr=0.1:1:100000000", "K=100000"])
def test_sweep_refuses_a_grid_too_large_before_creating_the_store(tmp_path, grid):
    result = runner.invoke(app, ["sweep", "committee", "--grid", grid, "--theory-only", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "needs an estimated" in result.output
    assert not (tmp_path / "s").exists()


def test_results_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        result = runner.invoke(app, ["run", "committee", *SMALL, "--out", str(tmp_path / "run")])
        assert result.exit_code == 0, result.output
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "run").iterdir()}
        assert modes == {name: 0o644 for name in ("theory.nc", "simulation.nc", "figure.png", "summary.json")}
        result = runner.invoke(app, ["sweep", "committee", "--grid", "lr=0.3,0.5", "--theory-only", "--t-max", "4",
                                     "--n-points", "5", "--store", str(tmp_path / "s")])
        assert result.exit_code == 0, result.output
        for p in (tmp_path / "s").iterdir():
            if p.is_file():
                assert stat.S_IMODE(p.stat().st_mode) == 0o644, p.name
    finally:
        os.umask(old)


def test_progress_prints_plain_lines_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    from hild import progress

    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with progress.progress_bar("SGD d=100", total=4) as advance:
        for _ in range(4):
            advance(1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("SGD d=100: 1/4 (25%)") and "left" in lines[0]
    assert lines[-1].startswith("SGD d=100: 4/4 (100%)") and len(lines) == 4


def test_progress_is_silent_for_short_work_off_a_terminal(capsys, monkeypatch):
    from hild import progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with progress.progress_bar("quick", total=3) as advance:
        advance(3)
    assert capsys.readouterr().err == ""


def test_claim_data_carry_the_provenance_schema(tmp_path):
    import xarray as xr

    from hild.claims import ClaimResult, Outcome, Check
    from hild.core.scenario import PROVENANCE
    from hild.io import read_netcdf

    bare = xr.Dataset({"eg": (("lr",), [0.1, 0.2])}, coords={"lr": [0.5, 1.0]})
    result = ClaimResult("committee.plateau", "quick", "a statement", Outcome([Check("x", 1.0, "1", True)],
                                                                              {"theory_lr": bare}))
    result.save(tmp_path)
    attrs = read_netcdf(tmp_path / "theory_lr.nc").attrs
    assert set(PROVENANCE) <= set(attrs) and attrs["model"] == "committee" and attrs["claim"] == "committee.plateau"
    assert json.loads(attrs["params"]) == {"claim": "committee.plateau", "size": "quick"}
