"""The registry: model name -> scenario class, the one list every command, sweep, claim and test reads.

A model family is a folder `hild/families/<family>/` whose `__init__` imports its scenario
classes, each decorated with `@register`. `models()` imports every family folder once
(discovered on disk: no list to edit), so a new family is one folder plus its registrations. A
family's claims live beside it in `claims*.py`, found the same way by `hild.claims`.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import MappingProxyType
from typing import Mapping

from hild.core.scenario import Scenario

_REGISTRY: dict[str, type[Scenario]] = {}
_REQUIRED = ("model", "axis", "size")  # axis may be None (a point scenario), but must be declared


def _declared(cls) -> set[str]:
    """The class attributes set by `cls` or a base below Scenario (not Scenario's own annotations)."""
    return {name for base in cls.__mro__ if base is not Scenario and issubclass(base, Scenario)
            for name in vars(base)}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: add a scenario class to the registry under its `model` name.

    **Arguments:** `cls`: a Scenario subclass declaring `model`, `axis` (None for a point scenario) and `size`,
    whose `sweepable` names are fields.

    **Returns:** `cls` unchanged; TypeError for a class that breaks these rules or a model name taken twice."""
    if not (isinstance(cls, type) and issubclass(cls, Scenario)):
        raise TypeError(f"register needs a subclass of hild.core.Scenario; got {cls!r}")
    missing = [name for name in _REQUIRED if not isinstance(getattr(cls, name, None), str)
               and not (name == "axis" and "axis" in _declared(cls) and cls.axis is None)]
    if missing:
        raise TypeError(f"{cls.__name__} must declare the class attributes {', '.join(missing)}")
    for name in cls.sweepable:
        if name not in getattr(cls, "__dataclass_fields__", {}):
            raise TypeError(f"{cls.__name__}.sweepable names {name!r}, which is not one of its fields")
    have = _REGISTRY.get(cls.model)
    if have is not None and have.__qualname__ != cls.__qualname__:
        raise TypeError(f"model name {cls.model!r} is registered twice ({have.__qualname__}, {cls.__qualname__})")
    _REGISTRY[cls.model] = cls
    return cls


def families() -> list[str]:
    """The model family folders under hild/families, by name (nothing is imported).

    **Arguments:** none. **Returns:** a sorted list of folder names (`batch`, `deep_linear` ...)."""
    import hild.families

    return sorted(m.name for m in pkgutil.iter_modules(hild.families.__path__) if m.ispkg)


def load(prefix: str = "") -> list:
    """Import every family package, and with `prefix` each of its modules whose name starts with it
    (`load("claims")` imports claims.py, claims_networks.py ...).

    **Arguments:** `prefix`: a module-name prefix ('' : the family packages themselves).

    **Returns:** the list of modules imported."""
    out = []
    for family in families():
        package = importlib.import_module(f"hild.families.{family}")
        if not prefix:
            out.append(package)
            continue
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith(prefix):
                out.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return out


def models() -> Mapping[str, type[Scenario]]:
    """The registry: model name -> scenario class, every family imported.

    **Arguments:** none. **Returns:** a read-only mapping, sorted by model name."""
    load()
    return MappingProxyType(dict(sorted(_REGISTRY.items())))


def get(name: str) -> type[Scenario]:
    """The scenario class of a model.

    **Arguments:** `name`: a registered model name (`hild models`).

    **Returns:** the scenario class; ValueError naming the registered models otherwise."""
    registry = models()
    if name not in registry:
        raise ValueError(f"model must be one of {', '.join(registry)}; got {name!r}")
    return registry[name]
