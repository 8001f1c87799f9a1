"""What a sweep store guarantees to whoever reads it: damaged points are found, named and recomputed; a
finished store reads without write access; the grid shown is the grid computed; no links out of the store;
old stores (no checksums) still open; each point carries the theory from its simulation's own start."""
import json
import shutil
import re
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from typer.testing import CliRunner

from hild.cli import app
from hild.families.online import Committee
from hild.sweep import Grid, Sizes, figure, parse_axis, run_sweep
from hild.sweep.figure import MATCHED, NOMINAL, SweepWarning
from hild.sweep.store import SweepStore

GRID = Grid("committee", (parse_axis("lr=0.2,0.5,0.8"),), fixed={"K": 2, "M": 2})
SIZES = Sizes(d=(64,), seeds=2)
RUN = {"t_max": 6.0, "n_points": 4}
CLI = ["sweep", "committee", "--grid", "lr=0.2,0.5,0.8", "--d", "64", "--seeds", "2", "--t-max", "6.0",
       "--n-points", "4"]
runner = CliRunner()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A finished three-point store, computed once; tests work on copies."""
    path = tmp_path_factory.mktemp("pristine") / "s"
    run_sweep(GRID, path, sizes=SIZES, **RUN)
    return path


@pytest.fixture
def store(pristine, tmp_path):
    path = tmp_path / "s"
    shutil.copytree(pristine, path, symlinks=True)
    yield path
    for p in [path, *path.rglob("*")]:  # a test may leave it read-only
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def _chunk(store: Path, group: str, var: str, i: int) -> Path:
    """The chunk of point lr[i], d[0] of a variable (one chunk per point, whole along its other dimensions)."""
    ndim = len(json.loads((store / group / var / "zarr.json").read_text())["shape"])
    return store / group / var / "c" / str(i) / Path(*["0"] * (ndim - 1))


def _damage(store: Path) -> None:
    """lr=0.2: a missing simulation chunk; lr=0.5: a truncated matched-theory chunk; lr=0.8: a chunk that
    decodes but holds another point's data."""
    _chunk(store, "simulation", "eg", 0).unlink()
    truncated = _chunk(store, "matched_theory", "Q", 1)
    truncated.write_bytes(truncated.read_bytes()[:10])
    shutil.copyfile(_chunk(store, "simulation", "R", 0), _chunk(store, "simulation", "R", 2))


def _text(result) -> str:
    """A command's output with its line wrapping undone."""
    return " ".join(result.output.split())


def _read_only(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _snapshot(path: Path) -> dict:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in [path, *sorted(path.rglob("*"))]}


def test_damaged_points_are_named_never_read_as_data_and_recomputed(store):
    before = SweepStore(store).simulation()
    _damage(store)
    s = SweepStore(store)
    assert s.status()["simulation"]["done"] == 3  # plain status reads only the done flags
    found = s.verify()
    reasons = {d["point"]["lr"]: d["reason"] for d in found.damaged}
    assert set(reasons) == {0.2, 0.5, 0.8} and all(d["point"]["d"] == 64 for d in found.damaged)
    assert "missing chunk of simulation/eg" in reasons[0.2]
    assert "matched_theory/Q cannot be decoded" in reasons[0.5]
    assert "do not match the checksum" in reasons[0.8]
    assert not s.completed().any()
    sim = s.simulation()  # no Zstd traceback, no silent NaN read as data
    assert not sim["done"].any() and np.isnan(sim.eg.values).all()
    status = s.status(verify=True)["simulation"]
    assert (status["done"], status["damaged"], status["missing"]) == (0, 3, 0)
    with pytest.warns(SweepWarning, match="left out 3 damaged points: lr=0.2, d=64"):
        figure(store)

    report = run_sweep(GRID, store, sizes=SIZES, **RUN)
    assert (report.computed, report.already_done, len(report.damaged)) == (3, 0, 3)
    after = SweepStore(store)
    assert after.verify().damaged == [] and after.completed().all()
    np.testing.assert_array_equal(after.simulation().eg.values, before.eg.values)


