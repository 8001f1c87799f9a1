"""The scenario protocol, for every registered model (parametrised over hild.models(): a model added
anywhere is checked here without any list being edited).

For each model: its example's theory and simulation are Datasets with shared variables on the
declared axis, `hild.compare` accepts them, the provenance is complete, divergence is recorded the
same way, a wrongly typed parameter raises ValueError naming it, a two-point sweep runs into a
store and resumes, and `hild run MODEL` writes its files.
"""
import dataclasses
import inspect
import json

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import hild
from hild.core import resources
from hild.cli import app
from hild.core import PROVENANCE, Scenario

MODELS = sorted(hild.models())
_RUNS: dict = {}


def _size(cls) -> int:
    """The default of simulate's size parameter (the example's small size), or 64 where the default is None
    (deep_linear: None is the population loss, the size's limit)."""
    default = inspect.signature(cls.example().simulate).parameters[cls.size].default
    return 64 if default is None else default


def _run(name: str):
    """(example, theory, simulation) of a model, computed once per session."""
    if name not in _RUNS:
        cls = hild.models()[name]
        ex = cls.example()
        _RUNS[name] = ex, ex.theory(), ex.simulate(**{cls.size: _size(cls)}, seeds=2)
    return _RUNS[name]


def test_the_registry_is_a_mapping_of_scenario_classes():
    registry = hild.models()
    assert {"committee", "deep_linear", "diffusion", "signal_prop"} <= set(registry)
    assert any(name.startswith("cumulants") for name in registry)
    for name, cls in registry.items():
        assert issubclass(cls, Scenario) and cls.model == name
        assert (cls.axis is None or isinstance(cls.axis, str)) and isinstance(cls.size, str)
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
        assert cls.size in inspect.signature(cls.example().simulate).parameters
        assert set(cls.sweepable) <= {f.name for f in dataclasses.fields(cls)}
        assert cls.description and cls.convention


@pytest.mark.parametrize("name", MODELS)
def test_theory_and_simulation_share_variables_on_the_axis(name):
    cls = hild.models()[name]
    ex, th, sim = _run(name)
    assert isinstance(th, xr.Dataset) and isinstance(sim, xr.Dataset)
    point = cls.axis is None  # a point scenario: results at one parameter point, no axis dimension
    assert point or (cls.axis in th.coords and cls.axis in sim.coords)
    assert sim.sizes["seed"] == 2 and list(sim["seed"].values) == [0, 1]
    status = {"residual", "iterations", f"{cls.axis}_diverged"}
    shared = [v for v in sim.data_vars if v in th.data_vars and sim[v].dtype.kind == "f" and v not in status
              and (point or (cls.axis in sim[v].dims and cls.axis in th[v].dims))]
    assert shared, f"{name}: no shared float variable on {cls.axis}"
    c = hild.compare(th, sim)
    assert c.axis == cls.axis and set(c.summary) == set(shared)
    assert all(np.isfinite(s["max_abs"]) for s in c.summary.values())


@pytest.mark.parametrize("name", MODELS)
def test_provenance_and_divergence_are_recorded_the_same_way(name):
    cls = hild.models()[name]
    ex, th, sim = _run(name)
    for ds, kind in ((th, "theory"), (sim, "simulation")):
        missing = [key for key in PROVENANCE if key not in ds.attrs]
        assert not missing, f"{name} {kind}: provenance lacks {missing}"
        assert ds.attrs["model"] == name and ds.attrs["axis"] == (cls.axis or "")
        assert json.loads(ds.attrs["params"]) == ex.params
        assert ds["diverged"].dtype == bool and (cls.axis is None or f"{cls.axis}_diverged" in ds)
    assert sim.attrs["size"] == cls.size and sim.attrs[cls.size] == _size(cls)
    assert [int(s) for s in sim.attrs["seeds"]] == [0, 1]
    assert sim["diverged"].dims == ("seed",)


def _wrong(value):
    return "a string" if isinstance(value, (int, float)) and not isinstance(value, bool) else 1.5e300


@pytest.mark.parametrize("name", MODELS)
def test_a_wrongly_typed_parameter_is_refused_by_name(name):
    cls = hild.models()[name]
    example = cls.example()
    for field in cls.sweepable:
        with pytest.raises(ValueError, match=field):
            dataclasses.replace(example, **{field: _wrong(getattr(example, field))})


