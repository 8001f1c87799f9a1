"""Point scenarios (`axis = None`): results at one parameter point, with no axis dimension, get the shared
machinery like every other model: divergence and convergence status, compare, theory and simulation sweeps,
sweep figures, `hild run` and the default figure."""
import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from hild.core import register
from hild.core import registry
from hild.core.divergence import Blowup, check, unconverged
from hild.core.scenario import Scenario


@dataclass(frozen=True, kw_only=True)
class Shrinkage(Scenario):
    """The mean of d samples of N(mu, 1) shrunk by 1 / (1 + lam): theory m = mu / (1 + lam), the fixed point of
    x = mu - lam x, solved by iteration that converges only for lam < 1 (so the status is exercised)."""

    model: ClassVar[str] = "test.shrinkage"
    axis: ClassVar[str | None] = None
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = ("mu", "lam")
    divergence: ClassVar[Blowup | None] = Blowup(("m",), 1e6)

    mu: float = 1.0
    lam: float = 0.5

    @classmethod
    def example(cls):
        return cls()

    def theory(self, iterations: int = 200) -> xr.Dataset:
        x = 0.0
        for _ in range(iterations):
            x = self.mu - self.lam * x
        residual = abs(x - (self.mu - self.lam * x))
        ds = xr.Dataset({"m": float(x), "residual": residual}, attrs=self.provenance("theory", "float64"))
        return unconverged(check(ds, None, self.divergence), xr.DataArray(residual < 1e-9))

    def simulate(self, *, d: int = 100, seeds: int = 1, seed: int = 0) -> xr.Dataset:
        m = [np.random.default_rng(s).normal(self.mu, 1.0, d).mean() / (1 + self.lam) for s in range(seed, seed + seeds)]
        ds = xr.Dataset({"m": ("seed", m)}, coords={"seed": np.arange(seed, seed + seeds)},
                        attrs=self.provenance("simulation", "float64", seeds=range(seed, seed + seeds), size=d))
        return check(ds, None, self.divergence)


@pytest.fixture
def shrinkage():
    register(Shrinkage)
    yield Shrinkage
    registry._REGISTRY.pop(Shrinkage.model)


def test_a_point_result_has_no_axis_and_carries_its_status(shrinkage):
    th = Shrinkage(mu=2.0, lam=0.25).theory()
    assert th["m"].dims == () and bool(th.converged) and not bool(th.diverged) and th.attrs["axis"] == ""
    assert float(th.m) == pytest.approx(1.6, rel=1e-12)
    stuck = Shrinkage(lam=1.0).theory()  # the iteration oscillates: reported unconverged, its value blanked
    assert not bool(stuck.converged) and np.isnan(float(stuck.m)) and float(stuck.residual) > 0


def test_a_diverged_point_run_is_blanked_whole():
    ds = xr.Dataset({"m": ("seed", [1.0, np.inf, 3.0]), "n": ("seed", [1.0, 2.0, 3.0])})
    out = check(ds, None, Blowup(("m",), 10.0))
    assert out["diverged"].values.tolist() == [False, True, False]
    assert np.isnan(out["n"].values[1]) and out["n"].values[[0, 2]].tolist() == [1.0, 3.0]
    assert "None_diverged" not in out


def test_compare_at_a_point_gives_the_error_of_the_seed_mean(shrinkage):
    from hild import compare

    s = Shrinkage(mu=1.0, lam=0.0)
    sim = s.simulate(d=400, seeds=8)
    c = compare(s.theory(), sim)
    assert c.axis is None and c.seeds_used == 8
    assert c.summary["m"]["max_abs"] == pytest.approx(abs(float(sim.m.mean()) - 1.0), rel=1e-12)


def test_sweeps_of_a_point_scenario_give_its_grid_and_a_phase_diagram(shrinkage, tmp_path):
    from hild.sweep import Grid, Sizes, parse_axis, run_sweep, theory_sweep
    from hild.sweep.figure import figure
    from hild.sweep.store import SweepStore

    grid = Grid("test.shrinkage", axes=(parse_axis("mu=1:3:3"), parse_axis("lam=0.25,0.5,1.0")))
    th = theory_sweep(grid)
    assert th["m"].dims == ("mu", "lam")
    np.testing.assert_allclose(th["m"].sel(lam=0.5).values, [1 / 1.5, 2 / 1.5, 3 / 1.5], rtol=1e-12)
    assert not th["converged"].sel(lam=1.0).any() and np.isnan(th["m"].sel(lam=1.0)).all()
    report = run_sweep(grid, tmp_path / "store", Sizes([50, 200], seeds=3))
    assert report.computed == 18 and not report.failed
    sim, matched, _ = SweepStore(tmp_path / "store").read()
    assert sim["m"].dims == ("mu", "lam", "d", "seed")
    assert figure(tmp_path / "store", "m") is not None  # a phase diagram over (lam, mu)
    assert figure(tmp_path / "store", "m", select={"lam": 0.5}) is not None  # curves over mu, one per d


def test_a_theory_field_with_another_stores_simulation_on_top(shrinkage, tmp_path):
    from hild.sweep import Grid, Sizes, parse_axis, run_sweep
    from hild.sweep.figure import figure

    fine = Grid("test.shrinkage", axes=(parse_axis("mu=1:3:9"), parse_axis("lam=0.1:0.9:9")))
    coarse = Grid("test.shrinkage", axes=(parse_axis("mu=1:3:3"), parse_axis("lam=0.25,0.5,1.0")))
    run_sweep(fine, tmp_path / "fine")  # theory only
    run_sweep(coarse, tmp_path / "coarse", Sizes([50], seeds=2))
    fig = figure(tmp_path / "fine", "m", points=tmp_path / "coarse")
    ax = fig.axes[0]
    mesh, discs = ax.collections[0], ax.collections[-1]
    assert mesh.get_array().shape == (9, 9) and "theory" in fig.axes[1].get_ylabel()
    assert len(discs.get_offsets()) == 9  # the 3 x 3 simulated points, none left out
    assert discs.norm is mesh.norm and "d = 50, 2 seeds" in ax.get_title()
    with pytest.raises(ValueError, match="holds no simulation"):
        figure(tmp_path / "coarse", "m", points=tmp_path / "fine")


def test_hild_run_of_a_point_scenario(shrinkage, tmp_path):
    from hild.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "test.shrinkage", "--lam", "0.5", "--d", "300", "--seeds", "4",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agreement"]["axis"] is None and summary["agreement"]["seeds_used"] == 4
    assert summary["diverged"]["theory"] == {"runs": 0, "unconverged": 0}
    assert (out / "figure.png").stat().st_size > 0
    stuck = CliRunner().invoke(app, ["run", "test.shrinkage", "--lam", "1.0", "--d", "50", "--out", str(out),
                                     "--overwrite"])
    assert stuck.exit_code == 0 and "did not converge" in stuck.output