def test_a_damaged_theory_is_reported_left_out_of_the_figure_and_recomputed(store, tmp_path):
    chunk = _chunk(store, "theory", "eg", 0)
    chunk.write_bytes(chunk.read_bytes()[:10])
    s = SweepStore(store)
    assert "theory/ cannot be read" in s.verify().theory and s.theory() is None
    checked = runner.invoke(app, ["sweep", "status", str(store), "--verify"])
    assert checked.exit_code == 1 and "theory: damaged" in _text(checked)
    with pytest.warns(SweepWarning, match="leaves the theory out"):
        figure(store)
    assert run_sweep(GRID, store, sizes=SIZES, **RUN).theory_written
    assert SweepStore(store).verify().theory is None and SweepStore(store).theory() is not None


def test_status_verify_lists_damaged_points_and_plot_draws_the_intact_ones(store, tmp_path):
    plain = runner.invoke(app, ["sweep", "status", str(store)])
    assert plain.exit_code == 0 and "--verify" in plain.output
    assert runner.invoke(app, ["sweep", "status", str(store), "--verify"]).exit_code == 0
    _chunk(store, "simulation", "eg", 1).unlink()
    plain = runner.invoke(app, ["sweep", "status", str(store)])
    assert plain.exit_code == 0 and "3 of 3 points done" in _text(plain)
    checked = runner.invoke(app, ["sweep", "status", str(store), "--verify"])
    assert checked.exit_code == 1 and "damaged lr=0.5, d=64: missing chunk of simulation/eg" in _text(checked)
    assert "2 of 3 points done and intact, 1 damaged" in _text(checked)
    as_json = runner.invoke(app, ["sweep", "status", str(store), "--verify", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["damaged"][0]["point"] == {"lr": 0.5, "d": 64}
    drawn = runner.invoke(app, ["plot", str(store), "--out", str(tmp_path / "f.png")])
    assert drawn.exit_code == 0 and (tmp_path / "f.png").stat().st_size > 0
    assert "left out 1 damaged point: lr=0.5, d=64" in _text(drawn)
    rerun = runner.invoke(app, [*CLI, "--store", str(store)])
    assert rerun.exit_code == 0 and "1 points computed, 2 already done" in _text(rerun)
    assert "damaged lr=0.5, d=64: missing chunk of simulation/eg (recomputed)" in _text(rerun)


def test_a_store_written_before_checksums_opens_and_is_repaired_point_by_point(store):
    shutil.rmtree(store / "simulation" / "checksum")  # what a store of hild 0.2.0 holds
    shutil.rmtree(store / "matched_theory")
    s = SweepStore(store)
    found = s.verify()
    assert (found.unverified, found.damaged) == (3, []) and s.simulation()["done"].all()
    assert s.matched_theory() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = figure(store)
    assert NOMINAL in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert run_sweep(GRID, store, sizes=SIZES, **RUN).computed == 0

    truncated = _chunk(store, "simulation", "eg", 2)
    truncated.write_bytes(truncated.read_bytes()[:10])
    assert [d["point"]["lr"] for d in SweepStore(store).verify().damaged] == [0.8]
    assert run_sweep(GRID, store, sizes=SIZES, **RUN).computed == 1
    found = SweepStore(store).verify()
    assert (found.unverified, found.damaged) == (2, []) and found.checked[:, 0].tolist() == [False, False, True]
    assert SweepStore(store).matched_theory()["done"][:, 0].values.tolist() == [False, False, True]


def test_a_finished_read_only_store_is_read_without_writing(store, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(store, unfinished)
    shutil.rmtree(unfinished / "theory")
    _read_only(store)
    _read_only(unfinished)
    before = _snapshot(tmp_path)
    report = run_sweep(GRID, store, sizes=SIZES, **RUN)
    assert (report.computed, report.already_done, report.theory_written) == (0, 3, False)
    rerun = runner.invoke(app, [*CLI, "--store", str(store)])
    assert rerun.exit_code == 0 and "nothing left to compute" in _text(rerun), rerun.output
    assert runner.invoke(app, ["sweep", "status", str(store), "--verify"]).exit_code == 0
    SweepStore(store).clean()
    with pytest.raises(ValueError, match="read-only and this sweep has points or its theory to write"):
        run_sweep(GRID, unfinished, sizes=SIZES, **RUN)
    refused = runner.invoke(app, ["plot", str(store)])
    assert refused.exit_code == 2 and "read-only" in refused.output and "--out" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert _snapshot(tmp_path) == before
    drawn = runner.invoke(app, ["plot", str(store), "--out", str(tmp_path / "f.png")])
    assert drawn.exit_code == 0 and (tmp_path / "f.png").exists()


def test_the_grid_shown_is_the_grid_the_data_were_computed_on(store):
    spec = json.loads((store / "sweep.json").read_text())
    edited = {**spec, "fixed": {"K": 3, "M": 2}, "axes": {"lr": [0.1, 0.9, 1.3]}}
    (store / "sweep.json").write_text(json.dumps(edited))
    s = SweepStore(store)
    assert s.spec == spec
    assert any(d.startswith("axes:") for d in s.grid_differences())
    status = runner.invoke(app, ["sweep", "status", str(store)])
    text = _text(status)
    assert status.exit_code == 0 and "0.2, 0.5, 0.8" in text and "'K': 2" in text
    assert "sweep.json disagrees with the data" in text
    with pytest.warns(SweepWarning, match="sweep.json disagrees"):
        fig = figure(store)
    assert "K=2" in fig.axes[0].get_title() and "K=3" not in fig.axes[0].get_title()
    for grid in (GRID, Grid("committee", (parse_axis("lr=0.1,0.9,1.3"),), fixed={"K": 3, "M": 2})):
        with pytest.raises(ValueError, match=r"sweep.json disagrees with the grid .*axes.*fixed"):
            run_sweep(grid, store, sizes=SIZES, **RUN)


@pytest.mark.parametrize("entry", ["simulation", "failed", "simulation.json"])
def test_links_out_of_the_store_are_refused_before_anything_is_read_or_written(store, tmp_path, entry):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / entry
    if (store / entry).exists():
        shutil.move(store / entry, target)
    else:
        target.mkdir()
    (store / entry).symlink_to(target, target_is_directory=target.is_dir())
    before = _snapshot(outside)
    for attempt in (lambda: SweepStore(store), lambda: run_sweep(GRID, store, sizes=SIZES, **RUN),
                    lambda: figure(store)):
        with pytest.raises(ValueError, match=f"store: {entry} in .* is a link to {re.escape(str(target))}"):
            attempt()
    refused = runner.invoke(app, ["plot", str(store), "--out", str(tmp_path / "f.png")])
    assert refused.exit_code == 2 and entry in refused.output and not (tmp_path / "f.png").exists()
    assert _snapshot(outside) == before


def test_a_link_deep_inside_a_group_is_refused_when_the_data_are_read(store, tmp_path):
    chunk = _chunk(store, "simulation", "eg", 0)
    shutil.move(chunk, tmp_path / "chunk")
    chunk.symlink_to(tmp_path / "chunk")
    with pytest.raises(ValueError, match="simulation/eg/c/0/0/0/0 in .* is a link"):
        SweepStore(store).simulation()
    with pytest.raises(ValueError, match="is a link"):
        run_sweep(GRID, store, sizes=SIZES, **RUN)


def test_each_point_carries_the_theory_from_its_own_simulations_start(store):
    s = SweepStore(store)
    matched, sim = s.matched_theory(), s.simulation()
    assert matched["done"].all() and matched.eg.dims == ("lr", "d", "seed", "t")
    alone = Committee(K=2, M=2, lr=0.5).simulate(d=64, seeds=2, **RUN)
    expected = Committee(K=2, M=2, lr=0.5).matching_theory(alone, **RUN)
    np.testing.assert_allclose(matched.eg.sel(lr=0.5, d=64).values, expected.eg.values, rtol=1e-9)
    np.testing.assert_allclose(matched.Q.sel(lr=0.5, d=64).isel(t=0).values, sim.Q.sel(lr=0.5, d=64).isel(t=0).values,
                               rtol=1e-6)
    nominal = s.theory().eg.sel(lr=0.5).values
    assert not np.allclose(matched.eg.sel(lr=0.5, d=64).values, nominal)  # its start is not the nominal one
    fig = figure(store)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert NOMINAL not in lines  # every point has its own theory
    np.testing.assert_allclose(lines[MATCHED].get_ydata(), matched.eg.isel(d=0, t=-1).mean("seed").values)
    assert "d = 64" in fig.axes[0].get_title() and "2 seeds" in fig.axes[0].get_title()
    assert any("d = 64, 2 seeds" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_a_theory_only_figure_says_its_theory_starts_from_the_nominal_start(store):
    for entry in ("simulation", "matched_theory", "simulation.json"):  # what a --theory-only sweep writes
        shutil.rmtree(store / entry) if (store / entry).is_dir() else (store / entry).unlink()
    fig = figure(store)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [NOMINAL]


def test_an_lr_by_K_map_draws_K_as_cells_and_never_interpolates_across_it(tmp_path):
    grid = Grid("committee", (parse_axis("lr=0.2,0.5"), parse_axis("K=1,2")), fixed={"M": 1})
    run_sweep(grid, tmp_path / "s", t_max=4, n_points=5)  # the shape of the CLI's sweep tests
    fig = figure(tmp_path / "s")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "K"  # the grid's last axis across, its first up
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2"] and ax.get_xlim() == (0.5, 2.5)
    assert NOMINAL in fig.axes[1].get_ylabel()  # the colorbar: a theory-only map says where its theory starts
    assert not [c for c in ax.collections if isinstance(c, ContourSet)]  # no contours interpolated across K
    levels = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert levels, "the theory's level crossings are drawn"
    for line in levels:  # each within one K cell, along lr
        xs, ys = line.get_xdata(), line.get_ydata()
        assert any(lo <= min(xs) and max(xs) <= hi for lo, hi in ((0.5, 1.5), (1.5, 2.5))) and ys[0] == ys[-1]


@pytest.mark.slow
def test_the_matched_theory_follows_sgd_out_of_the_plateau_where_the_nominal_one_stays(tmp_path):
    """Saad & Solla's plateau, K = M = 2: at lr 0.9 SGD leaves the symmetric plateau by t = 300 at d = 500; the
    theory from the exactly symmetric nominal start never does, the theory from SGD's own start does."""
    grid = Grid("committee", (parse_axis("lr=0.3,0.9"),), fixed={"K": 2, "M": 2})
    run_sweep(grid, tmp_path / "s", sizes=Sizes(d=(500,), seeds=2), t_max=300.0, n_points=7)
    s = SweepStore(tmp_path / "s")
    sim, matched, nominal = (ds.eg.isel(t=-1) for ds in (s.simulation(), s.matched_theory(), s.theory()))
    sgd, own = (ds.isel(d=0).mean("seed").values for ds in (sim, matched))
    assert sgd[1] < 1e-5 and nominal.values[1] > 1e-2  # escaped; stuck on the plateau
    np.testing.assert_allclose(own, sgd, rtol=0.5)  # the matched theory follows SGD at both rates
    np.testing.assert_allclose(nominal.values[0], sgd[0], rtol=0.05)  # below the escape both agree