def _named(message: str) -> list[str]:
    """The parameters an error names: 'd, seeds: ... needs ...' or 'seeds must be ...'."""
    head = message.split(":")[0]
    return head.split()[:1] if " must " in head else head.split(", ")


@pytest.mark.parametrize("name", MODELS)
def test_work_too_large_is_refused_naming_the_parameter(name):
    """A size, a number of seeds or a number of recorded points that cannot fit is a ValueError naming it
    (hild.core.resources), before anything is allocated; the example at its defaults is admitted, under a 1 GiB
    limit too."""
    cls = hild.models()[name]
    example = cls.example()
    for call in ("theory", "simulate"):
        example.admit(call)
        with resources.limits(memory="1G"):
            example.admit(call)
    for argument in (cls.size, "seeds"):
        with pytest.raises(ValueError) as e:
            example.simulate(**{argument: 10 ** 12})
        assert argument in _named(str(e.value)), str(e.value)
    with resources.limits(memory="1K"), pytest.raises(ValueError, match="above the limit of 1 KiB"):
        example.admit("simulate")


def _two_points(cls):
    """A sweep axis over the first positive real sweepable parameter: the example's value and one 10% below
    (an integer one, the example's value and one less, where there is no real one)."""
    example = cls.example()
    values = {field: getattr(example, field) for field in cls.sweepable}
    for field, value in values.items():
        if isinstance(value, float) and value > 0:
            return field, (value, 0.9 * value)
    for field, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool) and value > 1:
            return field, (value, value - 1)
    pytest.fail(f"{cls.model}: no positive numeric sweepable parameter to sweep in the contract test")


@pytest.mark.parametrize("name", MODELS)
def test_a_two_point_sweep_runs_into_a_store_and_resumes(name, tmp_path):
    from hild.sweep import Axis, Grid, Sizes, run_sweep
    from hild.sweep.store import SweepStore
    from hild.cli.sweep import example_settings

    cls = hild.models()[name]
    field, values = _two_points(cls)
    fixed = {k: v for k, v in example_settings(cls).items() if k != field}
    grid = Grid(name, (Axis(field, values),), fixed=fixed)
    sizes = Sizes((_size(cls),), seeds=2)
    first = run_sweep(grid, tmp_path / "store", sizes=sizes)
    assert (first.points, first.computed, first.failed) == (2, 2, [])
    again = run_sweep(grid, tmp_path / "store", sizes=sizes)
    assert (again.computed, again.already_done) == (0, 2)
    store = SweepStore(tmp_path / "store")
    sim, theory = store.simulation().load(), store.theory()
    assert sim["done"].all() and sim.sizes[field] == 2 and sim.sizes[cls.size] == 1
    assert cls.axis is None or (cls.axis in sim.dims and cls.axis in theory.dims)
    assert theory.sizes[field] == 2


@pytest.mark.parametrize("name", MODELS)
def test_hild_run_writes_its_files(name, tmp_path):
    cls = hild.models()[name]
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", name, f"--{cls.size.replace('_', '-')}", str(_size(cls)),
                                      "--seeds", "2", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"theory.nc", "simulation.nc", "figure.png", "summary.json"}
    summary = json.loads((out / "summary.json").read_text())
    from hild.cli.run import SUMMARY_KEYS
    assert tuple(summary) == SUMMARY_KEYS and summary["model"] == name
    assert summary["size"] == {"name": cls.size, "value": _size(cls)} and summary["seeds"] == [0, 1]
    assert summary["agreement"] is not None


@pytest.mark.parametrize("name", MODELS)
def test_hild_sweep_builds_its_command(name):
    """(The sweep itself runs in test_a_two_point_sweep_...; the CLI's sweep path: tests/cli/test_cli.py.)"""
    cls = hild.models()[name]
    result = CliRunner().invoke(app, ["sweep", name, "--help"])
    assert result.exit_code == 0, result.output
    assert "--grid" in result.output and f"--{cls.size.replace('_', '-')}" in result.output


@pytest.mark.parametrize("name", MODELS)
def test_the_run_figure_is_readable(name, figure_problems):
    """The figure `hild run MODEL` draws from the example: no overlapping or missing tick labels, axis names on
    every panel, no point under a legend, no log axis over values <= 0 (tests/conftest.py)."""
    ex, th, sim = _run(name)
    assert figure_problems(ex.figure(th, sim)) == []
