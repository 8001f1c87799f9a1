"""Simulation sweeps and their store: resume, failures, interruption, kill -9 of the driver, two
drivers at once, and a real Dask LocalCluster of worker processes, one of them killed mid-sweep."""
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hild.sweep.executors import Dask, InProcess
from hild.families.online import Committee
from hild.sweep.store import SweepStore
from hild.sweep import Grid, Sizes, parse_axis, point_key, run_sweep

GRID = Grid("committee", (parse_axis("lr=0.2,0.5,0.8"),), fixed={"K": 2, "M": 2})
SIZES = Sizes(d=(64,), seeds=2)
RUN = {"t_max": 6.0, "n_points": 4}
SLOW_GRID = Grid("committee", (parse_axis("lr=0.1,0.2,0.3,0.4"),), fixed={"K": 2, "M": 2})
SLOW_RUN = {"t_max": 8000.0, "n_points": 5}  # about a second per point at d = 64
HILD = str(Path(sys.executable).parent / "hild")


def _cli_sweep(store, grid="lr=0.1,0.2,0.3,0.4", t_max=SLOW_RUN["t_max"]) -> list[str]:
    return [HILD, "sweep", "committee", "--grid", grid, "--d", "64", "--seeds", "1", "--t-max", str(t_max),
            "--n-points", str(SLOW_RUN["n_points"]), "--store", str(store)]


def _expected(grid: Grid, sizes: Sizes, run: dict) -> np.ndarray:
    named = sizes.named("d")
    return np.array([[point_key(grid.model, s.params, d, named, run) for d in sizes.values]
                     for s in grid.scenarios()], dtype=np.uint64)


class FailingOn(InProcess):
    """The in-process executor, except that the task of one learning rate raises."""

    def __init__(self, lr):
        self.lr = lr

    def run(self, fn, tasks, keys=None):
        def guarded(task):
            if task[0].lr == self.lr:
                raise RuntimeError("out of memory (simulated)")
            return fn(task)
        return super().run(guarded, tasks, keys)


class InterruptedAfter(InProcess):
    """The in-process executor, interrupted (as by Ctrl-C) after `n` tasks."""

    def __init__(self, n):
        self.n = n

    def run(self, fn, tasks, keys=None):
        for count, event in enumerate(super().run(fn, tasks, keys)):
            if count == self.n:
                raise KeyboardInterrupt
            yield event


def test_sweep_stores_every_point_as_a_single_run_gives_it_and_resumes(tmp_path):
    report = run_sweep(GRID, tmp_path / "s", sizes=SIZES, **RUN)
    assert (report.points, report.computed, report.already_done, report.theory_written) == (3, 3, 0, True)
    store = SweepStore(tmp_path / "s")
    sim, theory = store.simulation().load(), store.theory()
    assert sim.eg.dims == ("lr", "d", "seed", "t") and theory.eg.dims == ("lr", "t")
    np.testing.assert_array_equal(store.completed(), _expected(GRID, SIZES, RUN))
    alone = Committee(K=2, M=2, lr=0.5).simulate(d=64, seeds=2, **RUN)
    np.testing.assert_allclose(sim.eg.sel(lr=0.5, d=64).values, alone.eg.values, rtol=1e-6)
    np.testing.assert_allclose(sim.t_recorded.sel(lr=0.5, d=64).values, alone.t.values)
    assert json.loads(sim.attrs["sizes"])["seeds"] == 2 and sim.attrs["hild_version"]

    again = run_sweep(GRID, tmp_path / "s", sizes=SIZES, **RUN)
    assert (again.computed, again.already_done, again.theory_written) == (0, 3, False)


def test_a_store_refuses_another_sweep_and_foreign_directories(tmp_path):
    run_sweep(GRID, tmp_path / "s", sizes=None, **RUN)
    with pytest.raises(ValueError, match="different sweep .*t_max"):
        run_sweep(GRID, tmp_path / "s", t_max=7.0, n_points=4)
    run_sweep(GRID, tmp_path / "s", sizes=SIZES, **RUN)
    with pytest.raises(ValueError, match="other sizes .*seeds"):
        run_sweep(GRID, tmp_path / "s", sizes=Sizes(d=(64,), seeds=3), **RUN)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="holds other files"):
        run_sweep(GRID, tmp_path / "mine", **RUN)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="not a hild sweep store"):
        SweepStore(tmp_path / "mine")
    with pytest.raises(ValueError, match="^seeds must be"):
        run_sweep(GRID, tmp_path / "t", sizes=Sizes(d=(64,), seeds=0), **RUN)
    assert not (tmp_path / "t").exists()  # refused before anything is created


