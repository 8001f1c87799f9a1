"""Imports where they are used: heavy packages (JAX, diffrax, xarray, SciPy, Matplotlib, Zarr, Dask) are
loaded on first use, so that `import hild`, the registry, `hild --help` and argument errors load none of them.

    xr = lazy.module("xarray")            # at the top of a module: xarray is imported on the first xr.<name>

    @lazy.jit(static_argnums=(1,))        # jax.jit, applied on the first call
    def step(x, n): ...

    __getattr__, __dir__ = lazy.attach(__name__, {".theory": ["theory", "theory_batch"]})   # a package's names

No hild module loads one of these packages when it is imported (tests/cli/test_imports.py). Loading JAX (or a
package built on it) here first turns on the persistent compilation cache (hild.core.compile_cache) and asks
for one JAX CPU device per core (hild.core.devices).
"""
from __future__ import annotations

import functools
import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping

JAX_PACKAGES = frozenset({"jax", "jaxlib", "diffrax", "equinox", "lineax", "optimistix"})
"""Packages that load JAX: `module` calls `before_jax` before importing one."""


def before_jax() -> None:
    """What hild sets up before JAX's first use: the persistent compilation cache and one CPU device per core.

    **Arguments:** none. **Returns:** None."""
    from hild.core import compile_cache, devices

    compile_cache.enable()
    devices.use_cpu_cores()


class Module:
    """A stand-in for the module `name`, imported (after calling `before`, if given) on the first attribute
    looked up; every attribute is then the module's own.

    **Arguments:** `name`: the absolute module name; `before`: None or a function of no arguments."""

    __slots__ = ("_name", "_before", "_module")

    def __init__(self, name: str, before: Callable[[], None] | None = None):
        self._name, self._before, self._module = name, before, None

    def _load(self) -> types.ModuleType:
        if self._module is None:
            if self._before is not None:
                self._before()
            if self._name.partition(".")[0] in JAX_PACKAGES:
                before_jax()
            self._module = importlib.import_module(self._name)
        return self._module

    def __getattr__(self, attribute: str):
        return getattr(self._load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{'' if self._module is None else ' (loaded)'}>"


def module(name: str, before: Callable[[], None] | None = None) -> Module:
    """The module `name`, imported on first use (`before()` runs just before, e.g. to choose a backend).

    **Arguments:**
    - `name`: the absolute module name, e.g. "jax.numpy".
    - `before`: None, or a function of no arguments called once, right before the import.

    **Returns:** a `Module` whose attributes are those of the imported module.
    """
    return Module(name, before)


def jit(fun: Callable | None = None, **options):
    """`jax.jit(fun, **options)`, built on the first call, so that defining `fun` imports no JAX. Use as
    `@jit` or `@jit(static_argnums=...)`; the wrapper calls the one compiled function thereafter.

    **Arguments:** `fun`: the function (None: return a decorator); `options`: keyword arguments of `jax.jit`.

    **Returns:** the wrapper (with `fun`'s name and docstring), or a decorator making one."""
    if fun is None:
        return functools.partial(jit, **options)
    compiled = None

    @functools.wraps(fun)
    def call(*args, **kwargs):
        nonlocal compiled
        if compiled is None:
            before_jax()
            import jax

            compiled = jax.jit(fun, **options)
        return compiled(*args, **kwargs)

    return call


class _Package(types.ModuleType):
    """A package with lazily imported public names (`attach`): the import system binding a submodule to the
    package never hides a public name of the same name (`hild.compare` stays the function after
    `import hild.compare`, `hild.deep_linear.theory` the function after its module is imported)."""

    def __setattr__(self, name: str, value) -> None:
        if (isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
                and name in self.__dict__.get("__lazy__", ())):
            return
        super().__setattr__(name, value)


def attach(package: str, attributes: Mapping[str, Iterable[str]] | None = None,
           modules: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None
           ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The PEP 562 `__getattr__` and `__dir__` of `package`, whose public names are imported on first access.

    **Arguments:**
    - `package`: the package's `__name__`.
    - `attributes`: module -> the names it defines that the package exports. A module starting with "." is
      relative to the package.
    - `modules`: public name -> a module exported whole (e.g. `hild.online` -> "hild.families.online").
    - `aliases`: old public name -> the exported name it now has (e.g. `threshold` -> "sample_scaling").

    **Returns:** `(__getattr__, __dir__)`, to bind at the package's top level. A name, once imported, is kept
    on the package.
    """
    attributes, modules, aliases = attributes or {}, modules or {}, aliases or {}
    where = {name: (source, name) for source, names in attributes.items() for name in names}
    where.update({name: (source, None) for name, source in modules.items()})
    unknown = sorted(set(aliases.values()) - set(where))
    if unknown:
        raise ValueError(f"aliases of {package} name {unknown}, which it does not export")
    where.update({alias: where[name] for alias, name in aliases.items()})
    target = sys.modules[package]
    target.__class__ = _Package
    target.__lazy__ = frozenset(where)
    for name in where:  # a submodule bound already (by an import above) gives way to the name
        value = target.__dict__.get(name)
        if isinstance(value, types.ModuleType) and value.__name__ == f"{package}.{name}":
            del target.__dict__[name]

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source, attribute = where[name]
        loaded = importlib.import_module(source, package)
        value = loaded if attribute is None else getattr(loaded, attribute)
        target.__dict__[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(target.__dict__) | set(where))

    return __getattr__, __dir__
