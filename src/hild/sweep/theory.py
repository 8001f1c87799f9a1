"""Theory sweeps: the theory at every grid point, in batched calls of at most `chunk` scenarios.

Scenarios with equal `batch_key()` share a `theory_batch` call (for the committee machine: one
vmapped, compiled ODE integration); each such call has the same size (the last repeats its final
scenario), so a group compiles once. Unit dimensions are padded with NaN to the grid's largest.
"""
from __future__ import annotations

from hild.core import lazy, resources
from hild.core.resources import Need
from hild.progress import progress_bar

from hild.core.scenario import pad_units
from hild.sweep.grid import Grid

xr = lazy.module("xarray")


def unit_sizes(scenarios: list) -> dict[str, int]:
    """The largest length of each unit dimension over the scenarios.

    **Arguments:** `scenarios`: a non-empty list of scenarios of one model.

    **Returns:** a dict unit dimension -> length."""
    sizes = [s.unit_sizes() for s in scenarios]
    return {dim: max(s.get(dim, 0) for s in sizes) for dim in sizes[0]}


SAMPLE = 64
"""How many grid points (spread over the grid, and every largest unit size) the sweep's estimate reads."""


def sweep_needs(scenarios: list, chunk: int, dims: tuple[str, ...], **options) -> list[Need]:
    """What a theory sweep needs: the results of every point (kept, then stacked: twice their bytes) and the
    working memory of one batch of `chunk` scenarios, from the largest needs of a sample of the points
    (evenly spread, plus those with the largest unit dimensions).

    **Arguments:** `scenarios`: the grid's scenarios; `chunk`: scenarios per batched call; `dims`: the grid's
    dimensions (named in a refusal); `options`: the theory's options.

    **Returns:** two `Need`s (the results, kept; one batch's working memory) for `resources.admit`."""
    n = len(scenarios)
    sample = set(range(0, n, max(1, n // SAMPLE))) | {n - 1}
    for dim in scenarios[0].unit_sizes():
        sample.add(max(range(n), key=lambda i: scenarios[i].unit_sizes().get(dim, 0)))
    per_point = [scenarios[i].needs("theory", **options) for i in sorted(sample)]
    kept = max(sum(x.bytes for x in needs if x.result) for needs in per_point)
    work = max(sum(x.operations for x in needs) for needs in per_point)
    working = max((x for needs in per_point for x in needs if not x.result), key=lambda x: x.bytes,
                  default=Need("nothing", ()))
    batch = min(chunk, n)
    return [Need("the results of every grid point", dims, 2 * kept * n, work * n, result=True),
            Need(f"{working.what}, for a batch of {batch}", working.parameters + ("chunk",) * (batch > 1),
                 working.bytes * batch)]


def theory_sweep(grid: Grid, *, chunk: int = 256, progress: bool = False, **options) -> xr.Dataset:
    """The theory at every grid point, in batched calls.

    **Arguments:**
    - `grid`: the `Grid`; `chunk`: the most scenarios per batched call.
    - `progress`: show the points done on stderr.
    - `options`: the model's theory options (e.g. t_max, n_points for the committee machine).

    **Returns:** a Dataset with one dimension per crossed axis (or `point` for zipped axes), then the model's axis
    (none for a point scenario) and unit dimensions padded with NaN."""
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1; got {chunk}")
    cls, scenarios = grid.scenario_class, grid.scenarios()
    resources.admit(f"the {grid.model} theory sweep", sweep_needs(scenarios, chunk, grid.dims, **options))
    units = unit_sizes(scenarios)
    groups: dict = {}
    for i, s in enumerate(scenarios):
        key = s.batch_key()
        groups.setdefault(("alone", i) if key is None else ("batch", key), []).append(i)
    computed: dict[int, xr.Dataset] = {}
    with progress_bar(f"theory sweep {grid.model}", len(scenarios), enabled=progress) as advance:
        for members in groups.values():
            for start in range(0, len(members), chunk):
                batch = members[start:start + chunk]
                size = min(chunk, len(members))
                padded = batch + [batch[-1]] * (size - len(batch))
                ds = cls.theory_batch([scenarios[i] for i in padded], **options)
                ds = ds.drop_vars([c for c in ds.coords if c != "scenario" and "scenario" in ds[c].dims])
                for j, i in enumerate(batch):
                    computed[i] = ds.isel(scenario=j, drop=True)
                advance(len(batch))
    lengths = {r.sizes.get(cls.axis) for r in computed.values()}
    if len(lengths) > 1:
        raise ValueError(f"grid: the points have {sorted(lengths)} values of the axis {cls.axis!r}; sweep only "
                         f"parameters that keep the axis (fix the others with --set)")
    for dim in units:  # a model's declared sizes, or what its results hold where that is more
        units[dim] = max([units[dim]] + [r.sizes[dim] for r in computed.values() if dim in r.dims])
    results = [pad_units(computed[i], units) for i in range(len(scenarios))]
    stacked = xr.concat(results, "flat", coords="minimal", compat="override", join="override",
                        combine_attrs="override")
    out = stacked.rename(flat="point") if grid.zipped else _unflatten(stacked, grid)
    out = out.assign_coords(grid.coords())
    out.attrs = {key: value for key, value in out.attrs.items() if key != "params"}
    out.attrs.update({"kind": "theory sweep", "grid": grid.describe()})
    return out


def _unflatten(ds: xr.Dataset, grid: Grid) -> xr.Dataset:
    """Reshape the `flat` dimension (C order over the crossed axes) into one dimension per axis."""
    names = [a.name for a in grid.axes]
    data = {}
    for var, da in ds.data_vars.items():
        if "flat" not in da.dims:
            data[var] = da
            continue
        rest = [d for d in da.dims if d != "flat"]
        values = da.transpose("flat", *rest).values.reshape(grid.shape + tuple(da.sizes[d] for d in rest))
        data[var] = (tuple(names) + tuple(rest), values)
    coords = {c: ds.coords[c] for c in ds.coords if "flat" not in ds.coords[c].dims}
    return xr.Dataset(data, coords=coords, attrs=ds.attrs)
