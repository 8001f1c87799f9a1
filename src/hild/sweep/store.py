"""Sweep stores: one Zarr hierarchy per sweep, written point by point, safe to kill, to share and to read.

A store is a directory:

    sweep.json        the grid: model, fixed parameters, axes, the model's axis, run options, hild version
    simulation.json   the simulation sizes: the size parameter and its values, seeds, first seed, options
    zarr.json         the Zarr root group; its attribute `sweep` is the grid the data were computed on
    theory/           the theory sweep from the scenarios' nominal start: one dataset, the grid dimensions,
                      then the axis and unit dimensions; its attribute `checksum` covers its arrays
    simulation/       the simulation: the grid dimensions, the size, seed, the axis, unit dimensions, one chunk
                      per point; `done`, `key` (the point's content hash) and `checksum` say which are complete
    matched_theory/   the theory of each simulated point from that simulation's own start
                      (`scenario.matching_theory`), on the same grid dimensions and size, one chunk per point
    failed/KEY.json   the error of each point that failed, removed when the point later succeeds

Every write is atomic. The two specifications are created by an exclusive link (the first writer
wins; a later sweep must agree with them or is refused); whole groups are built beside the store
and renamed into place; Zarr writes each chunk to a temporary file that it renames. A point's
data (its simulation and matched theory) are written before its `checksum`, `done` and `key`, so a
driver killed at any moment leaves complete points and points that read as missing. Two drivers
running the same sweep may compute a point twice; both write the same values.

Integrity: `checksum` is 64 bits of SHA-256 over the point's arrays in both groups as written.
Reading (`completed`, `simulation`, `matched_theory`, `verify`) checks every done point: one whose
chunk is missing, cannot be decoded or does not match its checksum is *damaged*, reported by grid
point, read as missing and recomputed by the next run. Stores written before checksums (no
`checksum` array) still open: their done points read as before, count as *unverified*, and are
damaged only where a chunk cannot be decoded; points added to such a store get checksums.

Reading needs no write access. No entry of a store may be a symbolic link: links are refused
before anything is read or written.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from hild.core import lazy

xr = lazy.module("xarray")
zarr = lazy.module("zarr")

__all__ = ["ENTRIES", "Integrity", "SweepStore", "checksum"]

ENTRIES = {"sweep.json", "simulation.json", "zarr.json", "theory", "simulation", "matched_theory", "failed"}
GROUPS = ("simulation", "matched_theory")
"""The groups that hold one chunk per point, covered by the point's checksum."""
BOOKKEEPING = ("done", "key", "checksum")


