"""Sweep stores: one Zarr hierarchy per sweep, written point by point, safe to kill and to share.

A store is a directory:

    sweep.json        the grid: model, fixed parameters, axes, the model's axis, run options, hild version
    simulation.json   the simulation sizes: the size parameter and its values, seeds, first seed, options
    zarr.json         the Zarr root group (its attribute `sweep` repeats sweep.json)
    theory/           the theory sweep: one dataset, the grid dimensions, then t and unit dimensions
    simulation/       the simulation: the grid dimensions, the size, seed, the axis, unit dimensions, one chunk
                      per point; `done` and `key` (the point's content hash) say which are complete
    failed/KEY.json   the error of each point that failed, removed when the point later succeeds

Every write is atomic. The two specifications are created by an exclusive link (the first writer
wins; a later sweep must agree with them or is refused); whole groups are built beside the store
and renamed into place; Zarr writes each chunk to a temporary file that it renames. A point's
data is written before its `done` and `key`, so a driver killed at any moment leaves complete
points and points that read as missing, never a half-written point that reads as done. Two
drivers running the same sweep may compute a point twice; both write the same values.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

__all__ = ["ENTRIES", "SweepStore"]

ENTRIES = {"sweep.json", "simulation.json", "zarr.json", "theory", "simulation", "failed"}


def _create_json(path: Path, obj: dict) -> dict:
    """Create `path` holding obj unless it exists; return what the file holds (ours or the first writer's)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(obj, indent=2) + "\n")
    try:
        os.link(tmp, path)  # fails if path exists: creation is exclusive and atomic
        return obj
    except FileExistsError:
        return json.loads(path.read_text())
    finally:
        os.remove(tmp)


def _differences(have: dict, want: dict) -> list[str]:
    def short(value) -> str:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return [f"{key}: {short(have.get(key))} in the store, {short(want.get(key))} asked"
            for key in sorted(set(have) | set(want)) if have.get(key) != want.get(key)]


def _partial_name(name: str) -> str:
    return f".{name}.partial-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _fill_encoding(ds: xr.Dataset) -> dict:
    """Booleans and integers are stored without a fill value (missing reads as False / 0, not NaN)."""
    return {name: {"_FillValue": None} for name, var in ds.variables.items() if var.dtype.kind in "biu"}


def _variable_length_strings(ds: xr.Dataset) -> xr.Dataset:
    """Fixed-width string variables (e.g. an activation axis) as Python strings, which Zarr v3 stores
    with its specified variable-length string type."""
    fixed = [name for name, var in ds.variables.items() if var.dtype.kind == "U"]
    return ds.assign({n: ds[n].astype(object) for n in fixed if n in ds.data_vars}).assign_coords(
        {n: ds[n].astype(object) for n in fixed if n in ds.coords})


class SweepStore:
    """A sweep's store directory (see the module docstring for its layout)."""

    def __init__(self, path):
        self.path = Path(path)
        if not (self.path / "sweep.json").is_file():
            raise ValueError(f"store: {self.path} is not a hild sweep store (no sweep.json)")

    @classmethod
    def create(cls, path, spec: dict) -> "SweepStore":
        """Open the store at `path` for the sweep `spec`, creating it if needed.

        An existing store must hold the same sweep; a directory that holds anything else is refused,
        so nothing a user computed is overwritten."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValueError(f"store: {path} exists and is not a directory")
        path.mkdir(parents=True, exist_ok=True)
        foreign = sorted(p.name for p in path.iterdir() if p.name not in ENTRIES and not p.name.startswith("."))
        if foreign and not (path / "sweep.json").exists():
            raise ValueError(f"store: {path} holds other files ({', '.join(foreign[:3])}); choose a new directory")
        have = _create_json(path / "sweep.json", spec)
        if have != spec:
            raise ValueError(f"store: {path} holds a different sweep ({'; '.join(_differences(have, spec))}); "
                             "choose a new directory")
        if not (path / "zarr.json").exists():
            try:
                zarr.open_group(path, mode="a", attributes={"sweep": json.dumps(spec)})
            except zarr.errors.ContainsGroupError:
                pass  # another driver created the root group between our check and our write
        return cls(path)

    @property
    def spec(self) -> dict:
        return json.loads((self.path / "sweep.json").read_text())

    @property
    def sizes(self) -> dict | None:
        """The simulation sizes, once a simulation has been started in this store."""
        f = self.path / "simulation.json"
        return json.loads(f.read_text()) if f.is_file() else None

    def claim_sizes(self, sizes: dict) -> None:
        """Record the simulation sizes, or check them against those already recorded."""
        have = _create_json(self.path / "simulation.json", sizes)
        if have != sizes:
            raise ValueError(f"store: {self.path} holds a simulation of other sizes "
                             f"({'; '.join(_differences(have, sizes))}); choose a new directory")

    def _write_group(self, name: str, ds: xr.Dataset, compute: bool = True) -> bool:
        """Build group `name` beside the store and rename it into place; False if it already existed."""
        final, tmp = self.path / name, self.path / _partial_name(name)
        ds = _variable_length_strings(ds)
        try:
            ds.to_zarr(tmp, mode="w-", consolidated=False, compute=compute, encoding=_fill_encoding(ds))
            os.rename(tmp, final)
            return True
        except OSError:
            if (final / "zarr.json").exists():
                return False
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # --- theory ---------------------------------------------------------------------------------

    @property
    def has_theory(self) -> bool:
        return (self.path / "theory" / "zarr.json").is_file()

    def write_theory(self, ds: xr.Dataset) -> None:
        self._write_group("theory", ds)

    def theory(self) -> xr.Dataset | None:
        return xr.open_zarr(self.path, group="theory", consolidated=False).load() if self.has_theory else None

    # --- simulation -----------------------------------------------------------------------------

    @property
    def has_simulation(self) -> bool:
        return (self.path / "simulation" / "zarr.json").is_file()

    def create_simulation(self, template: xr.Dataset) -> None:
        """Create the simulation group from a lazy (dask) template, unless a concurrent sweep did."""
        self._write_group("simulation", template, compute=False)

    def write_point(self, index: tuple[int, ...], ds: xr.Dataset, key: int) -> None:
        """Write one point's variables at `index` (its position along the grid dimensions and d) of the
        simulation group, then mark it done with its key."""
        group = zarr.open_group(self.path / "simulation", mode="r+")
        for name, var in ds.data_vars.items():
            group[name][index] = var.values
        group["done"][index] = True
        group["key"][index] = np.uint64(key)
        self.clear_failure(key)

    def completed(self) -> np.ndarray | None:
        """The content hash of every complete point (0 where a point is missing), or None before any."""
        if not self.has_simulation:
            return None
        group = zarr.open_group(self.path / "simulation", mode="r")
        return np.where(group["done"][...], group["key"][...], 0).astype(np.uint64)

    def nominal_axis(self):
        """The simulation's values of the model's axis (None before the first point)."""
        if not self.has_simulation:
            return None
        axis = self.spec.get("axis", "t")
        return np.asarray(zarr.open_group(self.path / "simulation", mode="r")[axis][...])

    def simulation(self) -> xr.Dataset | None:
        """The simulation dataset (lazy); points not `done` hold the fill values (NaN, False)."""
        return xr.open_zarr(self.path, group="simulation", consolidated=False) if self.has_simulation else None

    # --- failures -------------------------------------------------------------------------------

    def record_failure(self, key: int, point: dict, error: str) -> None:
        from hild.io import write_json

        (self.path / "failed").mkdir(exist_ok=True)
        write_json(self.path / "failed" / f"{key:016x}.json", {"key": f"{key:016x}", "point": point, "error": error})

    def clear_failure(self, key: int) -> None:
        (self.path / "failed" / f"{key:016x}.json").unlink(missing_ok=True)

    def failures(self) -> dict[int, dict]:
        """The recorded failures by point key."""
        folder = self.path / "failed"
        records = [json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        return {int(r["key"], 16): r for r in records}

    def status(self) -> dict:
        """The sweep, whether its theory is there, and how many simulation points are done, failed, missing."""
        spec, sizes = self.spec, self.sizes
        failures = list(self.failures().values())
        out = {"sweep": spec, "theory": self.has_theory, "sizes": sizes, "failures": failures}
        if sizes is not None:
            shape = [len(next(iter(spec["axes"].values())))] if spec["zipped"] else [len(v) for v in spec["axes"].values()]
            points = int(np.prod(shape)) * len(sizes["values"])
            completed = self.completed()
            done = 0 if completed is None else int(np.count_nonzero(completed))
            out["simulation"] = {"points": points, "done": done, "failed": len(failures),
                                 "missing": points - done - len(failures)}
        return out

    def clean(self) -> list[Path]:
        """Remove the partial groups left by drivers of this host that are no longer running."""
        host, removed = socket.gethostname(), []
        for p in self.path.glob(".*.partial-*"):
            owner = p.name.rsplit(".partial-", 1)[1].rsplit("-", 2)
            if len(owner) == 3 and owner[0] == host and not _alive(int(owner[1])):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(p)
        return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
