"""The scenario protocol, the registry, divergence and validation: what every model is built on.

    from hild.core import Scenario, register, Blowup

A model family is a folder `hild/families/<family>/`; each scenario class there is a frozen
dataclass subclassing `Scenario`, decorated with `@register` (see hild.core.scenario for what it
declares and docs/adding-a-model.md for a worked example).
"""
from hild.core import lazy

__getattr__, __dir__ = lazy.attach(__name__, {".divergence": ["Blowup", "flag"],
                                              ".registry": ["families", "get", "models", "register"],
                                              ".scenario": ["PROVENANCE", "Scenario", "jsonable", "pad_units"]})

__all__ = ["PROVENANCE", "Blowup", "Scenario", "families", "flag", "get", "jsonable", "models", "pad_units",
           "register"]