def checksum(arrays: Mapping[str, np.ndarray]) -> int:
    """64 bits of SHA-256 over named arrays (each name, dtype, shape and bytes, in name order).

    **Arguments:** `arrays`: name -> array (object and string arrays are hashed as JSON).

    **Returns:** an int in [1, 2^64) (never 0, which marks a point written without a checksum)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(json.dumps(a.tolist()).encode() if a.dtype.kind in "OTUS" else np.ascontiguousarray(a).tobytes())
    return int(h.hexdigest()[:16], 16) or 1


def _create_json(path: Path, obj: dict) -> dict:
    """Create `path` holding obj unless it exists; return what the file holds (ours or the first writer's)."""
    if path.is_file():
        return json.loads(path.read_text())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(obj, indent=2) + "\n")
    from hild.io import file_mode

    os.chmod(tmp, file_mode())
    try:
        os.link(tmp, path)  # fails if path exists: creation is exclusive and atomic
        return obj
    except FileExistsError:
        return json.loads(path.read_text())
    finally:
        os.remove(tmp)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _differences(have: dict, want: dict, names=("in the store", "asked")) -> list[str]:
    return [f"{key}: {_short(have.get(key))} {names[0]}, {_short(want.get(key))} {names[1]}"
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


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "iuf" and b.dtype.kind in "iuf":
        return bool(np.allclose(a, b, rtol=1e-12, atol=0))
    return [str(x) for x in a.ravel()] == [str(x) for x in b.ravel()]


def _error(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".splitlines()[0]
    return text if len(text) <= 100 else text[:97] + "..."


@dataclass
class Integrity:
    """What reading a store's data found.

    **Arguments:**
    - `intact`: per (grid point, size), done and its data check (a boolean array; None before a simulation).
    - `damaged`: the done points whose data do not check, each {"point": grid point and size, "reason"}.
    - `unverified`: done points written before checksums (their chunks decode; nothing more can be checked).
    - `theory`: None when the theory reads and checks (or is absent), else why it does not.
    - `checked`: done points that carry a checksum (per grid point and size), or None.
    - `keys`: the content hash of every intact point, 0 elsewhere (None before a simulation).
    """

    intact: np.ndarray | None = None
    damaged: list[dict] = field(default_factory=list)
    unverified: int = 0
    theory: str | None = None
    checked: np.ndarray | None = None
    keys: np.ndarray | None = None


class SweepStore:
    """A sweep's store directory (see the module docstring for its layout).

    **Arguments:** `path`: an existing store directory (one with a sweep.json; symbolic links are refused);
    `SweepStore.create(path, spec)` makes a new one.

    **Returns:** the store: `read()` gives (simulation, matched theory, `Integrity`), `theory()` the theory
    sweep, `status()` a summary."""

    def __init__(self, path):
        self.path = Path(path)
        _refuse_links(self.path, deep=False)
        if not (self.path / "sweep.json").is_file():
            raise ValueError(f"store: {self.path} is not a hild sweep store (no sweep.json)")

    @classmethod
    def create(cls, path, spec: dict) -> "SweepStore":
        """Open the store at `path` for the sweep `spec`, creating it if needed.

        An existing store must hold the same sweep, and its sweep.json must agree with the grid recorded
        with its data; a directory that holds anything else is refused, so nothing a user computed is
        overwritten. Opening an existing store writes nothing."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValueError(f"store: {path} exists and is not a directory")
        if path.is_dir():
            _refuse_links(path, deep=True)
        else:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ValueError(f"store: cannot create {path} ({e.strerror})") from None
        foreign = sorted(p.name for p in path.iterdir() if p.name not in ENTRIES and not p.name.startswith("."))
        if foreign and not (path / "sweep.json").exists():
            raise ValueError(f"store: {path} holds other files ({', '.join(foreign[:3])}); choose a new directory")
        if (path / "sweep.json").is_file():
            store = cls(path)
            edited = store.grid_differences()
            if edited:
                raise ValueError(f"store: {path}/sweep.json disagrees with the grid its data were computed on "
                                 f"({'; '.join(edited)}); restore sweep.json or choose a new directory")
            have = store.spec
        else:
            _require_writable(path, "this sweep must create it")
            have = _create_json(path / "sweep.json", spec)
        if have != spec:
            raise ValueError(f"store: {path} holds a different sweep ({'; '.join(_differences(have, spec))}); "
                             "choose a new directory")
        if not (path / "zarr.json").exists():
            _require_writable(path, "this sweep must create its root group")
            try:
                zarr.open_group(path, mode="a", attributes={"sweep": json.dumps(spec)})
            except zarr.errors.ContainsGroupError:
                pass  # another driver created the root group between our check and our write
        return cls(path)

    @property
    def writable(self) -> bool:
        """Whether the store may be written: the user may write its directory and has not made it read-only
        (no write permission bit), which even a privileged user's sweep respects."""
        return _writable(self.path)

    def require_writable(self, what: str) -> None:
        """Raise ValueError unless the store is writable, saying what needed writing."""
        _require_writable(self.path, what)

    # --- the grid -------------------------------------------------------------------------------

    @property
    def sweep_json(self) -> dict:
        """sweep.json as it is now."""
        return json.loads((self.path / "sweep.json").read_text())

    @property
    def spec(self) -> dict:
        """The grid the data were computed on: the Zarr root attribute `sweep` (sweep.json before the root
        group exists)."""
        if (self.path / "zarr.json").is_file():
            recorded = zarr.open_group(self.path, mode="r").attrs.get("sweep")
            if recorded is not None:
                return json.loads(recorded)
        return self.sweep_json

    def grid_differences(self) -> list[str]:
        """Where sweep.json, or the coordinates of the theory and simulation groups, disagree with the grid
        recorded with the data (an empty list when they agree)."""
        spec = self.spec
        out = _differences(self.sweep_json, spec, ("in sweep.json", "in the data"))
        for name in ("theory", "simulation"):
            if not (self.path / name / "zarr.json").is_file():
                continue
            group = zarr.open_group(self.path / name, mode="r")
            for axis, values in spec["axes"].items():
                have = np.asarray(group[axis][...]) if axis in group else None
                if have is None or not _same(have, values):
                    out.append(f"{name}/ coordinate {axis}: {_short(None if have is None else have.tolist())}, "
                               f"{_short(values)} in the recorded grid")
        return out

    def describe(self, index: tuple[int, ...]) -> dict:
        """The grid point and size at `index` (positions along the grid dimensions, then the size)."""
        spec, sizes = self.spec, self.sizes or {}
        axes = spec["axes"]
        n = 1 if spec["zipped"] else len(axes)
        if spec["zipped"]:
            point = {name: values[index[0]] for name, values in axes.items()}
        else:
            point = {name: values[i] for (name, values), i in zip(axes.items(), index)}
        if len(index) > n and sizes:
            point[sizes.get("name") or "size"] = sizes["values"][index[n]]
        return point

    @property
    def sizes(self) -> dict | None:
        """The simulation sizes, once a simulation has been started in this store."""
        f = self.path / "simulation.json"
        return json.loads(f.read_text()) if f.is_file() else None

    def claim_sizes(self, sizes: dict) -> None:
        """Record the simulation sizes, or check them against those already recorded (writing nothing then)."""
        have = _create_json(self.path / "simulation.json", sizes)
        if have != sizes:
            raise ValueError(f"store: {self.path} holds a simulation of other sizes "
                             f"({'; '.join(_differences(have, sizes))}); choose a new directory")

    def _write_group(self, name: str, ds: xr.Dataset, compute: bool = True, replace: bool = False,
                     sealed: bool = False) -> bool:
        """Build group `name` beside the store and rename it into place; False if it already existed
        (with `replace`, the existing group is renamed aside and removed instead). `sealed`: record the
        checksum of its arrays, as written, in its attribute `checksum`."""
        final, tmp = self.path / name, self.path / _partial_name(name)
        ds = _variable_length_strings(ds)
        try:
            ds.to_zarr(tmp, mode="w-", consolidated=False, compute=compute, encoding=_fill_encoding(ds))
            if sealed:
                group = zarr.open_group(tmp, mode="r+")
                group.attrs["checksum"] = f"{_group_checksum(group):016x}"
            if replace and final.exists():
                aside = self.path / _partial_name(name)
                os.rename(final, aside)
                shutil.rmtree(aside, ignore_errors=True)
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
        """Write the theory sweep, replacing a damaged one (one that reads and checks is kept)."""
        self._write_group("theory", ds, replace=self.theory_damage() is not None, sealed=True)

    def theory_damage(self) -> str | None:
        """Why the theory group does not read or match its checksum (None when it does, or is absent)."""
        if not self.has_theory:
            return None
        try:
            group = zarr.open_group(self.path / "theory", mode="r")
            recorded = group.attrs.get("checksum")
            found = _group_checksum(group)
        except Exception as e:  # noqa: BLE001  (any failure to read is damage)
            return f"theory/ cannot be read ({_error(e)})"
        if recorded is not None and int(recorded, 16) != found:
            return "theory/ does not match its checksum"
        return None

    def theory(self) -> xr.Dataset | None:
        """The theory sweep.

        **Arguments:** none. **Returns:** a Dataset (the grid's dimensions, then the axis and unit dimensions), or
        None when absent or damaged (see `theory_damage`)."""
        if not self.has_theory or self.theory_damage() is not None:
            return None
        return xr.open_zarr(self.path, group="theory", consolidated=False).load()

    # --- simulation -----------------------------------------------------------------------------

    @property
    def has_simulation(self) -> bool:
        return (self.path / "simulation" / "zarr.json").is_file()

    @property
    def has_checksums(self) -> bool:
        """Whether points carry checksums (False for a store written before them)."""
        return (self.path / "simulation" / "checksum" / "zarr.json").is_file()

    @property
    def has_point_groups(self) -> bool:
        """Whether the simulation (with checksums) and matched-theory groups are there to take points."""
        return self.has_checksums and (self.path / "matched_theory" / "zarr.json").is_file()

    def create_groups(self, simulation: xr.Dataset, matched: xr.Dataset) -> None:
        """Create the simulation and matched-theory groups from lazy (dask) templates, those that neither an
        earlier run nor a concurrent sweep created; a store written before checksums gets its `checksum`."""
        if not self.has_simulation:
            self._write_group("simulation", simulation, compute=False)
        if not (self.path / "matched_theory" / "zarr.json").is_file():
            self._write_group("matched_theory", matched, compute=False)
        if not self.has_checksums:
            done = zarr.open_group(self.path / "simulation", mode="r")["done"]
            try:
                zarr.open_group(self.path / "simulation", mode="r+").create_array(
                    "checksum", shape=done.shape, chunks=done.chunks, dtype=np.uint64, fill_value=0,
                    dimension_names=done.metadata.dimension_names)
            except zarr.errors.ContainsArrayError:
                pass  # a concurrent driver added it

    def write_point(self, index: tuple[int, ...], simulation: xr.Dataset, matched: xr.Dataset, key: int) -> None:
        """Write one point at `index` (its position along the grid dimensions and the size): its simulation
        and matched theory, then its checksum, then mark it done with its key. Every chunk is written,
        also one equal to the fill value, so that a missing chunk always means damage."""
        groups = {name: zarr.open_group(self.path / name, mode="r+") for name in GROUPS}
        lead = tuple(groups["simulation"]["done"].metadata.dimension_names)
        values = {}
        with zarr.config.set({"array.write_empty_chunks": True}):
            if groups["simulation"]["done"][index]:  # a damaged point being recomputed: missing until rewritten
                groups["simulation"]["done"][index] = False
            for name, ds in zip(GROUPS, (simulation, matched)):
                stored = set(_point_arrays(groups[name], lead))
                if stored != set(ds.data_vars):
                    raise ValueError(f"{name}: the point has variables {sorted(ds.data_vars)}, the store "
                                     f"{sorted(stored)}")
                for var, da in ds.data_vars.items():
                    array = groups[name][var]
                    data = np.asarray(da.values).astype(array.dtype)
                    array[index] = data
                    values[f"{name}/{var}"] = data
            sim = groups["simulation"]
            sim["checksum"][index] = np.uint64(checksum(values))
            sim["done"][index] = True
            sim["key"][index] = np.uint64(key)
        self.clear_failure(key)

    def _read(self) -> tuple[tuple[str, ...], dict, Integrity]:
        """The point groups' arrays (raw, as stored; points not intact hold the fill values), their leading
        dimensions (the grid's and the size) and what checking every done point found."""
        _refuse_links(self.path, deep=True)
        found = Integrity(theory=self.theory_damage())
        if not self.has_simulation:
            return (), {}, found
        problems = {}
        try:
            sim = zarr.open_group(self.path / "simulation", mode="r")
            lead, shape = tuple(sim["done"].metadata.dimension_names), sim["done"].shape
        except Exception as e:  # noqa: BLE001  (without its done flags nothing says which points are complete)
            raise ValueError(f"store: {self.path}/simulation cannot say which points are done ({_error(e)}); "
                             "move it aside and run the sweep again to recompute them") from None
        every = np.ones(shape, bool)
        book = {name: _read_array(sim[name], f"simulation/{name}", every, problems) if name in sim else
                np.zeros(shape, np.uint64) for name in BOOKKEEPING}
        done, sums = book["done"].astype(bool), book["checksum"]
        for index in problems:  # a point whose bookkeeping cannot be read is reported, and recomputed
            done[index] = True
        groups = {name: zarr.open_group(self.path / name, mode="r") for name in GROUPS
                  if (self.path / name / "zarr.json").is_file()}
        arrays = {}
        for name, group in groups.items():
            arrays[name] = {var: _read_array(group[var], f"{name}/{var}", done, problems)
                            for var in _point_arrays(group, lead)}
        intact = done.copy()
        for index in zip(*np.nonzero(done)):
            index = tuple(int(i) for i in index)
            reasons = problems.get(index, [])
            if not reasons and sums[index] != 0:
                values = {f"{g}/{v}": a[index] for g, group in arrays.items() for v, a in group.items()}
                if checksum(values) != sums[index]:
                    missing = [f"{g}/{v}" for g in arrays for v in arrays[g] if not _chunk_exists(groups[g][v], index)]
                    reasons = [f"missing chunk of {', '.join(missing)}" if missing else
                               "the data do not match the checksum written with them"]
            if reasons:
                intact[index] = False
                found.damaged.append({"point": self.describe(index), "reason": "; ".join(reasons)})
        found.intact, found.checked = intact, intact & (sums != 0)
        found.keys = np.where(intact, book["key"], 0).astype(np.uint64)
        found.unverified = int(np.count_nonzero(intact & (sums == 0)))
        for g, group in arrays.items():
            for var, a in group.items():
                a[~intact] = groups[g][var].fill_value
        return lead, arrays, found

    def verify(self) -> Integrity:
        """Read and check every done point (and the theory): what is intact, damaged, unverified."""
        return self._read()[2]

    def completed(self) -> np.ndarray | None:
        """The content hash of every complete, intact point (0 where a point is missing or damaged), or None
        before any."""
        return self.verify().keys

    def nominal_axis(self, group: str = "simulation"):
        """The values of the model's axis in `group` (None before the first point, or for a point scenario)."""
        axis = self.spec.get("axis", "t")
        if axis is None or not (self.path / group / "zarr.json").is_file():
            return None  # a point scenario's results have no axis
        return np.asarray(zarr.open_group(self.path / group, mode="r")[axis][...])

    def read(self) -> tuple[xr.Dataset | None, xr.Dataset | None, Integrity]:
        """The simulation and the matched theory (loaded; points not done or damaged hold the fill values
        and are not `done`), and what checking them found. The matched theory's `done` is True only where
        the point carries it (not on points of a store written before checksums)."""
        lead, arrays, found = self._read()
        out = []
        for name, flags in (("simulation", found.intact), ("matched_theory", found.checked)):
            if name not in arrays:
                out.append(None)
                continue
            ds = xr.open_zarr(self.path, group=name, consolidated=False).drop_vars(BOOKKEEPING, errors="ignore")
            ds = ds.assign({var: (ds[var].dims, data, ds[var].attrs) for var, data in arrays[name].items()}).load()
            ds = ds.assign(done=(lead, flags), **({"key": (lead, found.keys)} if name == "simulation" else {}))
            out.append(ds)
        return out[0], out[1], found

    def simulation(self) -> xr.Dataset | None:
        """The simulation dataset (see `read`)."""
        return self.read()[0]

    def matched_theory(self) -> xr.Dataset | None:
        """The theory from each simulated point's own start (see `read`)."""
        return self.read()[1]

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

    def status(self, verify: bool = False) -> dict:
        """The sweep (the grid recorded with the data), where sweep.json disagrees with it, whether the
        theory is there, and how many simulation points are done, failed, missing. Counting reads only
        the `done` flags; with `verify`, every done point's data are read and checked, and the result adds
        `damaged` (by grid point, with the reason), `unverified` and `theory_damaged`."""
        spec, sizes = self.spec, self.sizes
        failures = list(self.failures().values())
        out = {"sweep": spec, "disagreements": self.grid_differences(), "theory": self.has_theory,
               "sizes": sizes, "failures": failures, "verified": verify}
        found = self.verify() if verify else None
        if sizes is not None:
            shape = [len(next(iter(spec["axes"].values())))] if spec["zipped"] else [len(v) for v in spec["axes"].values()]
            points = int(np.prod(shape)) * len(sizes["values"])
            if not self.has_simulation:
                done = 0
            elif found is not None:
                done = int(np.count_nonzero(found.intact))
            else:
                done = int(np.count_nonzero(zarr.open_group(self.path / "simulation", mode="r")["done"][...]))
            damaged = 0 if found is None else len(found.damaged)
            out["simulation"] = {"points": points, "done": done, "failed": len(failures),
                                 "missing": points - done - damaged - len(failures)}
            if found is not None:
                out["simulation"].update(damaged=damaged, unverified=found.unverified)
        if found is not None:
            out["damaged"], out["theory_damaged"] = found.damaged, found.theory
        return out

    def clean(self) -> list[Path]:
        """Remove the partial groups left by drivers of this host that are no longer running (nothing on a
        store that is not writable)."""
        if not self.writable:
            return []
        host, removed = socket.gethostname(), []
        for p in self.path.glob(".*.partial-*"):
            owner = p.name.rsplit(".partial-", 1)[1].rsplit("-", 2)
            if len(owner) == 3 and owner[0] == host and not _alive(int(owner[1])):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(p)
        return removed


def _lead(array, lead: tuple[str, ...]) -> bool:
    return tuple(array.metadata.dimension_names or ())[:len(lead)] == lead


def _point_arrays(group, lead: tuple[str, ...]) -> list[str]:
    """The names of a point group's arrays that hold one chunk per point (not the bookkeeping, not coordinates)."""
    return sorted(name for name, a in group.arrays() if name not in BOOKKEEPING and _lead(a, lead))


def _read_array(array, name: str, done: np.ndarray, problems: dict) -> np.ndarray:
    """All of `array`; where that fails, point by point, noting under `problems` the done points whose
    chunk cannot be decoded (their values are the fill value)."""
    try:
        return np.asarray(array[...])
    except Exception:  # noqa: BLE001  (a chunk that fails to decode, for any reason, is damage)
        values = np.full(array.shape, array.fill_value, dtype=array.dtype)
        for index in zip(*np.nonzero(done)):
            index = tuple(int(i) for i in index)
            try:
                values[index] = array[index]
            except Exception as e:  # noqa: BLE001
                problems.setdefault(index, []).append(f"the chunk of {name} cannot be decoded ({_error(e)})")
        return values


def _chunk_exists(array, index: tuple[int, ...]) -> bool:
    """Whether the chunk of the point at `index` (one chunk per point, whole along the other dimensions) is on disk."""
    coords = tuple(index) + (0,) * (array.ndim - len(index))
    return (Path(str(array.store_path.store.root)) / array.path / array.metadata.encode_chunk_key(coords)).is_file()


def _group_checksum(group) -> int:
    """The checksum of every array of a group (coordinates included)."""
    return checksum({name: np.asarray(a[...]) for name, a in group.arrays()})


def _refuse_links(path: Path, deep: bool) -> None:
    """ValueError naming the first entry of the store at `path` that is a symbolic link or resolves outside it:
    the top-level entries and the arrays of its groups, and with `deep` everything under them."""
    root = path.resolve()

    def check(p: Path) -> None:
        if p.is_symlink() or (p.exists() and not p.resolve().is_relative_to(root)):
            target = os.readlink(p) if p.is_symlink() else p.resolve()
            raise ValueError(f"store: {p.relative_to(path)} in {path} is a link to {target}, outside the store's "
                             "own files; a store holds no links (copy the data in, or choose a new directory)")

    for name in sorted(ENTRIES):
        entry = path / name
        check(entry)
        if not entry.is_dir():
            continue
        if deep:
            for parent, dirs, files in os.walk(entry):
                for child in dirs + files:
                    check(Path(parent) / child)
        else:
            for child in entry.iterdir():
                check(child)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _require_writable(path: Path, what: str) -> None:
    if not _writable(path):
        raise ValueError(f"store: {path} is read-only and {what}; make it writable (chmod -R u+w) "
                         "or choose a new directory")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