def test_failed_points_are_recorded_and_retried_on_request(tmp_path):
    report = run_sweep(GRID, tmp_path / "s", sizes=SIZES, executor=FailingOn(0.5), **RUN)
    assert report.computed == 2 and len(report.failed) == 1 and "out of memory" in report.failed[0]["error"]
    store = SweepStore(tmp_path / "s")
    status = store.status()
    assert status["simulation"] == {"points": 3, "done": 2, "failed": 1, "missing": 0}
    assert status["failures"][0]["point"] == {"lr": 0.5, "d": 64}

    kept = run_sweep(GRID, tmp_path / "s", sizes=SIZES, **RUN)
    assert (kept.computed, kept.kept_failed) == (0, 1)
    retried = run_sweep(GRID, tmp_path / "s", sizes=SIZES, retry_failed=True, **RUN)
    assert (retried.computed, retried.already_done, retried.failed) == (1, 2, [])
    assert store.failures() == {} and store.status()["simulation"]["done"] == 3


def test_an_interrupted_sweep_keeps_its_finished_points(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run_sweep(GRID, tmp_path / "s", sizes=SIZES, executor=InterruptedAfter(1), **RUN)
    assert SweepStore(tmp_path / "s").status()["simulation"]["done"] == 1
    report = run_sweep(GRID, tmp_path / "s", sizes=SIZES, **RUN)
    assert (report.already_done, report.computed) == (1, 2)


def _chunk_times(store: Path, done: np.ndarray) -> dict:
    """Modification times of the data chunks of the done points (index along lr -> ns)."""
    return {i: (store / "simulation" / "eg" / "c" / str(i) / "0" / "0" / "0").stat().st_mtime_ns
            for i in np.flatnonzero(done)}


def test_a_driver_killed_with_sigkill_resumes_without_recomputing(tmp_path):
    store = tmp_path / "s"
    driver = subprocess.Popen(_cli_sweep(store), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    done = np.zeros(4, bool)
    while time.time() < deadline and driver.poll() is None:
        if (store / "simulation" / "zarr.json").exists():
            done = SweepStore(store).completed()[:, 0] != 0
            if done.any():
                break
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert driver.returncode == -signal.SIGKILL and 1 <= done.sum() < 4, driver.stderr.read().decode()[-2000:]

    before = SweepStore(store)
    done_at_kill = before.completed()[:, 0] != 0  # the store reads cleanly after the kill
    finished = before.simulation().eg.isel(d=0).load()
    times = _chunk_times(store, done_at_kill)
    resumed = subprocess.run(_cli_sweep(store) + ["--json"], capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["already_done"] == int(done_at_kill.sum()) and report["computed"] == 4 - done_at_kill.sum()
    after = SweepStore(store)
    assert np.all(after.completed() != 0)
    assert _chunk_times(store, done_at_kill) == times  # finished points were not rewritten
    xr.testing.assert_equal(after.simulation().eg.isel(d=0).load()[done_at_kill], finished[done_at_kill])


def test_drivers_creating_one_store_at_the_same_moment_all_open_it(tmp_path):
    """The race of two drivers starting together: both see no Zarr root and both create it."""
    spec = {"model": "committee", "grid": "lr=0.1,0.2"}
    for trial in range(10):
        path, barrier, errors = tmp_path / f"s{trial}", threading.Barrier(4), []

        def create():
            barrier.wait()
            try:
                SweepStore.create(path, spec)
            except Exception as e:  # noqa: BLE001  (any failure is the defect under test)
                errors.append(repr(e))

        threads = [threading.Thread(target=create) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert SweepStore(path).spec == spec and (path / "zarr.json").is_file()


def test_two_drivers_on_one_store_finish_it_without_corruption(tmp_path):
    store = tmp_path / "s"
    command = _cli_sweep(store, t_max=2000.0) + ["--json"]
    drivers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [d.communicate(timeout=300) for d in drivers]
    assert all(d.returncode == 0 for d in drivers), [o[1][-2000:] for o in outputs]
    reports = [json.loads(o[0]) for o in outputs]
    assert all(r["computed"] + r["already_done"] == 4 for r in reports)
    grid = Grid("committee", (parse_axis("lr=0.1,0.2,0.3,0.4"),), fixed={"K": 2, "M": 2})
    sizes, run = Sizes(d=(64,), seeds=1), {"t_max": 2000.0, "n_points": SLOW_RUN["n_points"]}
    final = SweepStore(store)
    np.testing.assert_array_equal(final.completed(), _expected(grid, sizes, run))
    alone = Committee(K=2, M=2, lr=0.3).simulate(d=64, seeds=1, **run)
    np.testing.assert_allclose(final.simulation().eg.sel(lr=0.3, d=64).values, alone.eg.values, rtol=1e-5)
    assert not list(store.glob(".*partial*"))


# --- Dask -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as local:
        yield local


def test_a_dask_sweep_gives_what_the_in_process_sweep_gives(cluster, tmp_path):
    report = run_sweep(GRID, tmp_path / "dask", sizes=SIZES, executor=Dask(address=cluster.scheduler_address), **RUN)
    assert (report.computed, report.failed) == (3, [])
    run_sweep(GRID, tmp_path / "local", sizes=SIZES, **RUN)
    dask_sim, local_sim = (SweepStore(tmp_path / s).simulation().load() for s in ("dask", "local"))
    np.testing.assert_allclose(dask_sim.eg.values, local_sim.eg.values, rtol=1e-5)
    np.testing.assert_array_equal(SweepStore(tmp_path / "dask").completed(), _expected(GRID, SIZES, RUN))


def test_tasks_of_a_killed_worker_are_rerun_and_every_point_is_stored_once(cluster, tmp_path):
    from distributed import Client

    store = tmp_path / "s"
    reports, errors = [], []

    def drive():
        try:
            reports.append(run_sweep(SLOW_GRID, store, sizes=Sizes(d=(64,), seeds=1), theory=False,
                                     executor=Dask(address=cluster.scheduler_address), **SLOW_RUN))
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)

    with Client(cluster) as client:
        driver = threading.Thread(target=drive)
        driver.start()
        victim, deadline = None, time.time() + 120
        while victim is None and time.time() < deadline:
            busy = [w for w, keys in client.processing().items() if any(str(k).startswith("hild-") for k in keys)]
            victim = busy[0] if busy else None
            time.sleep(0.05)
        assert victim is not None, "no worker ever ran a sweep task"
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        driver.join(timeout=300)
    assert not errors and len(reports) == 1, errors
    report = reports[0]
    assert (report.computed, report.failed, report.already_done) == (4, [], 0)
    sizes = Sizes(d=(64,), seeds=1)
    np.testing.assert_array_equal(SweepStore(store).completed(), _expected(SLOW_GRID, sizes, SLOW_RUN))
    alone = Committee(K=2, M=2, lr=0.4).simulate(d=64, seeds=1, **SLOW_RUN)
    np.testing.assert_allclose(SweepStore(store).simulation().eg.sel(lr=0.4, d=64).values, alone.eg.values, rtol=1e-5)


def test_string_axes_and_zipped_grids_are_stored_and_drawn(tmp_path):
    from hild.plot import save
    from hild.sweep import figure

    crossed = Grid("committee", (parse_axis("activation=erf,relu"), parse_axis("lr=0.2,0.5")), fixed={"K": 2, "M": 2})
    run_sweep(crossed, tmp_path / "c", sizes=SIZES, **RUN)
    sim = SweepStore(tmp_path / "c").simulation()
    assert list(sim.activation.values) == ["erf", "relu"] and bool(sim.done.all())
    save(figure(tmp_path / "c", select={"activation": "relu"}), tmp_path / "relu.png")
    save(figure(tmp_path / "c"), tmp_path / "phase.png")
    zipped = Grid("committee", (parse_axis("lr=0.2,0.5"), parse_axis("noise=0,0.3")), fixed={"K": 2, "M": 2},
                  zipped=True)
    run_sweep(zipped, tmp_path / "z", sizes=SIZES, **RUN)
    sim = SweepStore(tmp_path / "z").simulation()
    assert sim.eg.dims[:2] == ("point", "d") and list(sim.noise.values) == [0, 0.3]
    save(figure(tmp_path / "z"), tmp_path / "zipped.png")
    with pytest.raises(ValueError, match="not a dimension"):
        figure(tmp_path / "z", select={"K": 2})
