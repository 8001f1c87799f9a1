"""JAX's persistent compilation cache in a per-user directory, so that a process never compiles again what one
compiled before (the same computation and shapes, on the same JAX version and device).

The directory:
- `HILD_CACHE_DIR`, if set; `HILD_CACHE_DIR=off` (or empty) turns the cache off;
- else `$XDG_CACHE_HOME/hild/jax`, or `~/.cache/hild/jax` without an absolute XDG_CACHE_HOME.

`enable()` runs once, when hild first loads JAX (hild.core.lazy), for the CLI and library users alike. A cache
directory the user gave JAX (`JAX_COMPILATION_CACHE_DIR`, `jax.config.update("jax_compilation_cache_dir", ...)`)
or a cache they turned off (`jax_enable_compilation_cache`) is left alone; a directory that cannot be created
or written turns the cache off with a warning.

Several processes may share the directory: JAX stores each executable as one file `<key>-cache`, written in place
(no lock, no atomic rename) unless present. Two processes compiling the same key both write it whole; one reading
an entry while another writes it, or an entry cut short by a process killed while writing, fails to decode: JAX
warns ("Error reading persistent compilation cache entry") and compiles. A cut entry stays until deleted (any
entry, or the whole directory, may be deleted at any time). Executables that call back into Python (host callbacks,
e.g. equinox's runtime checks inside diffrax) are never stored by JAX.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

VARIABLE = "HILD_CACHE_DIR"
OFF = ("", "off")
"""Values of HILD_CACHE_DIR (case-insensitive, stripped) that turn the cache off."""
MIN_COMPILE_TIME_S = 0.0
"""Compilations taking at least this long are stored (JAX's default, 1 s, would skip most of hild's)."""

_state: dict[str, Path | None] = {}


def directory(environ=None) -> Path | None:
    """The cache directory that `environ` (default `os.environ`) asks for. Nothing is created.

    **Arguments:** `environ`: a mapping of environment variables (None: `os.environ`).

    **Returns:** a Path (HILD_CACHE_DIR, else $XDG_CACHE_HOME/hild/jax or ~/.cache/hild/jax), or None when
    HILD_CACHE_DIR turns the cache off."""
    environ = os.environ if environ is None else environ
    if VARIABLE in environ:
        given = environ[VARIABLE]
        return None if given.strip().lower() in OFF else Path(given).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path("~", ".cache").expanduser()  # a relative one is invalid (XDG)
    return base / "hild" / "jax"


def _writable(path: Path) -> str | None:
    """None once `path` exists as a directory this process can write (created, mode 0700, if missing); else why
    not."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        return f"{e.strerror or e} ({type(e).__name__})"
    return None


def enable() -> Path | None:
    """Turn on JAX's persistent compilation cache in `directory()`, once per process (later calls return at once).

    Leaves JAX as it is when the user configured a cache directory or disabled the cache in JAX, when
    HILD_CACHE_DIR is `off`, or (with a warning) when the directory cannot be created or written. Stores every
    compilation taking at least MIN_COMPILE_TIME_S unless the user set
    `jax_persistent_cache_min_compile_time_secs` (or its environment variable).

    **Returns:** the directory now used by JAX's cache (the user's own, if they set one), or None without a cache.
    """
    if "dir" in _state:
        return _state["dir"]
    import jax

    config = jax.config
    users, enabled = config.jax_compilation_cache_dir, config.jax_enable_compilation_cache
    if users is not None or not enabled:
        _state["dir"] = Path(users) if users is not None and enabled else None
        return _state["dir"]
    path = directory()
    problem = None if path is None else _writable(path)
    if problem is not None:
        warnings.warn(f"hild: no compilation cache: cannot write {path}: {problem}; set {VARIABLE} to a writable "
                      f"directory, or to 'off'", RuntimeWarning, stacklevel=2)
        path = None
    if path is not None:
        if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ and \
                config.jax_persistent_cache_min_compile_time_secs == 1.0:  # JAX's default: not the user's
            config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_S)
        config.update("jax_compilation_cache_dir", str(path))
    _state["dir"] = path
    return path
