"""Writing results: NetCDF for datasets, JSON for summaries, each written atomically (temp file + rename).

`output_directory` guards a user's results: an existing directory is refused unless overwrite is
asked for, and even then only the files hild writes are replaced.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hild.core import lazy

xr = lazy.module("xarray")


def output_directory(path, overwrite: bool) -> Path:
    """Create `path`; refuse an existing one unless overwrite is True.

    **Arguments:** `path`: the directory; `overwrite`: accept an existing directory.

    **Returns:** the Path; ValueError for an existing path (without `overwrite`) or one that is not a directory."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ValueError(f"out: {path} already exists; choose a new directory or pass --overwrite")
    if path.exists() and not path.is_dir():
        raise ValueError(f"out: {path} exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_mode() -> int:
    """The mode a new file gets under the user's umask (0o666 & ~umask), as `open` would give it; the
    temporary files of atomic writes (mkstemp: 0o600) are set to it before they are renamed into place.

    **Arguments:** none. **Returns:** the mode, an int."""
    try:
        with open("/proc/self/status") as f:
            mask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_netcdf(path, ds: xr.Dataset) -> Path:
    """Write a Dataset to NetCDF (h5netcdf engine), atomically; booleans are stored as int8.

    **Arguments:** `path`: the file; `ds`: the Dataset. **Returns:** the Path written."""
    ds = ds.copy()
    for name, var in ds.variables.items():
        if var.dtype == bool:
            ds[name] = var.astype("int8")
            ds[name].attrs["dtype"] = "bool"
    return _atomic(path, lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))


def read_netcdf(path) -> xr.Dataset:
    """Read a Dataset written by write_netcdf, restoring boolean variables.

    **Arguments:** `path`: the file. **Returns:** the Dataset, loaded into memory."""
    with xr.open_dataset(path, engine="h5netcdf") as f:
        ds = f.load()
    for name, var in ds.variables.items():
        if var.attrs.get("dtype") == "bool":
            ds[name] = var.astype(bool)
            ds[name].attrs.pop("dtype", None)
    return ds


def write_json(path, obj) -> Path:
    """Write `obj` as indented JSON, atomically.

    **Arguments:** `path`: the file; `obj`: JSON-serialisable data. **Returns:** the Path written."""
    return _atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2) + "\n"))
